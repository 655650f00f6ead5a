//! Stage 3: the policy file, strictly, plus the guidance (SGE, NCSC) that applies to it.

use super::{Context, Findings};
use crate::parse::policy::Policy;

/// Judges `policy.*` on the body a sender would use; `None` means no policy was fetched, and every
/// policy check is skipped. Returns the policy if a strict sender would accept it.
pub fn judge(_body: Option<&[u8]>, _ctx: &Context, _out: &mut Findings) -> Option<Policy> {
    todo!()
}

/// Lints a policy file on its own (`mtasts lint`): the `policy.*` checks under `profile`, about
/// the file as a whole ([`crate::model::Subject::Domain`]).
pub fn lint(_body: &[u8], _profile: crate::catalog::Profile) -> Vec<crate::model::Finding> {
    todo!()
}
