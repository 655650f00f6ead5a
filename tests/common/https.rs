//! A scriptable HTTPS server on a loopback address: tokio-rustls for TLS and a hand-written
//! HTTP/1.1 response writer, so that a test can make it misbehave (odd status lines, missing or
//! doubled headers, oversized bodies, slow or absent answers).
//!
//! It records every request it read (request line and headers, names lower-cased) so tests can
//! assert what the client sent, and stops when dropped.
//!
//! ```ignore
//! let server = HttpsServer::start(ip, &leaf, Script::ok("version: STSv1\r\n...")).await;
//! config.https_port = server.port();
//! ```

// Test support: a failed setup step (binding a socket, building a record) should panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::ca::{server_config, Leaf};

/// How the server treats a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// TLS, read the request, wait `delay`, answer, close.
    Answer,
    /// Accept the TCP connection and never send a byte (not even the TLS handshake).
    SilentTcp,
    /// Complete TLS, read the request, never answer.
    SilentAfterRequest,
    /// Complete TLS, read the request, then send the response head one byte per interval
    /// (never finishing within any sane timeout), then the body.
    DripHead(Duration),
    /// Complete TLS, read the request, send the head at once and the body one byte per interval.
    DripBody(Duration),
    /// Read the ClientHello and never answer it (a handshake stalled midway).
    StallHandshake,
    /// Read the ClientHello and answer with the first half of a TLS handshake record (its
    /// header promises 16 KiB; a few bytes follow), then nothing.
    HalfRecord,
    /// Read the ClientHello and answer with plain-text garbage instead of a ServerHello.
    GarbageHandshake,
    /// An HTTP/2-only server that ignores the ALPN offer: complete TLS, read the request, and
    /// answer with HTTP/2 frames (SETTINGS, then GOAWAY).
    Http2Frames,
    /// An HTTP/2-only server that insists on ALPN `h2`: the handshake fails with the
    /// `no_application_protocol` alert.
    AlpnH2Only,
}

/// The response the server gives.
#[derive(Clone, Debug)]
pub struct Script {
    /// Sent as is, e.g. "HTTP/1.1 200 OK".
    pub status_line: String,
    /// Sent in order, as is.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Add `Content-Length` unless `headers` has one.
    pub content_length: bool,
    /// Wait this long after reading the request before answering.
    pub delay: Duration,
    pub behaviour: Behaviour,
}

impl Script {
    /// 200 with `Content-Type: text/plain` and `body`.
    pub fn ok(body: &str) -> Self {
        Self::respond(
            "HTTP/1.1 200 OK",
            &[("Content-Type", "text/plain")],
            body.as_bytes(),
        )
    }

    pub fn respond(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Self {
        Self {
            status_line: status_line.to_owned(),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: body.to_vec(),
            content_length: true,
            delay: Duration::ZERO,
            behaviour: Behaviour::Answer,
        }
    }

    /// A redirect to `location`, with a small body of its own.
    pub fn redirect(status_line: &str, location: &str) -> Self {
        Self::respond(
            status_line,
            &[("Location", location), ("Content-Type", "text/html")],
            b"<a href=\"elsewhere\">moved</a>",
        )
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn with_behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    fn response_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.status_line.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        let has_length = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
        if self.content_length && !has_length {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// One request as the server read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub request_line: String,
    /// Names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Default)]
struct State {
    connections: AtomicUsize,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running HTTPS server; stops (with all its connections) when dropped.
pub struct HttpsServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

/// The largest request head the server reads.
const MAX_REQUEST_HEAD: usize = 64 * 1024;

impl HttpsServer {
    /// Listens on `ip` (loopback), a free port, presenting `leaf`, answering with `script`.
    pub async fn start(ip: IpAddr, leaf: &Leaf, script: Script) -> Self {
        Self::start_at(SocketAddr::new(ip, 0), leaf, script).await
    }

    /// Listens on `addr` (loopback; port 0 for a free one).
    pub async fn start_at(addr: SocketAddr, leaf: &Leaf, script: Script) -> Self {
        assert!(addr.ip().is_loopback(), "test servers stay on loopback");
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = server_config(leaf);
        if script.behaviour == Behaviour::AlpnH2Only {
            let mut only_h2 = (*config).clone();
            only_h2.alpn_protocols = vec![b"h2".to_vec()];
            config = Arc::new(only_h2);
        }
        let acceptor = TlsAcceptor::from(config);
        let state = Arc::new(State::default());
        let script = Arc::new(script);
        let task = tokio::spawn(accept_loop(listener, acceptor, script, Arc::clone(&state)));
        Self { addr, state, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TCP connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// HTTP requests read so far.
    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().unwrap().clone()
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    script: Arc<Script>,
    state: Arc<State>,
) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        state.connections.fetch_add(1, Ordering::SeqCst);
        connections.spawn(serve(
            tcp,
            acceptor.clone(),
            Arc::clone(&script),
            Arc::clone(&state),
        ));
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
}

async fn serve(tcp: TcpStream, acceptor: TlsAcceptor, script: Arc<Script>, state: Arc<State>) {
    if script.behaviour == Behaviour::SilentTcp {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(tcp);
        return;
    }
    if matches!(
        script.behaviour,
        Behaviour::StallHandshake | Behaviour::HalfRecord | Behaviour::GarbageHandshake
    ) {
        hostile_handshake(tcp, script.behaviour).await;
        return;
    }
    let Ok(Ok(mut tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
    else {
        return;
    };
    let Some(head) = read_head(&mut tls).await else {
        // A handshake-only client, or garbage: nothing to answer.
        return;
    };
    state.requests.lock().unwrap().push(parse_head(&head));
    if script.behaviour == Behaviour::SilentAfterRequest {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return;
    }
    tokio::time::sleep(script.delay).await;
    match script.behaviour {
        Behaviour::Http2Frames => {
            // An empty SETTINGS frame, then GOAWAY (last stream 0, PROTOCOL_ERROR).
            let frames: [&[u8]; 2] = [
                &[0, 0, 0, 4, 0, 0, 0, 0, 0],
                &[0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            ];
            for frame in frames {
                let _ = tls.write_all(frame).await;
            }
        }
        Behaviour::DripHead(interval) => {
            let bytes = script.response_bytes();
            for byte in &bytes {
                if tls.write_all(&[*byte]).await.is_err() || tls.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(interval).await;
            }
        }
        Behaviour::DripBody(interval) => {
            let bytes = script.response_bytes();
            let head_len = bytes.len() - script.body.len();
            if tls.write_all(&bytes[..head_len]).await.is_err() {
                return;
            }
            for byte in &bytes[head_len..] {
                if tls.write_all(&[*byte]).await.is_err() || tls.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(interval).await;
            }
        }
        _ => {
            let _ = tls.write_all(&script.response_bytes()).await;
        }
    }
    let _ = tls.flush().await;
    let _ = tls.shutdown().await;
}

/// The handshake misbehaviours: read what the client sends first (its ClientHello), then stall,
/// send half a record, or send garbage, and hold the connection open.
async fn hostile_handshake(mut tcp: TcpStream, behaviour: Behaviour) {
    let mut hello = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut hello)).await;
    match behaviour {
        Behaviour::HalfRecord => {
            // Handshake record, TLS 1.2, length 0x4000; then only the start of a ServerHello.
            let _ = tcp
                .write_all(&[
                    0x16, 0x03, 0x03, 0x40, 0x00, 0x02, 0x00, 0x3f, 0xfc, 0x03, 0x03,
                ])
                .await;
        }
        Behaviour::GarbageHandshake => {
            let _ = tcp
                .write_all(b"SSH-2.0-OpenSSH_9.6 this is not TLS at all\r\n\x00\xff\xfe garbage")
                .await;
        }
        _ => {}
    }
    let _ = tcp.flush().await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

/// Reads up to the blank line ending the request head; `None` on EOF or an oversized head.
async fn read_head<S: AsyncReadExt + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..read]);
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            head.truncate(end);
            return Some(head);
        }
        if head.len() > MAX_REQUEST_HEAD {
            return None;
        }
    }
}

fn parse_head(head: &[u8]) -> RecordedRequest {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    RecordedRequest {
        request_line,
        headers,
    }
}
