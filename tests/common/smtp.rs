//! A scriptable SMTP server on loopback: well-behaved or hostile on purpose, with STARTTLS
//! through tokio-rustls and a leaf from the test CA. It counts connections and records every
//! command it receives, so that a test can assert that the probe never sent MAIL or RCPT.
// Test scaffolding: a panic here is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::ca::{server_config, Leaf};

/// How the server behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Multi-line 220, `250-starttls` (lower case, EC-62), STARTTLS → 220 and TLS, EHLO inside
    /// TLS without STARTTLS, QUIT → 221. A TLS 1.0/1.1-only ClientHello gets rustls's alert.
    Normal,
    NoStarttls,
    /// STARTTLS answered `454 4.7.0 TLS not available` (EC-63).
    Starttls454,
    Greeting421,
    /// Greets with 220, then answers EHLO `421 4.7.0` (too many connections) and closes.
    Ehlo421,
    /// Greets `421` on the first N connections, then behaves as [`Behaviour::Normal`].
    Greeting421First(usize),
    /// Greets `421` on the connections with these 0-based indexes, otherwise as
    /// [`Behaviour::Normal`].
    Greeting421On(Vec<usize>),
    /// Greets normally after this delay.
    GreetingDelay(Duration),
    /// Accepts the connection and never sends a byte.
    Silent,
    /// Sends `250-injected\r\n` in the same write as the STARTTLS 220.
    InjectAfterStarttls,
    /// Advertises STARTTLS again inside TLS.
    ReadvertiseAfterTls,
    /// Answers a ClientHello that offers nothing above TLS 1.1 with a canned TLS 1.0
    /// ServerHello record (rustls cannot speak TLS 1.0); a modern ClientHello gets rustls.
    LegacyTls10,
    /// Answers STARTTLS with 220 and then never speaks TLS.
    StallAfterStarttls,
    /// A greeting of endless `220-` lines.
    EndlessGreeting,
    /// A greeting whose one line never ends.
    HugeGreetingLine,
    /// A greeting dripped one byte every 100 ms, never finished.
    DripGreeting,
    /// Answers EHLO with endless `250-` continuation lines.
    EndlessEhlo,
    /// Answers EHLO with `250-` and one line of 1 MiB, then the rest of a normal reply.
    HugeEhloLine,
    /// Answers STARTTLS with 220 and closes the connection.
    CloseAfterStarttls,
    /// Answers STARTTLS with 220 and then sends plain-text garbage instead of a ServerHello.
    GarbageAfterStarttls,
    /// Resets the connection (TCP RST, `SO_LINGER` 0) at this point of the session.
    ResetAt(ResetStage),
    /// Resets at this point on the first N connections, then behaves as [`Behaviour::Normal`].
    ResetAtFirst(ResetStage, usize),
    /// As [`Behaviour::LegacyTls10`], with an SSL 3.0 ServerHello.
    LegacySsl3,
}

/// Where [`Behaviour::ResetAt`] resets the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetStage {
    /// On reading EHLO, after the greeting.
    AfterGreeting,
    /// On reading STARTTLS, after the EHLO reply.
    AfterEhlo,
    /// Right after the STARTTLS 220.
    AfterStarttls220,
}

/// The canned TLS 1.0 ServerHello, captured from OpenSSL (see the fixture's header).
const TLS10_SERVER_HELLO: &str = include_str!("../../fixtures/smtp/openssl-tls10-server-hello.hex");

pub struct SmtpServer {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    sessions: Arc<Sessions>,
    commands: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// Starts a server on `ip` and `port` (0 for any free port).
    pub async fn start(ip: IpAddr, port: u16, behaviour: Behaviour, leaf: &Leaf) -> Self {
        Self::start_with_tls(ip, port, behaviour, server_config(leaf)).await
    }

    /// Starts a server whose STARTTLS uses `tls` (e.g. a certificate chosen by SNI).
    pub async fn start_with_tls(
        ip: IpAddr,
        port: u16,
        behaviour: Behaviour,
        tls: Arc<rustls::ServerConfig>,
    ) -> Self {
        let listener = TcpListener::bind((ip, port))
            .await
            .expect("bind SMTP server");
        let addr = listener.local_addr().expect("local address");
        let connections = Arc::new(AtomicUsize::new(0));
        let sessions = Arc::new(Sessions::default());
        let commands = Arc::new(Mutex::new(Vec::new()));
        let task = {
            let connections = connections.clone();
            let sessions = sessions.clone();
            let commands = commands.clone();
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let index = connections.fetch_add(1, Ordering::SeqCst);
                    let behaviour = match &behaviour {
                        Behaviour::Greeting421First(count) if index < *count => {
                            Behaviour::Greeting421
                        }
                        Behaviour::Greeting421First(_) => Behaviour::Normal,
                        Behaviour::Greeting421On(refused) if refused.contains(&index) => {
                            Behaviour::Greeting421
                        }
                        Behaviour::Greeting421On(_) => Behaviour::Normal,
                        Behaviour::ResetAtFirst(stage, count) if index < *count => {
                            Behaviour::ResetAt(*stage)
                        }
                        Behaviour::ResetAtFirst(..) => Behaviour::Normal,
                        other => other.clone(),
                    };
                    let session = Session {
                        behaviour,
                        tls: tls.clone(),
                        commands: commands.clone(),
                        open: Mutex::new(Some(sessions.open())),
                    };
                    tokio::spawn(async move {
                        let _ = session.serve(tcp).await;
                    });
                }
            })
        };
        Self {
            addr,
            connections,
            sessions,
            commands,
            task,
        }
    }

    /// The most sessions that were open at once.
    pub fn max_concurrent(&self) -> usize {
        self.sessions.most.load(Ordering::SeqCst)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Every command received, in order, across connections.
    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }

    /// The probe must never start a mail transaction (RFC 3207 §4.1 needs none).
    pub fn assert_no_mail_transaction(&self) {
        for command in self.commands() {
            let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
            assert!(
                !matches!(verb.as_str(), "MAIL" | "RCPT" | "DATA" | "BDAT"),
                "the probe sent {command:?}"
            );
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts open sessions and the most open at once.
#[derive(Default)]
struct Sessions {
    open: AtomicUsize,
    most: AtomicUsize,
}

impl Sessions {
    fn open(self: &Arc<Self>) -> OpenSession {
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        OpenSession(self.clone())
    }
}

/// One open session; uncounted just before the server's last words (so that a client that
/// heard them and moved on cannot be counted twice), or when the session ends otherwise.
struct OpenSession(Arc<Sessions>);

impl Drop for OpenSession {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Session {
    behaviour: Behaviour,
    tls: Arc<rustls::ServerConfig>,
    commands: Arc<Mutex<Vec<String>>>,
    open: Mutex<Option<OpenSession>>,
}

impl Session {
    /// The session is about to say its last words.
    fn closing(&self) {
        self.open.lock().unwrap().take();
    }

    async fn serve(self, mut tcp: TcpStream) -> std::io::Result<()> {
        match &self.behaviour {
            Behaviour::Silent => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
            Behaviour::Greeting421 => {
                self.closing();
                tcp.write_all(b"421 4.3.2 mx.example.test busy, try again later\r\n")
                    .await?;
                return Ok(());
            }
            Behaviour::GreetingDelay(delay) => tokio::time::sleep(*delay).await,
            Behaviour::EndlessGreeting => loop {
                tcp.write_all(b"220-still greeting you\r\n").await?;
            },
            Behaviour::HugeGreetingLine => {
                tcp.write_all(b"220 ").await?;
                let filler = vec![b'x'; 64 * 1024];
                loop {
                    tcp.write_all(&filler).await?;
                }
            }
            Behaviour::DripGreeting => {
                for byte in b"220 slowly, slowly".iter().cycle() {
                    tcp.write_all(&[*byte]).await?;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            _ => {}
        }
        tcp.write_all(b"220-mx.example.test ESMTP test server\r\n220 no UCE\r\n")
            .await?;

        if !self.plaintext(&mut tcp).await? {
            return Ok(());
        }
        if self.behaviour == Behaviour::StallAfterStarttls {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        let legacy_only = offers_only_legacy(&tcp).await?;
        if legacy_only {
            // Refused (by rustls's alert) or answered with a canned hello: either way the end.
            self.closing();
        }
        if self.behaviour == Behaviour::LegacySsl3 && legacy_only {
            let mut hello = hex(TLS10_SERVER_HELLO);
            // The record version and the ServerHello's server_version: SSL 3.0.
            hello[1..3].copy_from_slice(&[3, 0]);
            hello[9..11].copy_from_slice(&[3, 0]);
            tcp.write_all(&hello).await?;
            tokio::time::sleep(Duration::from_secs(5)).await;
            return Ok(());
        }
        if self.behaviour == Behaviour::LegacyTls10 && legacy_only {
            tcp.write_all(&hex(TLS10_SERVER_HELLO)).await?;
            // Hold the connection open: a real server would go on with the handshake.
            tokio::time::sleep(Duration::from_secs(5)).await;
            return Ok(());
        }
        let acceptor = tokio_rustls::TlsAcceptor::from(self.tls.clone());
        let stream = acceptor.accept(tcp).await?;
        self.inside_tls(stream).await
    }

    /// The plaintext dialogue; `true` when STARTTLS was answered 220.
    async fn plaintext(&self, tcp: &mut TcpStream) -> std::io::Result<bool> {
        let mut reader = BufReader::new(tcp);
        loop {
            let Some(command) = self.read_command(&mut reader).await? else {
                return Ok(false);
            };
            let reset_at = match self.behaviour {
                Behaviour::ResetAt(stage) => Some(stage),
                _ => None,
            };
            match verb(&command).as_str() {
                "EHLO" if reset_at == Some(ResetStage::AfterGreeting) => {
                    return reset(reader.get_ref());
                }
                "STARTTLS" if reset_at == Some(ResetStage::AfterEhlo) => {
                    return reset(reader.get_ref());
                }
                "STARTTLS" if reset_at == Some(ResetStage::AfterStarttls220) => {
                    reader
                        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                        .await?;
                    reader.flush().await?;
                    // Wait for the ClientHello, so the reset meets the handshake.
                    let mut hello = [0u8; 1024];
                    let _ = reader.read(&mut hello).await?;
                    return reset(reader.get_ref());
                }
                "EHLO" if self.behaviour == Behaviour::EndlessEhlo => loop {
                    reader
                        .write_all(b"250-SIZE 10240000 and more, and more\r\n")
                        .await?;
                },
                "EHLO" if self.behaviour == Behaviour::HugeEhloLine => {
                    reader.write_all(b"250-mx.example.test ").await?;
                    reader.write_all(&vec![b'x'; 1024 * 1024]).await?;
                    reader
                        .write_all(b"\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
                        .await?;
                }
                "STARTTLS" if self.behaviour == Behaviour::CloseAfterStarttls => {
                    self.closing();
                    reader
                        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                        .await?;
                    reader.shutdown().await?;
                    return Ok(false);
                }
                "STARTTLS" if self.behaviour == Behaviour::GarbageAfterStarttls => {
                    reader
                        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                        .await?;
                    reader.flush().await?;
                    // Wait for the ClientHello, then answer it with text.
                    let mut hello = [0u8; 1024];
                    let _ = reader.read(&mut hello).await?;
                    reader
                        .write_all(b"500 5.5.1 what is this? \x00\xff garbage\r\n")
                        .await?;
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return Ok(false);
                }
                "EHLO" if self.behaviour == Behaviour::Ehlo421 => {
                    self.closing();
                    reader
                        .write_all(b"421 4.7.0 mx.example.test too many connections\r\n")
                        .await?;
                    return Ok(false);
                }
                "EHLO" => {
                    let mut reply = String::from(
                        "250-mx.example.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n",
                    );
                    if self.behaviour != Behaviour::NoStarttls {
                        reply.push_str("250-starttls\r\n");
                    }
                    reply.push_str("250 8BITMIME\r\n");
                    reader.write_all(reply.as_bytes()).await?;
                }
                "STARTTLS" if self.behaviour == Behaviour::Starttls454 => {
                    reader
                        .write_all(b"454 4.7.0 TLS not available due to local problem\r\n")
                        .await?;
                }
                "STARTTLS" if self.behaviour == Behaviour::InjectAfterStarttls => {
                    reader
                        .write_all(b"220 2.0.0 Ready to start TLS\r\n250-injected\r\n")
                        .await?;
                    return Ok(true);
                }
                "STARTTLS" if self.behaviour != Behaviour::NoStarttls => {
                    reader
                        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                        .await?;
                    return Ok(true);
                }
                "QUIT" => {
                    self.closing();
                    reader.write_all(b"221 2.0.0 Bye\r\n").await?;
                    return Ok(false);
                }
                _ => reader.write_all(b"502 5.5.1 Not implemented\r\n").await?,
            }
        }
    }

    async fn inside_tls<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
    ) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream);
        while let Some(command) = self.read_command(&mut reader).await? {
            match verb(&command).as_str() {
                "EHLO" => {
                    let mut reply =
                        String::from("250-mx.example.test greets you\r\n250-PIPELINING\r\n");
                    if self.behaviour == Behaviour::ReadvertiseAfterTls {
                        reply.push_str("250-STARTTLS\r\n");
                    }
                    reply.push_str("250 8BITMIME\r\n");
                    reader.write_all(reply.as_bytes()).await?;
                }
                "QUIT" => {
                    self.closing();
                    reader.write_all(b"221 2.0.0 Bye\r\n").await?;
                    reader.shutdown().await?;
                    return Ok(());
                }
                _ => reader.write_all(b"502 5.5.1 Not implemented\r\n").await?,
            }
        }
        Ok(())
    }

    /// One command line (bounded), recorded; `None` at the end of the stream.
    async fn read_command<R: AsyncBufRead + Unpin>(
        &self,
        reader: &mut R,
    ) -> std::io::Result<Option<String>> {
        let mut line = Vec::new();
        let count = reader.take(4096).read_until(b'\n', &mut line).await?;
        if count == 0 {
            return Ok(None);
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        self.commands.lock().unwrap().push(command.clone());
        Ok(Some(command))
    }
}

/// Makes the coming close of `tcp` a reset (RST instead of FIN); the session then ends.
#[allow(
    deprecated,
    reason = "SO_LINGER 0 never blocks on close: it sends RST at once"
)]
fn reset(tcp: &TcpStream) -> std::io::Result<bool> {
    tcp.set_linger(Some(Duration::ZERO))?;
    Ok(false)
}

fn verb(command: &str) -> String {
    command.split(' ').next().unwrap_or("").to_ascii_uppercase()
}

/// Peeks at the ClientHello: `true` when its client_version is TLS 1.1 or lower and so the
/// client offers nothing rustls could answer.
async fn offers_only_legacy(tcp: &TcpStream) -> std::io::Result<bool> {
    let mut head = [0u8; 11];
    for _ in 0..200 {
        let count = tcp.peek(&mut head).await?;
        if count == 0 {
            return Ok(false);
        }
        if count >= head.len() {
            return Ok(head[0] == 0x16 && u16::from_be_bytes([head[9], head[10]]) <= 0x0302);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(false)
}

/// Bytes from a hex fixture whose comment lines start with `#`.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect();
    (0..digits.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&digits[index..index + 2], 16).expect("hex digit"))
        .collect()
}
