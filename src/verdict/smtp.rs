//! Stage 5: STARTTLS and certificates of every MX address (RFC 3207, RFC 5321 §3.1 and §4.2,
//! RFC 8461 §4.2, §5 and §7.2, RFC 8996).
//!
//! One set of findings per probed (MX host, address). A failure reached from here (port 25
//! blocked, a tarpit that never greets) is "could not determine", never a failure of the domain
//! (SMTP-01); checks that could not run name the check that stopped them.
//!
//! So is a temporary refusal that outlasted the probe's retries (a `421`, or a 4xx greeting or
//! EHLO answer: "rate limited", RFC 5321 §4.2.5), a connection the server reset or closed
//! mid-session on every attempt (named under `smtp.connect`), and a probe stopped by the
//! audit's own per-domain deadline. A `454` (or other 4xx but `421`) to STARTTLS is retried
//! too, but one that persists is a failure of `smtp.starttls-accepted`, with the attempts and
//! how long they took: it is a TLS fault that every sender meets.
//! A greeting slower than [`TARPIT_NOTICE`] passes, with the delay as evidence.

use std::ops::ControlFlow;

use super::cert::{self, CertChecks};
use super::{Context, Findings};
use crate::catalog::{checks_after, stage_checks, CheckId, Stage};
use crate::model::{Evidence, Outcome, Problem, RunFlag, Subject};
use crate::observe::{
    DnsAnswer, LegacyTls, NotContacted, Observations, SmtpFailure, SmtpObservation, SmtpReply,
    SmtpStep, TlsVersion,
};

/// Every `smtp.*` check, in catalog order: the session's steps, each needing the one before.
pub fn smtp_checks() -> Vec<CheckId> {
    stage_checks(Stage::Smtp).collect()
}

const CERT_CHECKS: CertChecks = CertChecks {
    trusted: CheckId::SmtpCertTrusted,
    name: CheckId::SmtpCertName,
    expiry: CheckId::SmtpCertExpiry,
    expiring: CheckId::SmtpCertExpiring,
};

/// The reason given when no address of any MX host accepted a connection.
pub const NO_MX_REACHABLE: &str = "no MX address reachable on port 25 from here: outbound port \
                                   25 is probably blocked on this network";

const TLSRPT: &str = "TLS-RPT result type";

/// A greeting slower than this is noted as evidence (a tarpit, or a slow server).
pub const TARPIT_NOTICE: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a temporary refusal that outlasted the retries says nothing about the domain, with how
/// many attempts over how long (as a persistent `454` says it).
fn refused_for_now(reply: &SmtpReply, probe: &SmtpObservation) -> String {
    let kind = if reply.code == 421 {
        "rate limited"
    } else {
        "temporarily refused"
    };
    format!("{kind} ({}){}", reply.describe(), probe.attempts_phrase())
}

/// Judges `smtp.*` for every probed MX address.
pub fn judge(obs: &Observations, ctx: &Context, out: &mut Findings) {
    if obs.smtp_skipped {
        out.skip_all(smtp_checks(), &Subject::Domain, RunFlag::NoSmtp);
        return;
    }
    // Nothing to probe (a null MX, or no MX answer): said once, for the domain.
    if obs.mx_hosts.is_empty() {
        let blocker = if obs.accepts_no_mail() {
            CheckId::MxNull
        } else if matches!(obs.mx, DnsAnswer::NoData) {
            CheckId::MxImplicit
        } else {
            CheckId::MxLookup
        };
        out.skip_all(smtp_checks(), &Subject::Domain, blocker);
        return;
    }
    // No MX host has an address to probe (`mx.target-address` says why, host by host).
    if obs
        .mx_hosts
        .iter()
        .all(|host| host.smtp.is_empty() && host.addrs.addresses().is_empty())
    {
        out.skip_all(smtp_checks(), &Subject::Domain, CheckId::MxTargetAddress);
        return;
    }
    // Addresses not contacted because they are not public; mx.public-address fails for them.
    // One past the per-host bound is not reported here.
    for host in &obs.mx_hosts {
        for skipped in &host.not_contacted {
            if skipped.reason == NotContacted::NonPublic {
                out.skip_all(
                    smtp_checks(),
                    &Subject::endpoint(&host.name, skipped.ip),
                    CheckId::MxPublicAddress,
                );
            }
        }
    }
    let probes: Vec<&SmtpObservation> = obs
        .mx_hosts
        .iter()
        .flat_map(|host| host.smtp.iter())
        .collect();
    // From a network that blocks outbound port 25 nothing connects; that says nothing about
    // the domain.
    let none_reachable = !probes.is_empty()
        && probes
            .iter()
            .all(|probe| probe.failed_at(SmtpStep::Connect));
    for probe in probes {
        judge_endpoint(probe, none_reachable, ctx, out);
    }
}

/// One evidence line per transcript line, so each renders on its own line.
fn transcript(probe: &SmtpObservation) -> Vec<Evidence> {
    probe
        .transcript
        .iter()
        .map(|line| Evidence::new("transcript", line.clone()))
        .collect()
}

/// One probed address, and what every finding about it may carry.
struct Endpoint<'a> {
    probe: &'a SmtpObservation,
    subject: Subject,
    /// The transcript and, if the probe stopped early, where and why.
    evidence: Vec<Evidence>,
}

impl<'a> Endpoint<'a> {
    fn new(probe: &'a SmtpObservation) -> Self {
        let mut evidence = transcript(probe);
        if let Some(failure) = &probe.failure {
            evidence.push(Evidence::new(
                format!("failure at {}", failure.step),
                failure.detail.clone(),
            ));
        }
        Self {
            probe,
            subject: Subject::endpoint(&probe.host, probe.ip),
            evidence,
        }
    }

    /// The failure, if the probe stopped at `step`.
    fn failure_at(&self, step: SmtpStep) -> Option<&'a SmtpFailure> {
        self.probe
            .failure
            .as_ref()
            .filter(|failure| failure.step == step)
    }

    /// STARTTLS was answered 220: the legacy probe and the pre-TLS check could run.
    fn starttls_220(&self) -> bool {
        self.probe
            .starttls_reply
            .as_ref()
            .is_some_and(|reply| reply.code == 220)
    }

    /// A problem carrying the transcript.
    fn problem(&self, check: CheckId, summary: impl Into<String>) -> Problem {
        let mut problem = Problem::new(check, summary);
        problem.evidence = self.evidence.clone();
        problem
    }

    fn undetermined(&self, out: &mut Findings, check: CheckId, reason: impl Into<String>) {
        out.undetermined(check, self.subject.clone(), reason, self.evidence.clone());
    }

    /// Skips every check after `check`, as blocked by it.
    fn skip_after(&self, out: &mut Findings, check: CheckId) {
        out.skip_all(checks_after(check), &self.subject, check);
    }
}

/// Judges every `smtp.*` check for one probed address, in the order the probe went.
fn judge_endpoint(
    probe: &SmtpObservation,
    none_reachable: bool,
    ctx: &Context,
    out: &mut Findings,
) {
    let endpoint = Endpoint::new(probe);
    let first = out.len();
    // A `Break` has skipped the checks after the one that stopped.
    let _ = judge_steps(&endpoint, none_reachable, ctx, out);
    // Every finding about this address that rests on another name's session says so.
    if let Some(shared) = &probe.shared_from {
        let note = shared_note(probe.ip, &shared.host);
        for finding in out.since(first) {
            if !matches!(finding.outcome, Outcome::Skipped { .. }) {
                finding.summary = format!("{} ({note})", finding.summary);
            }
            finding
                .evidence
                .push(Evidence::new("shared observation", note.clone()));
        }
    }
}

/// "observed at 192.0.2.7 via a.example, the same server".
pub fn shared_note(ip: std::net::IpAddr, host: &str) -> String {
    format!("observed at {ip} via {host}, the same server")
}

fn judge_steps(
    endpoint: &Endpoint<'_>,
    none_reachable: bool,
    ctx: &Context,
    out: &mut Findings,
) -> ControlFlow<()> {
    judge_cut_short(endpoint, out)?;
    judge_lost(endpoint, out)?;
    judge_connect(endpoint, none_reachable, out)?;
    judge_starttls_offered(endpoint, out)?;
    judge_starttls_accepted(endpoint, out);
    judge_tls_session(endpoint, ctx, out);
    judge_legacy_tls(endpoint, out);
    judge_readvertised(endpoint, out);
    judge_pre_tls_data(endpoint, out);
    ControlFlow::Continue(())
}

/// The audit's own deadline, or a refusal for now that the retries did not get past: the
/// server was not seen refusing anything for good, so the step it stopped at is undetermined.
fn judge_cut_short(endpoint: &Endpoint<'_>, out: &mut Findings) -> ControlFlow<()> {
    let probe = endpoint.probe;
    if let Some(failure) = endpoint.failure_at(SmtpStep::Deadline) {
        endpoint.undetermined(out, CheckId::SmtpConnect, failure.detail.clone());
        endpoint.skip_after(out, CheckId::SmtpConnect);
        return ControlFlow::Break(());
    }
    // A 454 to STARTTLS is what every sender gets: that one stays a failure.
    let refusal = probe.temporary_refusal().filter(|reply| {
        reply.code == 421
            || probe
                .failure
                .as_ref()
                .is_some_and(|f| f.step != SmtpStep::Starttls)
    });
    let (Some(reply), Some(failure)) = (refusal, &probe.failure) else {
        return ControlFlow::Continue(());
    };
    let check = match failure.step {
        SmtpStep::Greeting => CheckId::SmtpConnect,
        SmtpStep::Ehlo => CheckId::SmtpStarttlsOffered,
        _ => CheckId::SmtpStarttlsAccepted,
    };
    // The checks before the refused step passed.
    if check != CheckId::SmtpConnect {
        out.pass(CheckId::SmtpConnect, endpoint.subject.clone());
    }
    if check == CheckId::SmtpStarttlsAccepted {
        out.pass(CheckId::SmtpStarttlsOffered, endpoint.subject.clone());
    }
    endpoint.undetermined(out, check, refused_for_now(reply, probe));
    endpoint.skip_after(out, check);
    ControlFlow::Break(())
}

/// A session the server reset or closed after it had begun (after the greeting, the EHLO reply
/// or the STARTTLS 220), on every attempt: `smtp.connect` says what happened, and nothing
/// behind it can be known, so every later check is "could not determine" for that reason. A
/// middlebox on the auditor's own network can do this as well as the server.
fn judge_lost(endpoint: &Endpoint<'_>, out: &mut Findings) -> ControlFlow<()> {
    let probe = endpoint.probe;
    let Some(what) = probe.lost_mid_session() else {
        return ControlFlow::Continue(());
    };
    let reason = format!("{what}{}", probe.attempts_phrase());
    endpoint.undetermined(out, CheckId::SmtpConnect, reason.clone());
    for check in checks_after(CheckId::SmtpConnect) {
        out.undetermined(check, endpoint.subject.clone(), reason.clone(), Vec::new());
    }
    ControlFlow::Break(())
}

/// `smtp.connect`: the TCP connection and the 220 greeting.
fn judge_connect(
    endpoint: &Endpoint<'_>,
    none_reachable: bool,
    out: &mut Findings,
) -> ControlFlow<()> {
    let probe = endpoint.probe;
    if let Some(failure) = endpoint.failure_at(SmtpStep::Connect) {
        let reason = if none_reachable {
            NO_MX_REACHABLE.to_owned()
        } else {
            format!(
                "could not connect to {} port 25 ({}): port 25 may be blocked from here",
                probe.ip, failure.detail
            )
        };
        endpoint.undetermined(out, CheckId::SmtpConnect, reason);
        endpoint.skip_after(out, CheckId::SmtpConnect);
        return ControlFlow::Break(());
    }
    if let Some(failure) = endpoint.failure_at(SmtpStep::Greeting) {
        judge_bad_greeting(endpoint, failure, out);
        endpoint.skip_after(out, CheckId::SmtpConnect);
        return ControlFlow::Break(());
    }
    let mut evidence = Vec::new();
    if let Some(greeting) = &probe.greeting {
        evidence.push(Evidence::new("greeting", greeting.describe()));
    }
    evidence.push(Evidence::new(
        "greeting delay",
        format!("{} ms", probe.greeting_delay.as_millis()),
    ));
    if probe.greeting_delay > TARPIT_NOTICE {
        evidence.push(Evidence::new(
            "tarpit",
            format!(
                "greeting after {:.1} s (tarpit?)",
                probe.greeting_delay.as_secs_f64()
            ),
        ));
    }
    out.pass_with(
        CheckId::SmtpConnect,
        endpoint.subject.clone(),
        "the server accepted the connection and greeted with 220",
        evidence,
    );
    ControlFlow::Continue(())
}

/// `smtp.connect` when the session ended at the greeting: a refusal or silence says little
/// about the domain (the network between may be at fault); anything else is a bad greeting.
fn judge_bad_greeting(endpoint: &Endpoint<'_>, failure: &SmtpFailure, out: &mut Findings) {
    let check = CheckId::SmtpConnect;
    match &endpoint.probe.greeting {
        Some(greeting) if matches!(greeting.code, 421 | 554) => endpoint.undetermined(
            out,
            check,
            format!(
                "the server refused the session: {} {}",
                greeting.code,
                greeting.lines.join(" ")
            ),
        ),
        None if failure.timed_out => {
            endpoint.undetermined(out, check, format!("no greeting: {}", failure.detail));
        }
        None if !endpoint.probe.server_spoke => endpoint.undetermined(
            out,
            check,
            format!(
                "the connection ended before a greeting ({}): port 25 may be intercepted on \
                 this network",
                failure.detail
            ),
        ),
        _ => out.problem(
            endpoint.problem(
                check,
                format!("the server did not greet with 220: {}", failure.detail),
            ),
            endpoint.subject.clone(),
        ),
    }
}

/// `smtp.starttls-offered`: EHLO answered 250, with STARTTLS among the extensions.
fn judge_starttls_offered(endpoint: &Endpoint<'_>, out: &mut Findings) -> ControlFlow<()> {
    let check = CheckId::SmtpStarttlsOffered;
    let probe = endpoint.probe;
    if let Some(failure) = endpoint.failure_at(SmtpStep::Ehlo) {
        if failure.timed_out {
            endpoint.undetermined(
                out,
                check,
                format!("EHLO was not answered: {}", failure.detail),
            );
        } else {
            let problem = endpoint.problem(
                check,
                format!(
                    "EHLO failed, so STARTTLS cannot be used: {}",
                    failure.detail
                ),
            );
            out.problem(
                problem.with(TLSRPT, "starttls-not-supported"),
                endpoint.subject.clone(),
            );
        }
        endpoint.skip_after(out, check);
        return ControlFlow::Break(());
    }
    let ehlo_lines = probe
        .ehlo
        .as_ref()
        .map(|ehlo| ehlo.lines.join(" / "))
        .unwrap_or_default();
    if !probe.starttls_offered {
        let mut problem = Problem::new(check, "the EHLO reply does not advertise STARTTLS")
            .with("EHLO reply", ehlo_lines);
        problem.evidence.extend(endpoint.evidence.iter().cloned());
        out.problem(
            problem.with(TLSRPT, "starttls-not-supported"),
            endpoint.subject.clone(),
        );
        endpoint.skip_after(out, check);
        return ControlFlow::Break(());
    }
    out.pass_with(
        check,
        endpoint.subject.clone(),
        "STARTTLS is advertised in the EHLO reply",
        vec![Evidence::new("EHLO reply", ehlo_lines)],
    );
    ControlFlow::Continue(())
}

/// `smtp.starttls-accepted`: STARTTLS answered 220 and a TLS 1.2/1.3 handshake completed.
fn judge_starttls_accepted(endpoint: &Endpoint<'_>, out: &mut Findings) {
    let check = CheckId::SmtpStarttlsAccepted;
    let probe = endpoint.probe;
    let handshake_failure = endpoint
        .failure_at(SmtpStep::Starttls)
        .or_else(|| endpoint.failure_at(SmtpStep::Tls));
    if let (Some(tls), None) = (&probe.tls, handshake_failure) {
        out.pass_with(
            check,
            endpoint.subject.clone(),
            "STARTTLS was answered 220 and the TLS handshake completed",
            vec![Evidence::new(
                "negotiated",
                format!("{} {}", tls.version, tls.cipher),
            )],
        );
        return;
    }
    let summary = match (&probe.starttls_reply, handshake_failure) {
        // A 4xx here was retried like any temporary refusal; one that persisted is a fault of
        // the server's TLS that every sender meets, not a rate limit (README, "Engine").
        (Some(reply), _) if reply.is_temporary() => format!(
            "STARTTLS was answered {} {}{}: the refusal persisted, so senders cannot start TLS \
             here",
            reply.code,
            reply.lines.join(" "),
            probe.attempts_phrase()
        ),
        (Some(reply), _) if reply.code != 220 => format!(
            "STARTTLS was answered {} {}",
            reply.code,
            reply.lines.join(" ")
        ),
        (_, Some(failure)) if failure.step == SmtpStep::Tls => {
            format!("the TLS handshake did not complete: {}", failure.detail)
        }
        (_, Some(failure)) => format!("STARTTLS was not answered: {}", failure.detail),
        (_, None) => "no TLS session was established".to_owned(),
    };
    out.problem(
        endpoint
            .problem(check, summary)
            .with(TLSRPT, "starttls-not-supported"),
        endpoint.subject.clone(),
    );
}

/// The certificate checks and `smtp.tls-version`, which need the TLS session; without one,
/// a server that accepted only TLS 1.0/1.1 still fails `smtp.tls-version` (EC-68).
fn judge_tls_session(endpoint: &Endpoint<'_>, ctx: &Context, out: &mut Findings) {
    let subject = &endpoint.subject;
    let blocked = CheckId::SmtpStarttlsAccepted;
    let Some(tls) = &endpoint.probe.tls else {
        for check in [
            CERT_CHECKS.trusted,
            CERT_CHECKS.name,
            CERT_CHECKS.expiry,
            CERT_CHECKS.expiring,
        ] {
            out.skip(check, subject.clone(), blocked);
        }
        match &endpoint.probe.legacy_tls {
            LegacyTls::Accepted { version } if endpoint.starttls_220() => out.problem(
                endpoint.problem(
                    CheckId::SmtpTlsVersion,
                    format!("no TLS 1.2 or 1.3 handshake completed, but {version} was accepted"),
                ),
                subject.clone(),
            ),
            _ => out.skip(CheckId::SmtpTlsVersion, subject.clone(), blocked),
        }
        return;
    };
    // A shared session was made with another name's SNI: this name is judged from the chain.
    let name_match = match &endpoint.probe.shared_from {
        Some(_) => {
            let dns_names = tls
                .chain
                .first()
                .map_or(&[][..], |leaf| &leaf.dns_names[..]);
            crate::name::san_matches(&endpoint.probe.host, dns_names)
        }
        None => tls.name_match.clone(),
    };
    cert::judge_named(tls, &name_match, CERT_CHECKS, subject, ctx, out);
    let negotiated = vec![
        Evidence::new("version", tls.version.to_string()),
        Evidence::new("cipher", tls.cipher.clone()),
    ];
    if matches!(tls.version, TlsVersion::Tls12 | TlsVersion::Tls13) {
        out.pass_with(
            CheckId::SmtpTlsVersion,
            subject.clone(),
            format!("negotiated {} with {}", tls.version, tls.cipher),
            negotiated,
        );
    } else {
        let mut problem = Problem::new(
            CheckId::SmtpTlsVersion,
            format!("negotiated {}, not TLS 1.2 or 1.3", tls.version),
        );
        problem.evidence = negotiated;
        out.problem(problem, subject.clone());
    }
}

/// `smtp.legacy-tls`: the answer to a ClientHello offering only TLS 1.0 and 1.1.
fn judge_legacy_tls(endpoint: &Endpoint<'_>, out: &mut Findings) {
    let check = CheckId::SmtpLegacyTls;
    let subject = endpoint.subject.clone();
    match &endpoint.probe.legacy_tls {
        LegacyTls::Accepted { version } => out.problem(
            Problem::new(
                check,
                format!(
                    "the server accepted a ClientHello offering only TLS 1.0 and 1.1 and chose \
                     {version}"
                ),
            )
            .with("negotiated", version.to_string()),
            subject,
        ),
        LegacyTls::Refused => out.pass_with(
            check,
            subject,
            "the server refused a ClientHello offering only TLS 1.0 and 1.1",
            Vec::new(),
        ),
        LegacyTls::NotTested { .. } if !endpoint.starttls_220() => {
            out.skip(check, subject, CheckId::SmtpStarttlsAccepted);
        }
        LegacyTls::NotTested { reason } => {
            out.undetermined(check, subject, reason.clone(), Vec::new());
        }
    }
}

/// `smtp.starttls-readvertised`: STARTTLS is not offered again inside TLS (RFC 3207 §4.2).
fn judge_readvertised(endpoint: &Endpoint<'_>, out: &mut Findings) {
    let check = CheckId::SmtpStarttlsReadvertised;
    let subject = endpoint.subject.clone();
    if endpoint.probe.tls.is_none() {
        out.skip(check, subject, CheckId::SmtpStarttlsAccepted);
    } else if let Some(failure) = endpoint.failure_at(SmtpStep::EhloTls) {
        endpoint.undetermined(
            out,
            check,
            format!("EHLO inside TLS failed: {}", failure.detail),
        );
    } else if endpoint.probe.starttls_after_tls {
        out.problem(
            endpoint.problem(
                check,
                "STARTTLS is advertised again in the EHLO reply inside TLS",
            ),
            subject,
        );
    } else {
        out.pass_with(
            check,
            subject,
            "STARTTLS is not advertised inside TLS",
            Vec::new(),
        );
    }
}

/// `smtp.pre-tls-data`: nothing arrived between the STARTTLS 220 and the handshake (STARTTLS
/// injection, RFC 3207 §4.2); known as soon as STARTTLS was answered 220.
fn judge_pre_tls_data(endpoint: &Endpoint<'_>, out: &mut Findings) {
    let check = CheckId::SmtpPreTlsData;
    let subject = endpoint.subject.clone();
    let bytes = endpoint.probe.pre_tls_bytes;
    if !endpoint.starttls_220() {
        out.skip(check, subject, CheckId::SmtpStarttlsAccepted);
    } else if bytes > 0 {
        let mut problem = Problem::new(
            check,
            format!("{bytes} bytes arrived after the STARTTLS 220 and before the TLS handshake"),
        )
        .with("bytes", bytes.to_string());
        problem.evidence.extend(endpoint.evidence.iter().cloned());
        out.problem(problem, subject);
    } else {
        out.pass_with(
            check,
            subject,
            "nothing arrived between the STARTTLS 220 and the TLS handshake",
            Vec::new(),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::catalog::Profile;
    use crate::model::{Finding, Outcome};
    use crate::observe::{
        CertSummary, DnsAnswer, HostLookup, MxHostObservation, SmtpFailure, TlsObservation,
    };

    const NOW: i64 = 1_750_000_000;

    fn reply(code: u16, lines: &[&str]) -> Option<SmtpReply> {
        Some(SmtpReply {
            code,
            lines: lines.iter().map(|line| (*line).to_owned()).collect(),
        })
    }

    fn failure(step: SmtpStep, timed_out: bool, detail: &str) -> Option<SmtpFailure> {
        Some(SmtpFailure {
            step,
            timed_out,
            detail: detail.to_owned(),
        })
    }

    /// A probe of a well-configured MX: every check passes.
    fn good(host: &str, ip: &str) -> SmtpObservation {
        SmtpObservation {
            host: host.to_owned(),
            ip: ip.parse().unwrap(),
            transcript: vec!["S: 220 mx ESMTP".to_owned(), "C: EHLO probe".to_owned()],
            attempts: 1,
            server_spoke: true,
            greeting: reply(220, &["mx ESMTP"]),
            greeting_delay: Duration::from_millis(12),
            ehlo: reply(250, &["mx", "PIPELINING", "STARTTLS"]),
            starttls_offered: true,
            starttls_reply: reply(220, &["ready"]),
            pre_tls_bytes: 0,
            tls: Some(TlsObservation {
                version: TlsVersion::Tls13,
                cipher: "TLS13_AES_128_GCM_SHA256".to_owned(),
                chain: vec![CertSummary {
                    subject: "CN=mx".to_owned(),
                    issuer: "CN=CA".to_owned(),
                    dns_names: vec![host.to_owned()],
                    not_before: NOW - 86_400 * 30,
                    not_after: NOW + 86_400 * 60,
                    serial: "01".to_owned(),
                    spki_sha256: String::new(),
                    der: Vec::new(),
                }],
                chain_presented: 0,
                trust: Ok(()),
                name_match: Ok(()),
            }),
            starttls_after_tls: false,
            legacy_tls: LegacyTls::Refused,
            failure: None,
            connection_lost: None,
            tried_for: Duration::ZERO,
            not_contacted: None,
            shared_from: None,
        }
    }

    fn observations(probes: Vec<SmtpObservation>) -> Observations {
        let mut obs = Observations::empty(&"example.com".parse().unwrap());
        for probe in probes {
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
        }
        obs
    }

    fn run_with(obs: &Observations, profile: Profile) -> Vec<Finding> {
        let ctx = Context::new(profile, NOW);
        let mut out = Findings::new(profile);
        judge(obs, &ctx, &mut out);
        out.finish()
    }

    fn run(probes: Vec<SmtpObservation>) -> Vec<Finding> {
        run_with(&observations(probes), Profile::Rfc)
    }

    fn label(findings: &[Finding], check: CheckId) -> String {
        let matching: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
        assert_eq!(matching.len(), 1, "{check}: {findings:#?}");
        match &matching[0].outcome {
            Outcome::Skipped { blocked_by } => format!("skipped by {blocked_by}"),
            other => other.label().to_owned(),
        }
    }

    #[test]
    fn a_shared_session_is_judged_per_name_and_says_where_it_was_seen() {
        // The session was made with t1's SNI; t2 shares it. The chain covers *.farm.test only.
        let shared = |host: &str, dns_name: &str| {
            let mut probe = good(host, "192.0.2.7");
            let tls = probe.tls.as_mut().unwrap();
            tls.chain[0].dns_names = vec![dns_name.to_owned()];
            // The first name's verdict, which must not be read for another name.
            tls.name_match = Ok(());
            probe.shared_from = Some(crate::observe::SharedFrom {
                host: "t1.farm.test".to_owned(),
            });
            probe
        };
        let findings = run(vec![shared("t2.farm.test", "*.farm.test")]);
        assert_eq!(label(&findings, CheckId::SmtpCertName), "pass");
        let name = findings
            .iter()
            .find(|f| f.check == CheckId::SmtpCertName)
            .unwrap();
        assert!(
            name.summary
                .ends_with("(observed at 192.0.2.7 via t1.farm.test, the same server)"),
            "{}",
            name.summary
        );
        for finding in findings
            .iter()
            .filter(|f| f.check.as_str().starts_with("smtp."))
        {
            assert!(
                finding
                    .evidence
                    .iter()
                    .any(|e| e.label == "shared observation"),
                "{finding:?}"
            );
        }
        // A name the shared chain does not cover fails, whatever the first name's verdict was.
        let findings = run(vec![shared("mx.other.test", "*.farm.test")]);
        assert_eq!(label(&findings, CheckId::SmtpCertName), "fail");
        assert_eq!(label(&findings, CheckId::SmtpCertTrusted), "pass");
    }

    #[test]
    fn scenarios() {
        type Edit = fn(&mut SmtpObservation);
        type Expected = Vec<(CheckId, &'static str)>;
        // (name, edit of a good probe, expected labels)
        let cases: Vec<(&str, Edit, Expected)> = vec![
            (
                "good",
                |_| {},
                smtp_checks().into_iter().map(|c| (c, "pass")).collect(),
            ),
            (
                "greeting closed with nothing received",
                |p| {
                    p.transcript.clear();
                    p.server_spoke = false;
                    p.greeting = None;
                    p.failure = failure(
                        SmtpStep::Greeting,
                        false,
                        "the server closed the connection",
                    );
                },
                vec![
                    (CheckId::SmtpConnect, "could-not-determine"),
                    (CheckId::SmtpStarttlsOffered, "skipped by smtp.connect"),
                ],
            ),
            (
                "greeting garbage",
                |p| {
                    p.transcript = vec!["S: (incomplete) HTTP/1.1 400".to_owned()];
                    p.greeting = None;
                    p.failure = failure(SmtpStep::Greeting, false, "reply line does not start");
                },
                vec![(CheckId::SmtpConnect, "fail")],
            ),
            (
                // The verdict goes by the observed fact, not by the transcript's lines.
                "greeting garbage, transcript empty",
                |p| {
                    p.transcript.clear();
                    p.greeting = None;
                    p.failure = failure(SmtpStep::Greeting, false, "reply line does not start");
                },
                vec![(CheckId::SmtpConnect, "fail")],
            ),
            (
                "greeting 554",
                |p| {
                    p.greeting = reply(554, &["5.7.1 go away"]);
                    p.failure = failure(SmtpStep::Greeting, false, "greeted with 554");
                },
                vec![(CheckId::SmtpConnect, "could-not-determine")],
            ),
            (
                "greeting 421 after retries",
                |p| {
                    p.transcript
                        .insert(0, "-- attempt 1 refused for now --".to_owned());
                    p.attempts = 2;
                    p.greeting = reply(421, &["4.7.0 too many connections"]);
                    p.failure = failure(SmtpStep::Greeting, false, "greeted with 421");
                },
                vec![
                    (CheckId::SmtpConnect, "could-not-determine"),
                    (CheckId::SmtpStarttlsOffered, "skipped by smtp.connect"),
                ],
            ),
            (
                "greylisting 450 at the greeting",
                |p| {
                    p.greeting = reply(450, &["try later"]);
                    p.failure = failure(SmtpStep::Greeting, false, "greeted with 450");
                },
                vec![(CheckId::SmtpConnect, "could-not-determine")],
            ),
            (
                "EHLO answered 421",
                |p| {
                    p.ehlo = reply(421, &["closing"]);
                    p.failure = failure(SmtpStep::Ehlo, false, "EHLO was answered 421");
                },
                vec![
                    (CheckId::SmtpConnect, "pass"),
                    (CheckId::SmtpStarttlsOffered, "could-not-determine"),
                    (
                        CheckId::SmtpStarttlsAccepted,
                        "skipped by smtp.starttls-offered",
                    ),
                ],
            ),
            (
                "STARTTLS answered 421",
                |p| {
                    p.starttls_reply = reply(421, &["closing"]);
                    p.tls = None;
                    p.failure = failure(SmtpStep::Starttls, false, "STARTTLS was answered 421");
                },
                vec![
                    (CheckId::SmtpConnect, "pass"),
                    (CheckId::SmtpStarttlsOffered, "pass"),
                    (CheckId::SmtpStarttlsAccepted, "could-not-determine"),
                    (
                        CheckId::SmtpCertTrusted,
                        "skipped by smtp.starttls-accepted",
                    ),
                ],
            ),
            (
                "stopped by the domain's deadline",
                |p| {
                    p.transcript.clear();
                    p.greeting = None;
                    p.failure = failure(SmtpStep::Deadline, true, "the domain's deadline passed");
                },
                vec![
                    (CheckId::SmtpConnect, "could-not-determine"),
                    (CheckId::SmtpStarttlsOffered, "skipped by smtp.connect"),
                    (CheckId::SmtpPreTlsData, "skipped by smtp.connect"),
                ],
            ),
            (
                "EHLO timed out",
                |p| p.failure = failure(SmtpStep::Ehlo, true, "no complete reply within 10s"),
                vec![
                    (CheckId::SmtpConnect, "pass"),
                    (CheckId::SmtpStarttlsOffered, "could-not-determine"),
                    (
                        CheckId::SmtpStarttlsAccepted,
                        "skipped by smtp.starttls-offered",
                    ),
                ],
            ),
            (
                "EHLO rejected",
                |p| {
                    p.ehlo = reply(502, &["no"]);
                    p.failure = failure(SmtpStep::Ehlo, false, "EHLO was answered 502");
                },
                vec![(CheckId::SmtpStarttlsOffered, "fail")],
            ),
            (
                // EC-68: only TLS 1.0 works.
                "handshake failed but TLS 1.0 accepted",
                |p| {
                    p.tls = None;
                    p.failure = failure(SmtpStep::Tls, false, "peer is incompatible");
                    p.legacy_tls = LegacyTls::Accepted {
                        version: TlsVersion::Tls10,
                    };
                },
                vec![
                    (CheckId::SmtpStarttlsAccepted, "fail"),
                    (
                        CheckId::SmtpCertTrusted,
                        "skipped by smtp.starttls-accepted",
                    ),
                    (CheckId::SmtpTlsVersion, "fail"),
                    (CheckId::SmtpLegacyTls, "warn"),
                    (CheckId::SmtpPreTlsData, "pass"),
                ],
            ),
            (
                "EHLO inside TLS failed",
                |p| p.failure = failure(SmtpStep::EhloTls, true, "no complete reply"),
                vec![
                    (CheckId::SmtpStarttlsAccepted, "pass"),
                    (CheckId::SmtpStarttlsReadvertised, "could-not-determine"),
                ],
            ),
            (
                "QUIT not answered",
                |p| p.failure = failure(SmtpStep::Quit, true, "no complete reply"),
                smtp_checks().into_iter().map(|c| (c, "pass")).collect(),
            ),
            (
                "legacy probe not run",
                |p| {
                    p.legacy_tls = LegacyTls::NotTested {
                        reason: "the second connection failed".to_owned(),
                    }
                },
                vec![(CheckId::SmtpLegacyTls, "could-not-determine")],
            ),
            (
                "old version negotiated",
                |p| {
                    if let Some(tls) = &mut p.tls {
                        tls.version = TlsVersion::Tls11;
                    }
                },
                vec![(CheckId::SmtpTlsVersion, "fail")],
            ),
            (
                "untrusted and expired",
                |p| {
                    if let Some(tls) = &mut p.tls {
                        tls.trust = Err("UnknownIssuer".to_owned());
                        tls.chain[0].not_after = NOW - 86_400;
                    }
                },
                vec![
                    (CheckId::SmtpCertTrusted, "fail"),
                    (CheckId::SmtpCertName, "pass"),
                    (CheckId::SmtpCertExpiry, "fail"),
                    (
                        CheckId::SmtpCertExpiring,
                        "skipped by smtp.certificate-expiry",
                    ),
                ],
            ),
        ];
        for (name, edit, expected) in cases {
            let mut probe = good("mx.example.com", "192.0.2.1");
            edit(&mut probe);
            let findings = run(vec![probe]);
            assert_eq!(findings.len(), smtp_checks().len(), "{name}: {findings:#?}");
            for (check, want) in expected {
                assert_eq!(label(&findings, check), want, "{name}: {check}");
            }
        }
    }

    fn finding(findings: &[Finding], check: CheckId) -> &Finding {
        findings.iter().find(|f| f.check == check).unwrap()
    }

    #[test]
    fn rate_limiting_is_named_with_the_reply_and_the_attempts() {
        let mut probe = good("mx.example.com", "192.0.2.1");
        probe.transcript = vec![
            "-- attempt 1 refused for now (421 4.7.0 busy); trying again after 1.0s --".to_owned(),
            "-- attempt 2 refused for now (421 4.7.0 busy); trying again after 3.0s --".to_owned(),
            "S: 421 4.7.0 busy".to_owned(),
        ];
        probe.attempts = 3;
        probe.tried_for = Duration::from_millis(4_100);
        probe.greeting = reply(421, &["4.7.0 busy"]);
        probe.failure = failure(SmtpStep::Greeting, false, "greeted with 421");
        let findings = run(vec![probe]);
        let connect = finding(&findings, CheckId::SmtpConnect);
        assert_eq!(
            connect.outcome,
            Outcome::CouldNotDetermine {
                reason: "rate limited (421 4.7.0 busy), on 3 attempts over 4.1 s".to_owned()
            }
        );
        assert!(connect
            .evidence
            .iter()
            .any(|e| e.value.starts_with("-- attempt 2")));
        assert!(findings
            .iter()
            .all(|f| !matches!(f.outcome, Outcome::Fail | Outcome::Warn)));
    }

    #[test]
    fn a_slow_greeting_is_noted_as_a_tarpit() {
        for (delay_ms, noted) in [(12_300, true), (2_500, true), (1_900, false), (12, false)] {
            let mut probe = good("mx.example.com", "192.0.2.1");
            probe.greeting_delay = Duration::from_millis(delay_ms);
            let findings = run(vec![probe]);
            let connect = finding(&findings, CheckId::SmtpConnect);
            assert_eq!(connect.outcome, Outcome::Pass);
            let tarpit: Vec<&str> = connect
                .evidence
                .iter()
                .filter(|e| e.label == "tarpit")
                .map(|e| e.value.as_str())
                .collect();
            assert_eq!(!tarpit.is_empty(), noted, "{delay_ms} ms");
            if delay_ms == 12_300 {
                assert_eq!(tarpit, ["greeting after 12.3 s (tarpit?)"]);
            }
        }
    }

    #[test]
    fn no_smtp_flag_skips_every_check_once() {
        let mut obs = observations(vec![good("mx.example.com", "192.0.2.1")]);
        obs.smtp_skipped = true;
        let findings = run_with(&obs, Profile::Rfc);
        assert_eq!(findings.len(), smtp_checks().len());
        for finding in &findings {
            assert_eq!(finding.subject, Subject::Domain);
            assert_eq!(
                finding.outcome,
                Outcome::Skipped {
                    blocked_by: RunFlag::NoSmtp.into()
                }
            );
        }
    }

    /// Every check appears in every report: with no MX host to probe, once for the domain,
    /// blocked by `mx.implicit` when there is no MX record (the `mx` stage says why).
    #[test]
    fn no_mx_host_skips_every_check_for_the_domain() {
        let findings = run(Vec::new());
        assert_eq!(findings.len(), smtp_checks().len());
        for finding in findings {
            assert_eq!(finding.subject, Subject::Domain);
            assert_eq!(
                finding.outcome,
                Outcome::Skipped {
                    blocked_by: CheckId::MxImplicit.into()
                }
            );
        }
    }

    #[test]
    fn nothing_reachable_anywhere_blames_the_network() {
        let unreachable = |host: &str, ip: &str| {
            let mut probe = good(host, ip);
            probe.transcript.clear();
            probe.greeting = None;
            probe.failure = failure(SmtpStep::Connect, true, "no answer within 10s");
            probe
        };
        let findings = run(vec![
            unreachable("mx1.example.com", "192.0.2.1"),
            unreachable("mx2.example.com", "2001:db8::1"),
        ]);
        let connects: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.check == CheckId::SmtpConnect)
            .collect();
        assert_eq!(connects.len(), 2);
        for finding in connects {
            assert_eq!(
                finding.outcome,
                Outcome::CouldNotDetermine {
                    reason: NO_MX_REACHABLE.to_owned()
                }
            );
        }
        assert!(findings
            .iter()
            .all(|f| !matches!(f.outcome, Outcome::Fail | Outcome::Warn)));
    }

    #[test]
    fn legacy_tls_fails_under_sge() {
        let mut probe = good("mx.example.com", "192.0.2.1");
        probe.legacy_tls = LegacyTls::Accepted {
            version: TlsVersion::Tls11,
        };
        let obs = observations(vec![probe]);
        assert_eq!(
            label(&run_with(&obs, Profile::Rfc), CheckId::SmtpLegacyTls),
            "warn"
        );
        assert_eq!(
            label(&run_with(&obs, Profile::Sge), CheckId::SmtpLegacyTls),
            "fail"
        );
    }

    #[test]
    fn problems_carry_the_transcript() {
        let mut probe = good("mx.example.com", "192.0.2.1");
        probe.starttls_reply = reply(454, &["4.7.0 TLS not available"]);
        probe.tls = None;
        probe.legacy_tls = LegacyTls::NotTested {
            reason: "STARTTLS was not accepted".to_owned(),
        };
        probe.failure = failure(SmtpStep::Starttls, false, "STARTTLS was answered 454");
        let findings = run(vec![probe]);
        let accepted = findings
            .iter()
            .find(|f| f.check == CheckId::SmtpStarttlsAccepted)
            .unwrap();
        assert_eq!(accepted.outcome, Outcome::Fail);
        assert!(accepted.summary.contains("454 4.7.0"));
        let labels: Vec<&str> = accepted.evidence.iter().map(|e| e.label.as_str()).collect();
        assert!(labels.contains(&"transcript"), "{labels:?}");
        assert!(labels.contains(&"failure at starttls"), "{labels:?}");
        assert!(labels.contains(&TLSRPT), "{labels:?}");
        assert_eq!(
            label(&findings, CheckId::SmtpLegacyTls),
            "skipped by smtp.starttls-accepted"
        );
    }
}
