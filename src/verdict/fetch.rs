//! Stage 2: the policy host's addresses and the HTTPS fetch from each.

use super::{Context, Findings};
use crate::observe::Observations;

/// Judges `policy-host.*` and `policy-fetch.*`; returns the body a sender would parse.
pub fn judge(_obs: &Observations, _ctx: &Context, _out: &mut Findings) -> Option<Vec<u8>> {
    todo!()
}
