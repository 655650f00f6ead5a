//! Bulk benchmark: the real `mtasts` binary auditing N synthetic domains served from loopback.
//!
//! ```text
//! cargo bench --bench bulk              # 1,000 domains
//! cargo bench --bench bulk -- 10000     # N as the first argument
//! cargo bench --bench bulk -- 1000 --rtt-ms 20          # every DNS, HTTPS and SMTP exchange 20 ms away
//! cargo bench --bench bulk -- --one-domain --rtt-ms 20  # one domain: wall time against its critical path
//! cargo bench --bench bulk -- 1000 --repeat 3           # three runs against one world, and their range
//! cargo bench --bench bulk -- 10000 --concurrency 256   # other arguments go to `mtasts check`
//! BULK_KEEP_OUTPUT=/tmp/bulk cargo bench --bench bulk    # keep the binary's stdout and stderr
//! BULK_BINARY=/tmp/mtasts-old cargo bench --bench bulk   # run another build against the world
//! BULK_SHOW_LINKS=1 cargo bench --bench bulk -- --one-domain --rtt-ms 20   # every question and chunk
//! ```
//!
//! The world, all in this process: one DNS server (127.0.0.1) answering for every name, one HTTPS
//! server (127.0.1.1) holding every policy host with a certificate of its own picked by SNI,
//! 20 MX gateways (`gwNN.mx.bench.test`) on four addresses (127.0.2.1-4), each address one
//! SMTP server, the way agencies share a few mail gateways, and a provider farm: tenants with an
//! MX name of their own (`dI-bench-test.mail.protection.provider.test`), each resolving to two of
//! four shared addresses (127.0.3.1-4) whose servers present one wildcard certificate. Domains
//! are `dI.bench.test`; their deployments are mixed as in [`Kind`]. Cargo builds the binary for
//! benchmarks and names it in `CARGO_BIN_EXE_mtasts`, in the same (release) profile.
//!
//! `--rtt-ms N` puts a round trip of N ms between the binary and every server: the DNS server
//! answers a UDP question N ms after it arrived, and a delaying proxy (tests/common/delay.rs)
//! stands in front of every TCP server (HTTPS, SMTP, DNS over TCP), forwarding each chunk N/2 ms
//! after it arrived in each direction and reaching the server 1.5 × N ms after the accept (the
//! TCP handshake). docs/performance.md describes the model and its limits.
//!
//! It prints wall time, domains per second, the binary's peak RSS and CPU time, the time per
//! network stage (from the binary's `--stats` line), this process's own CPU time (so that a world
//! too slow to keep up shows), SMTP sessions per address, and the verdicts per kind of
//! deployment against the verdict each kind should get. `--one-domain` instead audits one domain
//! of the gateways and one tenant of the farm, each alone, and prints the wall time next to the
//! domain's critical path: the longest chain of dependent round trips, counted from what the
//! DNS server and the proxies saw (see [`critical_path`]). docs/performance.md records the
//! figures.
//!
//! Why not the `tests/common` DNS and HTTPS servers: the test [`common::dns::Zone`] looks up
//! records by scanning all of them (fine for a dozen records, quadratic for 50,000), and
//! [`common::https::HttpsServer`] presents one certificate and one answer. The SMTP servers, the
//! delaying proxy and the certificate authority are the test ones.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// A benchmark: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::future::Future;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_server::authority::MessageResponseBuilder;
use hickory_server::proto::op::{Header, ResponseCode};
use hickory_server::proto::rr::rdata::{A, MX, SOA, TXT};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::proto::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_rustls::TlsAcceptor;

use common::ca::{LeafSpec, TestCa};
use common::delay::{Chain, DelayProxy, Link};
use common::smtp::{Behaviour, SmtpServer};
use mtasts::stats::STATS_KIND;

const DEFAULT_DOMAINS: usize = 1000;
const ZONE: &str = "bench.test";
/// The provider's zone, and the suffix of every tenant's MX name.
const PROVIDER_ZONE: &str = "provider.test";
const FARM: &str = "mail.protection.provider.test";
const MX_HOSTS: usize = 20;
const MX_ADDRESSES: u8 = 4;
const FARM_ADDRESSES: u8 = 4;
const DNS_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const POLICY_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);
const REPORT_DOMAIN: &str = "reports.bench.test";

/// The deployments of the synthetic domains, in shares of 20: 55% on the shared gateways, 45%
/// tenants of the provider farm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// 25%: record, `mode: enforce` policy naming the two gateways, TLS-RPT.
    Enforce,
    /// 10%: the same in `mode: testing`.
    Testing,
    /// 5%: no MTA-STS record and no policy host (TLS-RPT only).
    NoRecord,
    /// 5%: the policy does not parse (`mode: enforcing`).
    BadPolicy,
    /// 5%: moved to the shared gateways without updating the policy's `mx:` line.
    MxNotCovered,
    /// 5%: MTA-STS in enforce, no TLS-RPT record.
    NoTlsRpt,
    /// 25%: a tenant of the farm, `mx: *.mail.protection.provider.test`, enforce, TLS-RPT.
    TenantWildcard,
    /// 15%: a tenant whose policy names its own MX host, enforce, TLS-RPT.
    TenantOwnName,
    /// 5%: a tenant without MTA-STS (TLS-RPT only).
    TenantNoRecord,
}

impl Kind {
    fn of(index: usize) -> Self {
        match index % 20 {
            0..=4 => Self::Enforce,
            5 | 6 => Self::Testing,
            7 => Self::NoRecord,
            8 => Self::BadPolicy,
            9 => Self::MxNotCovered,
            10 => Self::NoTlsRpt,
            11..=15 => Self::TenantWildcard,
            16..=18 => Self::TenantOwnName,
            _ => Self::TenantNoRecord,
        }
    }

    fn is_tenant(self) -> bool {
        matches!(
            self,
            Self::TenantWildcard | Self::TenantOwnName | Self::TenantNoRecord
        )
    }

    fn has_policy(self) -> bool {
        !matches!(self, Self::NoRecord | Self::TenantNoRecord)
    }

    fn has_tlsrpt(self) -> bool {
        self != Self::NoTlsRpt
    }

    /// The verdict the binary should give (RFC profile), checked after every run.
    fn expected_verdict(self) -> &'static str {
        match self {
            Self::Enforce | Self::Testing | Self::TenantOwnName => "pass",
            Self::NoRecord | Self::NoTlsRpt | Self::TenantWildcard | Self::TenantNoRecord => "warn",
            Self::BadPolicy | Self::MxNotCovered => "fail",
        }
    }

    /// The problem every domain of the kind should be reported with (`check-id outcome`).
    fn expected_problem(self) -> Option<&'static str> {
        match self {
            Self::Enforce | Self::Testing | Self::TenantOwnName => None,
            Self::NoRecord | Self::TenantNoRecord => Some("sts-record.present warn"),
            Self::NoTlsRpt => Some("tlsrpt.present warn"),
            // A wildcard covers every tenant name the provider will ever hand out, which the
            // RFC allows and the audit points out.
            Self::TenantWildcard => Some("policy.wildcard warn"),
            Self::BadPolicy => Some("policy.mode fail"),
            Self::MxNotCovered => Some("mx.covered fail"),
        }
    }

    /// The policy file served for domain `index`.
    fn policy(self, index: usize) -> String {
        let mx_lines: String = match self {
            Self::MxNotCovered => format!("mx: mail.{}\r\n", domain_name(index)),
            Self::TenantWildcard => format!("mx: *.{FARM}\r\n"),
            Self::TenantOwnName => format!("mx: {}\r\n", tenant_host(index)),
            _ => gateways(index)
                .iter()
                .map(|&number| format!("mx: {}\r\n", gateway_name(number)))
                .collect(),
        };
        let mode = match self {
            Self::Testing => "testing",
            Self::BadPolicy => "enforcing",
            _ => "enforce",
        };
        format!("version: STSv1\r\nmode: {mode}\r\n{mx_lines}max_age: 1209600\r\n")
    }
}

fn domain_name(index: usize) -> String {
    format!("d{index}.{ZONE}")
}

/// The index of `mta-sts.dI.bench.test`.
fn policy_host_index(host: &str) -> Option<usize> {
    host.strip_prefix("mta-sts.d")?
        .strip_suffix(&format!(".{ZONE}"))?
        .parse()
        .ok()
}

/// The two MX gateways (numbers from 1) of domain `index`, neighbours in the pool.
fn gateways(index: usize) -> [usize; 2] {
    let first = 1 + (index * 2) % MX_HOSTS;
    [first, first % MX_HOSTS + 1]
}

fn gateway_name(number: usize) -> String {
    format!("gw{number:02}.mx.{ZONE}")
}

fn gateway_address(number: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 2, 1 + (number % usize::from(MX_ADDRESSES)) as u8)
}

/// A tenant's own MX name at the farm, after its domain (`d7-bench-test.mail.protection…`).
fn tenant_host(index: usize) -> String {
    format!("{}.{FARM}", domain_name(index).replace('.', "-"))
}

/// The two farm addresses a tenant's MX name resolves to.
fn tenant_addresses(index: usize) -> [Ipv4Addr; 2] {
    let first = index % usize::from(FARM_ADDRESSES);
    let second = (first + 1) % usize::from(FARM_ADDRESSES);
    [first, second].map(|n| Ipv4Addr::new(127, 0, 3, 1 + n as u8))
}

/// The MX names of domain `index` with the addresses each resolves to.
fn mx_hosts(index: usize) -> Vec<(String, Vec<Ipv4Addr>)> {
    if Kind::of(index).is_tenant() {
        return vec![(tenant_host(index), tenant_addresses(index).to_vec())];
    }
    gateways(index)
        .iter()
        .map(|&number| (gateway_name(number), vec![gateway_address(number)]))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// DNS: an indexed, authoritative-and-recursive-looking server for the whole world.

fn dns_name(name: &str) -> Name {
    Name::from_ascii(format!("{name}.")).unwrap()
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The world's zone of `name`, if it is in one.
fn zone_of(name: &str) -> Option<&'static str> {
    [ZONE, PROVIDER_ZONE]
        .into_iter()
        .find(|zone| name == *zone || name.ends_with(&format!(".{zone}")))
}

#[derive(Default)]
struct WorldZone {
    records: HashMap<(String, RecordType), Vec<Record>>,
    /// Owners and their ancestors inside their zone (empty non-terminals exist too).
    names: HashSet<String>,
}

impl WorldZone {
    fn add(&mut self, owner: &str, data: RData) {
        let owner = key(owner);
        let record = Record::from_rdata(dns_name(&owner), 300, data);
        let zone = zone_of(&owner).expect("every name of the world is in one of its zones");
        let mut name = owner.as_str();
        while name.ends_with(zone) && self.names.insert(name.to_owned()) {
            match name.split_once('.') {
                Some((_, parent)) => name = parent,
                None => break,
            }
        }
        self.records
            .entry((owner, record.record_type()))
            .or_default()
            .push(record);
    }

    fn build(domains: usize) -> Self {
        let mut zone = Self::default();
        for number in 1..=MX_HOSTS {
            zone.add(&gateway_name(number), RData::A(A(gateway_address(number))));
        }
        zone.add(
            REPORT_DOMAIN,
            RData::MX(MX::new(10, dns_name(&gateway_name(1)))),
        );
        for index in 0..domains {
            let kind = Kind::of(index);
            let domain = domain_name(index);
            if kind.is_tenant() {
                let host = tenant_host(index);
                zone.add(&domain, RData::MX(MX::new(0, dns_name(&host))));
                for ip in tenant_addresses(index) {
                    zone.add(&host, RData::A(A(ip)));
                }
            } else {
                for (preference, number) in [10, 20].into_iter().zip(gateways(index)) {
                    let exchange = dns_name(&gateway_name(number));
                    zone.add(&domain, RData::MX(MX::new(preference, exchange)));
                }
            }
            if kind.has_policy() {
                let id = format!("v=STSv1; id=2024{index:06};");
                zone.add(
                    &format!("_mta-sts.{domain}"),
                    RData::TXT(TXT::new(vec![id])),
                );
                zone.add(&format!("mta-sts.{domain}"), RData::A(A(POLICY_ADDRESS)));
            }
            if kind.has_tlsrpt() {
                let text = format!("v=TLSRPTv1; rua=mailto:tlsrpt@{REPORT_DOMAIN}");
                zone.add(
                    &format!("_smtp._tls.{domain}"),
                    RData::TXT(TXT::new(vec![text])),
                );
            }
        }
        zone
    }

    fn soa(zone: &str) -> Record {
        let soa = SOA::new(
            dns_name(&format!("ns.{zone}")),
            dns_name(&format!("hostmaster.{zone}")),
            1,
            3600,
            600,
            86400,
            60,
        );
        Record::from_rdata(dns_name(zone), 300, RData::SOA(soa))
    }
}

/// One question the DNS server answered (logged for `--one-domain`).
#[derive(Clone, Debug)]
struct Question {
    name: String,
    kind: RecordType,
    received: Instant,
    answered: Instant,
}

type QuestionLog = Arc<Mutex<Vec<Question>>>;

struct DnsHandler {
    zone: WorldZone,
    /// The SOA of each zone, for negative answers.
    soas: HashMap<&'static str, Record>,
    /// Added before each answer over UDP; TCP goes through a delaying proxy instead.
    rtt: Duration,
    log: Option<QuestionLog>,
}

impl DnsHandler {
    async fn answer<R: ResponseHandler>(
        &self,
        request: &Request,
        mut responder: R,
    ) -> ResponseInfo {
        let received = Instant::now();
        if request.protocol() == Protocol::Udp && !self.rtt.is_zero() {
            // The whole round trip at once: the question is answered at once on arrival, so
            // delaying the answer by the RTT is the same to the client as half each way.
            tokio::time::sleep_until((received + self.rtt).into()).await;
        }
        let mut header = Header::response_from_request(request.header());
        header.set_authoritative(true);
        header.set_recursion_available(true);
        let builder = MessageResponseBuilder::from_message_request(request);
        let Some(query) = request.queries().first() else {
            header.set_response_code(ResponseCode::FormErr);
            let response = builder.build_no_records(header);
            return responder
                .send_response(response)
                .await
                .unwrap_or(header.into());
        };
        let name = key(&Name::from(query.name().clone()).to_ascii());
        let answers = self
            .zone
            .records
            .get(&(name.clone(), query.query_type()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let soa: &[Record] = if answers.is_empty() {
            let code = if self.zone.names.contains(&name) {
                ResponseCode::NoError
            } else {
                ResponseCode::NXDomain
            };
            header.set_response_code(code);
            let zone = zone_of(&name).unwrap_or(ZONE);
            std::slice::from_ref(&self.soas[zone])
        } else {
            &[]
        };
        let response = builder.build(
            header,
            answers.iter(),
            None::<&Record>,
            soa,
            None::<&Record>,
        );
        let info = responder
            .send_response(response)
            .await
            .unwrap_or(header.into());
        if let Some(log) = &self.log {
            log.lock().unwrap().push(Question {
                name,
                kind: query.query_type(),
                received,
                answered: Instant::now(),
            });
        }
        info
    }
}

// `RequestHandler` is declared with `#[async_trait]`; its expansion written out, as in
// tests/common/dns.rs.
impl RequestHandler for DnsHandler {
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

/// The DNS server: UDP and TCP on one port, with `rtt` added (UDP answers wait for it, TCP
/// goes through a delaying proxy on the UDP port to a listener of its own).
async fn start_dns(
    zone: WorldZone,
    rtt: Duration,
    log: Option<QuestionLog>,
) -> (SocketAddr, ServerFuture<DnsHandler>, Option<DelayProxy>) {
    for _ in 0..20 {
        let udp = UdpSocket::bind((DNS_ADDRESS, 0)).await.unwrap();
        let addr = udp.local_addr().unwrap();
        // The TCP side of a free UDP port is almost always free too; retry if not.
        let Ok(tcp) = TcpListener::bind(addr).await else {
            continue;
        };
        let soas = [ZONE, PROVIDER_ZONE]
            .into_iter()
            .map(|zone| (zone, WorldZone::soa(zone)))
            .collect();
        let mut server = ServerFuture::new(DnsHandler {
            zone,
            soas,
            rtt,
            log,
        });
        server.register_socket(udp);
        let proxy = if rtt.is_zero() {
            server.register_listener(tcp, Duration::from_secs(10));
            None
        } else {
            let behind = TcpListener::bind((DNS_ADDRESS, 0)).await.unwrap();
            let backend = behind.local_addr().unwrap();
            server.register_listener(behind, Duration::from_secs(10));
            Some(DelayProxy::on(tcp, backend, rtt))
        };
        return (addr, server, proxy);
    }
    panic!("no port free for both UDP and TCP on {DNS_ADDRESS}");
}

// ---------------------------------------------------------------------------------------------
// HTTPS: every policy host on one address, certificate by SNI, policy by domain kind.

#[derive(Debug)]
struct CertificatesBySni(HashMap<String, Arc<CertifiedKey>>);

impl ResolvesServerCert for CertificatesBySni {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.get(client_hello.server_name()?).cloned()
    }
}

/// One leaf per policy host, all issued by `ca`.
fn policy_certificates(ca: &TestCa, domains: usize) -> CertificatesBySni {
    let provider = rustls::crypto::ring::default_provider();
    let mut map = HashMap::new();
    for index in (0..domains).filter(|&index| Kind::of(index).has_policy()) {
        let host = format!("mta-sts.{}", domain_name(index));
        let leaf = ca.issue(&LeafSpec::valid_for(&[host.as_str()]));
        let key = provider.key_provider.load_private_key(leaf.key).unwrap();
        map.insert(host, Arc::new(CertifiedKey::new(leaf.chain, key)));
    }
    CertificatesBySni(map)
}

async fn start_policy_server(certificates: CertificatesBySni) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(certificates));
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((POLICY_ADDRESS, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(serve_policy(tcp, acceptor.clone()));
        }
    });
    addr
}

async fn serve_policy(tcp: TcpStream, acceptor: TlsAcceptor) {
    let step = Duration::from_secs(10);
    let Ok(Ok(mut tls)) = tokio::time::timeout(step, acceptor.accept(tcp)).await else {
        return;
    };
    let index = tls.get_ref().1.server_name().and_then(policy_host_index);
    // Read the request head (bounded); its content does not matter here.
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match tokio::time::timeout(step, tls.read(&mut buf)).await {
            Ok(Ok(read)) if read > 0 => head.extend_from_slice(&buf[..read]),
            _ => return,
        }
    }
    let response = match index {
        Some(index) => {
            let body = Kind::of(index).policy(index);
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )
        }
        None => {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
        }
    };
    let _ = tls.write_all(response.as_bytes()).await;
    let _ = tls.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The world.

/// One SMTP address of the world: its server and, with an added RTT, the proxy clients reach.
struct SmtpAddress {
    ip: Ipv4Addr,
    /// "gateways" or "farm".
    pool: &'static str,
    server: SmtpServer,
    proxy: Option<DelayProxy>,
}

struct World {
    dns: SocketAddr,
    https_port: u16,
    smtp_port: u16,
    ca: TestCa,
    rtt: Duration,
    /// Every question answered, when asked for (`--one-domain`).
    questions: Option<QuestionLog>,
    policy_proxy: Option<DelayProxy>,
    smtp: Vec<SmtpAddress>,
    _dns_server: ServerFuture<DnsHandler>,
    _dns_tcp_proxy: Option<DelayProxy>,
}

impl World {
    /// The world for `domains` domains, `rtt` away (zero: no delay, no proxies); `log_questions`
    /// keeps every DNS question for [`critical_path`].
    async fn start(domains: usize, rtt: Duration, log_questions: bool) -> Self {
        let ca = TestCa::new("Bench CA");
        let questions = log_questions.then(QuestionLog::default);
        let (dns, dns_server, dns_tcp_proxy) =
            start_dns(WorldZone::build(domains), rtt, questions.clone()).await;

        let started = Instant::now();
        let certificates = policy_certificates(&ca, domains);
        eprintln!(
            "world: {} policy certificates issued in {:.2} s",
            certificates.0.len(),
            started.elapsed().as_secs_f64()
        );
        let policy_server = start_policy_server(certificates).await;
        let policy_proxy = if rtt.is_zero() {
            None
        } else {
            let front = SocketAddr::new(IpAddr::V4(POLICY_ADDRESS), 0);
            Some(DelayProxy::start(front, policy_server, rtt).await)
        };
        let https_port = policy_proxy
            .as_ref()
            .map_or(policy_server.port(), DelayProxy::port);

        let gateway_leaf = ca.issue(&LeafSpec::valid_for(&[format!("*.mx.{ZONE}").as_str()]));
        let farm_leaf = ca.issue(&LeafSpec::valid_for(&[format!("*.{FARM}").as_str()]));
        let pools = [
            ("gateways", 2, MX_ADDRESSES, &gateway_leaf),
            ("farm", 3, FARM_ADDRESSES, &farm_leaf),
        ];
        let mut smtp = Vec::new();
        // Every SMTP address answers on one port (the binary takes one `--smtp-port`): the
        // first picks a free port, the others take the same one on their address.
        let mut smtp_port = 0;
        for (pool, third, count, leaf) in pools {
            for last in 1..=count {
                let ip = Ipv4Addr::new(127, 0, third, last);
                let (server, proxy) = if rtt.is_zero() {
                    let server =
                        SmtpServer::start(IpAddr::V4(ip), smtp_port, Behaviour::Normal, leaf).await;
                    smtp_port = server.port();
                    (server, None)
                } else {
                    let server =
                        SmtpServer::start(IpAddr::V4(ip), 0, Behaviour::Normal, leaf).await;
                    let front = SocketAddr::new(IpAddr::V4(ip), smtp_port);
                    let proxy = DelayProxy::start(front, server.addr, rtt).await;
                    smtp_port = proxy.port();
                    (server, Some(proxy))
                };
                smtp.push(SmtpAddress {
                    ip,
                    pool,
                    server,
                    proxy,
                });
            }
        }
        Self {
            dns,
            https_port,
            smtp_port,
            ca,
            rtt,
            questions,
            policy_proxy,
            smtp,
            _dns_server: dns_server,
            _dns_tcp_proxy: dns_tcp_proxy,
        }
    }

    /// Forgets the questions and connections seen so far (before a `--one-domain` run).
    fn forget(&self) {
        if let Some(questions) = &self.questions {
            questions.lock().unwrap().clear();
        }
        for proxy in self
            .policy_proxy
            .iter()
            .chain(self.smtp.iter().filter_map(|a| a.proxy.as_ref()))
        {
            proxy.clear();
        }
    }

    /// SMTP connections per address so far, by pool.
    fn sessions(&self) -> Vec<(&'static str, Ipv4Addr, usize)> {
        self.smtp
            .iter()
            .map(|address| (address.pool, address.ip, address.server.connections()))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Running the binary.

/// How this build of the binary takes its input and writes its output.
#[derive(Clone, Copy, Debug)]
struct Mode {
    /// `--file LIST` (else the domains as arguments).
    file: bool,
    /// `--format jsonl` (else `--format json`).
    jsonl: bool,
}

struct Run {
    /// When the binary was started.
    started: Instant,
    wall: Duration,
    status: std::process::ExitStatus,
    /// Highest `VmHWM` seen while polling `/proc/PID/status`.
    polled_peak_kib: Option<u64>,
    child_cpu: Duration,
    world_cpu: Duration,
    stats: Option<serde_json::Value>,
    stdout: PathBuf,
    stderr: PathBuf,
}

struct Runner {
    binary: PathBuf,
    dir: tempfile::TempDir,
    common_args: Vec<String>,
}

impl Runner {
    fn new(world: &World, extra: &[String]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_file = world.ca.write_pem(dir.path());
        let mut common_args: Vec<String> = [
            "check",
            "--resolver",
            &world.dns.to_string(),
            "--ca-file",
            &ca_file.to_string_lossy(),
            "--https-port",
            &world.https_port.to_string(),
            "--smtp-port",
            &world.smtp_port.to_string(),
            "--stats",
            "--quiet",
            "--allow-private",
        ]
        .iter()
        .map(|arg| (*arg).to_owned())
        .collect();
        common_args.extend_from_slice(extra);
        Self {
            // Another build against the same world, for a before-and-after.
            binary: std::env::var_os("BULK_BINARY").map_or_else(
                || PathBuf::from(env!("CARGO_BIN_EXE_mtasts")),
                PathBuf::from,
            ),
            dir,
            common_args,
        }
    }

    fn command(&self, domains: &[String], mode: Mode, name: &str) -> (Command, PathBuf, PathBuf) {
        let mut command = Command::new(&self.binary);
        command.args(&self.common_args);
        command.args(["--format", if mode.jsonl { "jsonl" } else { "json" }]);
        if mode.file {
            let list = self.dir.path().join(format!("{name}.list"));
            let mut text = String::new();
            for domain in domains {
                writeln!(text, "{domain}").unwrap();
            }
            std::fs::write(&list, text).unwrap();
            command.arg("--file").arg(list);
        } else {
            command.arg("--").args(domains);
        }
        let stdout = self.dir.path().join(format!("{name}.out"));
        let stderr = self.dir.path().join(format!("{name}.err"));
        command
            // As a user runs it: no backtrace capture (anyhow and panics honour these).
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap());
        (command, stdout, stderr)
    }

    /// The first mode in which auditing one domain works: `--file` and `jsonl` are being
    /// written at the same time as this benchmark.
    fn detect_mode(&self, probe_domain: &str) -> Mode {
        let modes = [(true, true), (false, true), (true, false), (false, false)];
        for (file, jsonl) in modes {
            let mode = Mode { file, jsonl };
            let (mut command, stdout, _) =
                self.command(&[probe_domain.to_owned()], mode, "preflight");
            let status = command.status().unwrap();
            let output = std::fs::read_to_string(&stdout).unwrap_or_default();
            // 0, 1 and 3 are audits; 2 is a usage error, 101 a panic (a `todo!()`).
            if matches!(status.code(), Some(0 | 1 | 3)) && output.contains(probe_domain) {
                return mode;
            }
        }
        panic!(
            "{} cannot audit {probe_domain} in any mode",
            self.binary.display()
        );
    }

    fn run(&self, domains: &[String], mode: Mode) -> Run {
        let (mut command, stdout, stderr) = self.command(domains, mode, "run");
        let cpu_before = ProcessCpu::read();
        let started = Instant::now();
        let mut child = command.spawn().unwrap();
        let poller = common::peak::PeakPoller::start(child.id(), Duration::from_millis(10));
        let status = child.wait().unwrap();
        let wall = started.elapsed();
        let polled_peak_kib = poller.stop();
        let cpu_after = ProcessCpu::read();
        let stats = BufReader::new(File::open(&stderr).unwrap())
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
            .find(|value| value["kind"] == STATS_KIND);
        Run {
            started,
            wall,
            status,
            polled_peak_kib,
            child_cpu: cpu_after.children.saturating_sub(cpu_before.children),
            world_cpu: cpu_after.own.saturating_sub(cpu_before.own),
            stats,
            stdout,
            stderr,
        }
    }
}

/// CPU time from `/proc/self/stat`: this process (all threads) and its waited-for children.
struct ProcessCpu {
    own: Duration,
    children: Duration,
}

impl ProcessCpu {
    fn read() -> Self {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces; the
        // first is field 3 (state), so utime (14) is at 11 and cstime (17) at 14.
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default()
            .split_whitespace()
            .map(|field| field.parse().unwrap_or(0))
            .collect();
        let ticks = |index: usize| fields.get(index).copied().unwrap_or(0);
        let hz = clock_ticks_per_second();
        let time = |ticks: u64| Duration::from_secs_f64(ticks as f64 / hz as f64);
        Self {
            own: time(ticks(11) + ticks(12)),
            children: time(ticks(13) + ticks(14)),
        }
    }
}

/// The first three fields of `/proc/loadavg` ("2.05 1.03 0.93"): other work on the machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `getconf CLK_TCK`; 100 (USER_HZ on every Linux architecture in common use) if unknown.
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&hz| hz > 0)
        .unwrap_or(100)
}

/// What the report says about one domain.
struct Reported {
    verdict: String,
    /// `check-id outcome` of every warning, failure or undetermined check.
    problems: Vec<String>,
}

/// The report of each domain, from jsonl lines or the JSON document's `domains`.
fn reported(path: &Path, jsonl: bool) -> HashMap<String, Reported> {
    let mut found = HashMap::new();
    let mut add = |value: &serde_json::Value| {
        if let (Some(domain), Some(verdict)) = (value["domain"].as_str(), value["verdict"].as_str())
        {
            let problems = value["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|finding| {
                    !matches!(
                        finding["outcome"].as_str(),
                        Some("pass" | "info" | "skipped")
                    )
                })
                .map(|finding| {
                    let id = finding["id"].as_str().unwrap_or("?");
                    let outcome = finding["outcome"].as_str().unwrap_or("?");
                    format!("{id} {outcome}")
                })
                .collect();
            let verdict = verdict.to_owned();
            found.insert(domain.to_owned(), Reported { verdict, problems });
        }
    };
    if jsonl {
        let file = BufReader::new(File::open(path).unwrap());
        for line in file.lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) {
                add(&value);
            }
        }
    } else if let Ok(document) =
        // The whole document first: serde_json parses a slice much faster than a reader.
        serde_json::from_slice::<serde_json::Value>(
            &std::fs::read(path).unwrap_or_default(),
        )
    {
        for domain in document["domains"].as_array().into_iter().flatten() {
            add(domain);
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------

/// What the benchmark was asked to do.
struct Args {
    count: usize,
    rtt: Duration,
    one_domain: bool,
    repeat: usize,
    /// Passed on to `mtasts check`.
    extra: Vec<String>,
}

impl Args {
    /// Cargo passes `--bench`; the first number is N; `--rtt-ms N`, `--one-domain` and
    /// `--repeat N` are the benchmark's; anything else goes to `mtasts check`.
    fn parse() -> Self {
        let mut args = std::env::args().skip(1).filter(|arg| arg != "--bench");
        let mut count = None;
        let (mut rtt, mut one_domain, mut repeat) = (Duration::ZERO, false, None);
        let mut extra = Vec::new();
        let number = |flag: &str, value: Option<String>| -> u64 {
            value
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{flag} takes a whole number"))
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--rtt-ms" => rtt = Duration::from_millis(number("--rtt-ms", args.next())),
                "--one-domain" => one_domain = true,
                "--repeat" => repeat = Some(number("--repeat", args.next()) as usize),
                _ => match arg.parse::<usize>() {
                    Ok(number) if count.is_none() && extra.is_empty() => count = Some(number),
                    _ => extra.push(arg),
                },
            }
        }
        Self {
            count: count.unwrap_or(DEFAULT_DOMAINS).max(1),
            rtt,
            one_domain,
            // One domain alone is quick and noisy: several runs by default.
            repeat: repeat.unwrap_or(if one_domain { 5 } else { 1 }).max(1),
            extra,
        }
    }
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let setup = Instant::now();
    // One domain of each pool is enough for --one-domain: the first gateway domain and the
    // first tenant with a wildcard policy.
    let count = if args.one_domain { 20 } else { args.count };
    let world = runtime.block_on(World::start(count, args.rtt, args.one_domain));
    let domains: Vec<String> = (0..count).map(domain_name).collect();
    let runner = Runner::new(&world, &args.extra);
    let mode = runner.detect_mode(&domains[0]);
    let tenants = (0..count)
        .filter(|&index| Kind::of(index).is_tenant())
        .count();
    eprintln!(
        "world: {count} domains ({tenants} farm tenants), {MX_HOSTS} gateway names on \
         {MX_ADDRESSES} addresses, {FARM_ADDRESSES} farm addresses, {} ms added round trip, \
         ready in {:.2} s",
        args.rtt.as_millis(),
        setup.elapsed().as_secs_f64()
    );

    if args.one_domain {
        let indexes = [
            0,
            (0..count)
                .find(|&i| Kind::of(i) == Kind::TenantWildcard)
                .unwrap(),
        ];
        for index in indexes {
            one_domain(&world, &runner, mode, index, args.repeat);
        }
        return;
    }
    let mut walls = Vec::new();
    for round in 1..=args.repeat {
        if args.repeat > 1 {
            println!("run {round} of {}:", args.repeat);
        }
        let before = world.sessions();
        let run = runner.run(&domains, mode);
        report(&run, &domains, mode, &runner, &world, &before);
        walls.push(run.wall);
        if let Some(dir) = std::env::var_os("BULK_KEEP_OUTPUT") {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(&run.stdout, dir.join("stdout")).unwrap();
            std::fs::copy(&run.stderr, dir.join("stderr")).unwrap();
            println!("  output kept  {}", dir.display());
        }
    }
    if walls.len() > 1 {
        let (low, high) = range(&walls);
        println!(
            "{} runs: wall {:.2}-{:.2} s, {:.0}-{:.0} domains/s",
            walls.len(),
            low.as_secs_f64(),
            high.as_secs_f64(),
            count as f64 / high.as_secs_f64(),
            count as f64 / low.as_secs_f64(),
        );
    }
    drop(world);
}

fn range(values: &[Duration]) -> (Duration, Duration) {
    let low = values.iter().copied().min().unwrap_or_default();
    let high = values.iter().copied().max().unwrap_or_default();
    (low, high)
}

// ---------------------------------------------------------------------------------------------
// One domain: its wall time against its critical path.

/// A chain of dependent round trips: how many, the world's own time on it (the servers'
/// work and the DNS server's and proxies' timer lateness), which no client could save, and the
/// binary's own time on it (from receiving an answer to sending what depends on it), which is
/// not part of the critical path: it is what a faster client would save.
#[derive(Clone, Copy, Debug, Default)]
struct Trips {
    round_trips: u32,
    world: Duration,
    client: Duration,
}

impl Trips {
    fn time(self, rtt: Duration) -> Duration {
        rtt * self.round_trips + self.world
    }

    /// This chain, then `next` after `gap` of the binary's own time.
    fn then(self, gap: Duration, next: Self) -> Self {
        Self {
            round_trips: self.round_trips + next.round_trips,
            world: self.world + next.world,
            client: self.client + gap + next.client,
        }
    }

    fn longest(self, other: Self, rtt: Duration) -> Self {
        if other.time(rtt) > self.time(rtt) {
            other
        } else {
            self
        }
    }
}

impl From<Chain> for Trips {
    fn from(chain: Chain) -> Self {
        Self {
            round_trips: chain.round_trips,
            world: chain.server_time + chain.lateness,
            client: chain.client_time,
        }
    }
}

/// Each question's chain, and when its answer went out: one round trip after the longest
/// chain among the questions whose answer had arrived when it was asked (what the audit
/// actually waited for before asking).
fn question_chains(questions: &[Question], rtt: Duration) -> Vec<Trips> {
    let mut chains: Vec<Trips> = Vec::with_capacity(questions.len());
    for question in questions {
        let before = questions
            .iter()
            .zip(&chains)
            .filter(|(earlier, _)| earlier.answered <= question.received)
            .max_by_key(|(_, chain)| chain.time(rtt));
        let gap = before.map_or(Duration::ZERO, |(earlier, _)| {
            question.received - earlier.answered
        });
        let own = Trips {
            round_trips: 1,
            world: (question.answered - question.received).saturating_sub(rtt),
            client: Duration::ZERO,
        };
        let before = before.map_or(Trips::default(), |(_, chain)| *chain);
        chains.push(before.then(gap, own));
    }
    chains
}

/// The critical path of one domain's audit, from what the DNS server and the proxies saw:
///
/// - DNS: each question one round trip after the questions whose answers had arrived when it
///   was asked ([`question_chains`]);
/// - a connection: after the A and AAAA questions of its host, its own chain of dependent
///   exchanges as the proxy counted them ([`Link::chain`]: the TCP handshake, then every
///   command and answer, TLS flight and HTTP exchange the client waited for);
/// - HTTPS: the handshake-only connection and the fetch, side by side, the longer counting;
/// - SMTP, per address: the STARTTLS session, and the TLS 1.0/1.1 probe, which needs only the
///   STARTTLS 220 of the first session (it is offered to servers that accepted STARTTLS), so it
///   may start as soon as that answer is in;
///
/// the critical path being the longest of these chains. Returns it with every chain, named.
fn critical_path(world: &World, index: usize) -> (Trips, Vec<(String, Trips)>) {
    let rtt = world.rtt;
    let mut questions = world.questions.as_ref().unwrap().lock().unwrap().clone();
    questions.sort_by_key(|question| question.received);
    let dns = question_chains(&questions, rtt);
    if std::env::var_os("BULK_SHOW_LINKS").is_some() {
        let first = questions.first().map(|question| question.received);
        for (question, chain) in questions.iter().zip(&dns) {
            let at = |time: Instant| first.map_or(0.0, |first| ms_since(first, time));
            println!(
                "    question at {:7.2} ms, answered {:7.2} ms, step {}: {} {}",
                at(question.received),
                at(question.answered),
                chain.round_trips,
                question.name,
                question.kind
            );
        }
    }
    let mut chains = Vec::new();
    if let Some((last, chain)) = questions
        .iter()
        .zip(&dns)
        .max_by_key(|(_, chain)| chain.time(rtt))
    {
        chains.push((
            format!(
                "DNS alone: {} questions, the longest chain ends with {} {}",
                questions.len(),
                last.name,
                last.kind
            ),
            *chain,
        ));
    }
    // The chain up to a host's addresses (its A and AAAA questions, whichever ended later),
    // then a connection opened at `opened`.
    let connection_after = |host: &str, opened: Instant, link: Trips| {
        let addresses = questions
            .iter()
            .zip(&dns)
            .filter(|(question, _)| {
                question.name == host && matches!(question.kind, RecordType::A | RecordType::AAAA)
            })
            .max_by_key(|(question, _)| question.answered);
        match addresses {
            Some((question, chain)) => {
                chain.then(opened.saturating_duration_since(question.answered), link)
            }
            None => link,
        }
    };
    if let Some(proxy) = &world.policy_proxy {
        let host = format!("mta-sts.{}", domain_name(index));
        let links = proxy.links();
        let mut longest: Option<(String, Trips)> = None;
        for link in &links {
            let own = Trips::from(link.chain());
            let chain = connection_after(&host, link.opened.into_std(), own);
            let dns = chain.round_trips - own.round_trips;
            // Which is the fetch the proxy cannot tell (both are TLS from the first byte).
            let named = (
                format!(
                    "HTTPS {host}: DNS {dns} + the longer of its {} connections {}",
                    links.len(),
                    own.round_trips
                ),
                chain,
            );
            longest = match longest {
                Some(other) if other.1.time(rtt) >= chain.time(rtt) => Some(other),
                _ => Some(named),
            };
        }
        chains.extend(longest);
    }
    for (host, ips) in mx_hosts(index) {
        for ip in ips {
            let Some(proxy) = world
                .smtp
                .iter()
                .find(|address| address.ip == ip)
                .and_then(|address| address.proxy.as_ref())
            else {
                continue;
            };
            let links: Vec<Link> = proxy.links();
            if std::env::var_os("BULK_SHOW_LINKS").is_some() {
                for (number, link) in links.iter().enumerate() {
                    println!("    connection {number} to {ip}:");
                    for line in link.describe() {
                        println!("      {line}");
                    }
                }
            }
            let Some(session) = links.first() else {
                continue;
            };
            let whole = Trips::from(session.chain());
            let mut connections = whole;
            let mut what = format!("STARTTLS session {}", whole.round_trips);
            if let (Some(legacy), Some(to_220)) =
                (links.get(1), session.chain_to_answer(b"STARTTLS"))
            {
                let gap = to_220.last_answer.map_or(Duration::ZERO, |answered| {
                    legacy.opened.saturating_duration_since(answered)
                });
                let to_220_trips = Trips::from(to_220);
                let legacy = Trips::from(legacy.chain());
                connections = whole.longest(to_220_trips.then(gap, legacy), rtt);
                what.push_str(&format!(
                    " ‖ (STARTTLS 220 after {} + TLS 1.0/1.1 probe {})",
                    to_220.round_trips, legacy.round_trips
                ));
            }
            if links.len() > 2 {
                what.push_str(&format!(
                    " ({} more connections, not counted)",
                    links.len() - 2
                ));
            }
            let chain = connection_after(&host, session.opened.into_std(), connections);
            let dns = chain.round_trips - connections.round_trips;
            chains.push((format!("SMTP {host} at {ip}: DNS {dns} + {what}"), chain));
        }
    }
    let critical = chains
        .iter()
        .map(|(_, chain)| *chain)
        .fold(Trips::default(), |a, b| a.longest(b, rtt));
    (critical, chains)
}

fn ms_since(start: Instant, time: Instant) -> f64 {
    time.saturating_duration_since(start).as_secs_f64() * 1000.0
}

/// Audits domain `index` alone, `repeat` times, and prints each run's wall time against its
/// critical path.
fn one_domain(world: &World, runner: &Runner, mode: Mode, index: usize, repeat: usize) {
    let rtt = world.rtt;
    let domain = domain_name(index);
    let kind = Kind::of(index);
    let hosts: Vec<String> = mx_hosts(index)
        .iter()
        .map(|(host, ips)| format!("{host} ({} addresses)", ips.len()))
        .collect();
    println!(
        "one domain, {} ms added round trip: {domain} ({kind:?}; MX {}), load average {}",
        rtt.as_millis(),
        hosts.join(", "),
        load_average()
    );
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    let mut ratios = Vec::new();
    for round in 1..=repeat {
        world.forget();
        let run = runner.run(std::slice::from_ref(&domain), mode);
        let (critical, chains) = critical_path(world, index);
        let path = critical.time(rtt);
        let audit = run
            .stats
            .as_ref()
            .and_then(|stats| stats["wall_ms"].as_f64())
            .unwrap_or(f64::NAN);
        let first_question = world
            .questions
            .as_ref()
            .and_then(|log| log.lock().unwrap().iter().map(|q| q.received).min());
        let startup = first_question.map_or(f64::NAN, |first| ms(first - run.started));
        let ratio = run.wall.as_secs_f64() / path.as_secs_f64();
        ratios.push(ratio);
        let reports = reported(&run.stdout, mode.jsonl);
        let verdict = reports
            .get(&domain)
            .map_or("missing", |r| r.verdict.as_str());
        let rest = ms(run.wall) - startup - ms(path) - ms(critical.client);
        println!(
            "  run {round}: wall {:.1} ms (process), {audit:.1} ms (audit, --stats); critical path \
             {:.1} ms ({} round trips × {} ms + {:.1} ms of server work and timer lateness); \
             wall / critical path {ratio:.3}; verdict {verdict}",
            ms(run.wall),
            ms(path),
            critical.round_trips,
            rtt.as_millis(),
            ms(critical.world),
        );
        println!(
            "         the wall time is {startup:.1} ms to the first question + the critical path + \
             {:.1} ms of the binary's own time on it (computing, or waiting for what the path does not need) + {rest:.1} ms else (exit, judging, output)",
            ms(critical.client),
        );
        if round == 1 {
            for (what, chain) in &chains {
                println!(
                    "    {:>6.1} ms  {:>2} round trips (+{:>5.1} ms binary)  {what}",
                    ms(chain.time(rtt)),
                    chain.round_trips,
                    ms(chain.client),
                );
            }
        }
    }
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    println!(
        "  {} runs: wall / critical path {low:.3}-{high:.3} (target: at most 1.10)",
        ratios.len()
    );
}

fn report(
    run: &Run,
    domains: &[String],
    mode: Mode,
    runner: &Runner,
    world: &World,
    sessions_before: &[(&'static str, Ipv4Addr, usize)],
) {
    let count = domains.len();
    let wall = run.wall.as_secs_f64();
    let stats = run.stats.as_ref();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "mtasts bulk benchmark: {count} domains, {} ms added round trip, input {}, format {}, \
         {} cores, load average {}",
        world.rtt.as_millis(),
        if mode.file { "--file" } else { "arguments" },
        if mode.jsonl { "jsonl" } else { "json" },
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average(),
    );
    println!(
        "  command      {} {}",
        runner.binary.display(),
        runner.common_args.join(" ")
    );
    println!("  exit status  {}", run.status);
    println!("  wall time    {wall:.2} s (process start to exit)");
    if let Some(stats_wall) = stats.and_then(|stats| stats["wall_ms"].as_f64()) {
        println!(
            "               {:.2} s (audit, from --stats)",
            stats_wall / 1000.0
        );
    }
    println!("  domains/s    {:.0}", count as f64 / wall);
    let reported_peak = stats.and_then(|stats| stats["peak_rss_kib"].as_u64());
    match (reported_peak, run.polled_peak_kib) {
        (Some(kib), _) => println!("  peak RSS     {:.1} MiB (VmHWM, from --stats)", mib(kib)),
        (None, Some(kib)) => println!(
            "  peak RSS     {:.1} MiB (VmHWM polled every 10 ms; --stats printed nothing)",
            mib(kib)
        ),
        (None, None) => println!("  peak RSS     unknown"),
    }
    let percent = |cpu: Duration| 100.0 * cpu.as_secs_f64() / wall;
    println!(
        "  binary CPU   {:.2} s user+sys ({:.0}% of one core)",
        run.child_cpu.as_secs_f64(),
        percent(run.child_cpu)
    );
    println!(
        "  world CPU    {:.2} s user+sys ({:.0}% of one core; DNS, HTTPS and SMTP servers here)",
        run.world_cpu.as_secs_f64(),
        percent(run.world_cpu)
    );
    match stats.and_then(|stats| stats["stages"].as_object()) {
        Some(stages) => {
            println!("  stage time   summed over concurrent calls, so it can exceed the wall time");
            for (stage, value) in stages {
                let calls = value["calls"].as_u64().unwrap_or(0);
                let total_ms = value["total_ms"].as_f64().unwrap_or(0.0);
                let mean = if calls > 0 {
                    total_ms / calls as f64
                } else {
                    0.0
                };
                println!(
                    "    {stage:<13}{calls:>8} calls {:>9.2} s  mean {mean:.2} ms",
                    total_ms / 1000.0
                );
            }
        }
        None => println!("  stage time   unknown (the binary printed no --stats line)"),
    }
    if let Some(dns) = stats
        .map(|stats| &stats["dns"])
        .filter(|dns| dns.is_object())
    {
        let field = |name: &str| dns[name].as_u64().unwrap_or(0);
        println!(
            "  DNS client   {} questions, {} retried, {} throttled, {} failed; {} waited for a \
             slot in the window (limit {}, smallest {})",
            field("questions"),
            field("retried"),
            field("throttled"),
            field("failed"),
            field("waited"),
            field("window_limit"),
            field("window_smallest"),
        );
    }

    let sessions: Vec<String> = world
        .sessions()
        .iter()
        .zip(sessions_before)
        .map(|((pool, ip, after), (_, _, before))| format!("{pool} {ip} {}", after - before))
        .collect();
    println!("  SMTP sessions per address  {}", sessions.join(", "));

    let reports = reported(&run.stdout, mode.jsonl);
    let output_bytes = std::fs::metadata(&run.stdout).map_or(0, |meta| meta.len());
    println!(
        "  reported     {} of {count} domains ({:.1} MiB of output, {:.1} KiB per domain); \
         verdicts and most common problems by kind:",
        reports.len(),
        mib(output_bytes / 1024),
        output_bytes as f64 / 1024.0 / count as f64,
    );
    /// Verdicts and problems of one kind of deployment, each with how many domains had it.
    type Tally<'a> = (BTreeMap<&'a str, usize>, BTreeMap<&'a str, usize>);
    let mut by_kind: BTreeMap<Kind, Tally<'_>> = BTreeMap::new();
    let mut unexpected = 0;
    for (index, domain) in domains.iter().enumerate() {
        let kind = Kind::of(index);
        let (verdicts, problems) = by_kind.entry(kind).or_default();
        let report = reports.get(domain);
        let verdict = report.map_or("missing", |report| report.verdict.as_str());
        let problem_missing = kind.expected_problem().is_some_and(|expected| {
            !report.is_some_and(|report| report.problems.iter().any(|p| p == expected))
        });
        unexpected += usize::from(verdict != kind.expected_verdict() || problem_missing);
        *verdicts.entry(verdict).or_default() += 1;
        for problem in report.into_iter().flat_map(|report| &report.problems) {
            *problems.entry(problem.as_str()).or_default() += 1;
        }
    }
    for (kind, (verdicts, problems)) in by_kind {
        let verdicts: Vec<String> = verdicts
            .iter()
            .map(|(verdict, count)| format!("{verdict} {count}"))
            .collect();
        let mut problems: Vec<(&str, usize)> = problems.into_iter().collect();
        problems.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let problems: Vec<String> = problems
            .iter()
            .take(4)
            .map(|(problem, count)| format!("{problem} ({count})"))
            .collect();
        let problems = if problems.is_empty() {
            String::new()
        } else {
            format!("; {}", problems.join(", "))
        };
        let expected = match kind.expected_problem() {
            Some(problem) => format!("{}, {problem}", kind.expected_verdict()),
            None => kind.expected_verdict().to_owned(),
        };
        println!(
            "    {:<15}{} (expected {expected}){problems}",
            format!("{kind:?}"),
            verdicts.join(", "),
        );
    }
    if unexpected == 0 {
        println!("  verdicts     every domain got the verdict and problem its kind should get");
    } else {
        println!(
            "  verdicts     {unexpected} of {count} domains did NOT get the verdict or problem \
             their kind should get"
        );
    }
    if !run.status.success() && run.status.code() != Some(1) {
        let stderr = std::fs::read_to_string(&run.stderr).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        println!("  stderr (last lines):");
        for line in tail.into_iter().rev() {
            println!("    {line}");
        }
    }
    std::io::stdout().flush().unwrap();
}
