//! Stage 6: the TLS-RPT record.

use super::Findings;
use crate::observe::Observations;

/// Judges `tlsrpt.*`; returns the rua URIs of the record a sender would use.
pub fn judge(_obs: &Observations, _out: &mut Findings) -> Vec<String> {
    todo!()
}
