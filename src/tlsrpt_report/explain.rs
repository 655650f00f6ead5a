//! What each `result-type` (RFC 8460 §4.3) means, and which checks of `mtasts check` find the
//! same fault. The fix hint is the first check's, read from the [catalog](crate::catalog).

use crate::catalog::CheckId;

use super::model::ResultType;

/// A result type in words, and the checks that look for its cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// What senders saw, in one sentence.
    pub meaning: &'static str,
    /// The checks of `mtasts check` that find the same fault, most direct first; empty when
    /// none does (DANE, unknown values).
    pub checks: &'static [CheckId],
}

impl Explanation {
    /// The fix hint of the first check, from the catalog.
    pub fn fix(&self) -> Option<&'static str> {
        self.checks.first().map(|check| check.spec().fix)
    }
}

/// Explains a result type.
pub fn explain(result_type: &ResultType) -> Explanation {
    use CheckId as C;
    let (meaning, checks): (&'static str, &'static [CheckId]) = match result_type {
        ResultType::StarttlsNotSupported => (
            "The receiving MX did not offer STARTTLS, or the TLS handshake after it failed.",
            &[C::SmtpStarttlsOffered, C::SmtpStarttlsAccepted, C::SmtpTlsVersion],
        ),
        ResultType::CertificateHostMismatch => (
            "The MX certificate does not name the MX host, or the MX host is not allowed by the policy.",
            &[C::SmtpCertName, C::MxCovered],
        ),
        ResultType::CertificateNotTrusted => (
            "The MX certificate does not chain to a root the sender trusts (self-signed, or an intermediate missing).",
            &[C::SmtpCertTrusted],
        ),
        ResultType::CertificateExpired => (
            "The MX certificate had expired.",
            &[C::SmtpCertExpiry, C::SmtpCertExpiring],
        ),
        ResultType::ValidationFailure => (
            "The MX failed validation for another reason (see the failure reason codes); most \
             often an MX host that the policy does not list.",
            &[C::MxCovered, C::MxAnyCovered],
        ),
        ResultType::TlsaInvalid => (
            "DANE: the TLSA records of the MX are invalid or do not match its certificate.",
            &[C::MxTlsa],
        ),
        ResultType::DnssecInvalid => (
            "DANE: the DNSSEC records of the MX or its TLSA records did not validate.",
            &[C::MxTlsa],
        ),
        ResultType::DaneRequired => (
            "DANE: the sender requires DANE but found no usable TLSA records.",
            &[C::MxTlsa],
        ),
        ResultType::StsPolicyFetchError => (
            "The sender could not fetch the MTA-STS policy (no address, no HTTPS on 443, a \
             status other than 200, a redirect, a wrong content type, too large or too slow).",
            &[
                C::PolicyFetchStatus,
                C::PolicyHostResolves,
                C::PolicyFetchConnect,
                C::PolicyFetchContentType,
                C::PolicyFetchSize,
                C::PolicyFetchTime,
            ],
        ),
        ResultType::StsPolicyInvalid => (
            "The sender fetched the MTA-STS policy but it does not parse.",
            &[
                C::PolicySyntax,
                C::PolicyVersion,
                C::PolicyMode,
                C::PolicyMaxAge,
                C::PolicyMx,
                C::PolicyBlankLines,
            ],
        ),
        ResultType::StsWebpkiInvalid => (
            "The certificate of the policy host mta-sts.DOMAIN failed validation.",
            &[
                C::PolicyFetchCertTrusted,
                C::PolicyFetchCertName,
                C::PolicyFetchCertExpiry,
            ],
        ),
        ResultType::Other(_) => (
            "Not a result type of RFC 8460; see the sender's failure reason codes.",
            &[],
        ),
    };
    Explanation { meaning, checks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_type_names_a_check_with_a_fix() {
        for result_type in ResultType::REGISTERED {
            let explanation = explain(&result_type);
            assert!(!explanation.checks.is_empty(), "{result_type}");
            assert!(
                explanation.fix().is_some_and(|fix| fix.len() > 10),
                "{result_type}"
            );
        }
        assert!(explain(&ResultType::Other("x".to_owned()))
            .checks
            .is_empty());
    }

    #[test]
    fn the_examples_of_the_issue_map_to_their_checks() {
        let first = |wire: &str| explain(&ResultType::from_wire(wire)).checks[0].as_str();
        assert_eq!(first("certificate-expired"), "smtp.certificate-expiry");
        assert_eq!(first("validation-failure"), "mx.covered");
        assert!(explain(&ResultType::StsPolicyFetchError)
            .checks
            .iter()
            .all(|check| check.as_str().starts_with("policy-fetch.")
                || check.as_str().starts_with("policy-host.")));
    }
}
