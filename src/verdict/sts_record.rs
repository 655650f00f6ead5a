//! Stage 1: the `_mta-sts` TXT record.

use super::Findings;
use crate::observe::Observations;
use crate::parse::sts_record::StsRecord;

/// Judges `sts-record.*`; returns the record a strict sender would use.
pub fn judge(_obs: &Observations, _out: &mut Findings) -> Option<StsRecord> {
    todo!()
}
