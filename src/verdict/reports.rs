//! Stage 7: readiness for `mode: enforce`, judged from the TLS-RPT reports given with
//! `--reports` (RFC 8460 §4; NCSC §6: "at least 2 weeks … no failures in your TLS-RPT reports";
//! SGE steps 4 and 5). In `enforce` the same checks say whether enforcement is hurting delivery.
//!
//! "Today" is [`Context::now`]; the reports are the plain counts in [`ReportsEvidence`], so saved
//! observations judge the same way later. Without `--reports` every check is skipped for the
//! domain, naming the option, as `--no-smtp` skips the SMTP stage.
//!
//! What reports can and cannot say: RFC 8460 §4.4 counts successful sessions per policy, not per
//! MX host; only failures name the receiving MX. So an MX counts as reached when the domain has
//! successful sessions, no failure names it, and the policy senders used lists it.

use std::collections::BTreeMap;

use super::{Context, Findings};
use crate::catalog::{stage_checks, CheckId, Profile, Severity, Stage};
use crate::model::{Evidence, Problem, RunFlag, Subject};
use crate::observe::{Observations, ReportDay, ReportsEvidence};
use crate::parse::mx_pattern::MxPattern;
use crate::parse::policy::{Mode, Policy};
use crate::tlsrpt_report::date::Day;
use crate::tlsrpt_report::model::ResultType;

/// Days read back from today by `mtasts check --reports`; coverage is counted among them.
pub const READ_DAYS: u32 = 30;
/// NCSC §6: at least two weeks of reports.
pub const MIN_DAYS: usize = 14;
/// The last day covered is at most this many days before today (reports arrive a day or so
/// after the UTC day they cover, RFC 8460 §4.1).
pub const MAX_LAST_DAY_AGE: i64 = 3;
/// Failures and policy errors are judged over the last this many days, today included.
pub const RECENT_DAYS: i64 = 14;
/// At least this many reporting organisations.
pub const MIN_ORGANIZATIONS: usize = 2;
/// Failed sessions below this share of all sessions count as clean (1 %).
pub const MAX_FAILURE_PERCENT: f64 = 1.0;

/// The result types that say a sender could not use the policy at all (RFC 8460 §4.3.2.2).
const POLICY_ERRORS: [ResultType; 3] = [
    ResultType::StsPolicyFetchError,
    ResultType::StsPolicyInvalid,
    ResultType::StsWebpkiInvalid,
];

/// What the stage needs from the earlier ones.
pub struct Earlier<'a> {
    /// The policy a strict sender accepts, or the check that says why there is none.
    pub policy: Result<&'a Policy, CheckId>,
    /// The id of the `_mta-sts` record a sender would use.
    pub sts_id: Option<&'a str>,
}

/// Judges `reports.*`.
pub fn judge(obs: &Observations, ctx: &Context, earlier: &Earlier<'_>, out: &mut Findings) {
    let domain = Subject::Domain;
    let Some(reports) = &obs.reports else {
        out.skip_all(stage_checks(Stage::Reports), &domain, RunFlag::NoReports);
        return;
    };
    if obs.accepts_no_mail() {
        out.skip_all(stage_checks(Stage::Reports), &domain, CheckId::MxNull);
        return;
    }
    let today = Day::of_unix(ctx.now);
    let recent = Recent::of(reports, today);
    super::bounds::judge(
        CheckId::ReportsBounds,
        domain.clone(),
        "some of the inputs",
        unreadable_evidence(reports),
        out,
    );

    let held = [
        (
            CheckId::ReportsCoverage,
            judge_coverage(obs, reports, today, out),
        ),
        (
            CheckId::ReportsOrganizations,
            judge_organizations(reports, out),
        ),
        (
            CheckId::ReportsPolicyErrors,
            judge_policy_errors(&recent, out),
        ),
        (
            CheckId::ReportsFailureRate,
            judge_failure_rate(&recent, out),
        ),
        (
            CheckId::ReportsMx,
            judge_mx_hosts(obs, ctx, reports, &recent, out),
        ),
    ];
    let failed: Vec<CheckId> = held
        .iter()
        .filter(|(_, held)| !held)
        .map(|(check, _)| *check)
        .collect();
    judge_ready(obs, earlier, &failed, &recent, out);
}

/// The inputs that were not read, each with why (past a size bound, not a report, …), then how
/// many more.
fn unreadable_evidence(reports: &ReportsEvidence) -> Vec<Evidence> {
    let mut evidence: Vec<Evidence> = reports
        .unreadable
        .iter()
        .map(|unreadable| {
            Evidence::new(
                "unreadable",
                format!("{}: {}", unreadable.path, unreadable.reason),
            )
        })
        .collect();
    if reports.unreadable_count > reports.unreadable.len() {
        evidence.push(Evidence::new(
            "unreadable",
            format!(
                "… and {} more",
                reports.unreadable_count - reports.unreadable.len()
            ),
        ));
    }
    evidence
}

/// The days of the last [`RECENT_DAYS`], today included.
struct Recent<'a> {
    first: Day,
    days: Vec<&'a ReportDay>,
}

impl<'a> Recent<'a> {
    fn of(reports: &'a ReportsEvidence, today: Day) -> Self {
        let first = today.plus(1 - RECENT_DAYS);
        Self {
            first,
            days: reports
                .days
                .iter()
                .filter(|day| day.day >= first && day.day <= today)
                .collect(),
        }
    }

    fn successful(&self) -> u64 {
        self.days
            .iter()
            .fold(0u64, |sum, day| sum.saturating_add(day.successful))
    }

    fn failed(&self) -> u64 {
        self.days
            .iter()
            .fold(0u64, |sum, day| sum.saturating_add(day.failed))
    }

    /// Failed sessions by `key` of each failure detail, with the last day each was seen.
    fn failures_by<K: Ord>(
        &self,
        key: impl Fn(&crate::observe::ReportFailure) -> Option<K>,
    ) -> BTreeMap<K, (u64, Day)> {
        let mut by: BTreeMap<K, (u64, Day)> = BTreeMap::new();
        for day in &self.days {
            for failure in &day.failures {
                if let Some(key) = key(failure) {
                    let entry = by.entry(key).or_insert((0, day.day));
                    entry.0 = entry.0.saturating_add(failure.sessions);
                    entry.1 = entry.1.max(day.day);
                }
            }
        }
        by
    }

    fn span(&self) -> String {
        format!("the last {RECENT_DAYS} days (since {})", self.first)
    }
}

fn judge_coverage(
    obs: &Observations,
    reports: &ReportsEvidence,
    today: Day,
    out: &mut Findings,
) -> bool {
    let covered: Vec<Day> = reports
        .covered_days
        .iter()
        .copied()
        .filter(|&day| day <= today)
        .collect();
    let mut evidence = vec![Evidence::new(
        "reports read",
        format!(
            "{} report(s) for {} from {} file(s), covering the days from {} to {}",
            reports.reports, obs.domain, reports.files_read, reports.since, reports.read_on
        ),
    )];
    if let (Some(first), Some(last)) = (covered.first(), covered.last()) {
        evidence.push(Evidence::new(
            "days covered",
            format!("{} distinct day(s), {first} to {last}", covered.len()),
        ));
    }
    if reports.duplicates > 0 {
        evidence.push(Evidence::new(
            "duplicates",
            format!("{} report(s) read twice, counted once", reports.duplicates),
        ));
    }
    evidence.extend(unreadable_evidence(reports));

    let Some(&last) = covered.last() else {
        out.problem(
            with_evidence(
                Problem::new(
                    CheckId::ReportsCoverage,
                    format!(
                        "no TLS-RPT report for {} among the {} file(s) read: readiness cannot be \
                         judged",
                        obs.domain, reports.files_read
                    ),
                ),
                evidence,
            ),
            Subject::Domain,
        );
        return false;
    };
    let mut wrong = Vec::new();
    if covered.len() < MIN_DAYS {
        wrong.push(format!(
            "the reports cover {} distinct day(s), fewer than the {MIN_DAYS} NCSC §6 asks for",
            covered.len()
        ));
    }
    let age = today.0 - last.0;
    if age > MAX_LAST_DAY_AGE {
        wrong.push(format!(
            "the last day covered is {last}, {age} days ago (at most {MAX_LAST_DAY_AGE}): the \
             reports are stale"
        ));
    }
    if wrong.is_empty() {
        out.pass_with(
            CheckId::ReportsCoverage,
            Subject::Domain,
            format!(
                "the reports cover {} distinct days, the last on {last}",
                covered.len()
            ),
            evidence,
        );
        true
    } else {
        out.problem(
            with_evidence(
                Problem::new(CheckId::ReportsCoverage, wrong.join("; ")),
                evidence,
            ),
            Subject::Domain,
        );
        false
    }
}

fn judge_organizations(reports: &ReportsEvidence, out: &mut Findings) -> bool {
    let listed = reports
        .organizations
        .iter()
        .map(|(name, count)| format!("{name} ({count})"))
        .collect::<Vec<_>>()
        .join(", ");
    let evidence = if listed.is_empty() {
        Vec::new()
    } else {
        vec![Evidence::new("organisations (reports)", listed)]
    };
    let count = reports.organizations.len();
    if count >= MIN_ORGANIZATIONS {
        out.pass_with(
            CheckId::ReportsOrganizations,
            Subject::Domain,
            format!("reports from {count} organisations"),
            evidence,
        );
        return true;
    }
    let summary = match reports.organizations.keys().next() {
        Some(only) => format!(
            "every report comes from one organisation ({only}): one sender's view is not enough \
             to enforce on"
        ),
        None => "no reporting organisation: no report was read".to_owned(),
    };
    out.problem(
        with_evidence(
            Problem::new(CheckId::ReportsOrganizations, summary),
            evidence,
        ),
        Subject::Domain,
    );
    false
}

fn judge_policy_errors(recent: &Recent<'_>, out: &mut Findings) -> bool {
    let by_type = recent.failures_by(|failure| {
        POLICY_ERRORS
            .contains(&failure.result_type)
            .then(|| failure.result_type.clone())
    });
    if by_type.is_empty() {
        out.pass_with(
            CheckId::ReportsPolicyErrors,
            Subject::Domain,
            format!(
                "no sts-policy-fetch-error, sts-policy-invalid or sts-webpki-invalid in {}",
                recent.span()
            ),
            Vec::new(),
        );
        return true;
    }
    let mut problem = Problem::new(
        CheckId::ReportsPolicyErrors,
        format!(
            "senders could not use the policy in {}: {}",
            recent.span(),
            by_type
                .iter()
                .map(|(kind, (sessions, _))| format!("{kind} ({sessions} session(s))"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    for (kind, (sessions, last)) in &by_type {
        let checks = crate::tlsrpt_report::explain::explain(kind)
            .checks
            .iter()
            .map(|check| check.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        problem = problem.with(
            kind.as_str(),
            format!("{sessions} failed session(s), last on {last}; see {checks}"),
        );
    }
    out.problem(problem, Subject::Domain);
    false
}

/// NCSC's bands for the share of failed sessions.
fn ncsc_band(failed: u64, sessions: u64) -> &'static str {
    let percent = percent(failed, sessions);
    if failed == 0 {
        "0"
    } else if percent < 10.0 {
        "under 10 %"
    } else if percent < 50.0 {
        "under 50 %"
    } else {
        "50 % and more"
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    // Session counts stay far below 2^52, where f64 is exact.
    #[allow(clippy::cast_precision_loss)]
    let share = part as f64 / whole as f64;
    share * 100.0
}

fn judge_failure_rate(recent: &Recent<'_>, out: &mut Findings) -> bool {
    let successful = recent.successful();
    let failed = recent.failed();
    let sessions = successful.saturating_add(failed);
    if sessions == 0 {
        out.problem(
            Problem::new(
                CheckId::ReportsFailureRate,
                format!(
                    "no session was reported in {}: nothing shows that senders can deliver",
                    recent.span()
                ),
            ),
            Subject::Domain,
        );
        return false;
    }
    let rate = percent(failed, sessions);
    let band = ncsc_band(failed, sessions);
    let mut evidence = vec![
        Evidence::new(
            "sessions",
            format!("{successful} successful, {failed} failed ({rate:.2} %)"),
        ),
        Evidence::new(
            "NCSC band",
            format!("{band} (bands: 0, under 10 %, under 50 %, 50 % and more)"),
        ),
    ];
    let by_mx = recent.failures_by(|failure| {
        Some(
            failure
                .mx
                .clone()
                .unwrap_or_else(|| "(MX not given)".to_owned()),
        )
    });
    for (mx, (count, last)) in &by_mx {
        evidence.push(Evidence::new(
            format!("failed on {mx}"),
            format!("{count} session(s), last on {last}"),
        ));
    }
    let by_type = recent.failures_by(|failure| Some(failure.result_type.clone()));
    for (kind, (count, last)) in &by_type {
        evidence.push(Evidence::new(
            format!("failed with {kind}"),
            format!("{count} session(s), last on {last}"),
        ));
    }
    let detailed = by_type
        .values()
        .fold(0u64, |sum, (count, _)| sum.saturating_add(*count));
    if failed > detailed {
        evidence.push(Evidence::new(
            "failed without details",
            format!("{} session(s)", failed - detailed),
        ));
    }
    if rate < MAX_FAILURE_PERCENT {
        out.pass_with(
            CheckId::ReportsFailureRate,
            Subject::Domain,
            format!(
                "{failed} of {sessions} session(s) failed in {} ({rate:.2} %, under \
                 {MAX_FAILURE_PERCENT} %)",
                recent.span()
            ),
            evidence,
        );
        return true;
    }
    out.problem(
        with_evidence(
            Problem::new(
                CheckId::ReportsFailureRate,
                format!(
                    "{failed} of {sessions} session(s) failed in {} ({rate:.2} %, NCSC band \
                     {band}); the limit is {MAX_FAILURE_PERCENT} %",
                    recent.span()
                ),
            ),
            evidence,
        ),
        Subject::Domain,
    );
    false
}

fn judge_mx_hosts(
    obs: &Observations,
    ctx: &Context,
    reports: &ReportsEvidence,
    recent: &Recent<'_>,
    out: &mut Findings,
) -> bool {
    if obs.mx_hosts.is_empty() {
        out.skip(CheckId::ReportsMx, Subject::Domain, CheckId::MxLookup);
        return false;
    }
    let patterns: Vec<MxPattern> = reports
        .mx_patterns
        .iter()
        .filter_map(|pattern| MxPattern::parse(pattern).ok())
        .collect();
    let successful = recent.successful();
    let mut all_held = true;
    for host in &obs.mx_hosts {
        let name = host.name.as_str();
        let failures = recent.failures_by(|failure| {
            failure
                .mx
                .as_deref()
                .is_some_and(|mx| mx.eq_ignore_ascii_case(name))
                .then(|| failure.result_type.clone())
        });
        let mut wrong = Vec::new();
        let mut evidence = Vec::new();
        if !failures.is_empty() {
            let total = failures
                .values()
                .fold(0u64, |sum, (count, _)| sum.saturating_add(*count));
            wrong.push(format!(
                "senders failed {total} session(s) on {name} in {}",
                recent.span()
            ));
            for (kind, (count, last)) in &failures {
                evidence.push(Evidence::new(
                    kind.as_str(),
                    format!("{count} session(s), last on {last}"),
                ));
                if *kind == ResultType::CertificateExpired {
                    let (verdict, live) = certificate_now(host, ctx, *last);
                    wrong.push(verdict);
                    evidence.push(Evidence::new("certificate now", live));
                }
            }
        }
        if !patterns.is_empty() && !patterns.iter().any(|pattern| pattern.matches(name)) {
            wrong.push(format!(
                "the policy senders reported using does not list {name} (mx: {}), so senders \
                 that validate it cannot deliver there",
                reports.mx_patterns.join(", ")
            ));
        }
        if successful == 0 {
            wrong.push(format!(
                "no successful session was reported in {}, so no report shows {name} reached",
                recent.span()
            ));
        }
        let subject = Subject::host(name);
        if wrong.is_empty() {
            out.pass_with(
                CheckId::ReportsMx,
                subject,
                format!(
                    "no failure reported on {name} in {}, with {successful} successful \
                     session(s) for the domain (RFC 8460 counts successes per policy, not per MX)",
                    recent.span()
                ),
                evidence,
            );
        } else {
            all_held = false;
            out.problem(
                with_evidence(Problem::new(CheckId::ReportsMx, wrong.join("; ")), evidence),
                subject,
            );
        }
    }
    all_held
}

/// What the live probe says of a certificate the reports call expired up to `last_failing`:
/// the sentence for the summary and the evidence.
fn certificate_now(
    host: &crate::observe::MxHostObservation,
    ctx: &Context,
    last_failing: Day,
) -> (String, String) {
    let name = &host.name;
    let leaves: Vec<_> = host
        .smtp
        .iter()
        .filter_map(|probe| probe.tls.as_ref().and_then(|tls| tls.chain.first()))
        .collect();
    if leaves.is_empty() {
        return (
            format!(
                "the reports show an expired certificate on {name} until {last_failing}; the \
                 live probe saw no certificate to compare"
            ),
            "not seen (no TLS session with the MX in this audit)".to_owned(),
        );
    }
    let shown = |leaf: &crate::observe::CertSummary| {
        format!(
            "valid from {} to {}",
            Day::of_unix(leaf.not_before),
            Day::of_unix(leaf.not_after)
        )
    };
    if let Some(expired) = leaves.iter().find(|leaf| leaf.not_after < ctx.now) {
        return (
            format!(
                "the reports show certificate-expired on {name} and the live probe finds it \
                 expired too: it is still broken"
            ),
            format!("expired ({})", shown(expired)),
        );
    }
    // Senders met an expired certificate until that day, and every address serves a valid one
    // now: whatever its notBefore, it was put in place on or after that day.
    let verdict = format!(
        "the live probe finds a valid certificate on {name} now: it was renewed on or after \
         {last_failing}, the last failing day, so these failures should age out of the reports"
    );
    (verdict, shown(leaves[0]))
}

fn judge_ready(
    obs: &Observations,
    earlier: &Earlier<'_>,
    failed: &[CheckId],
    recent: &Recent<'_>,
    out: &mut Findings,
) {
    let subject = Subject::Domain;
    let policy = match earlier.policy {
        Ok(policy) => policy,
        Err(blocker) => {
            out.skip(CheckId::ReportsReady, subject, blocker);
            return;
        }
    };
    let Some(mode) = policy.mode else {
        out.skip(CheckId::ReportsReady, subject, CheckId::PolicyMode);
        return;
    };
    let mut reasons: Vec<String> = failed
        .iter()
        .map(|check| format!("{check} did not pass"))
        .collect();
    // The live policy must list every MX before enforce, whatever the reports say (RFC 8461
    // §4.1: under enforce, mail to an MX the policy does not list is not delivered).
    let uncovered: Vec<&str> = obs
        .mx_hosts
        .iter()
        .map(|host| host.name.as_str())
        .filter(|name| !policy.mx.iter().any(|pattern| pattern.matches(name)))
        .collect();
    if !uncovered.is_empty() {
        reasons.push(format!(
            "the policy does not list {} (mx.covered)",
            uncovered.join(", ")
        ));
    }
    let ready = reasons.is_empty();
    let not_held = reasons.join("; ");
    match mode {
        Mode::None => out.skip(CheckId::ReportsReady, subject, CheckId::PolicyModeNone),
        Mode::Testing => {
            let steps = switch_steps(obs, policy, earlier.sts_id);
            let summary = match (ready, out.profile()) {
                (true, Profile::Rfc) => {
                    "ready to switch to enforce: the reports show 14 clean days".to_owned()
                }
                (true, _) => "still in testing, though the reports would allow the switch to \
                              enforce today"
                    .to_owned(),
                (false, Profile::Rfc) => format!("not ready to switch to enforce yet: {not_held}"),
                (false, _) => format!(
                    "still in testing, and the reports would not allow the switch to enforce \
                     yet: {not_held}"
                ),
            };
            let mut problem = Problem::new(CheckId::ReportsReady, summary);
            if out.profile() == Profile::Rfc {
                // Testing is a mode the RFC allows; the individual checks carry the warnings.
                problem = problem.capped(Severity::Info);
            }
            if ready {
                problem = with_evidence(problem, steps);
            }
            out.problem(problem, subject);
        }
        Mode::Enforce if ready => out.pass_with(
            CheckId::ReportsReady,
            subject,
            format!(
                "in enforce, and the reports show no harm to delivery in {}",
                recent.span()
            ),
            Vec::new(),
        ),
        Mode::Enforce => {
            // Under enforce a failed session is a message not delivered (RFC 8461 §5).
            let hurting = recent.failed() > 0;
            let summary = if hurting {
                format!(
                    "in enforce, and the reports show enforcement hurting delivery (senders do \
                     not deliver when a check fails): {not_held}"
                )
            } else {
                format!(
                    "in enforce, but the reports cannot show that enforcement is not hurting \
                     delivery: {not_held}"
                )
            };
            out.problem(Problem::new(CheckId::ReportsReady, summary), subject);
        }
    }
}

/// The switch to enforce, step by step (NCSC §6, SGE step 5).
fn switch_steps(obs: &Observations, policy: &Policy, sts_id: Option<&str>) -> Vec<Evidence> {
    let policy_host = obs.domain.policy_host();
    let addresses = obs
        .policy_host
        .addresses()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let on = if addresses.is_empty() {
        String::new()
    } else {
        format!(" ({addresses})")
    };
    let id = sts_id.map_or_else(String::new, |id| format!(" (now `{id}`)"));
    let max_age = policy
        .max_age
        .map_or_else(String::new, |age| format!(", now {age}"));
    vec![
        Evidence::new(
            "step 1",
            "edit the policy file: `mode: testing` becomes `mode: enforce` (NCSC §6 suggests \
             max_age: 1209600 in enforce)",
        ),
        Evidence::new(
            "step 2",
            format!(
                "publish it on every address of {policy_host}{on} and wait until each serves \
                 the new file (caches and CDNs included)"
            ),
        ),
        Evidence::new(
            "step 3",
            format!(
                "then change the id of the TXT record _mta-sts.{}{id} to a new value",
                obs.domain
            ),
        ),
        Evidence::new(
            "optional",
            format!(
                "SGE step 5: before the change, lower max_age{max_age} and the TTL of the TXT \
                 record to 3600, so that a roll-back takes effect within the hour; raise them \
                 again once enforce is settled"
            ),
        ),
    ]
}

fn with_evidence(mut problem: Problem, evidence: Vec<Evidence>) -> Problem {
    problem.evidence.extend(evidence);
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Outcome};
    use crate::observe::ReportFailure;

    const TODAY: i64 = 20_000; // 2024-10-04
    const NOW: i64 = TODAY * 86_400 + 43_200;

    fn day(offset: i64) -> Day {
        Day(TODAY + offset)
    }

    /// 20 days of clean reports from two organisations, up to yesterday.
    fn clean() -> ReportsEvidence {
        let days: Vec<Day> = (-20..0).map(day).collect();
        ReportsEvidence {
            since: day(-29),
            read_on: day(0),
            files_read: 40,
            reports: 40,
            covered_days: days.clone(),
            organizations: [("Google".to_owned(), 20), ("Microsoft".to_owned(), 20)].into(),
            days: days
                .iter()
                .map(|&day| ReportDay {
                    day,
                    successful: 100,
                    failed: 0,
                    failures: Vec::new(),
                })
                .collect(),
            mx_patterns: vec!["mx.example.org".to_owned()],
            modes: vec!["testing".to_owned()],
            ..ReportsEvidence::default()
        }
    }

    fn observations(reports: Option<ReportsEvidence>) -> Observations {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.mx_hosts = vec![crate::observe::MxHostObservation {
            name: "mx.example.org".to_owned(),
            preference: 10,
            addrs: crate::observe::HostLookup {
                name: "mx.example.org".to_owned(),
                a: crate::observe::DnsAnswer::NoData,
                aaaa: crate::observe::DnsAnswer::NoData,
            },
            tlsa: crate::observe::DnsAnswer::NoData,
            smtp: Vec::new(),
            not_contacted: Vec::new(),
        }];
        obs.reports = reports;
        obs
    }

    fn policy(mode: Mode) -> Policy {
        Policy {
            mode: Some(mode),
            max_age: Some(86_401),
            mx: vec![MxPattern::parse("mx.example.org").unwrap()],
            valid: true,
            ..Policy::default()
        }
    }

    fn run(obs: &Observations, mode: Mode, profile: Profile) -> Vec<Finding> {
        let policy = policy(mode);
        let mut out = Findings::new(profile);
        let ctx = Context::new(profile, NOW);
        judge(
            obs,
            &ctx,
            &Earlier {
                policy: Ok(&policy),
                sts_id: Some("20240101"),
            },
            &mut out,
        );
        out.finish()
    }

    fn outcome(findings: &[Finding], check: CheckId) -> &'static str {
        let found: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
        assert_eq!(found.len(), 1, "{check}: {findings:#?}");
        found[0].outcome.label()
    }

    fn summary(findings: &[Finding], check: CheckId) -> String {
        let finding = findings.iter().find(|f| f.check == check).unwrap();
        format!("{} {:?}", finding.summary, finding.evidence)
    }

    #[test]
    fn without_reports_the_stage_is_skipped_naming_the_option() {
        let findings = run(&observations(None), Mode::Testing, Profile::Rfc);
        assert_eq!(findings.len(), stage_checks(Stage::Reports).count());
        for finding in &findings {
            assert_eq!(
                finding.outcome,
                Outcome::Skipped {
                    blocked_by: RunFlag::NoReports.into()
                }
            );
            assert_eq!(finding.summary, "not checked: needs --reports");
        }
    }

    #[test]
    fn clean_reports_in_testing_are_ready_and_profiles_decide_the_severity() {
        let obs = observations(Some(clean()));
        for (profile, expected) in [
            (Profile::Rfc, "info"),
            (Profile::Sge, "fail"),
            (Profile::Ncsc, "fail"),
        ] {
            let findings = run(&obs, Mode::Testing, profile);
            for check in [
                CheckId::ReportsCoverage,
                CheckId::ReportsOrganizations,
                CheckId::ReportsPolicyErrors,
                CheckId::ReportsFailureRate,
                CheckId::ReportsMx,
            ] {
                assert_eq!(outcome(&findings, check), "pass", "{check} {profile:?}");
            }
            assert_eq!(outcome(&findings, CheckId::ReportsReady), expected);
            let text = summary(&findings, CheckId::ReportsReady);
            assert!(text.contains("mode: enforce"), "{text}");
            assert!(text.contains("20240101"), "{text}");
            assert!(text.contains("3600"), "{text}");
            if profile == Profile::Rfc {
                assert!(text.starts_with("ready to switch"), "{text}");
            } else {
                assert!(text.contains("would allow the switch"), "{text}");
            }
        }
        let findings = run(&obs, Mode::Enforce, Profile::Ncsc);
        assert_eq!(outcome(&findings, CheckId::ReportsReady), "pass");
    }

    #[test]
    fn too_few_days_or_stale_reports_are_not_enough() {
        let mut few = clean();
        few.covered_days.drain(..10);
        let findings = run(&observations(Some(few)), Mode::Testing, Profile::Sge);
        assert_eq!(outcome(&findings, CheckId::ReportsCoverage), "warn");
        assert!(summary(&findings, CheckId::ReportsCoverage).contains("10 distinct day"));
        let text = summary(&findings, CheckId::ReportsReady);
        assert!(text.contains("would not allow"), "{text}");
        assert!(text.contains("reports.coverage"), "{text}");

        let mut stale = clean();
        stale.covered_days.retain(|&d| d < day(-3));
        let findings = run(
            &observations(Some(stale.clone())),
            Mode::Testing,
            Profile::Rfc,
        );
        assert_eq!(outcome(&findings, CheckId::ReportsCoverage), "warn");
        assert!(summary(&findings, CheckId::ReportsCoverage).contains("4 days ago"));
        // Three days ago is still recent.
        stale.covered_days.push(day(-3));
        let findings = run(&observations(Some(stale)), Mode::Testing, Profile::Rfc);
        assert_eq!(outcome(&findings, CheckId::ReportsCoverage), "pass");

        let none = ReportsEvidence::default();
        let findings = run(&observations(Some(none)), Mode::Enforce, Profile::Rfc);
        assert_eq!(outcome(&findings, CheckId::ReportsCoverage), "warn");
        assert_eq!(outcome(&findings, CheckId::ReportsOrganizations), "warn");
        assert_eq!(outcome(&findings, CheckId::ReportsFailureRate), "warn");
        assert!(summary(&findings, CheckId::ReportsReady).contains("cannot show"));
    }

    #[test]
    fn one_organisation_is_not_enough() {
        let mut one = clean();
        one.organizations.remove("Microsoft");
        let findings = run(&observations(Some(one)), Mode::Testing, Profile::Rfc);
        assert_eq!(outcome(&findings, CheckId::ReportsOrganizations), "warn");
        assert!(summary(&findings, CheckId::ReportsOrganizations).contains("Google"));
    }

    fn failing(
        result_type: ResultType,
        mx: Option<&str>,
        sessions: u64,
        at: i64,
    ) -> ReportsEvidence {
        let mut reports = clean();
        let entry = reports.days.iter_mut().find(|d| d.day == day(at)).unwrap();
        entry.failed += sessions;
        entry.failures.push(ReportFailure {
            result_type,
            mx: mx.map(str::to_owned),
            sessions,
        });
        reports
    }

    #[test]
    fn policy_errors_in_the_last_fourteen_days_count() {
        let reports = failing(ResultType::StsPolicyFetchError, None, 1, -5);
        let findings = run(&observations(Some(reports)), Mode::Testing, Profile::Ncsc);
        assert_eq!(outcome(&findings, CheckId::ReportsPolicyErrors), "fail");
        let text = summary(&findings, CheckId::ReportsPolicyErrors);
        assert!(text.contains("sts-policy-fetch-error"), "{text}");
        assert!(text.contains("policy-fetch.status"), "{text}");
        // One session in 1,000: under 1 %, so only the policy error stands in the way.
        assert_eq!(outcome(&findings, CheckId::ReportsFailureRate), "pass");

        // Older than the fourteen days: no longer counted.
        let reports = failing(ResultType::StsWebpkiInvalid, None, 1, -15);
        let findings = run(&observations(Some(reports)), Mode::Testing, Profile::Ncsc);
        assert_eq!(outcome(&findings, CheckId::ReportsPolicyErrors), "pass");
    }

    #[test]
    fn failure_rates_carry_ncsc_bands_by_mx_and_type() {
        // (failed sessions on one day, out of 1,300 successful in the last 14 days, band)
        let cases = [
            (0, "pass", "band 0"),
            (14, "warn", "under 10 %"),
            (400, "warn", "under 50 %"),
            (1300, "warn", "50 % and more"),
        ];
        for (failed, expected, band) in cases {
            let reports = if failed == 0 {
                clean()
            } else {
                failing(
                    ResultType::StarttlsNotSupported,
                    Some("mx.example.org"),
                    failed,
                    -2,
                )
            };
            let findings = run(&observations(Some(reports)), Mode::Enforce, Profile::Rfc);
            assert_eq!(
                outcome(&findings, CheckId::ReportsFailureRate),
                expected,
                "{failed}"
            );
            let text = summary(&findings, CheckId::ReportsFailureRate);
            assert!(text.contains(band.trim_start_matches("band ")), "{text}");
            if failed > 0 {
                assert!(text.contains("failed on mx.example.org"), "{text}");
                assert!(
                    text.contains("failed with starttls-not-supported"),
                    "{text}"
                );
                assert_eq!(outcome(&findings, CheckId::ReportsMx), "warn");
                assert!(summary(&findings, CheckId::ReportsReady).contains("hurting delivery"));
            }
        }
        assert_eq!(ncsc_band(0, 10), "0");
        assert_eq!(ncsc_band(1, 10), "under 50 %");
        assert_eq!(ncsc_band(5, 10), "50 % and more");
        assert_eq!(ncsc_band(9, 100), "under 10 %");
    }

    #[test]
    fn an_mx_the_reported_policy_does_not_list_is_named() {
        let mut reports = clean();
        reports.mx_patterns = vec!["old.example.org".to_owned()];
        let findings = run(&observations(Some(reports)), Mode::Testing, Profile::Rfc);
        assert_eq!(outcome(&findings, CheckId::ReportsMx), "warn");
        let text = summary(&findings, CheckId::ReportsMx);
        assert!(text.contains("does not list mx.example.org"), "{text}");

        let mut unreached = clean();
        for day in &mut unreached.days {
            day.successful = 0;
            day.failed = 1;
        }
        let findings = run(&observations(Some(unreached)), Mode::Testing, Profile::Rfc);
        assert!(summary(&findings, CheckId::ReportsMx).contains("no successful session"));
    }

    fn with_live_certificate(obs: &mut Observations, not_before: i64, not_after: i64) {
        obs.mx_hosts[0].smtp = vec![crate::observe::SmtpObservation {
            tls: Some(crate::observe::TlsObservation {
                version: crate::observe::TlsVersion::Tls13,
                cipher: String::new(),
                chain: vec![crate::observe::CertSummary {
                    subject: String::new(),
                    issuer: String::new(),
                    dns_names: vec!["mx.example.org".to_owned()],
                    not_before,
                    not_after,
                    serial: "01".to_owned(),
                    der: Vec::new(),
                    spki_sha256: String::new(),
                }],
                trust: Ok(()),
                name_match: Ok(()),
                chain_presented: 0,
            }),
            ..crate::observe::SmtpObservation::unanswered(
                "mx.example.org",
                "192.0.2.1".parse().unwrap(),
                "",
                None,
            )
        }];
    }

    #[test]
    fn expired_certificates_in_reports_meet_the_live_probe() {
        let reports = failing(
            ResultType::CertificateExpired,
            Some("mx.example.org"),
            50,
            -4,
        );
        let mut obs = observations(Some(reports));
        with_live_certificate(&mut obs, NOW - 2 * 86_400, NOW + 80 * 86_400);
        let findings = run(&obs, Mode::Testing, Profile::Rfc);
        let text = summary(&findings, CheckId::ReportsMx);
        assert!(text.contains("renewed on or after"), "{text}");
        assert!(text.contains(&day(-4).to_string()), "{text}");

        with_live_certificate(&mut obs, NOW - 90 * 86_400, NOW - 86_400);
        let findings = run(&obs, Mode::Testing, Profile::Rfc);
        assert!(summary(&findings, CheckId::ReportsMx).contains("still broken"));

        obs.mx_hosts[0].smtp.clear();
        let findings = run(&obs, Mode::Testing, Profile::Rfc);
        assert!(summary(&findings, CheckId::ReportsMx).contains("saw no certificate"));
    }

    #[test]
    fn ready_is_skipped_without_a_usable_policy_and_in_mode_none() {
        let obs = observations(Some(clean()));
        let findings = run(&obs, Mode::None, Profile::Rfc);
        assert_eq!(outcome(&findings, CheckId::ReportsReady), "skipped");
        let mut out = Findings::new(Profile::Rfc);
        judge(
            &obs,
            &Context::new(Profile::Rfc, NOW),
            &Earlier {
                policy: Err(CheckId::PolicyFetchStatus),
                sts_id: None,
            },
            &mut out,
        );
        let findings = out.finish();
        let ready = findings
            .iter()
            .find(|finding| finding.check == CheckId::ReportsReady)
            .unwrap();
        assert_eq!(
            ready.outcome,
            Outcome::Skipped {
                blocked_by: CheckId::PolicyFetchStatus.into()
            }
        );
        assert_eq!(outcome(&findings, CheckId::ReportsCoverage), "pass");
    }
}
