//! Certificate checks shared by the policy host and the MX hosts.

use super::{Context, Findings};
use crate::catalog::CheckId;
use crate::model::Subject;
use crate::observe::TlsObservation;

/// The check IDs one kind of TLS peer reports its certificate under.
#[derive(Clone, Copy, Debug)]
pub struct CertChecks {
    pub trusted: CheckId,
    pub name: CheckId,
    pub expiry: CheckId,
    pub expiring: CheckId,
}

/// Judges the four certificate checks for one TLS session.
pub fn judge(
    _tls: &TlsObservation,
    _checks: CertChecks,
    _subject: &Subject,
    _ctx: &Context,
    _out: &mut Findings,
) {
    todo!()
}
