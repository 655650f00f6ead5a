//! The per-domain deadline: a problem found only because the deadline cut a question short says
//! nothing about the domain. The probe records what it cut ([`DeadlineCut`]); this turns the
//! findings that rest on it into "could not determine".

use crate::model::{Finding, Outcome, Subject};
use crate::observe::DeadlineCut;

/// Every problem about an address whose
/// fetch or probe was cut, and every problem whose text quotes the deadline.
pub fn blame_the_deadline(findings: &mut [Finding], cut: &DeadlineCut) {
    let reason = cut.reason.as_str();
    for finding in findings {
        if !matches!(finding.outcome, Outcome::Fail | Outcome::Warn) {
            continue;
        }
        let cut_endpoint = matches!(finding.subject, Subject::Endpoint { .. })
            && cut.endpoints.contains(&finding.subject);
        let quotes_deadline = finding.summary.contains(reason)
            || finding
                .evidence
                .iter()
                .any(|evidence| evidence.value.contains(reason));
        if cut_endpoint || quotes_deadline {
            finding.outcome = Outcome::CouldNotDetermine {
                reason: reason.to_owned(),
            };
            finding.summary = format!("could not determine: {reason}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::catalog::CheckId;
    use crate::model::Evidence;

    #[test]
    fn only_problems_resting_on_the_deadline_are_excused() {
        let reason = "the domain's deadline of 2 s (--domain-timeout) passed".to_owned();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let finding = |check, subject, outcome, summary: &str, evidence: &str| Finding {
            check,
            subject,
            outcome,
            summary: summary.to_owned(),
            evidence: vec![Evidence::new("detail", evidence)],
            ignored: None,
        };
        let endpoint = Subject::endpoint("mta-sts.a.test", ip);
        let other = Subject::endpoint("mta-sts.a.test", "192.0.2.2".parse().unwrap());
        let mut findings = vec![
            // Cut endpoint: excused.
            finding(
                CheckId::PolicyFetchConnect,
                endpoint.clone(),
                Outcome::Fail,
                "timed out",
                "",
            ),
            // Quotes the deadline: excused.
            finding(
                CheckId::PolicyFetchConsistent,
                Subject::host("mta-sts.a.test"),
                Outcome::Warn,
                "differ",
                &format!("no response (deadline step: {reason})"),
            ),
            // A real problem elsewhere stays.
            finding(
                CheckId::PolicyFetchConnect,
                other,
                Outcome::Fail,
                "refused",
                "refused",
            ),
            // A pass stays a pass.
            finding(
                CheckId::PolicyHostResolves,
                endpoint,
                Outcome::Pass,
                "ok",
                "",
            ),
        ];
        blame_the_deadline(
            &mut findings,
            &DeadlineCut {
                reason: reason.clone(),
                endpoints: vec![Subject::endpoint("mta-sts.a.test", ip)],
            },
        );
        let labels: Vec<&str> = findings.iter().map(|f| f.outcome.label()).collect();
        assert_eq!(
            labels,
            ["could-not-determine", "could-not-determine", "fail", "pass"]
        );
        assert_eq!(
            findings[0].summary,
            format!("could not determine: {reason}")
        );
    }
}
