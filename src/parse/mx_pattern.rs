//! `mx` patterns of a policy and how they match MX host names (RFC 8461 §3.2, §4.1).
//!
//! A pattern is `["*."] Domain` with `Domain` from RFC 5321 §4.1.2: labels of letters, digits and
//! inner hyphens, in A-label form. Matching follows RFC 8461 §4.1 (with RFC 9525 §6.3 for the
//! wildcard): case-insensitive, and `*.` stands for exactly one non-empty label.

use crate::escape::escape_str;

/// Longest host name in text form (RFC 1035 §2.3.4: 255 octets on the wire, 253 as text).
const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// One `mx:` value: an exact host name or `*.` followed by a suffix that covers exactly one label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxPattern {
    pub wildcard: bool,
    /// Lower-case, without the `*.`.
    pub domain: String,
}

impl MxPattern {
    /// Parses a value against `["*."] Domain` (RFC 5321 §4.1.2); the error says what is wrong.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("the value is empty: write a host name such as `mail.example.com`".into());
        }
        if let Some(ch) = value.chars().find(|ch| !ch.is_ascii()) {
            return Err(format!(
                "`{}` contains the non-ASCII character `{}`: write internationalised names as A-labels (`xn--...`)",
                escape_str(value),
                escape_str(&ch.to_string())
            ));
        }
        if value.contains(',') || value.contains(|ch: char| ch.is_ascii_whitespace()) {
            return Err(format!(
                "`{}` is more than one name: write one MX per line, each on its own `mx:` line",
                escape_str(value)
            ));
        }
        if value.len() > MAX_NAME_LEN {
            return Err(format!(
                "the name is {} characters long, more than {MAX_NAME_LEN}",
                value.len()
            ));
        }
        let (wildcard, domain) = match value.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        if domain.contains('*') {
            return Err(format!(
                "`{}`: `*` is allowed only as the whole left-most label, followed by `.` (`*.example.com`)",
                escape_str(value)
            ));
        }
        if domain.is_empty() {
            return Err("`*.` must be followed by a domain name".into());
        }
        if domain.ends_with('.') {
            return Err(format!(
                "`{}` ends with a dot: drop the trailing `.` (the policy grammar has no root dot, and some senders then never match)",
                escape_str(value)
            ));
        }
        for label in domain.split('.') {
            check_label(label, value)?;
        }
        Ok(Self {
            wildcard,
            domain: domain.to_ascii_lowercase(),
        })
    }

    /// Whether `host` (an MX target, any case, trailing dot allowed) matches, with the one-label
    /// wildcard of RFC 8461 §4.1.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        if host.is_empty() {
            return false;
        }
        if !self.wildcard {
            return host == self.domain;
        }
        // `*.` covers exactly one non-empty label: never the bare suffix, never two labels.
        match host
            .strip_suffix(self.domain.as_str())
            .and_then(|rest| rest.strip_suffix('.'))
        {
            Some(label) => !label.is_empty() && !label.contains('.'),
            None => false,
        }
    }
}

/// One label of RFC 5321 `sub-domain = Let-dig [Ldh-str]`: letters, digits, inner hyphens.
fn check_label(label: &str, value: &str) -> Result<(), String> {
    let value = escape_str(value);
    if label.is_empty() {
        return Err(format!(
            "`{value}` has an empty label (a leading dot or two dots in a row)"
        ));
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(format!(
            "`{value}` has a label of {} characters, more than {MAX_LABEL_LEN}",
            label.len()
        ));
    }
    if label.contains('_') {
        return Err(format!(
            "`{value}` contains `_`, which host names cannot (RFC 5321 §4.1.2)"
        ));
    }
    if let Some(ch) = label
        .chars()
        .find(|ch| !ch.is_ascii_alphanumeric() && *ch != '-')
    {
        return Err(format!(
            "`{value}` contains `{}`: host names have only letters, digits, hyphens and dots",
            escape_str(&ch.to_string())
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!(
            "`{value}` has the label `{label}`, which starts or ends with a hyphen"
        ));
    }
    Ok(())
}

impl std::fmt::Display for MxPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_patterns() {
        let cases = [
            ("mail.example.com", false, "mail.example.com"),
            ("MAIL.Example.COM", false, "mail.example.com"),
            (
                "*.mail.protection.outlook.com",
                true,
                "mail.protection.outlook.com",
            ),
            ("*.com", true, "com"),
            ("localhost", false, "localhost"),
            ("xn--bcher-kva.example", false, "xn--bcher-kva.example"),
            ("mx-1.a1.example", false, "mx-1.a1.example"),
            ("1mx.example", false, "1mx.example"),
        ];
        for (input, wildcard, domain) in cases {
            let pattern = MxPattern::parse(input).unwrap_or_else(|err| panic!("{input}: {err}"));
            assert_eq!(pattern.wildcard, wildcard, "{input}");
            assert_eq!(pattern.domain, domain, "{input}");
        }
    }

    #[test]
    fn rejects_invalid_patterns_saying_why() {
        let long_label = format!("{}.example", "a".repeat(64));
        let long_name = format!("{}.example", vec!["a".repeat(60); 5].join("."));
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            // EC-41: trailing dot.
            ("mail.example.com.", "ends with a dot"),
            // EC-42: U-label.
            ("bücher.example", "non-ASCII"),
            // EC-43: underscore.
            ("mail_1.example.com", "`_`"),
            // POL-11: lists.
            ("a.example, b.example", "one MX per line"),
            ("a.example b.example", "one MX per line"),
            ("mx1.example mx: mx2.example", "one MX per line"),
            ("*example.com", "left-most label"),
            ("mx*.example.com", "left-most label"),
            ("a.*.example.com", "left-most label"),
            ("*", "left-most label"),
            ("*.", "followed by a domain"),
            ("*.*.example.com", "left-most label"),
            (".example.com", "empty label"),
            ("a..example.com", "empty label"),
            ("-mx.example.com", "hyphen"),
            ("mx-.example.com", "hyphen"),
            ("mx!.example.com", "contains `!`"),
            ("mx.example.com:25", "contains `:`"),
            (&long_label, "more than 63"),
            (&long_name, "more than 253"),
        ];
        for (input, needle) in cases {
            let err = MxPattern::parse(input).expect_err(input);
            assert!(err.contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for input in ["mail.example.com", "*.example.com"] {
            assert_eq!(MxPattern::parse(input).unwrap().to_string(), input);
        }
    }

    #[test]
    fn matches_per_rfc_8461_section_4_1() {
        let cases = [
            ("mail.example.com", "mail.example.com", true),
            ("mail.example.com", "MAIL.EXAMPLE.COM", true),
            ("mail.example.com", "mail.example.com.", true),
            ("mail.example.com", "mail.example.com..", false),
            ("mail.example.com", "other.example.com", false),
            ("mail.example.com", "xmail.example.com", false),
            ("mail.example.com", "", false),
            ("*.example.com", "mail.example.com", true),
            ("*.example.com", "Mail.Example.Com.", true),
            // EC-06: never the bare suffix.
            ("*.example.com", "example.com", false),
            ("*.example.com", ".example.com", false),
            // EC-07: exactly one label.
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", "mailexample.com", false),
            ("*.example.com", ".", false),
            // EC-03: `*.outlook.com` does not reach two labels down.
            ("*.outlook.com", "x.mail.protection.outlook.com", false),
            // EC-04: the exact provider suffix does.
            (
                "*.mail.protection.outlook.com",
                "contoso-com.mail.protection.outlook.com",
                true,
            ),
            // EC-05: a different suffix does not.
            (
                "*.mail.protection.outlook.com",
                "contoso-com.j-v1.mx.microsoft",
                false,
            ),
        ];
        for (pattern, host, expected) in cases {
            let parsed = MxPattern::parse(pattern).unwrap();
            assert_eq!(parsed.matches(host), expected, "{pattern} vs {host:?}");
        }
    }
}
