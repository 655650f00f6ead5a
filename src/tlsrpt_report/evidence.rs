//! A [`Summary`] turned into the per-domain [`ReportsEvidence`] that `mtasts check --reports`
//! puts into each domain's observations, for the `reports.*` checks. Pure: the reading is done
//! by [`super::read_and_summarise`] at the edge.

use std::collections::BTreeMap;

use super::date::Day;
use super::summary::{DomainSummary, Summary};
use crate::observe::{ReportDay, ReportFailure, ReportsEvidence, UnreadableInput};

/// The reports of one run, ready to hand to each audited domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportsByDomain {
    /// What a domain with no report gets: the run's counts, no days.
    base: ReportsEvidence,
    domains: BTreeMap<String, ReportsEvidence>,
}

impl ReportsByDomain {
    /// Splits `summary` (read from `since` up to `today`) by policy domain.
    pub fn new(summary: &Summary, since: Day, today: Day) -> Self {
        let base = ReportsEvidence {
            since,
            read_on: today,
            files_read: summary.files_read,
            duplicates: u64::try_from(summary.duplicates.len()).unwrap_or(u64::MAX),
            unreadable: summary
                .unreadable
                .iter()
                .take(ReportsEvidence::MAX_UNREADABLE)
                .map(|unreadable| UnreadableInput {
                    path: unreadable.path.clone(),
                    reason: unreadable.reason.clone(),
                })
                .collect(),
            unreadable_count: summary.unreadable.len(),
            ..ReportsEvidence::default()
        };
        let domains = summary
            .domains
            .iter()
            .filter_map(|domain| {
                let name = domain.policy_domain.clone()?;
                Some((name, for_domain(&base, domain)))
            })
            .collect();
        Self { base, domains }
    }

    /// The evidence for `domain` (lower case, no trailing dot); without reports, only the run's
    /// counts.
    pub fn get(&self, domain: &str) -> ReportsEvidence {
        self.domains
            .get(domain)
            .cloned()
            .unwrap_or_else(|| self.base.clone())
    }
}

fn for_domain(base: &ReportsEvidence, domain: &DomainSummary) -> ReportsEvidence {
    let days = domain
        .daily
        .iter()
        .map(|(&day, tally)| ReportDay {
            day,
            successful: tally.successful,
            failed: tally.failed,
            failures: tally
                .failures
                .iter()
                .flat_map(|(result_type, failure)| {
                    failure
                        .by_mx
                        .iter()
                        .map(move |(mx, &sessions)| ReportFailure {
                            result_type: result_type.clone(),
                            mx: mx.clone(),
                            sessions,
                        })
                })
                .collect(),
        })
        .collect();
    ReportsEvidence {
        reports: domain.reports,
        covered_days: domain.days.iter().copied().collect(),
        organizations: domain.organizations.clone(),
        days,
        mx_patterns: domain.mx_patterns.iter().cloned().collect(),
        modes: domain.modes.iter().cloned().collect(),
        ..base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlsrpt_report::model::ResultType;
    use crate::tlsrpt_report::parse::parse_report;
    use crate::tlsrpt_report::summary::{Collector, Window};

    fn report(organization: &str, id: &str, day: &str, failed: u64) -> Vec<u8> {
        format!(
            r#"{{"organization-name":"{organization}","date-range":{{"start-datetime":"{day}T00:00:00Z","end-datetime":"{day}T23:59:59Z"}},"contact-info":null,"report-id":"{id}","policies":[{{"policy":{{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: mx.example.com"],"policy-domain":"example.com","mx-host":["mx.example.com"]}},"summary":{{"total-successful-session-count":90,"total-failure-session-count":{failed}}},"failure-details":[{{"result-type":"certificate-expired","receiving-mx-hostname":"mx.example.com","failed-session-count":{failed}}}]}}]}}"#
        )
        .into_bytes()
    }

    #[test]
    fn a_summary_splits_into_per_domain_evidence() {
        let today = Day::parse("2025-03-10").unwrap();
        let since = today.plus(-29);
        let mut collector = Collector::new(Window {
            since: Some(since),
            domain: None,
        });
        for (organization, id, day, failed) in [
            ("Google", "g1", "2025-03-08", 0),
            ("Microsoft", "m1", "2025-03-09", 3),
            ("Microsoft", "m1", "2025-03-09", 3),
        ] {
            let parsed = parse_report(&report(organization, id, day, failed)).unwrap();
            collector.add(id, &parsed);
        }
        collector.unreadable("junk.txt", "not a report".to_owned());
        let mut summary = collector.finish();
        summary.files_read = 4;

        let by_domain = ReportsByDomain::new(&summary, since, today);
        let evidence = by_domain.get("example.com");
        assert_eq!((evidence.since, evidence.read_on), (since, today));
        assert_eq!(evidence.reports, 2);
        assert_eq!(evidence.duplicates, 1);
        assert_eq!(evidence.files_read, 4);
        assert_eq!(evidence.organizations.len(), 2);
        assert_eq!(
            evidence.covered_days,
            [
                Day::parse("2025-03-08").unwrap(),
                Day::parse("2025-03-09").unwrap()
            ]
        );
        assert_eq!(evidence.days.len(), 2);
        assert_eq!(evidence.days[1].failed, 3);
        assert_eq!(
            evidence.days[1].failures,
            [ReportFailure {
                result_type: ResultType::CertificateExpired,
                mx: Some("mx.example.com".to_owned()),
                sessions: 3,
            }]
        );
        assert_eq!(evidence.mx_patterns, ["mx.example.com"]);
        assert_eq!(evidence.modes, ["testing"]);
        assert_eq!(evidence.unreadable_count, 1);
        assert_eq!(evidence.unreadable[0].path, "junk.txt");

        // A domain without reports still knows what was read.
        let other = by_domain.get("other.test");
        assert_eq!((other.reports, other.files_read), (0, 4));
        assert!(other.days.is_empty() && other.covered_days.is_empty());
        assert_eq!(other.unreadable_count, 1);

        // The evidence travels as plain JSON: days as dates, result types as the RFC's words.
        let json = serde_json::to_value(&evidence).unwrap();
        assert_eq!(json["days"][1]["day"], "2025-03-09");
        assert_eq!(
            json["days"][1]["failures"][0]["result_type"],
            "certificate-expired"
        );
        let back: ReportsEvidence = serde_json::from_value(json).unwrap();
        assert_eq!(back, evidence);
    }
}
