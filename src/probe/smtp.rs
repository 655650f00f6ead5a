//! The STARTTLS probe of one MX address (RFC 3207, RFC 5321): greeting, EHLO, STARTTLS, TLS,
//! EHLO again, QUIT. Never MAIL or RCPT (RFC 3207 §4.1 needs neither, and the probe must not
//! look like mail).
//!
//! A second connection then offers TLS 1.0 and 1.1 only, through a hand-built ClientHello,
//! because rustls cannot speak them (RFC 8996 §4, §5): the first TLS record of the answer says
//! whether the server would negotiate them.
//!
//! Every read is bounded by [`Limits::max_smtp_line`] and [`Limits::max_smtp_lines`], every
//! step runs under a timeout, and each connection under an overall deadline. Everything the
//! server sends is escaped as it is recorded.
//!
//! Politeness: a temporary refusal (a 4xx greeting, or a 4xx answer to EHLO or STARTTLS, such
//! as the `421` of a server limiting connections per client, RFC 5321 §3.1 and §4.2.5) is
//! recognised by
//! [`SmtpObservation::temporary_refusal`]. The caller retries the whole probe
//! ([`super::caching::CachingProbe`], which gives the address's session slot back while it
//! waits); the second connection, which our own first one may have pushed over a rate limit,
//! is retried here. Both wait [`RETRY_BACKOFF`] and leave [`retry_note`] lines in the
//! transcript; a refusal that persists is left for the verdict to call "rate limited". A
//! greeting delay (a tarpit) is waited out up to [`Limits::greeting_timeout`] and recorded in
//! [`SmtpObservation::greeting_delay`].

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{root_store, tls, Limits, NetworkConfig};
use crate::escape::{escape_bytes, escape_str};
use crate::observe::{
    LegacyTls, NotContacted, SmtpFailure, SmtpObservation, SmtpReply, SmtpStep, TlsObservation,
    TlsVersion,
};
use crate::parse::smtp_reply::{advertises, parse_reply, ReplyParse};

/// The waits before the second and third attempt when a server refuses temporarily (4xx).
/// Short on purpose: a server that still refuses after four seconds is reported as rate
/// limited, and the per-domain deadline bounds the whole probe anyway.
pub const RETRY_BACKOFF: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// The transcript line that separates plaintext from TLS-protected lines.
pub const TLS_MARKER: &str = "-- TLS --";

/// How much of a stray byte sequence goes into the transcript.
const SAMPLE_BYTES: usize = 256;
/// How many bytes waiting after the STARTTLS 220 are counted before giving up counting.
const MAX_PRE_TLS_DRAIN: usize = 64 * 1024;
/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 4096;

/// Probes one MX address: the STARTTLS session, then the TLS 1.0/1.1 probe on a second
/// connection if the first one's STARTTLS was answered 220. The second connection is tried
/// again after a temporary refusal (see [`RETRY_BACKOFF`]); the first is tried once, and
/// [`SmtpObservation::temporary_refusal`] tells the caller whether trying again later may help.
pub async fn probe(config: &NetworkConfig, host: &str, ip: IpAddr) -> SmtpObservation {
    let refusal = super::refuse_connection(config, ip);
    let mut obs = starttls_attempt(config, host, ip, refusal).await;
    let accepted = obs
        .starttls_reply
        .as_ref()
        .is_some_and(|reply| reply.code == 220);
    if accepted {
        obs.legacy_tls = legacy_with_retries(config, host, ip).await;
    }
    obs
}

/// The transcript line recording a refused attempt, for people reading the transcript; the
/// count is [`SmtpObservation::attempts`].
pub fn retry_note(attempt: usize, refusal: &str, wait: Duration) -> String {
    format!(
        "{RETRY_NOTE_PREFIX}{attempt} refused for now ({refusal}); trying again after {} --",
        seconds(wait)
    )
}

/// How every [`retry_note`] starts.
const RETRY_NOTE_PREFIX: &str = "-- attempt ";

/// One connection: the STARTTLS session under its overall deadline.
/// `refusal`: the reason this address may not be contacted; the observation then records a
/// connect failure and no connection is made.
async fn starttls_attempt(
    config: &NetworkConfig,
    host: &str,
    ip: IpAddr,
    refusal: Option<String>,
) -> SmtpObservation {
    let mut obs = SmtpObservation::unanswered(
        host,
        ip,
        "STARTTLS was not accepted, so TLS 1.0/1.1 could not be offered",
        None,
    );
    if let Some(detail) = refusal {
        obs.attempts = 0;
        obs.not_contacted = Some(NotContacted::NonPublic);
        obs.failure = Some(SmtpFailure {
            step: SmtpStep::Connect,
            timed_out: false,
            detail,
        });
        return obs;
    }
    let deadline = session_deadline(&config.limits);
    let mut step = SmtpStep::Connect;
    let session = starttls_session(config, host, ip, &mut obs, &mut step);
    match timeout(deadline, session).await {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => obs.failure = Some(failure),
        Err(_) => {
            obs.failure = Some(SmtpFailure {
                step,
                timed_out: true,
                detail: format!(
                    "the SMTP session did not finish within {}",
                    seconds(deadline)
                ),
            });
        }
    }
    obs
}

/// The second connection, tried again after a temporary refusal like the first.
async fn legacy_with_retries(config: &NetworkConfig, host: &str, ip: IpAddr) -> LegacyTls {
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

/// The budget for one connection: the greeting wait plus a few steps. Each step has its own
/// timeout too; this bounds a server that answers every step just before its timeout.
fn session_deadline(limits: &Limits) -> Duration {
    limits.greeting_timeout + limits.step_timeout * 4
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// The first connection. Records into `obs` as it goes, so that a timeout of the whole session
/// keeps what was seen; `step` names the step under way.
async fn starttls_session(
    config: &NetworkConfig,
    host: &str,
    ip: IpAddr,
    obs: &mut SmtpObservation,
    step: &mut SmtpStep,
) -> Result<(), SmtpFailure> {
    let limits = &config.limits;
    let wait = limits.step_timeout;

    *step = SmtpStep::Connect;
    let tcp = connect(ip, config.smtp_port, wait)
        .await
        .map_err(|error| error.at(SmtpStep::Connect))?;
    let mut conn = Conn::new(tcp, limits);

    *step = SmtpStep::Greeting;
    let started = Instant::now();
    let greeting = conn
        .read_reply(limits.greeting_timeout, &mut log(obs))
        .await
        .map_err(|error| error.at(SmtpStep::Greeting))?;
    obs.greeting_delay = started.elapsed();
    let greeting_code = greeting.code;
    let greeting_text = greeting.lines.join(" ");
    obs.greeting = Some(greeting);
    if greeting_code != 220 {
        // 421 and 554 refuse the session (RFC 5321 §3.1, §4.2); nothing more can be learned.
        return Err(StepError::refused(format!(
            "the server greeted with {greeting_code} instead of 220: {greeting_text}"
        ))
        .at(SmtpStep::Greeting));
    }

    *step = SmtpStep::Ehlo;
    let ehlo = conn
        .command(&format!("EHLO {}", config.ehlo_name), wait, &mut log(obs))
        .await
        .map_err(|error| error.at(SmtpStep::Ehlo))?;
    let ehlo_code = ehlo.code;
    let ehlo_text = ehlo.lines.join(" ");
    obs.starttls_offered = ehlo_code == 250 && advertises(&ehlo, "STARTTLS");
    obs.ehlo = Some(ehlo);
    if ehlo_code != 250 {
        conn.quit(wait, &mut log(obs)).await;
        return Err(StepError::refused(format!(
            "EHLO was answered {ehlo_code} instead of 250: {ehlo_text}"
        ))
        .at(SmtpStep::Ehlo));
    }
    if !obs.starttls_offered {
        *step = SmtpStep::Quit;
        conn.quit(wait, &mut log(obs)).await;
        return Ok(());
    }

    *step = SmtpStep::Starttls;
    let reply = conn
        .command("STARTTLS", wait, &mut log(obs))
        .await
        .map_err(|error| error.at(SmtpStep::Starttls))?;
    let starttls_code = reply.code;
    let starttls_text = reply.lines.join(" ");
    obs.starttls_reply = Some(reply);
    if starttls_code != 220 {
        conn.quit(wait, &mut log(obs)).await;
        return Err(StepError::refused(format!(
            "STARTTLS was answered {starttls_code} instead of 220: {starttls_text}"
        ))
        .at(SmtpStep::Starttls));
    }

    // Whatever came after the 220 was sent before the handshake; a client that kept it would
    // read it as a reply inside TLS (STARTTLS injection, RFC 3207 §4.2). Count it, drop it.
    let (tcp, mut early) = conn.into_parts();
    let waiting = drain_ready(&tcp, &mut early);
    obs.pre_tls_bytes = waiting;
    if waiting > 0 {
        log(obs).received(format!(
            "({waiting} bytes before the TLS handshake, discarded) {}",
            sample(&early)
        ));
    }

    *step = SmtpStep::Tls;
    let (tls_stream, tls) = handshake(config, host, tcp)
        .await
        .map_err(|error| error.at(SmtpStep::Tls))?;
    obs.tls = Some(tls);
    obs.transcript.push(TLS_MARKER.to_owned());
    let mut conn = Conn::new(tls_stream, limits);

    // The session starts over inside TLS (RFC 3207 §4.2): EHLO again.
    *step = SmtpStep::EhloTls;
    let ehlo = conn
        .command(&format!("EHLO {}", config.ehlo_name), wait, &mut log(obs))
        .await
        .map_err(|error| error.at(SmtpStep::EhloTls))?;
    if ehlo.code != 250 {
        conn.quit(wait, &mut log(obs)).await;
        return Err(StepError::refused(format!(
            "EHLO inside TLS was answered {} instead of 250: {}",
            ehlo.code,
            ehlo.lines.join(" ")
        ))
        .at(SmtpStep::EhloTls));
    }
    obs.starttls_after_tls = advertises(&ehlo, "STARTTLS");
    *step = SmtpStep::Quit;
    conn.quit(wait, &mut log(obs)).await;
    let (mut tls_stream, _) = conn.into_parts();
    let _ = timeout(wait, tls_stream.shutdown()).await;
    Ok(())
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
        FirstRecord::ServerHello {
            version: version @ (0x0301 | 0x0302),
        } => LegacyTls::Accepted {
            version: TlsVersion::from_wire(version),
        },
        FirstRecord::ServerHello { version } => LegacyTls::NotTested {
            reason: format!(
                "the server answered a TLS 1.0/1.1 ClientHello with a ServerHello for version \
                 0x{version:04x}, which was not offered"
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

/// Why a step did not complete, before it is known which step it was.
#[derive(Debug)]
struct StepError {
    timed_out: bool,
    detail: String,
}

impl StepError {
    fn refused(detail: String) -> Self {
        Self {
            timed_out: false,
            detail,
        }
    }

    fn timed_out(detail: String) -> Self {
        Self {
            timed_out: true,
            detail,
        }
    }

    fn at(self, step: SmtpStep) -> SmtpFailure {
        SmtpFailure {
            step,
            timed_out: self.timed_out,
            detail: self.detail,
        }
    }
}

async fn connect(ip: IpAddr, port: u16, wait: Duration) -> Result<TcpStream, StepError> {
    let addr = SocketAddr::new(ip, port);
    match timeout(wait, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => Ok(tcp),
        Ok(Err(error)) => Err(StepError::refused(format!("connecting to {addr}: {error}"))),
        Err(_) => Err(StepError::timed_out(format!(
            "connecting to {addr}: no answer within {}",
            seconds(wait)
        ))),
    }
}

/// Where one connection records what was said: the transcript, and whether the server said
/// anything at all (so that no verdict has to read the transcript to find out).
struct Log<'a> {
    transcript: &'a mut Vec<String>,
    server_spoke: &'a mut bool,
}

impl Log<'_> {
    /// A line the probe sent (already escaped).
    fn sent(&mut self, line: String) {
        self.transcript.push(format!("C: {line}"));
    }

    /// Something the server sent (already escaped).
    fn received(&mut self, text: String) {
        *self.server_spoke = true;
        self.transcript.push(format!("S: {text}"));
    }
}

/// The log of the STARTTLS session being recorded into `obs`.
fn log(obs: &mut SmtpObservation) -> Log<'_> {
    Log {
        transcript: &mut obs.transcript,
        server_spoke: &mut obs.server_spoke,
    }
}

/// One SMTP connection, plaintext or TLS, with the bytes read but not yet parsed.
struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    max_line: usize,
    max_lines: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(stream: S, limits: &Limits) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            max_line: limits.max_smtp_line,
            max_lines: limits.max_smtp_lines,
        }
    }

    fn into_parts(self) -> (S, Vec<u8>) {
        (self.stream, self.buf)
    }

    async fn command(
        &mut self,
        line: &str,
        wait: Duration,
        transcript: &mut Log<'_>,
    ) -> Result<SmtpReply, StepError> {
        transcript.sent(escape_str(line));
        let wire = format!("{line}\r\n");
        match timeout(wait, self.stream.write_all(wire.as_bytes())).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(StepError::refused(format!("sending: {error}"))),
            Err(_) => {
                return Err(StepError::timed_out(format!(
                    "sending took longer than {}",
                    seconds(wait)
                )))
            }
        }
        self.read_reply(wait, transcript).await
    }

    /// Reads one whole reply within `wait`, recording its lines.
    async fn read_reply(
        &mut self,
        wait: Duration,
        transcript: &mut Log<'_>,
    ) -> Result<SmtpReply, StepError> {
        let (max_line, max_lines) = (self.max_line, self.max_lines);
        let read = async {
            let mut chunk = [0u8; READ_CHUNK];
            loop {
                match parse_reply(&self.buf, max_line, max_lines) {
                    ReplyParse::Complete { reply, consumed } => {
                        let raw: Vec<u8> = self.buf.drain(..consumed).collect();
                        for line in raw.split(|&byte| byte == b'\n') {
                            if !line.is_empty() {
                                let line = line.strip_suffix(b"\r").unwrap_or(line);
                                transcript.received(escape_bytes(line));
                            }
                        }
                        return Ok(reply);
                    }
                    ReplyParse::Invalid(reason) => return Err(StepError::refused(reason)),
                    ReplyParse::Incomplete => {}
                }
                match self.stream.read(&mut chunk).await {
                    Ok(0) => {
                        return Err(StepError::refused(
                            "the server closed the connection".to_owned(),
                        ))
                    }
                    Ok(count) => self.buf.extend_from_slice(&chunk[..count]),
                    Err(error) => return Err(StepError::refused(format!("reading: {error}"))),
                }
            }
        };
        let result = match timeout(wait, read).await {
            Ok(result) => result,
            Err(_) => Err(StepError::timed_out(format!(
                "no complete reply within {}",
                seconds(wait)
            ))),
        };
        if result.is_err() && !self.buf.is_empty() {
            transcript.received(format!("(incomplete) {}", sample(&self.buf)));
            self.buf.clear();
        }
        result
    }

    /// Ends the session politely; a server that does not answer QUIT is not judged for it.
    async fn quit(&mut self, wait: Duration, transcript: &mut Log<'_>) {
        let _ = self.command("QUIT", wait, transcript).await;
    }
}

/// Counts (and keeps a sample of) bytes already waiting on the socket, without waiting.
fn drain_ready(tcp: &TcpStream, early: &mut Vec<u8>) -> usize {
    let mut total = early.len();
    early.truncate(SAMPLE_BYTES);
    let mut chunk = [0u8; READ_CHUNK];
    while total < MAX_PRE_TLS_DRAIN {
        match tcp.try_read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(count) => {
                total += count;
                let room = SAMPLE_BYTES.saturating_sub(early.len());
                early.extend_from_slice(&chunk[..count.min(room)]);
            }
        }
    }
    total
}

/// The start of a byte sequence, escaped, for the transcript.
fn sample(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(SAMPLE_BYTES)];
    let mut text = escape_bytes(shown);
    if bytes.len() > shown.len() {
        text.push_str(&format!(" … ({} bytes in all)", bytes.len()));
    }
    text
}

/// The TLS handshake with SNI = `host`, verified the way a sender verifies, the verdicts kept.
async fn handshake(
    config: &NetworkConfig,
    host: &str,
    tcp: TcpStream,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, TlsObservation), StepError> {
    let server_name =
        ServerName::try_from(host.trim_end_matches('.').to_owned()).map_err(|error| {
            StepError::refused(format!("{host:?} is not a valid TLS name: {error}"))
        })?;
    let recorder = tls::Recorder::new();
    let client_config = tls::client_config(root_store(&config.extra_roots), &recorder);
    let connector = tokio_rustls::TlsConnector::from(client_config);
    let wait = config.limits.step_timeout;
    let stream = match timeout(wait, connector.connect(server_name, tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return Err(StepError::refused(format!("TLS handshake failed: {error}"))),
        Err(_) => {
            return Err(StepError::timed_out(format!(
                "the TLS handshake did not complete within {}",
                seconds(wait)
            )))
        }
    };
    // A completed handshake always saw the server's certificate.
    let observation = tls::observe_connection(&recorder, stream.get_ref().1).ok_or_else(|| {
        StepError::refused("the handshake completed without a certificate".to_owned())
    })?;
    Ok((stream, observation))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ];
        for (record, expected) in cases {
            assert_eq!(legacy_verdict(record), expected);
        }
        assert!(matches!(
            legacy_verdict(FirstRecord::ServerHello { version: 0x0303 }),
            LegacyTls::NotTested { reason } if reason.contains("0x0303")
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

    #[test]
    fn retry_notes_name_the_refusal_and_the_wait() {
        let note = retry_note(1, "421 4.3.2 busy", Duration::from_secs(1));
        assert_eq!(
            note,
            "-- attempt 1 refused for now (421 4.3.2 busy); trying again after 1.0s --"
        );
    }

    /// What one read of a reply records when the server sends `sent` and closes.
    async fn read_after(sent: &[u8]) -> (bool, Vec<String>, bool) {
        let (mut server, client) = tokio::io::duplex(1024);
        server.write_all(sent).await.unwrap();
        drop(server);
        let mut conn = Conn::new(client, &Limits::default());
        let (mut transcript, mut spoke) = (Vec::new(), false);
        let mut log = Log {
            transcript: &mut transcript,
            server_spoke: &mut spoke,
        };
        let ok = conn
            .read_reply(Duration::from_secs(5), &mut log)
            .await
            .is_ok();
        (ok, transcript, spoke)
    }

    #[tokio::test]
    async fn the_server_spoke_only_when_a_byte_arrived() {
        let (ok, transcript, spoke) = read_after(b"").await;
        assert!(!ok);
        assert!(!spoke, "nothing was received");
        assert!(transcript.is_empty());

        let (ok, transcript, spoke) = read_after(b"22").await;
        assert!(!ok);
        assert!(spoke, "an incomplete reply is something");
        assert_eq!(transcript, ["S: (incomplete) 22"]);

        let (ok, transcript, spoke) = read_after(b"220 mx ESMTP\r\n").await;
        assert!(ok);
        assert!(spoke);
        assert_eq!(transcript, ["S: 220 mx ESMTP"]);
    }

    #[test]
    fn samples_are_escaped_and_bounded() {
        assert_eq!(sample(b"250 ok\r\n"), "250 ok\\r\\n");
        let long = vec![b'a'; 1000];
        let text = sample(&long);
        assert!(text.starts_with(&"a".repeat(SAMPLE_BYTES)));
        assert!(text.ends_with("(1000 bytes in all)"));
    }
}
