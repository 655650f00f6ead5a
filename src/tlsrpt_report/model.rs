//! The typed TLS-RPT report (RFC 8460 §4), as the parser leaves it: every leniency already
//! resolved (and recorded as a [`Note`]), so the summary never looks at raw JSON.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::date::Timestamp;

/// One aggregate report (RFC 8460 §4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub organization_name: String,
    pub report_id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// `None` when absent or `null`.
    pub contact_info: Option<String>,
    pub policies: Vec<PolicyResult>,
}

/// One element of `policies`: a policy, its session counts and the failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyResult {
    pub policy_type: PolicyType,
    /// The lines of the policy (an sts policy file, TLSA records), decoded if they came as one
    /// JSON-encoded string; empty when absent.
    pub policy_string: Vec<String>,
    /// Lower case, without a trailing dot; `None` when absent or empty (senders leave it out
    /// for `no-policy-found`).
    pub policy_domain: Option<String>,
    /// The `mx-host` patterns of the policy, however they were given (string or array); the
    /// `mx: ` prefix some senders copy from the policy line is removed.
    pub mx_host: Vec<String>,
    pub successful_sessions: u64,
    /// `total-failure-session-count`; when absent, the sum of the failure details.
    pub failed_sessions: u64,
    /// Whether `total-failure-session-count` was given (else [`Self::failed_sessions`] is the sum
    /// of the details).
    pub failed_stated: bool,
    pub failure_details: Vec<FailureDetail>,
}

impl PolicyResult {
    /// The sum of `failed-session-count` over the failure details (saturating).
    pub fn details_sum(&self) -> u64 {
        self.failure_details.iter().fold(0u64, |sum, detail| {
            sum.saturating_add(detail.failed_session_count)
        })
    }
}

/// One element of `failure-details` (RFC 8460 §4.4). Empty strings are `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureDetail {
    pub result_type: ResultType,
    pub sending_mta_ip: Option<String>,
    /// Lower case, without a trailing dot.
    pub receiving_mx_hostname: Option<String>,
    pub receiving_mx_helo: Option<String>,
    pub receiving_ip: Option<String>,
    pub failed_session_count: u64,
    pub additional_information: Option<String>,
    /// Free text in practice (`bad https response code: 404`), or a token
    /// (`X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED`).
    pub failure_reason_code: Option<String>,
}

/// `policy-type` (RFC 8460 §4.4).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyType {
    Tlsa,
    Sts,
    NoPolicyFound,
    /// A value outside RFC 8460, kept as given.
    Other(String),
}

impl PolicyType {
    pub fn from_wire(wire: &str) -> Self {
        match wire {
            "tlsa" => Self::Tlsa,
            "sts" => Self::Sts,
            "no-policy-found" => Self::NoPolicyFound,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Tlsa => "tlsa",
            Self::Sts => "sts",
            Self::NoPolicyFound => "no-policy-found",
            Self::Other(other) => other,
        }
    }

    /// Whether the sessions of this policy count toward a domain's totals. `tlsa` does not: a
    /// sender that checks DANE and MTA-STS (Microsoft) reports the same sessions under each, so
    /// they are shown beside the totals. Unknown types are shown beside them too.
    pub fn counts_toward_totals(&self) -> bool {
        matches!(self, Self::Sts | Self::NoPolicyFound)
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `result-type` (RFC 8460 §4.3, registry §6.6), in the RFC's order. Its wire form (in saved
/// observations) is the RFC's text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum ResultType {
    // §4.3.1 negotiation failures
    StarttlsNotSupported,
    CertificateHostMismatch,
    CertificateNotTrusted,
    CertificateExpired,
    ValidationFailure,
    // §4.3.2.1 DANE
    TlsaInvalid,
    DnssecInvalid,
    DaneRequired,
    // §4.3.2.2 MTA-STS
    StsPolicyFetchError,
    StsPolicyInvalid,
    StsWebpkiInvalid,
    /// A value outside the registry, kept exactly as the sender wrote it.
    Other(String),
}

impl ResultType {
    /// Every registered value, in the RFC's order.
    pub const REGISTERED: [Self; 11] = [
        Self::StarttlsNotSupported,
        Self::CertificateHostMismatch,
        Self::CertificateNotTrusted,
        Self::CertificateExpired,
        Self::ValidationFailure,
        Self::TlsaInvalid,
        Self::DnssecInvalid,
        Self::DaneRequired,
        Self::StsPolicyFetchError,
        Self::StsPolicyInvalid,
        Self::StsWebpkiInvalid,
    ];

    pub fn from_wire(wire: &str) -> Self {
        Self::REGISTERED
            .into_iter()
            .find(|known| known.as_str() == wire)
            .unwrap_or_else(|| Self::Other(wire.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::StarttlsNotSupported => "starttls-not-supported",
            Self::CertificateHostMismatch => "certificate-host-mismatch",
            Self::CertificateNotTrusted => "certificate-not-trusted",
            Self::CertificateExpired => "certificate-expired",
            Self::ValidationFailure => "validation-failure",
            Self::TlsaInvalid => "tlsa-invalid",
            Self::DnssecInvalid => "dnssec-invalid",
            Self::DaneRequired => "dane-required",
            Self::StsPolicyFetchError => "sts-policy-fetch-error",
            Self::StsPolicyInvalid => "sts-policy-invalid",
            Self::StsWebpkiInvalid => "sts-webpki-invalid",
            Self::Other(other) => other,
        }
    }

    pub fn is_registered(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl From<ResultType> for String {
    fn from(result_type: ResultType) -> Self {
        result_type.as_str().to_owned()
    }
}

impl From<String> for ResultType {
    fn from(wire: String) -> Self {
        Self::from_wire(&wire)
    }
}

impl fmt::Display for ResultType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the parser accepted although RFC 8460 does not allow it, or had to interpret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub kind: NoteKind,
    /// Where and what exactly (`policy 1: total-failure-session-count 1, failure details 2`).
    pub detail: String,
}

/// The kinds of leniency, each with a stable code for the JSON output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// A date-time without a time zone, read as UTC.
    DateWithoutZone,
    /// Only a date where a date-time belongs.
    DateOnly,
    /// `mx-host` as a single string (the RFC 8460 example before erratum 6241).
    MxHostString,
    /// An `mx-host` element with the `mx:` prefix of the policy line.
    MxHostPrefix,
    /// `policy-string` as one string, or as one element holding a JSON-encoded array
    /// (Microsoft's tlsa records); decoded.
    PolicyStringNotArray,
    /// `policy-string` absent from an sts or tlsa policy.
    PolicyStringMissing,
    /// `policy-domain` absent or empty.
    PolicyDomainMissing,
    /// A `policy-type` outside RFC 8460.
    UnknownPolicyType,
    /// A `result-type` outside the registry.
    UnknownResultType,
    /// `total-failure-session-count` absent; the failure details were summed instead.
    FailureTotalMissing,
    /// The summary's failure total differs from the sum of the failure details.
    SummaryMismatch,
    /// A count written as a string of digits.
    CountAsString,
    /// A field under its name from an Internet-Draft of RFC 8460.
    DraftFieldName,
    /// A string field given as an empty string (read as absent).
    EmptyString,
    /// The date range ends before it starts, or is empty.
    ReversedRange,
}

impl NoteKind {
    /// The stable code in the JSON output.
    pub fn code(self) -> &'static str {
        match self {
            Self::DateWithoutZone => "date-without-zone",
            Self::DateOnly => "date-only",
            Self::MxHostString => "mx-host-string",
            Self::MxHostPrefix => "mx-host-prefix",
            Self::PolicyStringNotArray => "policy-string-not-array",
            Self::PolicyStringMissing => "policy-string-missing",
            Self::PolicyDomainMissing => "policy-domain-missing",
            Self::UnknownPolicyType => "unknown-policy-type",
            Self::UnknownResultType => "unknown-result-type",
            Self::FailureTotalMissing => "failure-total-missing",
            Self::SummaryMismatch => "summary-details-mismatch",
            Self::CountAsString => "count-as-string",
            Self::DraftFieldName => "draft-field-name",
            Self::EmptyString => "empty-string",
            Self::ReversedRange => "reversed-date-range",
        }
    }

    /// What the leniency is and what was done about it, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::DateWithoutZone => "a date-time without a time zone, read as UTC",
            Self::DateOnly => "a date without a time, read as midnight UTC",
            Self::MxHostString => "mx-host given as one string instead of an array",
            Self::MxHostPrefix => "an mx-host value starting with `mx:`, which was removed",
            Self::PolicyStringNotArray => {
                "policy-string given as one string, or as one element holding a JSON-encoded array; decoded"
            }
            Self::PolicyStringMissing => "no policy-string for an sts or tlsa policy",
            Self::PolicyDomainMissing => "no policy-domain; counted under \"(not given)\"",
            Self::UnknownPolicyType => {
                "a policy-type outside RFC 8460, shown beside the totals, not in them"
            }
            Self::UnknownResultType => "a result-type outside the RFC 8460 registry, kept as given",
            Self::FailureTotalMissing => {
                "no total-failure-session-count; the failure details were added up instead"
            }
            Self::SummaryMismatch => {
                "total-failure-session-count differs from the sum of the failure details; the total counts"
            }
            Self::CountAsString => "a count written as a string of digits",
            Self::DraftFieldName => "a field name from a draft of RFC 8460, read as its RFC name",
            Self::EmptyString => "an empty string where a value belongs, read as absent",
            Self::ReversedRange => "a date range that ends before it starts, read as its first day",
        }
    }
}
