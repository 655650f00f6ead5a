//! Observations: the plain data the network stages hand to the verdict code.
//!
//! Nothing here judges anything. A fixture can build any of these by hand, which is how the
//! verdict code is tested without a network.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Subject;
use crate::name::DomainName;
use crate::tlsrpt_report::date::Day;
use crate::tlsrpt_report::model::ResultType;

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
        /// What the answer held beyond what `data` keeps (the probe's bounds); `None` when
        /// nothing was left out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cut: Option<AnswerCut>,
    },
    /// The name exists but has no record of this type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// SERVFAIL, REFUSED, timeout or a transport error: we could not find out.
    Failed { reason: String },
}

/// What a DNS answer held beyond the records kept of it (`docs/hostile.md`, "Bounds"), so that a
/// report can say what it did not judge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerCut {
    /// Records of the asked type in the answer; when more than were kept, the rest were dropped
    /// (the kept ones are the most preferred MX records, the lowest addresses, or the first).
    pub records: usize,
    /// TXT: records kept only in part, cut at the per-record byte bound.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shortened: usize,
    /// TXT: bytes of TXT data in the answer, all records together, when past the per-answer
    /// budget (the records past it were dropped).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bytes: usize,
}

impl<T> DnsAnswer<T> {
    pub fn records(data: T) -> Self {
        Self::Records {
            data,
            ttl: 3600,
            cname_chain: Vec::new(),
            cut: None,
        }
    }

    /// What the answer held beyond the records kept, if anything.
    pub fn cut(&self) -> Option<&AnswerCut> {
        match self {
            Self::Records { cut, .. } => cut.as_ref(),
            _ => None,
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
    /// SHA-256 of the SubjectPublicKeyInfo, in hex: tells a renewal that kept the key from one
    /// that did not (a TLSA `3 1 1` record pins exactly this). Empty when unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub spki_sha256: String,
    /// The certificate as presented (DER; base64 in JSON), within the probe's chain bound.
    /// Empty in hand-built observations and in evidence of schema 1.
    #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
    pub der: Vec<u8>,
}

/// A TLS (or SSL) protocol version, as negotiated or offered. Its text ("TLSv1.3") is what
/// reports and RFC 8460 results show, and its wire form in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum TlsVersion {
    Ssl2,
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
    /// A version number with no name here ("0x7f1c").
    Other(u16),
    /// The TLS layer did not say which version it negotiated.
    Unknown,
}

impl TlsVersion {
    /// The version with this `ProtocolVersion` number (RFC 8446 §4.1.2: 0x0301 is TLS 1.0).
    pub fn from_wire(number: u16) -> Self {
        match number {
            0x0200 => Self::Ssl2,
            0x0300 => Self::Ssl3,
            0x0301 => Self::Tls10,
            0x0302 => Self::Tls11,
            0x0303 => Self::Tls12,
            0x0304 => Self::Tls13,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ssl2 => f.write_str("SSLv2"),
            Self::Ssl3 => f.write_str("SSLv3"),
            Self::Tls10 => f.write_str("TLSv1.0"),
            Self::Tls11 => f.write_str("TLSv1.1"),
            Self::Tls12 => f.write_str("TLSv1.2"),
            Self::Tls13 => f.write_str("TLSv1.3"),
            Self::Other(number) => write!(f, "0x{number:04x}"),
            Self::Unknown => f.write_str("unknown"),
        }
    }
}

impl From<TlsVersion> for String {
    fn from(version: TlsVersion) -> Self {
        version.to_string()
    }
}

impl TryFrom<String> for TlsVersion {
    type Error = String;

    /// The inverse of `Display`: "TLSv1.3", "0x7f1c", "unknown".
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Ok(match text.as_str() {
            "SSLv2" => Self::Ssl2,
            "SSLv3" => Self::Ssl3,
            "TLSv1.0" => Self::Tls10,
            "TLSv1.1" => Self::Tls11,
            "TLSv1.2" => Self::Tls12,
            "TLSv1.3" => Self::Tls13,
            "unknown" => Self::Unknown,
            other => other
                .strip_prefix("0x")
                .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                .map(Self::from_wire)
                .ok_or_else(|| format!("not a TLS version: {other:?}"))?,
        })
    }
}

/// What the TLS layer saw, verified the way a sender verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsObservation {
    pub version: TlsVersion,
    pub cipher: String,
    /// Leaf first, as sent by the server; at most `probe::tls::MAX_CHAIN` of them.
    pub chain: Vec<CertSummary>,
    /// How many certificates the server sent, when more than `chain` holds (0: `chain` is all
    /// of them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chain_presented: usize,
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

/// Why an address the audit knows of was not contacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum NotContacted {
    /// Not a public address (loopback, RFC 1918, link-local, …), and `--allow-private` was not
    /// given: no sender on the internet could reach it either.
    NonPublic,
    /// The domain's own deadline (`--domain-timeout`) had passed before this address's turn.
    DeadlinePassed,
    /// Past the first `bound` addresses of its host (`Limits::max_addrs_per_host`).
    OverAddressBound { bound: usize },
}

impl NotContacted {
    /// Why, in words: "not a public address".
    pub fn describe(self) -> String {
        match self {
            Self::NonPublic => "not a public address (--allow-private lifts this)".to_owned(),
            Self::DeadlinePassed => "the domain's deadline had passed".to_owned(),
            Self::OverAddressBound { bound } => {
                format!("past the first {bound} addresses of the host")
            }
        }
    }
}

/// An address of a host that was not contacted, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncontacted {
    pub ip: IpAddr,
    /// Flattened: `{"ip": "10.0.0.1", "reason": "non-public"}`.
    #[serde(flatten)]
    pub reason: NotContacted,
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
    /// Set when no connection was attempted; `result` then holds a failure at
    /// [`FetchStep::Connect`] (or [`FetchStep::Deadline`]) saying so.
    pub not_contacted: Option<NotContacted>,
}

/// Why a step did not complete; `S` names the steps of one protocol ([`FetchStep`],
/// [`SmtpStep`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFailure<S> {
    /// Which step.
    pub step: S,
    pub timed_out: bool,
    pub detail: String,
}

/// Why the policy fetch from one address did not complete.
pub type FetchFailure = StepFailure<FetchStep>;

/// Why the STARTTLS probe of one address stopped early.
pub type SmtpFailure = StepFailure<SmtpStep>;

/// The steps of the policy fetch, in order; the wire form is the kebab-case name ("connect").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FetchStep {
    Connect,
    Tls,
    /// The request and the response head.
    Http,
    Body,
    /// Not a protocol step: the audit's own per-domain deadline stopped the fetch.
    Deadline,
}

impl FetchStep {
    /// The name reports use: "connect", "tls", "http", "body", "deadline".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Http => "http",
            Self::Body => "body",
            Self::Deadline => "deadline",
        }
    }
}

impl fmt::Display for FetchStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The steps of the STARTTLS probe (RFC 3207, RFC 5321), in order; the wire form is the
/// kebab-case name ("ehlo-tls").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpStep {
    Connect,
    Greeting,
    Ehlo,
    Starttls,
    /// The TLS handshake after the STARTTLS 220.
    Tls,
    /// EHLO again, inside TLS (RFC 3207 §4.2).
    EhloTls,
    /// QUIT and the TLS close; a server's manners here are recorded but not judged.
    Quit,
    /// Not a protocol step: the audit's own per-domain deadline stopped the probe (set by the
    /// bulk engine, never by the probe itself).
    Deadline,
}

impl SmtpStep {
    /// The name reports use: "connect", "greeting", "ehlo", "starttls", "tls", "ehlo-tls",
    /// "quit", "deadline".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Greeting => "greeting",
            Self::Ehlo => "ehlo",
            Self::Starttls => "starttls",
            Self::Tls => "tls",
            Self::EhloTls => "ehlo-tls",
            Self::Quit => "quit",
            Self::Deadline => "deadline",
        }
    }
}

impl fmt::Display for SmtpStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One SMTP reply: the code and its lines (escaped, without the code prefix).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl SmtpReply {
    /// A 4xx reply: refused for now (busy, rate limiting, greylisting; RFC 5321 §4.2.1).
    pub fn is_temporary(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// "421 4.3.2 busy / try again later" (lines already escaped).
    pub fn describe(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
    }
}

/// How a server ended a session it had begun, with no reply saying why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionLoss {
    /// A TCP RST (or a broken pipe on writing): "the server reset the connection".
    Reset,
    /// An orderly close (FIN, end of stream) in the middle of the dialogue.
    Closed,
}

impl ConnectionLoss {
    /// "reset" / "closed".
    pub fn verb(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Closed => "closed",
        }
    }
}

/// How an MX address answered a TLS 1.0/1.1-only ClientHello.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum LegacyTls {
    /// The server answered with a ServerHello for this version (TLS 1.0 or 1.1, or SSL 3.0).
    Accepted {
        version: TlsVersion,
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
    /// `-- TLS --` marker. Evidence for people: no verdict reads it.
    pub transcript: Vec<String>,
    /// STARTTLS sessions tried, retries after a temporary refusal included; 0 when no
    /// connection was attempted.
    pub attempts: u32,
    /// Whether the server sent anything at all in the last session: `false` when the
    /// connection ended (or timed out) before its first byte.
    pub server_spoke: bool,
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
    pub failure: Option<SmtpFailure>,
    /// The server reset or closed the connection at the step of `failure`, with no reply
    /// saying why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_lost: Option<ConnectionLoss>,
    /// From the start of the first attempt to the end of the last, when there was more than
    /// one ([`SmtpObservation::attempts`]); zero otherwise.
    #[serde(
        default,
        skip_serializing_if = "Duration::is_zero",
        with = "duration_ms"
    )]
    pub tried_for: Duration,
    /// Set when no connection was attempted; `failure` then says so, at [`SmtpStep::Connect`]
    /// (or [`SmtpStep::Deadline`]), and `attempts` is 0.
    pub not_contacted: Option<NotContacted>,
    /// Set when this observation was not made with `host` but shared from the probe of another
    /// MX name at the same address, because that address presented the same certificate chain
    /// and the same TLS facts to two names (it is SNI-invariant; `--probe-every-name` turns
    /// sharing off). The transcript and `tls` are then the other name's; the certificate's
    /// name is judged for `host` from the chain's DNS names ([`crate::name::san_matches`]), and
    /// `tls.name_match` is the other name's and must not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_from: Option<SharedFrom>,
}

/// Where a shared [`SmtpObservation`] was made: the MX name the probe asked for at the same
/// address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFrom {
    /// The MX name the session was made with (its SNI).
    pub host: String,
}

impl SmtpObservation {
    /// A probe of `host` at `ip` (one attempt) that learned nothing: no reply, no TLS; `failure`
    /// says why, and `legacy_reason` why TLS 1.0/1.1 was not tried.
    pub fn unanswered(
        host: &str,
        ip: IpAddr,
        legacy_reason: &str,
        failure: Option<SmtpFailure>,
    ) -> Self {
        Self {
            host: host.to_owned(),
            ip,
            transcript: Vec::new(),
            attempts: 1,
            server_spoke: false,
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
            connection_lost: None,
            tried_for: Duration::ZERO,
            not_contacted: None,
            shared_from: None,
        }
    }
}

impl SmtpObservation {
    /// The 4xx reply that ended the session early, if one did: the server refused for now
    /// (busy, rate limiting, greylisting), so trying again later may get further. A 4xx seen on
    /// a step that did not end the session does not count.
    pub fn temporary_refusal(&self) -> Option<&SmtpReply> {
        let failure = self.failure.as_ref()?;
        let reply = match failure.step {
            SmtpStep::Greeting => self.greeting.as_ref(),
            SmtpStep::Ehlo => self.ehlo.as_ref(),
            SmtpStep::Starttls => self.starttls_reply.as_ref(),
            _ => None,
        }?;
        reply.is_temporary().then_some(reply)
    }

    /// What happened when the server dropped the session after it had begun and before TLS
    /// was up ("the server reset the connection after its greeting"); `None` for any other
    /// end. Such a session is tried again like a temporary refusal: a server restarting, or
    /// one shedding load by resetting connections, may answer the next one.
    pub fn lost_mid_session(&self) -> Option<String> {
        let loss = self.connection_lost?;
        let after = match self.failure.as_ref()?.step {
            SmtpStep::Ehlo => "its greeting",
            SmtpStep::Starttls => "its EHLO reply",
            SmtpStep::Tls => "its STARTTLS 220",
            _ => return None,
        };
        Some(format!(
            "the server {} the connection after {after}",
            loss.verb()
        ))
    }

    /// Why trying the session again may get further: a temporary refusal ("refused for now
    /// (421 …)") or a connection lost mid-session; `None` when it would not.
    pub fn retry_reason(&self) -> Option<String> {
        if let Some(reply) = self.temporary_refusal() {
            return Some(format!("refused for now ({})", reply.describe()));
        }
        self.lost_mid_session()
    }

    /// ", on 3 attempts over 4.2 s" when the session was tried more than once, else "".
    pub fn attempts_phrase(&self) -> String {
        if self.attempts > 1 {
            format!(
                ", on {} attempts over {:.1} s",
                self.attempts,
                self.tried_for.as_secs_f64()
            )
        } else {
            String::new()
        }
    }

    /// Whether the probe stopped at `step`.
    pub fn failed_at(&self, step: SmtpStep) -> bool {
        self.failure
            .as_ref()
            .is_some_and(|failure| failure.step == step)
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
    /// One per address contacted; empty when SMTP probing was skipped.
    pub smtp: Vec<SmtpObservation>,
    /// The addresses not contacted, in address order (empty when SMTP probing was skipped).
    pub not_contacted: Vec<Uncontacted>,
}

/// The version of the [`Observations`] wire form. Bumped whenever a field changes meaning or a
/// field that older readers need is removed; adding an optional field keeps it.
///
/// - 1: the first form.
/// - 2: certificates carry their DER bytes and key fingerprint (`der`, `spki_sha256`), which
///   the comparison with a baseline uses; schema 1 reads as 2 without them.
pub const OBSERVATIONS_SCHEMA_VERSION: u32 = 2;

/// The oldest [`OBSERVATIONS_SCHEMA_VERSION`] this code still reads (saved evidence).
pub const OLDEST_READABLE_SCHEMA_VERSION: u32 = 1;

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
    /// One per address of the policy host that was contacted.
    pub fetches: Vec<FetchObservation>,
    /// The addresses of the policy host that were not contacted, in address order.
    pub policy_not_contacted: Vec<Uncontacted>,
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
    /// The `https:` report URIs of the TLS-RPT record a sender would use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rua_https: Vec<HttpsRuaObservation>,
    /// The domain's deadline (`--domain-timeout`) passed before everything was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineCut>,
    /// The TLS-RPT reports given with `--reports`, summarised for this domain; `None` when the
    /// option was not given (the `reports.*` checks are then skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<ReportsEvidence>,
}

/// What the TLS-RPT reports given with `--reports` say about one policy domain (RFC 8460 §4):
/// plain counts, so saved observations can be judged again against another "today".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportsEvidence {
    /// The first day read: reports that ended before it were not counted.
    pub since: Day,
    /// The day taken as today when the reports were read.
    pub read_on: Day,
    /// Input files read (for every domain of the run).
    pub files_read: usize,
    /// Reports counted for this domain (unique, overlapping the days read).
    pub reports: u64,
    /// Reports read twice (same organisation and report ID), counted once; for every domain.
    pub duplicates: u64,
    /// The days covered by at least one of this domain's reports, in order.
    pub covered_days: Vec<Day>,
    /// Reporting organisations, with the number of this domain's reports from each.
    pub organizations: BTreeMap<String, u64>,
    /// Session counts day by day (a report counts on the first day it covers); only days with a
    /// report, in order.
    pub days: Vec<ReportDay>,
    /// The `mx` patterns of the sts policies the reports say senders used.
    pub mx_patterns: Vec<String>,
    /// The `mode` values of those policies.
    pub modes: Vec<String>,
    /// Inputs that could not be read, at most [`ReportsEvidence::MAX_UNREADABLE`] of them.
    pub unreadable: Vec<UnreadableInput>,
    /// How many inputs could not be read in all.
    pub unreadable_count: usize,
}

impl ReportsEvidence {
    /// Unreadable inputs kept in the evidence; the rest are only counted.
    pub const MAX_UNREADABLE: usize = 20;
}

/// One day's sessions for a domain, from the `sts` and `no-policy-found` policies of its reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDay {
    pub day: Day,
    pub successful: u64,
    /// The summary totals; the details below need not add up to them.
    pub failed: u64,
    /// Failed sessions by result type and receiving MX host, from `failure-details`.
    pub failures: Vec<ReportFailure>,
}

/// Failed sessions of one result type on one receiving MX host, on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFailure {
    pub result_type: ResultType,
    /// `receiving-mx-hostname`; `None` when the sender did not give it.
    pub mx: Option<String>,
    pub sessions: u64,
}

/// An input of `--reports` that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableInput {
    pub path: String,
    pub reason: String,
}

/// The TLS handshake with one address of an `https:` report host, as a reporter would make it
/// before posting (nothing is posted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeObservation {
    pub ip: IpAddr,
    /// The session, verified the way a sender verifies; `Err` when none was established.
    pub tls: Result<TlsObservation, FetchFailure>,
}

/// An `https:` rua of the TLS-RPT record, looked at as a reporter would use it (RFC 8460 §3,
/// §5.4): its host's addresses and a TLS handshake with each address it may contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpsRuaObservation {
    /// The URI as the record gives it (escaped).
    pub uri: String,
    pub host: String,
    /// The port the URI writes; without one, the HTTPS port (443).
    pub port: Option<u16>,
    pub addrs: HostLookup,
    pub handshakes: Vec<HandshakeObservation>,
    /// Addresses not contacted, and why.
    pub not_contacted: Vec<Uncontacted>,
}

/// What the per-domain deadline cut short: the questions still open were answered as failed
/// for `reason`, and the fetches and SMTP probes of `endpoints` did not finish.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineCut {
    pub reason: String,
    pub endpoints: Vec<Subject>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// `elapsed` cut to whole milliseconds: what observations keep of a duration, so they read back
/// from their serialised form unchanged.
pub fn whole_millis(elapsed: Duration) -> Duration {
    Duration::from_millis(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// Bytes travel as standard base64 (RFC 4648 §4, padded).
mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(value))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|error| serde::de::Error::custom(format!("not base64: {error}")))
    }
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
            policy_not_contacted: Vec::new(),
            mx: DnsAnswer::NoData,
            domain_addrs: None,
            mx_hosts: Vec::new(),
            smtp_skipped: false,
            private_allowed: false,
            tlsrpt_txt: DnsAnswer::NoData,
            tlsrpt_misplaced: Vec::new(),
            rua_domains: Vec::new(),
            rua_https: Vec::new(),
            deadline: None,
            reports: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_refusals_are_4xx_answers_that_ended_the_session() {
        let reply = |code: u16| {
            Some(SmtpReply {
                code,
                lines: vec!["4.7.0 busy".to_owned()],
            })
        };
        let failure = |step: SmtpStep| {
            Some(SmtpFailure {
                step,
                timed_out: false,
                detail: String::new(),
            })
        };
        let base = SmtpObservation {
            host: "mx.test".to_owned(),
            ip: "192.0.2.1".parse().unwrap(),
            transcript: Vec::new(),
            attempts: 1,
            server_spoke: true,
            greeting: reply(220),
            greeting_delay: Duration::ZERO,
            ehlo: reply(250),
            starttls_offered: true,
            starttls_reply: reply(220),
            pre_tls_bytes: 0,
            tls: None,
            starttls_after_tls: false,
            legacy_tls: LegacyTls::Refused,
            failure: None,
            connection_lost: None,
            tried_for: Duration::ZERO,
            not_contacted: None,
            shared_from: None,
        };
        type Edit = fn(&mut SmtpObservation, &dyn Fn(u16) -> Option<SmtpReply>);
        // (edit, failed step, expected code)
        let cases: [(Edit, SmtpStep, Option<u16>); 8] = [
            (
                |obs, r| obs.greeting = r(421),
                SmtpStep::Greeting,
                Some(421),
            ),
            (
                |obs, r| obs.greeting = r(450),
                SmtpStep::Greeting,
                Some(450),
            ),
            (|obs, r| obs.greeting = r(554), SmtpStep::Greeting, None),
            (|obs, r| obs.ehlo = r(421), SmtpStep::Ehlo, Some(421)),
            (|obs, r| obs.ehlo = r(502), SmtpStep::Ehlo, None),
            (
                |obs, r| obs.starttls_reply = r(454),
                SmtpStep::Starttls,
                Some(454),
            ),
            // A timeout has no reply to go by.
            (|obs, _| obs.starttls_reply = None, SmtpStep::Starttls, None),
            // A 4xx seen on a step that did not end the session does not count.
            (|obs, r| obs.ehlo = r(421), SmtpStep::Tls, None),
        ];
        for (edit, step, expected) in cases {
            let mut obs = base.clone();
            edit(&mut obs, &reply);
            obs.failure = failure(step);
            assert_eq!(
                obs.temporary_refusal().map(|reply| reply.code),
                expected,
                "{step}"
            );
        }
        assert_eq!(
            base.temporary_refusal(),
            None,
            "no failure, nothing to retry"
        );
    }

    #[test]
    fn steps_keep_their_wire_names() {
        let smtp = [
            (SmtpStep::Connect, "connect"),
            (SmtpStep::Greeting, "greeting"),
            (SmtpStep::Ehlo, "ehlo"),
            (SmtpStep::Starttls, "starttls"),
            (SmtpStep::Tls, "tls"),
            (SmtpStep::EhloTls, "ehlo-tls"),
            (SmtpStep::Quit, "quit"),
            (SmtpStep::Deadline, "deadline"),
        ];
        for (step, name) in smtp {
            assert_eq!(step.to_string(), name);
            assert_eq!(serde_json::to_value(step).unwrap(), name);
        }
        let fetch = [
            (FetchStep::Connect, "connect"),
            (FetchStep::Tls, "tls"),
            (FetchStep::Http, "http"),
            (FetchStep::Body, "body"),
            (FetchStep::Deadline, "deadline"),
        ];
        for (step, name) in fetch {
            assert_eq!(step.to_string(), name);
            assert_eq!(serde_json::to_value(step).unwrap(), name);
        }
    }

    #[test]
    fn tls_versions_read_as_reports_name_them() {
        let cases = [
            (0x0200, TlsVersion::Ssl2, "SSLv2"),
            (0x0300, TlsVersion::Ssl3, "SSLv3"),
            (0x0301, TlsVersion::Tls10, "TLSv1.0"),
            (0x0302, TlsVersion::Tls11, "TLSv1.1"),
            (0x0303, TlsVersion::Tls12, "TLSv1.2"),
            (0x0304, TlsVersion::Tls13, "TLSv1.3"),
            (0x7f1c, TlsVersion::Other(0x7f1c), "0x7f1c"),
        ];
        for (number, version, text) in cases {
            assert_eq!(TlsVersion::from_wire(number), version);
            assert_eq!(version.to_string(), text);
            assert_eq!(serde_json::to_value(version).unwrap(), text);
        }
        assert_eq!(TlsVersion::Unknown.to_string(), "unknown");
    }

    #[test]
    fn tls_versions_round_trip_through_serde() {
        for version in [
            TlsVersion::Ssl2,
            TlsVersion::Ssl3,
            TlsVersion::Tls10,
            TlsVersion::Tls11,
            TlsVersion::Tls12,
            TlsVersion::Tls13,
            TlsVersion::Other(0x7f1c),
            TlsVersion::Unknown,
        ] {
            let json = serde_json::to_string(&version).unwrap();
            assert_eq!(json, format!("\"{version}\""));
            assert_eq!(serde_json::from_str::<TlsVersion>(&json).unwrap(), version);
        }
        assert!(serde_json::from_str::<TlsVersion>("\"TLSv9\"").is_err());
    }

    #[test]
    fn an_smtp_observation_round_trips_with_stable_wire_names() {
        let mut obs = SmtpObservation::unanswered(
            "mx.test",
            "192.0.2.1".parse().unwrap(),
            "not tried",
            Some(SmtpFailure {
                step: SmtpStep::EhloTls,
                timed_out: true,
                detail: "slow".to_owned(),
            }),
        );
        obs.greeting_delay = Duration::from_millis(1500);
        obs.legacy_tls = LegacyTls::Accepted {
            version: TlsVersion::Tls10,
        };
        obs.not_contacted = Some(NotContacted::OverAddressBound { bound: 8 });
        let json = serde_json::to_value(&obs).unwrap();
        assert_eq!(json["failure"]["step"], "ehlo-tls");
        assert_eq!(json["greeting_delay"], 1500);
        assert_eq!(json["legacy_tls"]["version"], "TLSv1.0");
        assert_eq!(
            json["not_contacted"],
            serde_json::json!({"reason": "over-address-bound", "bound": 8})
        );
        assert_eq!(json["attempts"], 1);
        assert_eq!(json["server_spoke"], false);
        let back: SmtpObservation = serde_json::from_value(json).unwrap();
        assert_eq!(back, obs);
    }

    #[test]
    fn observations_round_trip() {
        let mut obs = Observations::empty(&"example.test".parse().unwrap());
        obs.policy_not_contacted = vec![Uncontacted {
            ip: "10.0.0.1".parse().unwrap(),
            reason: NotContacted::NonPublic,
        }];
        obs.fetches = vec![FetchObservation {
            ip: "192.0.2.2".parse().unwrap(),
            elapsed: Duration::from_millis(20),
            tls: None,
            result: Err(FetchFailure {
                step: FetchStep::Deadline,
                timed_out: true,
                detail: "late".to_owned(),
            }),
            not_contacted: Some(NotContacted::DeadlinePassed),
        }];
        let json = serde_json::to_value(&obs).unwrap();
        assert_eq!(json["fetches"][0]["result"]["Err"]["step"], "deadline");
        assert_eq!(
            json["policy_not_contacted"][0],
            serde_json::json!({"ip": "10.0.0.1", "reason": "non-public"})
        );
        let back: Observations = serde_json::from_value(json).unwrap();
        assert_eq!(back, obs);
    }
}
