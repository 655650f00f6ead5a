//! Hand-built observations of a perfect deployment, to be broken one piece at a time by tests of
//! the verdict code. No network: this is what the probes would have seen.

use std::net::IpAddr;
use std::time::Duration;

use mtasts::catalog::{CheckId, Profile};
use mtasts::model::{DomainReport, Outcome, RunFlag};
use mtasts::observe::{
    AnswerCut, CertSummary, DnsAnswer, FetchObservation, HostLookup, HttpResponse, LegacyTls,
    MxHostObservation, MxRecord, NotContacted, Observations, ReportDay, ReportFailure,
    ReportsEvidence, SmtpObservation, SmtpReply, TlsObservation, TlsVersion, TxtRecord,
    Uncontacted, UnreadableInput,
};
use mtasts::tlsrpt_report::date::Day;
use mtasts::tlsrpt_report::model::ResultType;
use mtasts::verdict::changes::{compare, Baseline, BaselineDomain};
use mtasts::verdict::Context;

/// 2026-09-21, a fixed "now" so that certificate dates are stable.
pub const NOW: i64 = 1_790_000_000;
const DAY: i64 = 86_400;

pub const GOOD_POLICY: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n";

pub fn records<T>(data: T, ttl: u32) -> DnsAnswer<T> {
    DnsAnswer::Records {
        data,
        ttl,
        cname_chain: Vec::new(),
        cut: None,
    }
}

pub fn host(name: &str, ips: &[&str]) -> HostLookup {
    let parsed: Vec<IpAddr> = ips.iter().map(|ip| ip.parse().expect("test IP")).collect();
    let v4: Vec<IpAddr> = parsed.iter().copied().filter(IpAddr::is_ipv4).collect();
    let v6: Vec<IpAddr> = parsed.iter().copied().filter(IpAddr::is_ipv6).collect();
    let answer = |ips: Vec<IpAddr>| {
        if ips.is_empty() {
            DnsAnswer::NoData
        } else {
            records(ips, 3600)
        }
    };
    HostLookup {
        name: name.to_owned(),
        a: answer(v4),
        aaaa: answer(v6),
    }
}

pub fn certificate(names: &[&str], not_before: i64, not_after: i64) -> CertSummary {
    CertSummary {
        subject: format!("CN={}", names.first().copied().unwrap_or("leaf")),
        issuer: "CN=Test Issuing CA".to_owned(),
        dns_names: names.iter().map(|name| (*name).to_owned()).collect(),
        not_before,
        not_after,
        serial: "01".to_owned(),
        spki_sha256: String::new(),
        der: Vec::new(),
    }
}

pub fn good_tls(name: &str) -> TlsObservation {
    TlsObservation {
        version: TlsVersion::Tls13,
        cipher: "TLS13_AES_256_GCM_SHA384".to_owned(),
        chain: vec![certificate(&[name], NOW - 30 * DAY, NOW + 60 * DAY)],
        chain_presented: 0,
        trust: Ok(()),
        name_match: Ok(()),
    }
}

pub fn policy_response(body: &str) -> HttpResponse {
    HttpResponse {
        status_line: "HTTP/1.1 200 OK".to_owned(),
        status: 200,
        headers: vec![(
            "content-type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        )],
        body: body.as_bytes().to_vec(),
        truncated: false,
    }
}

pub fn good_fetch(ip: &str, body: &str) -> FetchObservation {
    FetchObservation {
        ip: ip.parse().expect("test IP"),
        elapsed: Duration::from_millis(120),
        tls: Some(good_tls("mta-sts.example.org")),
        result: Ok(policy_response(body)),
        not_contacted: None,
    }
}

pub fn reply(code: u16, lines: &[&str]) -> SmtpReply {
    SmtpReply {
        code,
        lines: lines.iter().map(|line| (*line).to_owned()).collect(),
    }
}

pub fn good_smtp(host: &str, ip: &str) -> SmtpObservation {
    SmtpObservation {
        host: host.to_owned(),
        ip: ip.parse().expect("test IP"),
        transcript: vec![
            format!("S: 220 {host} ESMTP"),
            "C: EHLO mtasts.invalid".to_owned(),
        ],
        attempts: 1,
        server_spoke: true,
        greeting: Some(reply(220, &[host])),
        greeting_delay: Duration::from_millis(5),
        ehlo: Some(reply(250, &[host, "PIPELINING", "STARTTLS"])),
        starttls_offered: true,
        starttls_reply: Some(reply(220, &["2.0.0 Ready to start TLS"])),
        pre_tls_bytes: 0,
        tls: Some(good_tls(host)),
        starttls_after_tls: false,
        legacy_tls: LegacyTls::Refused,
        failure: None,
        connection_lost: None,
        tried_for: Duration::ZERO,
        not_contacted: None,
        shared_from: None,
    }
}

pub fn mx_host(name: &str, preference: u16, ip: &str) -> MxHostObservation {
    MxHostObservation {
        name: name.to_owned(),
        preference,
        addrs: host(name, &[ip]),
        tlsa: DnsAnswer::NxDomain,
        smtp: vec![good_smtp(name, ip)],
        not_contacted: Vec::new(),
    }
}

/// example.org done right: enforce, every MX listed, STARTTLS with good certificates, TLS-RPT.
pub fn perfect() -> Observations {
    let mut obs = Observations::empty(&"example.org".parse().unwrap());
    obs.sts_txt = records(
        vec![TxtRecord::single("v=STSv1; id=20250101T000000")],
        86_400,
    );
    obs.policy_host = host(
        "mta-sts.example.org",
        &["93.184.215.10", "2606:2800:21f::10"],
    );
    obs.fetches = vec![
        good_fetch("93.184.215.10", GOOD_POLICY),
        good_fetch("2606:2800:21f::10", GOOD_POLICY),
    ];
    obs.mx = records(
        vec![
            MxRecord {
                preference: 10,
                exchange: "mx1.example.org".to_owned(),
            },
            MxRecord {
                preference: 20,
                exchange: "mx2.example.org".to_owned(),
            },
        ],
        3600,
    );
    obs.mx_hosts = vec![
        mx_host("mx1.example.org", 10, "93.184.215.25"),
        mx_host("mx2.example.org", 20, "93.184.215.26"),
    ];
    obs.tlsrpt_txt = records(
        vec![TxtRecord::single(
            "v=TLSRPTv1; rua=mailto:tlsrpt@example.org",
        )],
        86_400,
    );
    obs.rua_domains = vec![(
        "example.org".to_owned(),
        records(
            vec![MxRecord {
                preference: 10,
                exchange: "mx1.example.org".to_owned(),
            }],
            3600,
        ),
    )];
    obs.reports = Some(clean_reports());
    obs
}

/// A finding's evidence as `label: value` lines, for exact comparisons.
pub fn evidence_lines(finding: &mtasts::model::Finding) -> Vec<String> {
    finding
        .evidence
        .iter()
        .map(|evidence| format!("{}: {}", evidence.label, evidence.value))
        .collect()
}

/// [`perfect`] as a probe at its bounds sees it (issue 12): a 7-record `_mta-sts` answer of 58 KB
/// cut to its first record, a policy host with 120 A records of which 100 were kept and a third
/// address past the per-host bound, 200 MX records of which the most preferred 100 were kept, a
/// TLS-RPT record with 12 `mailto:` domains of which 10 were looked up, and a report file too
/// large to read.
pub fn past_the_bounds() -> Observations {
    let mut obs = perfect();
    let cut = |records: usize, shortened: usize, bytes: usize| {
        Some(AnswerCut {
            records,
            shortened,
            bytes,
        })
    };
    if let DnsAnswer::Records { cut: answer, .. } = &mut obs.sts_txt {
        *answer = cut(7, 1, 58_000);
    }
    obs.policy_host.a = DnsAnswer::Records {
        data: vec![
            "93.184.215.10".parse().unwrap(),
            "93.184.215.11".parse().unwrap(),
        ],
        ttl: 300,
        cname_chain: Vec::new(),
        cut: cut(120, 0, 0),
    };
    obs.policy_not_contacted = vec![Uncontacted {
        ip: "93.184.215.11".parse().unwrap(),
        reason: NotContacted::OverAddressBound { bound: 2 },
    }];
    if let DnsAnswer::Records { cut: answer, .. } = &mut obs.mx {
        *answer = cut(200, 0, 0);
    }
    let domains: Vec<String> = (0..12)
        .map(|index| format!("r{index}.example.net"))
        .collect();
    let rua: Vec<String> = domains
        .iter()
        .map(|domain| format!("mailto:tls@{domain}"))
        .collect();
    obs.tlsrpt_txt = records(
        vec![TxtRecord::single(&format!(
            "v=TLSRPTv1; rua={}",
            rua.join(",")
        ))],
        86_400,
    );
    obs.rua_domains = domains[..10]
        .iter()
        .map(|domain| {
            let mx = MxRecord {
                preference: 10,
                exchange: format!("mx.{domain}"),
            };
            (domain.clone(), records(vec![mx], 3600))
        })
        .collect();
    let reports = obs.reports.as_mut().unwrap();
    reports.unreadable = vec![UnreadableInput {
        path: "reports/huge.json.gz".to_owned(),
        reason: "larger than 16 MiB after decompression".to_owned(),
    }];
    reports.unreadable_count = 1;
    obs
}

/// Three weeks of clean TLS-RPT reports up to yesterday, from two organisations, about the
/// policy of [`perfect`]: what `--reports` reads for a domain ready for (or doing well in)
/// enforce.
pub fn clean_reports() -> ReportsEvidence {
    let today = Day::of_unix(NOW);
    let days: Vec<Day> = (-21..0).map(|offset| today.plus(offset)).collect();
    ReportsEvidence {
        since: today.plus(-29),
        read_on: today,
        files_read: 42,
        reports: 42,
        duplicates: 0,
        covered_days: days.clone(),
        organizations: [
            ("Google Inc.".to_owned(), 21),
            ("Microsoft Corporation".to_owned(), 21),
        ]
        .into(),
        days: days
            .iter()
            .map(|&day| ReportDay {
                day,
                successful: 250,
                failed: 0,
                failures: Vec::new(),
            })
            .collect(),
        mx_patterns: vec!["mx1.example.org".to_owned(), "mx2.example.org".to_owned()],
        modes: vec!["enforce".to_owned()],
        unreadable: Vec::new(),
        unreadable_count: 0,
    }
}

/// `reports` with `sessions` failed sessions of `result_type` on `mx`, `days_ago` days ago.
pub fn with_failures(
    mut reports: ReportsEvidence,
    result_type: &str,
    mx: Option<&str>,
    sessions: u64,
    days_ago: i64,
) -> ReportsEvidence {
    let day = Day::of_unix(NOW).plus(-days_ago);
    let entry = reports
        .days
        .iter_mut()
        .find(|entry| entry.day == day)
        .expect("a day with reports");
    entry.failed += sessions;
    entry.failures.push(ReportFailure {
        result_type: ResultType::from_wire(result_type),
        mx: mx.map(str::to_owned),
        sessions,
    });
    reports
}

pub fn run(obs: &Observations, profile: Profile) -> DomainReport {
    super::contract::judge_checked(obs, &Context::new(profile, NOW))
}

/// The outcomes reported for `check`, for every subject.
pub fn outcomes(report: &DomainReport, check: CheckId) -> Vec<Outcome> {
    report
        .findings
        .iter()
        .filter(|finding| finding.check == check)
        .map(|finding| finding.outcome.clone())
        .collect()
}

/// Every non-pass (id, outcome label) of a report, sorted; the `change.*` checks skipped for
/// want of a `--baseline` (every report without one) are left out.
pub fn problems(report: &DomainReport) -> Vec<(String, &'static str)> {
    let no_baseline = Outcome::Skipped {
        blocked_by: RunFlag::NoBaseline.into(),
    };
    let mut list: Vec<(String, &'static str)> = report
        .findings
        .iter()
        .filter(|finding| finding.outcome != Outcome::Pass && finding.outcome != no_baseline)
        .map(|finding| (finding.check.as_str().to_owned(), finding.outcome.label()))
        .collect();
    list.sort();
    list
}

/// An MX answer from `(preference, exchange)` pairs; `""` is a null MX.
pub fn mx_records(list: &[(u16, &str)]) -> DnsAnswer<Vec<MxRecord>> {
    records(
        list.iter()
            .map(|(preference, exchange)| MxRecord {
                preference: *preference,
                exchange: (*exchange).to_owned(),
            })
            .collect(),
        3600,
    )
}

/// `probe` as seen from a network that blocks outbound port 25: the connection timed out.
pub fn unreachable(probe: &SmtpObservation) -> SmtpObservation {
    SmtpObservation {
        transcript: Vec::new(),
        server_spoke: false,
        greeting: None,
        ehlo: None,
        starttls_offered: false,
        starttls_reply: None,
        tls: None,
        legacy_tls: LegacyTls::NotTested {
            reason: "no connection".into(),
        },
        failure: Some(mtasts::observe::SmtpFailure {
            step: mtasts::observe::SmtpStep::Connect,
            timed_out: true,
            detail: "timed out".into(),
        }),
        ..probe.clone()
    }
}

/// The perfect deployment moved to addresses no sender can reach: the policy host at 10.0.0.1,
/// the MX hosts at 127.0.0.1 and the cloud metadata address. Without `--allow-private` none of
/// them is contacted, so there is no fetch and no SMTP probe.
pub fn non_public() -> Observations {
    let mut obs = perfect();
    obs.policy_host = host("mta-sts.example.org", &["10.0.0.1"]);
    obs.fetches.clear();
    obs.policy_not_contacted = not_public(&obs.policy_host);
    obs.mx_hosts = vec![
        mx_host("mx1.example.org", 10, "127.0.0.1"),
        mx_host("mx2.example.org", 20, "169.254.169.254"),
    ];
    for host in &mut obs.mx_hosts {
        host.smtp.clear();
        host.not_contacted = not_public(&host.addrs);
    }
    obs
}

/// Every address of `host`, not contacted for not being public.
fn not_public(host: &HostLookup) -> Vec<Uncontacted> {
    host.addresses()
        .into_iter()
        .map(|ip| Uncontacted {
            ip,
            reason: NotContacted::NonPublic,
        })
        .collect()
}

/// [`non_public`] under `--allow-private`: every address was contacted and answered well.
pub fn non_public_allowed() -> Observations {
    let mut obs = non_public();
    obs.private_allowed = true;
    obs.fetches = vec![good_fetch("10.0.0.1", GOOD_POLICY)];
    obs.policy_not_contacted.clear();
    for host in &mut obs.mx_hosts {
        host.not_contacted.clear();
        let ip = host.addrs.addresses()[0].to_string();
        host.smtp = vec![good_smtp(&host.name, &ip)];
    }
    obs
}

/// When the baseline of [`run_against`] was made: a week before [`NOW`].
pub const BASELINE_AT: i64 = NOW - 7 * DAY;

/// Judges `obs` as `check --baseline` would: compared with `baseline` (saved a week earlier),
/// or as a domain new since the baseline when `None`; the contract still holds.
pub fn run_against(
    obs: &Observations,
    baseline: Option<&Observations>,
    profile: Profile,
) -> DomainReport {
    let ctx = Context::new(profile, NOW);
    let mut report = super::contract::judge_checked(obs, &ctx);
    let base = baseline.map(|base| BaselineDomain::from_observations(base, &ctx, BASELINE_AT));
    let against = base.as_ref().map_or(Baseline::Absent, Baseline::Known);
    compare(&mut report, obs, against, profile);
    super::contract::assert_every_check_once_per_subject(&report);
    report
}

/// [`perfect`] with another policy body, served from both addresses.
pub fn with_body(mut obs: Observations, body: &str) -> Observations {
    for fetch in &mut obs.fetches {
        fetch.result = Ok(policy_response(body));
    }
    obs
}

/// [`perfect`] with another TXT id.
pub fn with_id(mut obs: Observations, id: &str) -> Observations {
    obs.sts_txt = records(
        vec![TxtRecord::single(&format!("v=STSv1; id={id}"))],
        86_400,
    );
    obs
}

/// Pairs of (current, baseline) runs, one change each, and the report of the comparison.
pub fn change_scenarios() -> Vec<(&'static str, DomainReport)> {
    let perfect = perfect();
    let testing = GOOD_POLICY.replace("enforce", "testing");
    let mut list = vec![
        (
            "unchanged",
            run_against(&perfect, Some(&perfect), Profile::Rfc),
        ),
        ("new domain", run_against(&perfect, None, Profile::Rfc)),
        (
            "policy edited, id kept",
            run_against(
                &with_body(perfect.clone(), &testing),
                Some(&perfect),
                Profile::Rfc,
            ),
        ),
        (
            "policy edited, id changed",
            run_against(
                &with_id(with_body(perfect.clone(), &testing), "20250601T000000"),
                Some(&perfect),
                Profile::Rfc,
            ),
        ),
        (
            "id changed for nothing",
            run_against(
                &with_id(perfect.clone(), "20250601T000000"),
                Some(&perfect),
                Profile::Rfc,
            ),
        ),
        (
            "max_age shortened",
            run_against(
                &with_id(
                    with_body(perfect.clone(), &GOOD_POLICY.replace("1209600", "86400")),
                    "20250601T000000",
                ),
                Some(&perfect),
                Profile::Rfc,
            ),
        ),
    ];
    list.push(("record removed", {
        let mut obs = perfect.clone();
        obs.sts_txt = DnsAnswer::NxDomain;
        run_against(&obs, Some(&perfect), Profile::Rfc)
    }));
    list.push(("MX added, not in the policy", {
        let mut obs = perfect.clone();
        obs.mx = mx_records(&[
            (10, "mx1.example.org"),
            (20, "mx2.example.org"),
            (30, "mx3.example.org"),
        ]);
        obs.mx_hosts
            .push(mx_host("mx3.example.org", 30, "93.184.215.27"));
        run_against(&obs, Some(&perfect), Profile::Rfc)
    }));
    list.push(("certificate from another CA, expiring sooner", {
        let mut obs = perfect.clone();
        for probe in &mut obs.mx_hosts[0].smtp {
            let tls = probe.tls.as_mut().unwrap();
            tls.chain[0].issuer = "CN=Other CA".to_owned();
            tls.chain[0].serial = "02".to_owned();
            tls.chain[0].not_after -= 10 * DAY;
        }
        run_against(&obs, Some(&perfect), Profile::Rfc)
    }));
    list.push(("certificate renewed by the same CA", {
        let mut obs = perfect.clone();
        for fetch in &mut obs.fetches {
            let tls = fetch.tls.as_mut().unwrap();
            tls.chain[0].serial = "03".to_owned();
            tls.chain[0].not_after += 30 * DAY;
        }
        run_against(&obs, Some(&perfect), Profile::Rfc)
    }));
    list
}

/// The outcome labels of `check` in `report`, for every subject.
pub fn labels(report: &DomainReport, check: CheckId) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .filter(|finding| finding.check == check)
        .map(|finding| finding.outcome.label())
        .collect()
}
