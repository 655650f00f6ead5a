//! Stage 4: MX hosts, and each against the policy's `mx` patterns (RFC 8461 §4.1).

use super::Findings;
use crate::observe::Observations;
use crate::parse::policy::Policy;

/// Judges `mx.*`; returns the MX host names.
pub fn judge(_obs: &Observations, _policy: Option<&Policy>, _out: &mut Findings) -> Vec<String> {
    todo!()
}
