//! `mx` patterns of a policy and how they match MX host names (RFC 8461 §3.2, §4.1).

/// One `mx:` value: an exact host name or `*.` followed by a suffix that covers exactly one label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxPattern {
    pub wildcard: bool,
    /// Lower-case, without the `*.`.
    pub domain: String,
}

impl MxPattern {
    /// Parses a value against `["*."] Domain` (RFC 5321 §4.1.2); the error says what is wrong.
    pub fn parse(_value: &str) -> Result<Self, String> {
        todo!()
    }

    /// Whether `host` (an MX target, any case, trailing dot allowed) matches, with the one-label
    /// wildcard of RFC 8461 §4.1.
    pub fn matches(&self, _host: &str) -> bool {
        todo!()
    }
}

impl std::fmt::Display for MxPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.domain)
    }
}
