//! Report destinations known to have closed, kept as data beside the [catalog](crate::catalog):
//! a TLS-RPT `rua` that still points at one sends the domain's reports to no one
//! (`tlsrpt.rua-retired`). Add a row when a service closes; never remove one.

use crate::tlsrpt_report::date::Day;

/// A reporting address that no longer reads what it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetiredDestination {
    /// The `mailto:` address, lower case.
    pub address: &'static str,
    /// The service that read it.
    pub service: &'static str,
    /// The day the service closed, `YYYY-MM-DD` (UTC).
    pub closed: &'static str,
    /// Where that is said, and who still gives the address.
    pub source: &'static str,
}

impl RetiredDestination {
    /// The day the service closed.
    pub fn closed_on(&self) -> Option<Day> {
        Day::parse(self.closed).ok()
    }
}

/// Every known retired destination.
pub static RETIRED: &[RetiredDestination] = &[RetiredDestination {
    address: "tls-rua@mailcheck.service.ncsc.gov.uk",
    service: "NCSC Mail Check",
    closed: "2026-03-31",
    source: "the NCSC closed its Mail Check service on 31 March 2026; the NCSC guide \"Set up \
             TLS-RPT and MTA-STS\" (§1) still gives this address",
}];

/// The retired destination `address` (a `mailto:` address, any case) names, if any.
pub fn find(address: &str) -> Option<&'static RetiredDestination> {
    RETIRED
        .iter()
        .find(|retired| retired.address.eq_ignore_ascii_case(address.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_a_date_and_a_source() {
        for retired in RETIRED {
            assert!(retired.closed_on().is_some(), "{}", retired.address);
            assert!(retired.source.len() > 20, "{}", retired.address);
            assert_eq!(retired.address, retired.address.to_ascii_lowercase());
        }
    }

    #[test]
    fn the_ncsc_mail_check_mailbox_is_retired_in_any_case() {
        let found = find("TLS-RUA@mailcheck.service.ncsc.gov.uk").unwrap();
        assert_eq!(found.service, "NCSC Mail Check");
        assert_eq!(found.closed_on(), Day::from_ymd(2026, 3, 31));
        assert!(find("tls-rua@example.gov.uk").is_none());
    }
}
