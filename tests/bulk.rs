//! The bulk engine (issue 4) with the real probes against loopback servers: one probe per
//! shared MX address, a provider farm's tenants sharing a session per SNI-invariant address
//! (issue 11), no more sessions per address than allowed, `421` retried then reported
//! as rate limited, a per-domain deadline that reports rather than drops, and reports handed
//! out as each domain finishes.
//!
//! Each test uses its own loopback addresses (127.0.0.1x, 2x, …) so that tests running at the
//! same time cannot share a port. Every name resolves through the test's own DNS server.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::ca::{LeafSpec, TestCa};
use common::dns::{DnsServer, Zone};
use common::https::{Behaviour as HttpsBehaviour, HttpsServer, Script};
use common::smtp::{Behaviour, SmtpServer};
use mtasts::audit::Options;
use mtasts::catalog::{CheckId, Profile};
use mtasts::engine::{self, RunConfig, RunStats};
use mtasts::model::{DomainReport, Finding, Outcome};
use mtasts::probe::live::LiveProbe;
use mtasts::probe::{Limits, NetworkConfig};
use mtasts::report::stream::{RunSummary, Sink};
use mtasts::verdict::Context;

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// A world: the DNS server, the CA, and the SMTP servers, all on one SMTP port.
struct World {
    dns: DnsServer,
    ca: TestCa,
    smtp: Vec<SmtpServer>,
    smtp_port: u16,
    https: Vec<HttpsServer>,
    https_port: u16,
}

impl World {
    /// Starts `zone`'s DNS server and one SMTP server per (address, name, behaviour).
    async fn start(zone: Zone, smtp: &[(u8, &str, Behaviour)]) -> Self {
        let dns = DnsServer::start(zone).await;
        let ca = TestCa::new("mtasts bulk test CA");
        let mut servers: Vec<SmtpServer> = Vec::new();
        let mut port = 0;
        for (last, name, behaviour) in smtp {
            let leaf = ca.issue(&LeafSpec::valid_for(&[name]));
            let server =
                SmtpServer::start(IpAddr::V4(ip(*last)), port, behaviour.clone(), &leaf).await;
            port = server.port();
            servers.push(server);
        }
        Self {
            dns,
            ca,
            smtp: servers,
            smtp_port: port,
            https: Vec::new(),
            // No policy host has an address unless a test adds one.
            https_port: 9,
        }
    }

    fn network(&self, timeout: Duration) -> NetworkConfig {
        NetworkConfig {
            limits: Limits::with_timeout(timeout),
            resolver: Some(self.dns.addr()),
            extra_roots: vec![self.ca.cert_der.clone()],
            https_port: self.https_port,
            smtp_port: self.smtp_port,
            ehlo_name: "probe.bulk.test".to_owned(),
            allow_private: true,
        }
    }
}

fn run_config(network: &NetworkConfig, per_address: usize, domain_timeout: Duration) -> RunConfig {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    RunConfig {
        concurrency: 64,
        per_address,
        domain_timeout,
        probe_every_name: false,
        ordered: false,
        options: Options {
            skip_smtp: false,
            allow_private: true,
            limits: network.limits.clone(),
            reports: None,
        },
        ctx: Context::new(Profile::Rfc, i64::try_from(now).unwrap()),
    }
}

/// A report as it arrived: when (since the start of the run), and its input index.
struct Arrival {
    at: Duration,
    index: usize,
    report: DomainReport,
}

/// Runs the engine with the live probe; reports in the order they arrived.
async fn audit(
    network: NetworkConfig,
    domains: &[String],
    config: &RunConfig,
) -> (Vec<Arrival>, RunStats) {
    let probe = LiveProbe::new(network).unwrap();
    let started = Instant::now();
    let mut arrivals = Vec::new();
    let names = domains.iter().map(|name| name.parse().unwrap());
    let stats = engine::run(probe, names, config, |index, report| {
        arrivals.push(Arrival {
            at: started.elapsed(),
            index,
            report,
        });
        Ok(())
    })
    .await
    .unwrap();
    (arrivals, stats)
}

fn findings(report: &DomainReport, check: CheckId) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|finding| finding.check == check)
        .collect()
}

fn labels(report: &DomainReport, check: CheckId) -> Vec<&'static str> {
    findings(report, check)
        .iter()
        .map(|finding| finding.outcome.label())
        .collect()
}

fn report<'a>(arrivals: &'a [Arrival], domain: &str) -> &'a DomainReport {
    &arrivals
        .iter()
        .find(|arrival| arrival.report.domain == domain)
        .unwrap_or_else(|| panic!("{domain} was not reported"))
        .report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_sharing_mx_hosts_probe_each_address_once() {
    let mut zone = Zone::new("test")
        .a("mx1.gw.test", ip(11))
        .a("mx2.gw.test", ip(12));
    let domains: Vec<String> = (0..60).map(|n| format!("d{n}.shared.test")).collect();
    for domain in &domains {
        zone = zone
            .mx(domain, 10, "mx1.gw.test")
            .mx(domain, 20, "mx2.gw.test");
    }
    let world = World::start(
        zone,
        &[
            (11, "mx1.gw.test", Behaviour::Normal),
            (12, "mx2.gw.test", Behaviour::Normal),
        ],
    )
    .await;
    let network = world.network(Duration::from_secs(5));
    let config = run_config(&network, 2, Duration::from_secs(60));
    let (arrivals, stats) = audit(network, &domains, &config).await;

    assert_eq!(arrivals.len(), 60);
    assert_eq!(stats.domains, 60);
    // One STARTTLS session and one TLS 1.0/1.1 probe per address, for all 60 domains.
    for server in &world.smtp {
        assert_eq!(server.connections(), 2, "{}", server.addr);
        server.assert_no_mail_transaction();
    }
    assert_eq!(stats.memo.smtp_requests, 120);
    assert_eq!(stats.memo.smtp_probes, 2);
    for arrival in &arrivals {
        let report = &arrival.report;
        assert_eq!(report.domain, domains[arrival.index]);
        assert_eq!(labels(report, CheckId::SmtpConnect), ["pass", "pass"]);
        assert_eq!(
            labels(report, CheckId::SmtpCertTrusted),
            ["pass", "pass"],
            "{}",
            report.domain
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_address_sees_more_sessions_than_allowed() {
    // Ten domains, each with its own MX name, all on one address: ten different probes.
    let mut zone = Zone::new("test");
    let domains: Vec<String> = (0..10).map(|n| format!("p{n}.polite.test")).collect();
    for (n, domain) in domains.iter().enumerate() {
        let mx = format!("mx{n}.polite.test");
        zone = zone.mx(domain, 10, &mx).a(&mx, ip(21));
    }
    // Slow greetings, so that sessions would overlap if nothing held them back.
    let world = World::start(
        zone,
        &[(
            21,
            "mx0.polite.test",
            Behaviour::GreetingDelay(Duration::from_millis(200)),
        )],
    )
    .await;
    let network = world.network(Duration::from_secs(5));
    let mut config = run_config(&network, 2, Duration::from_secs(60));
    // Every name on its own, so that there are sessions to hold back (with sharing, the
    // address would see two sessions; see the farm test below).
    config.probe_every_name = true;
    let (arrivals, stats) = audit(network, &domains, &config).await;

    assert_eq!(arrivals.len(), 10);
    assert_eq!(stats.memo.smtp_probes, 10);
    let server = &world.smtp[0];
    assert_eq!(
        server.connections(),
        11,
        "a session each, and one TLS 1.0/1.1 probe for the address (issue 11)"
    );
    // Reached (the probes did run side by side), never passed.
    assert_eq!(server.max_concurrent(), 2);
    for arrival in &arrivals {
        assert_eq!(labels(&arrival.report, CheckId::SmtpConnect), ["pass"]);
    }
}

/// Issue 11: the TLS 1.0/1.1 probe needs only the first session's STARTTLS 220, so it starts
/// then and runs beside the rest of that session (two connections at once), within
/// `--per-address`: with one slot per address the two run one after the other. A delaying
/// proxy in front of the server keeps the rest of the first session (three round trips) longer
/// than the second connection's way to the server (one and a half), whatever the machine's load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_1_0_probe_starts_once_starttls_is_accepted() {
    for (per_address, last, overlap) in [(2, 81u8, 2), (1, 82, 1)] {
        let mx = format!("mx.overlap{last}.test");
        let domain = format!("overlap{last}.test");
        let zone = Zone::new("test").mx(&domain, 10, &mx).a(&mx, ip(last));
        let mut world = World::start(zone, &[]).await;
        let leaf = world.ca.issue(&LeafSpec::valid_for(&[mx.as_str()]));
        let server = SmtpServer::start(IpAddr::V4(ip(last)), 0, Behaviour::Normal, &leaf).await;
        let front = std::net::SocketAddr::new(IpAddr::V4(ip(last)), 0);
        let rtt = Duration::from_millis(80);
        let proxy = common::delay::DelayProxy::start(front, server.addr, rtt).await;
        world.smtp_port = proxy.port();
        let network = world.network(Duration::from_secs(5));
        let config = run_config(&network, per_address, Duration::from_secs(60));
        let (arrivals, _) = audit(network, std::slice::from_ref(&domain), &config).await;

        let report = &arrivals[0].report;
        assert_eq!(
            labels(report, CheckId::SmtpLegacyTls),
            ["pass"],
            "{report:#?}"
        );
        assert_eq!(
            server.connections(),
            2,
            "the session and the TLS 1.0/1.1 probe"
        );
        assert_eq!(
            server.max_concurrent(),
            overlap,
            "--per-address {per_address}"
        );
        server.assert_no_mail_transaction();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_421_is_retried_and_a_persistent_one_is_rate_limiting_not_failure() {
    let zone = Zone::new("test")
        .mx("busy.retry.test", 10, "mx.busy.retry.test")
        .a("mx.busy.retry.test", ip(31))
        .mx("full.retry.test", 10, "mx.full.retry.test")
        .a("mx.full.retry.test", ip(32))
        .mx("second.retry.test", 10, "mx.second.retry.test")
        .a("mx.second.retry.test", ip(33))
        .mx("never.retry.test", 10, "mx.never.retry.test")
        .a("mx.never.retry.test", ip(34));
    let world = World::start(
        zone,
        &[
            (31, "mx.busy.retry.test", Behaviour::Greeting421First(2)),
            (32, "mx.full.retry.test", Behaviour::Greeting421),
            // The TLS 1.0/1.1 probe's connection refused once, or always.
            (
                33,
                "mx.second.retry.test",
                Behaviour::Greeting421On(vec![1]),
            ),
            (
                34,
                "mx.never.retry.test",
                Behaviour::Greeting421On(vec![1, 2, 3]),
            ),
        ],
    )
    .await;
    let network = world.network(Duration::from_secs(5));
    let config = run_config(&network, 2, Duration::from_secs(60));
    let domains = [
        "busy.retry.test",
        "full.retry.test",
        "second.retry.test",
        "never.retry.test",
    ]
    .map(str::to_owned);
    let started = Instant::now();
    let (arrivals, _) = audit(network, &domains, &config).await;
    // Two waits (1 s, then 3 s), both domains at once.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // Refused twice, then a session and the TLS 1.0/1.1 probe.
    let busy = report(&arrivals, "busy.retry.test");
    assert_eq!(world.smtp[0].connections(), 4);
    for check in [
        CheckId::SmtpConnect,
        CheckId::SmtpStarttlsAccepted,
        CheckId::SmtpCertTrusted,
        CheckId::SmtpLegacyTls,
    ] {
        assert_eq!(labels(busy, check), ["pass"], "{check}");
    }

    // Three attempts, all refused: could not determine, and not a failure of the domain.
    let full = report(&arrivals, "full.retry.test");
    assert_eq!(world.smtp[1].connections(), 3);
    let connect = findings(full, CheckId::SmtpConnect);
    let Outcome::CouldNotDetermine { reason } = &connect[0].outcome else {
        panic!("{:?}", connect[0]);
    };
    assert!(reason.starts_with("rate limited (421 4.3.2"), "{reason}");
    assert!(reason.contains("3 attempts"), "{reason}");
    assert!(
        connect[0]
            .evidence
            .iter()
            .any(|evidence| evidence.value.starts_with("-- attempt 2 refused")),
        "{:?}",
        connect[0].evidence
    );
    let smtp_problems: Vec<&Finding> = full
        .findings
        .iter()
        .filter(|finding| finding.check.as_str().starts_with("smtp."))
        .filter(|finding| matches!(finding.outcome, Outcome::Fail | Outcome::Warn))
        .collect();
    assert!(smtp_problems.is_empty(), "{smtp_problems:#?}");

    // The second connection is retried on its own.
    let second = report(&arrivals, "second.retry.test");
    assert_eq!(world.smtp[2].connections(), 3);
    assert_eq!(labels(second, CheckId::SmtpLegacyTls), ["pass"]);
    let never = report(&arrivals, "never.retry.test");
    assert_eq!(world.smtp[3].connections(), 4);
    assert_eq!(labels(never, CheckId::SmtpConnect), ["pass"]);
    let legacy = findings(never, CheckId::SmtpLegacyTls);
    let Outcome::CouldNotDetermine { reason } = &legacy[0].outcome else {
        panic!("{:?}", legacy[0]);
    };
    assert!(reason.contains("rate limited (421 4.3.2"), "{reason}");
    assert!(reason.contains("3 attempts"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_past_its_deadline_is_reported_in_time_with_what_was_seen() {
    let zone = Zone::new("test")
        .txt("_mta-sts.slow.deadline.test", &["v=STSv1; id=1"])
        .a("mta-sts.slow.deadline.test", ip(41))
        .mx("slow.deadline.test", 10, "mx.deadline.test")
        .mx("quick.deadline.test", 10, "mx.deadline.test")
        .a("mx.deadline.test", ip(42));
    let mut world = World::start(zone, &[(42, "mx.deadline.test", Behaviour::Normal)]).await;
    // The policy host accepts the connection and never says a word.
    let leaf = world
        .ca
        .issue(&LeafSpec::valid_for(&["mta-sts.slow.deadline.test"]));
    let silent = HttpsServer::start(
        IpAddr::V4(ip(41)),
        &leaf,
        Script::ok("").with_behaviour(HttpsBehaviour::SilentTcp),
    )
    .await;
    world.https_port = silent.port();
    world.https.push(silent);

    // Each step may take 10 s; the domain only 2.
    let network = world.network(Duration::from_secs(10));
    let config = run_config(&network, 2, Duration::from_secs(2));
    let domains = ["slow.deadline.test", "quick.deadline.test"].map(str::to_owned);
    let started = Instant::now();
    let (arrivals, stats) = audit(network, &domains, &config).await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(stats.deadlines_passed, 1);

    // The quick domain is not held back by the slow one.
    assert_eq!(arrivals[0].report.domain, "quick.deadline.test");
    assert!(
        arrivals[0].at < Duration::from_millis(1500),
        "{:?}",
        arrivals[0].at
    );

    let slow = report(&arrivals, "slow.deadline.test");
    let fetch = findings(slow, CheckId::PolicyFetchConnect);
    let Outcome::CouldNotDetermine { reason } = &fetch[0].outcome else {
        panic!("{:#?}", fetch);
    };
    assert_eq!(
        reason,
        "the domain's deadline of 2 s (--domain-timeout) passed"
    );
    // What was observed in time is kept.
    assert_eq!(labels(slow, CheckId::StsRecordPresent), ["pass"]);
    assert_eq!(labels(slow, CheckId::PolicyHostResolves), ["pass"]);
    assert_eq!(labels(slow, CheckId::SmtpConnect), ["pass"]);
    assert!(!slow
        .findings
        .iter()
        .any(|finding| finding.outcome == Outcome::Fail));
}

/// A sink that notes when each domain reached it.
struct ArrivalSink {
    started: Instant,
    arrived: Vec<(Duration, String)>,
    finished: bool,
}

impl Sink for ArrivalSink {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        self.arrived
            .push((self.started.elapsed(), report.domain.clone()));
        Ok(())
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        self.finished = true;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_domain_reaches_the_sink_as_soon_as_it_is_judged() {
    let zone = Zone::new("test")
        .mx("tarpit.stream.test", 10, "mx.tarpit.stream.test")
        .a("mx.tarpit.stream.test", ip(51))
        .mx("quick.stream.test", 10, "mx.quick.stream.test")
        .a("mx.quick.stream.test", ip(52));
    let world = World::start(
        zone,
        &[
            (
                51,
                "mx.tarpit.stream.test",
                Behaviour::GreetingDelay(Duration::from_millis(2300)),
            ),
            (52, "mx.quick.stream.test", Behaviour::Normal),
        ],
    )
    .await;
    let network = world.network(Duration::from_secs(5));
    let config = run_config(&network, 2, Duration::from_secs(60));
    // The slow domain first in the input.
    let domains = ["tarpit.stream.test", "quick.stream.test"].map(|name| name.parse().unwrap());
    let probe = LiveProbe::new(network).unwrap();
    let mut sink = ArrivalSink {
        started: Instant::now(),
        arrived: Vec::new(),
        finished: false,
    };
    let mut tarpit_report = None;
    engine::run(probe, domains, &config, |_, report| {
        sink.domain(&report)?;
        if report.domain.starts_with("tarpit") {
            tarpit_report = Some(report);
        }
        Ok(())
    })
    .await
    .unwrap();
    sink.finish(&RunSummary::default()).unwrap();
    assert!(sink.finished);

    let names: Vec<&str> = sink.arrived.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names, ["quick.stream.test", "tarpit.stream.test"]);
    let (quick_at, tarpit_at) = (sink.arrived[0].0, sink.arrived[1].0);
    // Two greetings of 2.3 s (the session and the TLS 1.0/1.1 probe) for the tarpit.
    assert!(quick_at < Duration::from_millis(1500), "{quick_at:?}");
    assert!(tarpit_at > Duration::from_millis(4000), "{tarpit_at:?}");

    // The tarpit passes, with the delay as evidence.
    let tarpit = tarpit_report.unwrap();
    let connect = findings(&tarpit, CheckId::SmtpConnect);
    assert_eq!(connect[0].outcome, Outcome::Pass);
    let noted: Vec<&str> = connect[0]
        .evidence
        .iter()
        .filter(|evidence| evidence.label == "tarpit")
        .map(|evidence| evidence.value.as_str())
        .collect();
    assert_eq!(noted.len(), 1, "{:?}", connect[0].evidence);
    assert!(
        noted[0].starts_with("greeting after 2.") && noted[0].ends_with(" s (tarpit?)"),
        "{noted:?}"
    );
}

/// The binary end to end: `--format jsonl` writes one domain object per line, `--stats` its
/// figures on standard error, and the exit status covers every domain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_streams_jsonl_and_prints_stats() {
    let mut zone = Zone::new("test")
        .a("mx.bin.test", ip(61))
        .mx("bad.bin.test", 10, "mx.bad.bin.test")
        .a("mx.bad.bin.test", ip(62));
    let mut domains: Vec<String> = (0..12).map(|n| format!("b{n}.bin.test")).collect();
    for domain in &domains {
        zone = zone.mx(domain, 10, "mx.bin.test");
    }
    domains.insert(5, "bad.bin.test".to_owned());
    let world = World::start(
        zone,
        &[
            (61, "mx.bin.test", Behaviour::Normal),
            (62, "mx.bad.bin.test", Behaviour::NoStarttls),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = world.ca.write_pem(dir.path());
    let mut args: Vec<String> = [
        "check",
        "--format",
        "jsonl",
        "--stats",
        "--quiet",
        "--concurrency",
        "4",
        "--resolver",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(world.dns.addr().to_string());
    args.extend(["--ca-file".to_owned(), ca_file.display().to_string()]);
    args.extend(["--smtp-port".to_owned(), world.smtp_port.to_string()]);
    args.extend(["--https-port".to_owned(), world.https_port.to_string()]);
    // The world is on loopback.
    args.push("--allow-private".to_owned());
    args.extend(domains.iter().cloned());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mtasts"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut seen: Vec<String> = stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("{err}: {line:?}\nstderr: {stderr}"));
            value["domain"].as_str().unwrap().to_owned()
        })
        .collect();
    seen.sort();
    let mut expected = domains.clone();
    expected.sort();
    assert_eq!(seen, expected, "stderr: {stderr}");
    // One domain's MX offers no STARTTLS: that one failure decides the run's status.
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    let stats: serde_json::Value = stderr
        .lines()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no statistics on stderr: {stderr}"));
    assert_eq!(stats["domains"], 13);
    assert_eq!(stats["smtp_probes"], 2);
    // The DNS client's figures, for the benchmark (issue 11).
    let dns = &stats["dns"];
    assert!(dns["questions"].as_u64().unwrap() >= 13, "{stats}");
    assert_eq!(dns["failed"], 0, "{stats}");
    assert_eq!(dns["window_limit"], 100, "{stats}");
    assert_eq!(world.smtp[0].connections(), 2);
}

/// A provider farm (issue 11): `tenants` domains, each with its own MX name
/// `tN.mail.protection.farm.test`, spread over the addresses `lasts`, every address presenting
/// one wildcard certificate; plus `odd.farm.test`, whose MX name at the first address the
/// wildcard does not cover.
fn farm(tenants: usize, lasts: &[u8]) -> (Zone, Vec<String>) {
    let mut zone = Zone::new("test");
    let mut domains = Vec::new();
    for n in 0..tenants {
        let domain = format!("t{n}.farm.test");
        let mx = format!("t{n}.mail.protection.farm.test");
        zone = zone.mx(&domain, 10, &mx).a(&mx, ip(lasts[n % lasts.len()]));
        domains.push(domain);
    }
    zone = zone
        .mx("odd.farm.test", 10, "mx.odd-provider.test")
        .a("mx.odd-provider.test", ip(lasts[0]));
    domains.push("odd.farm.test".to_owned());
    (zone, domains)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_farm_is_probed_per_address_not_per_tenant_unless_asked() {
    // (--probe-every-name, connections expected per address)
    for (every_name, lasts) in [(false, [71u8, 72]), (true, [73, 74])] {
        let (zone, domains) = farm(30, &lasts);
        let wildcard = "*.mail.protection.farm.test";
        let world = World::start(
            zone,
            &[
                (lasts[0], wildcard, Behaviour::Normal),
                (lasts[1], wildcard, Behaviour::Normal),
            ],
        )
        .await;
        let network = world.network(Duration::from_secs(5));
        let mut config = run_config(&network, 2, Duration::from_secs(60));
        config.probe_every_name = every_name;
        let (arrivals, stats) = audit(network, &domains, &config).await;
        assert_eq!(arrivals.len(), 31);

        // Sessions per address: 16 names at the first (15 tenants and odd), 15 at the second,
        // and one TLS 1.0/1.1 probe each either way.
        let sessions = [world.smtp[0].connections(), world.smtp[1].connections()];
        if every_name {
            assert_eq!(sessions, [16 + 1, 15 + 1], "every name probed");
            assert_eq!(stats.memo.smtp_shared, 0);
        } else {
            assert_eq!(
                sessions,
                [2 + 1, 2 + 1],
                "the first name and one to confirm"
            );
            assert_eq!(stats.memo.smtp_probes, 4);
            assert_eq!(stats.memo.smtp_shared, 31 - 4);
        }
        for server in &world.smtp {
            server.assert_no_mail_transaction();
        }
        let mut shared = 0;
        for arrival in &arrivals {
            let report = &arrival.report;
            let expected = if report.domain == "odd.farm.test" {
                "fail"
            } else {
                "pass"
            };
            // The certificate's name is judged per MX name, shared session or not.
            assert_eq!(
                labels(report, CheckId::SmtpCertName),
                [expected],
                "{}",
                report.domain
            );
            for check in [
                CheckId::SmtpStarttlsAccepted,
                CheckId::SmtpCertTrusted,
                CheckId::SmtpLegacyTls,
            ] {
                assert_eq!(labels(report, check), ["pass"], "{} {check}", report.domain);
            }
            let connect = findings(report, CheckId::SmtpConnect)[0];
            if let Some(note) = connect
                .evidence
                .iter()
                .find(|evidence| evidence.label == "shared observation")
            {
                shared += 1;
                assert!(
                    note.value.starts_with("observed at 127.0.0.")
                        && note.value.ends_with(", the same server"),
                    "{note:?}"
                );
                assert!(
                    connect.summary.ends_with(", the same server)"),
                    "{connect:?}"
                );
            }
        }
        assert_eq!(shared, if every_name { 0 } else { 27 });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_whose_certificate_changes_with_sni_is_probed_for_every_name() {
    let (zone, domains) = farm(6, &[75]);
    let world = World::start(zone, &[]).await;
    // Each tenant name gets a leaf of its own; any other name the fallback.
    let names: Vec<String> = (0..6)
        .map(|n| format!("t{n}.mail.protection.farm.test"))
        .collect();
    let leaves: Vec<common::ca::Leaf> = names
        .iter()
        .map(|name| world.ca.issue(&LeafSpec::valid_for(&[name.as_str()])))
        .collect();
    let by_name: Vec<(&str, &common::ca::Leaf)> = names
        .iter()
        .map(String::as_str)
        .zip(leaves.iter())
        .collect();
    let fallback = world
        .ca
        .issue(&LeafSpec::valid_for(&["fallback.farm.test"]));
    let tls = common::ca::sni_server_config(&by_name, &fallback);
    let server = SmtpServer::start_with_tls(IpAddr::V4(ip(75)), 0, Behaviour::Normal, tls).await;
    let mut network = world.network(Duration::from_secs(5));
    network.smtp_port = server.port();
    let config = run_config(&network, 2, Duration::from_secs(60));
    let (arrivals, stats) = audit(network, &domains, &config).await;
    assert_eq!(arrivals.len(), 7);
    // Seven names, seven sessions, one TLS 1.0/1.1 probe: nothing shared.
    assert_eq!(server.connections(), 7 + 1);
    assert_eq!(stats.memo.smtp_shared, 0);
    for arrival in &arrivals {
        let report = &arrival.report;
        let expected = if report.domain == "odd.farm.test" {
            "fail"
        } else {
            "pass"
        };
        assert_eq!(
            labels(report, CheckId::SmtpCertName),
            [expected],
            "{}",
            report.domain
        );
        assert_eq!(labels(report, CheckId::SmtpLegacyTls), ["pass"]);
    }
}

/// `count` domains `dN.NAME.test`, each with an `_mta-sts` and a `_smtp._tls` record and one
/// MX host shared by all, so that every question has an answer and none is for a misplaced
/// record.
fn dns_only_world(name: &str, count: usize) -> (Zone, Vec<String>) {
    let mut zone = Zone::new("test").a(&format!("mx.{name}.test"), ip(90));
    let mut domains = Vec::new();
    for n in 0..count {
        let domain = format!("d{n}.{name}.test");
        zone = zone
            .txt(&format!("_mta-sts.{domain}"), &["v=STSv1; id=1"])
            .txt(
                &format!("_smtp._tls.{domain}"),
                &["v=TLSRPTv1; rua=mailto:r@rua.test"],
            )
            .mx(&domain, 10, &format!("mx.{name}.test"));
        domains.push(domain);
    }
    (zone.mx("rua.test", 10, "mx.rua.test"), domains)
}

/// Runs the engine over `domains` with SMTP skipped; returns the reports and the DNS figures.
async fn audit_dns_only(
    network: NetworkConfig,
    domains: &[String],
) -> (Vec<DomainReport>, mtasts::probe::dns::DnsSummary) {
    let mut config = run_config(&network, 2, Duration::from_secs(60));
    config.options.skip_smtp = true;
    let probe = LiveProbe::new(network).unwrap();
    let dns = probe.dns_stats();
    let names = domains.iter().map(|name| name.parse().unwrap());
    let mut reports = Vec::new();
    engine::run(probe, names, &config, |_, report| {
        reports.push(report);
        Ok(())
    })
    .await
    .unwrap();
    (reports, dns.summary())
}

fn undetermined(report: &DomainReport) -> Vec<String> {
    report
        .findings
        .iter()
        .filter_map(|finding| match &finding.outcome {
            Outcome::CouldNotDetermine { reason } => Some(format!("{}: {reason}", finding.check)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_resolver_slows_the_run_down_but_fails_no_domain() {
    use common::dns::Throttle;
    for (name, mode) in [("refusing", Throttle::Refuse), ("dropping", Throttle::Drop)] {
        let (zone, domains) = dns_only_world(name, 80);
        // About a fifth of what the run would ask for in the first second.
        let dns = DnsServer::start(zone.throttle(300, mode)).await;
        // The budget each question's retries have. A dropped question costs its attempt's whole
        // wait, so on a loaded machine one unlucky question can see its first five attempts
        // dropped; twice the default step keeps this about the resolver, not the machine.
        let network = NetworkConfig {
            limits: Limits::with_timeout(Duration::from_secs(20)),
            resolver: Some(dns.addr()),
            allow_private: true,
            ..NetworkConfig::default()
        };
        let started = Instant::now();
        let (reports, figures) = audit_dns_only(network, &domains).await;
        let elapsed = started.elapsed();
        assert_eq!(reports.len(), 80);
        assert!(
            dns.throttled() > 0,
            "{name}: the server never had to throttle"
        );
        for report in &reports {
            let cut = undetermined(report);
            assert!(cut.is_empty(), "{name} {}: {cut:?}", report.domain);
            assert_eq!(labels(report, CheckId::StsRecordPresent), ["pass"]);
        }
        assert!(
            figures.throttled > 0 && figures.retried > 0,
            "{name}: {figures:?}"
        );
        assert_eq!(figures.failed, 0, "{name}: {figures:?}");
        assert!(figures.resolver_was_bottleneck(), "{name}: {figures:?}");
        assert!(
            figures.smallest_window < figures.largest_window,
            "{name}: {figures:?}"
        );
        println!("throttling ({name}): {elapsed:?}, {figures:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_is_down_ends_the_run_quickly_naming_it() {
    // A UDP port that swallows everything, and no TCP listener behind it.
    let silent = tokio::net::UdpSocket::bind((ip(91), 0)).await.unwrap();
    let resolver = silent.local_addr().unwrap();
    let (_, domains) = dns_only_world("down", 40);
    let step = Duration::from_secs(2);
    let network = NetworkConfig {
        limits: Limits::with_timeout(step),
        resolver: Some(resolver),
        allow_private: true,
        ..NetworkConfig::default()
    };
    let started = Instant::now();
    let (reports, figures) = audit_dns_only(network, &domains).await;
    let elapsed = started.elapsed();
    // About one step's budget in all, not a timeout per question or per domain.
    assert!(elapsed < step * 3, "{elapsed:?}");
    assert_eq!(reports.len(), 40);
    let sentence = format!("the resolver {resolver} did not answer");
    for report in &reports {
        assert_eq!(report.verdict(), mtasts::model::Verdict::CouldNotDetermine);
        let cut = undetermined(report);
        assert!(
            cut.iter().any(|reason| reason.contains(&sentence)),
            "{}: {cut:?}",
            report.domain
        );
    }
    assert!(figures.failed > 0);
    drop(silent);
}
