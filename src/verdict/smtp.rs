//! Stage 5: STARTTLS and certificates of every MX address.

use super::{Context, Findings};
use crate::observe::Observations;

/// Judges `smtp.*` for every probed MX address.
pub fn judge(_obs: &Observations, _ctx: &Context, _out: &mut Findings) {
    todo!()
}
