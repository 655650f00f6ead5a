//! Conclusions drawn from a domain's findings for the one-line summaries (the CSV columns, the
//! human header): decided here, with the verdict, so that no renderer judges anything.

use std::collections::BTreeSet;

use crate::catalog::{CheckId, Stage};
use crate::model::{Facts, Finding, Outcome};

/// Fills in the facts that summarise `findings`.
pub fn conclude(findings: &[Finding], facts: &mut Facts) {
    facts.mx_covered = mx_covered(findings);
    facts.starttls_ok = starttls_ok(findings);
    facts.tlsrpt_ok = tlsrpt_ok(findings);
}

/// How many MX hosts the policy matches: the hosts with a passing `mx.covered`; `None` when the
/// coverage was not evaluated (no valid policy, no MX host, `mode: none`).
fn mx_covered(findings: &[Finding]) -> Option<usize> {
    let mut evaluated = false;
    let mut covered = BTreeSet::new();
    for finding in findings {
        if finding.check != CheckId::MxCovered {
            continue;
        }
        match &finding.outcome {
            Outcome::Pass => {
                evaluated = true;
                covered.insert(&finding.subject);
            }
            Outcome::Fail | Outcome::Warn | Outcome::Info => evaluated = true,
            Outcome::Skipped { .. } | Outcome::CouldNotDetermine { .. } => {}
        }
    }
    evaluated.then_some(covered.len())
}

/// Whether every MX address whose STARTTLS was checked offered and accepted it: `Some(false)`
/// if any address broke either check; `Some(true)` if at least one passed and none broke or
/// was left undetermined; `None` when neither check ran to a conclusion (`--no-smtp`, port 25
/// blocked from here, no MX host).
fn starttls_ok(findings: &[Finding]) -> Option<bool> {
    let mut passed = false;
    let mut undetermined = false;
    for finding in findings {
        if !matches!(
            finding.check,
            CheckId::SmtpStarttlsOffered | CheckId::SmtpStarttlsAccepted
        ) {
            continue;
        }
        match &finding.outcome {
            Outcome::Fail | Outcome::Warn => return Some(false),
            Outcome::Pass | Outcome::Info => passed = true,
            Outcome::CouldNotDetermine { .. } => undetermined = true,
            Outcome::Skipped { .. } => {}
        }
    }
    (passed && !undetermined).then_some(true)
}

/// Whether a TLS-RPT record is published and no TLS-RPT check failed. Anything else is `no`,
/// including a lookup that could not be determined (reports are not known to arrive); `None`
/// only when no TLS-RPT check ran at all (`lint`, which sees a policy file alone).
fn tlsrpt_ok(findings: &[Finding]) -> Option<bool> {
    let mut tlsrpt = findings
        .iter()
        .filter(|finding| finding.check.spec().stage == Stage::TlsRpt)
        .peekable();
    tlsrpt.peek()?;
    let mut present = false;
    for finding in tlsrpt {
        match finding.outcome {
            Outcome::Fail => return Some(false),
            Outcome::Pass if finding.check == CheckId::TlsRptPresent => present = true,
            _ => {}
        }
    }
    Some(present)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::model::Subject;

    fn finding(check: CheckId, subject: Subject, outcome: Outcome) -> Finding {
        Finding {
            check,
            subject,
            outcome,
            summary: String::new(),
            evidence: Vec::new(),
            ignored: None,
        }
    }

    fn skipped() -> Outcome {
        Outcome::Skipped {
            blocked_by: CheckId::SmtpConnect.into(),
        }
    }

    fn undetermined() -> Outcome {
        Outcome::CouldNotDetermine {
            reason: "timeout".to_owned(),
        }
    }

    #[test]
    fn counts_covered_hosts_once_each() {
        let host = |name| Subject::host(name);
        let cases = [
            (vec![], None),
            (
                vec![finding(CheckId::MxCovered, Subject::Domain, skipped())],
                None,
            ),
            (
                vec![
                    finding(CheckId::MxCovered, host("mx1"), Outcome::Pass),
                    finding(CheckId::MxCovered, host("mx2"), Outcome::Fail),
                ],
                Some(1),
            ),
            (
                vec![finding(CheckId::MxCovered, host("mx1"), Outcome::Warn)],
                Some(0),
            ),
            (
                vec![
                    finding(CheckId::MxCovered, host("mx1"), Outcome::Pass),
                    finding(CheckId::MxCovered, host("mx1"), Outcome::Pass),
                    finding(CheckId::MxCovered, host("mx2"), Outcome::Pass),
                    finding(CheckId::MxAnyCovered, Subject::Domain, Outcome::Pass),
                ],
                Some(2),
            ),
        ];
        for (findings, expected) in cases {
            assert_eq!(mx_covered(&findings), expected, "{findings:?}");
        }
    }

    #[test]
    fn starttls_is_ok_only_when_every_probed_address_passed() {
        let ip1: IpAddr = "192.0.2.1".parse().unwrap();
        let ip2: IpAddr = "192.0.2.2".parse().unwrap();
        let at = |ip| Subject::endpoint("mx.example.com", ip);
        let offered = |ip, outcome| finding(CheckId::SmtpStarttlsOffered, at(ip), outcome);
        let accepted = |ip, outcome| finding(CheckId::SmtpStarttlsAccepted, at(ip), outcome);
        let cases = [
            (vec![], None),
            (
                vec![offered(ip1, skipped()), accepted(ip1, skipped())],
                None,
            ),
            (
                vec![offered(ip1, Outcome::Pass), accepted(ip1, Outcome::Pass)],
                Some(true),
            ),
            (
                // The second address could not be reached: the one probed passed.
                vec![
                    offered(ip1, Outcome::Pass),
                    accepted(ip1, Outcome::Pass),
                    offered(ip2, skipped()),
                    accepted(ip2, skipped()),
                ],
                Some(true),
            ),
            (
                vec![
                    offered(ip1, Outcome::Pass),
                    accepted(ip1, Outcome::Pass),
                    offered(ip2, Outcome::Fail),
                    accepted(ip2, skipped()),
                ],
                Some(false),
            ),
            (
                vec![offered(ip1, Outcome::Pass), accepted(ip1, Outcome::Fail)],
                Some(false),
            ),
            (
                vec![offered(ip1, Outcome::Pass), accepted(ip1, undetermined())],
                None,
            ),
        ];
        for (findings, expected) in cases {
            assert_eq!(starttls_ok(&findings), expected, "{findings:?}");
        }
    }

    #[test]
    fn tlsrpt_is_ok_when_present_and_nothing_failed() {
        let domain = |check, outcome| finding(check, Subject::Domain, outcome);
        let cases = [
            (vec![], None),
            (
                vec![domain(CheckId::MxCovered, Outcome::Fail)],
                None, // lint: no TLS-RPT check ran
            ),
            (
                vec![domain(CheckId::TlsRptPresent, Outcome::Pass)],
                Some(true),
            ),
            (
                vec![
                    domain(CheckId::TlsRptPresent, Outcome::Pass),
                    domain(CheckId::TlsRptMultipleRua, Outcome::Warn),
                ],
                Some(true),
            ),
            (
                vec![
                    domain(CheckId::TlsRptPresent, Outcome::Pass),
                    domain(CheckId::TlsRptRuaScheme, Outcome::Fail),
                ],
                Some(false),
            ),
            (
                vec![domain(CheckId::TlsRptPresent, Outcome::Warn)],
                Some(false),
            ),
            (
                vec![domain(CheckId::TlsRptPresent, undetermined())],
                Some(false),
            ),
            (
                vec![domain(CheckId::TlsRptExtension, Outcome::Info)],
                Some(false),
            ),
            (
                // A failure elsewhere does not make the TLS-RPT record wrong.
                vec![
                    domain(CheckId::TlsRptPresent, Outcome::Pass),
                    domain(CheckId::MxCovered, Outcome::Fail),
                ],
                Some(true),
            ),
        ];
        for (findings, expected) in cases {
            assert_eq!(tlsrpt_ok(&findings), expected, "{findings:?}");
        }
    }
}
