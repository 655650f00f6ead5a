//! TLS client set-up that records the server's certificate verdicts as data instead of failing.
//!
//! A sender verifies the policy host's certificate (RFC 8461 §3.3) and, under MTA-STS, each MX
//! host's certificate (RFC 8461 §4.2): the chain must build to a trusted root, the leaf must be
//! within its validity period, and a SAN DNS-ID must match the host name (RFC 9525 §6.3; only
//! whole-label wildcards). The auditor wants to see *what* the server serves even when that fails,
//! so the handshake is accepted and the verdicts are written into a [`Recorder`]:
//!
//! * **trust**: the chain builds to a root in [`super::root_store`], judged at a time inside the
//!   leaf's validity period, so that an expired leaf is reported by its dates alone;
//! * **name_match**: webpki's `verify_is_valid_for_subject_name` (SAN DNS-IDs only, no CN).
//!
//! Handshake signatures are still verified with the provider's algorithms, so the peer must hold
//! the key of the certificate it presents.
//!
//! Usage (the same for the HTTPS fetch and the SMTP STARTTLS probe):
//!
//! ```no_run
//! # async fn demo(tcp: tokio::net::TcpStream) -> std::io::Result<()> {
//! use mtasts::probe::{root_store, tls};
//! let recorder = tls::Recorder::new();
//! let config = tls::client_config(root_store(&[]), &recorder);
//! let name = rustls::pki_types::ServerName::try_from("mx.example.com".to_owned())
//!     .map_err(std::io::Error::other)?;
//! let stream = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?;
//! let observation = tls::observe_connection(&recorder, stream.get_ref().1);
//! # let _ = observation; Ok(()) }
//! ```
//!
//! [`observation`] takes the negotiated version and suite directly for callers that hold them
//! in another form; both return `None` when the server presented no certificate.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name, Resumption};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, CommonState, DigitallySignedStruct, ProtocolVersion,
    RootCertStore, SignatureScheme, SupportedCipherSuite,
};

use super::cert;
use crate::escape::escape_str;
use crate::observe::{CertSummary, TlsObservation, TlsVersion};

/// Certificates kept from one presented chain (real chains have 2–4).
pub const MAX_CHAIN: usize = 10;
/// DER bytes summarised from one presented chain (real chains are 3–8 KiB); certificates past
/// it are not summarised. rustls already refuses a Certificate message over 64 KiB.
pub const MAX_CHAIN_BYTES: usize = 64 * 1024;

/// What the verifier saw during one handshake.
#[derive(Clone, Debug)]
struct Recorded {
    chain: Vec<CertSummary>,
    /// Certificates sent, when more than `chain` holds; 0 otherwise.
    presented: usize,
    trust: Result<(), String>,
    name_match: Result<(), String>,
}

/// A slot the verifier fills during the handshake; cheap to clone (shared).
///
/// Use one recorder per connection: a later handshake overwrites the slot.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    slot: Arc<Mutex<Option<Recorded>>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the server has presented a certificate on this recorder's connection.
    pub fn saw_certificate(&self) -> bool {
        self.lock().is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Recorded>> {
        // A panic elsewhere cannot leave the Option half-written; keep going.
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A TLS 1.2/1.3 client configuration (ring provider) whose verifier accepts every chain and
/// records it, with its verdicts, in `recorder`. Session resumption is off so that every
/// connection presents and records its certificate.
pub fn client_config(roots: Arc<RootCertStore>, recorder: &Recorder) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(RecordingVerifier {
        roots,
        provider: Arc::clone(&provider),
        recorder: recorder.clone(),
    });
    // ring supports both versions, so this cannot fail for lack of a matching protocol.
    #[allow(clippy::expect_used)]
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

/// The observation of one connection, from what the recorder captured and the negotiated
/// version and cipher suite. `None` when no certificate was presented.
pub fn observation(
    recorder: &Recorder,
    version: Option<ProtocolVersion>,
    cipher: Option<SupportedCipherSuite>,
) -> Option<TlsObservation> {
    let recorded = recorder.lock().clone()?;
    Some(TlsObservation {
        version: version.map_or(TlsVersion::Unknown, tls_version),
        cipher: cipher.map_or_else(
            || "unknown".to_owned(),
            |suite| {
                suite
                    .suite()
                    .as_str()
                    .map_or_else(|| format!("{:?}", suite.suite()), str::to_owned)
            },
        ),
        chain: recorded.chain,
        chain_presented: recorded.presented,
        trust: recorded.trust,
        name_match: recorded.name_match,
    })
}

/// [`observation`] for an established connection (`tokio_rustls` `stream.get_ref().1`).
pub fn observe_connection(recorder: &Recorder, connection: &CommonState) -> Option<TlsObservation> {
    observation(
        recorder,
        connection.protocol_version(),
        connection.negotiated_cipher_suite(),
    )
}

/// The observed form of a negotiated version.
pub fn tls_version(version: ProtocolVersion) -> TlsVersion {
    TlsVersion::from_wire(u16::from(version))
}

#[derive(Debug)]
struct RecordingVerifier {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    recorder: Recorder,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let recorded = judge_chain(
            end_entity,
            intermediates,
            server_name,
            now,
            &self.roots,
            &self.provider,
        );
        *self.recorder.lock() = Some(recorded);
        // Accepted on purpose: the verdicts above are reported, not enforced (module doc).
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The trust and name verdicts for one presented chain.
fn judge_chain(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    now: UnixTime,
    roots: &RootCertStore,
    provider: &CryptoProvider,
) -> Recorded {
    let chain = summarise_chain(end_entity, intermediates);
    let sent = intermediates.len() + 1;
    let presented = if sent > chain.len() { sent } else { 0 };
    let parsed = match ParsedCertificate::try_from(end_entity) {
        Ok(parsed) => parsed,
        Err(err) => {
            let reason = format!(
                "the leaf certificate could not be parsed: {}",
                describe_error(&err)
            );
            return Recorded {
                chain,
                presented,
                trust: Err(reason.clone()),
                name_match: Err(reason),
            };
        }
    };
    let at = evaluation_time(end_entity, now);
    let trust = verify_server_cert_signed_by_trust_anchor(
        &parsed,
        roots,
        intermediates,
        at,
        provider.signature_verification_algorithms.all,
    )
    .map_err(|err| {
        if !depth_exceeded(&err) {
            return describe_error(&err);
        }
        format!(
            "no path to a trusted root within {MAX_PATH_INTERMEDIATES} intermediate certificates, \
             the most that webpki (and so rustls-based senders) will build; the server sent {} \
             certificates",
            intermediates.len() + 1
        )
    });
    let name_match = verify_server_name(&parsed, server_name).map_err(|err| describe_error(&err));
    Recorded {
        chain,
        presented,
        trust,
        name_match,
    }
}

/// Summaries of the presented chain, leaf first, within [`MAX_CHAIN`] and [`MAX_CHAIN_BYTES`]
/// (the leaf is always summarised).
fn summarise_chain(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Vec<CertSummary> {
    let mut used = 0usize;
    std::iter::once(end_entity)
        .chain(intermediates)
        .take(MAX_CHAIN)
        .enumerate()
        .take_while(|(index, der)| {
            used = used.saturating_add(der.len());
            *index == 0 || used <= MAX_CHAIN_BYTES
        })
        .map(|(_, der)| cert::summarise(der))
        .collect()
}

/// A time inside the leaf's validity period, so that "untrusted" never just means "expired":
/// now when the leaf is currently valid, else the edge of its period nearest to now.
fn evaluation_time(end_entity: &CertificateDer<'_>, now: UnixTime) -> UnixTime {
    let Some((not_before, not_after)) = cert::validity(end_entity) else {
        return now;
    };
    let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let inside = if now_secs < not_before {
        not_before.saturating_add(1)
    } else if now_secs > not_after {
        not_after.saturating_sub(1).max(not_before)
    } else {
        return now;
    };
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(inside).unwrap_or(0),
    ))
}

fn server_name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => escape_str(dns.as_ref()),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => escape_str(&format!("{other:?}")),
    }
}

/// Intermediate certificates webpki accepts between a leaf and its root (its
/// `MAX_SUB_CA_COUNT`); a longer path fails with `MaximumPathDepthExceeded`.
pub const MAX_PATH_INTERMEDIATES: usize = 6;

/// Whether `err` is webpki giving up on a path longer than [`MAX_PATH_INTERMEDIATES`]. rustls
/// passes that error on as an opaque `Other`, whose text is webpki's variant name.
fn depth_exceeded(err: &rustls::Error) -> bool {
    matches!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::Other(other))
            if other.to_string() == "MaximumPathDepthExceeded"
    )
}

/// `MaximumPathDepthExceeded` as "maximum path depth exceeded", `MissingData("ServerHello")`
/// as "missing data server hello": rustls and webpki name some of their errors only by a Rust
/// identifier, and no report shows one.
pub fn identifier_words(name: &str) -> String {
    let mut words = String::new();
    let mut previous_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !words.ends_with(' ') && !words.is_empty() {
                words.push(' ');
            }
            previous_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && previous_lower {
            words.push(' ');
        }
        previous_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        words.push(ch.to_ascii_lowercase());
    }
    words.trim_end().to_owned()
}

/// A reader-friendly reason for a TLS error (a verification verdict, or why a handshake
/// failed); names from the certificate are escaped, and no Rust `Debug` form is shown.
pub fn describe_error(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert_err) => match cert_err {
            CertificateError::UnknownIssuer => {
                "the chain does not lead to a trusted root (unknown issuer; a missing \
                 intermediate certificate or a self-signed or private CA)"
                    .to_owned()
            }
            CertificateError::BadSignature => {
                "a certificate in the chain has a bad signature".to_owned()
            }
            CertificateError::NotValidForName => {
                "the certificate is not valid for the requested name".to_owned()
            }
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } => {
                let presented = if presented.is_empty() {
                    "no DNS names (subjectAltName)".to_owned()
                } else {
                    presented
                        .iter()
                        .map(|name| escape_str(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!(
                    "the certificate is not valid for {}; it names {presented}",
                    server_name_text(expected)
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "a certificate in the chain has expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "a certificate in the chain is not valid yet".to_owned()
            }
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                "the certificate is not for TLS server authentication (extended key usage)"
                    .to_owned()
            }
            CertificateError::Other(other) => escape_str(&format!(
                "the certificate could not be verified: {}",
                identifier_words(&other.to_string())
            )),
            CertificateError::BadEncoding => "a certificate in the chain is malformed".to_owned(),
            CertificateError::Revoked => "a certificate in the chain is revoked".to_owned(),
            CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                "a certificate in the chain is signed with an algorithm senders do not support"
                    .to_owned()
            }
            other => escape_str(&format!("invalid certificate: {other}")),
        },
        rustls::Error::AlertReceived(alert) => format!(
            "the server ended the handshake with the TLS alert \"{}\"",
            identifier_words(&format!("{alert:?}"))
        ),
        rustls::Error::InvalidMessage(kind) => format!(
            "the server sent something that is not a valid TLS message ({})",
            identifier_words(&format!("{kind:?}"))
        ),
        rustls::Error::InappropriateMessage { got_type, .. } => format!(
            "the server sent an unexpected TLS message ({})",
            identifier_words(&format!("{got_type:?}"))
        ),
        rustls::Error::InappropriateHandshakeMessage { got_type, .. } => format!(
            "the server sent an unexpected TLS handshake message ({})",
            identifier_words(&format!("{got_type:?}"))
        ),
        rustls::Error::PeerIncompatible(why) => format!(
            "the server's TLS is incompatible with a sender's: {}",
            identifier_words(&format!("{why:?}"))
        ),
        rustls::Error::PeerMisbehaved(why) => format!(
            "the server broke the TLS protocol: {}",
            identifier_words(&format!("{why:?}"))
        ),
        rustls::Error::InvalidCertRevocationList(why) => format!(
            "invalid certificate revocation list: {}",
            identifier_words(&format!("{why:?}"))
        ),
        rustls::Error::InconsistentKeys(why) => format!(
            "the certificate and key do not match: {}",
            identifier_words(&format!("{why:?}"))
        ),
        other => escape_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    };
    use time::{Duration, OffsetDateTime};

    struct Ca {
        issuer: Issuer<'static, KeyPair>,
        der: CertificateDer<'static>,
    }

    fn ca(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(400);
        params.not_after = now + Duration::days(400);
        let der = params.self_signed(&key).unwrap().der().clone();
        Ca {
            issuer: Issuer::new(params, key),
            der,
        }
    }

    fn leaf(ca: &Ca, names: &[&str], from_days: i64, to_days: i64) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        let now = OffsetDateTime::now_utc();
        params.not_before = now + Duration::days(from_days);
        params.not_after = now + Duration::days(to_days);
        params.signed_by(&key, &ca.issuer).unwrap().der().clone()
    }

    fn judge(ca: &Ca, leaf: &CertificateDer<'_>, name: &str) -> Recorded {
        let mut roots = RootCertStore::empty();
        roots.add(ca.der.clone()).unwrap();
        let provider = rustls::crypto::ring::default_provider();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        judge_chain(leaf, &[], &name, UnixTime::now(), &roots, &provider)
    }

    #[test]
    fn verdicts_for_names_and_dates() {
        let root = ca("unit CA");
        let other_ca = ca("other CA");
        struct Case {
            names: &'static [&'static str],
            from: i64,
            to: i64,
            ask: &'static str,
            trusted_by_ca: bool,
            trust_ok: bool,
            name_ok: bool,
        }
        let cases = [
            Case {
                names: &["mta-sts.example.test"],
                from: -1,
                to: 90,
                ask: "mta-sts.example.test",
                trusted_by_ca: true,
                trust_ok: true,
                name_ok: true,
            },
            // Expired or not yet valid: trust is judged inside the validity period.
            Case {
                names: &["mta-sts.example.test"],
                from: -100,
                to: -2,
                ask: "mta-sts.example.test",
                trusted_by_ca: true,
                trust_ok: true,
                name_ok: true,
            },
            Case {
                names: &["mta-sts.example.test"],
                from: 5,
                to: 50,
                ask: "mta-sts.example.test",
                trusted_by_ca: true,
                trust_ok: true,
                name_ok: true,
            },
            Case {
                names: &["*.example.test"],
                from: -1,
                to: 90,
                ask: "mta-sts.example.test",
                trusted_by_ca: true,
                trust_ok: true,
                name_ok: true,
            },
            // A wildcard covers one label only; the bare domain does not cover the policy host.
            Case {
                names: &["*.example.test"],
                from: -1,
                to: 90,
                ask: "a.mta-sts.example.test",
                trusted_by_ca: true,
                trust_ok: true,
                name_ok: false,
            },
            Case {
                names: &["example.test"],
                from: -1,
                to: 90,
                ask: "mta-sts.example.test",
                trusted_by_ca: true,
                trust_ok: true,
                name_ok: false,
            },
            Case {
                names: &["mta-sts.example.test"],
                from: -1,
                to: 90,
                ask: "mta-sts.example.test",
                trusted_by_ca: false,
                trust_ok: false,
                name_ok: true,
            },
        ];
        for (index, case) in cases.iter().enumerate() {
            let issuer = if case.trusted_by_ca { &root } else { &other_ca };
            let der = leaf(issuer, case.names, case.from, case.to);
            let recorded = judge(&root, &der, case.ask);
            assert_eq!(
                recorded.trust.is_ok(),
                case.trust_ok,
                "case {index}: {:?}",
                recorded.trust
            );
            assert_eq!(
                recorded.name_match.is_ok(),
                case.name_ok,
                "case {index}: {:?}",
                recorded.name_match
            );
            assert_eq!(recorded.chain.len(), 1);
        }
    }

    #[test]
    fn reasons_are_readable() {
        let issuer = ca("issuing CA");
        let der = leaf(&issuer, &["www.example.test"], -1, 10);
        let recorded = judge(&ca("unrelated CA"), &der, "mta-sts.example.test");
        let trust = recorded.trust.unwrap_err();
        assert!(trust.contains("unknown issuer"), "{trust}");
        let name = recorded.name_match.unwrap_err();
        assert!(name.contains("mta-sts.example.test"), "{name}");
        assert!(name.contains("www.example.test"), "{name}");
    }

    #[test]
    fn garbage_leaf_is_recorded_not_fatal() {
        let root = ca("unit CA");
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let recorded = judge(&root, &garbage, "mta-sts.example.test");
        assert!(recorded.trust.is_err());
        assert!(recorded.name_match.is_err());
        assert!(recorded.chain[0].subject.starts_with("unparsable"));
    }

    #[test]
    fn observation_needs_a_certificate() {
        let recorder = Recorder::new();
        assert!(!recorder.saw_certificate());
        assert_eq!(observation(&recorder, None, None), None);
        *recorder.lock() = Some(Recorded {
            chain: Vec::new(),
            presented: 0,
            trust: Ok(()),
            name_match: Ok(()),
        });
        let provider = rustls::crypto::ring::default_provider();
        let observed = observation(
            &recorder,
            Some(ProtocolVersion::TLSv1_3),
            Some(provider.cipher_suites[0]),
        )
        .unwrap();
        assert_eq!(observed.version, TlsVersion::Tls13);
        assert!(observed.cipher.starts_with("TLS13_"), "{}", observed.cipher);
    }

    #[test]
    fn version_names() {
        assert_eq!(tls_version(ProtocolVersion::TLSv1_2).to_string(), "TLSv1.2");
        assert_eq!(tls_version(ProtocolVersion::TLSv1_0).to_string(), "TLSv1.0");
        assert_eq!(tls_version(ProtocolVersion::TLSv1_3), TlsVersion::Tls13);
    }

    #[test]
    fn presented_chains_are_bounded() {
        let ca = ca("Bound CA");
        let leaf = leaf(&ca, &["mx.example.test"], -1, 30);
        let long: Vec<CertificateDer<'static>> = vec![leaf.clone(); 30];
        assert_eq!(summarise_chain(&leaf, &long).len(), MAX_CHAIN);
        let big = CertificateDer::from(vec![0x30; 40 * 1024]);
        let heavy = vec![big.clone(), big.clone(), big];
        // The leaf and the first 40 KiB intermediate fit; the next would pass 64 KiB.
        assert_eq!(summarise_chain(&leaf, &heavy).len(), 2);
        let huge_leaf = CertificateDer::from(vec![0x30; 100 * 1024]);
        assert_eq!(summarise_chain(&huge_leaf, &heavy).len(), 1);
    }
}
