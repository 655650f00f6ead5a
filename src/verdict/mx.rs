//! Stage 4: the MX hosts (RFC 5321 §5.1, RFC 7505) and each of them against the policy's `mx`
//! patterns (RFC 8461 §4.1, one-label wildcards).

use std::net::IpAddr;

use super::bounds::{self, Kept};
use super::{address, Findings};
use crate::catalog::{
    scoped_checks, stage_checks, CheckFlag, CheckId, Profile, Scope, Severity, Stage,
};
use crate::model::{Evidence, Problem, Subject};
use crate::name::HostName;
use crate::observe::{DnsAnswer, MxHostObservation, MxRecord, Observations};
use crate::parse::mx_pattern::MxPattern;
use crate::parse::policy::{Mode, Policy};

/// The checks that match the MX hosts against the policy.
fn coverage_checks() -> impl Iterator<Item = CheckId> {
    stage_checks(Stage::Mx).filter(|check| check.spec().has(CheckFlag::NeedsPolicy))
}

/// The checks of one MX host's own DNS data, in catalog order.
fn target_checks() -> impl Iterator<Item = CheckId> {
    scoped_checks(Stage::Mx, Scope::Host).filter(|check| !check.spec().has(CheckFlag::NeedsPolicy))
}

/// No MX host to judge: the per-host checks are reported once, for the domain, as blocked.
fn skip_target_checks(out: &mut Findings, blocked_by: CheckId) {
    out.skip_all(target_checks(), &Subject::Domain, blocked_by);
}

/// Judges `mx.*`; returns the MX host names senders would try, in preference order.
///
/// `policy` is the policy a sender would apply, or the check that kept it from being one.
pub fn judge(
    obs: &Observations,
    policy: Result<&Policy, CheckId>,
    out: &mut Findings,
) -> Vec<String> {
    let domain = Subject::Domain;
    let records = match &obs.mx {
        DnsAnswer::Records { data, cut, .. } => {
            let listing = data.iter().map(describe_mx).collect::<Vec<_>>().join(", ");
            // The true count, even past the records kept (issue 12: it said 100 for 200).
            let summary = match cut {
                Some(cut) if cut.records > data.len() => format!(
                    "{} MX records (the {} most preferred kept; see mx.bounds)",
                    cut.records,
                    data.len()
                ),
                _ => format!("{} MX record(s)", data.len()),
            };
            out.pass_with(
                CheckId::MxLookup,
                domain.clone(),
                summary,
                vec![Evidence::new(format!("MX {}", obs.domain), listing)],
            );
            data.as_slice()
        }
        DnsAnswer::NoData => {
            out.pass_with(
                CheckId::MxLookup,
                domain.clone(),
                "the domain exists but has no MX records",
                Vec::new(),
            );
            &[]
        }
        DnsAnswer::NxDomain => {
            out.problem(
                Problem::new(
                    CheckId::MxLookup,
                    format!("{} does not exist (NXDOMAIN)", obs.domain),
                ),
                domain.clone(),
            );
            skip_after_lookup(out, &domain);
            return Vec::new();
        }
        DnsAnswer::Failed { reason } => {
            out.undetermined(
                CheckId::MxLookup,
                domain.clone(),
                format!("the MX lookup failed: {reason}"),
                Vec::new(),
            );
            skip_after_lookup(out, &domain);
            return Vec::new();
        }
    };

    if judge_null_mx(records, out) {
        out.pass(CheckId::MxImplicit, domain.clone());
        out.skip(CheckId::MxBounds, domain.clone(), CheckId::MxNull);
        skip_target_checks(out, CheckId::MxNull);
        out.skip_all(coverage_checks(), &domain, CheckId::MxNull);
        return Vec::new();
    }

    if matches!(obs.mx, DnsAnswer::NoData) {
        let mut problem = Problem::new(
            CheckId::MxImplicit,
            format!(
                "no MX records: senders deliver to {} itself (implicit MX), so the policy and its certificate must name it",
                obs.domain
            ),
        );
        if let Some(lookup) = &obs.domain_addrs {
            let addrs = lookup.addresses();
            let listed = if addrs.is_empty() {
                "none (the domain cannot receive mail)".to_owned()
            } else {
                addrs
                    .iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            problem.evidence.push(Evidence::new(
                format!("addresses of {}", obs.domain),
                listed,
            ));
        }
        out.problem(problem, domain.clone());
    } else {
        out.pass(CheckId::MxImplicit, domain.clone());
    }

    for host in &obs.mx_hosts {
        judge_host(host, obs.private_allowed, out);
    }
    if obs.mx_hosts.is_empty() {
        // No MX records and no address of the domain itself: `mx.implicit` says so.
        skip_target_checks(out, CheckId::MxImplicit);
    }
    judge_bounds(obs, out);
    judge_coverage(obs, policy, out);
    obs.mx_hosts.iter().map(|host| host.name.clone()).collect()
}

/// `mx.bounds`: what the audit's bounds left out, so that no report is read as covering more
/// than it judged (issue 12): MX records past the records kept per answer (the most preferred
/// are kept), MX hosts past the per-domain bound (the most preferred are judged), each host's
/// addresses past the records kept and past the per-host bound, TLSA records past those kept.
fn judge_bounds(obs: &Observations, out: &mut Findings) {
    let mut evidence = Vec::new();
    if let DnsAnswer::Records { data, .. } = &obs.mx {
        let label = format!("MX records of {}", obs.domain);
        evidence.extend(bounds::answer_cut(&label, &obs.mx, Kept::MostPreferred));
        let mut hosts: Vec<&str> = data
            .iter()
            .map(|mx| mx.exchange.as_str())
            .filter(|exchange| !exchange.is_empty())
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        if obs.mx_hosts.len() < hosts.len() {
            let judged: Vec<String> = obs
                .mx_hosts
                .iter()
                .map(|host| format!("{} ({})", host.name, host.preference))
                .collect();
            let kept = if obs.mx.cut().is_some() { " kept" } else { "" };
            evidence.push(Evidence::new(
                "MX hosts judged",
                format!(
                    "{} of the {}{kept}, the most preferred: {}",
                    obs.mx_hosts.len(),
                    hosts.len(),
                    judged.join(", ")
                ),
            ));
        }
    }
    for host in &obs.mx_hosts {
        let families = [("A", &host.addrs.a), ("AAAA", &host.addrs.aaaa)];
        for (family, answer) in families {
            let label = format!("{family} records of {}", host.name);
            evidence.extend(bounds::answer_cut(&label, answer, Kept::Lowest));
        }
        let label = format!("TLSA records of {}", host.name);
        evidence.extend(bounds::answer_cut(&label, &host.tlsa, Kept::First));
        evidence.extend(bounds::over_address_bound(
            &host.addrs,
            &host.not_contacted,
            host.smtp.len(),
            "probed",
        ));
    }
    bounds::judge(
        CheckId::MxBounds,
        Subject::Domain,
        "some MX records, hosts or addresses",
        evidence,
        out,
    );
}

fn describe_mx(mx: &MxRecord) -> String {
    let exchange = if mx.exchange.is_empty() {
        "."
    } else {
        mx.exchange.as_str()
    };
    format!("{} {exchange}", mx.preference)
}

fn skip_after_lookup(out: &mut Findings, domain: &Subject) {
    let rest = scoped_checks(Stage::Mx, Scope::Domain)
        .filter(|&check| check != CheckId::MxLookup && !check.spec().has(CheckFlag::NeedsPolicy));
    out.skip_all(rest, domain, CheckId::MxLookup);
    skip_target_checks(out, CheckId::MxLookup);
    out.skip_all(coverage_checks(), domain, CheckId::MxLookup);
}

/// RFC 7505 §3: a null MX (`.`) says the domain accepts no mail and must be the only MX.
/// Returns true when the domain accepts no mail, so MTA-STS does not apply.
fn judge_null_mx(records: &[MxRecord], out: &mut Findings) -> bool {
    let nulls: Vec<&MxRecord> = records.iter().filter(|mx| mx.exchange.is_empty()).collect();
    if nulls.is_empty() {
        out.pass(CheckId::MxNull, Subject::Domain);
        out.pass(CheckId::MxNullMixed, Subject::Domain);
        return false;
    }
    let listing = records
        .iter()
        .map(describe_mx)
        .collect::<Vec<_>>()
        .join(", ");
    if nulls.len() == records.len() {
        let mut problem = Problem::new(
            CheckId::MxNull,
            "the domain publishes a null MX: it accepts no mail, so MTA-STS does not apply",
        )
        .with("MX", listing);
        if nulls.iter().any(|mx| mx.preference != 0) {
            problem = problem.with(
                "note",
                "RFC 7505 defines the null MX as preference 0 (`MX 0 .`)",
            );
        }
        out.problem(problem, Subject::Domain);
        out.pass(CheckId::MxNullMixed, Subject::Domain);
        return true;
    }
    out.problem(
        Problem::new(
            CheckId::MxNull,
            "a null MX is published next to other MX records",
        )
        .with("MX", listing.clone()),
        Subject::Domain,
    );
    out.problem(
        Problem::new(
            CheckId::MxNullMixed,
            "a null MX must be the only MX record (RFC 7505 §3)",
        )
        .with("MX", listing),
        Subject::Domain,
    );
    false
}

fn judge_host(host: &MxHostObservation, private_allowed: bool, out: &mut Findings) {
    let subject = Subject::host(&host.name);
    // An IP literal, or a name no host can have: the pipeline did not resolve or probe it.
    if let Err(reason) = HostName::parse_mx_target(&host.name) {
        out.problem(
            Problem::new(CheckId::MxTargetAddress, reason),
            subject.clone(),
        );
        let rest = target_checks().filter(|&check| check != CheckId::MxTargetAddress);
        out.skip_all(rest, &subject, CheckId::MxTargetAddress);
        return;
    }

    let addresses = host.addrs.addresses();
    if addresses.is_empty() {
        let evidence = vec![
            Evidence::new(format!("A {}", host.name), host.addrs.a.describe_absence()),
            Evidence::new(
                format!("AAAA {}", host.name),
                host.addrs.aaaa.describe_absence(),
            ),
        ];
        match host.addrs.failure() {
            Some(reason) => out.undetermined(
                CheckId::MxTargetAddress,
                subject.clone(),
                format!("the address lookup failed ({reason})"),
                evidence,
            ),
            None => {
                let mut problem = Problem::new(
                    CheckId::MxTargetAddress,
                    format!("{} has no A or AAAA record", host.name),
                );
                problem.evidence = evidence;
                out.problem(problem, subject.clone());
            }
        }
        out.skip_all(
            [CheckId::MxTargetCname, CheckId::MxPublicAddress],
            &subject,
            CheckId::MxTargetAddress,
        );
    } else {
        let listed = addresses
            .iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        out.pass_with(
            CheckId::MxTargetAddress,
            subject.clone(),
            format!("{} address(es)", addresses.len()),
            vec![Evidence::new("addresses", listed)],
        );
        // The addresses not contacted are skipped by the smtp stage.
        address::judge(
            CheckId::MxPublicAddress,
            &host.name,
            &addresses,
            private_allowed,
            out,
        );
        let chain = host.addrs.cname_chain();
        if chain.is_empty() {
            out.pass(CheckId::MxTargetCname, subject.clone());
        } else {
            out.problem(
                Problem::new(
                    CheckId::MxTargetCname,
                    "the MX target is a CNAME; the policy and certificate must still name the MX target itself",
                )
                .with("CNAME chain", super::one_record::show_chain(chain)),
                subject.clone(),
            );
        }
    }

    match &host.tlsa {
        DnsAnswer::Records { data, .. } => {
            let mut problem = Problem::new(
                CheckId::MxTlsa,
                "DANE TLSA records are published; DANE-capable senders use them instead of MTA-STS",
            );
            for record in data {
                problem = problem.with(format!("TLSA _25._tcp.{}", host.name), record.clone());
            }
            out.problem(problem, subject);
        }
        DnsAnswer::NoData | DnsAnswer::NxDomain => out.pass(CheckId::MxTlsa, subject),
        DnsAnswer::Failed { reason } => out.undetermined(
            CheckId::MxTlsa,
            subject,
            format!("the TLSA lookup failed ({reason})"),
            Vec::new(),
        ),
    }
}

fn judge_coverage(obs: &Observations, policy: Result<&Policy, CheckId>, out: &mut Findings) {
    let domain = Subject::Domain;
    let policy = match policy {
        Ok(policy) => policy,
        Err(policy_blocker) => {
            out.skip_all(coverage_checks(), &domain, policy_blocker);
            return;
        }
    };
    if obs.mx_hosts.is_empty() {
        out.skip_all(coverage_checks(), &domain, CheckId::MxLookup);
        return;
    }
    let mode = policy.mode.unwrap_or(Mode::None);
    if mode == Mode::None {
        // Senders do not apply a `none` policy, so nothing can fail to match.
        out.skip_all(coverage_checks(), &domain, CheckId::PolicyModeNone);
        return;
    }
    // Under testing nothing is blocked yet; SGE still requires every MX to be listed.
    let cap = (mode == Mode::Testing && out.profile() != Profile::Sge).then_some(Severity::Warn);
    let patterns: Vec<String> = policy.mx.iter().map(ToString::to_string).collect();
    let pattern_list = patterns.join(", ");

    let mut covered = 0;
    for host in &obs.mx_hosts {
        let subject = Subject::host(&host.name);
        match policy.mx.iter().find(|pattern| pattern.matches(&host.name)) {
            Some(pattern) => {
                covered += 1;
                out.pass_with(
                    CheckId::MxCovered,
                    subject,
                    format!("matched by `mx: {pattern}`"),
                    Vec::new(),
                );
            }
            None => {
                let consequence = match mode {
                    Mode::Enforce => "enforcing senders will not deliver to it; as a backup its failure stays hidden until the primary fails (RFC 8461 §8.4)",
                    _ => "it would be refused once the policy is enforced",
                };
                let mut problem = Problem::new(
                    CheckId::MxCovered,
                    format!("{} is not listed in the policy: {consequence}", host.name),
                )
                .with("policy mx", pattern_list.clone());
                if let Some(hint) = one_label_hint(&policy.mx, &host.name) {
                    problem = problem.with("hint", hint);
                }
                if let Some(cap) = cap {
                    problem = problem.capped(cap);
                }
                out.problem(problem, subject);
            }
        }
    }

    if covered == 0 {
        let consequence = match mode {
            Mode::Enforce => "mail to this domain stops at every enforcing sender",
            _ => "enforcing this policy would stop all mail to the domain",
        };
        let mut problem = Problem::new(
            CheckId::MxAnyCovered,
            format!("no MX host matches the policy: {consequence}"),
        )
        .with(
            "MX hosts",
            obs.mx_hosts
                .iter()
                .map(|host| host.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
        .with("policy mx", pattern_list);
        if let Some(cap) = cap {
            problem = problem.capped(cap);
        }
        out.problem(problem, domain.clone());
    } else {
        out.pass_with(
            CheckId::MxAnyCovered,
            domain.clone(),
            format!(
                "{covered} of {} MX host(s) match the policy",
                obs.mx_hosts.len()
            ),
            Vec::new(),
        );
    }

    let stale: Vec<&MxPattern> = policy
        .mx
        .iter()
        .filter(|pattern| !obs.mx_hosts.iter().any(|host| pattern.matches(&host.name)))
        .collect();
    if stale.is_empty() {
        out.pass(CheckId::MxStalePattern, domain);
    } else {
        let mut problem = Problem::new(
            CheckId::MxStalePattern,
            format!("{} `mx` pattern(s) match no current MX host", stale.len()),
        );
        for pattern in stale {
            problem = problem.with("unused pattern", format!("mx: {pattern}"));
        }
        out.problem(problem, domain);
    }
}

/// EC-03: `*.outlook.com` does not cover `x.mail.protection.outlook.com`; name the pattern that
/// would.
fn one_label_hint(patterns: &[MxPattern], host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    patterns.iter().filter(|pattern| pattern.wildcard).find_map(|pattern| {
        let prefix = host.strip_suffix(&format!(".{}", pattern.domain))?;
        let (_, deeper) = prefix.split_once('.')?;
        Some(format!(
            "`*.{}` covers exactly one label; `*.{deeper}.{}` or the exact name `{host}` would match",
            pattern.domain, pattern.domain
        ))
    })
}
