//! Bulk benchmark: the real `mtasts` binary auditing N synthetic domains served from loopback.
//!
//! ```text
//! cargo bench --bench bulk              # 1,000 domains
//! cargo bench --bench bulk -- 10000     # N as the first argument
//! cargo bench --bench bulk -- 10000 --concurrency 256   # further arguments go to `mtasts check`
//! BULK_KEEP_OUTPUT=/tmp/bulk cargo bench --bench bulk    # keep the binary's stdout and stderr
//! ```
//!
//! The world, all in this process: one DNS server (127.0.0.1) answering for every name, one HTTPS
//! server (127.0.1.1) holding every policy host with a certificate of its own picked by SNI, and
//! 20 MX gateways (`gwNN.mx.bench.test`) on four addresses (127.0.2.1-4), each address one
//! SMTP server, the way agencies share a few mail gateways. Domains are `dI.bench.test`; their
//! deployments are mixed as in [`Kind`]. Cargo builds the binary for benchmarks and names it in
//! `CARGO_BIN_EXE_mtasts`, in the same (release) profile.
//!
//! It prints wall time, domains per second, the binary's peak RSS and CPU time, the time per
//! network stage (from the binary's `--stats` line), this process's own CPU time (so that a world
//! too slow to keep up shows), and the verdicts per kind of deployment as a sanity check.
//! docs/performance.md records the figures.
//!
//! Why not the `tests/common` DNS and HTTPS servers: the test [`common::dns::Zone`] looks up
//! records by scanning all of them (fine for a dozen records, quadratic for 50,000), and
//! [`common::https::HttpsServer`] presents one certificate and one answer. The SMTP servers and
//! the certificate authority are the test ones.

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
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_server::authority::MessageResponseBuilder;
use hickory_server::proto::op::{Header, ResponseCode};
use hickory_server::proto::rr::rdata::{A, MX, SOA, TXT};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_rustls::TlsAcceptor;

use common::ca::{LeafSpec, TestCa};
use common::smtp::{Behaviour, SmtpServer};
use mtasts::stats::STATS_KIND;

const DEFAULT_DOMAINS: usize = 1000;
const ZONE: &str = "bench.test";
const MX_HOSTS: usize = 20;
const MX_ADDRESSES: u8 = 4;
const DNS_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const POLICY_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);
const REPORT_DOMAIN: &str = "reports.bench.test";

/// The deployments of the synthetic domains, in shares of 20.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// 60%: record, `mode: enforce` policy covering the MX hosts, TLS-RPT.
    Enforce,
    /// 15%: the same in `mode: testing`.
    Testing,
    /// 10%: no MTA-STS record and no policy host (TLS-RPT only).
    NoRecord,
    /// 5%: the policy does not parse (`mode: enforcing`).
    BadPolicy,
    /// 5%: moved to the shared gateways without updating the policy's `mx:` line.
    MxNotCovered,
    /// 5%: MTA-STS in enforce, no TLS-RPT record.
    NoTlsRpt,
}

impl Kind {
    fn of(index: usize) -> Self {
        match index % 20 {
            0..=11 => Self::Enforce,
            12..=14 => Self::Testing,
            15 | 16 => Self::NoRecord,
            17 => Self::BadPolicy,
            18 => Self::MxNotCovered,
            _ => Self::NoTlsRpt,
        }
    }

    fn has_policy(self) -> bool {
        self != Self::NoRecord
    }

    fn has_tlsrpt(self) -> bool {
        self != Self::NoTlsRpt
    }

    /// The policy file served for domain `index`.
    fn policy(self, index: usize) -> String {
        let mx_lines: String = match self {
            Self::MxNotCovered => format!("mx: mail.{}\r\n", domain_name(index)),
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

// ---------------------------------------------------------------------------------------------
// DNS: an indexed, authoritative-and-recursive-looking server for the whole world.

fn dns_name(name: &str) -> Name {
    Name::from_ascii(format!("{name}.")).unwrap()
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[derive(Default)]
struct WorldZone {
    records: HashMap<(String, RecordType), Vec<Record>>,
    /// Owners and their ancestors inside the zone (empty non-terminals exist too).
    names: HashSet<String>,
}

impl WorldZone {
    fn add(&mut self, owner: &str, data: RData) {
        let owner = key(owner);
        let record = Record::from_rdata(dns_name(&owner), 300, data);
        let mut name = owner.as_str();
        while name.ends_with(ZONE) && self.names.insert(name.to_owned()) {
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
            for (preference, number) in [10, 20].into_iter().zip(gateways(index)) {
                let exchange = dns_name(&gateway_name(number));
                zone.add(&domain, RData::MX(MX::new(preference, exchange)));
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

    fn soa() -> Record {
        let soa = SOA::new(
            dns_name(&format!("ns.{ZONE}")),
            dns_name(&format!("hostmaster.{ZONE}")),
            1,
            3600,
            600,
            86400,
            60,
        );
        Record::from_rdata(dns_name(ZONE), 300, RData::SOA(soa))
    }
}

struct DnsHandler {
    zone: WorldZone,
    soa: Record,
}

impl DnsHandler {
    async fn answer<R: ResponseHandler>(
        &self,
        request: &Request,
        mut responder: R,
    ) -> ResponseInfo {
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
            std::slice::from_ref(&self.soa)
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
        responder
            .send_response(response)
            .await
            .unwrap_or(header.into())
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

async fn start_dns(zone: WorldZone) -> (SocketAddr, ServerFuture<DnsHandler>) {
    for _ in 0..20 {
        let udp = UdpSocket::bind((DNS_ADDRESS, 0)).await.unwrap();
        let addr = udp.local_addr().unwrap();
        // The TCP side of a free UDP port is almost always free too; retry if not.
        if let Ok(tcp) = TcpListener::bind(addr).await {
            let mut server = ServerFuture::new(DnsHandler {
                zone,
                soa: WorldZone::soa(),
            });
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(10));
            return (addr, server);
        }
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

struct World {
    dns: SocketAddr,
    https_port: u16,
    smtp_port: u16,
    ca: TestCa,
    _dns_server: ServerFuture<DnsHandler>,
    _smtp_servers: Vec<SmtpServer>,
}

impl World {
    async fn start(domains: usize) -> Self {
        let ca = TestCa::new("Bench CA");
        let (dns, dns_server) = start_dns(WorldZone::build(domains)).await;

        let started = Instant::now();
        let certificates = policy_certificates(&ca, domains);
        eprintln!(
            "world: {} policy certificates issued in {:.2} s",
            certificates.0.len(),
            started.elapsed().as_secs_f64()
        );
        let https_port = start_policy_server(certificates).await.port();

        let wildcard = format!("*.mx.{ZONE}");
        let leaf = ca.issue(&LeafSpec::valid_for(&[wildcard.as_str()]));
        let mut smtp_servers = Vec::new();
        let mut smtp_port = 0;
        for last in 1..=MX_ADDRESSES {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 2, last));
            // The first server picks a free port; the others take the same port on their address.
            let server = SmtpServer::start(ip, smtp_port, Behaviour::Normal, &leaf).await;
            smtp_port = server.port();
            smtp_servers.push(server);
        }
        Self {
            dns,
            https_port,
            smtp_port,
            ca,
            _dns_server: dns_server,
            _smtp_servers: smtp_servers,
        }
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
            binary: PathBuf::from(env!("CARGO_BIN_EXE_mtasts")),
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

fn main() {
    // Cargo passes `--bench`; the first number is N; anything else goes to `mtasts check`.
    let mut count = None;
    let mut extra = Vec::new();
    for arg in std::env::args().skip(1).filter(|arg| arg != "--bench") {
        match arg.parse::<usize>() {
            Ok(number) if count.is_none() && extra.is_empty() => count = Some(number),
            _ => extra.push(arg),
        }
    }
    let count = count.unwrap_or(DEFAULT_DOMAINS).max(1);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let setup = Instant::now();
    let world = runtime.block_on(World::start(count));
    let domains: Vec<String> = (0..count).map(domain_name).collect();
    let runner = Runner::new(&world, &extra);
    let mode = runner.detect_mode(&domains[0]);
    eprintln!(
        "world: {count} domains, {MX_HOSTS} MX hosts on {MX_ADDRESSES} addresses, ready in {:.2} s",
        setup.elapsed().as_secs_f64()
    );

    let run = runner.run(&domains, mode);
    report(&run, &domains, mode, &runner);
    if let Some(dir) = std::env::var_os("BULK_KEEP_OUTPUT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&run.stdout, dir.join("stdout")).unwrap();
        std::fs::copy(&run.stderr, dir.join("stderr")).unwrap();
        println!("  output kept  {}", dir.display());
    }
    drop(world);
}

fn report(run: &Run, domains: &[String], mode: Mode, runner: &Runner) {
    let count = domains.len();
    let wall = run.wall.as_secs_f64();
    let stats = run.stats.as_ref();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "mtasts bulk benchmark: {count} domains, input {}, format {}, {} cores",
        if mode.file { "--file" } else { "arguments" },
        if mode.jsonl { "jsonl" } else { "json" },
        std::thread::available_parallelism().map_or(0, usize::from),
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

    let reports = reported(&run.stdout, mode.jsonl);
    let output_mib = std::fs::metadata(&run.stdout).map_or(0.0, |meta| mib(meta.len() / 1024));
    println!(
        "  reported     {} of {count} domains ({output_mib:.1} MiB of output); verdicts and \
         most common problems by kind:",
        reports.len(),
    );
    /// Verdicts and problems of one kind of deployment, each with how many domains had it.
    type Tally<'a> = (BTreeMap<&'a str, usize>, BTreeMap<&'a str, usize>);
    let mut by_kind: BTreeMap<Kind, Tally<'_>> = BTreeMap::new();
    for (index, domain) in domains.iter().enumerate() {
        let (verdicts, problems) = by_kind.entry(Kind::of(index)).or_default();
        let report = reports.get(domain);
        let verdict = report.map_or("missing", |report| report.verdict.as_str());
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
        println!(
            "    {:<13}{}{problems}",
            format!("{kind:?}"),
            verdicts.join(", ")
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
