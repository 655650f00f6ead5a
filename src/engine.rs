//! The engine for runs of many domains: every domain of a government in a minute, politely.
//!
//! - **Bounded work.** At most [`RunConfig::concurrency`] domains are in flight; the next one
//!   is taken from the list only when one finishes, so a list of 50,000 costs no more memory
//!   than a list of 64. Within a domain every stage runs concurrently where it can
//!   ([`crate::audit::observe`]).
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
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::audit::{audit, unobserved, Options};
use crate::model::DomainReport;
use crate::name::DomainName;
use crate::observe::Observations;
use crate::probe::caching::{CachingProbe, MemoStats};
use crate::probe::Probe;
use crate::stats::Stopwatch;
use crate::verdict::{self, Context};

/// What every domain's task needs, shared.
struct Job {
    options: Options,
    ctx: Context,
    domain_timeout: Duration,
}

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Domains in flight at once (at least 1).
    pub concurrency: usize,
    /// SMTP sessions at once per MX address (at least 1).
    pub per_address: usize,
    /// The most one domain may take, whatever its steps' timeouts add up to.
    pub domain_timeout: Duration,
    /// `--probe-every-name`: probe each (MX name, address) on its own instead of sharing one
    /// session among the names of an SNI-invariant address ([`CachingProbe`]).
    pub probe_every_name: bool,
    /// `--ordered`: hand reports out in input order. Finished domains wait in a reorder buffer
    /// of at most [`reorder_window`] reports; no domain further ahead of the oldest unfinished
    /// one is started until it finishes.
    pub ordered: bool,
    pub options: Options,
    pub ctx: Context,
}

/// The reorder buffer of an `--ordered` run: domains may run this far ahead of the oldest one
/// still in flight (a few times the concurrency, so that one slow domain does not stall the
/// others at once, and memory stays bounded by it).
pub fn reorder_window(concurrency: usize) -> usize {
    concurrency.max(1).saturating_mul(4).max(64)
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
/// [`crate::stats`]'s figures (wall time, peak memory, time per stage) plus the engine's own
/// and, when given, the DNS client's (questions, retries, the window).
pub fn print_stats(stats: &RunStats, dns: Option<crate::probe::dns::DnsSummary>) {
    let domains = u64::try_from(stats.domains).unwrap_or(u64::MAX);
    let mut object = crate::stats::RunStats::collect(domains, stats.wall).to_json();
    if let Some(fields) = object.as_object_mut() {
        fields.insert("deadlines_passed".into(), stats.deadlines_passed.into());
        fields.insert("internal_errors".into(), stats.internal_errors.into());
        fields.insert("smtp_requests".into(), stats.memo.smtp_requests.into());
        fields.insert("smtp_probes".into(), stats.memo.smtp_probes.into());
        fields.insert("smtp_shared".into(), stats.memo.smtp_shared.into());
        if let Some(dns) = dns {
            fields.insert(
                "dns".into(),
                serde_json::json!({
                    "questions": dns.questions,
                    "retried": dns.retried,
                    "throttled": dns.throttled,
                    "failed": dns.failed,
                    "waited": dns.waited,
                    "window_limit": dns.largest_window,
                    "window_smallest": dns.smallest_window,
                }),
            );
        }
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
    domains: impl IntoIterator<Item = DomainName>,
    config: &RunConfig,
    mut on_report: F,
) -> io::Result<RunStats>
where
    P: Probe + 'static,
    F: FnMut(usize, DomainReport) -> io::Result<()>,
{
    run_observed(probe, domains, config, |index, report, _| {
        on_report(index, report)
    })
    .await
}

/// [`run`], handing `on_report` the observations each report was judged from as well (saved
/// evidence, the comparison with a baseline).
pub async fn run_observed<P, F>(
    probe: P,
    domains: impl IntoIterator<Item = DomainName>,
    config: &RunConfig,
    mut on_report: F,
) -> io::Result<RunStats>
where
    P: Probe + 'static,
    F: FnMut(usize, DomainReport, Observations) -> io::Result<()>,
{
    let started = Stopwatch::start();
    let probe = Arc::new(
        CachingProbe::new(probe, config.per_address).with_sharing(!config.probe_every_name),
    );
    let job = Arc::new(Job {
        options: config.options.clone(),
        ctx: config.ctx,
        domain_timeout: config.domain_timeout,
    });
    let concurrency = config.concurrency.max(1);
    let mut pending = domains.into_iter().enumerate();
    let mut tasks = JoinSet::new();
    // Only the domains in flight, to name one whose task panicked.
    let mut in_flight: HashMap<tokio::task::Id, (usize, DomainName)> = HashMap::new();
    let mut stats = RunStats::default();
    // `--ordered`: finished reports waiting for an earlier one, and the next index to hand out.
    let window = config.ordered.then(|| reorder_window(concurrency));
    let mut waiting: std::collections::BTreeMap<usize, (DomainReport, Observations)> =
        Default::default();
    let mut next_out = 0usize;
    let mut next_in = 0usize;
    loop {
        while tasks.len() < concurrency {
            if window.is_some_and(|window| next_in >= next_out + window) {
                break;
            }
            let Some((index, domain)) = pending.next() else {
                break;
            };
            next_in = index + 1;
            let (probe, job, name) = (probe.clone(), job.clone(), domain.clone());
            let handle = tasks.spawn(async move {
                audit(&*probe, &name, &job.options, &job.ctx, job.domain_timeout).await
            });
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
        let (report, observations) = match result {
            Ok(audited) => {
                if audited.deadline_passed {
                    stats.deadlines_passed += 1;
                }
                (audited.report, audited.observations)
            }
            Err(error) => {
                stats.internal_errors += 1;
                let reason = format!(
                    "internal error while auditing this domain: {}",
                    panic_message(error)
                );
                let observations = unobserved(&domain, &reason);
                (verdict::judge(&observations, &job.ctx), observations)
            }
        };
        stats.domains += 1;
        if window.is_none() {
            on_report(index, report, observations)?;
            continue;
        }
        waiting.insert(index, (report, observations));
        while let Some((report, observations)) = waiting.remove(&next_out) {
            on_report(next_out, report, observations)?;
            next_out += 1;
        }
    }
    stats.wall = started.elapsed();
    stats.memo = probe.stats();
    Ok(stats)
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

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "the tests time the engine")]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use std::net::IpAddr;

    use tokio::time::Instant;

    use super::*;
    use crate::catalog::{CheckId, Profile};
    use crate::model::Outcome;
    use crate::observe::{
        DnsAnswer, FetchObservation, FetchStep, HostLookup, MxRecord, NotContacted,
        SmtpObservation, SmtpStep, TxtRecord,
    };
    use crate::probe::deadline::DeadlineProbe;

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
            probe_every_name: false,
            ordered: false,
            options: Options::default(),
            ctx: Context::new(Profile::Rfc, 1_750_000_000),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrency_is_bounded_and_the_list_is_read_lazily() {
        let pulled = Arc::new(AtomicUsize::new(0));
        let domains = {
            let pulled = pulled.clone();
            (0..200).map(move |n| {
                pulled.fetch_add(1, Ordering::SeqCst);
                DomainName::parse(&format!("d{n}.test")).unwrap()
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

    /// Later domains answer sooner: `dN` waits (30 - N) × 2 ms on its STS lookup.
    struct Staggered;

    impl Probe for Staggered {
        async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
            let n: u64 = name
                .trim_start_matches("_mta-sts.d")
                .trim_end_matches(".test")
                .parse()
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(30u64.saturating_sub(n) * 2)).await;
            DnsAnswer::NoData
        }
        async fn mx(&self, _: &str) -> DnsAnswer<Vec<MxRecord>> {
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ordered_runs_hand_reports_out_in_input_order() {
        for ordered in [false, true] {
            let domains = (0..30).map(|n| DomainName::parse(&format!("d{n}.test")).unwrap());
            let mut cfg = config(8, Duration::from_secs(30));
            cfg.ordered = ordered;
            let mut seen = Vec::new();
            run(Staggered, domains, &cfg, |index, report| {
                assert_eq!(report.domain, format!("d{index}.test"));
                seen.push(index);
                Ok(())
            })
            .await
            .unwrap();
            let in_order = seen == (0..30).collect::<Vec<_>>();
            assert_eq!(in_order, ordered, "ordered={ordered}: {seen:?}");
        }
        assert_eq!(reorder_window(8), 64);
        assert_eq!(reorder_window(64), 256);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_domains_in_flight_than_allowed() {
        for concurrency in [1, 3, 16] {
            let domains = (0..40).map(|n| DomainName::parse(&format!("d{n}.test")).unwrap());
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
        let domains = ["slow.test", "fast.test"].map(|name| DomainName::parse(name).unwrap());
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
        let domains = (0..50).map(|n| DomainName::parse(&format!("d{n}.test")).unwrap());
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
        let late = DeadlineProbe::new(&fake, Duration::ZERO, "the deadline passed");
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let smtp = late.smtp("mx.a.test", ip).await;
        assert_eq!(smtp.not_contacted, Some(NotContacted::DeadlinePassed));
        assert_eq!(smtp.attempts, 0);
        assert_eq!(smtp.failure.map(|f| f.step), Some(SmtpStep::Deadline));
        let fetch = late.fetch_policy("mta-sts.a.test", ip).await;
        assert_eq!(fetch.not_contacted, Some(NotContacted::DeadlinePassed));
        assert_eq!(fetch.result.map_err(|f| f.step), Err(FetchStep::Deadline));
        assert_eq!(late.into_cut().unwrap().endpoints.len(), 2);
    }
}
