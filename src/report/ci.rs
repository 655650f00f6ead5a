//! What the formats CI tools read (SARIF, JUnit, GitHub annotations) share: which findings they
//! report, a finding put into words, and the stable key of a finding across runs.
//!
//! Every piece of text goes through [`clean`], so a control or bidi character that survived
//! capture-time escaping reaches a CI log or an XML file as visible `\x1B`, never raw.

use std::fmt::Write as _;

use super::human::{clean, describe_subject};
use crate::model::{Finding, Outcome, Subject};

/// Whether a finding is reported as a problem to look at: anything but a pass or a skip. A
/// skipped check says nothing about the domain (what blocked it is reported itself).
pub(super) fn is_reported(outcome: &Outcome) -> bool {
    !matches!(outcome, Outcome::Pass | Outcome::Skipped { .. })
}

/// One line saying what was seen: the summary (or the check's title), then the subject when it
/// is not the domain itself (`mx2.example.com matches no mx pattern — mx2.example.com`).
pub(super) fn headline(finding: &Finding, domain: &str) -> String {
    let text = if finding.summary.is_empty() {
        finding.check.spec().title
    } else {
        &finding.summary
    };
    let mut line = clean(text).into_owned();
    if let Some(subject) = describe_subject(&finding.subject, domain) {
        let _ = write!(line, " — {}", clean(&subject));
    }
    line
}

/// The lines under the headline: the evidence, why it could not be determined, the fix and the
/// sources of the rule.
pub(super) fn detail_lines(finding: &Finding) -> Vec<String> {
    let spec = finding.check.spec();
    let mut lines: Vec<String> = finding
        .evidence
        .iter()
        .map(|evidence| format!("{}: {}", clean(&evidence.label), clean(&evidence.value)))
        .collect();
    if let Outcome::CouldNotDetermine { reason } = &finding.outcome {
        lines.push(format!(
            "could not be determined from where mtasts ran: {}",
            clean(reason)
        ));
    }
    if let Some(ignored) = &finding.ignored {
        lines.push(format!("ignored: {}", ignored_phrase(ignored)));
    }
    lines.push(format!("fix: {}", fix(finding)));
    let sources: Vec<String> = spec.sources.iter().map(ToString::to_string).collect();
    lines.push(format!("rule: {}", sources.join(", ")));
    lines
}

/// Why an ignored finding was accepted, and until when: `reason (until 2026-12-31)`.
pub(super) fn ignored_phrase(ignored: &crate::model::Ignored) -> String {
    match &ignored.until {
        Some(day) => format!("{} (until {})", clean(&ignored.reason), clean(day)),
        None => clean(&ignored.reason).into_owned(),
    }
}

/// The fix to show: a check that could not be determined speaks to the person running the
/// audit (nothing is known to be wrong with the domain yet), the others to the domain's owner.
pub(super) fn fix(finding: &Finding) -> &'static str {
    match finding.outcome {
        Outcome::CouldNotDetermine { .. } => finding.check.spec().stage.undetermined_fix(),
        _ => finding.check.spec().fix,
    }
}

/// The subject as a stable key (`host:mx.example.com`, `endpoint:mx.example.com@192.0.2.25`,
/// empty for the domain): part of a finding's identity across runs.
pub(super) fn subject_key(subject: &Subject) -> String {
    match subject {
        Subject::Domain => String::new(),
        Subject::Host { name } => format!("host:{name}"),
        Subject::Endpoint { host, ip } => format!("endpoint:{host}@{ip}"),
    }
}

/// A finding's identity across runs: the check, the domain and the subject, never the summary
/// or the evidence (a record's text may change while the problem stays the same). 16 hex
/// digits of FNV-1a-64, the hash `--shard` already relies on never changing.
pub(super) fn fingerprint(finding: &Finding, domain: &str) -> String {
    let key = format!(
        "{}\n{domain}\n{}",
        finding.check.as_str(),
        subject_key(&finding.subject)
    );
    format!("{:016x}", crate::input::fnv1a64(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::model::Evidence;

    fn finding(summary: &str, evidence: &str) -> Finding {
        Finding {
            check: CheckId::MxCovered,
            subject: Subject::host("mx2.example.com"),
            outcome: Outcome::Fail,
            summary: summary.to_owned(),
            evidence: vec![Evidence::new("policy mx", evidence)],
            ignored: None,
        }
    }

    #[test]
    fn the_fingerprint_ignores_what_was_seen_and_keeps_who() {
        let first = finding("mx2 is not covered", "mx1.example.com");
        let reworded = finding("another summary", "mx3.example.com");
        assert_eq!(
            fingerprint(&first, "example.com"),
            fingerprint(&reworded, "example.com")
        );
        assert_ne!(
            fingerprint(&first, "example.com"),
            fingerprint(&first, "example.org")
        );
        let mut other_host = first.clone();
        other_host.subject = Subject::host("mx3.example.com");
        assert_ne!(
            fingerprint(&first, "example.com"),
            fingerprint(&other_host, "example.com")
        );
        assert_eq!(fingerprint(&first, "example.com").len(), 16);
    }

    #[test]
    fn text_is_cleaned_and_undetermined_findings_say_why() {
        let hostile = finding("bad\u{1b}[2J", "a\nb\u{202e}");
        assert_eq!(
            headline(&hostile, "example.com"),
            "bad\\x1B[2J — mx2.example.com"
        );
        assert_eq!(detail_lines(&hostile)[0], "policy mx: a\\x0Ab\\u{202e}");
        let undetermined = Finding {
            outcome: Outcome::CouldNotDetermine {
                reason: "timeout".to_owned(),
            },
            ..hostile
        };
        let lines = detail_lines(&undetermined);
        assert_eq!(
            lines[1],
            "could not be determined from where mtasts ran: timeout"
        );
        assert!(lines[2].starts_with("fix: Nothing is known to be wrong"));
    }
}
