//! The exit status of `check`, `replay` and `lint`: what a run concluded, worst first, and the one
//! table of codes that `--help`, the man page and the README show (a test compares them).
//!
//! "Could not determine" has a code of its own (3), so a CI job can tell "could not check from
//! here" (port 25 blocked, a resolver down) from "broken" (1).

use crate::catalog::Stage;
use crate::cli::FailOn;
use crate::model::{DomainReport, Finding, Outcome};

/// Exit status when nothing reaches `--fail-on`.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status when something reaches `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status for a usage or internal error (clap uses the same for its usage errors).
pub const EXIT_ERROR: u8 = 2;
/// Exit status when nothing reached `--fail-on` but a check could not be determined.
pub const EXIT_INCONCLUSIVE: u8 = 3;

/// The exit codes of `mtasts check` (and `replay`, `lint`) with what each means, in plain text
/// with `--flags` in backticks: the source of the `--help` text, the man page's EXIT STATUS and
/// the README's table.
pub const EXIT_CODES: [(u8, &str); 4] = [
    (
        EXIT_CLEAN,
        "Nothing failed (with `--fail-on warn`: nothing warned either; with `--fail-on change`: \
         nothing changed since `--baseline`), and every check could be determined (or \
         `--allow-inconclusive` was given). Ignored findings do not count.",
    ),
    (
        EXIT_FINDINGS,
        "Something failed (or reached `--fail-on`) in any domain, or a line of a `--file` list \
         was not a domain name.",
    ),
    (
        EXIT_ERROR,
        "Usage error, unreadable input or configuration, no valid domain at all, or an internal \
         error.",
    ),
    (
        EXIT_INCONCLUSIVE,
        "Nothing failed, but some check could not be determined from here (a DNS timeout, \
         port 25 blocked): run it again from elsewhere, or pass `--allow-inconclusive`.",
    ),
];

/// What a run (or one domain, or one finding) concluded for the exit status, in increasing
/// order of weight: a failure outweighs anything undetermined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum RunStatus {
    #[default]
    Clean,
    Inconclusive,
    Failed,
}

impl RunStatus {
    pub fn code(self) -> u8 {
        match self {
            Self::Clean => EXIT_CLEAN,
            Self::Inconclusive => EXIT_INCONCLUSIVE,
            Self::Failed => EXIT_FINDINGS,
        }
    }
}

/// How the findings of a run are weighed: `--fail-on` and `--allow-inconclusive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weighing {
    pub fail_on: FailOn,
    pub allow_inconclusive: bool,
}

impl Weighing {
    /// What one finding contributes. An ignored finding contributes nothing; under
    /// `--fail-on change` only the `change.*` checks count.
    pub fn finding(self, finding: &Finding) -> RunStatus {
        if finding.ignored.is_some() {
            return RunStatus::Clean;
        }
        if self.fail_on == FailOn::Change && finding.check.spec().stage != Stage::Changes {
            return RunStatus::Clean;
        }
        match &finding.outcome {
            Outcome::CouldNotDetermine { .. } if self.allow_inconclusive => RunStatus::Clean,
            Outcome::CouldNotDetermine { .. } => RunStatus::Inconclusive,
            Outcome::Pass | Outcome::Skipped { .. } => RunStatus::Clean,
            // Any change at all counts under `--fail-on change`, information included.
            _ if self.fail_on == FailOn::Change => RunStatus::Failed,
            Outcome::Fail => RunStatus::Failed,
            Outcome::Warn if self.fail_on == FailOn::Warn => RunStatus::Failed,
            Outcome::Warn | Outcome::Info => RunStatus::Clean,
        }
    }

    /// The worst status over the findings of `domains`.
    pub fn domains(self, domains: &[DomainReport]) -> RunStatus {
        domains
            .iter()
            .flat_map(|domain| &domain.findings)
            .map(|finding| self.finding(finding))
            .max()
            .unwrap_or_default()
    }

    /// What counts a domain's outcomes read back (a `--resume` file) contribute: whether any
    /// finding that counts failed, warned or could not be determined.
    pub fn counted(self, fail: bool, warn: bool, could_not_determine: bool) -> RunStatus {
        if fail || (warn && self.fail_on == FailOn::Warn) {
            RunStatus::Failed
        } else if could_not_determine && !self.allow_inconclusive {
            RunStatus::Inconclusive
        } else {
            RunStatus::Clean
        }
    }
}

/// The exit codes as the text under `--help`.
pub fn help_text() -> String {
    let mut text = String::from("Exit status:\n");
    for (code, meaning) in EXIT_CODES {
        text.push_str(&format!("  {code}  {}\n", meaning.replace('`', "")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::model::{Facts, Ignored, Subject};

    fn finding(check: CheckId, outcome: Outcome) -> Finding {
        Finding {
            check,
            subject: Subject::Domain,
            outcome,
            summary: String::new(),
            evidence: Vec::new(),
            ignored: None,
        }
    }

    fn domain(findings: Vec<Finding>) -> DomainReport {
        DomainReport {
            domain: "a.example".to_owned(),
            facts: Facts::default(),
            findings,
        }
    }

    #[test]
    fn status_follows_fail_on_and_inconclusive() {
        let undetermined = Outcome::CouldNotDetermine {
            reason: "timeout".to_owned(),
        };
        let skipped = Outcome::Skipped {
            blocked_by: CheckId::PolicyMode.into(),
        };
        let weigh = |fail_on, allow_inconclusive| Weighing {
            fail_on,
            allow_inconclusive,
        };
        use RunStatus::{Clean, Failed, Inconclusive};
        // (outcomes, fail_on, allow_inconclusive, expected)
        let cases = [
            (
                vec![Outcome::Pass, Outcome::Info, skipped],
                FailOn::Fail,
                false,
                Clean,
            ),
            (vec![Outcome::Warn], FailOn::Fail, false, Clean),
            (vec![Outcome::Warn], FailOn::Warn, false, Failed),
            (vec![Outcome::Fail], FailOn::Fail, true, Failed),
            (
                vec![undetermined.clone()],
                FailOn::Fail,
                false,
                Inconclusive,
            ),
            (vec![undetermined.clone()], FailOn::Warn, true, Clean),
            // A failure outweighs what could not be determined.
            (
                vec![undetermined.clone(), Outcome::Fail],
                FailOn::Fail,
                false,
                Failed,
            ),
            (
                vec![undetermined, Outcome::Warn],
                FailOn::Warn,
                false,
                Failed,
            ),
            (vec![], FailOn::Warn, false, Clean),
        ];
        for (outcomes, fail_on, allow, expected) in cases {
            let findings = outcomes
                .iter()
                .map(|outcome| finding(CheckId::PolicyMode, outcome.clone()))
                .collect();
            assert_eq!(
                weigh(fail_on, allow).domains(&[domain(findings)]),
                expected,
                "{outcomes:?} {fail_on:?} {allow}"
            );
        }
    }

    #[test]
    fn fail_on_change_counts_only_changes_and_ignored_findings_nothing() {
        let change = Weighing {
            fail_on: FailOn::Change,
            allow_inconclusive: false,
        };
        assert_eq!(
            change.finding(&finding(CheckId::PolicyMode, Outcome::Fail)),
            RunStatus::Clean
        );
        assert_eq!(
            change.finding(&finding(CheckId::ChangeIdUnneeded, Outcome::Info)),
            RunStatus::Failed
        );
        let undetermined = Outcome::CouldNotDetermine {
            reason: "unreadable".to_owned(),
        };
        assert_eq!(
            change.finding(&finding(CheckId::ChangeOutcomes, undetermined)),
            RunStatus::Inconclusive
        );
        let mut ignored = finding(CheckId::PolicyMode, Outcome::Fail);
        ignored.ignored = Some(Ignored {
            reason: "known".to_owned(),
            until: None,
        });
        let plain = Weighing {
            fail_on: FailOn::Fail,
            allow_inconclusive: false,
        };
        assert_eq!(plain.finding(&ignored), RunStatus::Clean);
    }

    #[test]
    fn codes_are_distinct_and_in_order() {
        let codes: Vec<u8> = EXIT_CODES.iter().map(|(code, _)| *code).collect();
        assert_eq!(codes, [0, 1, 2, 3]);
        assert_eq!(RunStatus::Inconclusive.code(), 3);
        assert!(help_text().contains("  3  Nothing failed, but"));
    }
}
