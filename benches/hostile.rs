//! Hostile benchmark: the release binary against each hostile loopback server of
//! `docs/hostile.md` (issue 12), one `mtasts check` of one domain per case, as a user runs it.
//!
//! ```text
//! cargo bench --bench hostile            # every case
//! cargo bench --bench hostile -- smtp    # the cases whose name contains "smtp"
//! ```
//!
//! Each case is a world of its own in this process: a DNS server on 127.0.0.1 (the zone of
//! `hostile.test`, one part of it broken or malicious), an HTTPS server for its policy host and
//! an SMTP server for its MX host, each behaving well unless the case says otherwise. The binary
//! (built by Cargo for benchmarks, in the release profile) runs with `--timeout 2`; the
//! benchmark prints, per case, the wall time of the run, the binary's peak RSS (`VmHWM`, from
//! its `--stats` line, or polled from `/proc/PID/status` every 5 ms), its exit status, and the
//! finding that names what happened, checked against the check and outcome the case expects (a
//! mismatch is marked and makes the benchmark exit 1). `docs/hostile.md` records the figures.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// A benchmark: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::ca::{Leaf, LeafSpec, TestCa};
use common::dns::{DnsServer, Zone};
use common::https::{Behaviour as HttpsBehaviour, HttpsServer, Script};
use common::peak::PeakPoller;
use common::smtp::{Behaviour as SmtpBehaviour, ResetStage, SmtpServer};
use mtasts::stats::STATS_KIND;

const DOMAIN: &str = "hostile.test";
const POLICY_HOST: &str = "mta-sts.hostile.test";
const MX: &str = "mx.hostile.test";
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// `--timeout` of every run: each network step.
const TIMEOUT_SECS: &str = "2";
const POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.hostile.test\r\nmax_age: 1209600\r\n";

/// What one case changes in the good deployment, and the finding that must name it.
struct Case {
    name: &'static str,
    zone: fn() -> Zone,
    https: fn() -> Script,
    smtp: SmtpBehaviour,
    /// Intermediate certificates between the test CA and the MX host's leaf.
    mx_intermediates: usize,
    /// The check whose finding names what happened, and its expected outcome.
    check: &'static str,
    outcome: &'static str,
}

impl Case {
    fn new(name: &'static str, check: &'static str, outcome: &'static str) -> Self {
        Self {
            name,
            zone: good_zone,
            https: good_policy,
            smtp: SmtpBehaviour::Normal,
            mx_intermediates: 0,
            check,
            outcome,
        }
    }

    fn zone(mut self, zone: fn() -> Zone) -> Self {
        self.zone = zone;
        self
    }

    fn https(mut self, https: fn() -> Script) -> Self {
        self.https = https;
        self
    }

    fn smtp(mut self, smtp: SmtpBehaviour) -> Self {
        self.smtp = smtp;
        self
    }
}

/// The records of a good deployment, less what `without` names (`"_mta-sts"`, `"mx"`, …).
fn zone_without(without: &[&str]) -> Zone {
    let mut zone = Zone::new(DOMAIN);
    if !without.contains(&"_mta-sts") {
        zone = zone.txt("_mta-sts.hostile.test", &["v=STSv1; id=20250101"]);
    }
    if !without.contains(&"mta-sts") {
        zone = zone.a(POLICY_HOST, LOCALHOST);
    }
    if !without.contains(&"mx") {
        zone = zone.mx(DOMAIN, 10, MX).a(MX, LOCALHOST);
    }
    if !without.contains(&"_smtp._tls") {
        zone = zone.txt(
            "_smtp._tls.hostile.test",
            &["v=TLSRPTv1; rua=mailto:tls@hostile.test"],
        );
    }
    zone
}

fn good_zone() -> Zone {
    zone_without(&[])
}

fn good_policy() -> Script {
    Script::ok(POLICY)
}

fn https_behaving(behaviour: HttpsBehaviour) -> Script {
    good_policy().with_behaviour(behaviour)
}

/// The cases, in the order of `docs/hostile.md`.
fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "dns: resolver never answers",
            "sts-record.present",
            "could-not-determine",
        )
        .zone(|| good_zone().silent_everywhere()),
        Case::new(
            "dns: CNAME loop at _mta-sts",
            "sts-record.present",
            "could-not-determine",
        )
        .zone(|| {
            zone_without(&["_mta-sts"])
                .cname("_mta-sts.hostile.test", "b.hostile.test")
                .cname("b.hostile.test", "_mta-sts.hostile.test")
        }),
        Case::new(
            "dns: CNAME chain of 20 at _mta-sts",
            "sts-record.present",
            "could-not-determine",
        )
        .zone(|| {
            let mut zone = zone_without(&["_mta-sts"])
                .chase_limit(40)
                .cname("_mta-sts.hostile.test", "c0.hostile.test");
            for index in 0..20 {
                zone = zone.cname(
                    &format!("c{index}.hostile.test"),
                    &format!("c{}.hostile.test", index + 1),
                );
            }
            zone.txt("c20.hostile.test", &["v=STSv1; id=1"])
        }),
        Case::new(
            "dns: records at mta-sts.D and smtp.tls.D only",
            "sts-record.present",
            "fail",
        )
        .zone(|| {
            zone_without(&["_mta-sts", "_smtp._tls"])
                .txt(POLICY_HOST, &["v=STSv1; id=20250101"])
                .txt(
                    "smtp.tls.hostile.test",
                    &["v=TLSRPTv1; rua=mailto:tls@hostile.test"],
                )
        }),
        Case::new("dns: 200 MX records", "mx.bounds", "info").zone(|| {
            let mut zone = zone_without(&["mx"]).truncate_udp(DOMAIN);
            for index in 0..200u16 {
                let host = format!("mx{index:03}.hostile.test");
                zone = zone.mx(DOMAIN, 1000 - index, &host).a(&host, LOCALHOST);
            }
            zone
        }),
        Case::new("dns: MX host with 128 addresses", "mx.bounds", "info").zone(|| {
            let mut zone = zone_without(&["mx"]).mx(DOMAIN, 10, MX).truncate_udp(MX);
            for index in 0..128u8 {
                zone = zone.a(MX, Ipv4Addr::new(127, 77, 0, index));
            }
            zone
        }),
        Case::new(
            "dns: policy host with 12 addresses",
            "policy-host.bounds",
            "info",
        )
        .zone(|| {
            let mut zone = zone_without(&["mta-sts"]);
            for index in 1..=12u8 {
                zone = zone.a(POLICY_HOST, Ipv4Addr::new(127, 0, 0, index));
            }
            zone
        }),
        Case::new("dns: MX targets that are not host names", "mx.target-address", "fail").zone(
            || {
                zone_without(&["mx"])
                    .mx(DOMAIN, 10, "192.0.2.1")
                    .mx_raw(DOMAIN, 20, &[b"mx space\x01", b"hostile", b"test"])
            },
        ),
        Case::new(
            "dns: 45 KiB TXT answer, v=STSv1 last",
            "sts-record.present",
            "could-not-determine",
        )
        .zone(|| {
            let big: Vec<String> = (0..30).map(|_| "x".repeat(255)).collect();
            let big: Vec<&str> = big.iter().map(String::as_str).collect();
            let mut zone = zone_without(&["_mta-sts"]).truncate_udp("_mta-sts.hostile.test");
            for _ in 0..5 {
                zone = zone.txt("_mta-sts.hostile.test", &big);
            }
            zone.txt("_mta-sts.hostile.test", &["v=STSv1; id=20250101"])
        }),
        Case::new(
            "https: TCP accepted, nothing sent",
            "policy-fetch.connect",
            "fail",
        )
        .https(|| https_behaving(HttpsBehaviour::SilentTcp)),
        Case::new(
            "https: ClientHello read, no answer",
            "policy-fetch.connect",
            "fail",
        )
        .https(|| https_behaving(HttpsBehaviour::StallHandshake)),
        Case::new("https: half a TLS record", "policy-fetch.connect", "fail")
            .https(|| https_behaving(HttpsBehaviour::HalfRecord)),
        Case::new(
            "https: garbage instead of a ServerHello",
            "policy-fetch.connect",
            "fail",
        )
        .https(|| https_behaving(HttpsBehaviour::GarbageHandshake)),
        Case::new(
            "https: response head dripped 1 byte/s",
            "policy-fetch.status",
            "fail",
        )
        .https(|| https_behaving(HttpsBehaviour::DripHead(Duration::from_secs(1)))),
        Case::new(
            "https: body dripped 1 byte/s",
            "policy-fetch.status",
            "fail",
        )
        .https(|| https_behaving(HttpsBehaviour::DripBody(Duration::from_secs(1)))),
        Case::new("https: 10 MB policy body", "policy-fetch.size", "fail").https(|| {
            let mut body = POLICY.as_bytes().to_vec();
            body.resize(10 * 1024 * 1024, b'#');
            Script::respond("HTTP/1.1 200 OK", &[("Content-Type", "text/plain")], &body)
        }),
        Case::new("https: invalid UTF-8 policy", "policy.utf8", "fail").https(|| {
            Script::respond(
                "HTTP/1.1 200 OK",
                &[("Content-Type", "text/plain")],
                b"version: STSv1\r\nmode: enforce\r\nmx: mx.hostile.test\xff\r\nmax_age: 1209600\r\n",
            )
        }),
        Case::new("https: one 1 MiB header", "policy-fetch.status", "fail").https(|| {
            let huge = "h".repeat(1024 * 1024);
            Script::respond(
                "HTTP/1.1 200 OK",
                &[("Content-Type", "text/plain"), ("X-Huge", &huge)],
                POLICY.as_bytes(),
            )
        }),
        Case::new(
            "https: HTTP/2 frames to an HTTP/1.1 request",
            "policy-fetch.status",
            "fail",
        )
        .https(|| https_behaving(HttpsBehaviour::Http2Frames)),
        Case::new("https: ALPN h2 only", "policy-fetch.connect", "fail")
            .https(|| https_behaving(HttpsBehaviour::AlpnH2Only)),
        Case::new("smtp: greeting never sent", "smtp.connect", "could-not-determine")
            .smtp(SmtpBehaviour::Silent),
        Case::new(
            "smtp: 421 at every greeting",
            "smtp.connect",
            "could-not-determine",
        )
        .smtp(SmtpBehaviour::Greeting421),
        Case::new(
            "smtp: 421 to every EHLO",
            "smtp.starttls-offered",
            "could-not-determine",
        )
        .smtp(SmtpBehaviour::Ehlo421),
        Case::new(
            "smtp: RST after the greeting, every time",
            "smtp.connect",
            "could-not-determine",
        )
        .smtp(SmtpBehaviour::ResetAt(ResetStage::AfterGreeting)),
        Case::new(
            "smtp: RST after the EHLO reply, every time",
            "smtp.connect",
            "could-not-determine",
        )
        .smtp(SmtpBehaviour::ResetAt(ResetStage::AfterEhlo)),
        Case::new(
            "smtp: RST after the STARTTLS 220, every time",
            "smtp.connect",
            "could-not-determine",
        )
        .smtp(SmtpBehaviour::ResetAt(ResetStage::AfterStarttls220)),
        Case::new(
            "smtp: connection closed after every STARTTLS 220",
            "smtp.connect",
            "could-not-determine",
        )
        .smtp(SmtpBehaviour::CloseAfterStarttls),
        Case::new(
            "smtp: garbage instead of a ServerHello after 220",
            "smtp.starttls-accepted",
            "fail",
        )
        .smtp(SmtpBehaviour::GarbageAfterStarttls),
        Case::new(
            "smtp: 454 to every STARTTLS",
            "smtp.starttls-accepted",
            "fail",
        )
        .smtp(SmtpBehaviour::Starttls454),
        Case::new(
            "smtp: endless 250- EHLO reply",
            "smtp.starttls-offered",
            "fail",
        )
        .smtp(SmtpBehaviour::EndlessEhlo),
        Case::new(
            "smtp: 1 MiB EHLO reply line",
            "smtp.starttls-offered",
            "fail",
        )
        .smtp(SmtpBehaviour::HugeEhloLine),
        Case::new(
            "smtp: SSL 3.0 ServerHello to TLS 1.0/1.1",
            "smtp.legacy-tls",
            "warn",
        )
        .smtp(SmtpBehaviour::LegacySsl3),
        Case {
            mx_intermediates: 13,
            ..Case::new(
                "smtp: chain of 14 certificates",
                "smtp.certificate-trusted",
                "fail",
            )
        },
    ]
}

/// The servers of one case; they stop when dropped.
struct World {
    dns: DnsServer,
    https: HttpsServer,
    smtp: SmtpServer,
}

impl World {
    async fn start(case: &Case, ca: &TestCa) -> Self {
        let policy_leaf = ca.issue(&LeafSpec::valid_for(&[POLICY_HOST]));
        let names = mx_names();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mx_leaf: Leaf = if case.mx_intermediates > 0 {
            ca.issue_deep(&LeafSpec::valid_for(&names), case.mx_intermediates)
        } else {
            ca.issue(&LeafSpec::valid_for(&names))
        };
        let localhost = IpAddr::V4(LOCALHOST);
        Self {
            dns: DnsServer::start((case.zone)()).await,
            https: HttpsServer::start(localhost, &policy_leaf, (case.https)()).await,
            smtp: SmtpServer::start(localhost, 0, case.smtp.clone(), &mx_leaf).await,
        }
    }
}

/// Every MX name a case uses, for the MX host's certificate.
fn mx_names() -> Vec<String> {
    std::iter::once(MX.to_owned())
        .chain((0..200).map(|index| format!("mx{index:03}.hostile.test")))
        .collect()
}

/// One run of the binary.
struct Run {
    wall: Duration,
    exit: Option<i32>,
    peak_kib: Option<u64>,
    report: Option<serde_json::Value>,
    stderr: String,
}

fn run_binary(world: &World, ca_file: &Path, dir: &Path) -> Run {
    let stdout_path = dir.join("report.json");
    let stderr_path = dir.join("stderr.txt");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mtasts"));
    command
        .args(["check", "--resolver", &world.dns.addr().to_string()])
        .arg("--ca-file")
        .arg(ca_file)
        .args(["--https-port", &world.https.port().to_string()])
        .args(["--smtp-port", &world.smtp.port().to_string()])
        .args(["--timeout", TIMEOUT_SECS, "--allow-private", "--stats"])
        .args(["--quiet", "--format", "json", DOMAIN])
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap());
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let poller = PeakPoller::start(child.id(), Duration::from_millis(5));
    let status = child.wait().unwrap();
    let wall = started.elapsed();
    let polled = poller.stop();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let stats_peak = BufReader::new(stderr.as_bytes())
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .find(|value| value["kind"] == STATS_KIND)
        .and_then(|stats| stats["peak_rss_kib"].as_u64());
    let report = std::fs::read(&stdout_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    Run {
        wall,
        exit: status.code(),
        peak_kib: stats_peak.or(polled),
        report,
        stderr,
    }
}

/// The finding of `check` to show: the first that is not a pass or a skip, else the first.
fn shown_finding<'r>(report: &'r serde_json::Value, check: &str) -> Option<&'r serde_json::Value> {
    let findings = report["domains"][0]["findings"].as_array()?;
    let of_check = || findings.iter().filter(|finding| finding["id"] == check);
    of_check()
        .find(|finding| !matches!(finding["outcome"].as_str(), Some("pass" | "skipped")))
        .or_else(|| of_check().next())
}

/// The finding's words, cut to `max` characters for the table: its reason or summary, or for a
/// `*.bounds` finding (whose summary only points to it) its evidence.
fn words(finding: &serde_json::Value, max: usize) -> String {
    let evidence = finding["evidence"].as_array().map(|evidence| {
        evidence
            .iter()
            .map(|item| {
                format!(
                    "{}: {}",
                    item["label"].as_str().unwrap_or_default(),
                    item["value"].as_str().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    });
    let bounds = finding["id"]
        .as_str()
        .is_some_and(|id| id.ends_with(".bounds"));
    let text = match (bounds, evidence) {
        (true, Some(evidence)) => evidence,
        _ => finding["reason"]
            .as_str()
            .or_else(|| finding["summary"].as_str())
            .unwrap_or_default()
            .to_owned(),
    };
    let mut shown: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        shown.push('…');
    }
    shown.replace('|', "\\|")
}

fn main() -> ExitCode {
    let filter: Option<String> = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .map(|arg| arg.to_ascii_lowercase());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ca = TestCa::new("hostile bench CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file: PathBuf = ca.write_pem(dir.path());
    println!(
        "hostile: {} with --timeout {TIMEOUT_SECS}; time is the whole run of `mtasts check` \
         (one domain), peak RSS its VmHWM",
        env!("CARGO_BIN_EXE_mtasts")
    );
    println!();
    println!("| Case | Time | Peak RSS | Exit | Finding |");
    println!("|---|---|---|---|---|");
    let mut mismatches = Vec::new();
    for case in &cases() {
        if filter
            .as_ref()
            .is_some_and(|filter| !case.name.to_ascii_lowercase().contains(filter))
        {
            continue;
        }
        let world = runtime.block_on(World::start(case, &ca));
        let run = run_binary(&world, &ca_file, dir.path());
        drop(world);
        let peak = run.peak_kib.map_or_else(
            || "?".to_owned(),
            |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
        );
        let exit = run
            .exit
            .map_or_else(|| "signal".to_owned(), |code| code.to_string());
        let finding = run
            .report
            .as_ref()
            .and_then(|report| shown_finding(report, case.check));
        let (outcome, text) = finding.map_or_else(
            || ("missing".to_owned(), String::new()),
            |finding| {
                (
                    finding["outcome"].as_str().unwrap_or("?").to_owned(),
                    words(finding, 220),
                )
            },
        );
        let mark = if outcome == case.outcome {
            String::new()
        } else {
            mismatches.push(format!(
                "{}: expected {} {}, got {outcome}; stderr: {}",
                case.name, case.check, case.outcome, run.stderr
            ));
            format!(" **expected {}**", case.outcome)
        };
        println!(
            "| {} | {} ms | {peak} | {exit} | `{}` {outcome}{mark}: {text} |",
            case.name,
            run.wall.as_millis(),
            case.check
        );
    }
    if mismatches.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!("\nhostile: {} case(s) not as expected:", mismatches.len());
    for mismatch in &mismatches {
        eprintln!("  {mismatch}");
    }
    ExitCode::FAILURE
}
