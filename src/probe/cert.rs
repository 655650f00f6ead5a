//! Certificate summaries for evidence: subject, issuer, SAN dNSNames, validity and serial, read
//! with x509-parser from the DER a server presented (RFC 5280 §4.1, §4.2.1.6).
//!
//! Nothing here decides trust; [`super::tls`] does that with webpki. A certificate that does not
//! parse still yields a summary, saying so, because the bytes came from a remote server.

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::escape::escape_str;
use crate::observe::CertSummary;

/// SAN entries kept per certificate; certificates for CDNs can carry hundreds.
const MAX_DNS_NAMES: usize = 100;
/// Characters kept of a subject, issuer or SAN name (escaped); real ones are under 200.
pub const MAX_NAME_TEXT: usize = 512;

/// Summarises one DER certificate. Never panics; garbage gives an "unparsable certificate" summary.
pub fn summarise(der: &[u8]) -> CertSummary {
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => summarise_parsed(&cert, der),
        Err(err) => CertSummary {
            subject: format!("unparsable certificate ({})", escape_str(&err.to_string())),
            issuer: String::new(),
            dns_names: Vec::new(),
            not_before: 0,
            not_after: 0,
            serial: String::new(),
            spki_sha256: String::new(),
            der: der.to_vec(),
        },
    }
}

/// The validity period of a DER certificate in Unix seconds, if it parses.
pub fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let validity = cert.validity();
    Some((
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    ))
}

fn summarise_parsed(cert: &X509Certificate<'_>, der: &[u8]) -> CertSummary {
    let dns_names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(bounded_text(dns)),
                _ => None,
            })
            .take(MAX_DNS_NAMES)
            .collect(),
        // A malformed or duplicated SAN extension: the name check reports it; here we show none.
        Ok(None) | Err(_) => Vec::new(),
    };
    let validity = cert.validity();
    CertSummary {
        subject: bounded_text(&cert.subject().to_string()),
        issuer: bounded_text(&cert.issuer().to_string()),
        dns_names,
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        serial: hex(cert.raw_serial()),
        spki_sha256: hex(
            ring::digest::digest(&ring::digest::SHA256, cert.public_key().raw).as_ref(),
        ),
        der: der.to_vec(),
    }
}

/// `text` escaped, cut at [`MAX_NAME_TEXT`] characters (marked with `…`).
fn bounded_text(text: &str) -> String {
    let escaped = escape_str(text);
    if escaped.chars().count() <= MAX_NAME_TEXT {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(MAX_NAME_TEXT).collect();
    cut.push('…');
    cut
}

/// Lower-case hex without separators.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gives_an_unparsable_summary() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x82\xff\xff",
            b"not a certificate at all",
        ] {
            let summary = summarise(input);
            assert!(
                summary.subject.starts_with("unparsable certificate"),
                "{summary:?}"
            );
            assert!(summary.dns_names.is_empty());
            assert_eq!(validity(input), None);
        }
    }

    #[test]
    fn truncated_prefixes_of_a_certificate_never_panic() {
        let der = sample_certificate();
        for len in 0..der.len() {
            let _ = summarise(&der[..len]);
        }
        let mut flipped = der;
        for index in (0..flipped.len()).step_by(7) {
            flipped[index] ^= 0x5a;
            let _ = summarise(&flipped);
        }
    }

    #[test]
    fn summarises_names_validity_and_serial() {
        let der = sample_certificate();
        let summary = summarise(&der);
        assert_eq!(
            summary.dns_names,
            vec!["mta-sts.example.test", "*.example.test"]
        );
        assert_eq!(summary.subject, "CN=mta-sts.example.test");
        assert_eq!(summary.issuer, "CN=mta-sts.example.test");
        assert_eq!(summary.not_before, 1_700_000_000 - 1_700_000_000 % 86_400);
        assert!(summary.not_after > summary.not_before);
        assert_eq!(summary.serial, "0102a0");
        // Issue 10: the bytes themselves and the key's fingerprint, for replay and --baseline.
        assert_eq!(summary.der, der);
        assert_eq!(summary.spki_sha256.len(), 64);
        let (_, parsed) = X509Certificate::from_der(&summary.der).unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, parsed.public_key().raw);
        assert_eq!(summary.spki_sha256, hex(digest.as_ref()));
    }

    #[test]
    fn hex_is_lower_case_and_padded() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab]), "000fab");
        assert_eq!(hex(&[]), "");
    }

    /// A self-signed certificate made by rcgen with fixed fields.
    fn sample_certificate() -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec![
            "mta-sts.example.test".to_owned(),
            "*.example.test".to_owned(),
        ])
        .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mta-sts.example.test");
        let day_start = 1_700_000_000 - 1_700_000_000 % 86_400;
        params.not_before = time::OffsetDateTime::from_unix_timestamp(day_start).unwrap();
        params.not_after = params.not_before + time::Duration::days(90);
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x01, 0x02, 0xa0]));
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn long_names_are_cut() {
        let long = "a".repeat(5000);
        let cut = bounded_text(&long);
        assert_eq!(cut.chars().count(), MAX_NAME_TEXT + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(bounded_text("CN=mx.example"), "CN=mx.example");
    }
}
