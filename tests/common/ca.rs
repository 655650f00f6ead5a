//! A throw-away certificate authority made per test run (never checked in), issuing leaf
//! certificates with the names and validity a scenario needs.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub cert_der: CertificateDer<'static>,
    pub cert_pem: String,
}

/// A leaf certificate and its key, ready for a rustls server.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Leaf {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl Leaf {
    /// Writes the chain and the key as PEM files `NAME.crt` and `NAME.key` in `dir`, for servers
    /// that read files (nginx, Postfix); the key is PKCS#8 and readable by its owner only.
    pub fn write_pem(
        &self,
        dir: &std::path::Path,
        name: &str,
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        let chain: String = self
            .chain
            .iter()
            .map(|cert| pem("CERTIFICATE", cert.as_ref()))
            .collect();
        std::fs::write(&cert_path, chain).expect("write certificate PEM");
        std::fs::write(&key_path, pem("PRIVATE KEY", self.key.secret_der()))
            .expect("write key PEM");
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))
            .expect("key permissions");
        (cert_path, key_path)
    }
}

/// PEM armour (RFC 7468): base64 in lines of 64 characters between BEGIN and END lines.
fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::new();
    for chunk in der.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let group = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for index in 0..4 {
            if index <= chunk.len() {
                encoded.push(ALPHABET[(group >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// What to put in a leaf.
pub struct LeafSpec<'a> {
    pub dns_names: &'a [&'a str],
    /// Common name only (no SAN) when `dns_names` is empty.
    pub common_name: Option<&'a str>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl<'a> LeafSpec<'a> {
    pub fn valid_for(dns_names: &'a [&'a str]) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            dns_names,
            common_name: None,
            not_before: now - Duration::days(30),
            not_after: now + Duration::days(90),
        }
    }

    pub fn expired(dns_names: &'a [&'a str]) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            dns_names,
            common_name: None,
            not_before: now - Duration::days(120),
            not_after: now - Duration::days(2),
        }
    }

    pub fn expiring_in_days(dns_names: &'a [&'a str], days: i64) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            dns_names,
            common_name: None,
            not_before: now - Duration::days(60),
            not_after: now + Duration::days(days),
        }
    }
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(365);
        params.not_after = now + Duration::days(365);
        let cert = params.self_signed(&key).expect("CA certificate");
        let cert_pem = cert.pem();
        let cert_der = cert.der().clone();
        Self {
            issuer: Issuer::new(params, key),
            cert_der,
            cert_pem,
        }
    }

    pub fn issue(&self, spec: &LeafSpec<'_>) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::default();
        params.subject_alt_names = spec
            .dns_names
            .iter()
            .map(|name| SanType::DnsName((*name).try_into().expect("DNS name")))
            .collect();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            spec.common_name
                .or(spec.dns_names.first().copied())
                .unwrap_or("leaf"),
        );
        params.distinguished_name = dn;
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        Leaf {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// A leaf issued through `intermediates` CA certificates below this one; the chain is sent
    /// leaf first, then each intermediate up to the one this CA signed.
    pub fn issue_deep(&self, spec: &LeafSpec<'_>, intermediates: usize) -> Leaf {
        let mut chain = Vec::new();
        let mut issuers: Vec<Issuer<'static, KeyPair>> = Vec::new();
        for depth in 0..intermediates {
            let key = KeyPair::generate().expect("intermediate key");
            let mut params = CertificateParams::default();
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, format!("intermediate {depth}"));
            params.distinguished_name = dn;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            params.not_before = spec.not_before;
            params.not_after = spec.not_after;
            let cert = params
                .signed_by(&key, issuers.last().unwrap_or(&self.issuer))
                .expect("intermediate certificate");
            chain.insert(0, cert.der().clone());
            issuers.push(Issuer::new(params, key));
        }
        let leaf = Self {
            issuer: issuers
                .pop()
                .unwrap_or_else(|| panic!("at least one intermediate")),
            cert_der: self.cert_der.clone(),
            cert_pem: String::new(),
        }
        .issue(spec);
        Leaf {
            chain: leaf.chain.into_iter().chain(chain).collect(),
            key: leaf.key,
        }
    }

    /// A self-signed leaf (not issued by this CA), for "untrusted" scenarios.
    pub fn self_signed(dns_names: &[&str]) -> Leaf {
        let names: Vec<String> = dns_names.iter().map(|name| (*name).to_owned()).collect();
        let certified = rcgen::generate_simple_self_signed(names).expect("self-signed certificate");
        Leaf {
            chain: vec![certified.cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                certified.signing_key.serialize_der(),
            )),
        }
    }

    /// Writes the CA certificate as PEM, for `--ca-file`.
    pub fn write_pem(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("test-ca.pem");
        std::fs::write(&path, &self.cert_pem).expect("write CA PEM");
        path
    }
}

/// A rustls server config presenting `leaf`.
pub fn server_config(leaf: &Leaf) -> std::sync::Arc<rustls::ServerConfig> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key.clone_key())
        .expect("server certificate");
    std::sync::Arc::new(config)
}

/// A rustls server config choosing its certificate by SNI: `leaves` by exact name, `fallback`
/// for any other name (and for a ClientHello without SNI).
pub fn sni_server_config(
    leaves: &[(&str, &Leaf)],
    fallback: &Leaf,
) -> std::sync::Arc<rustls::ServerConfig> {
    use std::sync::Arc;

    #[derive(Debug)]
    struct BySni {
        names: std::collections::HashMap<String, Arc<rustls::sign::CertifiedKey>>,
        fallback: Arc<rustls::sign::CertifiedKey>,
    }
    impl rustls::server::ResolvesServerCert for BySni {
        fn resolve(
            &self,
            hello: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            let chosen = hello.server_name().and_then(|name| self.names.get(name));
            Some(chosen.unwrap_or(&self.fallback).clone())
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified = |leaf: &Leaf| {
        let key = provider
            .key_provider
            .load_private_key(leaf.key.clone_key())
            .expect("leaf key");
        Arc::new(rustls::sign::CertifiedKey::new(leaf.chain.clone(), key))
    };
    let resolver = BySni {
        names: leaves
            .iter()
            .map(|(name, leaf)| ((*name).to_owned(), certified(leaf)))
            .collect(),
        fallback: certified(fallback),
    };
    let config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .expect("protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    Arc::new(config)
}
