//! The real STARTTLS probe against the scriptable loopback SMTP server, well-behaved and hostile
//! on purpose, then the SMTP verdicts on what it observed. Loopback only.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::ca::{Leaf, LeafSpec, TestCa};
use common::smtp::{Behaviour, SmtpServer};
use mtasts::catalog::{CheckId, Profile};
use mtasts::model::{Finding, Outcome};
use mtasts::observe::{
    DnsAnswer, HostLookup, LegacyTls, MxHostObservation, Observations, SmtpObservation, TlsVersion,
};
use mtasts::probe::smtp::probe;
use mtasts::probe::{Limits, NetworkConfig};
use mtasts::verdict::smtp::{smtp_checks, NO_MX_REACHABLE};
use mtasts::verdict::{Context, Findings};

const MX: &str = "mx.example.test";
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Slack for scheduling on a busy machine when asserting that a probe ended in time.
const SLACK: Duration = Duration::from_millis(1500);

fn limits(step: Duration, greeting: Duration) -> Limits {
    Limits {
        step_timeout: step,
        greeting_timeout: greeting,
        ..Limits::default()
    }
}

fn quick() -> Limits {
    limits(Duration::from_secs(3), Duration::from_secs(3))
}

fn config(ca: &TestCa, port: u16, limits: Limits) -> NetworkConfig {
    NetworkConfig {
        limits,
        extra_roots: vec![ca.cert_der.clone()],
        smtp_port: port,
        ehlo_name: "probe.example.test".to_owned(),
        allow_private: true,
        ..NetworkConfig::default()
    }
}

struct Run {
    obs: SmtpObservation,
    server: SmtpServer,
    elapsed: Duration,
}

/// Starts a server with `behaviour` and `leaf` on 127.0.0.1 and probes it as `MX`.
async fn run_with(behaviour: Behaviour, ca: &TestCa, leaf: &Leaf, limits: Limits) -> Run {
    let server = SmtpServer::start(LOCALHOST, 0, behaviour, leaf).await;
    let config = config(ca, server.port(), limits);
    let started = Instant::now();
    let obs = probe(&config, MX, LOCALHOST).await;
    let elapsed = started.elapsed();
    server.assert_no_mail_transaction();
    Run {
        obs,
        server,
        elapsed,
    }
}

async fn run(behaviour: Behaviour, limits: Limits) -> Run {
    let ca = TestCa::new("mtasts test CA");
    let leaf = ca.issue(&LeafSpec::valid_for(&[MX]));
    run_with(behaviour, &ca, &leaf, limits).await
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn judge_with(probes: Vec<SmtpObservation>, profile: Profile) -> Vec<Finding> {
    let mut obs = Observations::empty(&"example.test".parse().unwrap());
    for probe in probes {
        let host = probe.host.clone();
        obs.mx_hosts.push(MxHostObservation {
            name: host.clone(),
            preference: 10,
            addrs: HostLookup {
                name: host,
                a: DnsAnswer::records(vec![probe.ip]),
                aaaa: DnsAnswer::NoData,
            },
            tlsa: DnsAnswer::NoData,
            smtp: vec![probe],
            not_contacted: Vec::new(),
        });
    }
    let ctx = Context::new(profile, now());
    let mut out = Findings::new(profile);
    mtasts::verdict::smtp::judge(&obs, &ctx, &mut out);
    out.finish()
}

fn judge(probes: Vec<SmtpObservation>) -> Vec<Finding> {
    judge_with(probes, Profile::Rfc)
}

fn finding(findings: &[Finding], check: CheckId) -> &Finding {
    let matching: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
    assert_eq!(matching.len(), 1, "{check}: {findings:#?}");
    matching[0]
}

/// Asserts each check's outcome label, and that every SMTP check has exactly one finding.
fn assert_outcomes(findings: &[Finding], expected: &[(CheckId, &str)]) {
    assert_eq!(findings.len(), smtp_checks().len(), "{findings:#?}");
    for check in smtp_checks() {
        finding(findings, check);
    }
    for (check, label) in expected {
        assert_eq!(
            finding(findings, *check).outcome.label(),
            *label,
            "{check}: {:#?}",
            finding(findings, *check)
        );
    }
}

fn blocked_by(findings: &[Finding], check: CheckId) -> String {
    match &finding(findings, check).outcome {
        Outcome::Skipped { blocked_by } => blocked_by.to_string(),
        other => panic!("{check} is {other:?}"),
    }
}

#[tokio::test]
async fn normal_server_passes_every_check() {
    let Run {
        obs,
        server,
        elapsed,
    } = run(Behaviour::Normal, quick()).await;
    assert_eq!(obs.failure, None, "{:#?}", obs.transcript);
    let greeting = obs.greeting.as_ref().unwrap();
    assert_eq!(greeting.code, 220);
    assert_eq!(
        greeting.lines,
        ["mx.example.test ESMTP test server", "no UCE"]
    );
    assert_eq!(obs.ehlo.as_ref().unwrap().code, 250);
    // EC-62: `250-starttls` in lower case still counts.
    assert!(obs.starttls_offered);
    assert_eq!(obs.starttls_reply.as_ref().unwrap().code, 220);
    assert_eq!(obs.pre_tls_bytes, 0);
    let tls = obs.tls.as_ref().unwrap();
    assert_eq!(tls.version, TlsVersion::Tls13);
    assert!(tls.cipher.starts_with("TLS13_"), "{}", tls.cipher);
    assert_eq!(tls.trust, Ok(()));
    assert_eq!(tls.name_match, Ok(()));
    assert_eq!(tls.chain[0].dns_names, [MX]);
    assert!(tls.chain[0].issuer.contains("mtasts test CA"));
    assert!(!obs.starttls_after_tls);
    // rustls answers a TLS 1.0/1.1-only ClientHello with an alert (or a close).
    assert_eq!(obs.legacy_tls, LegacyTls::Refused);
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");

    let transcript = obs.transcript.join("\n");
    let expected_order = [
        "S: 220-mx.example.test ESMTP test server",
        "S: 220 no UCE",
        "C: EHLO probe.example.test",
        "S: 250-starttls",
        "C: STARTTLS",
        "S: 220 2.0.0 Ready to start TLS",
        "-- TLS --",
        "C: EHLO probe.example.test",
        "C: QUIT",
        "S: 221 2.0.0 Bye",
    ];
    let mut from = 0;
    for line in expected_order {
        let at = transcript[from..]
            .find(line)
            .unwrap_or_else(|| panic!("{line:?} missing or out of order in\n{transcript}"));
        from += at + line.len();
    }

    // The STARTTLS session, then the second connection for the TLS 1.0/1.1 probe.
    assert_eq!(server.connections(), 2);
    assert_eq!(
        server.commands(),
        [
            "EHLO probe.example.test",
            "STARTTLS",
            "EHLO probe.example.test",
            "QUIT",
            "EHLO probe.example.test",
            "STARTTLS",
        ]
    );

    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &smtp_checks()
            .into_iter()
            .map(|check| (check, "pass"))
            .collect::<Vec<_>>(),
    );
    assert!(finding(&findings, CheckId::SmtpTlsVersion)
        .summary
        .contains("TLSv1.3"));
}

#[tokio::test]
async fn no_starttls_fails_offered_and_skips_the_rest() {
    let Run { obs, server, .. } = run(Behaviour::NoStarttls, quick()).await;
    assert_eq!(obs.failure, None);
    assert!(!obs.starttls_offered);
    assert_eq!(obs.starttls_reply, None);
    assert_eq!(obs.tls, None);
    assert!(matches!(obs.legacy_tls, LegacyTls::NotTested { .. }));
    assert_eq!(server.connections(), 1);
    assert_eq!(server.commands(), ["EHLO probe.example.test", "QUIT"]);

    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &[
            (CheckId::SmtpConnect, "pass"),
            (CheckId::SmtpStarttlsOffered, "fail"),
            (CheckId::SmtpCertTrusted, "skipped"),
        ],
    );
    let offered = finding(&findings, CheckId::SmtpStarttlsOffered);
    assert!(offered
        .evidence
        .iter()
        .any(|e| e.value == "starttls-not-supported"));
    assert!(offered
        .evidence
        .iter()
        .any(|e| e.label == "transcript" && e.value.contains("C: EHLO probe.example.test")));
    for check in &smtp_checks()[2..] {
        assert_eq!(blocked_by(&findings, *check), "smtp.starttls-offered");
    }
}

#[tokio::test]
async fn starttls_454_fails_accepted() {
    let Run { obs, server, .. } = run(Behaviour::Starttls454, quick()).await;
    assert_eq!(obs.starttls_reply.as_ref().unwrap().code, 454);
    let failure = obs.failure.as_ref().unwrap();
    assert_eq!(failure.step.as_str(), "starttls");
    assert!(!failure.timed_out);
    assert!(failure.detail.contains("454"), "{}", failure.detail);
    assert_eq!(obs.tls, None);
    assert!(matches!(obs.legacy_tls, LegacyTls::NotTested { .. }));
    assert_eq!(server.connections(), 1);

    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &[
            (CheckId::SmtpConnect, "pass"),
            (CheckId::SmtpStarttlsOffered, "pass"),
            (CheckId::SmtpStarttlsAccepted, "fail"),
        ],
    );
    assert!(finding(&findings, CheckId::SmtpStarttlsAccepted)
        .summary
        .contains("454 4.7.0"));
    for check in &smtp_checks()[3..] {
        assert_eq!(blocked_by(&findings, *check), "smtp.starttls-accepted");
    }
}

#[tokio::test]
async fn greeting_421_is_undetermined_with_the_reply() {
    let Run { obs, elapsed, .. } = run(Behaviour::Greeting421, quick()).await;
    assert_eq!(obs.greeting.as_ref().unwrap().code, 421);
    let failure = obs.failure.as_ref().unwrap();
    assert_eq!(failure.step.as_str(), "greeting");
    assert!(!failure.timed_out);
    assert!(elapsed < Duration::from_secs(2));

    let findings = judge(vec![obs]);
    match &finding(&findings, CheckId::SmtpConnect).outcome {
        Outcome::CouldNotDetermine { reason } => {
            assert!(reason.contains("421 4.3.2"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        blocked_by(&findings, CheckId::SmtpStarttlsOffered),
        "smtp.connect"
    );
}

#[tokio::test]
async fn slow_greeting_within_the_timeout_is_measured() {
    let delay = Duration::from_millis(400);
    let Run { obs, .. } = run(
        Behaviour::GreetingDelay(delay),
        limits(Duration::from_secs(3), Duration::from_secs(3)),
    )
    .await;
    assert_eq!(obs.failure, None);
    assert!(obs.greeting_delay >= delay, "{:?}", obs.greeting_delay);
    assert!(obs.tls.is_some());
}

#[tokio::test]
async fn hostile_greetings_end_within_their_timeouts() {
    let greeting = Duration::from_millis(600);
    let cases = [
        (Behaviour::Silent, true, "no complete reply"),
        (
            Behaviour::GreetingDelay(Duration::from_secs(30)),
            true,
            "no complete reply",
        ),
        (Behaviour::DripGreeting, true, "no complete reply"),
        (Behaviour::EndlessGreeting, false, "more than 100 lines"),
        (Behaviour::HugeGreetingLine, false, "longer than 2048 bytes"),
    ];
    for (behaviour, timed_out, detail) in cases {
        let name = format!("{behaviour:?}");
        let Run {
            obs,
            server,
            elapsed,
        } = run(behaviour, limits(Duration::from_millis(600), greeting)).await;
        let failure = obs.failure.as_ref().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(failure.step.as_str(), "greeting", "{name}");
        assert_eq!(failure.timed_out, timed_out, "{name}");
        assert!(
            failure.detail.contains(detail),
            "{name}: {}",
            failure.detail
        );
        assert!(elapsed < greeting + SLACK, "{name} took {elapsed:?}");
        assert_eq!(server.connections(), 1, "{name}");
        assert!(server.commands().is_empty(), "{name}");
        // The transcript stays bounded whatever the server sent.
        assert!(
            obs.transcript.iter().map(String::len).sum::<usize>() < 64 * 1024,
            "{name}"
        );

        let findings = judge(vec![obs]);
        let connect = &finding(&findings, CheckId::SmtpConnect).outcome;
        if timed_out {
            assert!(
                matches!(connect, Outcome::CouldNotDetermine { .. }),
                "{name}: {connect:?}"
            );
        } else {
            assert_eq!(connect, &Outcome::Fail, "{name}");
        }
    }
}

#[tokio::test]
async fn stalled_tls_handshake_times_out() {
    let step = Duration::from_millis(700);
    let Run { obs, elapsed, .. } = run(
        Behaviour::StallAfterStarttls,
        limits(step, Duration::from_secs(2)),
    )
    .await;
    let failure = obs.failure.as_ref().unwrap();
    assert_eq!(failure.step.as_str(), "tls");
    assert!(failure.timed_out);
    // STARTTLS was answered 220, so the TLS 1.0/1.1 probe ran too, and also timed out.
    assert!(
        matches!(&obs.legacy_tls, LegacyTls::NotTested { reason } if reason.contains("no answer")),
        "{:?}",
        obs.legacy_tls
    );
    assert!(elapsed < step * 2 + SLACK, "{elapsed:?}");

    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &[
            (CheckId::SmtpStarttlsAccepted, "fail"),
            (CheckId::SmtpCertTrusted, "skipped"),
            (CheckId::SmtpTlsVersion, "skipped"),
            (CheckId::SmtpLegacyTls, "could-not-determine"),
            (CheckId::SmtpStarttlsReadvertised, "skipped"),
            (CheckId::SmtpPreTlsData, "pass"),
        ],
    );
}

#[tokio::test]
async fn bytes_after_the_starttls_220_are_counted_and_dropped() {
    let Run { obs, .. } = run(Behaviour::InjectAfterStarttls, quick()).await;
    assert_eq!(obs.pre_tls_bytes, "250-injected\r\n".len());
    assert_eq!(obs.failure, None, "{:#?}", obs.transcript);
    assert!(obs.tls.is_some());
    assert!(obs
        .transcript
        .iter()
        .any(|line| line.contains("250-injected\\r\\n")));

    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &[
            (CheckId::SmtpStarttlsAccepted, "pass"),
            (CheckId::SmtpPreTlsData, "warn"),
        ],
    );
    assert!(finding(&findings, CheckId::SmtpPreTlsData)
        .summary
        .starts_with("14 bytes"));
}

#[tokio::test]
async fn starttls_readvertised_inside_tls_warns() {
    let Run { obs, .. } = run(Behaviour::ReadvertiseAfterTls, quick()).await;
    assert!(obs.starttls_after_tls);
    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &[
            (CheckId::SmtpStarttlsReadvertised, "warn"),
            (CheckId::SmtpPreTlsData, "pass"),
        ],
    );
}

#[tokio::test]
async fn server_accepting_tls10_is_reported() {
    let Run { obs, server, .. } = run(Behaviour::LegacyTls10, quick()).await;
    assert_eq!(
        obs.legacy_tls,
        LegacyTls::Accepted {
            version: TlsVersion::Tls10
        }
    );
    assert_eq!(obs.tls.as_ref().unwrap().version, TlsVersion::Tls13);
    assert_eq!(server.connections(), 2);

    let rfc = judge(vec![obs.clone()]);
    assert_outcomes(
        &rfc,
        &[
            (CheckId::SmtpLegacyTls, "warn"),
            (CheckId::SmtpTlsVersion, "pass"),
        ],
    );
    let sge = judge_with(vec![obs], Profile::Sge);
    assert_eq!(finding(&sge, CheckId::SmtpLegacyTls).outcome, Outcome::Fail);
}

#[tokio::test]
async fn certificate_problems_are_judged_separately() {
    let ca = TestCa::new("mtasts test CA");
    let cases = [
        (
            "self-signed",
            TestCa::self_signed(&[MX]),
            [
                (CheckId::SmtpCertTrusted, "fail"),
                (CheckId::SmtpCertName, "pass"),
                (CheckId::SmtpCertExpiry, "pass"),
            ],
        ),
        (
            "wrong name",
            ca.issue(&LeafSpec::valid_for(&["example.test"])),
            [
                (CheckId::SmtpCertTrusted, "pass"),
                (CheckId::SmtpCertName, "fail"),
                (CheckId::SmtpCertExpiry, "pass"),
            ],
        ),
        (
            "expired",
            ca.issue(&LeafSpec::expired(&[MX])),
            [
                // Trust is judged inside the validity period, so expiry is reported once.
                (CheckId::SmtpCertTrusted, "pass"),
                (CheckId::SmtpCertName, "pass"),
                (CheckId::SmtpCertExpiry, "fail"),
            ],
        ),
        (
            "expiring",
            ca.issue(&LeafSpec::expiring_in_days(&[MX], 5)),
            [
                (CheckId::SmtpCertTrusted, "pass"),
                (CheckId::SmtpCertExpiry, "pass"),
                (CheckId::SmtpCertExpiring, "warn"),
            ],
        ),
    ];
    for (name, leaf, expected) in cases {
        let Run { obs, .. } = run_with(Behaviour::Normal, &ca, &leaf, quick()).await;
        assert_eq!(obs.failure, None, "{name}");
        let tls = obs.tls.clone().unwrap_or_else(|| panic!("{name}"));
        let findings = judge(vec![obs]);
        for (check, label) in expected {
            assert_eq!(
                finding(&findings, check).outcome.label(),
                label,
                "{name} {check}: {tls:#?}"
            );
        }
    }
}

#[tokio::test]
async fn refused_connection_is_not_held_against_the_domain() {
    // A port nobody listens on: bind, note it, let it go.
    let port = {
        let listener = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let ca = TestCa::new("mtasts test CA");
    let config = config(&ca, port, quick());
    let started = Instant::now();
    let obs = probe(&config, MX, LOCALHOST).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let failure = obs.failure.as_ref().unwrap();
    assert_eq!(failure.step.as_str(), "connect");
    assert!(!failure.timed_out);
    assert!(obs.transcript.is_empty());

    let findings = judge(vec![obs]);
    assert_eq!(
        finding(&findings, CheckId::SmtpConnect).outcome,
        Outcome::CouldNotDetermine {
            reason: NO_MX_REACHABLE.to_owned()
        }
    );
    for check in &smtp_checks()[1..] {
        assert_eq!(blocked_by(&findings, *check), "smtp.connect");
    }
}

#[tokio::test]
async fn one_unreachable_address_among_reachable_ones() {
    let ca = TestCa::new("mtasts test CA");
    let leaf = ca.issue(&LeafSpec::valid_for(&[MX, "mx2.example.test"]));
    let reachable: IpAddr = "127.0.0.2".parse().unwrap();
    let unreachable: IpAddr = "127.0.0.3".parse().unwrap();
    let server = SmtpServer::start(reachable, 0, Behaviour::Normal, &leaf).await;
    let config = config(&ca, server.port(), quick());
    let good = probe(&config, MX, reachable).await;
    let bad = probe(&config, "mx2.example.test", unreachable).await;
    assert_eq!(good.failure, None);
    assert_eq!(bad.failure.as_ref().unwrap().step.as_str(), "connect");
    server.assert_no_mail_transaction();

    let findings = judge(vec![good, bad]);
    let connects: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check == CheckId::SmtpConnect)
        .collect();
    assert_eq!(connects.len(), 2);
    assert_eq!(connects[0].outcome, Outcome::Pass);
    match &connects[1].outcome {
        Outcome::CouldNotDetermine { reason } => {
            assert!(reason.contains("port 25 may be blocked"), "{reason}");
            assert_ne!(reason, NO_MX_REACHABLE);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_loopback_mx_is_not_contacted_without_allow_private() {
    let ca = TestCa::new("mtasts test CA");
    let leaf = ca.issue(&LeafSpec::valid_for(&[MX]));
    let server = SmtpServer::start(LOCALHOST, 0, Behaviour::Normal, &leaf).await;
    let mut config = config(&ca, server.port(), Limits::default());
    config.allow_private = false;
    let obs = probe(&config, MX, LOCALHOST).await;
    let failure = obs.failure.expect("refused");
    assert_eq!(failure.step.as_str(), "connect");
    assert!(failure.detail.contains("loopback"), "{}", failure.detail);
    assert!(obs.greeting.is_none());
    assert_eq!(server.connections(), 0);

    // The same server, allowed: it is contacted.
    config.allow_private = true;
    let obs = probe(&config, MX, LOCALHOST).await;
    assert!(obs.failure.is_none(), "{:?}", obs.failure);
    assert!(server.connections() > 0);
}

/// The SMTP probe alone behind the [`Probe`] trait, so that [`CachingProbe`] can retry it as a
/// run does; the DNS questions are never asked here.
struct SmtpOnly(NetworkConfig);

impl mtasts::probe::Probe for SmtpOnly {
    async fn txt(&self, _: &str) -> DnsAnswer<Vec<mtasts::observe::TxtRecord>> {
        DnsAnswer::NoData
    }
    async fn mx(&self, _: &str) -> DnsAnswer<Vec<mtasts::observe::MxRecord>> {
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
    async fn fetch_policy(&self, host: &str, ip: IpAddr) -> mtasts::observe::FetchObservation {
        mtasts::probe::https::fetch_policy(&self.0, host, ip).await
    }
    async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
        probe(&self.0, host, ip).await
    }
}

/// Waits between attempts in these tests (a run waits 1 s, then 3 s).
const BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(200)];

/// As [`run`], through [`CachingProbe`] with [`BACKOFF`]: retried as in a run.
async fn run_retried(behaviour: Behaviour) -> Run {
    use mtasts::probe::caching::CachingProbe;
    use mtasts::probe::Probe;
    let ca = TestCa::new("mtasts test CA");
    let leaf = ca.issue(&LeafSpec::valid_for(&[MX]));
    let server = SmtpServer::start(LOCALHOST, 0, behaviour, &leaf).await;
    let caching =
        CachingProbe::new(SmtpOnly(config(&ca, server.port(), quick())), 1).with_backoff(&BACKOFF);
    let started = Instant::now();
    let obs = caching.smtp(MX, LOCALHOST).await;
    let elapsed = started.elapsed();
    server.assert_no_mail_transaction();
    Run {
        obs,
        server,
        elapsed,
    }
}

/// Issue 12: a reset after the greeting, the EHLO reply or the STARTTLS 220 is tried again like
/// a temporary refusal, and one that persists is named under `smtp.connect`; everything behind
/// it could not be determined, for that reason (it was a `starttls-offered` or
/// `starttls-accepted` failure before).
#[tokio::test]
async fn a_reset_mid_session_is_retried_and_named() {
    use common::smtp::ResetStage;
    use mtasts::observe::ConnectionLoss;
    let cases = [
        (ResetStage::AfterGreeting, "ehlo", "after its greeting"),
        (ResetStage::AfterEhlo, "starttls", "after its EHLO reply"),
        (
            ResetStage::AfterStarttls220,
            "tls",
            "after its STARTTLS 220",
        ),
    ];
    for (stage, step, after) in cases {
        let Run {
            obs,
            server,
            elapsed,
        } = run_retried(Behaviour::ResetAt(stage)).await;
        println!(
            "hostile: SMTP reset {after}, 3 attempts, ended in {} ms",
            elapsed.as_millis()
        );
        assert!(elapsed < BACKOFF[0] + BACKOFF[1] + SLACK, "{elapsed:?}");
        assert_eq!(server.connections(), 3, "{stage:?}: no second connection");
        assert_eq!(obs.attempts, 3, "{stage:?}");
        assert_eq!(
            obs.connection_lost,
            Some(ConnectionLoss::Reset),
            "{stage:?}"
        );
        assert_eq!(
            obs.failure.as_ref().unwrap().step.as_str(),
            step,
            "{stage:?}"
        );
        assert!(
            obs.tried_for >= BACKOFF[0] + BACKOFF[1],
            "{:?}",
            obs.tried_for
        );
        let notes: Vec<&String> = obs
            .transcript
            .iter()
            .filter(|line| line.starts_with("-- attempt"))
            .collect();
        assert_eq!(notes.len(), 2, "{:#?}", obs.transcript);
        assert!(notes[0].contains(&format!("the server reset the connection {after}")));

        let expected = format!("the server reset the connection {after}, on 3 attempts over ");
        let findings = judge(vec![obs]);
        assert_eq!(findings.len(), smtp_checks().len());
        for check in smtp_checks() {
            match &finding(&findings, check).outcome {
                Outcome::CouldNotDetermine { reason } => {
                    assert!(reason.starts_with(&expected), "{check}: {reason}");
                    assert!(reason.ends_with(" s"), "{check}: {reason}");
                }
                other => panic!("{stage:?} {check}: {other:?}"),
            }
        }
    }
}

/// Issue 12: a `421` at the greeting or to EHLO that persists through the retries is rate
/// limiting, not a fault of the domain: the refused step could not be determined, saying the
/// reply and how many attempts over how long, and the steps before it passed.
#[tokio::test]
async fn a_persistent_421_is_rate_limiting_with_its_attempts() {
    let cases = [
        (
            Behaviour::Greeting421,
            CheckId::SmtpConnect,
            "rate limited (421 4.3.2 mx.example.test busy, try again later), on 3 attempts over ",
        ),
        (
            Behaviour::Ehlo421,
            CheckId::SmtpStarttlsOffered,
            "rate limited (421 4.7.0 mx.example.test too many connections), on 3 attempts over ",
        ),
    ];
    for (behaviour, refused, expected) in cases {
        let Run {
            obs,
            server,
            elapsed,
        } = run_retried(behaviour.clone()).await;
        println!(
            "hostile: SMTP {behaviour:?} on every attempt ended in {} ms",
            elapsed.as_millis()
        );
        assert_eq!(server.connections(), 3, "{behaviour:?}");
        assert_eq!(obs.attempts, 3, "{behaviour:?}");
        let findings = judge(vec![obs]);
        let mut expected_outcomes = Vec::new();
        for check in smtp_checks() {
            let finding = finding(&findings, check);
            if check == refused {
                match &finding.outcome {
                    Outcome::CouldNotDetermine { reason } => {
                        assert!(reason.starts_with(expected), "{check}: {reason}");
                        assert!(reason.ends_with(" s"), "{check}: {reason}");
                    }
                    other => panic!("{behaviour:?} {check}: {other:?}"),
                }
            } else if check < refused {
                expected_outcomes.push((check, "pass"));
            } else {
                assert_eq!(blocked_by(&findings, check), refused.as_str(), "{check}");
            }
        }
        assert_outcomes(&findings, &expected_outcomes);
    }
}

/// A reset that does not happen again is only a note in the transcript.
#[tokio::test]
async fn a_reset_that_clears_is_retried_to_a_pass() {
    use common::smtp::ResetStage;
    let Run { obs, server, .. } =
        run_retried(Behaviour::ResetAtFirst(ResetStage::AfterEhlo, 1)).await;
    assert_eq!(obs.attempts, 2);
    assert_eq!(obs.connection_lost, None);
    assert_eq!(obs.failure, None);
    // The reset session, the session that worked, and the TLS 1.0/1.1 probe.
    assert_eq!(server.connections(), 3);
    assert!(obs.transcript[0]
        .starts_with("-- attempt 1 the server reset the connection after its EHLO reply;"));
    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &smtp_checks()
            .into_iter()
            .map(|check| (check, "pass"))
            .collect::<Vec<_>>(),
    );
}

/// Issue 12: a `454` to STARTTLS is tried again like any temporary refusal, and one that
/// persists fails `smtp.starttls-accepted` (a TLS fault every sender meets, not rate limiting),
/// saying how many attempts over how long.
#[tokio::test]
async fn a_persistent_454_fails_with_its_attempts_and_their_duration() {
    let Run { obs, server, .. } = run_retried(Behaviour::Starttls454).await;
    assert_eq!(server.connections(), 3);
    assert_eq!(obs.attempts, 3);
    let findings = judge(vec![obs]);
    assert_outcomes(
        &findings,
        &[
            (CheckId::SmtpConnect, "pass"),
            (CheckId::SmtpStarttlsOffered, "pass"),
            (CheckId::SmtpStarttlsAccepted, "fail"),
        ],
    );
    let summary = &finding(&findings, CheckId::SmtpStarttlsAccepted).summary;
    assert!(
        summary.starts_with(
            "STARTTLS was answered 454 4.7.0 TLS not available due to local problem, on 3 \
             attempts over 0."
        ),
        "{summary}"
    );
    assert!(
        summary.ends_with(" s: the refusal persisted, so senders cannot start TLS here"),
        "{summary}"
    );
}

/// Issue 12: an SSL 3.0 ServerHello to a TLS 1.0/1.1-only ClientHello is an accepted legacy
/// version, named as such (it was "version 0x0300, which was not offered").
#[tokio::test]
async fn an_ssl3_server_hello_is_named() {
    let Run { obs, .. } = run(Behaviour::LegacySsl3, quick()).await;
    assert_eq!(
        obs.legacy_tls,
        LegacyTls::Accepted {
            version: TlsVersion::Ssl3
        }
    );
    let findings = judge(vec![obs]);
    let legacy = finding(&findings, CheckId::SmtpLegacyTls);
    assert_eq!(legacy.outcome, Outcome::Warn);
    assert_eq!(
        legacy.summary,
        "the server accepted a ClientHello offering only TLS 1.0 and 1.1 and chose SSLv3"
    );
}

/// Issue 11: on a link with a round trip, the STARTTLS session waits for seven of them: the TCP
/// handshake, the greeting, EHLO, STARTTLS, the TLS 1.3 handshake, EHLO inside TLS (it leaves
/// with the client's Finished) and QUIT. Counted by the delaying proxy from the order of what
/// crossed it, not from a clock; the benchmark's critical path counts the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starttls_session_costs_seven_round_trips() {
    let ca = TestCa::new("mtasts test CA");
    let leaf = ca.issue(&LeafSpec::valid_for(&[MX]));
    let server = SmtpServer::start(LOCALHOST, 0, Behaviour::Normal, &leaf).await;
    // Long enough that a busy machine's scheduling cannot reorder what crosses the proxy.
    let rtt = Duration::from_millis(80);
    let front = std::net::SocketAddr::new(LOCALHOST, 0);
    let proxy = common::delay::DelayProxy::start(front, server.addr, rtt).await;
    let config = config(&ca, proxy.port(), quick());
    let obs = mtasts::probe::smtp::starttls_only(&config, MX, LOCALHOST).await;
    assert!(obs.failure.is_none(), "{obs:#?}");
    assert_eq!(
        obs.tls.as_ref().map(|tls| tls.version),
        Some(TlsVersion::Tls13)
    );
    let links = proxy.links();
    assert_eq!(links.len(), 1);
    let chain = links[0].chain();
    assert_eq!(chain.round_trips, 7, "{:#?}", links[0].describe());
    // The STARTTLS 220 is the fourth: TCP, greeting, EHLO, STARTTLS.
    let to_220 = links[0].chain_to_answer(b"STARTTLS").unwrap();
    assert_eq!(to_220.round_trips, 4, "{:#?}", links[0].describe());
}
