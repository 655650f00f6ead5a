//! Certificate checks shared by the policy host and the MX hosts: trust (RFC 8461 §3.3, §4.2,
//! CRT-01), name (RFC 8461 §4.2, RFC 9525 §6.3, CRT-03..05), validity (CRT-02) and the
//! operational 14-day renewal margin (CRT-08).
//!
//! The TLS layer already judged trust and name as data (at a time inside the leaf's validity,
//! so that an expired certificate is reported once, here, and not also as untrusted).

use super::{Context, Findings};
use crate::catalog::CheckId;
use crate::model::{Evidence, Problem, Subject};
use crate::observe::{CertSummary, TlsObservation};

/// By default, a certificate with fewer days left than this is reported as expiring (CRT-08);
/// `--expiry-warn` changes it ([`Context::expiry_warn_days`]).
pub const EXPIRING_DAYS: u32 = 14;

const DAY: i64 = 86_400;

/// The check IDs one kind of TLS peer reports its certificate under.
#[derive(Clone, Copy, Debug)]
pub struct CertChecks {
    pub trusted: CheckId,
    pub name: CheckId,
    pub expiry: CheckId,
    pub expiring: CheckId,
}

impl CertChecks {
    pub fn all(self) -> [CheckId; 4] {
        [self.trusted, self.name, self.expiry, self.expiring]
    }
}

/// Judges the four certificate checks for one TLS session.
pub fn judge(
    tls: &TlsObservation,
    checks: CertChecks,
    subject: &Subject,
    ctx: &Context,
    out: &mut Findings,
) {
    judge_named(tls, &tls.name_match, checks, subject, ctx, out);
}

/// [`judge`], with the name verdict given: for a session shared by several names at one address
/// ([`crate::observe::SharedFrom`]), it is judged for each name from the chain's DNS names.
pub fn judge_named(
    tls: &TlsObservation,
    name_match: &Result<(), String>,
    checks: CertChecks,
    subject: &Subject,
    ctx: &Context,
    out: &mut Findings,
) {
    let leaf = tls.chain.first();
    let details = leaf.map(leaf_evidence).unwrap_or_else(|| {
        vec![Evidence::new(
            "certificate",
            "the server sent no certificate that could be read",
        )]
    });
    let issuer = leaf.map_or_else(
        || "an unknown issuer".to_owned(),
        |leaf| leaf.issuer.clone(),
    );

    judge_trust(tls, &issuer, &details, checks, subject, out);
    judge_name(leaf, name_match, &details, checks, subject, out);
    let Some(leaf) = leaf else {
        for check in [checks.expiry, checks.expiring] {
            out.undetermined(
                check,
                subject.clone(),
                "no certificate could be read, so its validity is unknown",
                details.clone(),
            );
        }
        return;
    };
    judge_validity(leaf, issuer, details, checks, subject, ctx, out);
}

/// `*.certificate-trusted`: the chain builds to a trusted root.
fn judge_trust(
    tls: &TlsObservation,
    issuer: &str,
    details: &[Evidence],
    checks: CertChecks,
    subject: &Subject,
    out: &mut Findings,
) {
    // A bound of the probe, stated where the chain is judged (issue 12).
    let summarised = (tls.chain_presented > tls.chain.len()).then(|| {
        Evidence::new(
            "chain",
            format!(
                "{} certificates presented; the first {} are summarised in this report",
                tls.chain_presented,
                tls.chain.len()
            ),
        )
    });
    match &tls.trust {
        Ok(()) => out.pass_with(
            checks.trusted,
            subject.clone(),
            format!("the certificate chains to a trusted root (issued by {issuer})"),
            std::iter::once(Evidence::new("issuer", issuer))
                .chain(summarised)
                .collect(),
        ),
        Err(reason) => {
            let mut problem = Problem::new(
                checks.trusted,
                format!("the certificate does not chain to a trusted root: {reason}"),
            )
            .with("verification", reason.clone());
            problem.evidence.extend(summarised);
            problem.evidence.extend(details.iter().cloned());
            out.problem(
                problem.with("TLS-RPT result type", "certificate-not-trusted"),
                subject.clone(),
            );
        }
    }
}

/// `*.certificate-name`: the leaf is valid for the name the sender asks for.
fn judge_name(
    leaf: Option<&CertSummary>,
    name_match: &Result<(), String>,
    details: &[Evidence],
    checks: CertChecks,
    subject: &Subject,
    out: &mut Findings,
) {
    let requested = requested_name(subject);
    let names = leaf.map_or_else(|| "(none)".to_owned(), san_list);
    match name_match {
        Ok(()) => out.pass_with(
            checks.name,
            subject.clone(),
            format!("the certificate is valid for {requested}"),
            vec![Evidence::new("subjectAltName DNS names", names)],
        ),
        Err(reason) => {
            let mut problem = Problem::new(
                checks.name,
                format!("the certificate is not valid for {requested}"),
            )
            .with("requested name", requested)
            .with("subjectAltName DNS names", names)
            .with("verification", reason.clone());
            problem.evidence.extend(details.iter().cloned());
            out.problem(
                problem.with("TLS-RPT result type", "certificate-host-mismatch"),
                subject.clone(),
            );
        }
    }
}

/// `*.certificate-expiry` and `*.certificate-expiring`, judged at `ctx.now`.
fn judge_validity(
    leaf: &CertSummary,
    issuer: String,
    details: Vec<Evidence>,
    checks: CertChecks,
    subject: &Subject,
    ctx: &Context,
    out: &mut Findings,
) {
    let now = ctx.now;
    let validity = Evidence::new(
        "validity",
        format!(
            "{} to {}",
            iso_time(leaf.not_before),
            iso_time(leaf.not_after)
        ),
    );
    let checked_at = Evidence::new("checked at", iso_time(now));
    if now < leaf.not_before || now > leaf.not_after {
        let summary = if now < leaf.not_before {
            format!(
                "the certificate is not valid before {} ({} from now)",
                iso_time(leaf.not_before),
                days(leaf.not_before.saturating_sub(now))
            )
        } else {
            format!(
                "the certificate expired on {} ({} ago)",
                iso_time(leaf.not_after),
                days(now.saturating_sub(leaf.not_after))
            )
        };
        let mut problem = Problem::new(checks.expiry, summary);
        problem.evidence.push(checked_at);
        problem.evidence.extend(details.iter().cloned());
        out.problem(
            problem.with("TLS-RPT result type", "certificate-expired"),
            subject.clone(),
        );
        out.skip(checks.expiring, subject.clone(), checks.expiry);
        return;
    }

    let left = leaf.not_after.saturating_sub(now);
    let warn_days = i64::from(ctx.expiry_warn_days);
    let days_left = Evidence::new("days left", (left / DAY).to_string());
    out.pass_with(
        checks.expiry,
        subject.clone(),
        format!(
            "the certificate is valid until {}",
            iso_time(leaf.not_after)
        ),
        vec![validity.clone()],
    );
    if left < warn_days.saturating_mul(DAY) {
        let mut problem = Problem::new(
            checks.expiring,
            format!(
                "the certificate expires in {} (on {}), less than {warn_days} days",
                days(left),
                iso_time(leaf.not_after)
            ),
        );
        problem.evidence.push(checked_at);
        problem.evidence.push(days_left);
        problem.evidence.extend(details);
        out.problem(problem, subject.clone());
    } else {
        out.pass_with(
            checks.expiring,
            subject.clone(),
            format!("{} left", days(left)),
            vec![validity, Evidence::new("issuer", issuer), days_left],
        );
    }
}

/// Adds to each `*.certificate-expiring` finding, when the policy is in `enforce`, whether the
/// certificate expires before the copies of the policy that senders cache now do (`max_age` from
/// now, RFC 8461 §3.2): a lapse in that window makes those senders refuse to deliver.
pub fn annotate_horizon(
    findings: &mut [crate::model::Finding],
    obs: &crate::observe::Observations,
    facts: &crate::model::Facts,
    ctx: &Context,
) {
    let (Some("enforce"), Some(max_age)) = (facts.mode.as_deref(), facts.max_age) else {
        return;
    };
    let cached_until = ctx
        .now
        .saturating_add(i64::try_from(max_age).unwrap_or(i64::MAX));
    for finding in findings.iter_mut() {
        let tls = match (&finding.check, &finding.subject) {
            (CheckId::PolicyFetchCertExpiring, Subject::Endpoint { ip, .. }) => obs
                .fetches
                .iter()
                .find(|fetch| fetch.ip == *ip)
                .and_then(|fetch| fetch.tls.as_ref()),
            (CheckId::SmtpCertExpiring, Subject::Endpoint { host, ip }) => obs
                .mx_hosts
                .iter()
                .filter(|mx| mx.name == *host)
                .flat_map(|mx| &mx.smtp)
                .find(|probe| probe.ip == *ip)
                .and_then(|probe| probe.tls.as_ref()),
            _ => None,
        };
        let Some(leaf) = tls.and_then(|tls| tls.chain.first()) else {
            continue;
        };
        if matches!(finding.outcome, crate::model::Outcome::Skipped { .. }) {
            continue;
        }
        finding.evidence.push(Evidence::new(
            "enforce policy cached by senders until",
            format!("{} (max_age {max_age} s from now)", iso_time(cached_until)),
        ));
        let verdict = if leaf.not_after < cached_until {
            "yes: if it lapses before then, senders holding the cached enforce policy stop delivering"
        } else {
            "no"
        };
        finding
            .evidence
            .push(Evidence::new("expires before cached policies do", verdict));
    }
}

/// The name a sender asks the certificate to match.
fn requested_name(subject: &Subject) -> String {
    match subject {
        Subject::Endpoint { host, .. } => host.clone(),
        Subject::Host { name } => name.clone(),
        Subject::Domain => "the requested name".to_owned(),
    }
}

fn san_list(leaf: &CertSummary) -> String {
    if leaf.dns_names.is_empty() {
        "(none)".to_owned()
    } else {
        leaf.dns_names.join(", ")
    }
}

/// The leaf's details, for the evidence of a problem.
fn leaf_evidence(leaf: &CertSummary) -> Vec<Evidence> {
    vec![
        Evidence::new("subject", leaf.subject.clone()),
        Evidence::new("issuer", leaf.issuer.clone()),
        Evidence::new("subjectAltName DNS names", san_list(leaf)),
        Evidence::new(
            "validity",
            format!(
                "{} to {}",
                iso_time(leaf.not_before),
                iso_time(leaf.not_after)
            ),
        ),
        Evidence::new("serial", leaf.serial.clone()),
    ]
}

/// "N days", rounded down, for a span in seconds.
fn days(seconds: i64) -> String {
    match seconds.div_euclid(DAY) {
        1 => "1 day".to_owned(),
        count => format!("{count} days"),
    }
}

/// Unix seconds as an ISO 8601 UTC time, `2025-03-01T12:00:00Z`.
pub fn iso_time(unix: i64) -> String {
    let day = unix.div_euclid(DAY);
    let second = unix.rem_euclid(DAY);
    let (year, month, date) = civil_from_days(day);
    format!(
        "{year:04}-{month:02}-{date:02}T{:02}:{:02}:{:02}Z",
        second / 3600,
        second % 3600 / 60,
        second % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let date = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Profile;
    use crate::model::{Finding, Outcome};
    use crate::observe::TlsVersion;

    const NOW: i64 = 1_750_000_000; // 2025-06-15T15:06:40Z

    const CHECKS: CertChecks = CertChecks {
        trusted: CheckId::SmtpCertTrusted,
        name: CheckId::SmtpCertName,
        expiry: CheckId::SmtpCertExpiry,
        expiring: CheckId::SmtpCertExpiring,
    };

    fn leaf(not_before: i64, not_after: i64) -> CertSummary {
        CertSummary {
            subject: "CN=mx.example.com".to_owned(),
            issuer: "CN=Test CA".to_owned(),
            dns_names: vec!["mx.example.com".to_owned(), "*.example.com".to_owned()],
            not_before,
            not_after,
            serial: "01:02".to_owned(),
            spki_sha256: String::new(),
            der: Vec::new(),
        }
    }

    fn good_tls() -> TlsObservation {
        TlsObservation {
            version: TlsVersion::Tls13,
            cipher: "TLS13_AES_128_GCM_SHA256".to_owned(),
            chain: vec![leaf(NOW - 30 * DAY, NOW + 60 * DAY)],
            chain_presented: 0,
            trust: Ok(()),
            name_match: Ok(()),
        }
    }

    fn run(tls: &TlsObservation) -> Vec<Finding> {
        run_with(tls, &Context::new(Profile::Rfc, NOW))
    }

    fn run_with(tls: &TlsObservation, ctx: &Context) -> Vec<Finding> {
        let mut out = Findings::new(Profile::Rfc);
        let subject = Subject::endpoint("mx.example.com", "192.0.2.1".parse().unwrap());
        judge(tls, CHECKS, &subject, ctx, &mut out);
        out.finish()
    }

    #[test]
    fn expiry_warn_sets_the_margin_and_days_left_are_evidence() {
        let mut tls = good_tls();
        tls.chain[0] = leaf(NOW - 60 * DAY, NOW + 20 * DAY);
        // (margin in days, expected outcome of the expiring check)
        for (days, expected) in [
            (14, "pass"),
            (20, "pass"),
            (21, "warn"),
            (30, "warn"),
            (0, "pass"),
        ] {
            let ctx = Context {
                expiry_warn_days: days,
                ..Context::new(Profile::Rfc, NOW)
            };
            let findings = run_with(&tls, &ctx);
            let expiring = outcome(&findings, CheckId::SmtpCertExpiring);
            assert_eq!(expiring.outcome.label(), expected, "--expiry-warn {days}");
            assert_eq!(evidence(expiring, "days left"), "20");
            if expected == "warn" {
                assert!(expiring.summary.contains(&format!("less than {days} days")));
            }
        }
    }

    #[test]
    fn an_enforce_policy_says_whether_the_certificate_outlives_its_cached_copies() {
        use crate::model::Facts;
        use crate::observe::{Observations, SmtpObservation};
        let ip = "192.0.2.1".parse().unwrap();
        let mut obs = Observations::empty(&"example.com".parse().unwrap());
        let mut probe = SmtpObservation::unanswered("mx.example.com", ip, "not tried", None);
        let mut tls = good_tls();
        tls.chain[0] = leaf(NOW - 60 * DAY, NOW + 20 * DAY);
        probe.tls = Some(tls.clone());
        obs.mx_hosts = vec![crate::observe::MxHostObservation {
            name: "mx.example.com".to_owned(),
            preference: 10,
            addrs: crate::observe::HostLookup {
                name: "mx.example.com".to_owned(),
                a: crate::observe::DnsAnswer::records(vec![ip]),
                aaaa: crate::observe::DnsAnswer::NoData,
            },
            tlsa: crate::observe::DnsAnswer::NoData,
            smtp: vec![probe],
            not_contacted: Vec::new(),
        }];
        let ctx = Context::new(Profile::Rfc, NOW);
        // (mode, max_age, expected answer)
        for (mode, max_age, expected) in [
            ("enforce", 30 * DAY, Some("yes")),
            ("enforce", 7 * DAY, Some("no")),
            ("testing", 30 * DAY, None),
        ] {
            let facts = Facts {
                mode: Some(mode.to_owned()),
                max_age: Some(u64::try_from(max_age).unwrap()),
                ..Facts::default()
            };
            let mut findings = run(&tls);
            annotate_horizon(&mut findings, &obs, &facts, &ctx);
            let expiring = outcome(&findings, CheckId::SmtpCertExpiring);
            let answer = expiring
                .evidence
                .iter()
                .find(|evidence| evidence.label == "expires before cached policies do")
                .map(|evidence| evidence.value.split(':').next().unwrap_or(""));
            assert_eq!(answer, expected, "{mode} {max_age}");
        }
    }

    fn outcome(findings: &[Finding], check: CheckId) -> &Finding {
        let matching: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
        assert_eq!(matching.len(), 1, "{check}: {findings:#?}");
        matching[0]
    }

    fn evidence<'a>(finding: &'a Finding, label: &str) -> &'a str {
        finding
            .evidence
            .iter()
            .find(|item| item.label == label)
            .map(|item| item.value.as_str())
            .unwrap_or_else(|| panic!("no {label} in {finding:#?}"))
    }

    #[test]
    fn a_good_certificate_passes_everything_with_evidence() {
        let findings = run(&good_tls());
        assert_eq!(findings.len(), 4);
        for finding in &findings {
            assert_eq!(finding.outcome, Outcome::Pass, "{finding:#?}");
            assert!(!finding.evidence.is_empty(), "{finding:#?}");
        }
        let expiring = outcome(&findings, CheckId::SmtpCertExpiring);
        assert_eq!(expiring.summary, "60 days left");
        assert_eq!(evidence(expiring, "issuer"), "CN=Test CA");
    }

    #[test]
    fn untrusted_certificate_fails_with_reason_and_tlsrpt_type() {
        let mut tls = good_tls();
        tls.trust = Err("invalid peer certificate: UnknownIssuer".to_owned());
        let findings = run(&tls);
        let trusted = outcome(&findings, CheckId::SmtpCertTrusted);
        assert_eq!(trusted.outcome, Outcome::Fail);
        assert!(trusted.summary.contains("UnknownIssuer"));
        assert_eq!(
            evidence(trusted, "TLS-RPT result type"),
            "certificate-not-trusted"
        );
        assert_eq!(evidence(trusted, "subject"), "CN=mx.example.com");
        assert!(evidence(trusted, "validity").starts_with("2025-05-16T15:06:40Z"));
        assert_eq!(
            outcome(&findings, CheckId::SmtpCertName).outcome,
            Outcome::Pass
        );
    }

    #[test]
    fn name_mismatch_shows_requested_name_and_sans() {
        let mut tls = good_tls();
        tls.name_match = Err("invalid peer certificate: NotValidForName".to_owned());
        tls.chain[0].dns_names = vec!["example.com".to_owned()];
        let findings = run(&tls);
        let name = outcome(&findings, CheckId::SmtpCertName);
        assert_eq!(name.outcome, Outcome::Fail);
        assert_eq!(evidence(name, "requested name"), "mx.example.com");
        assert_eq!(evidence(name, "subjectAltName DNS names"), "example.com");
        assert_eq!(
            evidence(name, "TLS-RPT result type"),
            "certificate-host-mismatch"
        );
    }

    #[test]
    fn expiry_and_expiring_by_date() {
        // (not_before, not_after, expiry outcome label, expiring outcome label, summary part)
        let cases = [
            (
                NOW - 90 * DAY,
                NOW - 3 * DAY,
                "fail",
                "skipped",
                "3 days ago",
            ),
            (
                NOW + 2 * DAY,
                NOW + 90 * DAY,
                "fail",
                "skipped",
                "2 days from now",
            ),
            (NOW - 90 * DAY, NOW + 13 * DAY, "pass", "warn", "13 days"),
            (
                NOW - 90 * DAY,
                NOW + 14 * DAY,
                "pass",
                "pass",
                "14 days left",
            ),
            (NOW - 90 * DAY, NOW + DAY / 2, "pass", "warn", "0 days"),
            (NOW - 90 * DAY, NOW, "pass", "warn", "0 days"),
        ];
        for (not_before, not_after, expiry, expiring, text) in cases {
            let mut tls = good_tls();
            tls.chain[0] = leaf(not_before, not_after);
            let findings = run(&tls);
            let expiry_finding = outcome(&findings, CheckId::SmtpCertExpiry);
            let expiring_finding = outcome(&findings, CheckId::SmtpCertExpiring);
            assert_eq!(expiry_finding.outcome.label(), expiry, "{findings:#?}");
            assert_eq!(expiring_finding.outcome.label(), expiring, "{findings:#?}");
            let relevant = if expiry == "fail" {
                expiry_finding
            } else {
                expiring_finding
            };
            assert!(relevant.summary.contains(text), "{relevant:#?}");
        }
    }

    #[test]
    fn expired_certificate_names_dates_and_tlsrpt_type() {
        let mut tls = good_tls();
        tls.chain[0] = leaf(NOW - 100 * DAY, NOW - 10 * DAY);
        let findings = run(&tls);
        let expiry = outcome(&findings, CheckId::SmtpCertExpiry);
        assert_eq!(
            expiry.summary,
            "the certificate expired on 2025-06-05T15:06:40Z (10 days ago)"
        );
        assert_eq!(
            evidence(expiry, "TLS-RPT result type"),
            "certificate-expired"
        );
        assert_eq!(evidence(expiry, "checked at"), "2025-06-15T15:06:40Z");
        assert_eq!(
            outcome(&findings, CheckId::SmtpCertExpiring).outcome,
            Outcome::Skipped {
                blocked_by: CheckId::SmtpCertExpiry.into()
            }
        );
    }

    #[test]
    fn no_readable_leaf_leaves_validity_undetermined() {
        let mut tls = good_tls();
        tls.chain.clear();
        let findings = run(&tls);
        for check in [CheckId::SmtpCertExpiry, CheckId::SmtpCertExpiring] {
            assert_eq!(
                outcome(&findings, check).outcome.label(),
                "could-not-determine"
            );
        }
    }

    #[test]
    fn iso_times() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_208_000, "2024-02-29T12:00:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (NOW, "2025-06-15T15:06:40Z"),
        ];
        for (unix, expected) in cases {
            assert_eq!(iso_time(unix), expected, "{unix}");
        }
        // Extreme values from a hostile certificate must not panic.
        let _ = iso_time(i64::MAX / 2);
        let _ = iso_time(i64::MIN / 2);
    }
}
