//! The `_mta-sts` TXT record (RFC 8461 §3.1).

use crate::model::Problem;
use crate::observe::TxtRecord;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsRecord {
    pub id: String,
    pub extensions: Vec<(String, String)>,
}

/// Filters the TXT RRs at `_mta-sts.D` as RFC 8461 §3.1 says (join strings, keep those that begin
/// with `v=STSv1;`, exactly one must remain) and parses the survivor.
///
/// Returns the record a strict sender would use, if any, and the problems of the `sts-record.*`
/// checks other than `sts-record.present`.
pub fn analyse_sts_records(_records: &[TxtRecord]) -> (Option<StsRecord>, Vec<Problem>) {
    todo!()
}
