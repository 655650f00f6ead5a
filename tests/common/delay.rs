//! A link with a round-trip time on loopback, where the kernel has no netem: a TCP proxy in
//! front of a server that forwards every chunk half a round trip after it arrived, in each
//! direction, and records what it forwarded so that a benchmark or a test can count the round
//! trips a client waited for.
//!
//! **The model.** Each direction of a connection is a queue: a chunk read at `t` is written to
//! the other side at `t + rtt/2`, however many chunks are in flight before it, so pipelined
//! bytes cost one trip, not one trip each (bandwidth is unlimited and nothing is lost). The TCP
//! handshake's round trip cannot be delayed on loopback (the client's `connect` returns at
//! once), so the proxy connects to the server only `1.5 × rtt` after it accepted: a server that
//! speaks first (an SMTP greeting) is heard `2 × rtt` after the client connected, and a client
//! that speaks first (a ClientHello) is heard by the server at `1.5 × rtt` and answered at
//! `2 × rtt`, as on a real link. Where the model is kind: a client that does local work between
//! `connect` and its first write gets up to one round trip of it for free (on a real link that
//! work would overlap the handshake only after `connect` returned); tokio's timer fires up to a
//! millisecond late, so every trip costs a little more than asked ([`Link::lateness`] measures
//! it).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Bytes read from one side at a time.
const CHUNK: usize = 16 * 1024;
/// Bytes of each chunk kept in the record.
pub const HEAD: usize = 16;

/// A delaying proxy; stops accepting when dropped.
pub struct DelayProxy {
    pub addr: SocketAddr,
    links: Arc<Mutex<Vec<Arc<Mutex<Link>>>>>,
    task: JoinHandle<()>,
}

impl DelayProxy {
    /// Listens on `front` (port 0 for any) and forwards to `backend` with `rtt`.
    pub async fn start(front: SocketAddr, backend: SocketAddr, rtt: Duration) -> Self {
        let listener = TcpListener::bind(front)
            .await
            .expect("bind the delaying proxy");
        Self::on(listener, backend, rtt)
    }

    /// Forwards the connections of an already bound `listener` to `backend` with `rtt`.
    pub fn on(listener: TcpListener, backend: SocketAddr, rtt: Duration) -> Self {
        let addr = listener.local_addr().expect("local address");
        let links: Arc<Mutex<Vec<Arc<Mutex<Link>>>>> = Arc::default();
        let task = {
            let links = links.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let link = Arc::new(Mutex::new(Link::new(Instant::now(), rtt)));
                    links.lock().unwrap().push(link.clone());
                    tokio::spawn(relay(client, backend, rtt, link));
                }
            })
        };
        Self { addr, links, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every connection so far, in the order they were accepted.
    pub fn links(&self) -> Vec<Link> {
        self.links
            .lock()
            .unwrap()
            .iter()
            .map(|link| link.lock().unwrap().clone())
            .collect()
    }

    /// Forgets the connections recorded so far.
    pub fn clear(&self) {
        self.links.lock().unwrap().clear();
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which way a chunk went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

/// One chunk forwarded: read from one side at `read`, written to the other at `written`
/// (`due` is when the model wanted it written).
#[derive(Clone, Debug)]
pub struct Chunk {
    pub direction: Direction,
    /// Its first bytes (up to [`HEAD`]), to find a command such as `STARTTLS`.
    pub head: Vec<u8>,
    pub read: Instant,
    pub due: Instant,
    pub written: Instant,
}

/// A connection's longest chain of dependent exchanges ([`Link::chain`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    /// Round trips, the TCP handshake's included.
    pub round_trips: u32,
    /// The server's own time on the chain: for each step, from the chunk it answered reaching
    /// the server to its answer.
    pub server_time: Duration,
    /// How much later than the model wanted the chain's chunks were written: the proxy's own
    /// timer lateness.
    pub lateness: Duration,
    /// The client's own time on the chain: for each step, from the answer it waited for
    /// reaching it to its next chunk (not counted in the round trips: it is what a faster
    /// client would save).
    pub client_time: Duration,
    /// When the last answer of the chain reached the client.
    pub last_answer: Option<Instant>,
}

/// What the proxy saw of one connection.
#[derive(Clone, Debug)]
pub struct Link {
    /// When the client's connection was accepted.
    pub opened: Instant,
    /// The round trip the link was given.
    pub rtt: Duration,
    /// When the proxy reached the server (the server's end of the TCP handshake).
    pub connected: Option<Instant>,
    /// When the client closed its side (its end of stream reached the proxy).
    pub client_closed: Option<Instant>,
    pub chunks: Vec<Chunk>,
}

impl Link {
    fn new(opened: Instant, rtt: Duration) -> Self {
        Self {
            opened,
            rtt,
            connected: None,
            client_closed: None,
            chunks: Vec::new(),
        }
    }

    /// The longest chain of dependent exchanges the client waited for on this connection:
    /// one round trip for the TCP handshake, then one per step. A chunk the client sends
    /// depends on what it had received when it sent it; a chunk the server sends, on what it
    /// had received when it sent it; pipelined chunks sent before an answer arrived add
    /// nothing. Answers that reach the client after it closed (a server's own close) are not
    /// waited for and do not count.
    pub fn chain(&self) -> Chain {
        self.chain_through(u32::MAX)
    }

    /// The chain up to the answer to the first chunk the client sent that starts with
    /// `command` (such as `b"STARTTLS"`); `None` if it never sent one or got no answer.
    pub fn chain_to_answer(&self, command: &[u8]) -> Option<Chain> {
        let depths = self.depths();
        let asked = self
            .chunks
            .iter()
            .zip(&depths)
            .find(|(chunk, _)| {
                chunk.direction == Direction::ToServer && chunk.head.starts_with(command)
            })
            .map(|(_, depth)| depth + 1)?;
        let chain = self.chain_through(asked);
        (chain.round_trips > asked).then_some(chain)
    }

    fn chain_through(&self, last_step: u32) -> Chain {
        let depths = self.depths();
        let connected_late = self.connected.map_or(Duration::ZERO, |connected| {
            connected.saturating_duration_since(self.opened + self.rtt + self.rtt / 2)
        });
        let mut chain = Chain {
            round_trips: 1,
            server_time: Duration::ZERO,
            lateness: connected_late,
            client_time: Duration::ZERO,
            last_answer: None,
        };
        let late = |chunk: &Chunk| chunk.written.saturating_duration_since(chunk.due);
        let answers = self.in_order_read(&depths, |chunk, depth| {
            chunk.direction == Direction::ToClient && depth <= last_step && self.waited_for(chunk)
        });
        for (answer, depth) in answers {
            if depth < chain.round_trips {
                continue;
            }
            chain.round_trips = depth + 1;
            chain.last_answer = Some(answer.written);
            // The first answer of each step, and the last chunk the server had received when
            // it sent it (for the first step, the connection itself).
            let asked = self.last_written(Direction::ToServer, answer.read);
            if let Some(heard) = asked.map(|c| c.written).or(self.connected) {
                chain.server_time += answer.read.saturating_duration_since(heard);
            }
            chain.lateness += late(answer) + asked.map_or(Duration::ZERO, late);
        }
        // The client's own time on the chain: from the last chunk it had received to the first
        // chunk it sent of each step that an answer counted above depends on.
        let mut step_seen = vec![false; chain.round_trips as usize];
        let sent = self.in_order_read(&depths, |chunk, depth| {
            chunk.direction == Direction::ToServer && depth >= 1 && depth + 1 < chain.round_trips
        });
        for (chunk, depth) in sent {
            if std::mem::replace(&mut step_seen[depth as usize], true) {
                continue;
            }
            let received = self
                .last_written(Direction::ToClient, chunk.read)
                .map(|c| c.written);
            if let Some(received) = received {
                chain.client_time += chunk.read.saturating_duration_since(received);
            }
        }
        chain
    }

    /// One line per chunk, in the order read: offset from the accept, direction, step, first
    /// bytes; for looking into a chain by hand.
    pub fn describe(&self) -> Vec<String> {
        let depths = self.depths();
        let mut lines: Vec<(Instant, String)> = self
            .chunks
            .iter()
            .zip(depths)
            .map(|(chunk, depth)| {
                let offset =
                    |at: Instant| at.saturating_duration_since(self.opened).as_secs_f64() * 1000.0;
                let arrow = match chunk.direction {
                    Direction::ToServer => "C→S",
                    Direction::ToClient => "S→C",
                };
                let text = format!(
                    "read {:7.2} ms, written {:7.2} ms  {arrow} step {depth}  {}",
                    offset(chunk.read),
                    offset(chunk.written),
                    String::from_utf8_lossy(&chunk.head).escape_debug()
                );
                (chunk.read, text)
            })
            .collect();
        lines.sort_by_key(|(read, _)| *read);
        lines.into_iter().map(|(_, text)| text).collect()
    }

    /// The chunks `keep` keeps, with their steps (`depths`), in the order they were read.
    fn in_order_read(
        &self,
        depths: &[u32],
        keep: impl Fn(&Chunk, u32) -> bool,
    ) -> Vec<(&Chunk, u32)> {
        let mut kept: Vec<(&Chunk, u32)> = self
            .chunks
            .iter()
            .zip(depths.iter().copied())
            .filter(|(chunk, depth)| keep(chunk, *depth))
            .collect();
        kept.sort_by_key(|(chunk, _)| chunk.read);
        kept
    }

    /// The last chunk going `direction` that was written at or before `at`.
    fn last_written(&self, direction: Direction, at: Instant) -> Option<&Chunk> {
        self.chunks
            .iter()
            .filter(|c| c.direction == direction && c.written <= at)
            .max_by_key(|c| c.written)
    }

    /// Whether the client could have waited for `chunk` of the server's: it arrived before
    /// the client closed.
    fn waited_for(&self, chunk: &Chunk) -> bool {
        self.client_closed
            .is_none_or(|closed| chunk.written <= closed)
    }

    /// Each chunk's step in the chain of dependent exchanges: for the client's, the step of
    /// the latest answer it had received when it sent it (0 before any); for the server's,
    /// one more than the step of the latest chunk it had received (1 for a greeting).
    fn depths(&self) -> Vec<u32> {
        #[derive(Clone, Copy)]
        enum Event {
            Read(usize),
            Written(usize),
        }
        let mut events: Vec<(Instant, u8, Event)> = Vec::new();
        for (index, chunk) in self.chunks.iter().enumerate() {
            // At the same instant, what arrived is known to what is sent.
            events.push((chunk.written, 0, Event::Written(index)));
            events.push((chunk.read, 1, Event::Read(index)));
        }
        events.sort_by_key(|(time, order, _)| (*time, *order));
        let mut depth = vec![0u32; self.chunks.len()];
        let (mut client_knows, mut server_knows) = (0u32, 0u32);
        for (_, _, event) in events {
            match event {
                Event::Read(index) => {
                    depth[index] = match self.chunks[index].direction {
                        Direction::ToServer => client_knows,
                        Direction::ToClient => server_knows + 1,
                    }
                }
                Event::Written(index) => match self.chunks[index].direction {
                    Direction::ToServer => server_knows = server_knows.max(depth[index]),
                    Direction::ToClient => client_knows = client_knows.max(depth[index]),
                },
            }
        }
        depth
    }
}

/// One connection: the client's bytes queue until the server is reached, `1.5 × rtt` after
/// the accept, then both directions flow with `rtt / 2` each way.
async fn relay(client: TcpStream, backend: SocketAddr, rtt: Duration, link: Arc<Mutex<Link>>) {
    let half = rtt / 2;
    let _ = client.set_nodelay(true);
    let opened = link.lock().unwrap().opened;
    let (client_read, client_write) = client.into_split();
    let (up_tx, up_rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_side(client_read, up_tx, half, Some(link.clone())));
    tokio::time::sleep_until(opened + rtt + half).await;
    let Ok(server) = TcpStream::connect(backend).await else {
        reader.abort();
        return;
    };
    let _ = server.set_nodelay(true);
    link.lock().unwrap().connected = Some(Instant::now());
    let (server_read, server_write) = server.into_split();
    let (down_tx, down_rx) = mpsc::unbounded_channel();
    tokio::spawn(read_side(server_read, down_tx, half, None));
    tokio::spawn(write_side(
        server_write,
        up_rx,
        Direction::ToServer,
        link.clone(),
    ));
    write_side(client_write, down_rx, Direction::ToClient, link).await;
}

/// A chunk read at `read`, to be written at `due`; `None` is the end of the stream.
type Queued = (Instant, Instant, Option<Vec<u8>>);

/// Reads one side into its queue. `client` is the link to note the client's close in.
async fn read_side(
    mut from: OwnedReadHalf,
    queue: mpsc::UnboundedSender<Queued>,
    half: Duration,
    client: Option<Arc<Mutex<Link>>>,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let read = from.read(&mut buf).await;
        let now = Instant::now();
        match read {
            Ok(count) if count > 0 => {
                if queue
                    .send((now, now + half, Some(buf[..count].to_vec())))
                    .is_err()
                {
                    return;
                }
            }
            _ => {
                if let Some(link) = &client {
                    link.lock().unwrap().client_closed = Some(now);
                }
                let _ = queue.send((now, now + half, None));
                return;
            }
        }
    }
}

/// Writes one side's queue, each chunk at its due time.
async fn write_side(
    mut to: OwnedWriteHalf,
    mut queue: mpsc::UnboundedReceiver<Queued>,
    direction: Direction,
    link: Arc<Mutex<Link>>,
) {
    while let Some((read, due, chunk)) = queue.recv().await {
        tokio::time::sleep_until(due).await;
        let Some(bytes) = chunk else {
            let _ = to.shutdown().await;
            return;
        };
        // Stamped before the write: the other side may answer before `write_all` returns.
        let written = Instant::now();
        if to.write_all(&bytes).await.is_err() {
            return;
        }
        link.lock().unwrap().chunks.push(Chunk {
            direction,
            head: bytes[..bytes.len().min(HEAD)].to_vec(),
            read,
            due,
            written,
        });
    }
}
