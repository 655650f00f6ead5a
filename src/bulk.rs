//! The engine for runs of many domains: every domain of a government in a minute, politely.
//!
//! - **Bounded work.** At most [`RunConfig::concurrency`] domains are in flight; the next one
//!   is taken from the list only when one finishes, so a list of 50,000 costs no more memory
//!   than a list of 64. Within a domain every stage runs concurrently where it can
//!   ([`pipeline::observe`]).
//! - **Streaming.** Each domain is judged as soon as it is observed and handed to the caller
//!   with its input index, then forgotten here. Reports arrive in **completion order**; the
//!   caller may restore input order from the index when it keeps everything anyway (the JSON
//!   document does).
//! - **A deadline per domain** ([`RunConfig::domain_timeout`]) on top of the per-step
//!   timeouts. When it passes, the questions still open are answered "failed: the domain's
//!   deadline passed", what was already observed is kept, and every problem that rests on a cut
//!   question becomes "could not determine": the domain is reported, never dropped, and never
//!   failed for the auditor's own impatience.
//! - **Politeness and sharing.** The probe is wrapped in a [`CachingProbe`]: each (MX host,
//!   address) is probed once per run and at most [`RunConfig::per_address`] SMTP sessions run
//!   at once per address; the DNS resolver's cache is shared by the whole run
//!   ([`crate::probe::dns`]). A server that answers `421` is retried, then reported as rate
//!   limited ([`crate::probe::smtp`]).
//!
//! A domain waiting for a busy address's session slot waits on its own deadline: with many MX
//! names on one address and a small `--per-address`, lengthen `--domain-timeout`.

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::model::{DomainReport, Finding, Outcome, Subject};
use crate::observe::{
    DnsAnswer, FetchObservation, FetchStep, HostLookup, MxRecord, NotContacted, Observations,
    SmtpObservation, SmtpStep, StepFailure, TxtRecord,
};
use crate::pipeline::{self, Options};
use crate::probe::caching::{CachingProbe, MemoStats};
use crate::probe::Probe;
use crate::verdict::{self, Context};

/// After the deadline, the questions still open return at once; this is only a safety net
/// should the pipeline still not finish.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Domains in flight at once (at least 1).
    pub concurrency: usize,
    /// SMTP sessions at once per MX address (at least 1).
    pub per_address: usize,
    /// The most one domain may take, whatever its steps' timeouts add up to.
    pub domain_timeout: Duration,
    pub options: Options,
    pub ctx: Context,
}

/// What a run measured; `--stats` prints it ([`print_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// From the start of [`run`] to the last report.
    pub wall: Duration,
    /// Domains reported.
    pub domains: usize,
    /// Domains whose deadline passed before everything was observed.
    pub deadlines_passed: usize,
    /// Domains whose audit panicked (a bug); they are reported as could-not-determine.
    pub internal_errors: usize,
    pub memo: MemoStats,
}

/// Prints `stats` as one JSON line on standard error (hidden `--stats`; the benchmark reads it):
/// [`crate::stats`]'s figures (wall time, peak memory, time per stage) plus the engine's own.
pub fn print_stats(stats: &RunStats) {
    let domains = u64::try_from(stats.domains).unwrap_or(u64::MAX);
    let mut object = crate::stats::RunStats::collect(domains, stats.wall).to_json();
    if let Some(fields) = object.as_object_mut() {
        fields.insert("deadlines_passed".into(), stats.deadlines_passed.into());
        fields.insert("internal_errors".into(), stats.internal_errors.into());
        fields.insert("smtp_requests".into(), stats.memo.smtp_requests.into());
        fields.insert("smtp_probes".into(), stats.memo.smtp_probes.into());
    }
    // Statistics are a courtesy; a closed standard error must not fail the run.
    let _ = writeln!(io::stderr().lock(), "{object}");
}

/// Audits every domain of `domains` through `probe` and hands each report, with the domain's
/// index in `domains`, to `on_report` as soon as it is judged (completion order).
///
/// Domains are taken from the iterator only as slots free up. An error from `on_report`
/// (standard output closed) stops the run: the domains in flight are abandoned and the error
/// returned.
pub async fn run<P, F>(
    probe: P,
    domains: impl IntoIterator<Item = String>,
    config: &RunConfig,
    mut on_report: F,
) -> io::Result<RunStats>
where
    P: Probe + 'static,
    F: FnMut(usize, DomainReport) -> io::Result<()>,
{
    let started = Instant::now();
    let probe = Arc::new(CachingProbe::new(probe, config.per_address));
    let job = Arc::new(Job {
        options: config.options.clone(),
        ctx: config.ctx,
        domain_timeout: config.domain_timeout,
    });
    let concurrency = config.concurrency.max(1);
    let mut pending = domains.into_iter().enumerate();
    let mut tasks = JoinSet::new();
    // Only the domains in flight, to name one whose task panicked.
    let mut in_flight: HashMap<tokio::task::Id, (usize, String)> = HashMap::new();
    let mut stats = RunStats::default();
    loop {
        while tasks.len() < concurrency {
            let Some((index, domain)) = pending.next() else {
                break;
            };
            let (probe, job, name) = (probe.clone(), job.clone(), domain.clone());
            let handle = tasks.spawn(async move { audit(&*probe, &name, &job).await });
            in_flight.insert(handle.id(), (index, domain));
        }
        let Some(joined) = tasks.join_next_with_id().await else {
            break;
        };
        let (id, result) = match joined {
            Ok((id, audited)) => (id, Ok(audited)),
            Err(error) => (error.id(), Err(error)),
        };
        let Some((index, domain)) = in_flight.remove(&id) else {
            continue;
        };
        let report = match result {
            Ok(audited) => {
                if audited.deadline_passed {
                    stats.deadlines_passed += 1;
                }
                audited.report
            }
            Err(error) => {
                stats.internal_errors += 1;
                let reason = format!(
                    "internal error while auditing this domain: {}",
                    panic_message(error)
                );
                verdict::judge(&unobserved(&domain, &reason), &job.ctx)
            }
        };
        stats.domains += 1;
        on_report(index, report)?;
    }
    stats.wall = started.elapsed();
    stats.memo = probe.stats();
    Ok(stats)
}

/// What every domain's task needs, shared.
struct Job {
    options: Options,
    ctx: Context,
    domain_timeout: Duration,
}

struct Audited {
    report: DomainReport,
    deadline_passed: bool,
}

/// Observes and judges one domain within its deadline.
async fn audit<P: Probe>(probe: &P, domain: &str, job: &Job) -> Audited {
    let reason = deadline_reason(job.domain_timeout);
    let deadline = Instant::now() + job.domain_timeout;
    let limited = DeadlineProbe {
        inner: probe,
        deadline,
        reason: &reason,
        cut: Mutex::new(Cut::default()),
    };
    let observed = tokio::time::timeout_at(
        deadline + DEADLINE_GRACE,
        pipeline::observe(&limited, domain, &job.options),
    )
    .await;
    let cut = limited
        .cut
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let (observations, deadline_passed) = match observed {
        Ok(observations) => (observations, cut.any),
        Err(_) => (unobserved(domain, &reason), true),
    };
    let mut report = verdict::judge(&observations, &job.ctx);
    if deadline_passed {
        blame_the_deadline(&mut report.findings, &cut.endpoints, &reason);
    }
    Audited {
        report,
        deadline_passed,
    }
}

/// "the domain's deadline of 180 s (--domain-timeout) passed".
fn deadline_reason(timeout: Duration) -> String {
    let shown = if timeout.subsec_millis() == 0 {
        format!("{} s", timeout.as_secs())
    } else {
        format!("{:.1} s", timeout.as_secs_f64())
    };
    format!("the domain's deadline of {shown} (--domain-timeout) passed")
}

/// Observations of a domain none of whose questions was answered, each failing for `reason`.
fn unobserved(domain: &str, reason: &str) -> Observations {
    fn failed<T>(reason: &str) -> DnsAnswer<T> {
        DnsAnswer::Failed {
            reason: reason.to_owned(),
        }
    }
    let mut observations = Observations::empty(domain);
    observations.sts_txt = failed(reason);
    observations.policy_host.a = failed(reason);
    observations.policy_host.aaaa = failed(reason);
    observations.mx = failed(reason);
    observations.tlsrpt_txt = failed(reason);
    observations
}

/// A problem found only because the deadline cut a question short says nothing about the
/// domain: it becomes "could not determine". That is every problem about an address whose
/// fetch or probe was cut, and every problem whose text quotes the deadline.
fn blame_the_deadline(findings: &mut [Finding], endpoints: &[(String, IpAddr)], reason: &str) {
    for finding in findings {
        if !matches!(finding.outcome, Outcome::Fail | Outcome::Warn) {
            continue;
        }
        let cut_endpoint = match &finding.subject {
            Subject::Endpoint { host, ip } => endpoints
                .iter()
                .any(|(cut_host, cut_ip)| cut_host == host && cut_ip == ip),
            Subject::Domain | Subject::Host { .. } => false,
        };
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

fn panic_message(error: tokio::task::JoinError) -> String {
    if error.is_cancelled() {
        return "the task was cancelled".to_owned();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// What the deadline cut short.
#[derive(Debug, Default)]
struct Cut {
    any: bool,
    /// (host, address) of the fetches and SMTP probes that were cut.
    endpoints: Vec<(String, IpAddr)>,
}

/// A probe whose every answer is due by `deadline`; a question still open then is answered
/// as failed for `reason`, and one asked after it is not asked at all.
struct DeadlineProbe<'a, P> {
    inner: &'a P,
    deadline: Instant,
    reason: &'a str,
    cut: Mutex<Cut>,
}

impl<P: Probe> DeadlineProbe<'_, P> {
    async fn within<T>(
        &self,
        work: impl Future<Output = T>,
        endpoint: Option<(&str, IpAddr)>,
    ) -> Option<T> {
        if Instant::now() < self.deadline {
            if let Ok(answer) = tokio::time::timeout_at(self.deadline, work).await {
                return Some(answer);
            }
        }
        let mut cut = self.cut.lock().unwrap_or_else(PoisonError::into_inner);
        cut.any = true;
        if let Some((host, ip)) = endpoint {
            cut.endpoints.push((host.to_owned(), ip));
        }
        None
    }

    fn failed<T>(&self) -> DnsAnswer<T> {
        DnsAnswer::Failed {
            reason: self.reason.to_owned(),
        }
    }

    /// [`NotContacted::DeadlinePassed`] if the deadline has passed already, before a question
    /// about an address is asked.
    fn late(&self) -> Option<NotContacted> {
        (Instant::now() >= self.deadline).then_some(NotContacted::DeadlinePassed)
    }

    fn deadline_failure<S>(&self, step: S) -> StepFailure<S> {
        StepFailure {
            step,
            timed_out: true,
            detail: self.reason.to_owned(),
        }
    }
}

impl<P: Probe> Probe for DeadlineProbe<'_, P> {
    async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
        let answer = self.within(self.inner.txt(name), None).await;
        answer.unwrap_or_else(|| self.failed())
    }

    async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
        let answer = self.within(self.inner.mx(name), None).await;
        answer.unwrap_or_else(|| self.failed())
    }

    async fn addrs(&self, name: &str) -> HostLookup {
        let answer = self.within(self.inner.addrs(name), None).await;
        answer.unwrap_or_else(|| HostLookup {
            name: name.to_owned(),
            a: self.failed(),
            aaaa: self.failed(),
        })
    }

    async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
        let answer = self.within(self.inner.tlsa(name), None).await;
        answer.unwrap_or_else(|| self.failed())
    }

    async fn fetch_policy(&self, host: &str, ip: IpAddr) -> FetchObservation {
        let started = Instant::now();
        let late = self.late();
        let work = self.inner.fetch_policy(host, ip);
        let answer = self.within(work, Some((host, ip))).await;
        answer.unwrap_or_else(|| FetchObservation {
            ip,
            elapsed: started.elapsed(),
            tls: None,
            result: Err(self.deadline_failure(FetchStep::Deadline)),
            not_contacted: late,
        })
    }

    async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
        let late = self.late();
        let answer = self
            .within(self.inner.smtp(host, ip), Some((host, ip)))
            .await;
        answer.unwrap_or_else(|| {
            let mut obs = SmtpObservation::unanswered(
                host,
                ip,
                self.reason,
                Some(self.deadline_failure(SmtpStep::Deadline)),
            );
            if late.is_some() {
                obs.attempts = 0;
            }
            obs.not_contacted = late;
            obs
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::catalog::{CheckId, Profile};
    use crate::model::Evidence;

    /// Every lookup takes `delay` and finds nothing; `hang` makes the MX lookup of names
    /// starting with "slow" never answer. Counts domains in flight through their STS lookup.
    struct Fake {
        delay: Duration,
        in_flight: AtomicUsize,
        most_in_flight: AtomicUsize,
    }

    impl Fake {
        fn new(delay: Duration) -> Self {
            Self {
                delay,
                in_flight: AtomicUsize::new(0),
                most_in_flight: AtomicUsize::new(0),
            }
        }
    }

    impl Probe for Fake {
        async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
            if name.starts_with("_mta-sts.") {
                let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.most_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                return DnsAnswer::records(vec![TxtRecord::single("v=STSv1; id=1")]);
            }
            DnsAnswer::NoData
        }
        async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
            if name.starts_with("slow") {
                std::future::pending::<()>().await;
            }
            DnsAnswer::NoData
        }
        async fn addrs(&self, name: &str) -> HostLookup {
            HostLookup {
                name: name.to_owned(),
                a: DnsAnswer::NoData,
                aaaa: DnsAnswer::NoData,
            }
        }
        async fn tlsa(&self, _: &str) -> DnsAnswer<Vec<String>> {
            DnsAnswer::NoData
        }
        async fn fetch_policy(&self, _: &str, _: IpAddr) -> FetchObservation {
            unreachable!("no policy host has an address")
        }
        async fn smtp(&self, _: &str, _: IpAddr) -> SmtpObservation {
            unreachable!("no MX host has an address")
        }
    }

    fn config(concurrency: usize, domain_timeout: Duration) -> RunConfig {
        RunConfig {
            concurrency,
            per_address: 2,
            domain_timeout,
            options: Options::default(),
            ctx: Context {
                profile: Profile::Rfc,
                now: 1_750_000_000,
            },
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrency_is_bounded_and_the_list_is_read_lazily() {
        let pulled = Arc::new(AtomicUsize::new(0));
        let domains = {
            let pulled = pulled.clone();
            (0..200).map(move |n| {
                pulled.fetch_add(1, Ordering::SeqCst);
                format!("d{n}.test")
            })
        };
        let mut pulled_at_first_report = None;
        let mut seen = Vec::new();
        let fake = Fake::new(Duration::from_millis(5));
        let stats = run(
            fake,
            domains,
            &config(7, Duration::from_secs(30)),
            |index, report| {
                pulled_at_first_report.get_or_insert(pulled.load(Ordering::SeqCst));
                assert_eq!(report.domain, format!("d{index}.test"));
                seen.push(index);
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(stats.domains, 200);
        seen.sort_unstable();
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
        // Not one task per domain up front: the list is read as slots free up.
        assert!(
            pulled_at_first_report.unwrap() <= 8,
            "{pulled_at_first_report:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_domains_in_flight_than_allowed() {
        for concurrency in [1, 3, 16] {
            let domains = (0..40).map(|n| format!("d{n}.test"));
            let fake = Fake::new(Duration::from_millis(10));
            let most = Arc::new(AtomicUsize::new(0));
            let counted = Counting {
                inner: fake,
                most: most.clone(),
            };
            run(
                counted,
                domains,
                &config(concurrency, Duration::from_secs(30)),
                |_, _| Ok(()),
            )
            .await
            .unwrap();
            assert_eq!(most.load(Ordering::SeqCst), concurrency, "{concurrency}");
        }
    }

    /// Hands `most_in_flight` out when dropped (the engine owns the probe).
    struct Counting {
        inner: Fake,
        most: Arc<AtomicUsize>,
    }

    impl Drop for Counting {
        fn drop(&mut self) {
            self.most.store(
                self.inner.most_in_flight.load(Ordering::SeqCst),
                Ordering::SeqCst,
            );
        }
    }

    impl Probe for Counting {
        async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
            self.inner.txt(name).await
        }
        async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
            self.inner.mx(name).await
        }
        async fn addrs(&self, name: &str) -> HostLookup {
            self.inner.addrs(name).await
        }
        async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
            self.inner.tlsa(name).await
        }
        async fn fetch_policy(&self, host: &str, ip: IpAddr) -> FetchObservation {
            self.inner.fetch_policy(host, ip).await
        }
        async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
            self.inner.smtp(host, ip).await
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_domain_past_its_deadline_is_reported_undetermined_and_others_are_not_held() {
        let domains = ["slow.test", "fast.test"].map(str::to_owned);
        let started = Instant::now();
        let mut reports = Vec::new();
        let fake = Fake::new(Duration::ZERO);
        let stats = run(
            fake,
            domains,
            &config(4, Duration::from_millis(300)),
            |_, report| {
                reports.push((started.elapsed(), report));
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(stats.deadlines_passed, 1);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // Completion order: the fast domain first.
        assert_eq!(reports[0].1.domain, "fast.test");
        assert!(reports[0].0 < Duration::from_millis(250));
        let slow = &reports[1].1;
        assert_eq!(slow.domain, "slow.test");
        let mx_lookup = slow
            .findings
            .iter()
            .find(|finding| finding.check == CheckId::MxLookup)
            .unwrap();
        match &mx_lookup.outcome {
            Outcome::CouldNotDetermine { reason } => {
                assert!(reason.contains("deadline of 0.3 s"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // What was observed before the deadline is kept.
        let record = slow
            .findings
            .iter()
            .find(|finding| finding.check == CheckId::StsRecordPresent)
            .unwrap();
        assert_eq!(record.outcome, Outcome::Pass);
        let failed: Vec<CheckId> = slow
            .findings
            .iter()
            .filter(|finding| matches!(finding.outcome, Outcome::Fail | Outcome::Warn))
            .map(|finding| finding.check)
            .collect();
        // The fake's policy host has no address and there is no TLS-RPT record: real
        // problems, observed in time.
        assert_eq!(
            failed,
            [CheckId::PolicyHostResolves, CheckId::TlsRptPresent],
            "{:#?}",
            slow.findings
        );
    }

    #[tokio::test]
    async fn a_closed_output_stops_the_run() {
        let domains = (0..50).map(|n| format!("d{n}.test"));
        let mut calls = 0;
        let fake = Fake::new(Duration::ZERO);
        let result = run(fake, domains, &config(2, Duration::from_secs(5)), |_, _| {
            calls += 1;
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        })
        .await;
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn an_address_asked_about_after_the_deadline_is_not_contacted() {
        let fake = Fake::new(Duration::ZERO);
        let late = DeadlineProbe {
            inner: &fake,
            deadline: Instant::now(),
            reason: "the deadline passed",
            cut: Mutex::default(),
        };
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let smtp = late.smtp("mx.a.test", ip).await;
        assert_eq!(smtp.not_contacted, Some(NotContacted::DeadlinePassed));
        assert_eq!(smtp.attempts, 0);
        assert_eq!(smtp.failure.map(|f| f.step), Some(SmtpStep::Deadline));
        let fetch = late.fetch_policy("mta-sts.a.test", ip).await;
        assert_eq!(fetch.not_contacted, Some(NotContacted::DeadlinePassed));
        assert_eq!(fetch.result.map_err(|f| f.step), Err(FetchStep::Deadline));
        assert_eq!(late.cut.lock().unwrap().endpoints.len(), 2);
    }

    #[test]
    fn deadline_reasons_read_well() {
        assert_eq!(
            deadline_reason(Duration::from_secs(180)),
            "the domain's deadline of 180 s (--domain-timeout) passed"
        );
        assert!(deadline_reason(Duration::from_millis(1500)).contains("1.5 s"));
    }

    #[test]
    fn only_problems_resting_on_the_deadline_are_excused() {
        let reason = deadline_reason(Duration::from_secs(2));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let finding = |check, subject, outcome, summary: &str, evidence: &str| Finding {
            check,
            subject,
            outcome,
            summary: summary.to_owned(),
            evidence: vec![Evidence::new("detail", evidence)],
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
        blame_the_deadline(&mut findings, &[("mta-sts.a.test".to_owned(), ip)], &reason);
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

    #[test]
    fn an_unobserved_domain_is_undetermined_not_failed() {
        let reason = "internal error while auditing this domain: boom";
        let report = verdict::judge(
            &unobserved("a.test", reason),
            &Context {
                profile: Profile::Sge,
                now: 0,
            },
        );
        assert!(!report.findings.is_empty());
        assert!(report
            .findings
            .iter()
            .all(|finding| !matches!(finding.outcome, Outcome::Fail | Outcome::Warn)));
        assert!(report.findings.iter().any(|finding| matches!(
            &finding.outcome,
            Outcome::CouldNotDetermine { reason: r } if r.contains("boom")
        )));
    }
}
