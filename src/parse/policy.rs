//! The policy file (RFC 8461 §3.2), parsed strictly, with line numbers.

use super::mx_pattern::MxPattern;
use crate::model::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Testing,
    None,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Testing => "testing",
            Self::None => "none",
        }
    }
}

/// The fields found; with `valid == false` a strict sender rejects the policy as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub version: Option<String>,
    pub mode: Option<Mode>,
    pub max_age: Option<u64>,
    pub mx: Vec<MxPattern>,
    /// Fields the RFC does not define, with their 1-based line numbers.
    pub extensions: Vec<(usize, String, String)>,
    pub valid: bool,
}

/// Parses a policy body and reports every problem of the `policy.*` RFC checks.
pub fn parse_policy(_body: &[u8]) -> (Policy, Vec<Problem>) {
    todo!()
}
