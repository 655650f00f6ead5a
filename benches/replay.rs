//! Replay benchmark (issue 10): the size of saved evidence per domain, and the time `mtasts
//! replay` takes to judge 10,000 domains of it again.
//!
//! ```text
//! cargo bench --bench replay              # 10,000 domains
//! cargo bench --bench replay -- 50000     # N as the first argument
//! ```
//!
//! The seeds are real: the release binary runs `check --save-evidence` against a loopback world
//! (the test DNS, HTTPS and SMTP servers of `tests/common`) holding three deployments: enforce
//! done right, testing mode, and a broken one (MX outside the policy, no STARTTLS, no TLS-RPT).
//! The N lines are those three, round robin, with the domain renamed (`dI.bench.test`) in the
//! whole line. Then `replay` judges them under `--format jsonl` and `--format human` (output to
//! /dev/null), and again against themselves as `--baseline`.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// A benchmark: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::ca::{LeafSpec, TestCa};
use common::dns::{DnsServer, Zone};
use common::https::{HttpsServer, Script};
use common::smtp::{Behaviour, SmtpServer};

const DOMAINS: [&str; 3] = ["good.test", "testing.test", "broken.test"];

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_mtasts")
}

/// Runs the binary against a loopback world and returns the evidence lines (header first).
async fn seeds(dir: &Path) -> Vec<String> {
    let zone = Zone::new("test")
        .ttl(86_400)
        .txt("_mta-sts.good.test", &["v=STSv1; id=20250101T000000"])
        .txt(
            "_smtp._tls.good.test",
            &["v=TLSRPTv1; rua=mailto:tlsrpt@good.test"],
        )
        .a("mta-sts.good.test", ip(2))
        .mx("good.test", 10, "mx.good.test")
        .a("mx.good.test", ip(3))
        .txt("_mta-sts.testing.test", &["v=STSv1; id=1"])
        .txt(
            "_smtp._tls.testing.test",
            &["v=TLSRPTv1; rua=mailto:tlsrpt@good.test"],
        )
        .a("mta-sts.testing.test", ip(4))
        .mx("testing.test", 10, "mx.good.test")
        .txt("_mta-sts.broken.test", &["v=STSv1; id=2"])
        .a("mta-sts.broken.test", ip(5))
        .mx("broken.test", 10, "mx.broken.test")
        .a("mx.broken.test", ip(6));
    let dns = DnsServer::start(zone).await;
    let ca = TestCa::new("mtasts replay bench CA");
    let ca_file = ca.write_pem(dir);
    let leaf = |name: &str| ca.issue(&LeafSpec::valid_for(&[name]));
    let good = HttpsServer::start(
        IpAddr::V4(ip(2)),
        &leaf("mta-sts.good.test"),
        Script::ok("version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 1209600\r\n"),
    )
    .await;
    let port = good.port();
    let testing = HttpsServer::start_at(
        (IpAddr::V4(ip(4)), port).into(),
        &leaf("mta-sts.testing.test"),
        Script::ok("version: STSv1\r\nmode: testing\r\nmx: mx.good.test\r\nmax_age: 86400\r\n"),
    )
    .await;
    let broken = HttpsServer::start_at(
        (IpAddr::V4(ip(5)), port).into(),
        &leaf("mta-sts.broken.test"),
        Script::ok("version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 1209600\r\n"),
    )
    .await;
    let mx = SmtpServer::start(
        IpAddr::V4(ip(3)),
        0,
        Behaviour::Normal,
        &leaf("mx.good.test"),
    )
    .await;
    let smtp_port = mx.port();
    let mx_broken = SmtpServer::start(
        IpAddr::V4(ip(6)),
        smtp_port,
        Behaviour::NoStarttls,
        &leaf("mx.broken.test"),
    )
    .await;
    let evidence = dir.join("seed.evidence");
    let args: Vec<String> = [
        "check",
        "--quiet",
        "--format",
        "jsonl",
        "--allow-private",
        "--timeout",
        "5",
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .chain([
        "--resolver".to_owned(),
        dns.addr().to_string(),
        "--ca-file".to_owned(),
        ca_file.display().to_string(),
        "--https-port".to_owned(),
        port.to_string(),
        "--smtp-port".to_owned(),
        smtp_port.to_string(),
        "--save-evidence".to_owned(),
        evidence.display().to_string(),
    ])
    .chain(DOMAINS.iter().map(|domain| (*domain).to_owned()))
    .collect();
    let status = tokio::task::spawn_blocking(move || {
        Command::new(binary())
            .args(&args)
            .stdout(Stdio::null())
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.code().is_some(), "check did not run");
    drop((good, testing, broken, mx, mx_broken, dns));
    std::fs::read_to_string(&evidence)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Times `mtasts replay ARGS`, output to /dev/null; seconds.
fn time_replay(args: &[&str]) -> f64 {
    let started = Instant::now();
    let status = Command::new(binary())
        .arg("replay")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        // 2 is an error; 0, 1 and 3 are verdicts (3: something could not be determined).
        matches!(status.code(), Some(0 | 1 | 3)),
        "replay failed: {status}"
    );
    elapsed
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let lines = runtime.block_on(seeds(dir.path()));
    let (header, seeds) = lines.split_first().expect("a header line");
    assert_eq!(seeds.len(), DOMAINS.len(), "one line per seed domain");
    println!("seed evidence per domain (bytes, one JSON line):");
    for line in seeds {
        let domain: serde_json::Value = serde_json::from_str(line).unwrap();
        println!(
            "  {:>8}  {}",
            line.len() + 1,
            domain["domain"].as_str().unwrap()
        );
    }

    let path = dir.path().join("bench.evidence");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "{header}").unwrap();
    for index in 0..count {
        let line = &seeds[index % seeds.len()];
        let seed: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = seed["domain"].as_str().unwrap();
        writeln!(
            file,
            "{}",
            line.replace(name, &format!("d{index}.bench.test"))
        )
        .unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "{count} domains: {:.1} MiB of evidence, {:.1} KiB per domain",
        size as f64 / 1_048_576.0,
        size as f64 / count as f64 / 1024.0
    );

    let file = path.display().to_string();
    for (what, args) in [
        (
            "replay --format jsonl",
            vec!["--format", "jsonl", file.as_str()],
        ),
        (
            "replay --format human",
            vec!["--format", "human", file.as_str()],
        ),
        (
            "replay --profile sge --format csv",
            vec!["--profile", "sge", "--format", "csv", file.as_str()],
        ),
        (
            "replay --baseline (itself) --format jsonl",
            vec![
                "--format",
                "jsonl",
                "--baseline",
                file.as_str(),
                file.as_str(),
            ],
        ),
    ] {
        let seconds = time_replay(&args);
        println!(
            "{what}: {seconds:.2} s for {count} domains ({:.0} domains/s)",
            count as f64 / seconds
        );
    }
}
