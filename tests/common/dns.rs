//! A loopback DNS server (hickory-server) answering from an in-memory zone built by the test.
//!
//! It behaves like a recursive resolver that is also authoritative for every name it holds:
//! CNAMEs inside the zone are chased into the answer, unknown names are NXDOMAIN, names that
//! exist without the asked type are NOERROR/NODATA, negative answers carry the zone's SOA. Names
//! can be made to answer SERVFAIL or REFUSED, to send truncated UDP answers (so clients must
//! retry over TCP), or never to answer (timeouts). UDP and TCP listen on the same port; the
//! server stops when dropped.
//!
//! ```ignore
//! let zone = Zone::new("example.test")
//!     .txt("_mta-sts.example.test", &["v=STSv1; ", "id=1"])
//!     .mx("example.test", 10, "mx.example.test");
//! let dns = DnsServer::start(zone).await;
//! config.resolver = Some(dns.addr());
//! ```

// Test support: a failed setup step (binding a socket, building a record) should panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_server::authority::MessageResponseBuilder;
use hickory_server::proto::op::{Edns, Header, ResponseCode};
use hickory_server::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, SOA, TLSA, TXT};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::proto::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use tokio::net::{TcpListener, UdpSocket};

/// The records and misbehaviours a [`DnsServer`] serves.
#[derive(Clone, Debug)]
pub struct Zone {
    origin: String,
    ttl: u32,
    records: Vec<Record>,
    servfail: HashSet<String>,
    refused: HashSet<String>,
    truncate_udp: HashSet<String>,
    silent: HashSet<String>,
    /// Names looked at per question while chasing CNAMEs (a loop is chased until this).
    chase_limit: usize,
    /// Questions answered per 100 ms at most, and what happens to the others.
    throttle: Option<(usize, Throttle)>,
}

/// What a throttling server does with a question above its rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle {
    /// Answers REFUSED, as many public and ISP resolvers do.
    Refuse,
    /// Drops it: no answer at all.
    Drop,
}

/// One question the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedQuery {
    pub name: String,
    pub record_type: RecordType,
    pub tcp: bool,
}

/// Lower-case, no trailing dot: the key names are compared by.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn dns_name(name: &str) -> Name {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).expect("test DNS name")
}

impl Zone {
    /// A zone with an SOA at `origin`; records default to TTL 300 (see [`Zone::ttl`]).
    pub fn new(origin: &str) -> Self {
        let origin = key(origin);
        let soa = SOA::new(
            dns_name(&format!("ns.{origin}")),
            dns_name(&format!("hostmaster.{origin}")),
            1,
            3600,
            600,
            86400,
            60,
        );
        Self {
            records: vec![Record::from_rdata(dns_name(&origin), 300, RData::SOA(soa))],
            origin,
            ttl: 300,
            servfail: HashSet::new(),
            refused: HashSet::new(),
            truncate_udp: HashSet::new(),
            silent: HashSet::new(),
            chase_limit: 10,
            throttle: None,
        }
    }

    /// Answers at most `per_second` questions a second (counted per 100 ms); the others are
    /// refused or dropped.
    pub fn throttle(mut self, per_second: usize, mode: Throttle) -> Self {
        self.throttle = Some(((per_second / 10).max(1), mode));
        self
    }

    /// The TTL for the records added after this call.
    pub fn ttl(mut self, ttl: u32) -> Self {
        self.ttl = ttl;
        self
    }

    fn add(mut self, name: &str, data: RData) -> Self {
        let owner = if name == "@" {
            self.origin.clone()
        } else {
            key(name)
        };
        self.records
            .push(Record::from_rdata(dns_name(&owner), self.ttl, data));
        self
    }

    /// One TXT record whose character-strings are `strings`, kept apart on the wire.
    pub fn txt(self, name: &str, strings: &[&str]) -> Self {
        let bytes: Vec<&[u8]> = strings.iter().map(|s| s.as_bytes()).collect();
        self.add(name, RData::TXT(TXT::from_bytes(bytes)))
    }

    /// One TXT record of raw character-strings (non-UTF-8 allowed).
    pub fn txt_bytes(self, name: &str, strings: &[&[u8]]) -> Self {
        self.add(name, RData::TXT(TXT::from_bytes(strings.to_vec())))
    }

    /// `exchange` "." gives a null MX (RFC 7505).
    pub fn mx(self, name: &str, preference: u16, exchange: &str) -> Self {
        let exchange = if exchange == "." {
            Name::root()
        } else {
            dns_name(exchange)
        };
        self.add(name, RData::MX(MX::new(preference, exchange)))
    }

    /// An MX whose exchange is made of raw labels (any bytes), as a hostile zone may publish.
    pub fn mx_raw(self, name: &str, preference: u16, exchange_labels: &[&[u8]]) -> Self {
        let exchange = Name::from_labels(exchange_labels.iter().copied()).expect("raw labels");
        self.add(name, RData::MX(MX::new(preference, exchange)))
    }

    pub fn a(self, name: &str, ip: Ipv4Addr) -> Self {
        self.add(name, RData::A(A(ip)))
    }

    pub fn aaaa(self, name: &str, ip: Ipv6Addr) -> Self {
        self.add(name, RData::AAAA(AAAA(ip)))
    }

    pub fn cname(self, name: &str, target: &str) -> Self {
        self.add(name, RData::CNAME(CNAME(dns_name(target))))
    }

    pub fn tlsa(self, name: &str, usage: u8, selector: u8, matching: u8, data: &[u8]) -> Self {
        self.add(
            name,
            RData::TLSA(TLSA::new(
                CertUsage::from(usage),
                Selector::from(selector),
                Matching::from(matching),
                data.to_vec(),
            )),
        )
    }

    /// Questions for `name` (any type) are answered SERVFAIL.
    pub fn servfail(mut self, name: &str) -> Self {
        self.servfail.insert(key(name));
        self
    }

    /// Questions for `name` are answered REFUSED.
    pub fn refused(mut self, name: &str) -> Self {
        self.refused.insert(key(name));
        self
    }

    /// Over UDP, answers for `name` come back empty with the TC bit; TCP gets the full answer.
    pub fn truncate_udp(mut self, name: &str) -> Self {
        self.truncate_udp.insert(key(name));
        self
    }

    /// Questions for `name` are never answered (the client times out).
    pub fn silent(mut self, name: &str) -> Self {
        self.silent.insert(key(name));
        self
    }

    /// No question is ever answered: a resolver that has gone away.
    pub fn silent_everywhere(mut self) -> Self {
        self.silent.insert("*".to_owned());
        self
    }

    /// Names looked at per question, 10 unless changed (a CNAME loop is chased this far).
    pub fn chase_limit(mut self, steps: usize) -> Self {
        self.chase_limit = steps;
        self
    }

    fn soa(&self) -> &Record {
        &self.records[0]
    }

    fn records_at<'a>(
        &'a self,
        name: &'a str,
        record_type: RecordType,
    ) -> impl Iterator<Item = &'a Record> + 'a {
        self.records.iter().filter(move |record| {
            record.record_type() == record_type && key(&record.name().to_ascii()) == name
        })
    }

    /// A name exists if it owns records or is an ancestor of one (an empty non-terminal).
    fn name_exists(&self, name: &str) -> bool {
        let suffix = format!(".{name}");
        self.records.iter().any(|record| {
            let owner = key(&record.name().to_ascii());
            owner == name || owner.ends_with(&suffix)
        })
    }

    /// The answer records and response code for one question, CNAMEs chased within the zone.
    fn resolve(&self, name: &str, record_type: RecordType) -> (Vec<Record>, ResponseCode, bool) {
        let mut answers = Vec::new();
        let mut current = name.to_owned();
        for _ in 0..self.chase_limit {
            let found: Vec<Record> = self.records_at(&current, record_type).cloned().collect();
            if !found.is_empty() {
                answers.extend(found);
                return (answers, ResponseCode::NoError, false);
            }
            if record_type != RecordType::CNAME {
                let cname = self.records_at(&current, RecordType::CNAME).next().cloned();
                if let Some(cname) = cname {
                    let target = match cname.data() {
                        RData::CNAME(target) => key(&target.0.to_ascii()),
                        _ => unreachable!("filtered on CNAME"),
                    };
                    answers.push(cname);
                    current = target;
                    continue;
                }
            }
            break;
        }
        let code = if self.name_exists(&current) {
            ResponseCode::NoError
        } else {
            ResponseCode::NXDomain
        };
        (answers, code, true)
    }
}

struct Handler {
    zone: Arc<Zone>,
    log: Arc<Mutex<Vec<LoggedQuery>>>,
    /// The current 100 ms window of a throttling server and the questions answered in it.
    window: Mutex<(std::time::Instant, usize)>,
    /// Questions refused or dropped by the throttle.
    throttled: Arc<std::sync::atomic::AtomicUsize>,
}

impl Handler {
    /// Whether the throttle lets this question through.
    fn admitted(&self) -> bool {
        let Some((per_window, _)) = self.zone.throttle else {
            return true;
        };
        let mut window = self.window.lock().unwrap();
        let now = std::time::Instant::now();
        if now.duration_since(window.0) >= Duration::from_millis(100) {
            *window = (now, 0);
        }
        window.1 += 1;
        let admitted = window.1 <= per_window;
        if !admitted {
            self.throttled
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        admitted
    }
}

impl Handler {
    async fn answer<R: ResponseHandler>(
        &self,
        request: &Request,
        mut responder: R,
    ) -> ResponseInfo {
        let mut header = Header::response_from_request(request.header());
        header.set_authoritative(true);
        header.set_recursion_available(true);
        let Some(query) = request.queries().first() else {
            header.set_response_code(ResponseCode::FormErr);
            let response =
                MessageResponseBuilder::from_message_request(request).build_no_records(header);
            return responder
                .send_response(response)
                .await
                .unwrap_or(header.into());
        };
        let name = key(&Name::from(query.name().clone()).to_ascii());
        let record_type = query.query_type();
        let tcp = request.protocol() == Protocol::Tcp;
        self.log.lock().unwrap().push(LoggedQuery {
            name: name.clone(),
            record_type,
            tcp,
        });

        let zone = &self.zone;
        if zone.silent.contains(&name) || zone.silent.contains("*") {
            return header.into();
        }
        let throttled = !self.admitted();
        if throttled && matches!(zone.throttle, Some((_, Throttle::Drop))) {
            return header.into();
        }
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if request.edns().is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(1232);
            builder.edns(edns);
        }
        let fixed_code = if throttled {
            Some(ResponseCode::Refused)
        } else if zone.servfail.contains(&name) {
            Some(ResponseCode::ServFail)
        } else if zone.refused.contains(&name) {
            Some(ResponseCode::Refused)
        } else {
            None
        };
        if let Some(code) = fixed_code {
            header.set_response_code(code);
            let response = builder.build_no_records(header);
            return responder
                .send_response(response)
                .await
                .unwrap_or(header.into());
        }
        if !tcp && zone.truncate_udp.contains(&name) {
            header.set_truncated(true);
            let response = builder.build_no_records(header);
            return responder
                .send_response(response)
                .await
                .unwrap_or(header.into());
        }

        let (answers, code, negative) = zone.resolve(&name, record_type);
        header.set_response_code(code);
        let soa: Vec<&Record> = if negative {
            vec![zone.soa()]
        } else {
            Vec::new()
        };
        let response = builder.build(
            header,
            answers.iter(),
            None::<&Record>,
            soa,
            None::<&Record>,
        );
        responder
            .send_response(response)
            .await
            .unwrap_or(header.into())
    }
}

// `RequestHandler` is declared with `#[async_trait]`; this is its expansion written out, so the
// tests need no async-trait dependency of their own.
impl RequestHandler for Handler {
    fn handle_request<'life0, 'life1, 'async_trait, R>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: ResponseHandler + 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.answer(request, response_handle))
    }
}

/// A running DNS server; stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<LoggedQuery>>>,
    throttled: Arc<std::sync::atomic::AtomicUsize>,
    _server: ServerFuture<Handler>,
}

impl DnsServer {
    /// Serves `zone` on 127.0.0.1, UDP and TCP on one free port.
    pub async fn start(zone: Zone) -> Self {
        Self::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), zone).await
    }

    /// Serves `zone` on `ip` (a loopback address), UDP and TCP on one free port.
    pub async fn start_on(ip: IpAddr, zone: Zone) -> Self {
        assert!(ip.is_loopback(), "test servers stay on loopback");
        let (udp, tcp) = bind_pair(ip).await;
        let addr = udp.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let throttled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut server = ServerFuture::new(Handler {
            zone: Arc::new(zone),
            log: Arc::clone(&log),
            window: Mutex::new((std::time::Instant::now(), 0)),
            throttled: Arc::clone(&throttled),
        });
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(10));
        Self {
            addr,
            log,
            throttled,
            _server: server,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Questions the throttle refused or dropped so far.
    pub fn throttled(&self) -> usize {
        self.throttled.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every question received so far, in order.
    pub fn queries(&self) -> Vec<LoggedQuery> {
        self.log.lock().unwrap().clone()
    }
}

/// A UDP socket and a TCP listener on the same free port of `ip`.
async fn bind_pair(ip: IpAddr) -> (UdpSocket, TcpListener) {
    for _ in 0..20 {
        let udp = UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
        let addr = udp.local_addr().unwrap();
        // The TCP side of a free UDP port is almost always free too; retry if not.
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP on {ip}");
}
