//! Where the domains of a run come from: arguments, `--file` lists and standard input, each name
//! normalised and validated (A-labels, lower case, no trailing dot); then `--shard` and
//! `--resume` pick which of them this run audits.
//!
//! Parsing is pure ([`parse_list`], [`normalize_domain`], [`Shard`], [`completed_domains`]);
//! [`gather`] does the file reading.

use std::fmt;

use crate::cli::InputArgs;

/// Why a domain name was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainError {
    Empty,
    TooLong { len: usize },
    EmptyLabel,
    LabelTooLong { label: String },
    NonAscii,
    BadCharacter { ch: char },
    EdgeHyphen { label: String },
    IpLiteral,
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the name is empty"),
            Self::TooLong { len } => write!(f, "the name is {len} characters long (at most 253)"),
            Self::EmptyLabel => {
                f.write_str("the name has an empty label (two dots in a row, or a leading dot)")
            }
            Self::LabelTooLong { label } => {
                write!(
                    f,
                    "the label `{label}` is {} characters long (at most 63)",
                    label.len()
                )
            }
            Self::NonAscii => f.write_str(
                "internationalised names are not converted yet; give the A-label (xn--) form",
            ),
            Self::BadCharacter { ch } => write!(
                f,
                "`{}` is not allowed (only letters, digits, hyphen and underscore)",
                ch.escape_debug()
            ),
            Self::EdgeHyphen { label } => {
                write!(f, "the label `{label}` starts or ends with a hyphen")
            }
            Self::IpLiteral => f.write_str("an IP address is not a mail domain"),
        }
    }
}

impl std::error::Error for DomainError {}

/// Normalises a domain given on the command line: trims it, lower-cases it, drops one trailing
/// dot, and checks that it can be a DNS host name.
pub fn normalize_domain(input: &str) -> Result<String, DomainError> {
    let trimmed = input.trim();
    let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if name.is_empty() {
        return Err(DomainError::Empty);
    }
    if !name.is_ascii() {
        return Err(DomainError::NonAscii);
    }
    let name = name.to_ascii_lowercase();
    // 253 characters of text is the 255-octet wire limit of RFC 1035 §2.3.4.
    if name.len() > 253 {
        return Err(DomainError::TooLong { len: name.len() });
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(DomainError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(DomainError::LabelTooLong {
                label: label.to_owned(),
            });
        }
        if let Some(ch) = label
            .chars()
            .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_'))
        {
            return Err(DomainError::BadCharacter { ch });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainError::EdgeHyphen {
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
        return Err(DomainError::IpLiteral);
    }
    Ok(name)
}

/// A line of input that is not a domain name; the run goes on without it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file name (`<stdin>`, or `argument` for a name on the command line).
    pub origin: String,
    /// 1-based line number within `origin`, for lists.
    pub line: Option<usize>,
    /// The offending text, escaped.
    pub text: String,
    pub reason: String,
}

/// The domains a run audits, in input order without duplicates, and the input it rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gathered {
    pub domains: Vec<String>,
    pub errors: Vec<InputError>,
    /// Domains left out because `--resume` found them already done.
    pub resumed: usize,
    /// Domains left out because they belong to another `--shard`.
    pub other_shards: usize,
}

/// Reads every input named by `args`, normalises, deduplicates, then applies `--shard` and
/// `--resume`. Errors only for what stops the run (an unreadable file, a bad `--shard`).
pub fn gather(args: &InputArgs) -> anyhow::Result<Gathered> {
    // TODO(issue 4): files, stdin, shard, resume.
    let mut gathered = Gathered::default();
    for name in &args.domains {
        match normalize_domain(name) {
            Ok(domain) if !gathered.domains.contains(&domain) => gathered.domains.push(domain),
            Ok(_) => {}
            Err(err) => anyhow::bail!("invalid domain {name:?}: {err}"),
        }
    }
    Ok(gathered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_accepted_names() {
        let cases = [
            ("example.com", "example.com"),
            ("  Example.COM.  ", "example.com"),
            ("_mta-sts.example.com", "_mta-sts.example.com"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("localhost", "localhost"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_domain(input).as_deref(),
                Ok(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_names() {
        let long_label = "a".repeat(64);
        let long_name = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
        ]
        .join(".");
        let cases: [(&str, DomainError); 9] = [
            ("", DomainError::Empty),
            (".", DomainError::Empty),
            ("example.com..", DomainError::EmptyLabel),
            ("a..b", DomainError::EmptyLabel),
            (".example.com", DomainError::EmptyLabel),
            (
                &long_label,
                DomainError::LabelTooLong {
                    label: long_label.clone(),
                },
            ),
            (&long_name, DomainError::TooLong { len: 255 }),
            ("bücher.example", DomainError::NonAscii),
            ("exa mple.com", DomainError::BadCharacter { ch: ' ' }),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_domain(input), Err(expected), "{input:?}");
        }
        assert!(matches!(
            normalize_domain("a/b.com"),
            Err(DomainError::BadCharacter { ch: '/' })
        ));
        assert!(normalize_domain("mx\r\nQUIT.example").is_err());
    }
}
