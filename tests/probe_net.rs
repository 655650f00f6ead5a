//! The live DNS and HTTPS probes against in-process loopback servers: a hickory-server zone and
//! a scriptable HTTPS server presenting certificates from a run-time test CA.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed setup step should panic.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use common::ca::{LeafSpec, TestCa};
use common::dns::{DnsServer, Zone};
use common::https::{Behaviour, HttpsServer, Script};
use hickory_server::proto::rr::RecordType;
use mtasts::observe::{DnsAnswer, FetchObservation, MxRecord, TlsVersion, TxtRecord};
use mtasts::probe::dns::DnsClient;
use mtasts::probe::https::{fetch_policy, tls_handshake};
use mtasts::probe::{Limits, NetworkConfig};

const POLICY_HOST: &str = "mta-sts.example.test";
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn dns_config(dns: &DnsServer, step: Duration) -> NetworkConfig {
    NetworkConfig {
        resolver: Some(dns.addr()),
        limits: Limits::with_timeout(step),
        allow_private: true,
        ..NetworkConfig::default()
    }
}

async fn client_for(zone: Zone) -> (DnsServer, DnsClient) {
    let dns = DnsServer::start(zone).await;
    let client = DnsClient::new(&dns_config(&dns, Duration::from_secs(2))).unwrap();
    (dns, client)
}

fn records<T: Clone + std::fmt::Debug>(answer: &DnsAnswer<T>) -> T {
    answer
        .data()
        .unwrap_or_else(|| panic!("expected records, got {answer:?}"))
        .clone()
}

#[tokio::test]
async fn txt_strings_are_kept_apart() {
    let zone = Zone::new("example.test")
        .txt("_mta-sts.example.test", &["v=STSv1; ", "id=20240101"])
        .txt_bytes("_smtp._tls.example.test", &[b"v=TLSRPTv1;", b"\xff\x00raw"]);
    let (_dns, client) = client_for(zone).await;

    let sts = client.txt("_mta-sts.example.test").await;
    assert_eq!(
        records(&sts),
        vec![TxtRecord {
            strings: vec![b"v=STSv1; ".to_vec(), b"id=20240101".to_vec()]
        }]
    );
    assert_eq!(records(&sts)[0].joined(), b"v=STSv1; id=20240101");
    assert!(sts.cname_chain().is_empty());

    let rpt = client.txt("_smtp._tls.example.test.").await;
    assert_eq!(
        records(&rpt)[0].strings,
        vec![b"v=TLSRPTv1;".to_vec(), b"\xff\x00raw".to_vec()]
    );
}

#[tokio::test]
async fn cname_chain_and_smallest_ttl_are_recorded() {
    let zone = Zone::new("example.test")
        .ttl(60)
        .cname("_mta-sts.example.test", "sts.hop.test")
        .ttl(120)
        .cname("sts.hop.test", "sts.provider.test")
        .ttl(900)
        .txt("sts.provider.test", &["v=STSv1; id=1"]);
    let (_dns, client) = client_for(zone).await;

    let answer = client.txt("_mta-sts.example.test").await;
    assert_eq!(records(&answer).len(), 1);
    assert_eq!(
        answer.cname_chain(),
        [
            "_mta-sts.example.test -> sts.hop.test",
            "sts.hop.test -> sts.provider.test"
        ]
    );
    assert_eq!(answer.ttl(), Some(60));

    let direct = client.txt("sts.provider.test").await;
    assert_eq!(direct.ttl(), Some(900));
    assert!(direct.cname_chain().is_empty());
}

#[tokio::test]
async fn nxdomain_nodata_and_failures_are_distinct() {
    let zone = Zone::new("example.test")
        .mx("example.test", 10, "mx.example.test")
        .tlsa("_25._tcp.mx.example.test", 3, 1, 1, &[0xab, 0xcd, 0x01])
        .cname("dangling.example.test", "gone.example.test")
        .servfail("_mta-sts.broken.test")
        .refused("_mta-sts.refused.test");
    let (_dns, client) = client_for(zone).await;

    assert_eq!(
        client.txt("_mta-sts.nowhere.example.test").await,
        DnsAnswer::NxDomain
    );
    // The name exists (it has an MX) but has no TXT.
    assert_eq!(client.txt("example.test").await, DnsAnswer::NoData);
    // An empty non-terminal exists too.
    assert_eq!(client.txt("_tcp.mx.example.test").await, DnsAnswer::NoData);
    // A CNAME to nothing: the target does not exist.
    assert_eq!(
        client.txt("dangling.example.test").await,
        DnsAnswer::NxDomain
    );

    match client.txt("_mta-sts.broken.test").await {
        DnsAnswer::Failed { reason } => assert!(reason.contains("SERVFAIL"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    match client.mx("_mta-sts.refused.test").await {
        DnsAnswer::Failed { reason } => assert!(reason.contains("REFUSED"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }

    assert_eq!(
        records(&client.tlsa("_25._tcp.mx.example.test").await),
        vec!["3 1 1 abcd01".to_owned()]
    );
    assert_eq!(
        client.tlsa("_25._tcp.example.test").await,
        DnsAnswer::NxDomain
    );
}

#[tokio::test]
async fn mx_exchanges_are_normalised_and_null_mx_is_empty() {
    let zone = Zone::new("example.test")
        .ttl(1234)
        .mx("example.test", 20, "MX2.Example.TEST")
        .mx("example.test", 10, "mx1.example.test.")
        .mx("nullmx.example.test", 0, ".");
    let (_dns, client) = client_for(zone).await;

    let answer = client.mx("example.test").await;
    let mut found = records(&answer);
    found.sort_by_key(|mx| mx.preference);
    assert_eq!(
        found,
        vec![
            MxRecord {
                preference: 10,
                exchange: "mx1.example.test".to_owned()
            },
            MxRecord {
                preference: 20,
                exchange: "mx2.example.test".to_owned()
            },
        ]
    );
    assert_eq!(answer.ttl(), Some(1234));

    assert_eq!(
        records(&client.mx("nullmx.example.test").await),
        vec![MxRecord {
            preference: 0,
            exchange: String::new()
        }]
    );
}

#[tokio::test]
async fn addresses_come_from_a_and_aaaa() {
    let zone = Zone::new("example.test")
        .a("mta-sts.example.test", Ipv4Addr::new(192, 0, 2, 10))
        .a("mta-sts.example.test", Ipv4Addr::new(192, 0, 2, 11))
        .aaaa(
            "mta-sts.example.test",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
        )
        .a("v4only.example.test", Ipv4Addr::new(192, 0, 2, 20))
        .cname("alias.example.test", "v4only.example.test");
    let (_dns, client) = client_for(zone).await;

    let both = client.addrs("mta-sts.example.test").await;
    assert_eq!(both.name, "mta-sts.example.test");
    let mut v4 = records(&both.a);
    v4.sort();
    assert_eq!(
        v4,
        vec![
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11))
        ]
    );
    assert_eq!(
        records(&both.aaaa),
        vec![IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))]
    );

    let v4only = client.addrs("alias.example.test").await;
    assert_eq!(v4only.aaaa, DnsAnswer::NoData);
    assert_eq!(
        v4only.addresses(),
        vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20))]
    );
    assert_eq!(
        v4only.cname_chain(),
        ["alias.example.test -> v4only.example.test"]
    );
    assert_eq!(v4only.failure(), None);
}

/// Issue 11: the CNAME chain is followed after a negative answer to name a loop, but a host
/// with addresses of one family is no loop: its other family's NODATA costs no CNAME question,
/// which would hold back every connection to it by a round trip. A name with neither is
/// followed once, not once per family.
#[tokio::test]
async fn a_host_with_addresses_of_one_family_costs_no_cname_question() {
    let zone = Zone::new("example.test").a("v4only.example.test", Ipv4Addr::new(192, 0, 2, 20));
    let (dns, client) = client_for(zone).await;
    let cname_questions = |name: &str| {
        dns.queries()
            .iter()
            .filter(|query| query.name == name && query.record_type == RecordType::CNAME)
            .count()
    };

    let v4only = client.addrs("v4only.example.test").await;
    assert_eq!(
        v4only.addresses(),
        vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20))]
    );
    assert_eq!(v4only.aaaa, DnsAnswer::NoData);
    assert_eq!(cname_questions("v4only.example.test"), 0);

    let gone = client.addrs("gone.example.test").await;
    assert_eq!(
        (gone.a, gone.aaaa),
        (DnsAnswer::NxDomain, DnsAnswer::NxDomain)
    );
    assert_eq!(cname_questions("gone.example.test"), 1);
}

#[tokio::test]
async fn truncated_udp_answers_are_retried_over_tcp() {
    let zone = Zone::new("example.test")
        .txt("_mta-sts.example.test", &["v=STSv1; id=tcp"])
        .truncate_udp("_mta-sts.example.test");
    let (dns, client) = client_for(zone).await;

    let answer = client.txt("_mta-sts.example.test").await;
    assert_eq!(records(&answer), vec![TxtRecord::single("v=STSv1; id=tcp")]);
    let asked: Vec<bool> = dns
        .queries()
        .iter()
        .filter(|query| query.record_type == RecordType::TXT)
        .map(|query| query.tcp)
        .collect();
    assert_eq!(asked.first(), Some(&false), "{asked:?}");
    assert!(asked.contains(&true), "no TCP retry: {asked:?}");
}

#[tokio::test]
async fn large_answers_are_bounded() {
    let mut zone = Zone::new("example.test");
    for index in 0..150 {
        zone = zone.txt("many.example.test", &[&format!("record number {index}")]);
    }
    let (_dns, client) = client_for(zone).await;
    let answer = client.txt("many.example.test").await;
    assert_eq!(records(&answer).len(), 100);
}

#[tokio::test]
async fn an_unanswered_question_fails_within_the_time_limit() {
    let zone = Zone::new("example.test").silent("_mta-sts.example.test");
    let dns = DnsServer::start(zone).await;
    let step = Duration::from_millis(300);
    let client = DnsClient::new(&dns_config(&dns, step)).unwrap();

    let started = Instant::now();
    let answer = client.txt("_mta-sts.example.test").await;
    let elapsed = started.elapsed();
    assert!(matches!(answer, DnsAnswer::Failed { .. }), "{answer:?}");
    // Two tries over UDP, maybe TCP, plus the outer bound: well under five seconds.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(!dns.queries().is_empty());
}

// ---- HTTPS ----------------------------------------------------------------------------------

const POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 604800\r\n";

struct Lab {
    ca: TestCa,
}

impl Lab {
    fn new() -> Self {
        Self {
            ca: TestCa::new("mtasts probe_net CA"),
        }
    }

    fn config(&self, server: &HttpsServer) -> NetworkConfig {
        NetworkConfig {
            https_port: server.port(),
            extra_roots: vec![self.ca.cert_der.clone()],
            limits: Limits::with_timeout(Duration::from_secs(3)),
            allow_private: true,
            ..NetworkConfig::default()
        }
    }

    async fn serve(&self, script: Script) -> HttpsServer {
        let leaf = self.ca.issue(&LeafSpec::valid_for(&[POLICY_HOST]));
        HttpsServer::start(LOCALHOST, &leaf, script).await
    }
}

fn response(observation: &FetchObservation) -> &mtasts::observe::HttpResponse {
    match &observation.result {
        Ok(response) => response,
        Err(failure) => panic!("fetch failed: {failure:?}"),
    }
}

#[tokio::test]
async fn fetches_a_plain_text_policy_like_a_sender() {
    let lab = Lab::new();
    let server = lab.serve(Script::ok(POLICY)).await;
    let observation = fetch_policy(&lab.config(&server), POLICY_HOST, LOCALHOST).await;

    let fetched = response(&observation);
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.status_line, "HTTP/1.1 200 OK");
    assert_eq!(fetched.body, POLICY.as_bytes());
    assert!(!fetched.truncated);
    assert_eq!(fetched.header("Content-Type"), Some("text/plain"));
    assert!(fetched
        .headers
        .iter()
        .all(|(name, _)| *name == name.to_ascii_lowercase()));
    assert_eq!(observation.ip, LOCALHOST);

    let tls = observation.tls.as_ref().expect("TLS observed");
    assert_eq!(tls.version, TlsVersion::Tls13);
    assert!(tls.cipher.starts_with("TLS13_"), "{}", tls.cipher);
    assert_eq!(tls.trust, Ok(()));
    assert_eq!(tls.name_match, Ok(()));
    assert_eq!(tls.chain.len(), 1);
    assert_eq!(tls.chain[0].dns_names, vec![POLICY_HOST.to_owned()]);

    // One HTTP request, as a sender sends it: no caching, no conditions, no compression.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.request_line,
        "GET /.well-known/mta-sts.txt HTTP/1.1"
    );
    assert_eq!(
        request.header("host"),
        Some(format!("{POLICY_HOST}:{}", server.port()).as_str())
    );
    for forbidden in [
        "if-none-match",
        "if-modified-since",
        "accept-encoding",
        "cache-control",
        "range",
    ] {
        assert_eq!(request.header(forbidden), None, "sent {forbidden}");
    }
}

/// Issue 11: the handshake-only connection and the fetch run side by side; the fetch waited
/// for the handshake before (two round trips on every policy fetch). Shown by the order of
/// what crossed a delaying proxy: the fetch's connection arrived before the handshake-only
/// connection's handshake was answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_only_connection_does_not_hold_back_the_fetch() {
    let lab = Lab::new();
    let server = lab.serve(Script::ok(POLICY)).await;
    let rtt = Duration::from_millis(80);
    let front = std::net::SocketAddr::new(LOCALHOST, 0);
    let backend = std::net::SocketAddr::new(LOCALHOST, server.port());
    let proxy = common::delay::DelayProxy::start(front, backend, rtt).await;
    let mut config = lab.config(&server);
    config.https_port = proxy.port();
    let observation = fetch_policy(&config, POLICY_HOST, LOCALHOST).await;
    assert_eq!(response(&observation).body, POLICY.as_bytes());
    assert_eq!(
        observation.tls.as_ref().map(|tls| tls.version),
        Some(TlsVersion::Tls13)
    );

    let links = proxy.links();
    assert_eq!(
        links.len(),
        2,
        "the handshake-only connection and the fetch"
    );
    let handshake_answered = links
        .iter()
        .map(|link| link.chain().last_answer.unwrap())
        .min()
        .unwrap();
    assert!(
        links.iter().all(|link| link.opened < handshake_answered),
        "one connection waited for the other"
    );
}

#[tokio::test]
async fn serves_from_the_given_address_only() {
    let lab = Lab::new();
    let other_ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let leaf = lab.ca.issue(&LeafSpec::valid_for(&[POLICY_HOST]));
    let server = HttpsServer::start(other_ip, &leaf, Script::ok(POLICY)).await;

    let observation = fetch_policy(&lab.config(&server), POLICY_HOST, other_ip).await;
    assert_eq!(response(&observation).body, POLICY.as_bytes());
    assert_eq!(observation.ip, other_ip);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn redirects_are_not_followed_and_location_is_kept() {
    let lab = Lab::new();
    let server = lab.serve(Script::ok(POLICY)).await;
    let target = format!("https://{POLICY_HOST}:{}/policy.txt", server.port());
    let redirecting = lab
        .serve(Script::redirect("HTTP/1.1 301 Moved Permanently", &target))
        .await;

    let observation = fetch_policy(&lab.config(&redirecting), POLICY_HOST, LOCALHOST).await;
    let fetched = response(&observation);
    assert_eq!(fetched.status, 301);
    assert_eq!(fetched.status_line, "HTTP/1.1 301 Moved Permanently");
    assert_eq!(fetched.header("location"), Some(target.as_str()));
    assert_eq!(redirecting.request_count(), 1);
    assert_eq!(server.request_count(), 0, "the redirect was followed");
}

#[tokio::test]
async fn oversized_bodies_are_cut_one_byte_past_the_cap() {
    let lab = Lab::new();
    let cap = 1000;
    for (size, truncated) in [
        (cap - 1, false),
        (cap, false),
        (cap + 1, true),
        (cap * 50, true),
    ] {
        let body = "a".repeat(size);
        let server = lab.serve(Script::ok(&body)).await;
        let mut config = lab.config(&server);
        config.limits.max_policy_bytes = cap;
        let observation = fetch_policy(&config, POLICY_HOST, LOCALHOST).await;
        let fetched = response(&observation);
        assert_eq!(fetched.truncated, truncated, "size {size}");
        assert_eq!(fetched.body.len(), size.min(cap + 1), "size {size}");
    }
}

#[tokio::test]
async fn headers_are_escaped_and_capped() {
    let lab = Lab::new();
    let filler = "x".repeat(400);
    let mut script = Script::respond(
        "HTTP/1.1 200 OK",
        &[("Content-Type", "text/plain"), ("X-Odd", "a\u{202e}b\tc")],
        POLICY.as_bytes(),
    );
    for _ in 0..10 {
        script.headers.push(("X-Filler".to_owned(), filler.clone()));
    }
    let server = lab.serve(script).await;
    let mut config = lab.config(&server);
    config.limits.max_header_bytes = 1000;

    let observation = fetch_policy(&config, POLICY_HOST, LOCALHOST).await;
    let fetched = response(&observation);
    assert_eq!(fetched.header("x-odd"), Some("a\\u{202e}b\\tc"));
    let kept: usize = fetched.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    assert!(kept <= 1000 + 100, "kept {kept} header bytes");
    assert!(
        fetched
            .headers
            .iter()
            .filter(|(n, _)| n == "x-filler")
            .count()
            < 10
    );
}

#[tokio::test]
async fn a_server_that_never_answers_ends_within_the_timeout() {
    let lab = Lab::new();
    for behaviour in [Behaviour::SilentAfterRequest, Behaviour::SilentTcp] {
        let server = lab
            .serve(Script::ok(POLICY).with_behaviour(behaviour))
            .await;
        let mut config = lab.config(&server);
        config.limits = Limits::with_timeout(Duration::from_millis(500));

        let started = Instant::now();
        let observation = fetch_policy(&config, POLICY_HOST, LOCALHOST).await;
        let elapsed = started.elapsed();
        let failure = observation.result.as_ref().expect_err("no answer expected");
        assert!(failure.timed_out, "{behaviour:?}: {failure:?}");
        // step 0.5 s for the handshake probe plus 1 s for the fetch, with slack.
        assert!(
            elapsed < Duration::from_secs(4),
            "{behaviour:?} took {elapsed:?}"
        );
        match behaviour {
            Behaviour::SilentAfterRequest => {
                assert_eq!(failure.step.as_str(), "http");
                // TLS was established before the server went quiet, and is reported.
                assert_eq!(
                    observation.tls.as_ref().map(|tls| tls.trust.is_ok()),
                    Some(true)
                );
                assert_eq!(server.request_count(), 1);
            }
            _ => {
                assert_eq!(failure.step.as_str(), "tls");
                assert!(observation.tls.is_none());
                assert!(!failure.detail.is_empty());
            }
        }
    }
}

#[tokio::test]
async fn a_slow_answer_is_timed() {
    let lab = Lab::new();
    let delay = Duration::from_millis(700);
    let server = lab.serve(Script::ok(POLICY).with_delay(delay)).await;
    let observation = fetch_policy(&lab.config(&server), POLICY_HOST, LOCALHOST).await;
    assert_eq!(response(&observation).status, 200);
    assert!(observation.elapsed >= delay, "{:?}", observation.elapsed);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_failure() {
    let lab = Lab::new();
    let port = {
        let listener = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = NetworkConfig {
        https_port: port,
        extra_roots: vec![lab.ca.cert_der.clone()],
        limits: Limits::with_timeout(Duration::from_secs(2)),
        allow_private: true,
        ..NetworkConfig::default()
    };
    let observation = fetch_policy(&config, POLICY_HOST, LOCALHOST).await;
    let failure = observation.result.expect_err("nothing listens");
    assert_eq!(failure.step.as_str(), "connect");
    assert!(!failure.timed_out);
    assert!(observation.tls.is_none());
}

#[tokio::test]
async fn untrusted_self_signed_certificate_is_reported_and_body_still_read() {
    let lab = Lab::new();
    let leaf = TestCa::self_signed(&[POLICY_HOST]);
    let server = HttpsServer::start(LOCALHOST, &leaf, Script::ok(POLICY)).await;

    let observation = fetch_policy(&lab.config(&server), POLICY_HOST, LOCALHOST).await;
    assert_eq!(response(&observation).body, POLICY.as_bytes());
    let tls = observation.tls.as_ref().unwrap();
    let reason = tls
        .trust
        .as_ref()
        .expect_err("self-signed must not be trusted");
    assert!(reason.contains("unknown issuer"), "{reason}");
    assert_eq!(tls.name_match, Ok(()));
}

#[tokio::test]
async fn wrong_name_is_a_name_mismatch_only() {
    let lab = Lab::new();
    // The bare domain and a CN do not cover the policy host (RFC 9525; EC-59).
    let leaf = lab
        .ca
        .issue(&LeafSpec::valid_for(&["example.test", "www.example.test"]));
    let server = HttpsServer::start(LOCALHOST, &leaf, Script::ok(POLICY)).await;

    let observation = fetch_policy(&lab.config(&server), POLICY_HOST, LOCALHOST).await;
    assert_eq!(response(&observation).status, 200);
    let tls = observation.tls.as_ref().unwrap();
    assert_eq!(tls.trust, Ok(()));
    let reason = tls.name_match.as_ref().expect_err("name must not match");
    assert!(reason.contains(POLICY_HOST), "{reason}");
    assert!(reason.contains("www.example.test"), "{reason}");
}

#[tokio::test]
async fn expired_certificate_keeps_trust_and_shows_its_dates() {
    let lab = Lab::new();
    let leaf = lab.ca.issue(&LeafSpec::expired(&[POLICY_HOST]));
    let server = HttpsServer::start(LOCALHOST, &leaf, Script::ok(POLICY)).await;

    let observation = fetch_policy(&lab.config(&server), POLICY_HOST, LOCALHOST).await;
    assert_eq!(response(&observation).status, 200);
    let tls = observation.tls.as_ref().unwrap();
    assert_eq!(tls.trust, Ok(()), "expiry must be judged apart from trust");
    assert_eq!(tls.name_match, Ok(()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(tls.chain[0].not_after < now);
    assert!(tls.chain[0].not_before < tls.chain[0].not_after);
}

#[tokio::test]
async fn ca_file_roots_are_what_makes_the_test_ca_trusted() {
    let lab = Lab::new();
    let server = lab.serve(Script::ok(POLICY)).await;

    let mut without = lab.config(&server);
    without.extra_roots.clear();
    let observation = fetch_policy(&without, POLICY_HOST, LOCALHOST).await;
    let tls = observation.tls.as_ref().unwrap();
    assert!(tls.trust.is_err(), "the test CA is not a Mozilla root");
    assert_eq!(response(&observation).body, POLICY.as_bytes());

    let observation = fetch_policy(&lab.config(&server), POLICY_HOST, LOCALHOST).await;
    assert_eq!(observation.tls.as_ref().unwrap().trust, Ok(()));
}

#[tokio::test]
async fn the_live_probe_refuses_non_public_addresses_without_allow_private() {
    use mtasts::probe::live::LiveProbe;
    use mtasts::probe::Probe;

    let lab = Lab::new();
    let server = lab.serve(Script::ok(POLICY)).await;
    let mut config = lab.config(&server);
    config.allow_private = false;
    // Never asked: only the connection gate is under test.
    config.resolver = Some((LOCALHOST, 9).into());
    let probe = LiveProbe::new(config).unwrap();
    for ip in [
        LOCALHOST,
        "::ffff:127.0.0.1".parse().unwrap(),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ] {
        let observation = probe.fetch_policy(POLICY_HOST, ip).await;
        let failure = observation.result.expect_err("refused");
        assert_eq!(failure.step.as_str(), "connect", "{ip}");
        assert!(failure.detail.contains("not a public address"), "{ip}");
        assert!(failure.detail.contains("--allow-private"), "{ip}");
        assert!(observation.tls.is_none());
        let smtp = probe.smtp("mx.example.test", ip).await;
        assert_eq!(smtp.failure.expect("refused").step.as_str(), "connect");
        assert!(smtp.transcript.is_empty());
    }
    assert_eq!(server.connection_count(), 0);
}

/// An `https:` report URL is looked at as a reporter would before posting: a handshake and
/// nothing else, on the port the URI names.
#[tokio::test]
async fn an_https_report_host_is_only_handshaken_with() {
    let lab = Lab::new();
    let leaf = lab
        .ca
        .issue(&LeafSpec::valid_for(&["reports.example.test"]));
    let server = HttpsServer::start(LOCALHOST, &leaf, Script::ok(POLICY)).await;
    let config = NetworkConfig {
        https_port: 1,
        ..lab.config(&server)
    };
    let port = Some(server.port());
    let good = tls_handshake(&config, "reports.example.test", LOCALHOST, port).await;
    let tls = good.tls.expect("a session");
    assert_eq!(tls.trust, Ok(()));
    assert_eq!(tls.name_match, Ok(()));

    let misnamed = tls_handshake(&config, "other.example.test", LOCALHOST, port).await;
    assert!(misnamed.tls.expect("a session").name_match.is_err());

    // Without the URI's port, the HTTPS port: nothing listens on port 1.
    let refused = tls_handshake(&config, "reports.example.test", LOCALHOST, None).await;
    assert_eq!(
        refused.tls.expect_err("no session").step.as_str(),
        "connect"
    );

    // A non-public address is never contacted without --allow-private.
    let closed = NetworkConfig {
        allow_private: false,
        ..config
    };
    let refused = tls_handshake(&closed, "reports.example.test", LOCALHOST, port).await;
    assert!(refused
        .tls
        .expect_err("not contacted")
        .detail
        .contains("not a public address"));
}
