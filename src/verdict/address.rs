//! `policy-host.public-address` and `mx.public-address`: a host that resolves to an address no
//! sender on the internet can reach (loopback, RFC 1918, link-local, CGNAT, documentation; see
//! [`crate::net::address`]) cannot serve the policy or receive mail there (RFC 8461 §3.3,
//! RFC 5321 §5.1, RFC 6890). Such addresses are not contacted unless `--allow-private` is given.

use std::net::IpAddr;

use super::Findings;
use crate::catalog::CheckId;
use crate::model::{Evidence, Problem, Subject};
use crate::net::address::classify;

/// The note a non-public address passes with under `--allow-private`: never a silent pass.
pub const ALLOWED_NOTE: &str =
    "accepted because --allow-private was given; senders on the internet cannot reach it";

/// Judges `check` for the addresses of `host`. Returns the addresses that were not contacted
/// because they are not public, so the caller skips their connection checks.
pub fn judge(
    check: CheckId,
    host: &str,
    addresses: &[IpAddr],
    private_allowed: bool,
    out: &mut Findings,
) -> Vec<IpAddr> {
    let non_public: Vec<IpAddr> = addresses
        .iter()
        .copied()
        .filter(|&ip| !classify(ip).is_public())
        .collect();
    if non_public.is_empty() {
        out.pass_with(
            check,
            Subject::host(host),
            format!("all {} address(es) of {host} are public", addresses.len()),
            addresses
                .iter()
                .map(|ip| Evidence::new(ip.to_string(), "public"))
                .collect(),
        );
        return Vec::new();
    }
    let mut blocked = Vec::new();
    for ip in non_public {
        let class = classify(ip);
        let subject = Subject::endpoint(host, ip);
        let evidence = vec![
            Evidence::new("address", ip.to_string()),
            Evidence::new("class", class.as_str()),
        ];
        if private_allowed {
            let mut evidence = evidence;
            evidence.push(Evidence::new("note", ALLOWED_NOTE));
            out.pass_with(
                check,
                subject,
                format!("{ip} is not a public address ({class}); {ALLOWED_NOTE}"),
                evidence,
            );
        } else {
            let mut problem = Problem::new(
                check,
                format!(
                    "{host} resolves to {ip}, which is not a public address ({class}): senders on \
                     the internet cannot reach it (not contacted; --allow-private lifts this)"
                ),
            );
            problem.evidence = evidence;
            out.problem(problem, subject);
            blocked.push(ip);
        }
    }
    blocked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Profile;
    use crate::model::Outcome;

    #[test]
    fn non_public_addresses_fail_unless_allowed() {
        // (addresses, --allow-private, expected outcomes, addresses not contacted)
        let cases: [(&[&str], bool, &[&str], usize); 5] = [
            (&["93.184.215.14", "2606:2800:21f::1"], false, &["pass"], 0),
            (&["10.0.0.1"], false, &["fail"], 1),
            (
                &["93.184.215.14", "127.0.0.1", "fe80::1"],
                false,
                &["fail", "fail"],
                2,
            ),
            (&["169.254.169.254"], true, &["pass"], 0),
            (&["::ffff:10.0.0.1"], false, &["fail"], 1),
        ];
        for (addresses, allowed, expected, blocked) in cases {
            let ips: Vec<IpAddr> = addresses.iter().map(|ip| ip.parse().unwrap()).collect();
            let mut out = Findings::new(Profile::Rfc);
            let not_contacted = judge(CheckId::MxPublicAddress, "mx.test", &ips, allowed, &mut out);
            assert_eq!(not_contacted.len(), blocked, "{addresses:?}");
            let findings = out.finish();
            let outcomes: Vec<&str> = findings.iter().map(|f| f.outcome.label()).collect();
            assert_eq!(outcomes, expected, "{addresses:?}");
            if allowed {
                assert!(findings[0].summary.contains("--allow-private"));
                assert!(matches!(findings[0].outcome, Outcome::Pass));
            }
            if blocked > 0 {
                let finding = &findings[0];
                assert!(finding.evidence.iter().any(|e| e.label == "address"));
                assert!(finding
                    .evidence
                    .iter()
                    .any(|e| e.label == "class" && e.value != "public"));
            }
        }
    }
}
