//! The `_smtp._tls` TXT record (RFC 8460 §3): its grammar as a `tag_value::RecordGrammar` (the
//! `v=TLSRPTv1` version, the `rua` tag, where known reporters differ from the RFC) and the `rua`
//! rules: the URI list and each URI (RFC 3986; `mailto:` per RFC 6068, `https:` absolute). `,`,
//! `!` and `;` inside a URI must be percent-encoded (§3).

use std::collections::HashSet;

use super::tag_value::{
    self, describe_byte, is_wsp, miscased_tag_summary, Fields, NearMiss, RecordAnalysis,
    RecordGrammar, Several, SpaceBeforeDelimiter, Tag,
};
use crate::catalog::{CheckId, Severity};
use crate::escape::{escape_bytes, escape_str};
use crate::model::Problem;
use crate::observe::TxtRecord;

/// The version tag, matched byte-exactly (`%s"v=TLSRPTv1"`).
pub const TLSRPT_VERSION: &[u8] = b"v=TLSRPTv1";
/// The literal prefix of RFC 8460 §3's filter.
pub const TLSRPT_PREFIX: &[u8] = b"v=TLSRPTv1;";
/// Evidence label for the record text.
pub const TLSRPT_EVIDENCE: &str = "TXT _smtp._tls";

/// RFC 8460 §3, and what reporters make of records that break it.
pub(crate) const GRAMMAR: RecordGrammar = RecordGrammar {
    version: TLSRPT_VERSION,
    label: "_smtp._tls",
    evidence: TLSRPT_EVIDENCE,
    kind: "TLS-RPT",
    readers: "reporters",
    section: "RFC 8460 §3",
    tags: &[Tag {
        name: b"rua",
        // A piece without `=` right after a `rua` is the tail of a URI with an unencoded `;`.
        takes_tail: Some(lists_a_uri),
    }],
    syntax: CheckId::TlsRptSyntax,
    several: Several {
        check: CheckId::TlsRptSingle,
        consequence: "reporters send no reports",
    },
    space_before_delimiter: SpaceBeforeDelimiter::NearMiss(
        "it has whitespace before the first `;`, which the grammar allows but RFC 8460 §3's \
         filter for the exact bytes `v=TLSRPTv1;` does not (the ambiguity of RFC 8461 errata \
         6285)",
    ),
    near_miss: NearMiss {
        case_insensitive_prefix: TLSRPT_VERSION,
        no_record_wrong_case: ", though Stalwart matches the tag case-insensitively and accepts it",
        no_record_leading_space: "",
        // The RFC's filter discards it; a lenient reporter counts two records and sends none.
        beside: CheckId::TlsRptSingle,
        beside_cap: Some(Severity::Warn),
        beside_consequence: "RFC 8460 §3 discards it, but a reporter that matches it anyway \
                             (Stalwart ignores case) sees two records and sends no reports",
        beside_wrong_case: "",
    },
    other_txt: None,
    duplicates: None,
    non_ascii: "the record contains non-ASCII bytes; the RFC 8460 §3 grammar is US-ASCII only",
    trailing_whitespace: "",
};

/// DMARC tags that people copy into TLS-RPT records (RFC 7489 §6.3, RFC 9091).
const DMARC_TAGS: &[&str] = &[
    "ruf", "p", "sp", "pct", "adkim", "aspf", "fo", "rf", "ri", "np", "psd", "t",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsRptRecord {
    /// The report URIs as written (every `rua` field, in order, without repeats).
    pub rua: Vec<String>,
    pub extensions: Vec<(String, String)>,
}

impl TlsRptRecord {
    /// The domains of the `mailto:` URIs, lower-cased, without repeats. The address part is
    /// percent-decoded, a `?query` and a DMARC-style `!size` suffix are dropped, and anything that
    /// is not a host name is left out (it is reported by `tlsrpt.rua-syntax`).
    pub fn mailto_domains(&self) -> Vec<String> {
        let mut domains: Vec<String> = Vec::new();
        // A set, not a scan: thousands of domains would take quadratic time.
        let mut seen: HashSet<String> = HashSet::new();
        for uri in &self.rua {
            let Some(addresses) = mailto_addresses(uri) else {
                continue;
            };
            for address in addresses {
                if let Some(domain) = address_domain(&address) {
                    if seen.insert(domain.clone()) {
                        domains.push(domain);
                    }
                }
            }
        }
        domains
    }

    /// The `https:` URIs with their host and port (if written), in order, each once.
    pub fn https_endpoints(&self) -> Vec<(String, String, Option<u16>)> {
        self.rua
            .iter()
            .filter(|uri| scheme_of(uri).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https")))
            .filter_map(|uri| {
                https_authority(uri)
                    .filter(|(host, _)| !host.is_empty())
                    .map(|(host, port)| (uri.clone(), host, port))
            })
            .collect()
    }

    /// The addresses of the `mailto:` URIs, lower-cased, percent-decoded, without a `?query`
    /// or a DMARC-style `!size` suffix, in order, without repeats.
    pub fn mailto_addresses(&self) -> Vec<String> {
        let mut addresses: Vec<String> = Vec::new();
        for uri in &self.rua {
            for address in mailto_addresses(uri).unwrap_or_default() {
                let address = address
                    .split('!')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
        }
        addresses
    }
}

/// Everything the filter and the parser found in the TXT RRs at `_smtp._tls.D`; `problems` are
/// those of the `tlsrpt.*` checks other than `present`, `mailto-domain` and `ttl`.
pub type TlsRptAnalysis = RecordAnalysis<TlsRptRecord>;

/// Filters and parses the TXT RRs at `_smtp._tls.D`; problems of the `tlsrpt.*` checks other than
/// `tlsrpt.present` and `tlsrpt.mailto-domain`.
pub fn analyse_tlsrpt_records(records: &[TxtRecord]) -> (Option<TlsRptRecord>, Vec<Problem>) {
    let analysis = analyse(records);
    (analysis.record, analysis.problems)
}

/// Like [`analyse_tlsrpt_records`], also saying how many candidates there were and whether the
/// grammar checks ran.
pub fn analyse(records: &[TxtRecord]) -> TlsRptAnalysis {
    tag_value::analyse(&GRAMMAR, records, build)
}

/// Applies the `rua` rules to the fields of the one candidate and builds the record.
fn build(mut fields: Fields<'_>) -> (Option<TlsRptRecord>, Vec<Problem>) {
    let mut problems = std::mem::take(&mut fields.problems);
    let rua_fields = RuaFields::collect(&fields, &mut problems);
    // Only well-formed extensions are reported as ignored; the rest are syntax errors.
    let extensions: Vec<(String, String)> = fields
        .extensions()
        .filter(|field| field.well_formed)
        .map(|field| {
            (
                String::from_utf8_lossy(field.name).into_owned(),
                String::from_utf8_lossy(field.value).into_owned(),
            )
        })
        .collect();

    rua_fields.report(&fields, &mut problems);
    let rua = rua_fields.union();
    if let Some(problem) = missing_rua(&fields, &rua_fields, &rua, &extensions) {
        problems.push(problem);
    }
    check_uris(&rua, &mut problems, &fields.shown);
    problems.extend(
        extensions
            .iter()
            .map(|(name, value)| extension_problem(&fields, name, value)),
    );

    let valid = !problems.iter().any(|p| p.check == CheckId::TlsRptSyntax);
    let record = valid.then_some(TlsRptRecord { rua, extensions });
    (record, problems)
}

/// Every `rua` field's URIs, with the tails cut off by an unencoded `;` put back.
struct RuaFields {
    uris: Vec<Vec<String>>,
    /// Each field as written, escaped, for evidence.
    raw: Vec<String>,
    /// URIs that an unencoded `;` had cut.
    semicolon_tails: Vec<String>,
}

impl RuaFields {
    fn collect(fields: &Fields<'_>, problems: &mut Vec<Problem>) -> Self {
        let mut collected = Self {
            uris: Vec::new(),
            raw: Vec::new(),
            semicolon_tails: Vec::new(),
        };
        for field in fields.tag(b"rua") {
            let mut uris = split_uris(field.value, problems, &fields.shown);
            for tail in &field.tails {
                if let Some(last) = uris.last_mut() {
                    last.push(';');
                    last.push_str(&String::from_utf8_lossy(tail));
                    collected.semicolon_tails.push(last.clone());
                }
            }
            collected.uris.push(uris);
            collected.raw.push(escape_bytes(field.text));
        }
        collected
    }

    /// The unencoded `;` in URIs, and `rua` given more than once.
    fn report(&self, fields: &Fields<'_>, problems: &mut Vec<Problem>) {
        for uri in &self.semicolon_tails {
            problems.push(
                fields
                    .problem(
                        CheckId::TlsRptRuaSyntax,
                        format!(
                            "the URI `{}` contains an unencoded `;`, which ends the field; write \
                             it as %3B (RFC 8460 §3)",
                            escape_str(uri)
                        ),
                    )
                    .capped(Severity::Warn),
            );
        }
        if self.uris.len() > 1 {
            let mut problem = fields.problem(
                CheckId::TlsRptMultipleRua,
                format!(
                    "`rua` appears {} times; RFC 8460 §3 does not say how they combine, so the \
                     union is assumed, but reporters may use only one of them",
                    self.uris.len()
                ),
            );
            for raw in &self.raw {
                problem = problem.with("field", raw.clone());
            }
            problems.push(problem);
        }
    }

    /// The URIs of every `rua` field, each once, in order.
    fn union(&self) -> Vec<String> {
        let mut rua: Vec<String> = Vec::new();
        // A set, not a scan: thousands of URIs would take quadratic time.
        let mut seen: HashSet<&str> = HashSet::new();
        for uri in self.uris.iter().flatten() {
            if seen.insert(uri.as_str()) {
                rua.push(uri.clone());
            }
        }
        rua
    }
}

/// No `rua` field (perhaps a miscased one, or only DMARC's `ruf`), or one that lists nothing.
fn missing_rua(
    fields: &Fields<'_>,
    rua_fields: &RuaFields,
    rua: &[String],
    extensions: &[(String, String)],
) -> Option<Problem> {
    if rua_fields.uris.is_empty() {
        let has_ruf = extensions.iter().any(|(name, _)| name == "ruf");
        let summary = match fields.miscased(b"rua") {
            Some(field) => miscased_tag_summary("rua", field),
            None if has_ruf => "the record has no `rua` field, only `ruf`, which is a DMARC tag: \
                                TLS-RPT reports go to `rua` alone"
                .to_owned(),
            None => "the record has no `rua` field, so reporters have nowhere to send reports"
                .to_owned(),
        };
        return Some(fields.problem(CheckId::TlsRptRua, summary));
    }
    rua.is_empty().then(|| {
        fields.problem(
            CheckId::TlsRptRua,
            "`rua` lists no URI, so reporters have nowhere to send reports",
        )
    })
}

fn extension_problem(fields: &Fields<'_>, name: &str, value: &str) -> Problem {
    let copied = DMARC_TAGS.contains(&name);
    fields.problem(
        CheckId::TlsRptExtension,
        format!(
            "the extension `{}={}` is ignored by reporters{}",
            escape_str(name),
            escape_str(value),
            if copied {
                "; it looks copied from a DMARC record, and TLS-RPT has no such tag"
            } else {
                ""
            }
        ),
    )
}

/// Whether a `rua` value holds at least one URI, as [`split_uris`] splits it.
fn lists_a_uri(value: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|entry| entry.iter().any(|&b| !is_wsp(b)))
}

/// Splits a `rua` value on `,` (with optional WSP around it); an empty entry is reported.
fn split_uris(value: &[u8], problems: &mut Vec<Problem>, shown: &str) -> Vec<String> {
    let mut uris = Vec::new();
    if value.iter().all(|&b| is_wsp(b)) {
        return uris;
    }
    let mut empty_entry = false;
    for entry in value.split(|&b| b == b',') {
        let entry = String::from_utf8_lossy(entry);
        let entry = entry.trim_matches([' ', '\t']);
        if entry.is_empty() {
            empty_entry = true;
        } else {
            uris.push(entry.to_owned());
        }
    }
    if empty_entry {
        problems.push(
            Problem::new(
                CheckId::TlsRptRuaSyntax,
                "`rua` has an empty entry (a `,` with no URI before or after it)",
            )
            .with(TLSRPT_EVIDENCE, shown.to_owned())
            .with("field", format!("rua={}", escape_bytes(value)))
            .capped(Severity::Warn),
        );
    }
    uris
}

/// The scheme of a URI, if it has one (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`).
fn scheme_of(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// Checks every URI: scheme (`tlsrpt.rua-scheme`) and form (`tlsrpt.rua-syntax`).
fn check_uris(rua: &[String], problems: &mut Vec<Problem>, shown: &str) {
    let mut with_scheme = 0;
    let mut unsupported: Vec<&str> = Vec::new();
    for (index, uri) in rua.iter().enumerate() {
        let Some(scheme) = scheme_of(uri) else {
            problems.push(no_scheme(index, uri, shown));
            continue;
        };
        with_scheme += 1;
        let lower = scheme.to_ascii_lowercase();
        if lower != "mailto" && lower != "https" {
            unsupported.push(uri);
        } else if scheme != lower {
            problems.push(
                uri_problem(
                    CheckId::TlsRptRuaScheme,
                    format!(
                        "`{}` writes the scheme as `{}`: schemes are case-insensitive \
                         (RFC 3986 §3.1), but a reporter comparing it exactly would skip it",
                        escape_str(uri),
                        escape_str(scheme)
                    ),
                    uri,
                    shown,
                )
                .capped(Severity::Warn),
            );
        }
        check_uri_characters(uri, problems, shown);
        if let Some(summary) = malformed(&lower, uri) {
            problems.push(uri_problem(CheckId::TlsRptRuaSyntax, summary, uri, shown));
        }
    }
    if !unsupported.is_empty() {
        problems.push(unsupported_schemes(
            &unsupported,
            unsupported.len() == with_scheme,
            shown,
        ));
    }
}

/// A problem about one rua URI, with the record and the URI as evidence.
fn uri_problem(check: CheckId, summary: String, uri: &str, shown: &str) -> Problem {
    Problem::new(check, summary)
        .with(TLSRPT_EVIDENCE, shown.to_owned())
        .with("rua URI", escape_str(uri))
}

/// A URI without a scheme: after the first, most likely the tail of one split at a `,`.
fn no_scheme(index: usize, uri: &str, shown: &str) -> Problem {
    let shown_uri = escape_str(uri);
    let summary = if index > 0 {
        format!(
            "`{shown_uri}` has no scheme: if it belongs to the URI before it, an \
             unencoded `,` split it in two; write `,` as %2C (RFC 8460 §3)"
        )
    } else {
        format!("`{shown_uri}` is not a URI (no scheme): write `mailto:` before an address")
    };
    let problem = uri_problem(CheckId::TlsRptRuaSyntax, summary, uri, shown);
    if index > 0 {
        problem.capped(Severity::Warn)
    } else {
        problem
    }
}

/// Characters a URI cannot hold (RFC 3986), bad `%` escapes, and the unencoded `!` RFC 8460 §3
/// asks to be written `%21`.
fn check_uri_characters(uri: &str, problems: &mut Vec<Problem>, shown: &str) {
    let shown_uri = escape_str(uri);
    if let Some(bad) = uri
        .bytes()
        .find(|&b| !b.is_ascii_graphic() || b"\"<>\\^`{|}".contains(&b))
    {
        problems.push(uri_problem(
            CheckId::TlsRptRuaSyntax,
            format!(
                "`{shown_uri}` contains {}, which a URI cannot contain (RFC 3986)",
                describe_byte(bad)
            ),
            uri,
            shown,
        ));
    } else if !percent_escapes_valid(uri) {
        problems.push(uri_problem(
            CheckId::TlsRptRuaSyntax,
            format!("`{shown_uri}` has a `%` not followed by two hex digits (RFC 3986)"),
            uri,
            shown,
        ));
    }
    if uri.contains('!') {
        let dmarc_size = uri
            .rsplit_once('!')
            .is_some_and(|(_, size)| looks_like_dmarc_size(size));
        problems.push(
            uri_problem(
                CheckId::TlsRptRuaSyntax,
                format!(
                    "`{shown_uri}` contains an unencoded `!`, which RFC 8460 §3 requires to \
                     be written %21{}",
                    if dmarc_size {
                        "; it looks like a DMARC size limit, which TLS-RPT does not have, so \
                         a reporter may send to an address with the limit attached"
                    } else {
                        ""
                    }
                ),
                uri,
                shown,
            )
            .capped(Severity::Warn),
        );
    }
}

/// Why a `mailto:` or `https:` URI is not one a reporter can use, if it is not.
fn malformed(scheme: &str, uri: &str) -> Option<String> {
    let shown_uri = escape_str(uri);
    match scheme {
        "mailto" => {
            let addresses = mailto_addresses(uri).unwrap_or_default();
            let bad = addresses.is_empty()
                || addresses
                    .iter()
                    .any(|address| address_domain(address).is_none());
            bad.then(|| {
                format!(
                    "`{shown_uri}` does not hold a valid address (write \
                     `mailto:user@example.com`, RFC 6068)"
                )
            })
        }
        "https" => (!https_is_absolute(uri)).then(|| {
            format!("`{shown_uri}` is not an absolute https URL (write `https://host/path`)")
        }),
        _ => None,
    }
}

/// URIs whose scheme reporters do not support; `all` when no URI is left.
fn unsupported_schemes(unsupported: &[&str], all: bool, shown: &str) -> Problem {
    let listed: Vec<String> = unsupported
        .iter()
        .map(|uri| format!("`{}`", escape_str(uri)))
        .collect();
    let mut p = Problem::new(
        CheckId::TlsRptRuaScheme,
        if all {
            format!(
                "no rua URI uses `mailto:` or `https:` ({}): RFC 8460 §3 supports only \
                 those, so reporters have nowhere to send reports",
                listed.join(", ")
            )
        } else {
            format!(
                "{} uses a scheme other than `mailto:` or `https:`; reporters skip it and \
                 use the other URIs",
                listed.join(", ")
            )
        },
    )
    .with(TLSRPT_EVIDENCE, shown.to_owned());
    for uri in unsupported {
        p = p.with("rua URI", escape_str(uri));
    }
    if all {
        p
    } else {
        p.capped(Severity::Warn)
    }
}

/// `10m`, `500k`, `1g`: the size suffix of a DMARC URI (RFC 7489 §6.2).
fn looks_like_dmarc_size(size: &str) -> bool {
    let digits = size.trim_end_matches(['k', 'm', 'g', 't', 'K', 'M', 'G', 'T']);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && size.len() - digits.len() <= 1
}

fn percent_escapes_valid(uri: &str) -> bool {
    let bytes = uri.as_bytes();
    bytes.iter().enumerate().all(|(index, &b)| {
        b != b'%'
            || bytes
                .get(index + 1..index + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let decoded = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The addresses of a `mailto:` URI (RFC 6068: `mailto:a@x,b@y?query`), percent-decoded;
/// `None` when the URI is not `mailto:`.
fn mailto_addresses(uri: &str) -> Option<Vec<String>> {
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("mailto") {
        return None;
    }
    let to = rest.split('?').next().unwrap_or_default();
    Some(
        percent_decode(to)
            .split(',')
            .map(|address| address.trim().to_owned())
            .filter(|address| !address.is_empty())
            .collect(),
    )
}

/// The lower-cased domain of `local@domain`, if it is a host name. A DMARC-style `!size` suffix
/// is dropped (it is reported separately).
fn address_domain(address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    let domain = domain.split('!').next().unwrap_or_default();
    let domain = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    let host_name = !local.is_empty()
        && !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    host_name.then_some(domain)
}

/// `https://` followed by a non-empty host.
fn https_is_absolute(uri: &str) -> bool {
    https_authority(uri).is_some_and(|(host, _)| !host.is_empty())
}

/// The host (lower case, an IP literal without its brackets) and the port, if one is written, of
/// an `https://host[:port]/…` URI; `None` when the URI has no authority or a port that is not a
/// number.
fn https_authority(uri: &str) -> Option<(String, Option<u16>)> {
    let (_, rest) = uri.split_once(':')?;
    let authority = rest.strip_prefix("//")?;
    let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(literal) => {
            let (host, after) = literal.split_once(']').unwrap_or((literal, ""));
            (host, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port = match port {
        None | Some("") => None,
        Some(port) => Some(port.parse().ok()?),
    };
    Some((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_endpoints_name_host_and_port() {
        let record = TlsRptRecord {
            rua: vec![
                "mailto:a@example.org".to_owned(),
                "https://Reports.Example.net/tlsrpt".to_owned(),
                "https://r.example.net:8443/x".to_owned(),
                "https://[2001:db8::1]:444/".to_owned(),
                "https://:443/".to_owned(),
                "https://bad.example:port/".to_owned(),
            ],
            extensions: Vec::new(),
        };
        let endpoints: Vec<(String, Option<u16>)> = record
            .https_endpoints()
            .into_iter()
            .map(|(_, host, port)| (host, port))
            .collect();
        assert_eq!(
            endpoints,
            [
                ("reports.example.net".to_owned(), None),
                ("r.example.net".to_owned(), Some(8443)),
                ("2001:db8::1".to_owned(), Some(444)),
            ]
        );
    }

    fn rr(text: &str) -> TxtRecord {
        TxtRecord::single(text)
    }

    /// (check, capped) pairs, sorted.
    fn checks(problems: &[Problem]) -> Vec<(&'static str, Option<Severity>)> {
        let mut ids: Vec<_> = problems.iter().map(|p| (p.check.as_str(), p.cap)).collect();
        ids.sort_unstable();
        ids
    }

    const W: Option<Severity> = Some(Severity::Warn);

    #[test]
    fn valid_records_parse() {
        let table: &[(&[&str], &[&str])] = &[
            (
                &["v=TLSRPTv1;rua=mailto:a@example.com"],
                &["mailto:a@example.com"],
            ), // EC-75
            (
                &["v=TLSRPTv1; rua=mailto:a@example.com , https://r.example/tls;"],
                &["mailto:a@example.com", "https://r.example/tls"],
            ),
            (
                &["v=TLSRPTv1; rua=mailto:", "a@example.com"],
                &["mailto:a@example.com"],
            ),
            (
                &["v=TLSRPTv1; rua=mailto:tls@other.example"], // EC-82
                &["mailto:tls@other.example"],
            ),
        ];
        for (strings, rua) in table {
            let record = TxtRecord {
                strings: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
            };
            let (record, problems) = analyse_tlsrpt_records(&[record]);
            assert!(problems.is_empty(), "{strings:?}: {problems:?}");
            assert_eq!(record.unwrap().rua, *rua, "{strings:?}");
        }
    }

    #[test]
    fn problems_per_record() {
        type Case<'a> = (&'a str, &'a [(&'a str, Option<Severity>)], bool);
        let table: &[Case<'_>] = &[
            ("v=TLSRPTv1;", &[("tlsrpt.rua", None)], true), // EC-79
            (
                "v=TLSRPTv1; ruf=mailto:a@b.example", // EC-79
                &[("tlsrpt.extension", None), ("tlsrpt.rua", None)],
                true,
            ),
            ("v=TLSRPTv1; rua=", &[("tlsrpt.rua", None)], true),
            (
                "v=TLSRPTv1; RUA=mailto:a@b.example",
                &[("tlsrpt.extension", None), ("tlsrpt.rua", None)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=http://r.example/",
                &[("tlsrpt.rua-scheme", None)],
                true,
            ), // EC-78
            (
                "v=TLSRPTv1; rua=mailto:a@b.example,http://r.example/",
                &[("tlsrpt.rua-scheme", W)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=MAILTO:a@b.example",
                &[("tlsrpt.rua-scheme", W)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@b.example!10m",
                &[("tlsrpt.rua-syntax", W)],
                true,
            ), // EC-80
            (
                "v=TLSRPTv1; rua=mailto:a@b.example,c@d.example",
                &[("tlsrpt.rua-syntax", W)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=https://r.example/a;b",
                &[("tlsrpt.rua-syntax", W)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@b.example;x",
                &[("tlsrpt.rua-syntax", None), ("tlsrpt.rua-syntax", W)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@b.example,,",
                &[("tlsrpt.rua-syntax", W)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=mailto:",
                &[("tlsrpt.rua-syntax", None)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=mailto:postmaster",
                &[("tlsrpt.rua-syntax", None)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=https:/reports",
                &[("tlsrpt.rua-syntax", None)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=https://",
                &[("tlsrpt.rua-syntax", None)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=tls@b.example",
                &[("tlsrpt.rua-syntax", None)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@d.example",
                &[("tlsrpt.multiple-rua", None)],
                true,
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@b.example ",
                &[("tlsrpt.syntax", None)],
                false,
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@b.example; x=a=b",
                &[("tlsrpt.syntax", None)],
                false,
            ),
        ];
        for (text, expected, usable) in table {
            let (record, problems) = analyse_tlsrpt_records(&[rr(text)]);
            assert_eq!(checks(&problems), *expected, "{text}: {problems:#?}");
            assert_eq!(record.is_some(), *usable, "{text}");
        }
    }

    #[test]
    fn filter_across_records() {
        let analysis = analyse(&[
            rr("v=TLSRPTv1; rua=mailto:a@x.example"),
            rr("v=TLSRPTv1; rua=mailto:b@x.example"),
        ]);
        assert_eq!(analysis.candidates, 2); // EC-77
        assert_eq!(checks(&analysis.problems), [("tlsrpt.single", None)]);

        for text in [
            "v=tlsrptv1; rua=mailto:a@x.example", // EC-81
            " v=TLSRPTv1; rua=mailto:a@x.example",
            "v=TLSRPTv1 ; rua=mailto:a@x.example",
        ] {
            let analysis = analyse(&[rr(text)]);
            assert_eq!(analysis.candidates, 0, "{text}");
            assert_eq!(
                checks(&analysis.problems),
                [("tlsrpt.syntax", None)],
                "{text}"
            );
        }
        let analysis = analyse(&[rr("v=tlsrptv1; rua=mailto:a@x.example")]);
        assert!(analysis.problems[0].summary.contains("wrong case"));

        let analysis = analyse(&[
            rr("v=TLSRPTv1; rua=mailto:a@x.example"),
            rr("V=TLSRPTv1; rua=mailto:b@x.example"),
        ]);
        assert_eq!(analysis.candidates, 1);
        assert_eq!(checks(&analysis.problems), [("tlsrpt.single", W)]);

        let analysis = analyse(&[rr("v=spf1 -all")]);
        assert_eq!(analysis.candidates, 0);
        assert!(analysis.problems.is_empty());
    }

    #[test]
    fn dmarc_copies_are_named() {
        let (_, problems) = analyse_tlsrpt_records(&[rr(
            "v=TLSRPTv1; rua=mailto:a@b.example; ruf=mailto:a@b.example",
        )]);
        assert!(problems[0].summary.contains("DMARC"));
    }

    #[test]
    fn mailto_domains_are_lower_cased_and_deduplicated() {
        let record = TlsRptRecord {
            rua: vec![
                "mailto:a@Reports.Example".to_owned(),
                "MAILTO:b@reports.example?subject=x".to_owned(),
                "mailto:c@other.example!10m".to_owned(),
                "mailto:d@one.example%2Ce@two.example".to_owned(),
                "https://reports.example/x".to_owned(),
                "mailto:nobody".to_owned(),
                "mailto:x@bad domain".to_owned(),
            ],
            extensions: Vec::new(),
        };
        assert_eq!(
            record.mailto_domains(),
            [
                "reports.example",
                "other.example",
                "one.example",
                "two.example"
            ]
        );
    }

    #[test]
    fn never_panics_on_random_records() {
        let alphabet: &[&[u8]] = &[
            b"v=TLSRPTv1",
            b"v=tlsrptv1",
            b";",
            b" ",
            b"=",
            b"rua",
            b"mailto:",
            b"https://",
            b"@",
            b"a",
            b".",
            b",",
            b"!",
            b"%",
            b"%2C",
            b"?",
            b"[",
            b":",
            b"\xff",
            b"/",
        ];
        for seed in 0..5000 {
            let records = tag_value::tests::random_records(seed, alphabet);
            if let (Some(record), _) = analyse_tlsrpt_records(&records) {
                for domain in record.mailto_domains() {
                    assert!(!domain.is_empty() && domain == domain.to_ascii_lowercase());
                }
            }
        }
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        let inputs: &[&[u8]] = &[
            b"v=TLSRPTv1;",
            b"v=TLSRPTv1;rua",
            b"v=TLSRPTv1;rua=%",
            b"v=TLSRPTv1;rua=mailto:%4",
            b"v=TLSRPTv1;rua=https://[",
            b"v=TLSRPTv1;rua=:",
            b"v=TLSRPTv1;rua=\xff:x",
            b"v=TLSRPTv1;;rua=,;",
            b"v=TLSRPTv1",
            b"",
            b"v=TLSRPTv1;x;rua=a:b;c;d",
        ];
        for input in inputs {
            let record = TxtRecord {
                strings: vec![input.to_vec()],
            };
            if let (Some(record), _) = analyse_tlsrpt_records(&[record]) {
                let _ = record.mailto_domains();
            }
        }
    }
}
