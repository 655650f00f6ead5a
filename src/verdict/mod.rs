//! Verdicts: observations in, findings out, in catalog order. Synchronous and pure; the clock is
//! passed in.

pub mod address;
mod bounds;
pub mod cert;
pub mod changes;
pub mod deadline;
pub mod facts;
pub mod fetch;
pub mod mx;
mod one_record;
pub mod policy;
pub mod reports;
pub mod smtp;
pub mod sts_record;
pub mod tlsrpt;

use crate::catalog::{CheckId, Profile};
use crate::model::{Blocker, DomainReport, Evidence, Facts, Finding, Outcome, Problem, Subject};
use crate::observe::Observations;

/// What the verdict code needs besides the observations.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub profile: Profile,
    /// Unix seconds; certificate validity is judged against it, and its UTC day is "today" for
    /// the `reports.*` checks.
    pub now: i64,
    /// A certificate with fewer days left counts as expiring (`--expiry-warn`, CRT-08).
    pub expiry_warn_days: u32,
}

impl Context {
    /// A context with the default expiry margin ([`cert::EXPIRING_DAYS`]).
    pub fn new(profile: Profile, now: i64) -> Self {
        Self {
            profile,
            now,
            expiry_warn_days: cert::EXPIRING_DAYS,
        }
    }
}

/// Judges one domain.
pub fn judge(obs: &Observations, ctx: &Context) -> DomainReport {
    let mut out = Findings::new(ctx.profile);
    let mut facts = Facts::default();

    let record = sts_record::judge(obs, &mut out);
    facts.sts_id = record.as_ref().map(|record| record.id.clone());

    let body = fetch::judge(obs, ctx, &mut out);
    let policy = policy::judge(body.as_deref().map_err(|blocker| *blocker), ctx, &mut out);
    if let Ok(policy) = &policy {
        policy::facts(policy, &mut facts);
    }

    facts.mx_hosts = mx::judge(obs, policy.as_ref().map_err(|blocker| *blocker), &mut out);
    smtp::judge(obs, ctx, &mut out);
    facts.tlsrpt_rua = tlsrpt::judge(obs, ctx, &mut out);
    reports::judge(
        obs,
        ctx,
        &reports::Earlier {
            policy: policy.as_ref().map_err(|blocker| *blocker),
            sts_id: facts.sts_id.as_deref(),
        },
        &mut out,
    );
    // Without a baseline there is nothing to compare with; `changes::compare` replaces these.
    changes::skip_all(&mut out);

    let mut findings = out.finish();
    cert::annotate_horizon(&mut findings, obs, &facts, ctx);
    if let Some(cut) = &obs.deadline {
        deadline::blame_the_deadline(&mut findings, cut);
    }
    facts::conclude(&findings, &mut facts);
    DomainReport {
        domain: obs.domain.to_string(),
        facts,
        findings,
    }
}

/// Collects findings while the stages are judged.
#[derive(Debug)]
pub struct Findings {
    profile: Profile,
    list: Vec<Finding>,
}

impl Findings {
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            list: Vec::new(),
        }
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    pub fn pass(&mut self, check: CheckId, subject: Subject) {
        self.pass_with(check, subject, check.spec().title, Vec::new());
    }

    pub fn pass_with(
        &mut self,
        check: CheckId,
        subject: Subject,
        summary: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        self.push(check, subject, Outcome::Pass, summary.into(), evidence);
    }

    pub fn problem(&mut self, problem: Problem, subject: Subject) {
        self.list.push(problem.into_finding(subject, self.profile));
    }

    /// Records that `check` did not run because of `blocked_by` (a check or a flag).
    pub fn skip(&mut self, check: CheckId, subject: Subject, blocked_by: impl Into<Blocker>) {
        let blocked_by = blocked_by.into();
        let summary = format!("not checked: needs {blocked_by}");
        self.push(
            check,
            subject,
            Outcome::Skipped { blocked_by },
            summary,
            Vec::new(),
        );
    }

    pub fn skip_all(
        &mut self,
        checks: impl IntoIterator<Item = CheckId>,
        subject: &Subject,
        blocked_by: impl Into<Blocker>,
    ) {
        let blocked_by = blocked_by.into();
        for check in checks {
            self.skip(check, subject.clone(), blocked_by);
        }
    }

    pub fn undetermined(
        &mut self,
        check: CheckId,
        subject: Subject,
        reason: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        let reason = reason.into();
        let summary = format!("could not determine: {reason}");
        self.push(
            check,
            subject,
            Outcome::CouldNotDetermine { reason },
            summary,
            evidence,
        );
    }

    /// Reports each problem; each check in `checks` that has none passes.
    pub fn judge_all(&mut self, checks: &[CheckId], problems: Vec<Problem>, subject: &Subject) {
        for &check in checks {
            if !problems.iter().any(|problem| problem.check == check) {
                self.pass(check, subject.clone());
            }
        }
        for problem in problems {
            self.problem(problem, subject.clone());
        }
    }

    fn push(
        &mut self,
        check: CheckId,
        subject: Subject,
        outcome: Outcome,
        summary: String,
        evidence: Vec<Evidence>,
    ) {
        self.list.push(Finding {
            check,
            subject,
            outcome,
            summary,
            evidence,
            ignored: None,
        });
    }

    /// How many findings were made so far.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether no finding was made yet.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The findings made since there were `start`, to annotate them.
    pub fn since(&mut self, start: usize) -> &mut [Finding] {
        let start = start.min(self.list.len());
        &mut self.list[start..]
    }

    /// The findings in catalog order; findings of one check keep the order they were made in.
    pub fn finish(mut self) -> Vec<Finding> {
        self.list.sort_by_key(|finding| finding.check);
        self.list
    }
}
