//! The `_smtp._tls` TXT record (RFC 8460 §3).

use crate::model::Problem;
use crate::observe::TxtRecord;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsRptRecord {
    /// The report URIs as written.
    pub rua: Vec<String>,
    pub extensions: Vec<(String, String)>,
}

impl TlsRptRecord {
    /// The domains of the `mailto:` URIs, lower-cased.
    pub fn mailto_domains(&self) -> Vec<String> {
        todo!()
    }
}

/// Filters and parses the TXT RRs at `_smtp._tls.D`; problems of the `tlsrpt.*` checks other than
/// `tlsrpt.present` and `tlsrpt.mailto-domain`.
pub fn analyse_tlsrpt_records(_records: &[TxtRecord]) -> (Option<TlsRptRecord>, Vec<Problem>) {
    todo!()
}
