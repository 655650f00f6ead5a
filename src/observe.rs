//! Observations: the plain data the network stages hand to the verdict code.
//!
//! Nothing here judges anything. A fixture can build any of these by hand, which is how the
//! verdict code is tested without a network.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Subject;
use crate::name::DomainName;

/// The outcome of one DNS question. A failed lookup is never the same as "no record".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum DnsAnswer<T> {
    Records {
        data: T,
        /// The smallest TTL among the answer records.
        ttl: u32,
        /// The CNAMEs followed to reach the answer, in order (`[_mta-sts.a -> x.provider.]`).
        cname_chain: Vec<String>,
    },
    /// The name exists but has no record of this type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// SERVFAIL, REFUSED, timeout or a transport error: we could not find out.
    Failed { reason: String },
}

impl<T> DnsAnswer<T> {
    pub fn records(data: T) -> Self {
        Self::Records {
            data,
            ttl: 3600,
            cname_chain: Vec::new(),
        }
    }

    pub fn data(&self) -> Option<&T> {
        match self {
            Self::Records { data, .. } => Some(data),
            _ => None,
        }
    }

    pub fn ttl(&self) -> Option<u32> {
        match self {
            Self::Records { ttl, .. } => Some(*ttl),
            _ => None,
        }
    }

    pub fn cname_chain(&self) -> &[String] {
        match self {
            Self::Records { cname_chain, .. } => cname_chain,
            _ => &[],
        }
    }

    /// A short phrase for evidence: "NXDOMAIN", "no TXT records", "lookup failed: …".
    pub fn describe_absence(&self) -> String {
        match self {
            Self::Records { .. } => "records present".to_owned(),
            Self::NoData => "no records of this type (NOERROR/NODATA)".to_owned(),
            Self::NxDomain => "the name does not exist (NXDOMAIN)".to_owned(),
            Self::Failed { reason } => format!("lookup failed: {reason}"),
        }
    }
}

/// One TXT resource record, its character-strings kept apart (RFC 1035 §3.3.14).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxtRecord {
    pub strings: Vec<Vec<u8>>,
}

impl TxtRecord {
    pub fn single(text: &str) -> Self {
        Self {
            strings: vec![text.as_bytes().to_vec()],
        }
    }

    /// The strings joined with no separator, as RFC 8461 §3.1 and RFC 8460 §3 require.
    pub fn joined(&self) -> Vec<u8> {
        self.strings.concat()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxRecord {
    pub preference: u16,
    /// The exchange as published, lower-cased, without the trailing dot; `""` for a null MX (`.`).
    pub exchange: String,
}

/// The A and AAAA answers for one host name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostLookup {
    pub name: String,
    pub a: DnsAnswer<Vec<IpAddr>>,
    pub aaaa: DnsAnswer<Vec<IpAddr>>,
}

impl HostLookup {
    /// Every address found, IPv4 first, each family in ascending order: resolvers rotate the
    /// order of answers, and the report must not change with it.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut all = Vec::new();
        for answer in [&self.a, &self.aaaa] {
            if let Some(addrs) = answer.data() {
                all.extend(addrs.iter().copied());
            }
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The CNAME chain seen on either lookup.
    pub fn cname_chain(&self) -> &[String] {
        let chain = self.a.cname_chain();
        if chain.is_empty() {
            self.aaaa.cname_chain()
        } else {
            chain
        }
    }

    /// Both lookups failed (rather than answered "nothing").
    pub fn failure(&self) -> Option<&str> {
        match (&self.a, &self.aaaa) {
            (DnsAnswer::Failed { reason }, DnsAnswer::Failed { .. }) => Some(reason),
            (DnsAnswer::Failed { reason }, DnsAnswer::NoData | DnsAnswer::NxDomain)
            | (DnsAnswer::NoData | DnsAnswer::NxDomain, DnsAnswer::Failed { reason }) => {
                Some(reason)
            }
            _ => None,
        }
    }
}

/// A record found at a name where people put it by mistake (`mta-sts.D` instead of `_mta-sts.D`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MisplacedRecord {
    pub name: String,
    pub text: String,
}

/// A summary of one certificate, for evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub dns_names: Vec<String>,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub serial: String,
}

/// What the TLS layer saw, verified the way a sender verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsObservation {
    /// "TLSv1.3".
    pub version: String,
    pub cipher: String,
    /// Leaf first, as sent by the server.
    pub chain: Vec<CertSummary>,
    /// Whether the chain builds to a trusted root, judged at a time inside the leaf's validity
    /// period so that expiry is reported by itself; `Err` holds the reason.
    pub trust: Result<(), String>,
    /// Whether the leaf is valid for the name the sender asks for (SAN DNS-IDs, RFC 9525).
    pub name_match: Result<(), String>,
}

/// One HTTP response as received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// "HTTP/1.1 200 OK", escaped.
    pub status_line: String,
    pub status: u16,
    /// Header names lower-cased; values escaped.
    pub headers: Vec<(String, String)>,
    /// At most the body cap plus one byte.
    pub body: Vec<u8>,
    /// The body went past the cap.
    pub truncated: bool,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A fetch of the policy from one address of the policy host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchObservation {
    pub ip: IpAddr,
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
    /// `None` when no TLS session was established.
    pub tls: Option<TlsObservation>,
    pub result: Result<HttpResponse, FetchFailure>,
}

/// Why a step did not complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchFailure {
    /// Which step: "connect", "tls", "http", "body".
    pub step: String,
    pub timed_out: bool,
    pub detail: String,
}

/// One SMTP reply: the code and its lines (escaped, without the code prefix).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

/// How an MX address answered a TLS 1.0/1.1-only ClientHello.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum LegacyTls {
    /// The server answered with a ServerHello for this version ("TLSv1.0").
    Accepted {
        version: String,
    },
    Refused,
    NotTested {
        reason: String,
    },
}

/// The STARTTLS probe of one MX address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpObservation {
    pub host: String,
    pub ip: IpAddr,
    /// Every line sent (`C: `) and received (`S: `), escaped; TLS-protected lines follow a
    /// `-- TLS --` marker.
    pub transcript: Vec<String>,
    pub greeting: Option<SmtpReply>,
    #[serde(with = "duration_ms")]
    pub greeting_delay: Duration,
    pub ehlo: Option<SmtpReply>,
    pub starttls_offered: bool,
    pub starttls_reply: Option<SmtpReply>,
    /// Bytes that arrived after the STARTTLS 220 and before the handshake.
    pub pre_tls_bytes: usize,
    pub tls: Option<TlsObservation>,
    /// STARTTLS advertised again in the EHLO reply inside TLS.
    pub starttls_after_tls: bool,
    pub legacy_tls: LegacyTls,
    /// Where the probe stopped early, if it did.
    pub failure: Option<FetchFailure>,
}

impl SmtpObservation {
    /// A probe of `host` at `ip` that learned nothing: no reply, no TLS; `failure` says why, and
    /// `legacy_reason` why TLS 1.0/1.1 was not tried.
    pub fn unanswered(
        host: &str,
        ip: IpAddr,
        legacy_reason: &str,
        failure: Option<FetchFailure>,
    ) -> Self {
        Self {
            host: host.to_owned(),
            ip,
            transcript: Vec::new(),
            greeting: None,
            greeting_delay: Duration::ZERO,
            ehlo: None,
            starttls_offered: false,
            starttls_reply: None,
            pre_tls_bytes: 0,
            tls: None,
            starttls_after_tls: false,
            legacy_tls: LegacyTls::NotTested {
                reason: legacy_reason.to_owned(),
            },
            failure,
        }
    }
}

/// DNS facts about one MX host and the probes of its addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxHostObservation {
    pub name: String,
    pub preference: u16,
    pub addrs: HostLookup,
    /// TLSA records at `_25._tcp.NAME`, rendered as text.
    pub tlsa: DnsAnswer<Vec<String>>,
    /// One per address; empty when SMTP probing was skipped.
    pub smtp: Vec<SmtpObservation>,
}

/// The version of the [`Observations`] wire form. Bumped whenever a field changes meaning or a
/// field that older readers need is removed; adding an optional field keeps it.
pub const OBSERVATIONS_SCHEMA_VERSION: u32 = 1;

/// Everything observed about one domain.
///
/// This is the contract between the probes and the verdict: plain data, serialisable both ways,
/// so that saved observations can be judged again later, offline, by a newer `mtasts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observations {
    /// [`OBSERVATIONS_SCHEMA_VERSION`] of the code that made them.
    pub schema_version: u32,
    pub domain: DomainName,
    pub sts_txt: DnsAnswer<Vec<TxtRecord>>,
    /// Looked for only when `_mta-sts` has no MTA-STS record.
    pub sts_misplaced: Vec<MisplacedRecord>,
    pub policy_host: HostLookup,
    /// One per address of the policy host.
    pub fetches: Vec<FetchObservation>,
    pub mx: DnsAnswer<Vec<MxRecord>>,
    /// The domain's own addresses, looked up when it has no MX (implicit MX).
    pub domain_addrs: Option<HostLookup>,
    pub mx_hosts: Vec<MxHostObservation>,
    /// `--no-smtp` was given.
    pub smtp_skipped: bool,
    /// `--allow-private` was given: non-public addresses were contacted like any other.
    pub private_allowed: bool,
    pub tlsrpt_txt: DnsAnswer<Vec<TxtRecord>>,
    pub tlsrpt_misplaced: Vec<MisplacedRecord>,
    /// MX answers for the domains of `mailto:` report addresses.
    pub rua_domains: Vec<(String, DnsAnswer<Vec<MxRecord>>)>,
    /// The domain's deadline (`--domain-timeout`) passed before everything was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineCut>,
}

/// What the per-domain deadline cut short: the questions still open were answered as failed
/// for `reason`, and the fetches and SMTP probes of `endpoints` did not finish.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineCut {
    pub reason: String,
    pub endpoints: Vec<Subject>,
}

/// `elapsed` cut to whole milliseconds: what observations keep of a duration, so they read back
/// from their serialised form unchanged.
pub fn whole_millis(elapsed: Duration) -> Duration {
    Duration::from_millis(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// Durations travel as whole milliseconds, which is all the verdict and the reports use.
mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

impl Observations {
    /// The domain publishes only a null MX (RFC 7505): it accepts no mail, so a missing MTA-STS
    /// or TLS-RPT record is no fault (digest EC-71).
    pub fn accepts_no_mail(&self) -> bool {
        self.mx.data().is_some_and(|records| {
            !records.is_empty() && records.iter().all(|mx| mx.exchange.is_empty())
        })
    }

    /// Observations of a domain where every lookup answered "nothing": a base for fixtures.
    pub fn empty(domain: &DomainName) -> Self {
        let no_host = |name: String| HostLookup {
            name,
            a: DnsAnswer::NoData,
            aaaa: DnsAnswer::NoData,
        };
        Self {
            schema_version: OBSERVATIONS_SCHEMA_VERSION,
            domain: domain.clone(),
            sts_txt: DnsAnswer::NoData,
            sts_misplaced: Vec::new(),
            policy_host: no_host(domain.policy_host().into()),
            fetches: Vec::new(),
            mx: DnsAnswer::NoData,
            domain_addrs: None,
            mx_hosts: Vec::new(),
            smtp_skipped: false,
            private_allowed: false,
            tlsrpt_txt: DnsAnswer::NoData,
            tlsrpt_misplaced: Vec::new(),
            rua_domains: Vec::new(),
            deadline: None,
        }
    }
}
