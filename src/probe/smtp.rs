//! The STARTTLS probe of one MX address (RFC 3207, RFC 5321): greeting, EHLO, STARTTLS, TLS,
//! EHLO again, QUIT. Never MAIL or RCPT (RFC 3207 §4.1 needs neither, and the probe must not
//! look like mail).
//!
//! When STARTTLS was answered 220, a second connection offers TLS 1.0 and 1.1 only
//! (`probe::legacy_tls`); this module holds the SMTP connection both use.
//!
//! Every read is bounded by [`Limits::max_smtp_line`] and [`Limits::max_smtp_lines`], every
//! step runs under a timeout, and each connection under an overall deadline. Everything the
//! server sends is escaped as it is recorded, and whether it sent anything at all is recorded
//! too ([`SmtpObservation::server_spoke`]).
//!
//! Politeness: a temporary refusal (a 4xx greeting, or a 4xx answer to EHLO or STARTTLS, such
//! as the `421` of a server limiting connections per client, RFC 5321 §3.1 and §4.2.5) is
//! recognised by [`SmtpObservation::temporary_refusal`]. The caller retries the whole probe
//! ([`super::caching::CachingProbe`], which gives the address's session slot back while it
//! waits, and counts the sessions in [`SmtpObservation::attempts`]); the second connection is
//! retried by `probe::legacy_tls`. Both wait [`RETRY_BACKOFF`]; the caller leaves
//! [`retry_note`] lines in the transcript for people to read. A refusal that persists is left
//! for the verdict to call "rate limited". A greeting delay (a tarpit) is waited out up to
//! [`Limits::greeting_timeout`] and recorded in [`SmtpObservation::greeting_delay`].

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;

use super::{legacy_tls, root_store, tls, Limits, NetworkConfig};
use crate::escape::{escape_bytes, escape_str};
use crate::observe::{
    whole_millis, ConnectionLoss, NotContacted, SmtpFailure, SmtpObservation, SmtpReply, SmtpStep,
    TlsObservation,
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
    let mut obs = starttls_only(config, host, ip).await;
    let accepted = obs
        .starttls_reply
        .as_ref()
        .is_some_and(|reply| reply.code == 220);
    // A server that dropped the handshake will be tried again whole; a second connection now
    // would only be dropped too.
    if accepted && obs.lost_mid_session().is_none() {
        obs.legacy_tls = legacy_tls::probe(config, host, ip).await;
    }
    obs
}

/// The STARTTLS session alone, without the TLS 1.0/1.1 probe (run once per address by
/// [`super::caching::CachingProbe`]); `legacy_tls` says it was not tried.
pub async fn starttls_only(config: &NetworkConfig, host: &str, ip: IpAddr) -> SmtpObservation {
    starttls_telling(config, host, ip, None).await
}

/// [`starttls_only`], telling `accepted` as soon as STARTTLS is answered 220, while the
/// handshake and the rest of the session are still to come (see [`super::Probe::starttls_telling`]).
pub async fn starttls_telling(
    config: &NetworkConfig,
    host: &str,
    ip: IpAddr,
    accepted: Option<oneshot::Sender<()>>,
) -> SmtpObservation {
    let refusal = super::refuse_connection(config, ip);
    starttls_attempt(config, host, ip, refusal, accepted).await
}

/// The transcript line recording a refused attempt, for people reading the transcript; the
/// count is [`SmtpObservation::attempts`].
/// `reason` is [`SmtpObservation::retry_reason`]: "refused for now (421 …)", "the server reset
/// the connection after its greeting".
pub fn retry_note(attempt: usize, reason: &str, wait: Duration) -> String {
    format!(
        "{RETRY_NOTE_PREFIX}{attempt} {reason}; trying again after {} --",
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
    accepted: Option<oneshot::Sender<()>>,
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
    let session = starttls_session(config, host, ip, &mut obs, &mut step, accepted);
    match timeout(deadline, session).await {
        Ok(Ok(())) => {}
        Ok(Err((failure, lost))) => {
            obs.failure = Some(failure);
            obs.connection_lost = lost;
        }
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

/// The budget for one connection: the greeting wait plus a few steps. Each step has its own
/// timeout too; this bounds a server that answers every step just before its timeout.
pub(super) fn session_deadline(limits: &Limits) -> Duration {
    limits.greeting_timeout + limits.step_timeout * 4
}

pub(super) fn seconds(duration: Duration) -> String {
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
    accepted: Option<oneshot::Sender<()>>,
) -> Result<(), Stopped> {
    let limits = &config.limits;
    let wait = limits.step_timeout;

    *step = SmtpStep::Connect;
    let tcp = connect(ip, config.smtp_port, wait)
        .await
        .map_err(|error| error.stop(SmtpStep::Connect))?;
    let mut conn = Conn::new(tcp, limits);

    *step = SmtpStep::Greeting;
    let started = Instant::now();
    let greeting = conn
        .read_reply(limits.greeting_timeout, &mut log(obs))
        .await
        .map_err(|error| error.stop(SmtpStep::Greeting))?;
    obs.greeting_delay = whole_millis(started.elapsed());
    let greeting_code = greeting.code;
    let greeting_text = greeting.lines.join(" ");
    obs.greeting = Some(greeting);
    if greeting_code != 220 {
        // 421 and 554 refuse the session (RFC 5321 §3.1, §4.2); nothing more can be learned.
        return Err(StepError::refused(format!(
            "the server greeted with {greeting_code} instead of 220: {greeting_text}"
        ))
        .stop(SmtpStep::Greeting));
    }

    *step = SmtpStep::Ehlo;
    let ehlo = conn
        .command(&format!("EHLO {}", config.ehlo_name), wait, &mut log(obs))
        .await
        .map_err(|error| error.stop(SmtpStep::Ehlo))?;
    let ehlo_code = ehlo.code;
    let ehlo_text = ehlo.lines.join(" ");
    obs.starttls_offered = ehlo_code == 250 && advertises(&ehlo, "STARTTLS");
    obs.ehlo = Some(ehlo);
    if ehlo_code != 250 {
        conn.quit(wait, &mut log(obs)).await;
        return Err(StepError::refused(format!(
            "EHLO was answered {ehlo_code} instead of 250: {ehlo_text}"
        ))
        .stop(SmtpStep::Ehlo));
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
        .map_err(|error| error.stop(SmtpStep::Starttls))?;
    let starttls_code = reply.code;
    let starttls_text = reply.lines.join(" ");
    obs.starttls_reply = Some(reply);
    if starttls_code != 220 {
        conn.quit(wait, &mut log(obs)).await;
        return Err(StepError::refused(format!(
            "STARTTLS was answered {starttls_code} instead of 220: {starttls_text}"
        ))
        .stop(SmtpStep::Starttls));
    }
    if let Some(accepted) = accepted {
        let _ = accepted.send(());
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
        .map_err(|error| error.stop(SmtpStep::Tls))?;
    obs.tls = Some(tls);
    obs.transcript.push(TLS_MARKER.to_owned());
    let mut conn = Conn::new(tls_stream, limits);

    // The session starts over inside TLS (RFC 3207 §4.2): EHLO again.
    *step = SmtpStep::EhloTls;
    let ehlo = conn
        .command(&format!("EHLO {}", config.ehlo_name), wait, &mut log(obs))
        .await
        .map_err(|error| error.stop(SmtpStep::EhloTls))?;
    if ehlo.code != 250 {
        conn.quit(wait, &mut log(obs)).await;
        return Err(StepError::refused(format!(
            "EHLO inside TLS was answered {} instead of 250: {}",
            ehlo.code,
            ehlo.lines.join(" ")
        ))
        .stop(SmtpStep::EhloTls));
    }
    obs.starttls_after_tls = advertises(&ehlo, "STARTTLS");
    *step = SmtpStep::Quit;
    conn.quit(wait, &mut log(obs)).await;
    let (mut tls_stream, _) = conn.into_parts();
    let _ = timeout(wait, tls_stream.shutdown()).await;
    Ok(())
}

/// Where the STARTTLS session stopped, and whether the server dropped the connection there.
type Stopped = (SmtpFailure, Option<ConnectionLoss>);

/// Why a step did not complete, before it is known which step it was.
#[derive(Debug)]
pub(super) struct StepError {
    timed_out: bool,
    pub(super) detail: String,
    /// The server reset or closed the connection (rather than answering, or timing out).
    lost: Option<ConnectionLoss>,
}

impl StepError {
    fn refused(detail: String) -> Self {
        Self {
            timed_out: false,
            detail,
            lost: None,
        }
    }

    fn timed_out(detail: String) -> Self {
        Self {
            timed_out: true,
            detail,
            lost: None,
        }
    }

    /// An I/O error while `doing` ("reading", "sending"), the loss of the connection told
    /// apart from other errors.
    fn io(doing: &str, error: &std::io::Error) -> Self {
        let lost = connection_loss(error);
        let detail = match lost {
            Some(ConnectionLoss::Reset) => {
                format!("{doing}: the server reset the connection ({error})")
            }
            Some(ConnectionLoss::Closed) => format!("{doing}: the server closed the connection"),
            None => format!("{doing}: {error}"),
        };
        Self {
            timed_out: false,
            detail,
            lost,
        }
    }

    fn stop(self, step: SmtpStep) -> Stopped {
        let lost = self.lost;
        (self.at(step), lost)
    }

    fn at(self, step: SmtpStep) -> SmtpFailure {
        SmtpFailure {
            step,
            timed_out: self.timed_out,
            detail: self.detail,
        }
    }
}

pub(super) async fn connect(ip: IpAddr, port: u16, wait: Duration) -> Result<TcpStream, StepError> {
    let addr = SocketAddr::new(ip, port);
    match timeout(wait, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => {
            // Without it, Nagle's algorithm holds the EHLO sent right after the TLS 1.3
            // Finished until the server acknowledges the Finished, which a server with nothing
            // else to send does with its session tickets: one round trip lost per session.
            // Every other write of the dialogue follows an answer, so nothing is gained by
            // coalescing.
            let _ = tcp.set_nodelay(true);
            Ok(tcp)
        }
        Ok(Err(error)) => Err(StepError::refused(format!("connecting to {addr}: {error}"))),
        Err(_) => Err(StepError::timed_out(format!(
            "connecting to {addr}: no answer within {}",
            seconds(wait)
        ))),
    }
}

/// Whether `error` is the server dropping the connection: a reset (or a write into a connection
/// it has reset), or an end of stream where the dialogue expected more.
fn connection_loss(error: &std::io::Error) -> Option<ConnectionLoss> {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            Some(ConnectionLoss::Reset)
        }
        ErrorKind::UnexpectedEof => Some(ConnectionLoss::Closed),
        _ => None,
    }
}

/// A TLS handshake error as a sentence: rustls's own message where there is one, the
/// connection's end in words otherwise.
fn tls_error(error: &std::io::Error) -> String {
    match connection_loss(error) {
        Some(ConnectionLoss::Reset) => format!("the server reset the connection ({error})"),
        Some(ConnectionLoss::Closed) => {
            "the server closed the connection before the handshake finished".to_owned()
        }
        None => match error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => tls::describe_error(tls),
            None => error.to_string(),
        },
    }
}

/// Where one connection records what was said: the transcript, and whether the server said
/// anything at all (so that no verdict has to read the transcript to find out).
pub(super) struct Log<'a> {
    pub(super) transcript: &'a mut Vec<String>,
    pub(super) server_spoke: &'a mut bool,
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
pub(super) struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    max_line: usize,
    max_lines: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(super) fn new(stream: S, limits: &Limits) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            max_line: limits.max_smtp_line,
            max_lines: limits.max_smtp_lines,
        }
    }

    pub(super) fn into_parts(self) -> (S, Vec<u8>) {
        (self.stream, self.buf)
    }

    pub(super) async fn command(
        &mut self,
        line: &str,
        wait: Duration,
        transcript: &mut Log<'_>,
    ) -> Result<SmtpReply, StepError> {
        transcript.sent(escape_str(line));
        let wire = format!("{line}\r\n");
        match timeout(wait, self.stream.write_all(wire.as_bytes())).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(StepError::io("sending", &error)),
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
    pub(super) async fn read_reply(
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
                        return Err(StepError {
                            lost: Some(ConnectionLoss::Closed),
                            ..StepError::refused("the server closed the connection".to_owned())
                        })
                    }
                    Ok(count) => self.buf.extend_from_slice(&chunk[..count]),
                    Err(error) => return Err(StepError::io("reading", &error)),
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
pub(super) fn sample(bytes: &[u8]) -> String {
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
        Ok(Err(error)) => {
            return Err(StepError {
                lost: connection_loss(&error),
                ..StepError::refused(format!("TLS handshake failed: {}", tls_error(&error)))
            })
        }
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

    #[test]
    fn retry_notes_name_the_refusal_and_the_wait() {
        let note = retry_note(
            1,
            "refused for now (421 4.3.2 busy)",
            Duration::from_secs(1),
        );
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

    /// Issue 11: with Nagle's algorithm, the EHLO written right after the TLS 1.3 Finished
    /// waited for the server's acknowledgement, which came with its session tickets a round
    /// trip later (the benchmark's one-domain run counted 8 round trips instead of 7).
    #[tokio::test]
    async fn smtp_connections_send_without_delay() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let tcp = connect(addr.ip(), addr.port(), Duration::from_secs(5))
            .await
            .unwrap();
        assert!(tcp.nodelay().unwrap());
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
