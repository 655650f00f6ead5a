//! The verdict code on whole-domain observations: a perfect deployment, then one mistake at a
//! time, asserting the exact findings each mistake produces.

mod common;

use std::time::Duration;

use common::scenario::*;
use mtasts::catalog::{CheckId, Profile};
use mtasts::model::{Outcome, Subject};
use mtasts::observe::{DnsAnswer, FetchFailure, FetchStep, MxRecord, Observations};

fn problems_of(obs: &Observations, profile: Profile) -> Vec<(String, &'static str)> {
    problems(&run(obs, profile))
}

fn pairs(expected: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    let mut list: Vec<(String, &'static str)> = expected
        .iter()
        .map(|(id, outcome)| ((*id).to_owned(), *outcome))
        .collect();
    list.sort();
    list
}

#[test]
fn perfect_deployment_has_no_findings_but_passes() {
    let report = run(&perfect(), Profile::Sge);
    assert_eq!(problems(&report), vec![], "{report:#?}");
    assert_eq!(report.facts.mode.as_deref(), Some("enforce"));
    assert_eq!(report.facts.sts_id.as_deref(), Some("20250101T000000"));
    assert_eq!(
        report.facts.mx_hosts,
        vec!["mx1.example.org", "mx2.example.org"]
    );
    // Per-address and per-MX checks are reported once per subject.
    assert_eq!(outcomes(&report, CheckId::PolicyFetchStatus).len(), 2);
    assert_eq!(outcomes(&report, CheckId::SmtpStarttlsOffered).len(), 2);
}

#[test]
fn testing_mode_is_judged_by_profile() {
    let mut obs = perfect();
    let body = GOOD_POLICY.replace("enforce", "testing");
    obs.fetches = vec![
        good_fetch("93.184.215.10", &body),
        good_fetch("2606:2800:21f::10", &body),
    ];
    assert_eq!(
        problems_of(&obs, Profile::Rfc),
        pairs(&[
            ("policy.mode-enforce", "info"),
            ("policy.max-age-ncsc", "info"),
            ("reports.ready", "info")
        ])
    );
    assert_eq!(
        problems_of(&obs, Profile::Sge),
        pairs(&[
            ("policy.mode-enforce", "fail"),
            ("policy.max-age-ncsc", "info"),
            ("reports.ready", "fail")
        ])
    );
    assert_eq!(
        problems_of(&obs, Profile::Ncsc),
        pairs(&[
            ("policy.mode-enforce", "warn"),
            ("policy.max-age-ncsc", "info"),
            ("reports.ready", "fail")
        ])
    );
}

#[test]
fn backup_mx_missing_from_an_enforce_policy_fails() {
    let mut obs = perfect();
    obs.mx_hosts[1] = mx_host("backup.other.net", 20, "93.184.215.99");
    let report = run(&obs, Profile::Rfc);
    assert_eq!(
        problems(&report),
        pairs(&[
            ("mx.covered", "fail"),
            ("mx.stale-pattern", "warn"),
            ("reports.mx", "warn"),
            ("reports.ready", "warn")
        ]),
        "{report:#?}"
    );
    let uncovered = report
        .findings
        .iter()
        .find(|finding| finding.check == CheckId::MxCovered && finding.outcome == Outcome::Fail)
        .expect("uncovered finding");
    assert_eq!(uncovered.subject, Subject::host("backup.other.net"));
    assert!(uncovered.summary.contains("§8.4"), "{}", uncovered.summary);
}

#[test]
fn no_mx_covered_under_testing_warns_that_enforce_would_stop_mail() {
    let mut obs = perfect();
    let body = "version: STSv1\nmode: testing\nmx: old.example.net\nmax_age: 604800\n";
    obs.fetches = vec![
        good_fetch("93.184.215.10", body),
        good_fetch("2606:2800:21f::10", body),
    ];
    let found = problems_of(&obs, Profile::Rfc);
    assert_eq!(
        found,
        pairs(&[
            ("mx.any-covered", "warn"),
            ("mx.covered", "warn"),
            ("mx.covered", "warn"),
            ("mx.stale-pattern", "warn"),
            ("policy.crlf", "info"),
            ("policy.mode-enforce", "info"),
            ("policy.max-age-ncsc", "info"),
            ("reports.ready", "info"),
        ])
    );
    // SGE requires every MX to be listed even while testing.
    assert!(problems_of(&obs, Profile::Sge).contains(&("mx.any-covered".to_owned(), "fail")));
    // Clean reports do not make it ready: the live policy would stop mail under enforce.
    let report = run(&obs, Profile::Rfc);
    let ready = report
        .findings
        .iter()
        .find(|finding| finding.check == CheckId::ReportsReady)
        .unwrap();
    assert!(
        ready.summary.starts_with("not ready")
            && ready
                .summary
                .contains("does not list mx1.example.org, mx2.example.org"),
        "{}",
        ready.summary
    );
}

#[test]
fn one_label_wildcard_names_the_pattern_that_would_match() {
    let mut obs = perfect();
    let body = GOOD_POLICY.replace(
        "mx: mx1.example.org\r\nmx: mx2.example.org",
        "mx: *.outlook.com",
    );
    obs.fetches = vec![good_fetch("93.184.215.10", &body)];
    obs.policy_host = host("mta-sts.example.org", &["93.184.215.10"]);
    obs.mx = records(
        vec![MxRecord {
            preference: 0,
            exchange: "example-org.mail.protection.outlook.com".into(),
        }],
        3600,
    );
    obs.mx_hosts = vec![mx_host(
        "example-org.mail.protection.outlook.com",
        0,
        "93.184.215.30",
    )];
    let report = run(&obs, Profile::Rfc);
    let covered = report
        .findings
        .iter()
        .find(|finding| finding.check == CheckId::MxCovered)
        .expect("mx.covered");
    assert_eq!(covered.outcome, Outcome::Fail);
    let hint = covered
        .evidence
        .iter()
        .find(|item| item.label == "hint")
        .expect("hint");
    assert!(
        hint.value.contains("*.mail.protection.outlook.com"),
        "{}",
        hint.value
    );
    assert!(outcomes(&report, CheckId::MxAnyCovered).contains(&Outcome::Fail));
    assert!(outcomes(&report, CheckId::PolicyWildcard).contains(&Outcome::Warn));
}

#[test]
fn redirect_is_never_followed_and_blocks_the_policy_checks() {
    let mut obs = perfect();
    for fetch in &mut obs.fetches {
        let response = fetch.result.as_mut().expect("response");
        response.status = 301;
        response.status_line = "HTTP/1.1 301 Moved Permanently".into();
        response.headers.push((
            "location".into(),
            "https://www.example.org/mta-sts.txt".into(),
        ));
    }
    let report = run(&obs, Profile::Rfc);
    let status = report
        .findings
        .iter()
        .find(|finding| finding.check == CheckId::PolicyFetchStatus)
        .expect("status");
    assert_eq!(status.outcome, Outcome::Fail);
    assert!(status
        .summary
        .contains("https://www.example.org/mta-sts.txt"));
    assert!(matches!(
        outcomes(&report, CheckId::PolicyMode)[0],
        Outcome::Skipped { .. }
    ));
    assert!(matches!(
        outcomes(&report, CheckId::MxCovered)[0],
        Outcome::Skipped { .. }
    ));
    assert!(matches!(
        outcomes(&report, CheckId::PolicyFetchContentType)[0],
        Outcome::Skipped { .. }
    ));
}

#[test]
fn addresses_serving_different_policies_warn() {
    let mut obs = perfect();
    obs.fetches[1] = good_fetch(
        "2606:2800:21f::10",
        &GOOD_POLICY.replace("enforce", "testing"),
    );
    assert_eq!(
        problems_of(&obs, Profile::Rfc),
        pairs(&[("policy-fetch.consistent", "warn")])
    );
}

#[test]
fn one_address_down_is_a_failure_of_that_address() {
    let mut obs = perfect();
    obs.fetches[1].tls = None;
    obs.fetches[1].result = Err(FetchFailure {
        step: FetchStep::Connect,
        timed_out: true,
        detail: "timed out after 10 s".into(),
    });
    let found = problems_of(&obs, Profile::Rfc);
    assert!(
        found.contains(&("policy-fetch.connect".to_owned(), "fail")),
        "{found:?}"
    );
    assert!(
        found.contains(&("policy-fetch.consistent".to_owned(), "warn")),
        "{found:?}"
    );
    assert!(
        found.contains(&("policy-fetch.certificate-trusted".to_owned(), "skipped")),
        "{found:?}"
    );
}

#[test]
fn wrong_content_type_slow_and_cached_fetch() {
    let mut obs = perfect();
    obs.fetches.truncate(1);
    obs.policy_host = host("mta-sts.example.org", &["93.184.215.10"]);
    let response = obs.fetches[0].result.as_mut().expect("response");
    response.headers = vec![
        (
            "content-type".into(),
            "text/html; charset=iso-8859-1".into(),
        ),
        ("cache-control".into(), "public, max-age=86400".into()),
    ];
    obs.fetches[0].elapsed = Duration::from_secs(8);
    assert_eq!(
        problems_of(&obs, Profile::Rfc),
        pairs(&[
            ("policy-fetch.cache-control", "info"),
            ("policy-fetch.charset", "warn"),
            ("policy-fetch.content-type", "fail"),
            ("policy-fetch.time", "warn"),
        ])
    );
}

#[test]
fn policy_host_without_address_fails_and_servfail_is_undetermined() {
    let mut obs = perfect();
    obs.policy_host.a = DnsAnswer::NxDomain;
    obs.policy_host.aaaa = DnsAnswer::NxDomain;
    obs.fetches.clear();
    let report = run(&obs, Profile::Rfc);
    assert_eq!(
        outcomes(&report, CheckId::PolicyHostResolves),
        vec![Outcome::Fail]
    );

    obs.policy_host.a = DnsAnswer::Failed {
        reason: "SERVFAIL".into(),
    };
    obs.policy_host.aaaa = DnsAnswer::Failed {
        reason: "SERVFAIL".into(),
    };
    let report = run(&obs, Profile::Rfc);
    assert!(matches!(
        outcomes(&report, CheckId::PolicyHostResolves)[0],
        Outcome::CouldNotDetermine { .. }
    ));
}

#[test]
fn null_mx_makes_mta_sts_moot_and_mixed_null_mx_fails() {
    let mut obs = perfect();
    obs.mx = mx_records(&[(0, "")]);
    obs.mx_hosts.clear();
    let report = run(&obs, Profile::Rfc);
    assert_eq!(outcomes(&report, CheckId::MxNull), vec![Outcome::Info]);
    // EC-71: with no mail accepted, missing MTA-STS and TLS-RPT records are no fault.
    obs.sts_txt = DnsAnswer::NxDomain;
    obs.tlsrpt_txt = DnsAnswer::NxDomain;
    obs.fetches.clear();
    let moot = run(&obs, Profile::Sge);
    for check in [CheckId::StsRecordPresent, CheckId::TlsRptPresent] {
        assert!(
            matches!(&outcomes(&moot, check)[0], Outcome::Skipped { blocked_by } if blocked_by.as_str() == "mx.null"),
            "{check}"
        );
    }
    assert_eq!(moot.verdict(), mtasts::model::Verdict::Pass);
    assert!(matches!(
        outcomes(&report, CheckId::MxCovered)[0],
        Outcome::Skipped { .. }
    ));

    obs.mx = mx_records(&[(0, ""), (10, "mx1.example.org")]);
    obs.mx_hosts = vec![mx_host("mx1.example.org", 10, "93.184.215.25")];
    let report = run(&obs, Profile::Rfc);
    assert_eq!(outcomes(&report, CheckId::MxNullMixed), vec![Outcome::Fail]);
}

#[test]
fn implicit_mx_warns_and_matches_the_domain_itself() {
    let mut obs = perfect();
    obs.mx = DnsAnswer::NoData;
    obs.domain_addrs = Some(host("example.org", &["93.184.215.80"]));
    obs.mx_hosts = vec![mx_host("example.org", 0, "93.184.215.80")];
    let report = run(&obs, Profile::Rfc);
    assert_eq!(outcomes(&report, CheckId::MxImplicit), vec![Outcome::Warn]);
    assert_eq!(outcomes(&report, CheckId::MxCovered), vec![Outcome::Fail]);
}

#[test]
fn mx_target_problems() {
    let mut obs = perfect();
    obs.mx_hosts[0].addrs.a = DnsAnswer::NxDomain;
    obs.mx_hosts[0].smtp.clear();
    obs.mx_hosts[1].addrs.a = DnsAnswer::Records {
        data: vec!["93.184.215.26".parse().expect("ip")],
        ttl: 300,
        cname_chain: vec!["mx2.example.org".into(), "mail.provider.example".into()],
        cut: None,
    };
    obs.mx_hosts[1].tlsa = records(vec!["3 1 1 ab12".into()], 3600);
    let found = problems_of(&obs, Profile::Rfc);
    assert_eq!(
        found,
        pairs(&[
            ("mx.public-address", "skipped"),
            ("mx.target-address", "fail"),
            ("mx.target-cname", "skipped"),
            ("mx.target-cname", "warn"),
            ("mx.tlsa", "info"),
        ])
    );
}

#[test]
fn port_25_blocked_everywhere_is_undetermined_not_failed() {
    let mut obs = perfect();
    for host in &mut obs.mx_hosts {
        for probe in &mut host.smtp {
            *probe = unreachable(probe);
        }
    }
    let report = run(&obs, Profile::Rfc);
    let connect = outcomes(&report, CheckId::SmtpConnect);
    assert_eq!(connect.len(), 2);
    for outcome in connect {
        let Outcome::CouldNotDetermine { reason } = outcome else {
            panic!("expected undetermined")
        };
        assert!(reason.contains("port 25"), "{reason}");
    }
    assert!(!report
        .findings
        .iter()
        .any(|finding| finding.check.as_str().starts_with("smtp.")
            && finding.outcome == Outcome::Fail));
}

#[test]
fn no_smtp_flag_skips_every_smtp_check() {
    let mut obs = perfect();
    obs.smtp_skipped = true;
    for host in &mut obs.mx_hosts {
        host.smtp.clear();
    }
    let report = run(&obs, Profile::Rfc);
    let smtp: Vec<_> = report
        .findings
        .iter()
        .filter(|finding| finding.check.as_str().starts_with("smtp."))
        .collect();
    assert!(!smtp.is_empty());
    assert!(smtp.iter().all(|finding| matches!(&finding.outcome, Outcome::Skipped { blocked_by } if blocked_by.as_str() == "--no-smtp")));
}

#[test]
fn expired_policy_certificate_fails_expiry_and_skips_expiring() {
    let mut obs = perfect();
    for fetch in &mut obs.fetches {
        let tls = fetch.tls.as_mut().expect("tls");
        tls.chain[0].not_after = NOW - 3 * 86_400;
    }
    assert_eq!(
        problems_of(&obs, Profile::Rfc),
        pairs(&[
            ("policy-fetch.certificate-expiring", "skipped"),
            ("policy-fetch.certificate-expiring", "skipped"),
            ("policy-fetch.certificate-expiry", "fail"),
            ("policy-fetch.certificate-expiry", "fail"),
        ])
    );
}

#[test]
fn non_public_addresses_fail_and_are_not_probed() {
    let report = run(&non_public(), Profile::Rfc);
    let found = problems(&report);
    let count = |id: &str, outcome: &str| {
        found
            .iter()
            .filter(|(check, label)| check == id && *label == outcome)
            .count()
    };
    assert_eq!(count("policy-host.public-address", "fail"), 1, "{found:#?}");
    assert_eq!(count("mx.public-address", "fail"), 2, "{found:#?}");
    // Nothing was contacted: every fetch and SMTP check is skipped, none fails.
    assert!(found
        .iter()
        .filter(|(id, _)| id.starts_with("policy-fetch.") || id.starts_with("smtp."))
        .all(|(_, outcome)| *outcome == "skipped"));
    for check in [CheckId::PolicyFetchConnect, CheckId::SmtpConnect] {
        let blocked = outcomes(&report, check);
        assert!(!blocked.is_empty(), "{check}");
        for outcome in blocked {
            assert!(
                matches!(&outcome, Outcome::Skipped { blocked_by } if blocked_by.as_str().ends_with(".public-address")),
                "{check}: {outcome:?}"
            );
        }
    }
    let metadata = report
        .findings
        .iter()
        .find(|finding| {
            finding.check == CheckId::MxPublicAddress
                && finding
                    .evidence
                    .iter()
                    .any(|evidence| evidence.value == "169.254.169.254")
        })
        .expect("metadata address finding");
    assert!(metadata
        .evidence
        .iter()
        .any(|evidence| evidence.label == "class" && evidence.value.contains("metadata")));
    assert_eq!(
        metadata.subject,
        Subject::endpoint("mx2.example.org", "169.254.169.254".parse().expect("ip"))
    );
}

#[test]
fn non_public_addresses_pass_with_a_note_under_allow_private() {
    let report = run(&non_public_allowed(), Profile::Sge);
    assert_eq!(problems(&report), vec![], "{report:#?}");
    let notes: Vec<_> = report
        .findings
        .iter()
        .filter(|finding| {
            matches!(
                finding.check,
                CheckId::PolicyHostPublicAddress | CheckId::MxPublicAddress
            )
        })
        .collect();
    assert_eq!(notes.len(), 3);
    assert!(notes
        .iter()
        .all(|finding| finding.summary.contains("--allow-private")));
}

#[test]
fn public_addresses_pass_once_per_host() {
    let report = run(&perfect(), Profile::Rfc);
    assert_eq!(
        outcomes(&report, CheckId::PolicyHostPublicAddress),
        vec![Outcome::Pass]
    );
    assert_eq!(
        outcomes(&report, CheckId::MxPublicAddress),
        vec![Outcome::Pass, Outcome::Pass]
    );
}

/// Issue 12: every bound that left something out is stated, stage by stage, as an info finding
/// naming what was not judged; `mx.lookup` and `policy-host.resolves` give the true counts.
#[test]
fn what_the_bounds_left_out_is_stated_stage_by_stage() {
    let report = run(&past_the_bounds(), Profile::Rfc);
    assert_eq!(
        problems(&report),
        pairs(&[
            ("sts-record.bounds", "info"),
            ("policy-host.bounds", "info"),
            ("mx.bounds", "info"),
            ("tlsrpt.bounds", "info"),
            // The two report domains past the ten looked up.
            ("tlsrpt.mailto-domain", "could-not-determine"),
            ("tlsrpt.mailto-domain", "could-not-determine"),
            ("reports.bounds", "info"),
        ])
    );
    let evidence = |check: CheckId| -> Vec<String> {
        evidence_lines(
            report
                .findings
                .iter()
                .find(|finding| finding.check == check)
                .unwrap(),
        )
    };
    assert_eq!(
        evidence(CheckId::StsRecordBounds),
        [
            "TXT records at _mta-sts.example.org: the answer held 7 records (58000 bytes of TXT \
          data); the first 32768 bytes were read, which hold 1 record; 1 record longer than 8192 \
          bytes was cut to its first 8192 bytes"
        ]
    );
    assert_eq!(
        evidence(CheckId::PolicyHostBounds),
        [
            "A records of mta-sts.example.org: the answer held 120 records; the lowest 2 were \
             kept (at most 100 are)",
            "addresses of mta-sts.example.org: 2 of the 3 kept fetched from (the first 2 in \
             address order); not fetched from: 93.184.215.11",
        ]
    );
    assert_eq!(
        evidence(CheckId::MxBounds),
        [
            "MX records of example.org: the answer held 200 records; the most preferred 2 were \
          kept (at most 100 are)"
        ]
    );
    assert_eq!(
        evidence(CheckId::TlsRptBounds),
        [
            "mailto: report domains: 10 of 12 looked up; not looked up: r10.example.net, \
          r11.example.net"
        ]
    );
    assert_eq!(
        evidence(CheckId::ReportsBounds),
        ["unreadable: reports/huge.json.gz: larger than 16 MiB after decompression"]
    );
    let summary = |check: CheckId| {
        report
            .findings
            .iter()
            .find(|finding| finding.check == check)
            .map(|finding| finding.summary.clone())
            .unwrap()
    };
    assert_eq!(
        summary(CheckId::MxLookup),
        "200 MX records (the 2 most preferred kept; see mx.bounds)"
    );
    assert_eq!(
        summary(CheckId::PolicyHostResolves),
        "mta-sts.example.org has 121 addresses (the lowest 3 kept)"
    );
}

/// The guard every `judge_checked` applies finds the renderings issue 12 saw, and leaves
/// sentences alone.
#[test]
fn debug_renderings_are_told_from_sentences() {
    use common::contract::debug_form;
    assert_eq!(
        debug_form("invalid peer certificate: Other(OtherError(MaximumPathDepthExceeded))"),
        Some("OtherError")
    );
    assert_eq!(debug_form("lookup failed: Some(\"x\")"), Some("Some"));
    assert_eq!(
        debug_form("read failed: Io { kind: ConnectionReset }"),
        Some("Io")
    );
    assert_eq!(debug_form("Error { kind: ConnectionReset }"), Some("Error"));
    assert_eq!(debug_form("TlsError { code: 1 }"), Some("TlsError"));
    for sentence in [
        "the certificate does not chain to a trusted root (issued by mtasts test CA)",
        "STARTTLS was answered 454 4.7.0 TLS not available, on 3 attempts over 0.3 s",
        "mta-sts.example.org has 121 addresses (the lowest 3 kept)",
        "SSLv3 (0x0300) and TLSv1.0 (RFC 8996)",
    ] {
        assert_eq!(debug_form(sentence), None, "{sentence}");
    }
}
