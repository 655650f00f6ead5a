//! The hostile-server suite: loopback DNS, HTTPS and SMTP servers that misbehave on purpose
//! (silence, dripping, floods, loops, garbage), each run against the library's probes with
//! short timeouts. Every scenario asserts that the call ends within a bound derived from the
//! configured timeouts, that what is kept stays within the size bounds, that the observation or
//! finding names what the server did, and (by finishing) that nothing panicked.
//!
//! Each test prints `hostile: <scenario> ended in <ms> ms`; `docs/hostile.md` collects them:
//! `cargo test --test hostile -- --nocapture`. Scenarios already covered by
//! `tests/probe_smtp.rs` (silent, slow, dripped, endless and huge greetings, 421 greeting, stalled
//! handshake after STARTTLS, injection after STARTTLS 220, STARTTLS re-advertised) are not
//! repeated here.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::ca::{LeafSpec, TestCa};
use common::dns::{DnsServer, Zone};
use common::https::{Behaviour as HttpsBehaviour, HttpsServer, Script};
use common::scenario::evidence_lines;
use common::smtp::{Behaviour as SmtpBehaviour, SmtpServer};
use mtasts::catalog::{CheckId, Profile};
use mtasts::model::{Finding, Outcome, Subject};
use mtasts::observe::{
    AnswerCut, DnsAnswer, FetchFailure, FetchObservation, HostLookup, MxHostObservation,
    Observations, SmtpObservation, TxtRecord,
};
use mtasts::probe::dns::{
    DnsClient, MAX_CNAME_STEPS, MAX_RECORDS, MAX_TXT_ANSWER_BYTES, MAX_TXT_RECORD_BYTES,
};
use mtasts::probe::https::fetch_policy;
use mtasts::probe::smtp::probe as smtp_probe;
use mtasts::probe::{Limits, NetworkConfig};
use mtasts::verdict::{Context, Findings};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The step timeout every scenario runs with.
const STEP: Duration = Duration::from_secs(1);
/// Slack for scheduling on a busy machine (two cores shared with other builds).
const SLACK: Duration = Duration::from_millis(1500);

fn limits() -> Limits {
    Limits {
        step_timeout: STEP,
        fetch_timeout: STEP * 2,
        greeting_timeout: STEP,
        ..Limits::default()
    }
}

fn dns_config(dns: &DnsServer) -> NetworkConfig {
    NetworkConfig {
        limits: limits(),
        resolver: Some(dns.addr()),
        // The hostile servers live on loopback.
        allow_private: true,
        ..NetworkConfig::default()
    }
}

/// A whole audit of `domain` through the real probe, DNS from `dns`, SMTP probes skipped.
async fn observe_without_smtp(dns: &DnsServer, domain: &str) -> Observations {
    observe_with(dns_config(dns), domain, true).await
}

/// A whole audit of `domain` through the real probe configured by `config`.
async fn observe_with(config: NetworkConfig, domain: &str, skip_smtp: bool) -> Observations {
    let probe = mtasts::probe::live::LiveProbe::new(config).unwrap();
    let options = mtasts::audit::Options {
        skip_smtp,
        limits: limits(),
        allow_private: true,
        reports: None,
    };
    mtasts::audit::observe(&probe, &domain.parse().unwrap(), &options).await
}

/// The DNS client's bound on one question: a try and a retry of one step each, plus one step
/// and a second of margin (see `DnsClient::new`).
fn dns_question_bound() -> Duration {
    STEP * 3 + Duration::from_secs(1)
}

/// Prints the line `docs/hostile.md` is made from and asserts the bound.
fn ended(scenario: &str, elapsed: Duration, bound: Duration) {
    println!("hostile: {scenario} ended in {} ms", elapsed.as_millis());
    assert!(
        elapsed <= bound + SLACK,
        "{scenario} took {elapsed:?}, bound {bound:?}"
    );
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn finding(findings: &[Finding], check: CheckId) -> &Finding {
    findings
        .iter()
        .find(|finding| finding.check == check)
        .unwrap_or_else(|| panic!("no {check} finding: {findings:#?}"))
}

// ---------------------------------------------------------------------------------------------
// DNS

#[tokio::test]
async fn dns_never_answers() {
    let dns = DnsServer::start(Zone::new("quiet.test").silent("_mta-sts.quiet.test")).await;
    let client = DnsClient::new(&dns_config(&dns)).unwrap();
    let started = Instant::now();
    let answer = client.txt("_mta-sts.quiet.test").await;
    ended(
        "DNS never answers (TXT)",
        started.elapsed(),
        dns_question_bound(),
    );
    match &answer {
        DnsAnswer::Failed { reason } => assert!(
            reason.starts_with(&format!("the resolver {} did not answer", dns.addr())),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn dns_never_answers_is_could_not_determine() {
    let dns = DnsServer::start(Zone::new("quiet.test").silent("_mta-sts.quiet.test")).await;
    let started = Instant::now();
    let obs = observe_without_smtp(&dns, "quiet.test").await;
    // The silent question runs alongside the others; the misplaced-record lookups follow it.
    ended(
        "DNS never answers (whole audit)",
        started.elapsed(),
        dns_question_bound() * 2,
    );
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    match &finding(&report.findings, CheckId::StsRecordPresent).outcome {
        Outcome::CouldNotDetermine { reason } => assert!(
            reason.contains("the resolver") && reason.contains("did not answer"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}

/// Issue 12: a resolver that never answers anything ends the audit within one question's bound
/// (it took two: the misplaced-record lookups waited for the silent `_mta-sts` question), and
/// every lookup says, in one sentence, that the resolver did not answer.
#[tokio::test]
async fn dns_resolver_that_never_answers_ends_within_one_question() {
    let dns = DnsServer::start(Zone::new("gone.test").silent_everywhere()).await;
    let started = Instant::now();
    let obs = observe_without_smtp(&dns, "gone.test").await;
    ended(
        "DNS resolver never answers (whole audit)",
        started.elapsed(),
        dns_question_bound(),
    );
    assert!(obs.sts_misplaced.is_empty() && obs.tlsrpt_misplaced.is_empty());
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let silent = [format!("the resolver {} did not answer", dns.addr())];
    for check in [
        CheckId::StsRecordPresent,
        CheckId::PolicyHostResolves,
        CheckId::MxLookup,
        CheckId::TlsRptPresent,
    ] {
        let found = finding(&report.findings, check);
        let Outcome::CouldNotDetermine { reason } = &found.outcome else {
            panic!("{check}: {found:#?}");
        };
        assert!(
            silent
                .iter()
                .any(|sentence| reason.contains(sentence.as_str())),
            "{check}: {reason}"
        );
    }
}

#[tokio::test]
async fn dns_truncated_answer_is_retried_over_tcp() {
    let zone = Zone::new("trunc.test")
        .txt("_mta-sts.trunc.test", &["v=STSv1; id=1"])
        .truncate_udp("_mta-sts.trunc.test");
    let dns = DnsServer::start(zone).await;
    let client = DnsClient::new(&dns_config(&dns)).unwrap();
    let started = Instant::now();
    let answer = client.txt("_mta-sts.trunc.test").await;
    ended(
        "DNS truncated answer",
        started.elapsed(),
        dns_question_bound(),
    );
    assert_eq!(answer.data().map(Vec::len), Some(1), "{answer:?}");
    assert!(dns.queries().iter().any(|query| query.tcp));
}

#[tokio::test]
async fn dns_thousands_of_records_are_bounded() {
    // 4,000 A records fill one 64 KiB TCP message (16 bytes each); UDP gets TC and an empty answer.
    let mut zone = Zone::new("many.test").truncate_udp("many.test");
    for index in 0..4000u32 {
        let [_, _, high, low] = index.to_be_bytes();
        zone = zone.a("many.test", Ipv4Addr::new(10, 9, high, low));
    }
    let dns = DnsServer::start(zone).await;
    let client = DnsClient::new(&dns_config(&dns)).unwrap();
    let started = Instant::now();
    let lookup = client.addrs("many.test").await;
    ended(
        "DNS 4,000 A records",
        started.elapsed(),
        dns_question_bound(),
    );
    assert_eq!(
        lookup.a.data().map(Vec::len),
        Some(MAX_RECORDS),
        "{:?}",
        lookup.a
    );
    assert!(dns.queries().iter().any(|query| query.tcp));
}

#[tokio::test]
async fn dns_cname_loop() {
    let zone = Zone::new("loop.test")
        .cname("a.loop.test", "b.loop.test")
        .cname("b.loop.test", "a.loop.test")
        .chase_limit(40);
    let dns = DnsServer::start(zone).await;
    let client = DnsClient::new(&dns_config(&dns)).unwrap();
    let started = Instant::now();
    let lookup = client.addrs("a.loop.test").await;
    ended("DNS CNAME loop", started.elapsed(), dns_question_bound());
    // Issue 12: hickory turns the answer (the loop's CNAMEs, no address, an SOA) into "no
    // records" and drops the CNAMEs; the client follows the CNAMEs itself after a negative
    // answer and names the loop (it read as NODATA before).
    for answer in [&lookup.a, &lookup.aaaa] {
        assert_eq!(
            answer,
            &DnsAnswer::Failed {
                reason: "CNAME loop: a.loop.test -> b.loop.test -> a.loop.test".to_owned()
            }
        );
    }
}

/// Issue 12: a CNAME loop at `_mta-sts.D` is a failed lookup named as a loop, never "no
/// record"; so is one at the policy host.
#[tokio::test]
async fn dns_cname_loop_at_the_record_is_could_not_determine() {
    let zone = Zone::new("loop.test")
        .cname("_mta-sts.loop.test", "b.loop.test")
        .cname("b.loop.test", "_mta-sts.loop.test")
        .cname("mta-sts.loop.test", "mta-sts.loop.test")
        .chase_limit(40);
    let dns = DnsServer::start(zone).await;
    let started = Instant::now();
    let obs = observe_without_smtp(&dns, "loop.test").await;
    ended(
        "DNS CNAME loop at _mta-sts (whole audit)",
        started.elapsed(),
        dns_question_bound() * 2,
    );
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let loop_reason = "CNAME loop: _mta-sts.loop.test -> b.loop.test -> _mta-sts.loop.test";
    let present = finding(&report.findings, CheckId::StsRecordPresent);
    assert_eq!(
        present.outcome,
        Outcome::CouldNotDetermine {
            reason: format!(
                "the TXT lookup of _mta-sts.loop.test failed ({loop_reason}); senders that \
                 cannot look it up and have no cached policy deliver without MTA-STS"
            )
        },
        "{present:#?}"
    );
    assert!(present
        .evidence
        .iter()
        .any(|evidence| evidence.value == format!("lookup failed: {loop_reason}")));
    assert_eq!(
        obs.policy_host.a,
        DnsAnswer::Failed {
            reason: "CNAME loop: mta-sts.loop.test -> mta-sts.loop.test".to_owned()
        }
    );
}

/// Issue 12: a record published at a misplaced name fails, under the rfc profile too (it
/// warned there, like a domain that never tried): the owner meant to deploy and is not
/// protected.
#[tokio::test]
async fn dns_records_at_misplaced_names_fail() {
    let zone = Zone::new("mis.test")
        .txt("mta-sts.mis.test", &["v=STSv1; id=20250101"])
        .txt(
            "smtp.tls.mis.test",
            &["v=TLSRPTv1; rua=mailto:tls@mis.test"],
        );
    let dns = DnsServer::start(zone).await;
    let started = Instant::now();
    let obs = observe_without_smtp(&dns, "mis.test").await;
    ended(
        "DNS records at misplaced names",
        started.elapsed(),
        dns_question_bound() * 2,
    );
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let present = finding(&report.findings, CheckId::StsRecordPresent);
    assert_eq!(present.outcome, Outcome::Fail, "{present:#?}");
    assert_eq!(
        present.summary,
        "no MTA-STS record: _mta-sts.mis.test does not exist (NXDOMAIN); a record was found at \
         mta-sts.mis.test instead, where senders never look"
    );
    let tlsrpt = finding(&report.findings, CheckId::TlsRptPresent);
    assert_eq!(tlsrpt.outcome, Outcome::Fail, "{tlsrpt:#?}");
    assert!(
        tlsrpt
            .summary
            .ends_with("a record was found at smtp.tls.mis.test instead, where senders never look"),
        "{}",
        tlsrpt.summary
    );
}

/// Issue 12: 200 MX records, of which the probe keeps the 100 most preferred and the audit
/// judges the 20 most preferred; `mx.lookup` gives the true count and `mx.bounds` says both
/// cuts, naming the hosts judged (it read "100 MX record(s)" and said nothing of the 20).
#[tokio::test]
async fn dns_two_hundred_mx_records_are_stated_as_cut() {
    let mut zone = Zone::new("many-mx.test").truncate_udp("many-mx.test");
    for index in 0..200u16 {
        zone = zone.mx(
            "many-mx.test",
            1000 - index,
            &format!("mx{index:03}.many-mx.test"),
        );
    }
    let dns = DnsServer::start(zone).await;
    let started = Instant::now();
    let obs = observe_without_smtp(&dns, "many-mx.test").await;
    ended(
        "DNS 200 MX records (whole audit)",
        started.elapsed(),
        dns_question_bound() * 2,
    );
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let bounds = finding(&report.findings, CheckId::MxBounds);
    assert_eq!(bounds.outcome, Outcome::Info, "{bounds:#?}");
    let evidence = |label: &str| {
        bounds
            .evidence
            .iter()
            .find(|evidence| evidence.label == label)
            .unwrap_or_else(|| panic!("no {label}: {bounds:#?}"))
            .value
            .clone()
    };
    assert_eq!(
        evidence("MX records of many-mx.test"),
        format!(
            "the answer held 200 records; the most preferred {MAX_RECORDS} were kept (at most \
             {MAX_RECORDS} are)"
        )
    );
    // The server sends the least preferred first (mx000 has preference 1000): the kept ones
    // are the 100 most preferred all the same (801 to 900), and the judged ones the first 20.
    let judged: Vec<String> = (801..=820)
        .map(|preference| format!("mx{:03}.many-mx.test ({preference})", 1000 - preference))
        .collect();
    assert_eq!(
        evidence("MX hosts judged"),
        format!(
            "20 of the 100 kept, the most preferred: {}",
            judged.join(", ")
        )
    );
    let kept: Vec<u16> = obs
        .mx
        .data()
        .unwrap()
        .iter()
        .map(|mx| mx.preference)
        .collect();
    assert_eq!(kept, (801..=900).collect::<Vec<u16>>());
    let lookup = finding(&report.findings, CheckId::MxLookup);
    assert_eq!(lookup.outcome, Outcome::Pass);
    assert_eq!(
        lookup.summary,
        "200 MX records (the 100 most preferred kept; see mx.bounds)"
    );
}

/// Issue 12: an MX host with 128 addresses, of which 8 are probed; `mx.bounds` says which
/// were left out.
#[tokio::test]
async fn an_mx_host_with_128_addresses_is_stated_as_cut() {
    let mut zone = Zone::new("wide.test")
        .mx("wide.test", 10, "mx.wide.test")
        .truncate_udp("mx.wide.test");
    for index in 0..128u8 {
        zone = zone.a("mx.wide.test", Ipv4Addr::new(127, 77, 0, index));
    }
    let dns = DnsServer::start(zone).await;
    let mut config = dns_config(&dns);
    // Nothing listens there: each probe is refused at once.
    config.smtp_port = 9;
    let started = Instant::now();
    let obs = observe_with(config, "wide.test", false).await;
    ended(
        "DNS MX host of 128 addresses (whole audit)",
        started.elapsed(),
        dns_question_bound() * 2 + smtp_bound(&limits()),
    );
    assert_eq!(obs.mx_hosts[0].smtp.len(), 8);
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let bounds = finding(&report.findings, CheckId::MxBounds);
    assert_eq!(bounds.outcome, Outcome::Info, "{bounds:#?}");
    assert_eq!(
        evidence_lines(bounds),
        [
            "A records of mx.wide.test: the answer held 128 records; the lowest 100 were kept \
             (at most 100 are)",
            "addresses of mx.wide.test: 8 of the 100 kept probed (the first 8 in address \
             order); not probed: 127.77.0.8, 127.77.0.9, 127.77.0.10, 127.77.0.11, 127.77.0.12 \
             … and 87 more",
        ]
    );
}

/// Issue 12: a policy host with 12 addresses, of which the policy is fetched from 8;
/// `policy-host.bounds` names the other 4 (they were in `policy_not_contacted`, and no finding
/// said so).
#[tokio::test]
async fn a_policy_host_with_12_addresses_is_stated_as_cut() {
    let mut zone = Zone::new("wide-policy.test")
        .txt("_mta-sts.wide-policy.test", &["v=STSv1; id=1"])
        .mx("wide-policy.test", 10, "mx.wide-policy.test")
        .a("mx.wide-policy.test", Ipv4Addr::new(127, 0, 0, 1));
    for index in 0..12u8 {
        zone = zone.a("mta-sts.wide-policy.test", Ipv4Addr::new(127, 88, 0, index));
    }
    let dns = DnsServer::start(zone).await;
    let mut config = dns_config(&dns);
    // Nothing listens there: each fetch is refused at once.
    config.https_port = 9;
    let started = Instant::now();
    let obs = observe_with(config, "wide-policy.test", true).await;
    ended(
        "DNS policy host of 12 addresses (whole audit)",
        started.elapsed(),
        dns_question_bound() * 2 + fetch_bound(&limits()),
    );
    assert_eq!(obs.fetches.len(), 8);
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let bounds = finding(&report.findings, CheckId::PolicyHostBounds);
    assert_eq!(bounds.outcome, Outcome::Info, "{bounds:#?}");
    assert_eq!(bounds.subject, Subject::host("mta-sts.wide-policy.test"));
    assert_eq!(
        evidence_lines(bounds),
        [
            "addresses of mta-sts.wide-policy.test: 8 of 12 fetched from (the first 8 in address \
          order); not fetched from: 127.88.0.8, 127.88.0.9, 127.88.0.10, 127.88.0.11"
        ]
    );
}

/// Issue 12: CNAME chains to the record, the policy host and an MX host, through the real
/// resolver client: each hop is listed once in the evidence (it read `c1 -> c1 -> c2`), whether
/// the server sends the whole chain or only its first step (and hickory asks for the rest).
#[tokio::test]
async fn cname_chains_list_each_hop_once() {
    for chase_limit in [10, 1] {
        cname_chains_with(chase_limit).await;
    }
}

async fn cname_chains_with(chase_limit: usize) {
    let zone = Zone::new("hops.test")
        .chase_limit(chase_limit)
        .cname("_mta-sts.hops.test", "c1.hops.test")
        .cname("c1.hops.test", "c2.hops.test")
        .txt("c2.hops.test", &["v=STSv1; id=1"])
        .cname("mta-sts.hops.test", "p1.hops.test")
        .cname("p1.hops.test", "p2.hops.test")
        .a("p2.hops.test", Ipv4Addr::new(127, 0, 0, 1))
        .mx("hops.test", 10, "mx.hops.test")
        .cname("mx.hops.test", "m1.hops.test")
        .cname("m1.hops.test", "m2.hops.test")
        .a("m2.hops.test", Ipv4Addr::new(127, 0, 0, 1));
    let dns = DnsServer::start(zone).await;
    let obs = observe_without_smtp(&dns, "hops.test").await;
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let shown = |check: CheckId, label: &str| {
        finding(&report.findings, check)
            .evidence
            .iter()
            .find(|evidence| evidence.label == label)
            .unwrap_or_else(|| panic!("no {label} in {check}: {report:#?}"))
            .value
            .clone()
    };
    assert_eq!(
        shown(CheckId::StsRecordCname, "CNAME"),
        "_mta-sts.hops.test -> c1.hops.test -> c2.hops.test"
    );
    assert_eq!(
        shown(CheckId::PolicyHostResolves, "CNAME chain"),
        "mta-sts.hops.test -> p1.hops.test -> p2.hops.test"
    );
    assert_eq!(
        shown(CheckId::MxTargetCname, "CNAME chain"),
        "mx.hops.test -> m1.hops.test -> m2.hops.test"
    );
}

#[tokio::test]
async fn dns_cname_chain_of_20() {
    let mut zone = Zone::new("chain.test").chase_limit(40);
    for index in 0..20 {
        zone = zone.cname(
            &format!("c{index}.chain.test"),
            &format!("c{}.chain.test", index + 1),
        );
    }
    zone = zone.a("c20.chain.test", Ipv4Addr::new(192, 0, 2, 1));
    let dns = DnsServer::start(zone).await;
    let client = DnsClient::new(&dns_config(&dns)).unwrap();
    let started = Instant::now();
    let lookup = client.addrs("c0.chain.test").await;
    ended(
        "DNS CNAME chain of 20",
        started.elapsed(),
        dns_question_bound(),
    );
    match &lookup.a {
        DnsAnswer::Failed { reason } => assert!(
            reason.starts_with(&format!(
                "the CNAME chain is longer than {MAX_CNAME_STEPS} steps (c0.chain.test -> c1.chain.test"
            )),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn dns_huge_txt_answer_is_bounded() {
    // Eight records of 7,650 bytes (30 strings of 255) and one of 12,750: 74 KiB is more than
    // one message holds, so six big records (45 KiB) and the long one are sent over TCP.
    let big: Vec<String> = (0..30).map(|_| "x".repeat(255)).collect();
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    let long: Vec<String> = (0..50).map(|_| "y".repeat(255)).collect();
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    let mut zone = Zone::new("txt.test")
        .truncate_udp("txt.test")
        .txt("txt.test", &long);
    for index in 0..6 {
        let mut strings = big.clone();
        let tag = format!("record {index}");
        strings[0] = &tag;
        zone = zone.txt("txt.test", &strings);
    }
    let dns = DnsServer::start(zone).await;
    let client = DnsClient::new(&dns_config(&dns)).unwrap();
    let started = Instant::now();
    let answer = client.txt("txt.test").await;
    ended(
        "DNS 57 KiB TXT answer",
        started.elapsed(),
        dns_question_bound(),
    );
    let records = answer.data().unwrap();
    let sizes: Vec<usize> = records
        .iter()
        .map(|record| record.strings.iter().map(Vec::len).sum())
        .collect();
    assert!(
        sizes.iter().all(|&size| size <= MAX_TXT_RECORD_BYTES),
        "{sizes:?}"
    );
    assert!(
        sizes.contains(&MAX_TXT_RECORD_BYTES),
        "the long record is cut: {sizes:?}"
    );
    assert!(
        sizes.iter().sum::<usize>() <= MAX_TXT_ANSWER_BYTES,
        "{sizes:?}"
    );
    assert!(
        records.len() < 7,
        "records past the budget are dropped: {sizes:?}"
    );
    // Issue 12: the answer says what it held, for the report to state.
    assert_eq!(sizes, [MAX_TXT_RECORD_BYTES, 7403, 7403, 7403]);
    assert_eq!(
        answer.cut(),
        Some(&AnswerCut {
            records: 7,
            shortened: 1,
            bytes: 12_750 + 6 * 7403,
        })
    );
}

/// Issue 12: an `_mta-sts` answer past the TXT budget whose `v=STSv1` record comes last, so the
/// probe never keeps it. The report blames the audit's bound, not the domain: `present` could
/// not be determined (a sender's resolver hands over every record), and `sts-record.bounds`
/// says what was read and what was not.
#[tokio::test]
async fn dns_record_past_the_txt_budget_is_could_not_determine() {
    let big: Vec<String> = (0..30).map(|_| "x".repeat(255)).collect();
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    let mut zone = Zone::new("budget.test").truncate_udp("_mta-sts.budget.test");
    for _ in 0..5 {
        zone = zone.txt("_mta-sts.budget.test", &big);
    }
    zone = zone.txt("_mta-sts.budget.test", &["v=STSv1; id=20250101"]);
    let dns = DnsServer::start(zone).await;
    let started = Instant::now();
    let obs = observe_without_smtp(&dns, "budget.test").await;
    ended(
        "DNS v=STSv1 record past the 32 KiB TXT budget (whole audit)",
        started.elapsed(),
        dns_question_bound() * 2,
    );
    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let present = finding(&report.findings, CheckId::StsRecordPresent);
    assert_eq!(
        present.outcome,
        Outcome::CouldNotDetermine {
            reason: "none of the first 4 of the 6 TXT records at _mta-sts.budget.test begins \
                     with `v=STSv1;`, and the others were not read (see sts-record.bounds)"
                .to_owned()
        }
    );
    let bounds = finding(&report.findings, CheckId::StsRecordBounds);
    assert_eq!(bounds.outcome, Outcome::Info);
    assert_eq!(
        evidence_lines(bounds),
        [format!(
            "TXT records at _mta-sts.budget.test: the answer held 6 records ({} bytes of TXT \
             data); the first 32768 bytes were read, which hold 4 records",
            5 * 30 * 255 + 20
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// HTTPS: the policy fetch

const POLICY_HOST: &str = "mta-sts.example.test";
const GOOD_POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 1209600\r\n";

struct Fetched {
    fetch: FetchObservation,
    elapsed: Duration,
    config: NetworkConfig,
}

/// Serves `script` on 127.0.0.1 with a trusted certificate and fetches the policy from it.
async fn fetch_from(script: Script, limits: Limits) -> Fetched {
    let ca = TestCa::new("hostile test CA");
    let leaf = ca.issue(&LeafSpec::valid_for(&[POLICY_HOST]));
    let server = HttpsServer::start(LOCALHOST, &leaf, script).await;
    let config = NetworkConfig {
        limits,
        extra_roots: vec![ca.cert_der.clone()],
        https_port: server.port(),
        allow_private: true,
        ..NetworkConfig::default()
    };
    let started = Instant::now();
    let fetch = fetch_policy(&config, POLICY_HOST, LOCALHOST).await;
    let elapsed = started.elapsed();
    drop(server);
    Fetched {
        fetch,
        elapsed,
        config,
    }
}

/// The longest a fetch may take: the handshake-only connection (connect and TLS, a step each),
/// then the fetch under its own timeout and the outer second of margin.
fn fetch_bound(limits: &Limits) -> Duration {
    limits.step_timeout * 2 + limits.fetch_timeout + Duration::from_secs(1)
}

/// The whole verdict on one fetch: a domain with an MTA-STS record whose policy host has one
/// address, fetched as observed.
fn judge_fetch(fetch: FetchObservation) -> Vec<Finding> {
    let mut obs = Observations::empty(&"example.test".parse().unwrap());
    obs.sts_txt = DnsAnswer::records(vec![TxtRecord::single("v=STSv1; id=1")]);
    obs.policy_host.a = DnsAnswer::records(vec![fetch.ip]);
    obs.fetches = vec![fetch];
    let ctx = Context::new(Profile::Rfc, now());
    common::contract::judge_checked(&obs, &ctx).findings
}

fn failure(fetch: &FetchObservation) -> &FetchFailure {
    match &fetch.result {
        Err(failure) => failure,
        Ok(response) => panic!("expected a failure, got {response:?}"),
    }
}

/// Issue 12: an HTTP/2-only policy host, either kind, is named as such (it read "invalid HTTP
/// version parsed", or rustls's alert name).
#[tokio::test]
async fn https_http2_only_hosts_are_named() {
    let Fetched { fetch, elapsed, .. } = fetch_from(
        Script::ok("version: STSv1").with_behaviour(HttpsBehaviour::Http2Frames),
        limits(),
    )
    .await;
    ended(
        "HTTPS: HTTP/2 frames instead of HTTP/1.1",
        elapsed,
        fetch_bound(&limits()),
    );
    assert_eq!(failure(&fetch).step.as_str(), "http");
    let findings = judge_fetch(fetch);
    let status = finding(&findings, CheckId::PolicyFetchStatus);
    assert_eq!(status.outcome, Outcome::Fail);
    assert!(
        status.summary.starts_with(
            "no HTTP response: the request failed at the http step: the answer is not HTTP/1.1"
        ),
        "{}",
        status.summary
    );
    let error = &status
        .evidence
        .iter()
        .find(|evidence| evidence.label == "http error")
        .expect("the error is evidence")
        .value;
    assert!(
        error.ends_with(
            "the answer is not HTTP/1.1 (it does not begin with an `HTTP/1.x` status line; an \
             HTTP/2-only server answers so): senders fetch the policy over HTTP/1.1 and get \
             nothing"
        ),
        "{error}"
    );
    assert!(!error.contains("invalid HTTP version"), "{error}");

    let Fetched { fetch, elapsed, .. } = fetch_from(
        Script::ok("version: STSv1").with_behaviour(HttpsBehaviour::AlpnH2Only),
        limits(),
    )
    .await;
    ended("HTTPS: ALPN h2 only", elapsed, fetch_bound(&limits()));
    let failed = failure(&fetch);
    assert_eq!(failed.step.as_str(), "tls");
    assert!(
        failed.detail.ends_with(
            "the server refused the handshake because it speaks none of the protocols offered \
             (ALPN `http/1.1`; an HTTP/2-only server does this): senders fetch the policy over \
             HTTP/1.1"
        ),
        "{}",
        failed.detail
    );
    let findings = judge_fetch(fetch);
    let connect = finding(&findings, CheckId::PolicyFetchConnect);
    assert_eq!(connect.outcome, Outcome::Fail);
    assert!(
        !connect.summary.contains("NoApplicationProtocol"),
        "{}",
        connect.summary
    );
}

/// Issue 12: a chain deeper than webpki builds is named in words, with the count and the limit
/// (it read `Other(OtherError(MaximumPathDepthExceeded))`), and that only 10 of the 14
/// certificates are summarised is stated.
#[tokio::test]
async fn smtp_chain_of_14_certificates() {
    let ca = TestCa::new("hostile test CA");
    let leaf = ca.issue_deep(&LeafSpec::valid_for(&[MX]), 13);
    assert_eq!(leaf.chain.len(), 14);
    let server = SmtpServer::start(LOCALHOST, 0, SmtpBehaviour::Normal, &leaf).await;
    let config = NetworkConfig {
        limits: limits(),
        extra_roots: vec![ca.cert_der.clone()],
        smtp_port: server.port(),
        ehlo_name: "probe.example.test".to_owned(),
        allow_private: true,
        ..NetworkConfig::default()
    };
    let started = Instant::now();
    let obs = smtp_probe(&config, MX, LOCALHOST).await;
    ended(
        "SMTP: chain of 14 certificates",
        started.elapsed(),
        smtp_bound(&limits()),
    );
    let tls = obs.tls.as_ref().expect("a TLS session");
    assert_eq!(tls.chain.len(), mtasts::probe::tls::MAX_CHAIN);
    assert_eq!(tls.chain_presented, 14);
    let findings = judge_smtp(obs);
    let trusted = finding(&findings, CheckId::SmtpCertTrusted);
    assert_eq!(trusted.outcome, Outcome::Fail);
    assert_eq!(
        trusted.summary,
        "the certificate does not chain to a trusted root: no path to a trusted root within 6 \
         intermediate certificates, the most that webpki (and so rustls-based senders) will \
         build; the server sent 14 certificates"
    );
    assert!(trusted
        .evidence
        .iter()
        .any(|evidence| evidence.label == "chain"
            && evidence.value
                == "14 certificates presented; the first 10 are summarised in this report"));
    assert!(!format!("{trusted:?}").contains("MaximumPathDepth"));
}

/// The connection worked but no complete response came: `policy-fetch.status` fails saying how.
fn assert_no_response(fetch: FetchObservation, how: &str) {
    let findings = judge_fetch(fetch);
    assert_eq!(
        finding(&findings, CheckId::PolicyFetchConnect).outcome,
        Outcome::Pass
    );
    let status = finding(&findings, CheckId::PolicyFetchStatus);
    assert_eq!(status.outcome, Outcome::Fail, "{status:?}");
    assert!(status.summary.contains(how), "{status:?}");
}

#[tokio::test]
async fn https_tcp_accepts_and_never_sends() {
    let limits = limits();
    let bound = fetch_bound(&limits);
    let run = fetch_from(
        Script::ok(GOOD_POLICY).with_behaviour(HttpsBehaviour::SilentTcp),
        limits,
    )
    .await;
    ended("HTTPS: TCP accepted, nothing sent", run.elapsed, bound);
    let failure = failure(&run.fetch);
    assert_eq!(failure.step.as_str(), "tls");
    assert!(failure.timed_out);
    assert!(
        failure.detail.contains("not completed within"),
        "{failure:?}"
    );
    let findings = judge_fetch(run.fetch);
    let connect = finding(&findings, CheckId::PolicyFetchConnect);
    assert_eq!(connect.outcome, Outcome::Fail, "{connect:?}");
    assert!(
        connect.summary.contains("timed out at the tls step"),
        "{connect:?}"
    );
}

#[tokio::test]
async fn https_tls_handshakes_that_stall_or_lie() {
    let cases = [
        (
            HttpsBehaviour::StallHandshake,
            "HTTPS: ClientHello read, no answer",
            true,
            "not completed within",
        ),
        (
            HttpsBehaviour::HalfRecord,
            "HTTPS: half a TLS record",
            true,
            "not completed within",
        ),
        (
            HttpsBehaviour::GarbageHandshake,
            "HTTPS: garbage instead of ServerHello",
            false,
            "TLS handshake with",
        ),
    ];
    for (behaviour, scenario, timed_out, detail) in cases {
        let limits = limits();
        let bound = if timed_out {
            fetch_bound(&limits)
        } else {
            limits.step_timeout
        };
        let run = fetch_from(Script::ok(GOOD_POLICY).with_behaviour(behaviour), limits).await;
        ended(scenario, run.elapsed, bound);
        let failure = failure(&run.fetch);
        assert_eq!(failure.step.as_str(), "tls", "{scenario}: {failure:?}");
        assert_eq!(failure.timed_out, timed_out, "{scenario}: {failure:?}");
        assert!(failure.detail.contains(detail), "{scenario}: {failure:?}");
        assert!(run.fetch.tls.is_none(), "{scenario}");
        let findings = judge_fetch(run.fetch);
        let connect = &finding(&findings, CheckId::PolicyFetchConnect);
        assert_eq!(connect.outcome, Outcome::Fail, "{scenario}: {connect:?}");
        assert!(
            connect.summary.contains("at the tls step"),
            "{scenario}: {connect:?}"
        );
    }
}

#[tokio::test]
async fn https_headers_dripped_one_byte_a_second() {
    let limits = limits();
    let bound = fetch_bound(&limits);
    let run = fetch_from(
        Script::ok(GOOD_POLICY).with_behaviour(HttpsBehaviour::DripHead(Duration::from_secs(1))),
        limits,
    )
    .await;
    ended("HTTPS: headers dripped 1 byte/s", run.elapsed, bound);
    let failure = failure(&run.fetch);
    assert!(failure.timed_out, "{failure:?}");
    assert!(
        run.elapsed >= run.config.limits.fetch_timeout,
        "{:?}",
        run.elapsed
    );
    assert_eq!(failure.step.as_str(), "http", "{failure:?}");
    assert_no_response(run.fetch, "timed out at the http step");
}

#[tokio::test]
async fn https_body_dripped_one_byte_a_second() {
    let limits = limits();
    let bound = fetch_bound(&limits);
    let run = fetch_from(
        Script::ok(GOOD_POLICY).with_behaviour(HttpsBehaviour::DripBody(Duration::from_secs(1))),
        limits,
    )
    .await;
    ended("HTTPS: body dripped 1 byte/s", run.elapsed, bound);
    let failure = failure(&run.fetch);
    assert_eq!(failure.step.as_str(), "body", "{failure:?}");
    assert!(failure.timed_out, "{failure:?}");
    assert_no_response(run.fetch, "timed out at the body step");
}

#[tokio::test]
async fn https_ten_megabyte_policy_is_cut() {
    let body = GOOD_POLICY
        .as_bytes()
        .repeat(10 * 1024 * 1024 / GOOD_POLICY.len() + 1);
    let limits = limits();
    let cap = limits.max_policy_bytes;
    let bound = fetch_bound(&limits);
    let run = fetch_from(
        Script::respond("HTTP/1.1 200 OK", &[("Content-Type", "text/plain")], &body),
        limits,
    )
    .await;
    ended("HTTPS: 10 MB policy body", run.elapsed, bound);
    let response = run.fetch.result.as_ref().unwrap();
    assert_eq!(response.body.len(), cap + 1);
    assert!(response.truncated);
    let findings = judge_fetch(run.fetch);
    let size = finding(&findings, CheckId::PolicyFetchSize);
    assert_eq!(size.outcome, Outcome::Fail, "{size:?}");
}

#[tokio::test]
async fn https_one_megabyte_single_line_is_cut() {
    let body = vec![b'm'; 1024 * 1024];
    let limits = limits();
    let cap = limits.max_policy_bytes;
    let bound = fetch_bound(&limits);
    let run = fetch_from(
        Script::respond("HTTP/1.1 200 OK", &[("Content-Type", "text/plain")], &body),
        limits,
    )
    .await;
    ended("HTTPS: 1 MB single-line body", run.elapsed, bound);
    let response = run.fetch.result.as_ref().unwrap();
    assert_eq!(response.body.len(), cap + 1);
    assert!(response.truncated);
    let findings = judge_fetch(run.fetch);
    assert_eq!(
        finding(&findings, CheckId::PolicyFetchSize).outcome,
        Outcome::Fail
    );
}

#[tokio::test]
async fn https_invalid_utf8_policy() {
    let mut body = GOOD_POLICY.as_bytes().to_vec();
    body.extend_from_slice(b"mx: caf\xe9.example.test\r\n\xff\xfe\r\n");
    let limits = limits();
    let bound = fetch_bound(&limits);
    let run = fetch_from(
        Script::respond("HTTP/1.1 200 OK", &[("Content-Type", "text/plain")], &body),
        limits,
    )
    .await;
    ended("HTTPS: invalid UTF-8 policy", run.elapsed, bound);
    assert_eq!(run.fetch.result.as_ref().unwrap().body, body);
    let findings = judge_fetch(run.fetch);
    let utf8 = finding(&findings, CheckId::PolicyUtf8);
    assert_eq!(utf8.outcome, Outcome::Fail, "{utf8:?}");
    let lint = mtasts::verdict::policy::lint(&body, Profile::Rfc).findings;
    assert_eq!(finding(&lint, CheckId::PolicyUtf8).outcome, Outcome::Fail);
}

#[tokio::test]
async fn https_huge_header() {
    // One 1 MiB header: hyper refuses a head that large; the fetch fails, naming it.
    let huge = "h".repeat(1024 * 1024);
    let limits = limits();
    let bound = fetch_bound(&limits);
    let run = fetch_from(
        Script::respond(
            "HTTP/1.1 200 OK",
            &[("Content-Type", "text/plain"), ("X-Huge", &huge)],
            GOOD_POLICY.as_bytes(),
        ),
        limits,
    )
    .await;
    ended("HTTPS: 1 MiB header", run.elapsed, bound);
    let failure = failure(&run.fetch);
    assert_eq!(failure.step.as_str(), "http", "{failure:?}");
    assert!(failure.detail.len() <= 1100, "{}", failure.detail.len());
    assert!(
        failure.detail.to_lowercase().contains("too large"),
        "{failure:?}"
    );

    // Headers hyper accepts are kept up to max_header_bytes.
    let big = "b".repeat(3000);
    let limits = Limits {
        max_header_bytes: 4096,
        ..self::limits()
    };
    let headers: Vec<(String, String)> = (0..5)
        .map(|i| (format!("X-Big-{i}"), big.clone()))
        .collect();
    let mut script = Script::ok(GOOD_POLICY);
    script.headers.extend(headers);
    let run = fetch_from(script, limits).await;
    ended("HTTPS: 15 KB of headers", run.elapsed, bound);
    let response = run.fetch.result.as_ref().unwrap();
    let kept: usize = response
        .headers
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    assert!(kept <= 4096, "{kept}");
    assert!(response.header("content-type").is_some());
}

// ---------------------------------------------------------------------------------------------
// SMTP (more in tests/probe_smtp.rs: silent, slow, dripped, endless and huge greetings, 421
// greeting, handshake stalled after STARTTLS 220, bytes injected after the 220, STARTTLS
// re-advertised inside TLS)

const MX: &str = "mx.example.test";

/// The most one probe may take: the STARTTLS connection and, when STARTTLS was answered 220,
/// the TLS 1.0/1.1 connection, each under its session deadline (greeting wait + 4 steps).
fn smtp_bound(limits: &Limits) -> Duration {
    (limits.greeting_timeout + limits.step_timeout * 4) * 2
}

async fn smtp_run(behaviour: SmtpBehaviour) -> (SmtpObservation, Duration, Limits) {
    let ca = TestCa::new("hostile test CA");
    let leaf = ca.issue(&LeafSpec::valid_for(&[MX]));
    let server = SmtpServer::start(LOCALHOST, 0, behaviour, &leaf).await;
    let config = NetworkConfig {
        limits: limits(),
        extra_roots: vec![ca.cert_der.clone()],
        smtp_port: server.port(),
        ehlo_name: "probe.example.test".to_owned(),
        allow_private: true,
        ..NetworkConfig::default()
    };
    let started = Instant::now();
    let obs = smtp_probe(&config, MX, LOCALHOST).await;
    let elapsed = started.elapsed();
    server.assert_no_mail_transaction();
    (obs, elapsed, config.limits)
}

/// The SMTP verdicts on one probe.
fn judge_smtp(probe: SmtpObservation) -> Vec<Finding> {
    let mut obs = Observations::empty(&"example.test".parse().unwrap());
    obs.mx_hosts.push(MxHostObservation {
        name: probe.host.clone(),
        preference: 10,
        addrs: HostLookup {
            name: probe.host.clone(),
            a: DnsAnswer::records(vec![probe.ip]),
            aaaa: DnsAnswer::NoData,
        },
        tlsa: DnsAnswer::NoData,
        smtp: vec![probe],
        not_contacted: Vec::new(),
    });
    let ctx = Context::new(Profile::Rfc, now());
    let mut out = Findings::new(Profile::Rfc);
    mtasts::verdict::smtp::judge(&obs, &ctx, &mut out);
    out.finish()
}

/// The transcript stays bounded whatever the server sent.
fn assert_bounded_transcript(obs: &SmtpObservation, limits: &Limits) {
    let bytes: usize = obs.transcript.iter().map(String::len).sum();
    assert!(bytes < 64 * 1024, "transcript of {bytes} bytes");
    assert!(
        obs.transcript.len() <= limits.max_smtp_lines * 4,
        "{}",
        obs.transcript.len()
    );
    for reply in [&obs.greeting, &obs.ehlo].into_iter().flatten() {
        assert!(reply.lines.len() <= limits.max_smtp_lines);
    }
}

#[tokio::test]
async fn smtp_hostile_ehlo_replies() {
    let cases = [
        (
            SmtpBehaviour::EndlessEhlo,
            "SMTP: endless 250- continuation",
            "more than 100 lines",
        ),
        (
            SmtpBehaviour::HugeEhloLine,
            "SMTP: 1 MiB EHLO reply line",
            "longer than 2048 bytes",
        ),
    ];
    for (behaviour, scenario, detail) in cases {
        let (obs, elapsed, limits) = smtp_run(behaviour).await;
        ended(scenario, elapsed, smtp_bound(&limits));
        let failure = obs.failure.as_ref().unwrap_or_else(|| panic!("{scenario}"));
        assert_eq!(failure.step.as_str(), "ehlo", "{scenario}: {failure:?}");
        assert!(!failure.timed_out, "{scenario}: {failure:?}");
        assert!(failure.detail.contains(detail), "{scenario}: {failure:?}");
        assert_bounded_transcript(&obs, &limits);
        let findings = judge_smtp(obs);
        let offered = finding(&findings, CheckId::SmtpStarttlsOffered);
        assert_eq!(offered.outcome, Outcome::Fail, "{scenario}: {offered:?}");
        assert!(offered.summary.contains(detail), "{scenario}: {offered:?}");
    }
}

#[tokio::test]
async fn smtp_starttls_220_then_no_tls() {
    // Issue 12: a close after the 220 is the server dropping the session, named and "could not
    // determine" (it was a `smtp.starttls-accepted` failure, "tls handshake eof"); garbage
    // instead of a ServerHello is the server's TLS at fault, and fails.
    let closed = Outcome::CouldNotDetermine {
        reason: "the server closed the connection after its STARTTLS 220".to_owned(),
    };
    let cases = [
        (
            SmtpBehaviour::CloseAfterStarttls,
            "SMTP: closes after STARTTLS 220",
            closed,
            "could not determine: the server closed the connection after its STARTTLS 220",
        ),
        (
            SmtpBehaviour::GarbageAfterStarttls,
            "SMTP: garbage instead of ServerHello",
            Outcome::Fail,
            "the TLS handshake did not complete: TLS handshake failed: the server sent \
             something that is not a valid TLS message (invalid content type)",
        ),
    ];
    for (behaviour, scenario, outcome, summary) in cases {
        let (obs, elapsed, limits) = smtp_run(behaviour).await;
        ended(scenario, elapsed, smtp_bound(&limits));
        let failure = obs.failure.as_ref().unwrap_or_else(|| panic!("{scenario}"));
        assert_eq!(failure.step.as_str(), "tls", "{scenario}: {failure:?}");
        assert!(!failure.timed_out, "{scenario}: {failure:?}");
        assert!(obs.tls.is_none());
        assert_bounded_transcript(&obs, &limits);
        let findings = judge_smtp(obs);
        let accepted = finding(&findings, CheckId::SmtpStarttlsAccepted);
        assert_eq!(accepted.outcome, outcome, "{scenario}: {accepted:?}");
        assert_eq!(accepted.summary, summary, "{scenario}");
    }
}

// ---------------------------------------------------------------------------------------------
// Names from DNS answers

#[tokio::test]
async fn mx_targets_that_are_not_host_names_are_never_used() {
    let zone = Zone::new("weird.test")
        .mx("weird.test", 10, "192.0.2.1")
        .mx_raw("weird.test", 20, &[b"mx space\x01", b"weird", b"test"])
        .mx_raw("weird.test", 30, &[b"-dash", b"weird", b"test"])
        .mx("weird.test", 40, "mx_ok.weird.test")
        .a("mx_ok.weird.test", Ipv4Addr::new(192, 0, 2, 9));
    let dns = DnsServer::start(zone).await;
    let started = Instant::now();
    let obs = observe_without_smtp(&dns, "weird.test").await;
    ended(
        "DNS: MX targets that are not host names",
        started.elapsed(),
        dns_question_bound() * 2,
    );
    let asked: Vec<String> = dns.queries().into_iter().map(|query| query.name).collect();
    for bad in ["192.0.2.1", "space.weird.test", "dash.weird.test"] {
        assert!(
            !asked.iter().any(|name| name.contains(bad)),
            "{bad} was asked: {asked:?}"
        );
    }
    assert!(
        asked.iter().any(|name| name == "mx_ok.weird.test"),
        "{asked:?}"
    );

    let report = common::contract::judge_checked(&obs, &Context::new(Profile::Rfc, now()));
    let invalid: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|finding| {
            finding.check == CheckId::MxTargetAddress
                && finding.summary.contains("is not a valid host name")
        })
        .collect();
    assert_eq!(invalid.len(), 3, "{:#?}", report.findings);
    assert!(invalid
        .iter()
        .all(|finding| finding.outcome == Outcome::Fail));
    let reasons: Vec<&str> = invalid
        .iter()
        .map(|finding| finding.summary.as_str())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("IP address")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("which host names cannot have")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("-dash.weird.test")),
        "{reasons:?}"
    );
}
