//! Every check of the catalog must be seen both passing and not passing (fail, warn, info or
//! could-not-determine) somewhere in the fixture corpus or the hand-built scenarios below, so
//! that no check is dead code and none can only ever pass.

// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::scenario::*;
use mtasts::catalog::{Profile, CATALOG};
use mtasts::model::{Finding, Outcome};
use mtasts::observe::{
    DnsAnswer, FetchFailure, FetchStep, HandshakeObservation, HttpsRuaObservation, LegacyTls,
    Observations, ReportsEvidence, SmtpFailure, SmtpObservation, SmtpStep, TlsObservation,
    TlsVersion, TxtRecord,
};

fn with_policy(body: &str) -> Observations {
    let mut obs = perfect();
    obs.fetches = vec![
        good_fetch("93.184.215.10", body),
        good_fetch("2606:2800:21f::10", body),
    ];
    obs
}

fn with_smtp(change: impl Fn(&mut SmtpObservation)) -> Observations {
    let mut obs = perfect();
    for host in &mut obs.mx_hosts {
        for probe in &mut host.smtp {
            change(probe);
        }
    }
    obs
}

fn with_fetch(change: impl Fn(&mut mtasts::observe::FetchObservation)) -> Observations {
    let mut obs = perfect();
    for fetch in &mut obs.fetches {
        change(fetch);
    }
    obs
}

/// The perfect deployment reporting to an `https:` URL too, whose host answers well.
fn with_https_rua(uri: &str) -> Observations {
    let mut obs = perfect();
    obs.tlsrpt_txt = records(
        vec![TxtRecord::single(&format!(
            "v=TLSRPTv1; rua=mailto:tlsrpt@example.org,{uri}"
        ))],
        86_400,
    );
    obs.rua_https = vec![HttpsRuaObservation {
        uri: uri.to_owned(),
        host: "reports.example.net".to_owned(),
        port: None,
        addrs: host("reports.example.net", &["93.184.215.90"]),
        handshakes: vec![HandshakeObservation {
            ip: "93.184.215.90".parse().unwrap(),
            tls: Ok(good_tls("reports.example.net")),
        }],
        not_contacted: Vec::new(),
    }];
    obs
}

/// Whole-domain scenarios, each one mistake (or a few unrelated ones) away from perfect.
fn scenarios() -> Vec<(&'static str, Profile, Observations)> {
    let mut list = vec![("perfect", Profile::Rfc, perfect())];

    list.push(("non-public addresses", Profile::Rfc, non_public()));
    list.push((
        "non-public addresses, --allow-private",
        Profile::Rfc,
        non_public_allowed(),
    ));

    list.push((
        "testing mode",
        Profile::Sge,
        with_policy(&GOOD_POLICY.replace("enforce", "testing")),
    ));
    list.push(("an address past the per-host bound", Profile::Rfc, {
        let mut obs = perfect();
        obs.mx_hosts[0].addrs = host("mx1.example.org", &["93.184.215.25", "93.184.215.27"]);
        obs.mx_hosts[0].not_contacted = vec![mtasts::observe::Uncontacted {
            ip: "93.184.215.27".parse().unwrap(),
            reason: mtasts::observe::NotContacted::OverAddressBound { bound: 1 },
        }];
        obs
    }));
    list.push((
        "answers past the audit's bounds",
        Profile::Rfc,
        past_the_bounds(),
    ));
    list.push(("backup MX uncovered", Profile::Rfc, {
        let mut obs = perfect();
        obs.mx_hosts[1] = mx_host("backup.other.net", 20, "93.184.215.99");
        obs
    }));
    list.push((
        "no MX covered",
        Profile::Rfc,
        with_policy("version: STSv1\nmode: enforce\nmx: old.example.net\nmax_age: 604800\n"),
    ));
    list.push((
        "redirect",
        Profile::Rfc,
        with_fetch(|fetch| {
            let response = fetch.result.as_mut().unwrap();
            response.status = 302;
            response.status_line = "HTTP/1.1 302 Found".into();
            response
                .headers
                .push(("location".into(), "https://example.org/".into()));
        }),
    ));
    list.push((
        "sloppy hosting",
        Profile::Rfc,
        with_fetch(|fetch| {
            let response = fetch.result.as_mut().unwrap();
            response.headers = vec![
                (
                    "content-type".into(),
                    "text/html; charset=iso-8859-1".into(),
                ),
                ("cache-control".into(), "max-age=604800".into()),
            ];
            fetch.elapsed = Duration::from_secs(9);
        }),
    ));
    list.push((
        "huge policy",
        Profile::Rfc,
        with_fetch(|fetch| {
            let response = fetch.result.as_mut().unwrap();
            response.body = vec![b'#'; 65_537];
            response.truncated = true;
        }),
    ));
    list.push((
        "large policy",
        Profile::Rfc,
        with_policy(&format!(
            "{GOOD_POLICY}{}",
            "x-padding: yes\r\n".repeat(800)
        )),
    ));
    list.push(("one address down", Profile::Rfc, {
        let mut obs = perfect();
        obs.fetches[1].tls = None;
        obs.fetches[1].result = Err(FetchFailure {
            step: FetchStep::Connect,
            timed_out: true,
            detail: "timed out".into(),
        });
        obs
    }));
    list.push(("policy host IPv6 only", Profile::Rfc, {
        let mut obs = perfect();
        obs.policy_host = host("mta-sts.example.org", &["2606:2800:21f::10"]);
        obs.fetches.remove(0);
        obs
    }));
    list.push(("policy host missing", Profile::Rfc, {
        let mut obs = perfect();
        obs.policy_host.a = DnsAnswer::NxDomain;
        obs.policy_host.aaaa = DnsAnswer::NxDomain;
        obs.fetches.clear();
        obs
    }));
    list.push((
        "policy certificate untrusted, misnamed, expired",
        Profile::Rfc,
        with_fetch(|fetch| {
            let tls = fetch.tls.as_mut().unwrap();
            tls.trust = Err("unknown issuer".into());
            tls.name_match = Err("not valid for mta-sts.example.org".into());
            tls.chain[0].not_after = NOW - 86_400;
        }),
    ));
    list.push((
        "policy certificate expiring",
        Profile::Rfc,
        with_fetch(|fetch| {
            fetch.tls.as_mut().unwrap().chain[0].not_after = NOW + 3 * 86_400;
        }),
    ));
    list.push(("https rua with a misnamed certificate", Profile::Rfc, {
        let mut obs = with_https_rua("https://reports.example.net/tlsrpt");
        obs.rua_https[0].handshakes[0].tls = Ok(TlsObservation {
            name_match: Err("not valid for reports.example.net".into()),
            ..good_tls("other.example.net")
        });
        obs
    }));
    list.push(("https rua served well", Profile::Rfc, {
        with_https_rua("https://reports.example.net/tlsrpt")
    }));
    list.push(("null MX", Profile::Rfc, {
        let mut obs = perfect();
        obs.mx = mx_records(&[(0, "")]);
        obs.mx_hosts.clear();
        obs
    }));
    list.push(("null MX mixed", Profile::Rfc, {
        let mut obs = perfect();
        obs.mx = mx_records(&[(0, ""), (10, "mx1.example.org")]);
        obs.mx_hosts.truncate(1);
        obs
    }));
    list.push(("implicit MX", Profile::Rfc, {
        let mut obs = perfect();
        obs.mx = DnsAnswer::NoData;
        obs.domain_addrs = Some(host("example.org", &["93.184.215.80"]));
        obs.mx_hosts = vec![mx_host("example.org", 0, "93.184.215.80")];
        obs
    }));
    list.push(("domain missing", Profile::Rfc, {
        let mut obs = perfect();
        obs.mx = DnsAnswer::NxDomain;
        obs.mx_hosts.clear();
        obs
    }));
    list.push(("MX targets broken", Profile::Rfc, {
        let mut obs = perfect();
        obs.mx_hosts[0].addrs.a = DnsAnswer::NxDomain;
        obs.mx_hosts[0].smtp.clear();
        obs.mx_hosts[1].addrs.a = DnsAnswer::Records {
            data: vec!["93.184.215.26".parse().unwrap()],
            ttl: 300,
            cname_chain: vec!["mx2.example.org -> mail.provider.example".into()],
            cut: None,
        };
        obs.mx_hosts[1].tlsa = records(vec!["3 1 1 ab12".into()], 3600);
        obs
    }));
    list.push((
        "port 25 blocked",
        Profile::Rfc,
        with_smtp(|probe| {
            *probe = unreachable(probe);
        }),
    ));
    list.push((
        "no STARTTLS",
        Profile::Rfc,
        with_smtp(|probe| {
            probe.starttls_offered = false;
            probe.ehlo = Some(reply(250, &["mx", "PIPELINING"]));
            probe.starttls_reply = None;
            probe.tls = None;
            probe.legacy_tls = LegacyTls::NotTested {
                reason: "no STARTTLS".into(),
            };
        }),
    ));
    list.push((
        "STARTTLS 454",
        Profile::Rfc,
        with_smtp(|probe| {
            probe.starttls_reply = Some(reply(454, &["4.7.0 TLS not available"]));
            probe.tls = None;
            probe.legacy_tls = LegacyTls::NotTested {
                reason: "STARTTLS refused".into(),
            };
        }),
    ));
    list.push((
        "MX certificate bad and legacy TLS",
        Profile::Sge,
        with_smtp(|probe| {
            let tls = probe.tls.as_mut().unwrap();
            tls.trust = Err("self-signed".into());
            tls.name_match = Err("not valid for the MX name".into());
            tls.chain[0].not_after = NOW - 86_400;
            probe.legacy_tls = LegacyTls::Accepted {
                version: TlsVersion::Tls10,
            };
            probe.starttls_after_tls = true;
            probe.pre_tls_bytes = 12;
        }),
    ));
    list.push((
        "MX certificate expiring",
        Profile::Rfc,
        with_smtp(|probe| {
            probe.tls.as_mut().unwrap().chain[0].not_after = NOW + 86_400;
        }),
    ));
    list.push((
        "TLS 1.0 only",
        Profile::Rfc,
        with_smtp(|probe| {
            probe.tls = None;
            probe.failure = Some(SmtpFailure {
                step: SmtpStep::Tls,
                timed_out: false,
                detail: "protocol version".into(),
            });
            probe.legacy_tls = LegacyTls::Accepted {
                version: TlsVersion::Tls10,
            };
        }),
    ));
    list.extend(reports_scenarios());
    list
}

/// The readiness checks (`--reports`), each one reason away from ready.
fn reports_scenarios() -> Vec<(&'static str, Profile, Observations)> {
    let testing = || with_policy(&GOOD_POLICY.replace("enforce", "testing"));
    let with_reports = |mut obs: Observations, change: &dyn Fn(&mut ReportsEvidence)| {
        let reports = obs.reports.as_mut().unwrap();
        change(reports);
        obs
    };
    vec![
        ("testing, reports ready", Profile::Rfc, testing()),
        ("no --reports", Profile::Rfc, {
            let mut obs = perfect();
            obs.reports = None;
            obs
        }),
        (
            "reports: one week, one organisation",
            Profile::Rfc,
            with_reports(testing(), &|reports| {
                reports.covered_days.drain(..14);
                reports.organizations.remove("Microsoft Corporation");
            }),
        ),
        (
            "reports: policy fetch errors and failures on an MX",
            Profile::Sge,
            with_reports(testing(), &|reports| {
                *reports = with_failures(reports.clone(), "sts-policy-fetch-error", None, 20, 3);
                *reports = with_failures(
                    reports.clone(),
                    "certificate-expired",
                    Some("mx1.example.org"),
                    80,
                    2,
                );
            }),
        ),
        ("reports: enforce hurting delivery", Profile::Ncsc, {
            with_reports(perfect(), &|reports| {
                *reports = with_failures(
                    reports.clone(),
                    "starttls-not-supported",
                    Some("mx2.example.org"),
                    2000,
                    1,
                );
            })
        }),
    ]
}

#[derive(Default)]
struct Seen {
    pass: BTreeSet<String>,
    tripped: BTreeSet<String>,
}

impl Seen {
    fn add(&mut self, source: &str, findings: &[Finding]) {
        for finding in findings {
            let id = finding.check.as_str().to_owned();
            match finding.outcome {
                Outcome::Pass => self.pass.insert(format!("{id}\t{source}")),
                Outcome::Skipped { .. } => false,
                _ => self.tripped.insert(format!("{id}\t{source}")),
            };
        }
    }

    fn has(set: &BTreeSet<String>, id: &str) -> bool {
        set.iter().any(|entry| entry.split('\t').next() == Some(id))
    }
}

#[test]
fn every_check_is_seen_passing_and_not_passing() {
    let mut seen = Seen::default();
    for (source, findings) in common::fixtures::policy_fixture_findings() {
        seen.add(&source, &findings);
    }
    for (source, findings) in common::fixtures::record_fixture_findings() {
        seen.add(&source, &findings);
    }
    for (name, profile, obs) in scenarios() {
        seen.add(name, &run(&obs, profile).findings);
    }
    for (name, report) in change_scenarios() {
        seen.add(name, &report.findings);
    }

    let mut missing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for spec in CATALOG {
        let id = spec.id.as_str();
        if !Seen::has(&seen.pass, id) {
            missing.entry(id).or_default().push("never passes");
        }
        if !Seen::has(&seen.tripped, id) {
            missing
                .entry(id)
                .or_default()
                .push("never fails, warns or informs");
        }
    }
    assert!(
        missing.is_empty(),
        "checks without both a passing and a failing case: {missing:#?}"
    );
}

#[test]
fn the_perfect_scenario_really_is() {
    let (_, profile, obs) = scenarios().remove(0);
    let report = run(&obs, profile);
    assert_eq!(problems(&report), vec![]);
}
