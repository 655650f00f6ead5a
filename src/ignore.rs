//! Accepting known findings, as cargo-deny's `ignore` does: an [`Ignore`] (from `mtasts.toml`
//! or `--ignore ID[@DOMAIN]`) marks the findings of one check, for every domain or for one,
//! as ignored with its reason. An ignored finding is still reported, marked, but counts toward
//! neither the domain's verdict nor the exit status.
//!
//! Pure: [`apply`] takes a report, the ignores and today's date and marks the findings; nothing
//! here reads a file or the clock. An ignore whose `until` has passed applies no more (its
//! findings count again) and is reported by the caller as a warning ([`Ignores::expired`]); one
//! that matched nothing in a whole run is noted ([`Ignores::unmatched`]).

use std::fmt;

use crate::catalog::lookup::lookup;
use crate::catalog::CheckId;
use crate::model::{DomainReport, Ignored, Outcome};
use crate::name::DomainName;
use crate::tlsrpt_report::date::Day;

/// One accepted finding: a check, optionally only for one domain, with why, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignore {
    pub id: CheckId,
    /// The domain it applies to (normalised: lower case, A-labels); `None` for every domain.
    pub domain: Option<String>,
    pub reason: String,
    /// The last day it holds; `None` for no end.
    pub until: Option<Day>,
    /// Where it was written, for messages: `mtasts.toml line 12`, `--ignore`.
    pub origin: String,
}

/// The reason an `--ignore` from the command line carries.
pub const COMMAND_LINE_REASON: &str = "accepted with --ignore on the command line";

impl Ignore {
    /// Reads `--ignore ID` or `--ignore ID@DOMAIN`.
    pub fn from_flag(text: &str) -> Result<Self, String> {
        let (id, domain) = match text.split_once('@') {
            Some((id, domain)) => (id, Some(domain)),
            None => (text, None),
        };
        Ok(Self {
            id: lookup(id).map_err(|err| err.to_string())?,
            domain: domain.map(normalise_domain).transpose()?,
            reason: COMMAND_LINE_REASON.to_owned(),
            until: None,
            origin: "--ignore".to_owned(),
        })
    }

    /// Whether it still applies on `today`.
    pub fn is_expired(&self, today: Day) -> bool {
        self.until.is_some_and(|until| until < today)
    }

    fn matches(&self, domain: &str, check: CheckId) -> bool {
        self.id == check && self.domain.as_deref().is_none_or(|only| only == domain)
    }
}

/// A domain as an ignore names it, in the form reports use.
pub fn normalise_domain(text: &str) -> Result<String, String> {
    DomainName::parse(text)
        .map(String::from)
        .map_err(|err| format!("{err}"))
}

impl fmt::Display for Ignore {
    /// `the ignore of ID (for DOMAIN) at ORIGIN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the ignore of {}", self.id)?;
        if let Some(domain) = &self.domain {
            write!(f, " for {domain}")?;
        }
        write!(f, " ({})", self.origin)
    }
}

/// Marks the findings of `report` that an ignore in `ignores` accepts, as of `today`, and
/// returns the indices of the ignores that matched. Passes and skips are never marked (there
/// is nothing to accept); an expired ignore marks nothing; the first ignore that matches a
/// finding is the one it carries.
pub fn apply(report: &mut DomainReport, ignores: &[Ignore], today: Day) -> Vec<usize> {
    let mut matched = Vec::new();
    for finding in &mut report.findings {
        if matches!(finding.outcome, Outcome::Pass | Outcome::Skipped { .. }) {
            continue;
        }
        let found = ignores.iter().enumerate().find(|(_, ignore)| {
            !ignore.is_expired(today) && ignore.matches(&report.domain, finding.check)
        });
        if let Some((index, ignore)) = found {
            finding.ignored = Some(Ignored {
                reason: ignore.reason.clone(),
                until: ignore.until.map(|day| day.to_string()),
            });
            if !matched.contains(&index) {
                matched.push(index);
            }
        }
    }
    matched
}

/// The ignores of one run, and which of them matched anything so far.
#[derive(Clone, Debug, Default)]
pub struct Ignores {
    list: Vec<Ignore>,
    today: Day,
    matched: Vec<bool>,
}

impl Ignores {
    pub fn new(list: Vec<Ignore>, today: Day) -> Self {
        let matched = vec![false; list.len()];
        Self {
            list,
            today,
            matched,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// [`apply`] to one domain's report, remembering what matched.
    pub fn apply(&mut self, report: &mut DomainReport) {
        if self.list.is_empty() {
            return;
        }
        for index in apply(report, &self.list, self.today) {
            self.matched[index] = true;
        }
    }

    /// The ignores whose `until` has passed: each is a warning of its own.
    pub fn expired(&self) -> impl Iterator<Item = &Ignore> {
        self.list
            .iter()
            .filter(move |ignore| ignore.is_expired(self.today))
    }

    /// The ignores in force that matched no finding so far.
    pub fn unmatched(&self) -> impl Iterator<Item = &Ignore> {
        self.list
            .iter()
            .zip(&self.matched)
            .filter(|(ignore, matched)| !**matched && !ignore.is_expired(self.today))
            .map(|(ignore, _)| ignore)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Facts, Finding, Subject};

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    fn report(domain: &str, findings: &[(CheckId, Outcome)]) -> DomainReport {
        DomainReport {
            domain: domain.to_owned(),
            facts: Facts::default(),
            findings: findings
                .iter()
                .map(|(check, outcome)| Finding {
                    check: *check,
                    subject: Subject::Domain,
                    outcome: outcome.clone(),
                    summary: String::new(),
                    evidence: Vec::new(),
                    ignored: None,
                })
                .collect(),
        }
    }

    fn ignore(id: CheckId, domain: Option<&str>, until: Option<&str>) -> Ignore {
        Ignore {
            id,
            domain: domain.map(str::to_owned),
            reason: format!("known: {id}"),
            until: until.map(day),
            origin: "test".to_owned(),
        }
    }

    fn marks(report: &DomainReport) -> Vec<Option<&str>> {
        report
            .findings
            .iter()
            .map(|finding| finding.ignored.as_ref().map(|i| i.reason.as_str()))
            .collect()
    }

    #[test]
    fn an_ignore_marks_its_checks_problems_and_nothing_else() {
        let mut domain = report(
            "a.example",
            &[
                (CheckId::TlsRptPresent, Outcome::Warn),
                (CheckId::PolicyMode, Outcome::Fail),
                (CheckId::TlsRptPresent, Outcome::Pass),
            ],
        );
        let ignores = [ignore(CheckId::TlsRptPresent, None, None)];
        assert_eq!(apply(&mut domain, &ignores, day("2026-01-01")), [0]);
        assert_eq!(marks(&domain), [Some("known: tlsrpt.present"), None, None]);
        // The verdict no longer counts the warning, but the failure still counts.
        assert_eq!(domain.verdict(), crate::model::Verdict::Fail);
    }

    #[test]
    fn a_domain_ignore_applies_to_that_domain_only() {
        let ignores = [ignore(CheckId::PolicyMode, Some("b.example"), None)];
        let mut a = report("a.example", &[(CheckId::PolicyMode, Outcome::Fail)]);
        let mut b = report("b.example", &[(CheckId::PolicyMode, Outcome::Fail)]);
        assert!(apply(&mut a, &ignores, day("2026-01-01")).is_empty());
        assert_eq!(apply(&mut b, &ignores, day("2026-01-01")), [0]);
        assert_eq!(marks(&a), [None]);
        assert_eq!(b.verdict(), crate::model::Verdict::Pass);
        let undetermined = Outcome::CouldNotDetermine {
            reason: "port 25".to_owned(),
        };
        let mut c = report("b.example", &[(CheckId::PolicyMode, undetermined)]);
        assert_eq!(apply(&mut c, &ignores, day("2026-01-01")), [0]);
    }

    #[test]
    fn until_is_the_last_day_an_ignore_holds() {
        let ignores = [ignore(CheckId::PolicyMode, None, Some("2026-03-31"))];
        for (today, applies) in [
            ("2026-03-30", true),
            ("2026-03-31", true),
            ("2026-04-01", false),
        ] {
            let mut domain = report("a.example", &[(CheckId::PolicyMode, Outcome::Fail)]);
            let matched = apply(&mut domain, &ignores, day(today));
            assert_eq!(!matched.is_empty(), applies, "{today}");
            assert_eq!(domain.findings[0].ignored.is_some(), applies, "{today}");
        }
        let mut domain = report("a.example", &[(CheckId::PolicyMode, Outcome::Fail)]);
        apply(&mut domain, &ignores, day("2026-03-01"));
        assert_eq!(
            domain.findings[0]
                .ignored
                .as_ref()
                .unwrap()
                .until
                .as_deref(),
            Some("2026-03-31")
        );
    }

    #[test]
    fn a_run_names_expired_and_unmatched_ignores() {
        let mut run = Ignores::new(
            vec![
                ignore(CheckId::PolicyMode, None, None),
                ignore(CheckId::TlsRptPresent, None, None),
                ignore(CheckId::SmtpConnect, None, Some("2025-12-31")),
            ],
            day("2026-01-01"),
        );
        let mut domain = report(
            "a.example",
            &[
                (CheckId::PolicyMode, Outcome::Fail),
                (CheckId::SmtpConnect, Outcome::Fail),
            ],
        );
        run.apply(&mut domain);
        assert_eq!(marks(&domain), [Some("known: policy.mode"), None]);
        let expired: Vec<CheckId> = run.expired().map(|ignore| ignore.id).collect();
        assert_eq!(expired, [CheckId::SmtpConnect]);
        let unmatched: Vec<CheckId> = run.unmatched().map(|ignore| ignore.id).collect();
        assert_eq!(unmatched, [CheckId::TlsRptPresent]);
    }

    #[test]
    fn flags_name_a_check_and_optionally_a_domain() {
        let plain = Ignore::from_flag("tlsrpt.present").unwrap();
        assert_eq!((plain.id, plain.domain), (CheckId::TlsRptPresent, None));
        let scoped = Ignore::from_flag("policy.mode@Example.ORG.").unwrap();
        assert_eq!(scoped.domain.as_deref(), Some("example.org"));
        assert_eq!(
            scoped.to_string(),
            "the ignore of policy.mode for example.org (--ignore)"
        );
        let err = Ignore::from_flag("policy.mod").unwrap_err();
        assert!(err.contains("closest are `policy.mode`"), "{err}");
        assert!(Ignore::from_flag("policy.mode@not a domain").is_err());
    }
}
