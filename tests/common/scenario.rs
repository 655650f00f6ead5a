//! Hand-built observations of a perfect deployment, to be broken one piece at a time by tests of
//! the verdict code. No network: this is what the probes would have seen.

use std::net::IpAddr;
use std::time::Duration;

use mtasts::catalog::{CheckId, Profile};
use mtasts::model::{DomainReport, Outcome};
use mtasts::observe::{
    CertSummary, DnsAnswer, FetchObservation, HostLookup, HttpResponse, LegacyTls,
    MxHostObservation, MxRecord, NotContacted, Observations, SmtpObservation, SmtpReply,
    TlsObservation, TlsVersion, TxtRecord, Uncontacted,
};
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
    }
}

pub fn good_tls(name: &str) -> TlsObservation {
    TlsObservation {
        version: TlsVersion::Tls13,
        cipher: "TLS13_AES_256_GCM_SHA384".to_owned(),
        chain: vec![certificate(&[name], NOW - 30 * DAY, NOW + 60 * DAY)],
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
    obs
}

pub fn run(obs: &Observations, profile: Profile) -> DomainReport {
    super::contract::judge_checked(obs, &Context { profile, now: NOW })
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

/// Every non-pass (id, outcome label) of a report, sorted.
pub fn problems(report: &DomainReport) -> Vec<(String, &'static str)> {
    let mut list: Vec<(String, &'static str)> = report
        .findings
        .iter()
        .filter(|finding| finding.outcome != Outcome::Pass)
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
