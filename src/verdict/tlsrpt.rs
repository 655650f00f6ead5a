//! Stage 6: the TLS-RPT record at `_smtp._tls` (RFC 8460 §3, TTL per §7) and whether its
//! `mailto:` report domains can receive mail (RFC 5321 §5.1, RFC 7505).
//!
//! The lookup, the filter and the grammar are judged by `one_record`; this
//! stage adds the report domains and the TTL.

use super::bounds::{self, Kept};
use super::one_record::{self, counted_down_from, judge_ttl, ChainShown, RecordStage};
use super::{Context, Findings};
use crate::catalog::{stage_checks, CheckFlag, CheckId, Severity, Stage};
use crate::escape::escape_str;
use crate::model::{Evidence, Problem, Subject};
use crate::observe::{DnsAnswer, MxRecord, Observations};
use crate::parse::tlsrpt_record::{self, analyse, TlsRptRecord, TLSRPT_PREFIX};
use crate::retired;
use crate::tlsrpt_report::date::Day;

/// The `_smtp._tls` record's lookup, filter and grammar checks.
const STAGE: RecordStage<TlsRptRecord> = RecordStage {
    grammar: &tlsrpt_record::GRAMMAR,
    analyse,
    present: CheckId::TlsRptPresent,
    bounds: CheckId::TlsRptBounds,
    has_record: "has a TLS-RPT record",
    lookup_failed: "",
    absent: ", so no one reports TLS failures delivering to this domain",
    present_evidence: TLSRPT_PREFIX,
    chain: ChainShown::WhenPresent,
};
/// RFC 8460 §7 asks for a large TTL; below an hour is worth a note.
const MIN_TTL: u32 = 3600;

/// The checks about where the reports go, judged on the record a sender would use.
fn destination_checks() -> impl Iterator<Item = CheckId> {
    stage_checks(Stage::TlsRpt).filter(|check| check.spec().has(CheckFlag::Destination))
}

/// Judges `tlsrpt.*`; returns the rua URIs of the record a sender would use.
pub fn judge(obs: &Observations, ctx: &Context, out: &mut Findings) -> Vec<String> {
    let found = one_record::judge(&STAGE, obs, &obs.tlsrpt_txt, &obs.tlsrpt_misplaced, out);
    let destinations = found
        .as_ref()
        .and_then(|found| found.record.as_ref())
        .map(|record| destination_bounds(obs, record))
        .unwrap_or_default();
    one_record::judge_bounds(&STAGE, obs, &obs.tlsrpt_txt, destinations, out);
    let Some(found) = found else {
        return Vec::new();
    };
    match &found.record {
        Some(record) if !record.rua.is_empty() => {
            judge_mailto_domains(obs, record, out);
            judge_https_rua(obs, record, ctx, out);
            judge_retired(record, ctx, out);
        }
        record => {
            let blocker = match record {
                None if !found.parsed => CheckId::TlsRptSingle,
                None => CheckId::TlsRptSyntax,
                Some(_) => CheckId::TlsRptRua,
            };
            out.skip_all(destination_checks(), &Subject::Domain, blocker);
        }
    }

    judge_ttl(
        out,
        CheckId::TlsRptTtl,
        &found,
        found.ttl >= MIN_TTL || counted_down_from(found.ttl, MIN_TTL),
        "RFC 8460 §7 encourages a large TTL (an hour or more)",
    );

    found.record.map(|record| record.rua).unwrap_or_default()
}

/// What the audit's bounds left out of the record's report destinations: `mailto:` domains and
/// `https:` URLs past those looked at, and each `https:` host's addresses past those kept or
/// handshaken with.
fn destination_bounds(obs: &Observations, record: &TlsRptRecord) -> Vec<Evidence> {
    let mut evidence = Vec::new();
    let domains = record.mailto_domains();
    let unasked: Vec<String> = domains
        .iter()
        .filter(|domain| {
            !obs.rua_domains
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(domain))
        })
        .cloned()
        .collect();
    if !obs.rua_domains.is_empty() {
        let label = "mailto: report domains";
        evidence.extend(bounds::left_out(
            label,
            domains.len(),
            &unasked,
            "looked up",
        ));
    }
    let endpoints = record.https_endpoints();
    let unseen: Vec<String> = endpoints
        .iter()
        .filter(|(uri, _, _)| {
            let shown = escape_str(uri);
            !obs.rua_https.iter().any(|rua| rua.uri == shown)
        })
        .map(|(uri, _, _)| escape_str(uri))
        .collect();
    if !obs.rua_https.is_empty() {
        let label = "https: report URLs";
        evidence.extend(bounds::left_out(
            label,
            endpoints.len(),
            &unseen,
            "looked at",
        ));
    }
    for rua in &obs.rua_https {
        for (family, answer) in [("A", &rua.addrs.a), ("AAAA", &rua.addrs.aaaa)] {
            let label = format!("{family} records of {}", rua.host);
            evidence.extend(bounds::answer_cut(&label, answer, Kept::Lowest));
        }
        evidence.extend(bounds::over_address_bound(
            &rua.addrs,
            &rua.not_contacted,
            rua.handshakes.len(),
            "handshaken with",
        ));
    }
    evidence
}

/// One finding for the record's `https:` report URLs: reporters post there, after resolving the
/// host and making a TLS handshake. A certificate they cannot verify only warns (digest RPT-15):
/// RFC 8460 §3 lets them ignore it, but a careful reporter will not post.
fn judge_https_rua(obs: &Observations, record: &TlsRptRecord, ctx: &Context, out: &mut Findings) {
    if record.https_endpoints().is_empty() {
        out.pass_with(
            CheckId::TlsRptRuaHttps,
            Subject::Domain,
            "the record has no https: report URL to check",
            Vec::new(),
        );
        return;
    }
    if obs.rua_https.is_empty() {
        out.undetermined(
            CheckId::TlsRptRuaHttps,
            Subject::Domain,
            "the record's https: report URLs were not looked at",
            Vec::new(),
        );
        return;
    }
    let mut evidence = Vec::new();
    let (mut faults, mut unknown) = (Vec::new(), Vec::new());
    for rua in &obs.rua_https {
        evidence.push(Evidence::new("rua URI", rua.uri.clone()));
        match https_rua_fault(rua, ctx, &mut evidence) {
            HttpsRua::Usable => {}
            HttpsRua::Fault(fault) => faults.push(fault),
            HttpsRua::Unknown(reason) => unknown.push(reason),
        }
    }
    if !faults.is_empty() {
        let mut problem = Problem::new(
            CheckId::TlsRptRuaHttps,
            format!(
                "{}; reporters that check certificates send nothing there (RFC 8460 §3 lets \
                 others ignore the error)",
                faults.join("; ")
            ),
        );
        problem.evidence = evidence;
        out.problem(problem, Subject::Domain);
    } else if !unknown.is_empty() {
        out.undetermined(
            CheckId::TlsRptRuaHttps,
            Subject::Domain,
            unknown.join("; "),
            evidence,
        );
    } else {
        out.pass_with(
            CheckId::TlsRptRuaHttps,
            Subject::Domain,
            "every https: report host completes TLS with a valid certificate on every address",
            evidence,
        );
    }
}

/// What one `https:` report URL looks like to a reporter.
enum HttpsRua {
    Usable,
    Fault(String),
    Unknown(String),
}

fn https_rua_fault(
    rua: &crate::observe::HttpsRuaObservation,
    ctx: &Context,
    evidence: &mut Vec<Evidence>,
) -> HttpsRua {
    let host = &rua.host;
    if rua.addrs.addresses().is_empty() {
        evidence.push(Evidence::new(
            format!("A {host}"),
            rua.addrs.a.describe_absence(),
        ));
        evidence.push(Evidence::new(
            format!("AAAA {host}"),
            rua.addrs.aaaa.describe_absence(),
        ));
        return match rua.addrs.failure() {
            Some(reason) => HttpsRua::Unknown(format!(
                "the address lookup of report host {host} failed ({reason})"
            )),
            None => HttpsRua::Fault(format!(
                "report host {host} has no address, so reports posted to {} are lost",
                rua.uri
            )),
        };
    }
    if rua.handshakes.is_empty() {
        for skipped in &rua.not_contacted {
            evidence.push(Evidence::new(
                format!("{host} {}", skipped.ip),
                format!("not contacted: {}", skipped.reason.describe()),
            ));
        }
        return HttpsRua::Fault(format!(
            "report host {host} has no public address a reporter can reach"
        ));
    }
    let mut faults = Vec::new();
    for handshake in &rua.handshakes {
        let ip = handshake.ip;
        match &handshake.tls {
            Err(failure) => faults.push(format!(
                "no TLS session with {host} at {ip} ({}: {})",
                failure.step, failure.detail
            )),
            Ok(tls) => {
                if let Err(reason) = &tls.trust {
                    faults.push(format!(
                        "the certificate of {host} at {ip} is not trusted ({reason})"
                    ));
                }
                if let Err(reason) = &tls.name_match {
                    faults.push(format!(
                        "the certificate at {ip} does not name {host} ({reason})"
                    ));
                }
                if let Some(leaf) = tls.chain.first() {
                    if leaf.not_after < ctx.now {
                        faults.push(format!("the certificate of {host} at {ip} has expired"));
                    }
                    evidence.push(Evidence::new(
                        format!("certificate of {host} at {ip}"),
                        format!("{} (issuer {})", leaf.subject, leaf.issuer),
                    ));
                }
            }
        }
    }
    if faults.is_empty() {
        HttpsRua::Usable
    } else {
        HttpsRua::Fault(faults.join("; "))
    }
}

/// One finding per `mailto:` report domain, about the host that has to receive the reports.
fn judge_mailto_domains(obs: &Observations, record: &TlsRptRecord, out: &mut Findings) {
    let domains = record.mailto_domains();
    if domains.is_empty() {
        out.pass_with(
            CheckId::TlsRptMailtoDomain,
            Subject::Domain,
            "the record has no mailto: report address to check",
            Vec::new(),
        );
        return;
    }
    for domain in domains {
        let subject = Subject::host(&domain);
        let answer = obs
            .rua_domains
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&domain))
            .map(|(_, answer)| answer);
        let evidence_label = format!("MX {domain}");
        match answer {
            None => out.undetermined(
                CheckId::TlsRptMailtoDomain,
                subject,
                format!("the MX records of report domain {domain} were not looked up"),
                Vec::new(),
            ),
            Some(DnsAnswer::Failed { reason }) => out.undetermined(
                CheckId::TlsRptMailtoDomain,
                subject,
                format!("the MX lookup of report domain {domain} failed ({reason})"),
                vec![Evidence::new(
                    evidence_label,
                    format!("lookup failed: {reason}"),
                )],
            ),
            Some(DnsAnswer::NxDomain) => out.problem(
                Problem::new(
                    CheckId::TlsRptMailtoDomain,
                    format!(
                        "report domain {domain} does not exist (NXDOMAIN): reports mailed there \
                         are lost"
                    ),
                )
                .with(evidence_label, "the name does not exist (NXDOMAIN)"),
                subject,
            ),
            Some(DnsAnswer::NoData) => out.pass_with(
                CheckId::TlsRptMailtoDomain,
                subject,
                format!(
                    "report domain {domain} has no MX records, so mail goes to its own address \
                     (implicit MX, RFC 5321 §5.1)"
                ),
                vec![Evidence::new(
                    evidence_label,
                    "no records of this type (NOERROR/NODATA)",
                )],
            ),
            Some(DnsAnswer::Records { data, .. }) => {
                let shown = show_mx(data);
                if data.iter().any(|mx| mx.exchange.is_empty()) {
                    out.problem(
                        Problem::new(
                            CheckId::TlsRptMailtoDomain,
                            format!(
                                "report domain {domain} publishes a null MX (RFC 7505): it \
                                 accepts no mail, so reports mailed there are lost"
                            ),
                        )
                        .with(evidence_label, shown),
                        subject,
                    );
                } else {
                    out.pass_with(
                        CheckId::TlsRptMailtoDomain,
                        subject,
                        format!("report domain {domain} has MX records"),
                        vec![Evidence::new(evidence_label, shown)],
                    );
                }
            }
        }
    }
}

/// `tlsrpt.rua-retired`: no `mailto:` rua names a destination that has closed
/// ([`crate::retired`]); before its closing day one is noted, not warned about.
fn judge_retired(record: &TlsRptRecord, ctx: &Context, out: &mut Findings) {
    let today = Day::of_unix(ctx.now);
    let mut problems = Vec::new();
    for address in record.mailto_addresses() {
        let Some(retired) = retired::find(&address) else {
            continue;
        };
        let closed = retired.closed_on().is_none_or(|closed| closed <= today);
        let problem = if closed {
            Problem::new(
                CheckId::TlsRptRuaRetired,
                format!(
                    "reports go to {address}, the mailbox of {}, which closed on {}: they are read                      by no one",
                    retired.service, retired.closed
                ),
            )
        } else {
            Problem::new(
                CheckId::TlsRptRuaRetired,
                format!(
                    "reports go to {address}, the mailbox of {}, which closes on {}",
                    retired.service, retired.closed
                ),
            )
            .capped(Severity::Info)
        };
        problems.push(
            problem
                .with("rua", format!("mailto:{address}"))
                .with("source", retired.source),
        );
    }
    if problems.is_empty() {
        out.pass_with(
            CheckId::TlsRptRuaRetired,
            Subject::Domain,
            "no rua points at a reporting service known to have closed",
            Vec::new(),
        );
        return;
    }
    // One finding for the record: the first retired address, with the others as evidence.
    let mut first = problems.remove(0);
    for other in problems {
        first.evidence.extend(other.evidence);
    }
    out.problem(first, Subject::Domain);
}

fn show_mx(records: &[MxRecord]) -> String {
    records
        .iter()
        .map(|mx| {
            let exchange = if mx.exchange.is_empty() {
                "."
            } else {
                mx.exchange.as_str()
            };
            format!("{} {}", mx.preference, exchange)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Profile, Stage, CATALOG};
    use crate::model::{Finding, Outcome};
    use crate::observe::TxtRecord;
    use crate::verdict::one_record::tests::labels;

    /// 2026-09-21, after the NCSC Mail Check closed.
    const NOW: i64 = 1_790_000_000;

    fn run(obs: &Observations, profile: Profile) -> (Vec<String>, Vec<Finding>) {
        run_at(obs, profile, NOW)
    }

    fn run_at(obs: &Observations, profile: Profile, now: i64) -> (Vec<String>, Vec<Finding>) {
        let mut out = Findings::new(profile);
        let rua = judge(obs, &Context::new(profile, now), &mut out);
        (rua, out.finish())
    }

    fn with_record(text: &str) -> Observations {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.tlsrpt_txt = DnsAnswer::records(vec![TxtRecord::single(text)]);
        obs
    }

    #[test]
    fn every_check_gets_a_finding() {
        let mut cases = vec![
            with_record("v=TLSRPTv1; rua=mailto:tls@example.org"),
            with_record("v=tlsrptv1; rua=mailto:tls@example.org"),
            with_record("v=TLSRPTv1; rua=mailto:tls@example.org ; x"),
            with_record("v=TLSRPTv1;"),
            Observations::empty(&"example.org".parse().unwrap()),
        ];
        let mut failed = Observations::empty(&"example.org".parse().unwrap());
        failed.tlsrpt_txt = DnsAnswer::Failed {
            reason: "timeout".to_owned(),
        };
        cases.push(failed);
        for obs in cases {
            let (_, findings) = run(&obs, Profile::Rfc);
            for spec in CATALOG.iter().filter(|spec| spec.stage == Stage::TlsRpt) {
                assert!(
                    findings.iter().any(|f| f.check == spec.id),
                    "{} missing for {:?}",
                    spec.id,
                    obs.tlsrpt_txt
                );
            }
        }
    }

    #[test]
    fn mailto_domains_are_judged_per_domain() {
        let mut obs = with_record(
            "v=TLSRPTv1; rua=mailto:a@gone.example,mailto:b@null.example,mailto:c@ok.example,mailto:d@implicit.example,mailto:e@flaky.example,mailto:f@unasked.example",
        );
        let mx = |exchange: &str| MxRecord {
            preference: 0,
            exchange: exchange.to_owned(),
        };
        obs.rua_domains = vec![
            ("gone.example".to_owned(), DnsAnswer::NxDomain),
            ("null.example".to_owned(), DnsAnswer::records(vec![mx("")])),
            (
                "ok.example".to_owned(),
                DnsAnswer::records(vec![mx("mx.ok.example")]),
            ),
            ("implicit.example".to_owned(), DnsAnswer::NoData),
            (
                "flaky.example".to_owned(),
                DnsAnswer::Failed {
                    reason: "SERVFAIL".to_owned(),
                },
            ),
        ];
        let (rua, findings) = run(&obs, Profile::Rfc);
        assert_eq!(rua.len(), 6);
        assert_eq!(
            labels(&findings, CheckId::TlsRptMailtoDomain),
            [
                "warn",
                "warn",
                "pass",
                "pass",
                "could-not-determine",
                "could-not-determine"
            ]
        );
    }

    #[test]
    fn the_retired_ncsc_mail_check_mailbox_warns_under_every_profile() {
        let obs = with_record(
            "v=TLSRPTv1;rua=mailto:tls-rua@mailcheck.service.ncsc.gov.uk,mailto:tls@example.org",
        );
        for profile in [Profile::Rfc, Profile::Sge, Profile::Ncsc] {
            let (_, findings) = run(&obs, profile);
            assert_eq!(labels(&findings, CheckId::TlsRptRuaRetired), ["warn"]);
            let finding = findings
                .iter()
                .find(|f| f.check == CheckId::TlsRptRuaRetired)
                .unwrap();
            assert!(
                finding.summary.contains("2026-03-31"),
                "{}",
                finding.summary
            );
            assert!(
                finding.summary.contains("NCSC Mail Check"),
                "{}",
                finding.summary
            );
        }
        // Before the closing day it is only noted.
        let (_, findings) = run_at(&obs, Profile::Rfc, 1_770_000_000);
        assert_eq!(labels(&findings, CheckId::TlsRptRuaRetired), ["info"]);

        let (_, findings) = run(
            &with_record("v=TLSRPTv1;rua=mailto:tls@example.org"),
            Profile::Ncsc,
        );
        assert_eq!(labels(&findings, CheckId::TlsRptRuaRetired), ["pass"]);
    }

    #[test]
    fn missing_record_fails_under_sge() {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.tlsrpt_misplaced = vec![crate::observe::MisplacedRecord {
            name: "smtp.tls.example.org".to_owned(),
            text: "v=TLSRPTv1; rua=mailto:a@example.org".to_owned(),
        }];
        let (rua, findings) = run(&obs, Profile::Sge);
        assert!(rua.is_empty());
        assert_eq!(findings[0].outcome, Outcome::Fail);
        assert!(findings[0].summary.contains("smtp.tls.example.org"));
        assert!(findings[1..]
            .iter()
            .all(|f| matches!(f.outcome, Outcome::Skipped { .. })));
    }

    #[test]
    fn short_ttl_is_info() {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.tlsrpt_txt = DnsAnswer::Records {
            data: vec![TxtRecord::single("v=TLSRPTv1; rua=https://r.example/")],
            ttl: 300,
            cname_chain: Vec::new(),
            cut: None,
        };
        let (_, findings) = run(&obs, Profile::Rfc);
        assert_eq!(labels(&findings, CheckId::TlsRptTtl), ["info"]);

        // An hour, counted down a little in a resolver's cache, is still an hour.
        for (ttl, expected) in [(3599, "pass"), (3240, "pass"), (3239, "info")] {
            obs.tlsrpt_txt = DnsAnswer::Records {
                data: vec![TxtRecord::single("v=TLSRPTv1; rua=https://r.example/")],
                ttl,
                cname_chain: Vec::new(),
                cut: None,
            };
            let (_, findings) = run(&obs, Profile::Rfc);
            assert_eq!(labels(&findings, CheckId::TlsRptTtl), [expected], "{ttl}");
        }
    }
}
