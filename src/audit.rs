//! One domain's audit: [`observe`] runs the network stages through a [`Probe`], concurrently
//! wherever one stage does not need another's answer, and collects [`Observations`]; [`audit`]
//! does that within the domain's deadline and hands the observations to [`verdict::judge`].
//!
//! Every probe call is timed into [`crate::stats::stage_clock`] (DNS, policy fetch, SMTP), for
//! `check --stats` and the benchmark; the timing does not change what is observed.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::model::DomainReport;
use crate::name::{DomainName, HostName};
use crate::net::address::is_public;
use crate::observe::{
    DeadlineCut, DnsAnswer, HostLookup, HttpsRuaObservation, MisplacedRecord, MxHostObservation,
    MxRecord, NotContacted, Observations, ReportsEvidence, Uncontacted,
};
use crate::parse::tlsrpt_record::analyse_tlsrpt_records;
use crate::probe::deadline::DeadlineProbe;
use crate::probe::{Limits, Probe};
use crate::stats::{timed, Stage};
use crate::tlsrpt_report::evidence::ReportsByDomain;
use crate::verdict::{self, Context};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub skip_smtp: bool,
    /// `--allow-private`: also contact non-public addresses. Without it they are not contacted
    /// (the verdict reports them as `policy-host.public-address` / `mx.public-address`); the
    /// live probe refuses them as well, so this filter is not the only line of defence.
    pub allow_private: bool,
    pub limits: Limits,
    /// `--reports`: the TLS-RPT reports read before the audit, for the `reports.*` checks;
    /// `None` skips them.
    pub reports: Option<Arc<ReportsByDomain>>,
}

/// How long the other questions wait for the domain's MX answer (see [`observe`]): longer
/// than a resolver's answer from its cache or a nearby authority, short enough that a slow MX
/// lookup costs the other stages little.
pub const MX_HEAD_START: Duration = Duration::from_millis(250);

/// Observes one domain.
///
/// The domain's own MX question goes first, with a head start of [`MX_HEAD_START`]: if the
/// domain does not exist (NXDOMAIN at the name itself), nothing exists below it either
/// (RFC 8020 §2), so `_mta-sts`, `mta-sts`, `_smtp._tls` and the misplaced-record names are
/// answered NXDOMAIN without being asked, and the audit costs one question instead of a dozen.
/// The others start as soon as it answers, or when the head start is over; they are off the
/// critical path (the MX hosts' addresses and SMTP sessions follow the MX answer anyway), and a
/// slow MX answer does not hold them back for longer than the head start.
pub async fn observe<P: Probe>(probe: &P, domain: &DomainName, options: &Options) -> Observations {
    let mut mx_lookup = std::pin::pin!(timed(Stage::Dns, probe.mx(domain.as_str())));
    let early = tokio::time::timeout(MX_HEAD_START, mx_lookup.as_mut())
        .await
        .ok();
    if matches!(early, Some(DnsAnswer::NxDomain)) {
        return nonexistent(domain, options);
    }
    let policy_host = domain.policy_host();
    let policy_host = policy_host.as_str();
    let sts_name = domain.sts_record();
    let tlsrpt_name = domain.tlsrpt_record();

    let sts = async {
        let answer = timed(Stage::Dns, probe.txt(&sts_name)).await;
        // Only a missing record sends us looking elsewhere; after a failed lookup nothing is
        // known to be missing, and a resolver that never answers would make the audit wait
        // twice (issue 12).
        let misplaced = if has_record_with_prefix(&answer, b"v=STSv1")
            || matches!(answer, DnsAnswer::Failed { .. })
        {
            Vec::new()
        } else {
            find_misplaced(probe, domain.misplaced_sts_records(), b"v=STSv1").await
        };
        (answer, misplaced)
    };
    let fetches = async {
        let lookup = timed(Stage::Dns, probe.addrs(policy_host)).await;
        let (addrs, not_contacted) = contactable(lookup.addresses(), options);
        let fetches = join_all(
            addrs
                .iter()
                .map(|&ip| timed(Stage::PolicyFetch, probe.fetch_policy(policy_host, ip))),
        )
        .await;
        (lookup, fetches, not_contacted)
    };
    let mx = async {
        let answer = match early {
            Some(answer) => answer,
            None => mx_lookup.await,
        };
        let domain_addrs = match &answer {
            DnsAnswer::NoData => Some(timed(Stage::Dns, probe.addrs(domain.as_str())).await),
            _ => None,
        };
        let hosts = mx_hosts(domain, &answer, options.limits.max_mx_hosts);
        let observed = join_all(hosts.iter().map(|mx| observe_mx_host(probe, mx, options))).await;
        (answer, domain_addrs, observed)
    };
    let tlsrpt = async {
        let answer = timed(Stage::Dns, probe.txt(&tlsrpt_name)).await;
        let misplaced = if has_record_with_prefix(&answer, b"v=TLSRPTv1")
            || matches!(answer, DnsAnswer::Failed { .. })
        {
            Vec::new()
        } else {
            find_misplaced(probe, domain.misplaced_tlsrpt_records(), b"v=TLSRPTv1").await
        };
        let record = answer
            .data()
            .and_then(|records| analyse_tlsrpt_records(records).0);
        let domains = capped(
            record
                .as_ref()
                .map(|record| record.mailto_domains())
                .unwrap_or_default(),
            MAX_RUA_DESTINATIONS,
        );
        let endpoints = capped(
            record
                .as_ref()
                .map(|record| record.https_endpoints())
                .unwrap_or_default(),
            MAX_RUA_DESTINATIONS,
        );
        let (answers, rua_https) = tokio::join!(
            join_all(domains.iter().map(|name| timed(Stage::Dns, probe.mx(name)))),
            join_all(
                endpoints
                    .into_iter()
                    .map(|(uri, host, port)| observe_https_rua(probe, uri, host, port, options))
            )
        );
        let rua_domains = domains.into_iter().zip(answers).collect();
        (answer, misplaced, rua_domains, rua_https)
    };

    let (
        (sts_txt, sts_misplaced),
        (policy_host, fetches, policy_not_contacted),
        (mx, domain_addrs, mx_hosts),
        tlsrpt,
    ) = tokio::join!(sts, fetches, mx, tlsrpt);
    let (tlsrpt_txt, tlsrpt_misplaced, rua_domains, rua_https) = tlsrpt;

    Observations {
        schema_version: crate::observe::OBSERVATIONS_SCHEMA_VERSION,
        domain: domain.clone(),
        sts_txt,
        sts_misplaced,
        policy_host,
        fetches,
        policy_not_contacted,
        mx,
        domain_addrs,
        mx_hosts,
        smtp_skipped: options.skip_smtp,
        private_allowed: options.allow_private,
        tlsrpt_txt,
        tlsrpt_misplaced,
        rua_domains,
        rua_https,
        deadline: None,
        reports: reports_for(domain, options),
    }
}

/// The `--reports` evidence for `domain`, if the option was given.
fn reports_for(domain: &DomainName, options: &Options) -> Option<ReportsEvidence> {
    options
        .reports
        .as_ref()
        .map(|reports| reports.get(domain.as_str()))
}

/// Observations of a domain whose MX question was answered NXDOMAIN: every name at or below it
/// is NXDOMAIN too (RFC 8020 §2), so none was asked.
fn nonexistent(domain: &DomainName, options: &Options) -> Observations {
    let mut observations = Observations::empty(domain);
    observations.sts_txt = DnsAnswer::NxDomain;
    observations.policy_host.a = DnsAnswer::NxDomain;
    observations.policy_host.aaaa = DnsAnswer::NxDomain;
    observations.mx = DnsAnswer::NxDomain;
    observations.tlsrpt_txt = DnsAnswer::NxDomain;
    observations.smtp_skipped = options.skip_smtp;
    observations.private_allowed = options.allow_private;
    observations.reports = reports_for(domain, options);
    observations
}

/// The MX hosts senders would try, in preference order; the domain itself for an implicit MX.
fn mx_hosts(domain: &DomainName, answer: &DnsAnswer<Vec<MxRecord>>, cap: usize) -> Vec<MxRecord> {
    match answer {
        DnsAnswer::Records { data, .. } => {
            let mut hosts: Vec<MxRecord> = data
                .iter()
                .filter(|mx| !mx.exchange.is_empty())
                .cloned()
                .collect();
            hosts.sort_by(|a, b| {
                a.preference
                    .cmp(&b.preference)
                    .then(a.exchange.cmp(&b.exchange))
            });
            hosts.dedup_by(|a, b| a.exchange == b.exchange);
            capped(hosts, cap)
        }
        DnsAnswer::NoData => vec![MxRecord {
            preference: 0,
            exchange: domain.to_string(),
        }],
        DnsAnswer::NxDomain | DnsAnswer::Failed { .. } => Vec::new(),
    }
}

async fn observe_mx_host<P: Probe>(
    probe: &P,
    mx: &MxRecord,
    options: &Options,
) -> MxHostObservation {
    // A name from the MX answer that no host can have is never resolved or probed.
    let host = match HostName::parse_mx_target(&mx.exchange) {
        Ok(host) => host,
        Err(reason) => return not_resolved(mx, reason),
    };
    let tlsa_name = host.tlsa_record();
    // The sessions need the addresses only: the TLSA answer (and, when it is negative, the
    // CNAME question after it) comes in while they run.
    let sessions = async {
        let addrs: HostLookup = timed(Stage::Dns, probe.addrs(host.as_str())).await;
        if options.skip_smtp {
            return (addrs, Vec::new(), Vec::new());
        }
        let (ips, not_contacted) = contactable(addrs.addresses(), options);
        let smtp = join_all(
            ips.iter()
                .map(|&ip| timed(Stage::Smtp, probe.smtp(host.as_str(), ip))),
        )
        .await;
        (addrs, smtp, not_contacted)
    };
    let ((addrs, smtp, not_contacted), tlsa) =
        tokio::join!(sessions, timed(Stage::Dns, probe.tlsa(&tlsa_name)));
    MxHostObservation {
        name: mx.exchange.clone(),
        preference: mx.preference,
        addrs,
        tlsa,
        smtp,
        not_contacted,
    }
}

/// An MX target no host can have: never resolved or probed; `reason` says why.
fn not_resolved(mx: &MxRecord, reason: String) -> MxHostObservation {
    let not_asked = || DnsAnswer::Failed {
        reason: reason.clone(),
    };
    MxHostObservation {
        name: mx.exchange.clone(),
        preference: mx.preference,
        addrs: HostLookup {
            name: mx.exchange.clone(),
            a: not_asked(),
            aaaa: not_asked(),
        },
        tlsa: DnsAnswer::Failed { reason },
        smtp: Vec::new(),
        not_contacted: Vec::new(),
    }
}

/// Report destinations looked at per kind (`mailto:` domains, `https:` URIs): a record listing
/// more is judged on its first ones.
const MAX_RUA_DESTINATIONS: usize = 10;

/// An `https:` rua as a reporter would use it: its host's addresses, then a TLS handshake with
/// each it may contact. An IP literal is the address itself.
async fn observe_https_rua<P: Probe>(
    probe: &P,
    uri: String,
    host: String,
    port: Option<u16>,
    options: &Options,
) -> HttpsRuaObservation {
    let addrs = match host.parse::<IpAddr>() {
        Ok(ip) => HostLookup {
            name: host.clone(),
            a: if ip.is_ipv4() {
                DnsAnswer::records(vec![ip])
            } else {
                DnsAnswer::NoData
            },
            aaaa: if ip.is_ipv6() {
                DnsAnswer::records(vec![ip])
            } else {
                DnsAnswer::NoData
            },
        },
        Err(_) => timed(Stage::Dns, probe.addrs(&host)).await,
    };
    let (ips, not_contacted) = contactable(addrs.addresses(), options);
    let handshakes = join_all(
        ips.iter()
            .map(|&ip| timed(Stage::PolicyFetch, probe.tls_handshake(&host, ip, port))),
    )
    .await;
    HttpsRuaObservation {
        uri: crate::escape::escape_str(&uri),
        host,
        port,
        addrs,
        handshakes,
        not_contacted,
    }
}

fn has_record_with_prefix(
    answer: &DnsAnswer<Vec<crate::observe::TxtRecord>>,
    prefix: &[u8],
) -> bool {
    answer.data().is_some_and(|records| {
        records
            .iter()
            .any(|record| starts_with_ignore_case(&record.joined(), prefix))
    })
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

async fn find_misplaced<P: Probe>(
    probe: &P,
    names: Vec<String>,
    prefix: &[u8],
) -> Vec<MisplacedRecord> {
    let answers = join_all(names.iter().map(|name| timed(Stage::Dns, probe.txt(name)))).await;
    let mut found = Vec::new();
    for (name, answer) in names.into_iter().zip(answers) {
        for record in answer.data().into_iter().flatten() {
            let text = record.joined();
            if starts_with_ignore_case(&text, prefix) {
                found.push(MisplacedRecord {
                    name: name.clone(),
                    text: crate::escape::escape_bytes(&text),
                });
            }
        }
    }
    found
}

/// Splits a host's addresses into those to contact (public ones, or all with
/// `--allow-private`, up to `Limits::max_addrs_per_host`) and the others, each with why it
/// is not contacted. A non-public address is named as such even past the bound, because that
/// is what a sender would run into first.
fn contactable(addrs: Vec<IpAddr>, options: &Options) -> (Vec<IpAddr>, Vec<Uncontacted>) {
    let bound = options.limits.max_addrs_per_host;
    let mut contact = Vec::new();
    let mut not_contacted = Vec::new();
    for (index, ip) in addrs.into_iter().enumerate() {
        let reason = if !options.allow_private && !is_public(ip) {
            NotContacted::NonPublic
        } else if index >= bound {
            NotContacted::OverAddressBound { bound }
        } else {
            contact.push(ip);
            continue;
        };
        not_contacted.push(Uncontacted { ip, reason });
    }
    (contact, not_contacted)
}

fn capped<T>(mut items: Vec<T>, cap: usize) -> Vec<T> {
    items.truncate(cap);
    items
}

/// Runs futures concurrently on the current task and keeps their order.
async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let futures: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(futures.len());
    // A small fan-out (addresses of one host, MX hosts of one domain): join by hand rather than
    // pull in futures-util for join_all.
    let mut pending: Vec<_> = futures.into_iter().enumerate().collect();
    let mut slots: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|(index, future)| match future.as_mut().poll(cx) {
            std::task::Poll::Ready(output) => {
                slots[*index] = Some(output);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(slots.into_iter().flatten());
    outputs
}

/// One domain's report, and whether its deadline cut anything short.
pub struct Audited {
    pub report: DomainReport,
    pub deadline_passed: bool,
    /// What the report was judged from (for `--save-evidence` and `--baseline`).
    pub observations: Observations,
}

/// After the deadline, the questions still open return at once; this is only a safety net
/// should the observation still not finish.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// Observes and judges one domain within `domain_timeout`.
pub async fn audit<P: Probe>(
    probe: &P,
    domain: &DomainName,
    options: &Options,
    ctx: &Context,
    domain_timeout: Duration,
) -> Audited {
    let reason = deadline_reason(domain_timeout);
    let limited = DeadlineProbe::new(probe, domain_timeout, &reason);
    let observed = tokio::time::timeout_at(
        limited.deadline() + DEADLINE_GRACE,
        observe(&limited, domain, options),
    )
    .await;
    let cut = limited.into_cut();
    let observations = match observed {
        Ok(mut observations) => {
            observations.deadline = cut;
            observations
        }
        Err(_) => Observations {
            reports: reports_for(domain, options),
            ..unobserved(domain, &reason)
        },
    };
    Audited {
        deadline_passed: observations.deadline.is_some(),
        report: verdict::judge(&observations, ctx),
        observations,
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
pub fn unobserved(domain: &DomainName, reason: &str) -> Observations {
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
    observations.deadline = Some(DeadlineCut {
        reason: reason.to_owned(),
        endpoints: Vec::new(),
    });
    observations
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;
    use crate::catalog::Profile;
    use crate::model::Outcome;
    use crate::observe::{
        FetchObservation, FetchStep, SmtpObservation, SmtpStep, StepFailure, TxtRecord,
    };
    use crate::stats::stage_clock;
    use crate::stats::StageTimes;

    /// A public address; the fake probe never connects anywhere.
    const ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(93, 184, 215, 1));

    /// One MX host and one policy host, each at one address; no record anywhere else.
    struct FakeProbe;

    /// Every host at `address`; counts the connections the pipeline asks for.
    struct CountingProbe {
        address: IpAddr,
        connections: std::sync::atomic::AtomicUsize,
    }

    impl Probe for CountingProbe {
        async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
            FakeProbe.txt(name).await
        }
        async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
            FakeProbe.mx(name).await
        }
        async fn addrs(&self, name: &str) -> HostLookup {
            HostLookup {
                name: name.to_owned(),
                a: DnsAnswer::records(vec![self.address]),
                aaaa: DnsAnswer::NoData,
            }
        }
        async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
            FakeProbe.tlsa(name).await
        }
        async fn fetch_policy(&self, host: &str, ip: IpAddr) -> FetchObservation {
            self.connections
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            FakeProbe.fetch_policy(host, ip).await
        }
        async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
            self.connections
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            FakeProbe.smtp(host, ip).await
        }
    }

    #[tokio::test]
    async fn non_public_addresses_are_contacted_only_when_allowed() {
        // (address, --allow-private, connections expected: one fetch and one SMTP probe)
        let cases = [
            ("93.184.215.1", false, 2),
            ("127.0.0.1", false, 0),
            ("10.0.0.1", false, 0),
            ("169.254.169.254", false, 0),
            ("::ffff:192.168.0.1", false, 0),
            ("127.0.0.1", true, 2),
        ];
        for (address, allow_private, expected) in cases {
            let probe = CountingProbe {
                address: address.parse().unwrap(),
                connections: Default::default(),
            };
            let options = Options {
                allow_private,
                ..Options::default()
            };
            let observations = observe(&probe, &"example.test".parse().unwrap(), &options).await;
            let made = probe.connections.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(made, expected, "{address} allow_private={allow_private}");
            assert_eq!(observations.fetches.len(), expected / 2, "{address}");
            assert_eq!(observations.private_allowed, allow_private);
        }
    }

    #[test]
    fn addresses_not_contacted_say_why() {
        let ip = |text: &str| -> IpAddr { text.parse().unwrap() };
        let addrs = vec![
            ip("10.0.0.1"),
            ip("93.184.215.1"),
            ip("93.184.215.2"),
            ip("127.0.0.1"),
        ];
        let mut options = Options::default();
        options.limits.max_addrs_per_host = 2;
        let (contact, skipped) = contactable(addrs.clone(), &options);
        assert_eq!(contact, [ip("93.184.215.1")]);
        let over = NotContacted::OverAddressBound { bound: 2 };
        assert_eq!(
            skipped,
            [
                Uncontacted {
                    ip: ip("10.0.0.1"),
                    reason: NotContacted::NonPublic
                },
                Uncontacted {
                    ip: ip("93.184.215.2"),
                    reason: over
                },
                // Past the bound too, but not being public is what a sender meets first.
                Uncontacted {
                    ip: ip("127.0.0.1"),
                    reason: NotContacted::NonPublic
                },
            ]
        );

        options.allow_private = true;
        let (contact, skipped) = contactable(addrs, &options);
        assert_eq!(contact, [ip("10.0.0.1"), ip("93.184.215.1")]);
        let reasons: Vec<NotContacted> = skipped.iter().map(|s| s.reason).collect();
        assert_eq!(reasons, [over, over]);
    }

    #[tokio::test]
    async fn the_observations_list_what_was_not_contacted() {
        let probe = CountingProbe {
            address: "10.0.0.1".parse().unwrap(),
            connections: Default::default(),
        };
        let observations = observe(
            &probe,
            &"example.test".parse().unwrap(),
            &Options::default(),
        )
        .await;
        let non_public = [Uncontacted {
            ip: probe.address,
            reason: NotContacted::NonPublic,
        }];
        assert_eq!(observations.policy_not_contacted, non_public);
        assert_eq!(observations.mx_hosts[0].not_contacted, non_public);
        assert!(observations.mx_hosts[0].smtp.is_empty());
    }

    fn failure<S>(step: S) -> StepFailure<S> {
        StepFailure {
            step,
            timed_out: false,
            detail: "refused".to_owned(),
        }
    }

    impl Probe for FakeProbe {
        async fn txt(&self, _name: &str) -> DnsAnswer<Vec<TxtRecord>> {
            DnsAnswer::NxDomain
        }
        async fn mx(&self, _name: &str) -> DnsAnswer<Vec<MxRecord>> {
            DnsAnswer::records(vec![MxRecord {
                preference: 10,
                exchange: "mx.example.test".to_owned(),
            }])
        }
        async fn addrs(&self, name: &str) -> HostLookup {
            HostLookup {
                name: name.to_owned(),
                a: DnsAnswer::records(vec![ADDRESS]),
                aaaa: DnsAnswer::NoData,
            }
        }
        async fn tlsa(&self, _name: &str) -> DnsAnswer<Vec<String>> {
            DnsAnswer::NxDomain
        }
        async fn fetch_policy(&self, _host: &str, ip: IpAddr) -> FetchObservation {
            FetchObservation {
                ip,
                elapsed: Duration::ZERO,
                tls: None,
                result: Err(failure(FetchStep::Connect)),
                not_contacted: None,
            }
        }
        async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
            // Long enough to be measurable whatever the clock's resolution.
            tokio::time::sleep(Duration::from_millis(5)).await;
            SmtpObservation::unanswered(host, ip, "test", Some(failure(SmtpStep::Connect)))
        }
    }

    fn calls(times: &StageTimes) -> [u64; 3] {
        [times.dns.calls, times.policy_fetch.calls, times.smtp.calls]
    }

    #[tokio::test]
    async fn every_probe_call_is_timed_into_its_stage() {
        let before = stage_clock().totals();
        let observations = observe(
            &FakeProbe,
            &"example.test".parse().unwrap(),
            &Options::default(),
        )
        .await;
        let after = stage_clock().totals();
        assert_eq!(observations.mx_hosts.len(), 1);

        // DNS: _mta-sts TXT + 3 misplaced, policy host addresses, MX, MX host addresses and
        // TLSA, _smtp._tls TXT + 4 misplaced. The clock is process-wide and other tests may
        // run at the same time, so only lower bounds hold.
        let expected = [4 + 1 + 1 + 2 + 5, 1, 1];
        let (before_calls, after_calls) = (calls(&before), calls(&after));
        for (index, expected) in expected.into_iter().enumerate() {
            assert!(
                after_calls[index] >= before_calls[index] + expected,
                "stage {index}: {before_calls:?} -> {after_calls:?}"
            );
        }
        assert!(after.smtp.total >= before.smtp.total + Duration::from_millis(5));
    }

    /// Each of the policy fetch, the SMTP probe and the TLSA lookup waits until the stages it
    /// must overlap with have started; an audit that ran one before another would never end.
    struct Rendezvous {
        smtp_started: tokio::sync::watch::Sender<bool>,
        fetch_started: tokio::sync::watch::Sender<bool>,
    }

    impl Rendezvous {
        fn new() -> Self {
            Self {
                smtp_started: tokio::sync::watch::channel(false).0,
                fetch_started: tokio::sync::watch::channel(false).0,
            }
        }
    }

    async fn started(flag: &tokio::sync::watch::Sender<bool>) {
        let _ = flag.subscribe().wait_for(|started| *started).await;
    }

    impl Probe for Rendezvous {
        async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
            FakeProbe.txt(name).await
        }
        async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
            FakeProbe.mx(name).await
        }
        async fn addrs(&self, name: &str) -> HostLookup {
            FakeProbe.addrs(name).await
        }
        async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
            started(&self.smtp_started).await;
            FakeProbe.tlsa(name).await
        }
        async fn fetch_policy(&self, host: &str, ip: IpAddr) -> FetchObservation {
            self.fetch_started.send_replace(true);
            started(&self.smtp_started).await;
            FakeProbe.fetch_policy(host, ip).await
        }
        async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
            self.smtp_started.send_replace(true);
            started(&self.fetch_started).await;
            SmtpObservation::unanswered(host, ip, "test", Some(failure(SmtpStep::Connect)))
        }
    }

    /// Issue 11: the SMTP probes wait for their host's addresses only, not for its TLSA answer
    /// (they held it back by a round trip, two when the negative answer sent the client after a
    /// CNAME), and run beside the policy fetch: on the critical path, DNS is followed by HTTPS
    /// and SMTP side by side.
    #[tokio::test]
    async fn the_policy_fetch_the_smtp_probes_and_the_tlsa_lookup_overlap() {
        let probe = Rendezvous::new();
        let domain: DomainName = "example.test".parse().unwrap();
        // Not a measure of speed: a bound on a wait that, if a stage were held back by another,
        // would never end.
        let observed = tokio::time::timeout(
            Duration::from_secs(30),
            observe(&probe, &domain, &Options::default()),
        )
        .await
        .expect("a stage waited for another it does not need");
        assert_eq!(observed.fetches.len(), 1);
        assert_eq!(observed.mx_hosts[0].smtp.len(), 1);
        assert_eq!(observed.mx_hosts[0].tlsa, DnsAnswer::NxDomain);
    }

    /// Counts every question; the domain does not exist.
    struct Nowhere(std::sync::atomic::AtomicUsize);

    impl Probe for Nowhere {
        async fn txt(&self, _: &str) -> DnsAnswer<Vec<TxtRecord>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            DnsAnswer::NxDomain
        }
        async fn mx(&self, _: &str) -> DnsAnswer<Vec<MxRecord>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            DnsAnswer::NxDomain
        }
        async fn addrs(&self, name: &str) -> HostLookup {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            HostLookup {
                name: name.to_owned(),
                a: DnsAnswer::NxDomain,
                aaaa: DnsAnswer::NxDomain,
            }
        }
        async fn tlsa(&self, _: &str) -> DnsAnswer<Vec<String>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            DnsAnswer::NxDomain
        }
        async fn fetch_policy(&self, _: &str, _: IpAddr) -> FetchObservation {
            unreachable!("nothing exists")
        }
        async fn smtp(&self, _: &str, _: IpAddr) -> SmtpObservation {
            unreachable!("nothing exists")
        }
    }

    #[tokio::test]
    async fn a_domain_that_does_not_exist_costs_one_question() {
        let probe = Nowhere(Default::default());
        let domain: DomainName = "gone.example".parse().unwrap();
        let observed = observe(&probe, &domain, &Options::default()).await;
        assert_eq!(probe.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        // What asking each name would have found (RFC 8020), and nothing misplaced below it.
        assert_eq!(observed.sts_txt, DnsAnswer::NxDomain);
        assert_eq!(observed.tlsrpt_txt, DnsAnswer::NxDomain);
        assert_eq!(observed.policy_host.a, DnsAnswer::NxDomain);
        assert!(observed.sts_misplaced.is_empty() && observed.tlsrpt_misplaced.is_empty());
        let ctx = Context::new(Profile::Rfc, 0);
        let report = verdict::judge(&observed, &ctx);
        let present = report
            .findings
            .iter()
            .find(|finding| finding.check == crate::catalog::CheckId::StsRecordPresent)
            .unwrap();
        assert!(present.outcome.is_problem(), "{present:?}");
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
    fn an_unobserved_domain_is_undetermined_not_failed() {
        let reason = "internal error while auditing this domain: boom";
        let report = verdict::judge(
            &unobserved(&DomainName::parse("a.test").unwrap(), reason),
            &Context::new(Profile::Sge, 0),
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
