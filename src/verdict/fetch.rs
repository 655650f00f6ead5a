//! Stage 2: the policy host's addresses (RFC 8461 §3.2) and the HTTPS fetch from each of them
//! (RFC 8461 §3.3). Every address is judged on its own, because a sender reaches whichever one
//! its resolver hands it.

use std::net::IpAddr;

use super::address;
use super::cert::{self, CertChecks};
use super::{Context, Findings};
use crate::catalog::{checks_after, scoped_checks, stage_checks, CheckId, Scope, Severity, Stage};
use crate::escape::escape_bytes;
use crate::model::{Evidence, Problem, Subject};
use crate::observe::{DnsAnswer, FetchObservation, HttpResponse, NotContacted, Observations};
use crate::probe::MAX_POLICY_BYTES;

/// Past this a sender that reads with a 64 KiB cap still works, but chasquid truncates.
const CHASQUID_TRUNCATES_AT: usize = 10 * 1024;
/// postfix-mta-sts-resolver's default total timeout.
const SLOW_FETCH_MS: u128 = 4_000;
/// A CDN cache lifetime past which policy changes reach senders late (RFC 8461 §8.2).
const LONG_CACHE_SECS: u64 = 3_600;
const SECONDS_PER_DAY: i64 = 86_400;
/// How an MTA-STS record begins (compared without regard to case, to also catch a record a
/// sender would reject for its case, which is a reason to look at the policy host anyway).
const STS_PREFIX: &[u8] = b"v=STSv1";

const POLICY_CERT: CertChecks = CertChecks {
    trusted: CheckId::PolicyFetchCertTrusted,
    name: CheckId::PolicyFetchCertName,
    expiry: CheckId::PolicyFetchCertExpiry,
    expiring: CheckId::PolicyFetchCertExpiring,
};

/// The checks of one HTTP response, skipped together when there is no 200 response: those after
/// `policy-fetch.status` in the catalog.
fn response_checks() -> impl Iterator<Item = CheckId> {
    checks_after(CheckId::PolicyFetchStatus)
}

/// Judges `policy-host.*` and `policy-fetch.*`; returns the body a sender would parse (from the
/// first address that answered 200 with a body within the size cap), or the check that says
/// why there is none (`policy-fetch.size` when the only bodies were too large).
pub fn judge(obs: &Observations, ctx: &Context, out: &mut Findings) -> Result<Vec<u8>, CheckId> {
    let host = &obs.policy_host.name;
    let host_subject = Subject::host(host);
    let addresses = obs.policy_host.addresses();

    if addresses.is_empty() {
        judge_no_address(obs, host, out);
        return Err(CheckId::PolicyFetchStatus);
    }
    judge_policy_host(obs, host, &addresses, out);
    // Addresses not contacted because they are not public; one past the per-host bound is not
    // reported here.
    let public_address = CheckId::PolicyHostPublicAddress;
    let not_contacted: Vec<IpAddr> = obs
        .policy_not_contacted
        .iter()
        .filter(|skipped| skipped.reason == NotContacted::NonPublic)
        .map(|skipped| skipped.ip)
        .collect();
    for &ip in &not_contacted {
        skip_address_fetch_checks(out, &Subject::endpoint(host, ip), public_address);
    }

    if obs.fetches.is_empty() {
        if not_contacted.is_empty() && no_sts_record(obs) {
            skip_fetch_checks(out, &host_subject, CheckId::StsRecordPresent);
        } else if not_contacted.is_empty() {
            // Every address was public, yet none was fetched: the audit stopped first.
            out.undetermined(
                CheckId::PolicyFetchConnect,
                host_subject.clone(),
                "no HTTPS fetch was attempted",
                Vec::new(),
            );
            skip_fetch_checks_after_connect(out, &host_subject);
        } else {
            out.skip(CheckId::PolicyFetchConsistent, host_subject, public_address);
        }
        return Err(CheckId::PolicyFetchStatus);
    }
    for fetch in &obs.fetches {
        judge_one_fetch(host, fetch, ctx, out);
    }
    judge_consistency(host, &obs.fetches, out);

    let answered = || {
        obs.fetches.iter().filter_map(|fetch| match &fetch.result {
            Ok(response) if response.status == 200 => Some(response),
            _ => None,
        })
    };
    match answered().find(|response| !response.truncated) {
        Some(response) => Ok(response.body.clone()),
        None if answered().next().is_some() => Err(CheckId::PolicyFetchSize),
        None => Err(CheckId::PolicyFetchStatus),
    }
}

/// The policy host has no address: `policy-host.resolves` says why (or the domain has no
/// MTA-STS at all), and every check after it is skipped.
fn judge_no_address(obs: &Observations, host: &str, out: &mut Findings) {
    let host_subject = Subject::host(host);
    let evidence = vec![
        Evidence::new(format!("A {host}"), obs.policy_host.a.describe_absence()),
        Evidence::new(
            format!("AAAA {host}"),
            obs.policy_host.aaaa.describe_absence(),
        ),
    ];
    match obs.policy_host.failure() {
        Some(reason) => out.undetermined(
            CheckId::PolicyHostResolves,
            host_subject.clone(),
            format!("the address lookup of {host} failed ({reason})"),
            evidence,
        ),
        // Senders look for the policy only once they have seen the record (RFC 8461
        // §3.3, §5): a domain without either has no MTA-STS, which sts-record.present says.
        None if no_sts_record(obs) => {
            let blocked_by = CheckId::StsRecordPresent;
            out.skip_all(stage_checks(Stage::PolicyHost), &host_subject, blocked_by);
            skip_fetch_checks(out, &host_subject, blocked_by);
            return;
        }
        None => {
            let mut problem = Problem::new(
                CheckId::PolicyHostResolves,
                format!("{host} has no address, so no sender can fetch the policy (sts-policy-fetch-error)"),
            );
            problem.evidence = evidence;
            out.problem(problem, host_subject.clone());
        }
    }
    out.skip_all(
        checks_after(CheckId::PolicyHostResolves),
        &host_subject,
        CheckId::PolicyHostResolves,
    );
    skip_fetch_checks(out, &host_subject, CheckId::PolicyHostResolves);
}

/// `policy-host.*` for a host with addresses: they resolve, one is IPv4, all are public.
fn judge_policy_host(obs: &Observations, host: &str, addresses: &[IpAddr], out: &mut Findings) {
    let host_subject = Subject::host(host);
    let mut address_evidence: Vec<Evidence> = addresses
        .iter()
        .map(|ip| Evidence::new("address", ip.to_string()))
        .collect();
    let chain = obs.policy_host.cname_chain();
    if !chain.is_empty() {
        address_evidence.push(Evidence::new(
            "CNAME chain",
            super::one_record::show_chain(chain),
        ));
    }
    out.pass_with(
        CheckId::PolicyHostResolves,
        host_subject.clone(),
        format!(
            "{host} has {}",
            super::bounds::address_count(&obs.policy_host)
        ),
        address_evidence,
    );
    judge_bounds(obs, host, out);
    if addresses.iter().any(|ip| ip.is_ipv4()) {
        out.pass_with(
            CheckId::PolicyHostIpv4,
            host_subject,
            format!("{host} has an IPv4 address"),
            Vec::new(),
        );
    } else {
        out.problem(
            Problem::new(
                CheckId::PolicyHostIpv4,
                format!(
                    "{host} has only IPv6 addresses; IPv4-only senders cannot fetch the policy"
                ),
            ),
            host_subject,
        );
    }

    address::judge(
        CheckId::PolicyHostPublicAddress,
        host,
        addresses,
        obs.private_allowed,
        out,
    );
}

/// `policy-host.bounds`: the policy host's addresses past the records kept of an answer, and
/// past the addresses fetched from.
fn judge_bounds(obs: &Observations, host: &str, out: &mut Findings) {
    use super::bounds::{self, Kept};
    let lookup = &obs.policy_host;
    let mut evidence = Vec::new();
    for (family, answer) in [("A", &lookup.a), ("AAAA", &lookup.aaaa)] {
        evidence.extend(bounds::answer_cut(
            &format!("{family} records of {host}"),
            answer,
            Kept::Lowest,
        ));
    }
    evidence.extend(bounds::over_address_bound(
        lookup,
        &obs.policy_not_contacted,
        obs.fetches.len(),
        "fetched from",
    ));
    bounds::judge(
        CheckId::PolicyHostBounds,
        Subject::host(host),
        "some of its addresses",
        evidence,
        out,
    );
}

/// The `_mta-sts` lookup worked and found no record that even looks like an MTA-STS record.
fn no_sts_record(obs: &Observations) -> bool {
    match &obs.sts_txt {
        DnsAnswer::NoData | DnsAnswer::NxDomain => true,
        DnsAnswer::Records { data, .. } => !data.iter().any(|record| {
            record
                .joined()
                .get(..STS_PREFIX.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(STS_PREFIX))
        }),
        DnsAnswer::Failed { .. } => false,
    }
}

fn skip_fetch_checks(out: &mut Findings, subject: &Subject, blocked_by: CheckId) {
    out.skip_all(stage_checks(Stage::PolicyFetch), subject, blocked_by);
}

fn skip_fetch_checks_after_connect(out: &mut Findings, subject: &Subject) {
    let rest = stage_checks(Stage::PolicyFetch).filter(|&id| id != CheckId::PolicyFetchConnect);
    out.skip_all(rest, subject, CheckId::PolicyFetchConnect);
}

/// The checks made of each address's fetch.
fn skip_address_fetch_checks(out: &mut Findings, subject: &Subject, blocked_by: CheckId) {
    out.skip_all(
        scoped_checks(Stage::PolicyFetch, Scope::Endpoint),
        subject,
        blocked_by,
    );
}

fn judge_one_fetch(host: &str, fetch: &FetchObservation, ctx: &Context, out: &mut Findings) {
    let subject = Subject::endpoint(host, fetch.ip);

    // A TLS session means the connection and handshake worked, whatever happened afterwards.
    let connected = fetch.tls.is_some() || fetch.result.is_ok();
    match (&fetch.result, connected) {
        (Err(failure), false) => {
            let how = if failure.timed_out {
                "timed out"
            } else {
                "failed"
            };
            out.problem(
                Problem::new(
                    CheckId::PolicyFetchConnect,
                    format!(
                        "HTTPS to {} {how} at the {} step (sts-policy-fetch-error)",
                        fetch.ip, failure.step
                    ),
                )
                .with(format!("{} error", failure.step), failure.detail.clone()),
                subject.clone(),
            );
        }
        _ => out.pass_with(
            CheckId::PolicyFetchConnect,
            subject.clone(),
            format!("HTTPS connection to {} established", fetch.ip),
            Vec::new(),
        ),
    }

    match &fetch.tls {
        Some(tls) => cert::judge(tls, POLICY_CERT, &subject, ctx, out),
        None => out.skip_all(POLICY_CERT.all(), &subject, CheckId::PolicyFetchConnect),
    }

    let response = match &fetch.result {
        Ok(response) => response,
        Err(failure) => {
            if connected {
                // What the server did, in the summary: "failed" alone names no cause (an
                // HTTP/2-only server, a head too large; issue 12).
                let (how, what) = if failure.timed_out {
                    ("timed out", String::new())
                } else if failure.detail.is_empty() {
                    ("failed", String::new())
                } else {
                    ("failed", format!(": {}", failure.detail))
                };
                out.problem(
                    Problem::new(
                        CheckId::PolicyFetchStatus,
                        format!(
                            "no HTTP response: the request {how} at the {} step{what}",
                            failure.step
                        ),
                    )
                    .with(format!("{} error", failure.step), failure.detail.clone()),
                    subject.clone(),
                );
            } else {
                out.skip(
                    CheckId::PolicyFetchStatus,
                    subject.clone(),
                    CheckId::PolicyFetchConnect,
                );
            }
            out.skip_all(response_checks(), &subject, CheckId::PolicyFetchStatus);
            return;
        }
    };

    if response.status == 200 {
        out.pass_with(
            CheckId::PolicyFetchStatus,
            subject.clone(),
            "the policy URL answers 200",
            vec![Evidence::new("status", response.status_line.clone())],
        );
    } else {
        out.problem(status_problem(response), subject.clone());
        out.skip_all(response_checks(), &subject, CheckId::PolicyFetchStatus);
        return;
    }

    judge_content_type(response, &subject, out);
    judge_size(response, &subject, out);

    let elapsed_ms = fetch.elapsed.as_millis();
    let timing = vec![Evidence::new("elapsed", format!("{elapsed_ms} ms"))];
    if elapsed_ms > SLOW_FETCH_MS {
        let mut problem = Problem::new(
            CheckId::PolicyFetchTime,
            format!("the fetch took {elapsed_ms} ms; postfix-mta-sts-resolver gives up after 4 s"),
        );
        problem.evidence = timing;
        out.problem(problem, subject.clone());
    } else {
        out.pass_with(
            CheckId::PolicyFetchTime,
            subject.clone(),
            format!("fetched in {elapsed_ms} ms"),
            timing,
        );
    }

    judge_cache_control(response, &subject, out);
}

fn status_problem(response: &HttpResponse) -> Problem {
    let mut problem = if (300..400).contains(&response.status) {
        let location = response
            .header("location")
            .unwrap_or("(no Location header)");
        Problem::new(
            CheckId::PolicyFetchStatus,
            format!("the policy URL redirects (to {location}); senders never follow redirects (RFC 8461 §3.3)"),
        )
    } else {
        Problem::new(
            CheckId::PolicyFetchStatus,
            format!(
                "the policy URL answers {} instead of 200 (sts-policy-fetch-error)",
                response.status
            ),
        )
    };
    problem
        .evidence
        .push(Evidence::new("status", response.status_line.clone()));
    for (name, value) in &response.headers {
        problem
            .evidence
            .push(Evidence::new(format!("header {name}"), value.clone()));
    }
    problem
}

/// RFC 8461 §3.2: the media type SHOULD be `text/plain`; `charset=utf-8` or `us-ascii` are the
/// parameters it names, all others are ignored.
fn judge_content_type(response: &HttpResponse, subject: &Subject, out: &mut Findings) {
    let Some(value) = response.header("content-type") else {
        out.problem(
            Problem::new(
                CheckId::PolicyFetchContentType,
                "no Content-Type header; go-mtasts, chasquid and postfix-mta-sts-resolver reject the policy",
            ),
            subject.clone(),
        );
        out.skip(
            CheckId::PolicyFetchCharset,
            subject.clone(),
            CheckId::PolicyFetchContentType,
        );
        return;
    };
    let mut parts = value.split(';');
    let media_type = parts.next().unwrap_or_default().trim();
    let evidence = vec![Evidence::new("header content-type", value)];
    if media_type.eq_ignore_ascii_case("text/plain") {
        out.pass_with(
            CheckId::PolicyFetchContentType,
            subject.clone(),
            "served as text/plain",
            evidence.clone(),
        );
    } else {
        let mut problem = Problem::new(
            CheckId::PolicyFetchContentType,
            format!("served as `{media_type}`, not text/plain; go-mtasts, chasquid and postfix-mta-sts-resolver reject it"),
        );
        problem.evidence = evidence.clone();
        out.problem(problem, subject.clone());
    }

    let charset = parts.find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_owned())
    });
    match charset {
        Some(charset)
            if !charset.eq_ignore_ascii_case("utf-8")
                && !charset.eq_ignore_ascii_case("us-ascii") =>
        {
            let mut problem = Problem::new(
                CheckId::PolicyFetchCharset,
                format!("charset `{charset}` is neither utf-8 nor us-ascii"),
            );
            problem.evidence = evidence;
            out.problem(problem, subject.clone());
        }
        _ => out.pass(CheckId::PolicyFetchCharset, subject.clone()),
    }
}

fn judge_size(response: &HttpResponse, subject: &Subject, out: &mut Findings) {
    let read = if response.truncated {
        BodyRead::Cut
    } else {
        BodyRead::Whole
    };
    judge_body_size(&response.body, read, subject, out);
}

/// How much of a policy body was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyRead {
    /// All of it.
    Whole,
    /// The read stopped one byte past the cap: the body is larger than that.
    Cut,
}

/// `policy-fetch.size` and `policy-fetch.size-large` for `body`, as a sender with a
/// [`MAX_POLICY_BYTES`] cap reads it (the fetch stage for a response, `mtasts lint` for a file);
/// `false` when the body is too large to be a policy.
pub fn judge_body_size(body: &[u8], read: BodyRead, subject: &Subject, out: &mut Findings) -> bool {
    let size = body.len();
    let too_large = match read {
        BodyRead::Cut => Some(format!(
            "the body is larger than the {} bytes a policy may have ({size} bytes read before \
             stopping); senders do not accept it",
            size.saturating_sub(1)
        )),
        BodyRead::Whole if size > MAX_POLICY_BYTES => Some(format!(
            "the policy is {size} bytes, larger than the {MAX_POLICY_BYTES} bytes senders read \
             (RFC 8461 §3.3); senders do not accept it"
        )),
        BodyRead::Whole => None,
    };
    if let Some(summary) = too_large {
        out.problem(
            Problem::new(CheckId::PolicyFetchSize, summary)
                .with("body starts", escape_bytes(&body[..size.min(200)])),
            subject.clone(),
        );
        out.skip(
            CheckId::PolicyFetchSizeLarge,
            subject.clone(),
            CheckId::PolicyFetchSize,
        );
        return false;
    }
    out.pass_with(
        CheckId::PolicyFetchSize,
        subject.clone(),
        format!("{size} bytes"),
        Vec::new(),
    );
    if size > CHASQUID_TRUNCATES_AT {
        out.problem(
            Problem::new(
                CheckId::PolicyFetchSizeLarge,
                format!("the policy is {size} bytes; chasquid reads only the first 10 KiB"),
            ),
            subject.clone(),
        );
    } else {
        out.pass(CheckId::PolicyFetchSizeLarge, subject.clone());
    }
    true
}

fn judge_cache_control(response: &HttpResponse, subject: &Subject, out: &mut Findings) {
    let lifetime = response.header("cache-control").and_then(|value| {
        value
            .split(',')
            .filter_map(|directive| directive.trim().split_once('='))
            .filter(|(name, _)| {
                let name = name.trim();
                name.eq_ignore_ascii_case("max-age") || name.eq_ignore_ascii_case("s-maxage")
            })
            .filter_map(|(_, seconds)| seconds.trim().trim_matches('"').parse::<u64>().ok())
            .max()
    });
    match lifetime {
        Some(seconds) if seconds > LONG_CACHE_SECS => {
            let days = seconds as f64 / SECONDS_PER_DAY as f64;
            out.problem(
                Problem::new(
                    CheckId::PolicyFetchCacheControl,
                    format!("caches may keep the policy for {seconds} s ({days:.1} days), delaying updates"),
                )
                .with("header cache-control", response.header("cache-control").unwrap_or_default()),
                subject.clone(),
            );
        }
        _ => out.pass(CheckId::PolicyFetchCacheControl, subject.clone()),
    }
}

/// NCSC §3 allows several copies of the policy host; they must all serve the same policy, since
/// a sender reaches whichever address it is given (mailauth only ever tries the first A).
fn judge_consistency(host: &str, fetches: &[FetchObservation], out: &mut Findings) {
    let subject = Subject::host(host);
    let outcome = |fetch: &FetchObservation| -> String {
        match &fetch.result {
            Ok(response) if response.status == 200 => {
                format!(
                    "200, {} bytes, fingerprint {:016x}",
                    response.body.len(),
                    fingerprint(&response.body)
                )
            }
            Ok(response) => response.status_line.clone(),
            Err(failure) => format!("no response ({} step: {})", failure.step, failure.detail),
        }
    };
    let outcomes: Vec<String> = fetches.iter().map(outcome).collect();
    let evidence: Vec<Evidence> = fetches
        .iter()
        .zip(&outcomes)
        .map(|(fetch, outcome)| Evidence::new(fetch.ip.to_string(), outcome.clone()))
        .collect();
    if outcomes.windows(2).all(|pair| pair[0] == pair[1]) {
        out.pass_with(
            CheckId::PolicyFetchConsistent,
            subject,
            format!("all {} address(es) answer alike", fetches.len()),
            evidence,
        );
        return;
    }
    let any_ok = fetches
        .iter()
        .any(|fetch| matches!(&fetch.result, Ok(response) if response.status == 200));
    let summary = if any_ok {
        "the addresses of the policy host do not all serve the same policy: senders see different policies, or none"
    } else {
        "the addresses of the policy host fail in different ways"
    };
    let mut problem = Problem::new(CheckId::PolicyFetchConsistent, summary);
    problem.evidence = evidence;
    if !any_ok {
        // Every address already fails on its own; the disagreement adds nothing to fix.
        problem = problem.capped(Severity::Info);
    }
    out.problem(problem, subject);
}

/// FNV-1a: a short, stable fingerprint to tell bodies apart in evidence.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Profile;
    use crate::observe::TxtRecord;

    fn host_outcome(sts_txt: DnsAnswer<Vec<TxtRecord>>) -> &'static str {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.sts_txt = sts_txt;
        let ctx = Context::new(Profile::Rfc, 0);
        let mut out = Findings::new(Profile::Rfc);
        assert_eq!(judge(&obs, &ctx, &mut out), Err(CheckId::PolicyFetchStatus));
        let findings = out.finish();
        let resolves: Vec<_> = findings
            .iter()
            .filter(|finding| finding.check == CheckId::PolicyHostResolves)
            .collect();
        assert_eq!(resolves.len(), 1);
        resolves[0].outcome.label()
    }

    #[test]
    fn a_missing_policy_host_fails_only_when_a_record_points_to_it() {
        // (the _mta-sts answer, the outcome of policy-host.resolves without an address)
        let cases = [
            (DnsAnswer::NxDomain, "skipped"),
            (DnsAnswer::NoData, "skipped"),
            (
                DnsAnswer::records(vec![TxtRecord::single("v=spf1 -all")]),
                "skipped",
            ),
            (
                DnsAnswer::records(vec![TxtRecord::single("v=STSv1; id=1")]),
                "fail",
            ),
            (
                DnsAnswer::records(vec![TxtRecord::single("V=STSV1; id=1")]),
                "fail",
            ),
            (
                DnsAnswer::Failed {
                    reason: "SERVFAIL".to_owned(),
                },
                "fail",
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(host_outcome(answer.clone()), expected, "{answer:?}");
        }
    }
}
