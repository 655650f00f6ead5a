//! The `_mta-sts` TXT record (RFC 8461 §3.1): the discovery filter (join strings, keep records
//! beginning with `v=STSv1;`, exactly one must remain), then a strict parse against the §3.1
//! grammar with its RFC 7405 case-sensitive literals. Whitespace before the first `;` follows the
//! digest's reading of errata 6285 (valid when alone, discarded among other records); duplicate
//! fields follow §3.2 (first wins). Problems name where known senders (digest §8) differ.
//!
//! The delimiter and extension helpers are shared with the `_smtp._tls` parser (RFC 8460 §3),
//! whose grammar has the same shape.

use std::collections::{HashMap, HashSet};

use crate::catalog::CheckId;
use crate::escape::escape_bytes;
use crate::model::Problem;
use crate::observe::TxtRecord;

/// The version tag, matched byte-exactly (`%s"v=STSv1"`).
pub const STS_VERSION: &[u8] = b"v=STSv1";
/// The literal prefix of RFC 8461 §3.1's filter.
pub const STS_PREFIX: &[u8] = b"v=STSv1;";
/// Evidence label for the record text.
pub const STS_EVIDENCE: &str = "TXT _mta-sts";

/// The longest `id` the grammar allows (`1*32(ALPHA / DIGIT)`).
const MAX_ID_LEN: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsRecord {
    pub id: String,
    /// Extension fields, first occurrence of each name, in record order.
    pub extensions: Vec<(String, String)>,
}

/// Everything the filter and the parser found in the TXT RRs at `_mta-sts.D`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsAnalysis {
    /// The record a strict sender would use.
    pub record: Option<StsRecord>,
    /// How many records passed the discovery filter (0: no MTA-STS record; 2+: no policy).
    pub candidates: usize,
    /// Exactly one candidate was parsed, so `sts-record.syntax`, `.id` and `.duplicate-field`
    /// actually ran.
    pub parsed: bool,
    /// Problems of the `sts-record.*` checks other than `present`, `cname` and `ttl`.
    pub problems: Vec<Problem>,
}

/// Filters the TXT RRs at `_mta-sts.D` as RFC 8461 §3.1 says (join strings, keep those that begin
/// with `v=STSv1;`, exactly one must remain) and parses the survivor.
///
/// Returns the record a strict sender would use, if any, and the problems of the `sts-record.*`
/// checks other than `sts-record.present`.
pub fn analyse_sts_records(records: &[TxtRecord]) -> (Option<StsRecord>, Vec<Problem>) {
    let analysis = analyse(records);
    (analysis.record, analysis.problems)
}

/// Like [`analyse_sts_records`], also saying how many candidates there were and whether the
/// grammar checks ran, which the verdict needs to avoid passing a check that did not run.
pub fn analyse(records: &[TxtRecord]) -> StsAnalysis {
    let texts: Vec<Vec<u8>> = records.iter().map(TxtRecord::joined).collect();
    let shapes: Vec<Shape> = texts
        .iter()
        .map(|text| classify(text, STS_VERSION))
        .collect();
    let alone = texts.len() == 1;
    // Errata 6285: `v=STSv1 ;` is grammatical, so when it is the only record it is used.
    let is_candidate = |shape: &Shape| {
        matches!(shape, Shape::Exact) || (alone && matches!(shape, Shape::SpaceBeforeDelimiter))
    };
    let candidates: Vec<&[u8]> = texts
        .iter()
        .zip(&shapes)
        .filter(|(_, shape)| is_candidate(shape))
        .map(|(text, _)| text.as_slice())
        .collect();
    let exact = shapes.iter().filter(|s| matches!(s, Shape::Exact)).count();

    let mut problems = Vec::new();
    for (text, shape) in texts.iter().zip(&shapes) {
        let shown = escape_bytes(text);
        match shape {
            Shape::Exact | Shape::Other => {}
            Shape::SpaceBeforeDelimiter if alone => problems.push(
                Problem::new(
                    CheckId::StsRecordDelimiterSpace,
                    "the record has whitespace before its first `;`: the grammar allows it, but \
                     the record does not begin with the literal `v=STSv1;` that RFC 8461 §3.1's \
                     filter looks for (errata 6285); chasquid ignores it",
                )
                .with(STS_EVIDENCE, shown),
            ),
            Shape::SpaceBeforeDelimiter => {
                let consequence = if exact > 0 {
                    "the RFC's filter discards it, but postfix-mta-sts-resolver and mailauth \
                     match it too and then see two records (no policy)"
                } else {
                    "other TXT records exist at _mta-sts, so the RFC's filter discards it and \
                     no MTA-STS record remains (errata 6285)"
                };
                problems.push(
                    Problem::new(
                        CheckId::StsRecordDelimiterSpace,
                        format!(
                            "a record has whitespace before its first `;`, so it does not begin \
                             with `v=STSv1;`: {consequence}"
                        ),
                    )
                    .with(STS_EVIDENCE, shown),
                );
            }
            Shape::NearMiss(mistakes) => {
                let mistakes = mistakes.join(", and ");
                let problem = if candidates.is_empty() {
                    Problem::new(
                        CheckId::StsRecordSyntax,
                        format!(
                            "a record looks like MTA-STS but is not one: {mistakes}; senders \
                             following RFC 8461 §3.1 ignore it{}",
                            near_miss_senders(text)
                        ),
                    )
                } else {
                    Problem::new(
                        CheckId::StsRecordOtherTxt,
                        format!(
                            "a second record looks like MTA-STS but is not one: {mistakes}; the \
                             RFC's filter discards it, but go-mtasts counts every TXT record{}",
                            if differs_only_in_case(text) {
                                ", and Stalwart and mailauth (case-insensitive) see two records"
                            } else {
                                ""
                            }
                        ),
                    )
                };
                problems.push(problem.with(STS_EVIDENCE, shown));
            }
        }
    }

    let related = shapes.iter().any(|shape| !matches!(shape, Shape::Other));
    let others: Vec<&Vec<u8>> = texts
        .iter()
        .zip(&shapes)
        .filter(|(_, shape)| matches!(shape, Shape::Other))
        .map(|(text, _)| text)
        .collect();
    if related && !others.is_empty() {
        let mut problem = Problem::new(
            CheckId::StsRecordOtherTxt,
            format!(
                "{}: RFC 8461 §3.1 discards {}, but go-mtasts (maddy) counts every TXT record \
                 there and then sees no policy",
                if others.len() == 1 {
                    "another TXT record shares the _mta-sts name".to_owned()
                } else {
                    format!("{} other TXT records share the _mta-sts name", others.len())
                },
                if others.len() == 1 { "it" } else { "them" },
            ),
        );
        for text in others {
            problem = problem.with(STS_EVIDENCE, escape_bytes(text));
        }
        problems.push(problem);
    }

    match candidates.as_slice() {
        [] => StsAnalysis {
            record: None,
            candidates: 0,
            parsed: false,
            problems,
        },
        [only] => {
            let (record, mut parse_problems) = parse_candidate(only);
            problems.append(&mut parse_problems);
            StsAnalysis {
                record,
                candidates: 1,
                parsed: true,
                problems,
            }
        }
        several => {
            let mut problem = Problem::new(
                CheckId::StsRecordSingle,
                format!(
                    "{} TXT records begin with `v=STSv1;`: RFC 8461 §3.1 needs exactly one, so \
                     senders act as if the domain had no MTA-STS (Stalwart uses whichever \
                     parses first in the answer)",
                    several.len()
                ),
            );
            for text in several {
                problem = problem.with(STS_EVIDENCE, escape_bytes(text));
            }
            problems.push(problem);
            StsAnalysis {
                record: None,
                candidates: several.len(),
                parsed: false,
                problems,
            }
        }
    }
}

/// Which senders treat a near-miss record differently from the RFC.
fn near_miss_senders(text: &[u8]) -> &'static str {
    if differs_only_in_case(text) {
        ", though Stalwart and mailauth match the tag case-insensitively and accept it"
    } else if text.first().is_some_and(|&b| is_wsp(b)) {
        ", and postfix-mta-sts-resolver, chasquid and mailauth also look for the tag at the very start"
    } else {
        ""
    }
}

/// The record begins with `v=STSv1` in another letter case, followed by `;`.
fn differs_only_in_case(text: &[u8]) -> bool {
    text.len() > STS_VERSION.len()
        && text[..STS_VERSION.len()].eq_ignore_ascii_case(STS_VERSION)
        && text[STS_VERSION.len()] == b';'
}

/// Parses the one record left by the filter against the §3.1 grammar.
fn parse_candidate(text: &[u8]) -> (Option<StsRecord>, Vec<Problem>) {
    let shown = escape_bytes(text);
    let mut problems = Vec::new();
    let syntax = |summary: String| {
        Problem::new(CheckId::StsRecordSyntax, summary).with(STS_EVIDENCE, shown.clone())
    };

    if !text.is_ascii() {
        problems.push(syntax(
            "the record contains non-ASCII bytes; RFC 8461 §3.1 allows US-ASCII only".to_owned(),
        ));
    }
    // The filter guaranteed `v=STSv1`, optional WSP, then `;`.
    let Some(first_delimiter) = text.iter().position(|&b| b == b';') else {
        problems.push(syntax("the record has no `;` after `v=STSv1`".to_owned()));
        return (None, problems);
    };
    let split = split_fields(&text[first_delimiter + 1..]);
    for mistake in &split.mistakes {
        problems.push(syntax(match mistake {
            DelimiterMistake::EmptyField => {
                "the record has an empty field (two `;` with nothing but whitespace between)"
                    .to_owned()
            }
            DelimiterMistake::TrailingWhitespace => {
                "the record ends in whitespace without a final `;`; the grammar allows \
                 whitespace only around `;` (mox rejects the record; most senders trim it)"
                    .to_owned()
            }
        }));
    }

    let mut ids: Vec<&[u8]> = Vec::new();
    let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
    let mut miscased_id: Option<&[u8]> = None;
    for &field in &split.fields {
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            problems.push(
                syntax(format!(
                    "the field `{}` has no `=`: fields are `name=value`",
                    escape_bytes(field)
                ))
                .with("field", escape_bytes(field)),
            );
            continue;
        };
        let (name, value) = (&field[..eq], &field[eq + 1..]);
        fields.push((name, value));
        if name == b"id" {
            ids.push(value);
            continue;
        }
        // Any other name is an extension (`ID` too: `%s"id="` is case-sensitive).
        if let Some(why) = ext_name_problem(name) {
            problems.push(
                syntax(format!(
                    "the field name `{}` is not a valid extension name: {why}",
                    escape_bytes(name)
                ))
                .with("field", escape_bytes(field)),
            );
        } else if let Some(why) = ext_value_problem(value) {
            problems.push(
                syntax(format!(
                    "the extension field `{}` is invalid: {why}",
                    escape_bytes(field)
                ))
                .with("field", escape_bytes(field)),
            );
        }
        if name.eq_ignore_ascii_case(b"id") && miscased_id.is_none() {
            miscased_id = Some(field);
        }
    }

    for (name, values) in duplicates(&fields) {
        let written: Vec<String> = values
            .iter()
            .map(|value| format!("`{}={}`", escape_bytes(name), escape_bytes(value)))
            .collect();
        let mut problem = Problem::new(
            CheckId::StsRecordDuplicateField,
            format!(
                "the field `{}` appears {} times ({}): the first counts (RFC 8461 §3.2, as mox \
                 does), but senders disagree about which one they use",
                escape_bytes(name),
                values.len(),
                written.join(", ")
            ),
        )
        .with(STS_EVIDENCE, shown.clone());
        for value in &values {
            problem = problem.with(
                "field",
                format!("{}={}", escape_bytes(name), escape_bytes(value)),
            );
        }
        problems.push(problem);
    }

    let id = match ids.first() {
        None => {
            let summary = match miscased_id {
                Some(field) => format!(
                    "the record has no `id` field: `{}` looks like `id` in the wrong case, but \
                     field names are case-sensitive (RFC 7405 `%s`), so it is an unknown \
                     extension (Stalwart and mailauth accept it)",
                    escape_bytes(field)
                ),
                None => "the record has no `id` field, which RFC 8461 §3.1 requires".to_owned(),
            };
            let mut problem = Problem::new(CheckId::StsRecordId, summary).with(STS_EVIDENCE, shown);
            if let Some(field) = miscased_id {
                problem = problem.with("field", escape_bytes(field));
            }
            problems.push(problem);
            None
        }
        Some(&value) => match id_problem(value) {
            Some(why) => {
                problems.push(
                    Problem::new(
                        CheckId::StsRecordId,
                        format!(
                            "the id `{}` {why}: RFC 8461 §3.1 allows 1 to {MAX_ID_LEN} letters \
                             and digits (mox rejects the record; postfix-mta-sts-resolver, \
                             Stalwart and go-mtasts accept it)",
                            escape_bytes(value)
                        ),
                    )
                    .with(STS_EVIDENCE, shown)
                    .with("field", format!("id={}", escape_bytes(value))),
                );
                None
            }
            None => Some(String::from_utf8_lossy(value).into_owned()),
        },
    };

    let valid = !problems
        .iter()
        .any(|p| matches!(p.check, CheckId::StsRecordSyntax | CheckId::StsRecordId));
    let record = match id {
        Some(id) if valid => {
            let mut extensions: Vec<(String, String)> = Vec::new();
            // A set, not a scan: thousands of distinct fields would take quadratic time.
            let mut seen: HashSet<&[u8]> = HashSet::new();
            for (name, value) in fields {
                if name != b"id" && seen.insert(name) {
                    extensions.push((
                        String::from_utf8_lossy(name).into_owned(),
                        String::from_utf8_lossy(value).into_owned(),
                    ));
                }
            }
            Some(StsRecord { id, extensions })
        }
        _ => None,
    };
    (record, problems)
}

/// Why an `id` value is not `1*32(ALPHA / DIGIT)`, if it is not.
fn id_problem(value: &[u8]) -> Option<String> {
    if value.is_empty() {
        return Some("is empty".to_owned());
    }
    let mut reasons = Vec::new();
    if value.len() > MAX_ID_LEN {
        reasons.push(format!("is {} characters long", value.len()));
    }
    let mut bad: Vec<String> = Vec::new();
    for &byte in value {
        if !byte.is_ascii_alphanumeric() {
            let shown = describe_byte(byte);
            if !bad.contains(&shown) {
                bad.push(shown);
            }
        }
    }
    if !bad.is_empty() {
        reasons.push(format!("contains {}", bad.join(", ")));
    }
    (!reasons.is_empty()).then(|| reasons.join(" and "))
}

/// Each field name that appears more than once, with its values, in order of first appearance.
fn duplicates<'a>(fields: &[(&'a [u8], &'a [u8])]) -> Vec<(&'a [u8], Vec<&'a [u8]>)> {
    // Indexed, so that a record of thousands of distinct fields stays linear.
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    let mut seen: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
    for &(name, value) in fields {
        let slot = *index.entry(name).or_insert_with(|| {
            seen.push((name, Vec::new()));
            seen.len() - 1
        });
        seen[slot].1.push(value);
    }
    seen.retain(|(_, values)| values.len() > 1);
    seen
}

// ---- Shared with the `_smtp._tls` parser (RFC 8460 §3 has the same record shape) ----

/// How a TXT record relates to the record type being looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Begins with the exact bytes `VERSION;`.
    Exact,
    /// `VERSION`, whitespace, then `;`: grammatical, but not the filter's literal prefix.
    SpaceBeforeDelimiter,
    /// Meant as this record type but not one; each string names one mistake.
    NearMiss(Vec<String>),
    /// Some other TXT record (SPF, a verification token).
    Other,
}

pub(crate) fn is_wsp(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn trim_wsp_start(mut text: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = text {
        if !is_wsp(*first) {
            break;
        }
        text = rest;
    }
    text
}

fn trim_wsp_end(mut text: &[u8]) -> &[u8] {
    while let [rest @ .., last] = text {
        if !is_wsp(*last) {
            break;
        }
        text = rest;
    }
    text
}

/// Classifies a joined TXT record against a version tag such as `v=STSv1`. A record "looks like"
/// the type when, ignoring case and whitespace, it begins with the tag.
pub(crate) fn classify(text: &[u8], version: &[u8]) -> Shape {
    let prefix_len = version.len();
    if text.starts_with(version) {
        let after = &text[prefix_len..];
        if after.first() == Some(&b';') {
            return Shape::Exact;
        }
        let trimmed = trim_wsp_start(after);
        if trimmed.len() < after.len() && trimmed.first() == Some(&b';') {
            return Shape::SpaceBeforeDelimiter;
        }
    }

    // The lenient reading: WSP* tag-name WSP* "=" WSP* value, case-insensitively.
    let Some(eq_in_version) = version.iter().position(|&b| b == b'=') else {
        return Shape::Other;
    };
    let (tag, value) = (&version[..eq_in_version], &version[eq_in_version + 1..]);
    let leading = text.len() - trim_wsp_start(text).len();
    let mut pos = leading;
    let take = |pos: usize, want: &[u8]| {
        text.get(pos..pos + want.len())
            .is_some_and(|got| got.eq_ignore_ascii_case(want))
    };
    if !take(pos, tag) {
        return Shape::Other;
    }
    let tag_at = pos;
    pos += tag.len();
    let before_eq = pos;
    pos = text.len() - trim_wsp_start(&text[pos..]).len();
    let mut inner_space = pos > before_eq;
    if text.get(pos) != Some(&b'=') {
        return Shape::Other;
    }
    pos += 1;
    let after_eq = pos;
    pos = text.len() - trim_wsp_start(&text[pos..]).len();
    inner_space |= pos > after_eq;
    if !take(pos, value) {
        return Shape::Other;
    }
    let value_at = pos;
    pos += value.len();

    let shown_version = escape_bytes(version);
    let mut mistakes = Vec::new();
    if leading > 0 {
        mistakes.push(format!(
            "it begins with whitespace, but must begin with `{shown_version}`"
        ));
    }
    if inner_space {
        mistakes.push(format!("it has whitespace inside `{shown_version}`"));
    }
    let mut written = text[tag_at..tag_at + tag.len()].to_vec();
    written.push(b'=');
    written.extend_from_slice(&text[value_at..value_at + value.len()]);
    if written != version {
        mistakes.push(format!(
            "`{}` is `{shown_version}` in the wrong case, and the tag is case-sensitive, \
             RFC 7405 `%s`",
            escape_bytes(&written)
        ));
    }
    let after = &text[pos..];
    let trimmed = trim_wsp_start(after);
    match trimmed.first() {
        None => mistakes.push(format!(
            "nothing follows `{shown_version}`: a `;` and the other fields are missing"
        )),
        Some(b';') if trimmed.len() < after.len() => {
            mistakes.push("it has whitespace before the first `;`".to_owned());
        }
        Some(b';') => {}
        Some(_) => mistakes.push(format!("`{shown_version}` is not followed by `;`")),
    }
    Shape::NearMiss(mistakes)
}

/// A delimiter that breaks the `*WSP ";" *WSP` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DelimiterMistake {
    /// `;;` or `; ;`.
    EmptyField,
    /// Whitespace after the last field with no `;` after it.
    TrailingWhitespace,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SplitFields<'a> {
    /// The fields, without the whitespace of the delimiters around them.
    pub(crate) fields: Vec<&'a [u8]>,
    pub(crate) mistakes: Vec<DelimiterMistake>,
}

/// Splits what follows the first `;` of a record into fields. Values cannot contain `;` in
/// either grammar, so splitting on it is exact.
pub(crate) fn split_fields(rest: &[u8]) -> SplitFields<'_> {
    let pieces: Vec<&[u8]> = rest.split(|&b| b == b';').collect();
    let last = pieces.len().saturating_sub(1);
    let mut split = SplitFields::default();
    for (index, piece) in pieces.into_iter().enumerate() {
        let content = trim_wsp_end(trim_wsp_start(piece));
        if content.is_empty() {
            // An empty last piece is the optional trailing delimiter.
            if index != last {
                split.mistakes.push(DelimiterMistake::EmptyField);
            }
            continue;
        }
        if index == last && piece.last().is_some_and(|&b| is_wsp(b)) {
            split.mistakes.push(DelimiterMistake::TrailingWhitespace);
        }
        split.fields.push(content);
    }
    split
}

/// Why `name` is not `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`, if it is not.
pub(crate) fn ext_name_problem(name: &[u8]) -> Option<String> {
    let Some(first) = name.first() else {
        return Some("it is empty".to_owned());
    };
    if !first.is_ascii_alphanumeric() {
        return Some(format!(
            "it starts with {}, not a letter or digit",
            describe_byte(*first)
        ));
    }
    if name.len() > 32 {
        return Some(format!("it is {} characters long (at most 32)", name.len()));
    }
    name.iter()
        .find(|&&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map(|&b| format!("it contains {}", describe_byte(b)))
}

/// Why `value` is not `1*(%x21-3A / %x3C / %x3E-7E)`, if it is not. Non-ASCII bytes are left to
/// the caller, which reports them once for the whole record.
pub(crate) fn ext_value_problem(value: &[u8]) -> Option<String> {
    if value.is_empty() {
        return Some("the value is empty".to_owned());
    }
    value
        .iter()
        .find(|&&b| (b.is_ascii() && !(0x21..=0x7e).contains(&b)) || b == b'=' || b == b';')
        .map(|&b| {
            format!(
                "the value contains {}, which the grammar does not allow",
                describe_byte(b)
            )
        })
}

/// A byte named for a sentence: "a space", "`=`", "the control character \x0D".
pub(crate) fn describe_byte(byte: u8) -> String {
    match byte {
        b' ' => "a space".to_owned(),
        b'\t' => "a tab".to_owned(),
        0x21..=0x7e => format!("`{}`", byte as char),
        0x80..=0xff => "non-ASCII bytes".to_owned(),
        _ => format!("the control character \\x{byte:02X}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn rr(text: &str) -> TxtRecord {
        TxtRecord::single(text)
    }

    fn checks(problems: &[Problem]) -> Vec<&'static str> {
        let mut ids: Vec<&str> = problems.iter().map(|p| p.check.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn valid_records_parse() {
        let table: &[(&[&str], &str)] = &[
            (&["v=STSv1; id=20250101T000000"], "20250101T000000"),
            (&["v=STSv1;id=abc"], "abc"),            // EC-13
            (&["v=STSv1; id=abc;"], "abc"),          // EC-14
            (&["v=STSv1; id=abc; \t"], "abc"),       // trailing delimiter with WSP
            (&["v=STSv1; id=abc", "123"], "abc123"), // EC-12: one RR, two strings
            (&["v=STSv1\t;\tid=a ;x=1"], "a"),
        ];
        for (strings, id) in table {
            let record = TxtRecord {
                strings: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
            };
            let analysis = analyse(&[record]);
            let record = analysis.record.unwrap_or_else(|| panic!("{strings:?}"));
            assert_eq!(record.id, *id, "{strings:?}");
            assert_eq!(analysis.candidates, 1);
            assert!(analysis.parsed);
        }
    }

    #[test]
    fn extensions_are_kept_first_wins() {
        let (record, problems) = analyse_sts_records(&[rr("v=STSv1; id=a; ext=1; ext=2")]);
        assert_eq!(
            record.unwrap().extensions,
            vec![("ext".to_owned(), "1".to_owned())]
        );
        assert_eq!(checks(&problems), ["sts-record.duplicate-field"]);
    }

    #[test]
    fn problems_per_record() {
        let table: &[(&str, &[&str], bool)] = &[
            ("v=STSv1; id=2024-01-01", &["sts-record.id"], false), // EC-08
            (
                "v=STSv1; id=abcdefghijabcdefghijabcdefghijabc",
                &["sts-record.id"],
                false,
            ), // EC-09
            ("v=STSv1; id=a.b_c", &["sts-record.id"], false),
            ("v=STSv1; id=", &["sts-record.id"], false),
            ("v=STSv1;", &["sts-record.id"], false),
            ("v=STSv1; ID=abc", &["sts-record.id"], false), // EC-18
            ("v=STSv1; id=abc; x=a=b", &["sts-record.syntax"], false), // EC-19
            ("v=STSv1; id=abc ", &["sts-record.syntax"], false), // TXT-10
            ("v=STSv1; id=abc;; x=1", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; x=", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; _x=1", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; foo", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; x=é", &["sts-record.syntax"], false), // TXT-14
            (
                "v=STSv1; id=abc; id=def",
                &["sts-record.duplicate-field"],
                true,
            ),
            ("v=STSv1 ; id=abc", &["sts-record.delimiter-space"], true), // EC-15
        ];
        for (text, expected, usable) in table {
            let (record, problems) = analyse_sts_records(&[rr(text)]);
            assert_eq!(checks(&problems), *expected, "{text}");
            assert_eq!(record.is_some(), *usable, "{text}");
        }
    }

    #[test]
    fn duplicate_id_first_wins() {
        let (record, _) = analyse_sts_records(&[rr("v=STSv1; id=first; id=second")]);
        assert_eq!(record.unwrap().id, "first");
    }

    #[test]
    fn miscased_id_is_named() {
        let (_, problems) = analyse_sts_records(&[rr("v=STSv1; ID=abc")]);
        assert!(problems[0]
            .summary
            .contains("looks like `id` in the wrong case"));
    }

    #[test]
    fn near_misses_are_not_candidates() {
        let table: &[(&str, &str)] = &[
            (" v=STSv1; id=abc", "begins with whitespace"), // EC-16
            (
                "V=STSv1; id=abc",
                "`V=STSv1` is `v=STSv1` in the wrong case",
            ), // EC-17
            (
                "v=stsv1; id=abc",
                "`v=stsv1` is `v=STSv1` in the wrong case",
            ),
            ("v=STSv1", "nothing follows"),
            ("v=STSv1 id=abc", "is not followed by `;`"),
            ("v = STSv1; id=abc", "whitespace inside"),
        ];
        for (text, mistake) in table {
            let analysis = analyse(&[rr(text)]);
            assert_eq!(analysis.candidates, 0, "{text}");
            assert!(analysis.record.is_none(), "{text}");
            assert_eq!(checks(&analysis.problems), ["sts-record.syntax"], "{text}");
            assert!(
                analysis.problems[0].summary.contains(mistake),
                "{text}: {}",
                analysis.problems[0].summary
            );
        }
    }

    #[test]
    fn filter_across_records() {
        // EC-10: two candidates.
        let analysis = analyse(&[rr("v=STSv1; id=a"), rr("v=STSv1; id=b")]);
        assert_eq!(analysis.candidates, 2);
        assert!(!analysis.parsed);
        assert_eq!(checks(&analysis.problems), ["sts-record.single"]);
        assert_eq!(analysis.problems[0].evidence.len(), 2);

        // EC-11: an unrelated record is discarded, but go-mtasts counts it.
        let (record, problems) = analyse_sts_records(&[rr("v=STSv1; id=a"), rr("v=spf1 -all")]);
        assert_eq!(record.unwrap().id, "a");
        assert_eq!(checks(&problems), ["sts-record.other-txt"]);

        // Errata 6285: with another record, `v=STSv1 ;` is discarded.
        let analysis = analyse(&[rr("v=STSv1 ; id=a"), rr("google-site-verification=x")]);
        assert_eq!(analysis.candidates, 0);
        assert_eq!(
            checks(&analysis.problems),
            ["sts-record.delimiter-space", "sts-record.other-txt"]
        );

        // A wrong-case record beside a good one is discarded but noted.
        let (record, problems) = analyse_sts_records(&[rr("v=STSv1; id=a"), rr("V=STSv1; id=b")]);
        assert_eq!(record.unwrap().id, "a");
        assert_eq!(checks(&problems), ["sts-record.other-txt"]);

        // Only unrelated records: nothing to say beyond "no record".
        let analysis = analyse(&[rr("v=spf1 -all")]);
        assert_eq!(analysis.candidates, 0);
        assert!(analysis.problems.is_empty());
    }

    #[test]
    fn split_fields_reports_delimiter_mistakes() {
        let split = split_fields(b" id=a ; b=c ;");
        assert_eq!(split.fields, vec![&b"id=a"[..], b"b=c"]);
        assert!(split.mistakes.is_empty());
        assert_eq!(
            split_fields(b"a=b;;c=d ").mistakes,
            vec![
                DelimiterMistake::EmptyField,
                DelimiterMistake::TrailingWhitespace
            ]
        );
    }

    /// Deterministic pseudo-random records over the grammar's interesting bytes.
    pub(crate) fn random_records(seed: u64, alphabet: &[&[u8]]) -> Vec<TxtRecord> {
        let mut state = seed;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            usize::try_from(state >> 33).unwrap() % bound
        };
        (0..1 + next(3))
            .map(|_| TxtRecord {
                strings: (0..1 + next(3))
                    .map(|_| {
                        (0..next(12))
                            .flat_map(|_| alphabet[next(alphabet.len())].to_vec())
                            .collect()
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn never_panics_on_random_records() {
        let alphabet: &[&[u8]] = &[
            b"v=STSv1",
            b"V=",
            b"stsv1",
            b";",
            b" ",
            b"\t",
            b"=",
            b"id",
            b"ID",
            b"a",
            b"9",
            b"-",
            b"_",
            b".",
            b"\xff",
            b"\xc3\xa9",
            b"\x00",
            b"x",
            b"\r\n",
        ];
        for seed in 0..5000 {
            let records = random_records(seed, alphabet);
            let analysis = analyse(&records);
            assert!(analysis.record.is_none() || analysis.candidates == 1);
        }
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        let inputs: &[&[u8]] = &[
            b"",
            b";",
            b"v",
            b"v=",
            b"v=STSv1",
            b"v=STSv1 ",
            b"v=STSv1;=",
            b"v=STSv1;==;",
            b"\xff\xfe",
            b"v=STSv1;\xffid=\xff",
            b" \t ",
            b"V",
            b"v=STSv1 \t",
        ];
        for input in inputs {
            let record = TxtRecord {
                strings: vec![input.to_vec()],
            };
            let _ = analyse(&[record.clone(), record]);
            let _ = analyse(&[TxtRecord {
                strings: vec![input.to_vec()],
            }]);
        }
    }
}
