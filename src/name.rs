//! Domain and host names, validated once and then carried as types.
//!
//! One rule decides what a host name is: ASCII letters, digits and hyphens
//! (RFC 952, RFC 1123 §2.1, RFC 5321 §2.3.5), labels of 1 to 63 characters that do not start or
//! end with a hyphen, at most 253 characters in all (RFC 1035 §2.3.4), not an IP address (RFC 5321
//! §5.1; no top-level domain is all digits, RFC 3696 §2). A [`HostName`] read from DNS may also
//! carry `_`, which sending MTAs tolerate and some real MX names have; a [`DomainName`], the mail
//! domain a person asks about, may not, must have at least two labels, and is converted from
//! Unicode to A-labels (UTS #46). Both are lower case without a trailing dot.
//!
//! The names the audit looks up are built here, from a [`DomainName`] or [`HostName`], and
//! nowhere else: `_mta-sts.D`, `mta-sts.D`, `_smtp._tls.D`, `_25._tcp.MX` and the misplaced
//! variants people publish by mistake.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::escape::escape_str;

/// The longest name in text form: the 255-octet wire limit of RFC 1035 §2.3.4.
pub const MAX_NAME_LEN: usize = 253;
/// The longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Input longer than this is too long whatever IDNA makes of it; checked before IDNA runs.
const MAX_RAW_NAME_BYTES: usize = 1024;

/// Why a name was rejected. [`fmt::Display`] words it for a mail domain a person typed;
/// [`NameError::host_problem`] for a host name read from DNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong {
        len: usize,
    },
    EmptyLabel,
    LabelTooLong {
        label: String,
    },
    /// A character outside letters, digits, hyphen and dot (underscore included).
    BadCharacter {
        ch: char,
    },
    EdgeHyphen {
        label: String,
    },
    IpLiteral,
    /// One label only, such as `localhost`.
    SingleLabel {
        name: String,
    },
    /// UTS #46 processing failed; `label` (escaped) is the first label that fails on its own.
    InvalidIdn {
        label: Option<String>,
    },
    /// An `xn--` label that is not a valid A-label.
    InvalidALabel {
        label: String,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the name is empty"),
            Self::TooLong { len } => write!(
                f,
                "the name is {len} characters long (at most {MAX_NAME_LEN})"
            ),
            Self::EmptyLabel => {
                f.write_str("the name has an empty label (two dots in a row, or a leading dot)")
            }
            Self::LabelTooLong { label } => write!(
                f,
                "the label `{label}` is {} characters long (at most {MAX_LABEL_LEN})",
                label.len()
            ),
            Self::BadCharacter { ch: '_' } => f.write_str(
                "`_` is not allowed in a mail domain (only letters, digits and hyphens); \
                 give the domain itself, not a record name such as _mta-sts.example.com",
            ),
            Self::BadCharacter { ch: ' ' } => f.write_str(
                "a space is not allowed in a mail domain (only letters, digits and hyphens)",
            ),
            Self::BadCharacter { ch } => write!(
                f,
                "`{}` is not allowed in a mail domain (only letters, digits and hyphens)",
                escape_str(ch.encode_utf8(&mut [0; 4]))
            ),
            Self::EdgeHyphen { label } => {
                write!(f, "the label `{label}` starts or ends with a hyphen")
            }
            Self::IpLiteral => f.write_str(
                "an IP address is not a mail domain (no top-level domain is all digits)",
            ),
            Self::SingleLabel { name } => write!(
                f,
                "`{name}` has a single label; a mail domain on the public internet has at least \
                 two (example.com)"
            ),
            Self::InvalidIdn { label: Some(label) } => write!(
                f,
                "`{label}` is not a valid internationalised label (UTS #46 with STD3 rules)"
            ),
            Self::InvalidIdn { label: None } => {
                f.write_str("not a valid internationalised domain name (UTS #46 with STD3 rules)")
            }
            Self::InvalidALabel { label } => {
                write!(f, "`{label}` is not a valid A-label (bad Punycode or IDNA)")
            }
        }
    }
}

impl std::error::Error for NameError {}

/// Normalises a domain name given by a user: trims it, drops one trailing dot, converts an
/// internationalised name to A-labels (UTS #46 ToASCII with STD3 rules, which also folds case),
/// lower-cases it, and checks that it can be the domain of a mail address on the public
/// internet: LDH labels of 1 to 63 characters, at most 253 in all, at least two labels, not an
/// IP address. Underscore is rejected: it appears in DNS record names (`_mta-sts.`), never in a
/// mail domain.
fn normalize_mail_domain(input: &str) -> Result<String, NameError> {
    let trimmed = input.trim();
    let had_trailing_dot = trimmed.ends_with('.');
    let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    // Only IPv6 addresses contain a colon; `[192.0.2.1]` is an SMTP address literal.
    if name.contains(':') || (name.starts_with('[') && name.ends_with(']')) {
        return Err(NameError::IpLiteral);
    }
    if name.len() > MAX_RAW_NAME_BYTES {
        return Err(NameError::TooLong {
            len: name.chars().count(),
        });
    }
    // ASCII characters keep their meaning through UTS #46, so a bad one gets a precise message
    // here rather than IDNA's bare "failed".
    if let Some(ch) = name
        .chars()
        .find(|ch| ch.is_ascii() && !is_ldh(*ch) && *ch != '.')
    {
        return Err(NameError::BadCharacter { ch });
    }
    let ascii = if name.is_ascii() {
        let lower = name.to_ascii_lowercase();
        check_labels(&lower, Rules::MAIL_DOMAIN)?;
        if let Some(label) = lower
            .split('.')
            .find(|label| label.starts_with("xn--") && !is_valid_a_label(label))
        {
            return Err(NameError::InvalidALabel {
                label: label.to_owned(),
            });
        }
        lower
    } else {
        let converted = to_a_labels(name).ok_or_else(|| NameError::InvalidIdn {
            label: name
                .split('.')
                .find(|label| to_a_labels(label).is_none())
                .map(escape_str),
        })?;
        // UTS #46 maps the ideographic full stop to `.`, so a dot can appear only now.
        let converted = match converted.strip_suffix('.') {
            Some(stripped) if !had_trailing_dot => stripped.to_owned(),
            _ => converted,
        };
        check_labels(&converted, Rules::MAIL_DOMAIN)?;
        converted
    };
    Ok(ascii)
}

fn is_ldh(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '-'
}

/// UTS #46 ToASCII with the STD3 deny list. Hyphen positions and lengths are left to
/// [`check_labels`], which words the problem better; `None` when processing fails.
fn to_a_labels(name: &str) -> Option<String> {
    idna::uts46::Uts46::new()
        .to_ascii(
            name.as_bytes(),
            idna::uts46::AsciiDenyList::STD3,
            idna::uts46::Hyphens::Allow,
            idna::uts46::DnsLength::Ignore,
        )
        .ok()
        .map(|cow| cow.into_owned())
}

/// An `xn--` label is valid when UTS #46 decodes it and gives it back unchanged.
fn is_valid_a_label(label: &str) -> bool {
    to_a_labels(label).is_some_and(|again| again == label)
}

/// What [`check_labels`] allows beyond letters, digits and hyphens.
#[derive(Clone, Copy, Debug)]
struct Rules {
    underscore: bool,
    /// A mail domain on the public internet has at least two labels.
    min_labels: usize,
}

impl Rules {
    const MAIL_DOMAIN: Self = Self {
        underscore: false,
        min_labels: 2,
    };
    const HOST_NAME: Self = Self {
        underscore: true,
        min_labels: 1,
    };
}

/// The host name rule for a lower-case ASCII name without a trailing dot.
fn check_labels(name: &str, rules: Rules) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return Err(NameError::IpLiteral);
    }
    if let Some(ch) = name
        .chars()
        .find(|&ch| !(is_ldh(ch) || ch == '.' || (rules.underscore && ch == '_')))
    {
        return Err(NameError::BadCharacter { ch });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: name.len() });
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong {
                label: label.to_owned(),
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(NameError::EdgeHyphen {
                label: label.to_owned(),
            });
        }
    }
    // No top-level domain is all digits (RFC 3696 §2), so this is an IPv4 address.
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(NameError::IpLiteral);
    }
    if name.split('.').count() < rules.min_labels {
        return Err(NameError::SingleLabel {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Names in messages are cut to this many characters: a 253-character name drowns the sentence.
const MAX_NAME_IN_MESSAGE: usize = 80;

/// `name` escaped and cut to [`MAX_NAME_IN_MESSAGE`] characters.
fn shortened(name: &str) -> String {
    let escaped = escape_str(name);
    if escaped.chars().count() <= MAX_NAME_IN_MESSAGE {
        return escaped;
    }
    let cut: String = escaped.chars().take(MAX_NAME_IN_MESSAGE).collect();
    format!("{cut}…")
}

impl NameError {
    /// The problem worded for a host name read from DNS (an MX target): "it contains `@`, which
    /// host names cannot have".
    pub fn host_problem(&self) -> String {
        match self {
            Self::Empty => "it is empty".to_owned(),
            Self::IpLiteral => "it is an IP address, not a host name (RFC 5321 §5.1)".to_owned(),
            Self::TooLong { len } => {
                format!("it is {len} characters long (at most {MAX_NAME_LEN})")
            }
            Self::BadCharacter { ch } => format!(
                "it contains `{}`, which host names cannot have",
                escape_str(ch.encode_utf8(&mut [0; 4]))
            ),
            Self::EmptyLabel => "it has an empty label".to_owned(),
            Self::LabelTooLong { label } => format!(
                "a label is {} characters long (at most {MAX_LABEL_LEN})",
                label.len()
            ),
            Self::EdgeHyphen { label } => {
                format!("the label `{label}` starts or ends with a hyphen")
            }
            Self::SingleLabel { .. } | Self::InvalidIdn { .. } | Self::InvalidALabel { .. } => {
                self.to_string()
            }
        }
    }
}

/// A mail domain: valid, lower-case A-labels, no trailing dot, at least two labels.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// Normalises a domain name given by a user: trims it, drops one trailing dot, converts an
    /// internationalised name to A-labels (UTS #46 ToASCII with STD3 rules, which also folds
    /// case), lower-cases it, and checks that it can be the domain of a mail address on the
    /// public internet: LDH labels of 1 to 63 characters, at most 253 in all, at least two
    /// labels, not an IP address. Underscore is rejected: it appears in DNS record names
    /// (`_mta-sts.`), never in a mail domain.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        normalize_mail_domain(input).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `_mta-sts.D`, where the MTA-STS TXT record lives (RFC 8461 §3.1).
    pub fn sts_record(&self) -> String {
        format!("_mta-sts.{self}")
    }

    /// `mta-sts.D`, the policy host (RFC 8461 §3.3).
    pub fn policy_host(&self) -> HostName {
        HostName(format!("mta-sts.{self}"))
    }

    /// `_smtp._tls.D`, where the TLS-RPT TXT record lives (RFC 8460 §3).
    pub fn tlsrpt_record(&self) -> String {
        format!("_smtp._tls.{self}")
    }

    /// Names where people misplace the `_mta-sts` record.
    pub fn misplaced_sts_records(&self) -> Vec<String> {
        vec![
            format!("mta-sts.{self}"),
            format!("__mta-sts.{self}"),
            self.0.clone(),
        ]
    }

    /// Names where people misplace the `_smtp._tls` record.
    pub fn misplaced_tlsrpt_records(&self) -> Vec<String> {
        ["smtp.tls", "_smtp_tls", "_smtp.tls", "smtp._tls"]
            .iter()
            .map(|prefix| format!("{prefix}.{self}"))
            .collect()
    }

    /// The domain as a host name (the implicit MX of a domain without MX records).
    pub fn as_host(&self) -> HostName {
        HostName(self.0.clone())
    }
}

impl std::str::FromStr for DomainName {
    type Err = NameError;

    fn from_str(input: &str) -> Result<Self, NameError> {
        Self::parse(input)
    }
}

/// A host name read from DNS (an MX target) or built from a domain: valid by the one host name
/// rule, `_` allowed, lower case, no trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostName(String);

impl HostName {
    /// Takes a name as DNS gave it (already lower case, without the trailing dot). A name from
    /// the wire is never Unicode: IDNs arrive as A-labels, and odd bytes arrive escaped
    /// (`\032`), which fail here.
    pub fn parse(name: &str) -> Result<Self, NameError> {
        check_labels(name, Rules::HOST_NAME)?;
        Ok(Self(name.to_owned()))
    }

    /// Like [`HostName::parse`], with the problem as one sentence naming the MX target.
    pub fn parse_mx_target(name: &str) -> Result<Self, String> {
        Self::parse(name).map_err(|error| {
            format!(
                "the MX target `{}` is not a valid host name: {}",
                shortened(name),
                error.host_problem()
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `_25._tcp.MX`, where DANE TLSA records for SMTP live (RFC 7672 §2.2).
    pub fn tlsa_record(&self) -> String {
        format!("_25._tcp.{self}")
    }
}

macro_rules! name_type_traits {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> Self {
                name.0
            }
        }

        /// A validated name reads as the text it is.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

name_type_traits!(DomainName);
name_type_traits!(HostName);

/// Read back only in the normalised form written: anything else is an error, never rewritten.
impl<'de> Deserialize<'de> for DomainName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match Self::parse(&text) {
            Ok(name) if name.0 == text => Ok(name),
            Ok(name) => Err(serde::de::Error::custom(format!(
                "the domain `{}` is not in normalised form (`{name}`)",
                escape_str(&text)
            ))),
            Err(error) => Err(serde::de::Error::custom(format!(
                "`{}` is not a mail domain: {error}",
                escape_str(&text)
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for HostName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(|error| {
            serde::de::Error::custom(format!(
                "`{}` is not a host name: {}",
                escape_str(&text),
                error.host_problem()
            ))
        })
    }
}

/// Whether a certificate whose subjectAltName DNS names are `dns_names` is valid for `host`, as
/// a sender checks it (RFC 9525 §6.3, which replaces RFC 6125 §6.4): names compare in ASCII
/// case-insensitively, without a trailing dot; a wildcard is only `*` as the whole leftmost
/// label of a name with at least two labels after it, and stands for exactly one label (so
/// `*.example.com` covers `mx.example.com` but neither `example.com` nor `a.mx.example.com`);
/// partial wildcards (`m*.example.com`) and wildcards in other labels match nothing. The
/// subject's common name is never consulted. `Err` says, in one sentence, why not.
///
/// This is the pure form of the TLS verifier's name check, used where one observed session
/// stands for several MX names at one address ([`crate::observe::SharedFrom`]).
pub fn san_matches(host: &str, dns_names: &[String]) -> Result<(), String> {
    let wanted = host.trim_end_matches('.').to_ascii_lowercase();
    if dns_names
        .iter()
        .any(|presented| dns_id_matches(&wanted, presented))
    {
        return Ok(());
    }
    let shown = if dns_names.is_empty() {
        "none".to_owned()
    } else {
        escape_str(&dns_names.join(", "))
    };
    Err(format!(
        "no subjectAltName DNS name of the certificate covers {} (presented: {shown})",
        escape_str(&wanted)
    ))
}

/// One presented DNS-ID against a lower-case reference name (RFC 9525 §6.3).
fn dns_id_matches(wanted: &str, presented: &str) -> bool {
    let presented = presented.trim_end_matches('.').to_ascii_lowercase();
    if wanted.is_empty() || presented.is_empty() {
        return false;
    }
    let Some(rest) = presented.strip_prefix("*.") else {
        // No wildcard at all may appear elsewhere (partial or inner wildcards match nothing).
        return !presented.contains('*') && presented == wanted;
    };
    // `*.com` and `*.` cover too much to be honoured; `*.a.*.b` is malformed.
    if rest.contains('*') || rest.split('.').filter(|label| !label.is_empty()).count() < 2 {
        return false;
    }
    match wanted.split_once('.') {
        // The wildcard stands for exactly one non-empty label.
        Some((first, parent)) => !first.is_empty() && parent == rest,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_from_answers_are_checked() {
        let long_label = "a".repeat(64);
        let long_name = vec!["abcdefghi"; 30].join(".");
        let cases: &[(&str, Option<&str>)] = &[
            ("mx1.example.com", None),
            ("mx_1.example.com", None),
            ("xn--bcher-kva.example", None),
            ("localhost", None),
            ("", Some("it is empty")),
            ("192.0.2.1", Some("IP address")),
            ("[192.0.2.1]", Some("IP address")),
            ("2001:db8::1", Some("IP address")),
            ("a..example", Some("empty label")),
            (".example", Some("empty label")),
            ("-mx.example", Some("hyphen")),
            ("mx-.example", Some("hyphen")),
            ("mx\\032.example", Some("contains `\\\\`")),
            ("mx example", Some("contains ` `")),
            ("bücher.example", Some("contains `ü`")),
            ("mx@example", Some("contains `@`")),
            (&long_label, Some("a label is 64 characters")),
            (&long_name, Some("299 characters long")),
        ];
        for (input, expected) in cases {
            match (HostName::parse_mx_target(input).map(|_| ()), expected) {
                (Ok(()), None) => {}
                (Err(reason), Some(part)) => {
                    assert!(reason.contains(part), "{input:?}: {reason}");
                    assert!(reason.starts_with("the MX target `"), "{reason}");
                    assert!(reason.chars().count() < 200, "{reason}");
                }
                (other, _) => panic!("{input:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn record_names_are_built_from_the_domain() {
        let domain = DomainName::parse("Example.ORG.").unwrap();
        assert_eq!(domain.as_str(), "example.org");
        assert_eq!(domain.sts_record(), "_mta-sts.example.org");
        assert_eq!(domain.policy_host().as_str(), "mta-sts.example.org");
        assert_eq!(domain.tlsrpt_record(), "_smtp._tls.example.org");
        let mx = HostName::parse("mx1.example.org").unwrap();
        assert_eq!(mx.tlsa_record(), "_25._tcp.mx1.example.org");
    }

    #[test]
    fn one_rule_two_strictnesses() {
        // A mail domain a person types: no underscore, two labels at least.
        assert_eq!(
            DomainName::parse("mx_1.example.com"),
            Err(NameError::BadCharacter { ch: '_' })
        );
        assert!(matches!(
            DomainName::parse("localhost"),
            Err(NameError::SingleLabel { .. })
        ));
        // A host name from DNS: both are names senders use.
        assert!(HostName::parse("mx_1.example.com").is_ok());
        assert!(HostName::parse("localhost").is_ok());
        // Neither is ever an IP address.
        assert_eq!(DomainName::parse("192.0.2.1"), Err(NameError::IpLiteral));
        assert_eq!(HostName::parse("192.0.2.1"), Err(NameError::IpLiteral));
    }

    #[test]
    fn names_read_back_only_in_normalised_form() {
        let name: DomainName = serde_json::from_str("\"example.org\"").unwrap();
        assert_eq!(name, "example.org");
        let error = serde_json::from_str::<DomainName>("\"Example.org\"").unwrap_err();
        assert!(
            error.to_string().contains("not in normalised form"),
            "{error}"
        );
        let error = serde_json::from_str::<DomainName>("\"a..b\"").unwrap_err();
        assert!(error.to_string().contains("empty label"), "{error}");
        assert!(serde_json::from_str::<HostName>("\"mx@x\"").is_err());
    }
    #[test]
    fn san_matching_follows_rfc_9525() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        // (host, presented names, matches)
        let cases: [(&str, &[&str], bool); 14] = [
            ("mx.example.com", &["mx.example.com"], true),
            ("MX.Example.COM.", &["mx.example.com."], true),
            ("mx.example.com", &["*.example.com"], true),
            (
                "a.mail.protection.example",
                &["*.mail.protection.example"],
                true,
            ),
            // One label only, and not the parent itself.
            ("a.mx.example.com", &["*.example.com"], false),
            ("example.com", &["*.example.com"], false),
            // Partial and inner wildcards match nothing.
            ("mx.example.com", &["m*.example.com"], false),
            ("mx.example.com", &["mx.*.com"], false),
            // Too broad to honour.
            ("example.com", &["*.com"], false),
            ("mx.example.com", &["*.*.com"], false),
            ("mx.example.com", &[], false),
            (
                "mx.example.com",
                &["other.example.com", "*.example.com"],
                true,
            ),
            ("mx.example.com", &["mx.example.org"], false),
            ("mx.example.com", &[""], false),
        ];
        for (host, presented, expected) in cases {
            assert_eq!(
                san_matches(host, &names(presented)).is_ok(),
                expected,
                "{host} against {presented:?}"
            );
        }
        let reason = san_matches("mx.example.com", &names(&["a.example.org"])).unwrap_err();
        assert_eq!(
            reason,
            "no subjectAltName DNS name of the certificate covers mx.example.com (presented: \
             a.example.org)"
        );
    }
}
