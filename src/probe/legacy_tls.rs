//! The TLS 1.0/1.1 probe of one MX address (RFC 8996 §4, §5): a second connection, up to
//! STARTTLS like the first (RFC 3207), then a hand-built ClientHello offering only TLS 1.0 and
//! 1.1, because rustls cannot speak them. The first TLS record of the answer says whether the
//! server would negotiate them (RFC 5246 §6.2.1, §7.4); the handshake is never completed.
//!
//! Our own first connection may have pushed the server over a rate limit, so a temporary
//! refusal (4xx) of this one is tried again after [`RETRY_BACKOFF`]. Its transcript is not
//! kept: the STARTTLS session ([`super::smtp`]) already shows the conversation.

use std::net::IpAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

use super::smtp::{connect, sample, seconds, session_deadline, Conn, Log, RETRY_BACKOFF};
use super::NetworkConfig;
use crate::observe::{LegacyTls, SmtpReply, SmtpStep, TlsVersion};

/// The second connection, tried again after a temporary refusal like the first (see
/// [`RETRY_BACKOFF`]).
pub(super) async fn probe(config: &NetworkConfig, host: &str, ip: IpAddr) -> LegacyTls {
    let deadline = session_deadline(&config.limits);
    let mut retries = 0;
    loop {
        let refusal = match timeout(deadline, legacy_probe(config, host, ip)).await {
            Ok(Ok(result)) => return result,
            Ok(Err(refusal)) => refusal,
            Err(_) => {
                return LegacyTls::NotTested {
                    reason: format!(
                        "the TLS 1.0/1.1 probe did not finish within {}",
                        seconds(deadline)
                    ),
                }
            }
        };
        let Some(&wait) = RETRY_BACKOFF.get(retries) else {
            let attempts = retries + 1;
            return LegacyTls::NotTested {
                reason: format!(
                    "the second connection was refused for now at {}: rate limited ({}), still \
                     after {attempts} attempts",
                    refusal.step,
                    refusal.reply.describe()
                ),
            };
        };
        retries += 1;
        tokio::time::sleep(wait).await;
    }
}

/// A 4xx answer on the second connection.
struct LegacyRefusal {
    step: SmtpStep,
    reply: SmtpReply,
}

/// The second connection: up to STARTTLS as before, then a ClientHello offering only TLS 1.0
/// and 1.1, and a look at the first record of the answer. `Err` is a temporary refusal, worth
/// another try.
async fn legacy_probe(
    config: &NetworkConfig,
    host: &str,
    ip: IpAddr,
) -> Result<LegacyTls, LegacyRefusal> {
    let limits = &config.limits;
    let wait = limits.step_timeout;
    let not_tested = |step: SmtpStep, detail: String| {
        Ok(LegacyTls::NotTested {
            reason: format!("the second connection failed at {step}: {detail}"),
        })
    };
    let refused = |step: SmtpStep, reply: SmtpReply| Err(LegacyRefusal { step, reply });
    // This connection's transcript is not kept: the first one already shows the session.
    let (mut transcript, mut spoke) = (Vec::new(), false);
    let mut transcript = Log {
        transcript: &mut transcript,
        server_spoke: &mut spoke,
    };
    let tcp = match connect(ip, config.smtp_port, wait).await {
        Ok(tcp) => tcp,
        Err(error) => return not_tested(SmtpStep::Connect, error.detail),
    };
    let mut conn = Conn::new(tcp, limits);
    match conn
        .read_reply(limits.greeting_timeout, &mut transcript)
        .await
    {
        Ok(reply) if reply.code == 220 => {}
        Ok(reply) if reply.is_temporary() => return refused(SmtpStep::Greeting, reply),
        Ok(reply) => return not_tested(SmtpStep::Greeting, format!("greeted with {}", reply.code)),
        Err(error) => return not_tested(SmtpStep::Greeting, error.detail),
    }
    let ehlo = format!("EHLO {}", config.ehlo_name);
    match conn.command(&ehlo, wait, &mut transcript).await {
        Ok(reply) if reply.code == 250 => {}
        Ok(reply) if reply.is_temporary() => return refused(SmtpStep::Ehlo, reply),
        Ok(reply) => return not_tested(SmtpStep::Ehlo, format!("answered {}", reply.code)),
        Err(error) => return not_tested(SmtpStep::Ehlo, error.detail),
    }
    match conn.command("STARTTLS", wait, &mut transcript).await {
        Ok(reply) if reply.code == 220 => {}
        Ok(reply) if reply.is_temporary() => return refused(SmtpStep::Starttls, reply),
        Ok(reply) => return not_tested(SmtpStep::Starttls, format!("answered {}", reply.code)),
        Err(error) => return not_tested(SmtpStep::Starttls, error.detail),
    }
    let (mut tcp, _) = conn.into_parts();

    let mut random = [0u8; 32];
    // The random only has to look like one; the handshake is never completed.
    let _ = rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut random);
    let hello = legacy_client_hello(host, &random);
    match timeout(wait, tcp.write_all(&hello)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return not_tested(SmtpStep::Tls, error.to_string()),
        Err(_) => {
            return not_tested(
                SmtpStep::Tls,
                "timed out sending the ClientHello".to_owned(),
            )
        }
    }

    let mut answer = Vec::new();
    let read = async {
        let mut chunk = [0u8; 512];
        loop {
            match first_record(&answer) {
                FirstRecord::NeedMore => {}
                decided => return decided,
            }
            match tcp.read(&mut chunk).await {
                // A close (or a reset) without a ServerHello is a refusal.
                Ok(0) if answer.is_empty() => return FirstRecord::Closed,
                Ok(0) => {
                    return FirstRecord::Other(format!(
                        "the connection closed inside the first TLS record: {}",
                        sample(&answer)
                    ))
                }
                Ok(count) => answer.extend_from_slice(&chunk[..count]),
                Err(_) if answer.is_empty() => return FirstRecord::Closed,
                Err(error) => return FirstRecord::Other(error.to_string()),
            }
        }
    };
    let Ok(record) = timeout(wait, read).await else {
        return Ok(LegacyTls::NotTested {
            reason: format!(
                "no answer to a TLS 1.0/1.1 ClientHello within {}",
                seconds(wait)
            ),
        });
    };
    Ok(legacy_verdict(record))
}

/// Maps the first TLS record of the answer to a TLS 1.0/1.1-only ClientHello.
fn legacy_verdict(record: FirstRecord) -> LegacyTls {
    match record {
        // A server may choose a version below the client's highest (RFC 5246 appendix E.1):
        // SSL 3.0 is an answer too, and a worse one.
        FirstRecord::ServerHello {
            version: version @ 0x0300..=0x0302,
        } => LegacyTls::Accepted {
            version: TlsVersion::from_wire(version),
        },
        FirstRecord::ServerHello { version } => LegacyTls::NotTested {
            reason: format!(
                "the server answered a ClientHello offering only TLS 1.0 and 1.1 with a \
                 ServerHello for {}, which was not offered",
                TlsVersion::from_wire(version)
            ),
        },
        FirstRecord::Alert { .. } | FirstRecord::Closed => LegacyTls::Refused,
        FirstRecord::Other(reason) => LegacyTls::NotTested { reason },
        FirstRecord::NeedMore => LegacyTls::NotTested {
            reason: "the answer ended before a whole TLS record header".to_owned(),
        },
    }
}

/// What the first TLS record from the server says.
#[derive(Debug, PartialEq, Eq)]
enum FirstRecord {
    NeedMore,
    /// A Handshake record whose first message is a ServerHello with this `server_version`.
    ServerHello {
        version: u16,
    },
    Alert {
        level: u8,
        description: u8,
    },
    /// The server closed the connection without sending anything.
    Closed,
    Other(String),
}

const CONTENT_ALERT: u8 = 0x15;
const CONTENT_HANDSHAKE: u8 = 0x16;
const HANDSHAKE_SERVER_HELLO: u8 = 2;

/// Classifies the first bytes the server sent after a ClientHello (RFC 5246 §6.2.1, §7.4).
/// Only the record header and the start of its first message are needed.
fn first_record(bytes: &[u8]) -> FirstRecord {
    let Some((header, body)) = bytes.split_first_chunk::<5>() else {
        if bytes
            .first()
            .is_some_and(|&kind| !matches!(kind, CONTENT_ALERT | CONTENT_HANDSHAKE))
        {
            return not_tls(bytes);
        }
        return FirstRecord::NeedMore;
    };
    let [content_type, major, _minor, len_high, len_low] = *header;
    let length = usize::from(u16::from_be_bytes([len_high, len_low]));
    if major != 3 || length == 0 {
        return not_tls(bytes);
    }
    match content_type {
        CONTENT_ALERT => match body {
            [level, description, ..] if length >= 2 => FirstRecord::Alert {
                level: *level,
                description: *description,
            },
            _ if length < 2 => not_tls(bytes),
            _ => FirstRecord::NeedMore,
        },
        CONTENT_HANDSHAKE => {
            // msg_type (1), length (3), server_version (2).
            if length < 6 {
                return FirstRecord::Other("a TLS handshake record too short to read".to_owned());
            }
            match body {
                [HANDSHAKE_SERVER_HELLO, _, _, _, major, minor, ..] => FirstRecord::ServerHello {
                    version: u16::from_be_bytes([*major, *minor]),
                },
                [kind, _, _, _, _, _, ..] => FirstRecord::Other(format!(
                    "the first handshake message was type {kind}, not a ServerHello"
                )),
                _ => FirstRecord::NeedMore,
            }
        }
        _ => not_tls(bytes),
    }
}

fn not_tls(bytes: &[u8]) -> FirstRecord {
    FirstRecord::Other(format!(
        "the answer is not a TLS alert or handshake record: {}",
        sample(bytes)
    ))
}

/// A ClientHello offering only TLS 1.0 and 1.1 (RFC 2246 §7.4.1.2, RFC 4346): record version
/// 0x0301, client_version 0x0302, no supported_versions extension, and TLS 1.0-era cipher
/// suites. SNI carries `host` (RFC 6066 §3) so that a name-based server picks the right one.
fn legacy_client_hello(host: &str, random: &[u8; 32]) -> Vec<u8> {
    const SUITES: [u16; 6] = [
        0xc013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
        0xc014, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
        0xc009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
        0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
        0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
        0x000a, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
    ];
    let mut extensions = Vec::new();
    let name = host.trim_end_matches('.').as_bytes();
    // A DNS name is at most 255 octets (RFC 1035 §2.3.4), which keeps every length below small.
    let is_dns_name = !name.is_empty() && name.len() <= 255 && host.parse::<IpAddr>().is_err();
    if let (true, Ok(name_len)) = (is_dns_name, u16::try_from(name.len())) {
        // server_name: list length, name_type host_name (0), name length, name.
        push_extension(&mut extensions, 0x0000, &{
            let mut data = Vec::new();
            data.extend_from_slice(&(name_len + 3).to_be_bytes());
            data.push(0);
            data.extend_from_slice(&name_len.to_be_bytes());
            data.extend_from_slice(name);
            data
        });
    }
    // supported_groups x25519, secp256r1, secp384r1 and ec_point_formats uncompressed, so that
    // the ECDHE suites can be chosen (RFC 8422 §5.1).
    push_extension(
        &mut extensions,
        0x000a,
        &[0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18],
    );
    push_extension(&mut extensions, 0x000b, &[0x01, 0x00]);
    // renegotiation_info, empty: some servers refuse a hello without it (RFC 5746 §3.4).
    push_extension(&mut extensions, 0xff01, &[0x00]);

    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x02]);
    body.extend_from_slice(random);
    body.push(0); // empty session_id
    body.extend_from_slice(&((SUITES.len() * 2) as u16).to_be_bytes());
    for suite in SUITES {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]); // compression: null only
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);

    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);

    let mut record = vec![CONTENT_HANDSHAKE, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

fn push_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::escape_bytes;

    fn hex_fixture(text: &str) -> Vec<u8> {
        let digits: String = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .flat_map(|line| line.split_whitespace())
            .collect();
        (0..digits.len())
            .step_by(2)
            .map(|index| u8::from_str_radix(&digits[index..index + 2], 16).unwrap())
            .collect()
    }

    const TLS10_SERVER_HELLO: &str =
        include_str!("../../fixtures/smtp/openssl-tls10-server-hello.hex");
    const TLS11_SERVER_HELLO: &str =
        include_str!("../../fixtures/smtp/openssl-tls11-server-hello.hex");
    const PROTOCOL_VERSION_ALERT: &str =
        include_str!("../../fixtures/smtp/openssl-protocol-version-alert.hex");

    #[test]
    fn first_record_classifies_real_answers() {
        let tls10 = hex_fixture(TLS10_SERVER_HELLO);
        let tls11 = hex_fixture(TLS11_SERVER_HELLO);
        let alert = hex_fixture(PROTOCOL_VERSION_ALERT);
        let cases: Vec<(&[u8], FirstRecord)> = vec![
            (&tls10, FirstRecord::ServerHello { version: 0x0301 }),
            (&tls11, FirstRecord::ServerHello { version: 0x0302 }),
            // Eleven bytes are enough to decide.
            (&tls10[..11], FirstRecord::ServerHello { version: 0x0301 }),
            (&tls10[..10], FirstRecord::NeedMore),
            (&tls10[..3], FirstRecord::NeedMore),
            (&[], FirstRecord::NeedMore),
            (
                &alert,
                FirstRecord::Alert {
                    level: 2,
                    description: 70,
                },
            ),
            (&alert[..6], FirstRecord::NeedMore),
        ];
        for (bytes, expected) in cases {
            assert_eq!(first_record(bytes), expected, "{}", escape_bytes(bytes));
        }
    }

    #[test]
    fn first_record_rejects_garbage() {
        let cases: &[&[u8]] = &[
            b"554 5.7.0 go away\r\n",
            b"5",
            b"\x16\x02\x00\x00\x10",                 // not version 3.x
            b"\x16\x03\x01\x00\x00",                 // empty record
            b"\x17\x03\x03\x00\x10abcdefghij",       // application data
            b"\x15\x03\x01\x00\x01\x02",             // alert too short
            b"\x16\x03\x01\x00\x04\x02\x00\x00\x00", // handshake too short for a version
            b"\x16\x03\x01\x00\x40\x0b\x00\x00\x3c\x03\x01", // a Certificate first
        ];
        for bytes in cases {
            assert!(
                matches!(first_record(bytes), FirstRecord::Other(_)),
                "{} -> {:?}",
                escape_bytes(bytes),
                first_record(bytes)
            );
        }
    }

    #[test]
    fn legacy_verdicts() {
        let cases = [
            (
                FirstRecord::ServerHello { version: 0x0301 },
                LegacyTls::Accepted {
                    version: TlsVersion::Tls10,
                },
            ),
            (
                FirstRecord::ServerHello { version: 0x0302 },
                LegacyTls::Accepted {
                    version: TlsVersion::Tls11,
                },
            ),
            (
                FirstRecord::Alert {
                    level: 2,
                    description: 70,
                },
                LegacyTls::Refused,
            ),
            (FirstRecord::Closed, LegacyTls::Refused),
            (
                FirstRecord::ServerHello { version: 0x0300 },
                LegacyTls::Accepted {
                    version: TlsVersion::Ssl3,
                },
            ),
        ];
        for (record, expected) in cases {
            assert_eq!(legacy_verdict(record), expected);
        }
        assert!(matches!(
            legacy_verdict(FirstRecord::ServerHello { version: 0x0303 }),
            LegacyTls::NotTested { reason } if reason.contains("a ServerHello for TLSv1.2, which")
        ));
        assert!(matches!(
            legacy_verdict(FirstRecord::Other("x".to_owned())),
            LegacyTls::NotTested { .. }
        ));
    }

    #[test]
    fn legacy_client_hello_offers_only_tls10_and_11() {
        let random = [7u8; 32];
        let hello = legacy_client_hello("mx.example.test", &random);
        // Record header: handshake, version 0x0301, length of the rest.
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(
            usize::from(u16::from_be_bytes([hello[3], hello[4]])),
            hello.len() - 5
        );
        // Handshake header: ClientHello with its length, then client_version 0x0302.
        assert_eq!(hello[5], 1);
        assert_eq!(
            u32::from_be_bytes([0, hello[6], hello[7], hello[8]]) as usize,
            hello.len() - 9
        );
        assert_eq!(&hello[9..11], &[0x03, 0x02]);
        assert_eq!(&hello[11..43], &random);
        assert_eq!(hello[43], 0, "empty session id");
        let suites_len = usize::from(u16::from_be_bytes([hello[44], hello[45]]));
        let suites: Vec<u16> = hello[46..46 + suites_len]
            .chunks(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        for suite in [0xc013, 0xc014, 0x002f, 0x0035, 0x000a] {
            assert!(suites.contains(&suite), "{suite:04x} missing");
        }
        let mut pos = 46 + suites_len;
        assert_eq!(&hello[pos..pos + 2], &[1, 0], "null compression only");
        pos += 2;
        let extensions_len = usize::from(u16::from_be_bytes([hello[pos], hello[pos + 1]]));
        pos += 2;
        assert_eq!(pos + extensions_len, hello.len());
        let mut kinds = Vec::new();
        while pos < hello.len() {
            let kind = u16::from_be_bytes([hello[pos], hello[pos + 1]]);
            let len = usize::from(u16::from_be_bytes([hello[pos + 2], hello[pos + 3]]));
            if kind == 0 {
                assert_eq!(&hello[pos + 9..pos + 4 + len], b"mx.example.test");
            }
            kinds.push(kind);
            pos += 4 + len;
        }
        assert!(kinds.contains(&0x0000), "SNI");
        assert!(!kinds.contains(&0x002b), "no supported_versions");
        assert_eq!(pos, hello.len());
    }

    #[test]
    fn legacy_client_hello_skips_sni_for_addresses() {
        let with_name = legacy_client_hello("mx.example.test", &[0; 32]);
        let with_ip = legacy_client_hello("192.0.2.1", &[0; 32]);
        assert_eq!(
            with_name.len() - with_ip.len(),
            4 + 5 + "mx.example.test".len()
        );
    }
}
