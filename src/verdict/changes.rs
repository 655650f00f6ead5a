//! Stage 8: what changed since an earlier run (`--baseline`). One audit cannot see that a policy
//! changed while the TXT `id` did not (RFC 8461 §3.1: senders holding a cached policy refetch
//! only when the id changes, so the edit reaches nobody for up to `max_age`; digest CAC-07);
//! two audits can.
//!
//! Pure: the current report and observations and a [`BaselineDomain`] in, `change.*` findings
//! out. [`verdict::judge`](super::judge) reports the stage as skipped (no baseline); [`compare`]
//! replaces those findings when there is one.
//!
//! A baseline is either saved evidence (the earlier run's observations, judged again here under
//! the current profile at the time they were made) or an earlier `--format jsonl` report, which
//! keeps the facts and outcomes but no certificates.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::cert::iso_time;
use super::{Context, Findings};
use crate::catalog::{stage_checks, CheckId, Profile, Severity, Stage};
use crate::model::{
    DomainReport, Evidence, Facts, Finding, Outcome, Problem, RunFlag, Subject, Verdict,
};
use crate::observe::{CertSummary, Observations};

/// What the comparison needs to know about one domain of the baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineDomain {
    /// When the baseline run was made (Unix seconds), if it says (a report line does not).
    pub generated_at: Option<i64>,
    pub facts: Facts,
    /// The outcome label of every check outside this stage, per subject.
    pub outcomes: BTreeMap<(CheckId, Subject), &'static str>,
    /// The leaf certificates seen per host (policy host, MX hosts); `None` when the baseline is
    /// a report, which keeps none.
    pub certificates: Option<Vec<HostCertificates>>,
}

/// The leaf certificates one host presented, one per address that completed TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCertificates {
    pub host: String,
    pub leaves: Vec<CertSummary>,
    /// The host has TLSA records (`_25._tcp.HOST`): a new key breaks DANE unless they change.
    pub has_tlsa: bool,
}

impl BaselineDomain {
    /// The baseline of saved observations: judged again under the profile and margins of
    /// `ctx` at the time they were made (`generated_at`), so that both sides of the comparison
    /// are judged by the same rules.
    pub fn from_observations(obs: &Observations, ctx: &Context, generated_at: i64) -> Self {
        let ctx = Context {
            now: generated_at,
            ..*ctx
        };
        let report = super::judge(obs, &ctx);
        let mut certificates = host_certificates(obs);
        // The comparison reads the summaries; the bytes stay in the evidence file.
        for host in &mut certificates {
            for leaf in &mut host.leaves {
                leaf.der = Vec::new();
            }
        }
        Self::from_report(&report, Some(generated_at), Some(certificates))
    }

    /// The baseline of a judged report (what `--format jsonl` keeps of it, or more).
    pub fn from_report(
        report: &DomainReport,
        generated_at: Option<i64>,
        certificates: Option<Vec<HostCertificates>>,
    ) -> Self {
        let outcomes = report
            .findings
            .iter()
            .filter(|finding| finding.check.spec().stage != Stage::Changes)
            .map(|finding| {
                (
                    (finding.check, finding.subject.clone()),
                    finding.outcome.label(),
                )
            })
            .collect();
        Self {
            generated_at,
            facts: report.facts.clone(),
            outcomes,
            certificates,
        }
    }
}

/// Every domain of a baseline, and which of them the run has compared so far.
#[derive(Clone, Debug, Default)]
pub struct Baselines {
    domains: HashMap<String, BaselineDomain>,
    /// Baseline order, for the list of domains the run did not audit.
    order: Vec<String>,
    seen: HashSet<String>,
    /// The latest time among the baseline's domains, for domains new since it.
    latest: Option<i64>,
}

impl Baselines {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or, for a domain given twice, replaces) one domain of the baseline.
    pub fn insert(&mut self, domain: String, baseline: BaselineDomain) {
        self.latest = self.latest.max(baseline.generated_at);
        if self.domains.insert(domain.clone(), baseline).is_none() {
            self.order.push(domain);
        }
    }

    pub fn len(&self) -> usize {
        self.domains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// [`compare`]s one judged domain with its baseline (or reports it new).
    pub fn compare(&mut self, report: &mut DomainReport, obs: &Observations, profile: Profile) {
        let baseline = match self.domains.get(&report.domain) {
            Some(known) => Baseline::Known(known),
            None => Baseline::Absent,
        };
        compare(report, obs, baseline, profile);
        if report.facts.baseline_at.is_none() {
            report.facts.baseline_at = self.latest;
        }
        self.seen.insert(report.domain.clone());
    }

    /// The domains of the baseline not compared yet, in baseline order.
    pub fn absent(&self) -> Vec<String> {
        self.order
            .iter()
            .filter(|domain| !self.seen.contains(*domain))
            .cloned()
            .collect()
    }
}

/// How a domain stands against the baseline of the run.
#[derive(Clone, Copy, Debug)]
pub enum Baseline<'a> {
    /// The baseline does not have the domain: it is new.
    Absent,
    Known(&'a BaselineDomain),
}

/// Reports every `change.*` check once, for the domain, as skipped: no `--baseline`.
pub fn skip_all(out: &mut Findings) {
    out.skip_all(
        stage_checks(Stage::Changes),
        &Subject::Domain,
        RunFlag::NoBaseline,
    );
}

/// Replaces the `change.*` findings of `report` (judged from `obs`) with the comparison
/// against `baseline`.
pub fn compare(
    report: &mut DomainReport,
    obs: &Observations,
    baseline: Baseline<'_>,
    profile: Profile,
) {
    report
        .findings
        .retain(|finding| finding.check.spec().stage != Stage::Changes);
    let mut out = Findings::new(profile);
    match baseline {
        Baseline::Absent => {
            out.problem(
                Problem::new(
                    CheckId::ChangeInBaseline,
                    "new since the baseline: the domain is not in it",
                ),
                Subject::Domain,
            );
            let rest = stage_checks(Stage::Changes).filter(|&id| id != CheckId::ChangeInBaseline);
            out.skip_all(rest, &Subject::Domain, CheckId::ChangeInBaseline);
        }
        Baseline::Known(base) => {
            report.facts.baseline_at = base.generated_at;
            let since = base
                .generated_at
                .map_or_else(|| "the baseline".to_owned(), iso_time);
            out.pass_with(
                CheckId::ChangeInBaseline,
                Subject::Domain,
                format!("compared with the baseline of {since}"),
                Vec::new(),
            );
            judge_policy(report, base, &mut out);
            judge_mx_set(report, base, &mut out);
            judge_certificates(obs, base, &mut out);
            judge_outcomes(report, base, &mut out);
        }
    }
    // The stage comes last in the catalog, so the report stays in catalog order.
    report.findings.extend(out.finish());
}

/// The policy as a sender parses it: what a change of has to be announced by a new id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PolicyView {
    mode: String,
    max_age: Option<u64>,
    mx: BTreeSet<String>,
}

impl PolicyView {
    fn of(facts: &Facts) -> Option<Self> {
        Some(Self {
            mode: facts.mode.clone()?,
            max_age: facts.max_age,
            mx: facts.policy_mx.iter().cloned().collect(),
        })
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("mode: {}", self.mode)];
        if let Some(max_age) = self.max_age {
            lines.push(format!("max_age: {max_age}"));
        }
        lines.extend(self.mx.iter().map(|mx| format!("mx: {mx}")));
        lines
    }

    fn text(&self) -> String {
        self.lines().join("; ")
    }

    /// `- line` for what the baseline had and this lacks, `+ line` for the reverse.
    fn diff(before: &Self, after: &Self) -> String {
        let (old, new) = (before.lines(), after.lines());
        let removed = old.iter().filter(|line| !new.contains(line));
        let added = new.iter().filter(|line| !old.contains(line));
        removed
            .map(|line| format!("- {line}"))
            .chain(added.map(|line| format!("+ {line}")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// How strongly a mode protects: none < testing < enforce.
fn mode_rank(mode: &str) -> u8 {
    match mode {
        "enforce" => 2,
        "testing" => 1,
        _ => 0,
    }
}

/// The first check of the record and policy stages that did not pass now: what keeps the
/// current policy from being compared.
fn policy_blocker(report: &DomainReport) -> CheckId {
    report
        .findings
        .iter()
        .filter(|finding| {
            matches!(
                finding.check.spec().stage,
                Stage::StsRecord | Stage::PolicyHost | Stage::PolicyFetch | Stage::Policy
            ) && finding.outcome.is_problem()
        })
        .map(|finding| finding.check)
        .min()
        .unwrap_or(CheckId::StsRecordPresent)
}

fn judge_policy(report: &DomainReport, base: &BaselineDomain, out: &mut Findings) {
    let domain = Subject::Domain;
    let now = &report.facts;
    let then = &base.facts;
    let (now_policy, then_policy) = (PolicyView::of(now), PolicyView::of(then));
    let id_evidence = || {
        vec![
            Evidence::new("baseline id", then.sts_id.as_deref().unwrap_or("(none)")),
            Evidence::new("current id", now.sts_id.as_deref().unwrap_or("(none)")),
        ]
    };

    // The TXT record went away: is the policy still served?
    match (&then.sts_id, &now.sts_id) {
        (Some(old_id), None) => {
            let summary = if now_policy.is_some() {
                format!(
                    "the _mta-sts TXT record (id {old_id}) was removed while the policy is still \
                     served; follow the removal steps of RFC 8461 §8.3"
                )
            } else {
                format!(
                    "the _mta-sts TXT record (id {old_id}) and the policy are gone; senders that \
                     cached the baseline's policy keep applying it for up to its max_age"
                )
            };
            let mut problem = Problem::new(CheckId::ChangeRecordRemoved, summary);
            if let Some(policy) = &then_policy {
                problem = problem.with("baseline policy", policy.text());
            }
            out.problem(problem, domain.clone());
        }
        _ => out.pass_with(
            CheckId::ChangeRecordRemoved,
            domain.clone(),
            "the TXT record was not removed",
            Vec::new(),
        ),
    }

    let policy_checks = [
        CheckId::ChangeIdNotBumped,
        CheckId::ChangeIdUnneeded,
        CheckId::ChangeModeWeakened,
        CheckId::ChangeMaxAgeShortened,
    ];
    let (Some(now_policy), Some(now_id)) = (now_policy, &now.sts_id) else {
        out.skip_all(policy_checks, &domain, policy_blocker(report));
        return;
    };
    let (Some(then_policy), Some(then_id)) = (then_policy, &then.sts_id) else {
        for check in policy_checks {
            out.pass_with(
                check,
                domain.clone(),
                "the baseline had no valid record and policy: nothing cached to compare with",
                Vec::new(),
            );
        }
        return;
    };

    let changed = now_policy != then_policy;
    let same_id = now_id == then_id;
    let mut evidence = id_evidence();
    evidence.push(Evidence::new("baseline policy", then_policy.text()));
    evidence.push(Evidence::new("current policy", now_policy.text()));
    if changed {
        evidence.push(Evidence::new(
            "difference",
            PolicyView::diff(&then_policy, &now_policy),
        ));
    }

    if changed && same_id {
        let mut problem = Problem::new(
            CheckId::ChangeIdNotBumped,
            format!(
                "the policy changed but the TXT id is still {now_id}: senders that cached the \
                 old policy keep it for up to {} seconds",
                then_policy.max_age.unwrap_or(0)
            ),
        );
        problem.evidence = evidence.clone();
        out.problem(problem, domain.clone());
    } else {
        let summary = if changed {
            format!("the policy changed and the id with it ({then_id} → {now_id})")
        } else {
            "the policy did not change".to_owned()
        };
        out.pass_with(
            CheckId::ChangeIdNotBumped,
            domain.clone(),
            summary,
            evidence.clone(),
        );
    }

    if !changed && !same_id {
        let mut problem = Problem::new(
            CheckId::ChangeIdUnneeded,
            format!(
                "the TXT id changed ({then_id} → {now_id}) but the policy did not: harmless, \
                 but every sender refetches it for nothing"
            ),
        );
        problem.evidence = evidence.clone();
        out.problem(problem, domain.clone());
    } else {
        out.pass_with(
            CheckId::ChangeIdUnneeded,
            domain.clone(),
            "the id changed only together with the policy",
            Vec::new(),
        );
    }

    if mode_rank(&now_policy.mode) < mode_rank(&then_policy.mode) {
        out.problem(
            Problem::new(
                CheckId::ChangeModeWeakened,
                format!(
                    "the mode was weakened from {} to {}",
                    then_policy.mode, now_policy.mode
                ),
            )
            .with("baseline policy", then_policy.text())
            .with("current policy", now_policy.text()),
            domain.clone(),
        );
    } else {
        out.pass_with(
            CheckId::ChangeModeWeakened,
            domain.clone(),
            format!("mode {} (baseline: {})", now_policy.mode, then_policy.mode),
            Vec::new(),
        );
    }

    match (then_policy.max_age, now_policy.max_age) {
        (Some(before), Some(after)) if after < before => out.problem(
            Problem::new(
                CheckId::ChangeMaxAgeShortened,
                format!("max_age was shortened from {before} to {after} seconds"),
            )
            .with("baseline max_age", before.to_string())
            .with("current max_age", after.to_string()),
            domain,
        ),
        (before, after) => out.pass_with(
            CheckId::ChangeMaxAgeShortened,
            domain,
            format!(
                "max_age {} (baseline: {})",
                after.map_or_else(|| "?".to_owned(), |age| age.to_string()),
                before.map_or_else(|| "?".to_owned(), |age| age.to_string())
            ),
            Vec::new(),
        ),
    }
}

fn judge_mx_set(report: &DomainReport, base: &BaselineDomain, out: &mut Findings) {
    let now: BTreeSet<&String> = report.facts.mx_hosts.iter().collect();
    let then: BTreeSet<&String> = base.facts.mx_hosts.iter().collect();
    let listing = |set: &BTreeSet<&String>| {
        if set.is_empty() {
            "(none)".to_owned()
        } else {
            set.iter()
                .map(|name| name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    if now == then {
        out.pass_with(
            CheckId::ChangeMxSet,
            Subject::Domain,
            "the MX hosts did not change",
            vec![Evidence::new("MX hosts", listing(&now))],
        );
        return;
    }
    let added: BTreeSet<&String> = now.difference(&then).copied().collect();
    let removed: BTreeSet<&String> = then.difference(&now).copied().collect();
    // An added host the current policy does not cover: `mx.covered` did not pass for it.
    let uncovered: Vec<&str> = added
        .iter()
        .filter(|host| {
            report.findings.iter().any(|finding| {
                finding.check == CheckId::MxCovered
                    && finding.subject == Subject::host(host)
                    && finding.outcome != Outcome::Pass
            })
        })
        .map(|host| host.as_str())
        .collect();
    let policy_now: BTreeSet<&String> = report.facts.policy_mx.iter().collect();
    let policy_then: BTreeSet<&String> = base.facts.policy_mx.iter().collect();
    let policy_updated = policy_now != policy_then;
    let id_bumped = report.facts.sts_id != base.facts.sts_id;
    let mut problem = Problem::new(
        CheckId::ChangeMxSet,
        if uncovered.is_empty() {
            format!(
                "the MX hosts changed (added: {}; removed: {}) and the policy covers them",
                listing(&added),
                listing(&removed)
            )
        } else {
            format!(
                "the MX hosts changed but the policy does not cover {}",
                uncovered.join(", ")
            )
        },
    )
    .with("added", listing(&added))
    .with("removed", listing(&removed))
    .with("baseline MX hosts", listing(&then))
    .with("current MX hosts", listing(&now))
    .with(
        "policy mx lines",
        if policy_updated {
            format!(
                "updated: {} → {}",
                listing(&policy_then),
                listing(&policy_now)
            )
        } else {
            format!("unchanged: {}", listing(&policy_now))
        },
    )
    .with("TXT id", if id_bumped { "changed" } else { "unchanged" });
    if uncovered.is_empty() {
        problem = problem.capped(Severity::Info);
    }
    out.problem(problem, Subject::Domain);
}

/// The leaf certificates of the policy host and of every MX host, in that order.
pub fn host_certificates(obs: &Observations) -> Vec<HostCertificates> {
    let leaf = |tls: Option<&crate::observe::TlsObservation>| {
        tls.and_then(|tls| tls.chain.first()).cloned()
    };
    let mut hosts = vec![HostCertificates {
        host: obs.policy_host.name.clone(),
        leaves: obs
            .fetches
            .iter()
            .filter_map(|fetch| leaf(fetch.tls.as_ref()))
            .collect(),
        has_tlsa: false,
    }];
    hosts.extend(obs.mx_hosts.iter().map(|mx| {
        HostCertificates {
            host: mx.name.clone(),
            leaves: mx
                .smtp
                .iter()
                .filter_map(|probe| leaf(probe.tls.as_ref()))
                .collect(),
            has_tlsa: mx.tlsa.data().is_some_and(|records| !records.is_empty()),
        }
    }));
    hosts
}

fn describe_leaf(leaf: &CertSummary) -> String {
    let key = if leaf.spki_sha256.is_empty() {
        String::new()
    } else {
        format!(", key sha256 {}", leaf.spki_sha256)
    };
    format!(
        "serial {} from {}, expires {}{key}",
        leaf.serial,
        leaf.issuer,
        iso_time(leaf.not_after)
    )
}

fn describe_leaves(leaves: &[&CertSummary]) -> String {
    if leaves.is_empty() {
        return "(none)".to_owned();
    }
    leaves
        .iter()
        .map(|leaf| describe_leaf(leaf))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The distinct leaves, by serial and issuer (one per address is usually the same one).
fn distinct(leaves: &[CertSummary]) -> Vec<&CertSummary> {
    let mut seen = BTreeSet::new();
    leaves
        .iter()
        .filter(|leaf| seen.insert((leaf.serial.as_str(), leaf.issuer.as_str())))
        .collect()
}

fn judge_certificates(obs: &Observations, base: &BaselineDomain, out: &mut Findings) {
    let checks = [
        CheckId::ChangeCertificateReplaced,
        CheckId::ChangeCertificateSooner,
    ];
    let current = host_certificates(obs);
    let Some(then_hosts) = &base.certificates else {
        for host in &current {
            out.skip_all(
                checks,
                &Subject::host(&host.host),
                RunFlag::BaselineEvidence,
            );
        }
        return;
    };
    for (index, host) in current.iter().enumerate() {
        let subject = Subject::host(&host.host);
        let is_policy_host = index == 0;
        if !is_policy_host && obs.smtp_skipped {
            out.skip_all(checks, &subject, RunFlag::NoSmtp);
            continue;
        }
        if host.leaves.is_empty() {
            let blocker = if is_policy_host {
                CheckId::PolicyFetchConnect
            } else {
                CheckId::SmtpStarttlsAccepted
            };
            out.skip_all(checks, &subject, blocker);
            continue;
        }
        let now = distinct(&host.leaves);
        let then_host = then_hosts.iter().find(|then| then.host == host.host);
        let then = then_host
            .map(|then| distinct(&then.leaves))
            .unwrap_or_default();
        if then.is_empty() {
            let summary = if then_host.is_some() {
                "the baseline has no certificate of this host (no TLS session then)"
            } else {
                "the host is new since the baseline"
            };
            out.problem(
                Problem::new(CheckId::ChangeCertificateReplaced, summary)
                    .with("current certificate", describe_leaves(&now))
                    .capped(Severity::Info),
                subject.clone(),
            );
            out.pass_with(
                CheckId::ChangeCertificateSooner,
                subject,
                "no baseline certificate to compare the expiry with",
                Vec::new(),
            );
            continue;
        }
        let key = |leaf: &&CertSummary| (leaf.serial.clone(), leaf.issuer.clone());
        let now_keys: BTreeSet<_> = now.iter().map(key).collect();
        let then_keys: BTreeSet<_> = then.iter().map(key).collect();
        if now_keys == then_keys {
            out.pass_with(
                CheckId::ChangeCertificateReplaced,
                subject.clone(),
                "the same certificate as in the baseline",
                vec![Evidence::new("certificate", describe_leaves(&now))],
            );
        } else {
            let then_issuers: BTreeSet<&str> =
                then.iter().map(|leaf| leaf.issuer.as_str()).collect();
            let new_issuer = now
                .iter()
                .find(|leaf| !then_issuers.contains(leaf.issuer.as_str()));
            let then_spki: BTreeSet<&str> =
                then.iter().map(|leaf| leaf.spki_sha256.as_str()).collect();
            let new_key = now.iter().any(|leaf| {
                !leaf.spki_sha256.is_empty() && !then_spki.contains(leaf.spki_sha256.as_str())
            });
            let (summary, serious) = match new_issuer {
                Some(leaf) => (
                    format!(
                        "the certificate was replaced by one from another CA ({})",
                        leaf.issuer
                    ),
                    true,
                ),
                None if new_key && host.has_tlsa => (
                    "the certificate was replaced with a new key, and the host has TLSA records \
                     that may pin the old one"
                        .to_owned(),
                    true,
                ),
                None => (
                    format!(
                        "the certificate was renewed by the same CA{}",
                        if new_key { " with a new key" } else { "" }
                    ),
                    false,
                ),
            };
            let mut problem = Problem::new(CheckId::ChangeCertificateReplaced, summary)
                .with("baseline certificate", describe_leaves(&then))
                .with("current certificate", describe_leaves(&now))
                .with("new key", if new_key { "yes" } else { "no" });
            if !serious {
                problem = problem.capped(Severity::Info);
            }
            out.problem(problem, subject.clone());
        }
        let earliest = |leaves: &[&CertSummary]| leaves.iter().map(|leaf| leaf.not_after).min();
        match (earliest(&then), earliest(&now)) {
            (Some(before), Some(after)) if after < before => out.problem(
                Problem::new(
                    CheckId::ChangeCertificateSooner,
                    format!(
                        "the certificate now expires on {}, before the baseline's ({})",
                        iso_time(after),
                        iso_time(before)
                    ),
                )
                .with("baseline certificate", describe_leaves(&then))
                .with("current certificate", describe_leaves(&now)),
                subject,
            ),
            (_, after) => out.pass_with(
                CheckId::ChangeCertificateSooner,
                subject,
                format!("expires {}", after.map_or_else(|| "?".to_owned(), iso_time)),
                Vec::new(),
            ),
        }
    }
}

/// How bad an outcome label is; `None` for a check that did not run.
fn badness(label: &str) -> Option<u8> {
    match label {
        "pass" | "info" => Some(0),
        "warn" => Some(1),
        "could-not-determine" => Some(2),
        "fail" => Some(3),
        _ => None,
    }
}

fn describe_subject(subject: &Subject) -> String {
    match subject {
        Subject::Domain => "domain".to_owned(),
        Subject::Host { name } => name.clone(),
        Subject::Endpoint { host, ip } => format!("{host} {ip}"),
    }
}

/// The verdict of the findings outside this stage.
fn verdict_of(labels: impl Iterator<Item = &'static str>) -> Verdict {
    labels
        .map(|label| match label {
            "fail" => Verdict::Fail,
            "could-not-determine" => Verdict::CouldNotDetermine,
            "warn" => Verdict::Warn,
            _ => Verdict::Pass,
        })
        .max()
        .unwrap_or(Verdict::Pass)
}

fn judge_outcomes(report: &DomainReport, base: &BaselineDomain, out: &mut Findings) {
    let now: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|finding| finding.check.spec().stage != Stage::Changes)
        .collect();
    let mut worse = Vec::new();
    let mut better = Vec::new();
    for finding in &now {
        let label = finding.outcome.label();
        let Some(after) = badness(label) else {
            continue;
        };
        let key = (finding.check, finding.subject.clone());
        let before_label = base.outcomes.get(&key).copied();
        let before = before_label.and_then(badness);
        let entry = format!(
            "{} ({}: {} → {label})",
            finding.check,
            describe_subject(&finding.subject),
            before_label.unwrap_or("absent")
        );
        match before {
            Some(before) if after > before => worse.push(entry),
            Some(before) if after < before => better.push(entry),
            // A subject new since the baseline (an added MX) that does not pass.
            None if before_label.is_none() && after > 0 => worse.push(entry),
            _ => {}
        }
    }
    let before = verdict_of(base.outcomes.values().copied());
    let after = verdict_of(now.iter().map(|finding| finding.outcome.label()));
    let verdicts = Evidence::new(
        "verdict",
        format!("{} → {}", before.as_str(), after.as_str()),
    );
    if worse.is_empty() && better.is_empty() {
        out.pass_with(
            CheckId::ChangeOutcomes,
            Subject::Domain,
            format!("no check changed its outcome (verdict {})", after.as_str()),
            vec![verdicts],
        );
        return;
    }
    let mut problem = Problem::new(
        CheckId::ChangeOutcomes,
        if worse.is_empty() {
            format!(
                "{} check(s) got better, none worse (verdict {} → {})",
                better.len(),
                before.as_str(),
                after.as_str()
            )
        } else {
            format!(
                "{} check(s) got worse since the baseline (verdict {} → {})",
                worse.len(),
                before.as_str(),
                after.as_str()
            )
        },
    );
    problem.evidence.push(verdicts);
    if !worse.is_empty() {
        problem = problem.with("worse", worse.join("; "));
    }
    if !better.is_empty() {
        problem = problem.with("better", better.join("; "));
    }
    if worse.is_empty() {
        problem = problem.capped(Severity::Info);
    }
    out.problem(problem, Subject::Domain);
}
