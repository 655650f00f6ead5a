//! Issue 10 through the real binary: evidence saved by `check --save-evidence` against loopback
//! servers, the servers changed (policy edited without a new id, an MX added, a certificate
//! replaced by one from another CA), and `check --baseline` run again. Each change.* check
//! gets a pair of evidence files, one where it passes and one where it does not, and the pair
//! judges the same offline (`replay --baseline`) as live.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::ca::{Leaf, LeafSpec, TestCa};
use common::dns::{DnsServer, Zone};
use common::https::{HttpsServer, Script};
use common::smtp::{Behaviour, SmtpServer};
use serde_json::Value;

const DOMAIN: &str = "memory.test";
const POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.memory.test\r\nmax_age: 1209600\r\n";
/// The same policy in testing mode, served under the same id: the mistake of the issue.
const EDITED: &str =
    "version: STSv1\r\nmode: testing\r\nmx: mx1.memory.test\r\nmax_age: 1209600\r\n";

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// What the world serves differently from the baseline.
#[derive(Clone, Copy, Debug, Default)]
struct Change {
    edited_policy: bool,
    mx_added: bool,
    /// mx1's certificate comes from the second CA.
    other_ca: bool,
}

/// Two CAs, both trusted through one --ca-file, so a certificate can move from one to the
/// other; the leaves are issued once, so an unchanged world presents the same certificates.
struct Cas {
    file: PathBuf,
    policy_host: Leaf,
    mx1: Leaf,
    mx1_other_ca: Leaf,
    mx2: Leaf,
}

impl Cas {
    fn new(dir: &Path) -> Self {
        let first = TestCa::new("mtasts memory test CA");
        let second = TestCa::new("mtasts memory other CA");
        let file = dir.join("cas.pem");
        std::fs::write(&file, format!("{}{}", first.cert_pem, second.cert_pem)).unwrap();
        Self {
            file,
            policy_host: first.issue(&LeafSpec::valid_for(&["mta-sts.memory.test"])),
            mx1: first.issue(&LeafSpec::valid_for(&["mx1.memory.test"])),
            mx1_other_ca: second.issue(&LeafSpec::valid_for(&["mx1.memory.test"])),
            mx2: first.issue(&LeafSpec::valid_for(&["mx2.memory.test"])),
        }
    }
}

struct World {
    dns: DnsServer,
    https_port: u16,
    smtp_port: u16,
    ca_file: PathBuf,
    _https: HttpsServer,
    _smtp: Vec<SmtpServer>,
}

impl World {
    async fn start(cas: &Cas, change: Change) -> Self {
        let mut zone = Zone::new("test")
            .ttl(86_400)
            .txt("_mta-sts.memory.test", &["v=STSv1; id=20250101T000000"])
            .txt(
                "_smtp._tls.memory.test",
                &["v=TLSRPTv1; rua=mailto:tlsrpt@memory.test"],
            )
            .a("mta-sts.memory.test", ip(40))
            .mx("memory.test", 10, "mx1.memory.test")
            .a("mx1.memory.test", ip(41));
        if change.mx_added {
            zone = zone
                .mx("memory.test", 20, "mx2.memory.test")
                .a("mx2.memory.test", ip(42));
        }
        let dns = DnsServer::start(zone).await;
        let body = if change.edited_policy { EDITED } else { POLICY };
        let https =
            HttpsServer::start(IpAddr::V4(ip(40)), &cas.policy_host, Script::ok(body)).await;
        let mx1_leaf = if change.other_ca {
            &cas.mx1_other_ca
        } else {
            &cas.mx1
        };
        let mx1 = SmtpServer::start(IpAddr::V4(ip(41)), 0, Behaviour::Normal, mx1_leaf).await;
        let smtp_port = mx1.port();
        let mut smtp = vec![mx1];
        if change.mx_added {
            smtp.push(
                SmtpServer::start(IpAddr::V4(ip(42)), smtp_port, Behaviour::Normal, &cas.mx2).await,
            );
        }
        Self {
            dns,
            https_port: https.port(),
            smtp_port,
            ca_file: cas.file.clone(),
            _https: https,
            _smtp: smtp,
        }
    }

    async fn check(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = vec!["check".into()];
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        all.extend([
            "--resolver".into(),
            self.dns.addr().to_string(),
            "--ca-file".into(),
            self.ca_file.display().to_string(),
            "--https-port".into(),
            self.https_port.to_string(),
            "--smtp-port".into(),
            self.smtp_port.to_string(),
            "--timeout".into(),
            "5".into(),
            "--allow-private".into(),
        ]);
        run_binary(all).await
    }
}

async fn run_binary(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mtasts"))
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run mtasts")
    })
    .await
    .expect("join")
}

/// Runs the world with `change` and saves its evidence as `name` in `dir`.
async fn save(cas: &Cas, change: Change, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let world = World::start(cas, change).await;
    let output = world
        .check(&[
            "--format",
            "jsonl",
            "--save-evidence",
            &path.display().to_string(),
            DOMAIN,
        ])
        .await;
    assert!(output.status.code().is_some(), "{output:?}");
    assert!(path.exists(), "{}", String::from_utf8_lossy(&output.stderr));
    path
}

/// `replay CURRENT --baseline BASELINE --format jsonl`: the domain's object.
async fn replay_against(current: &Path, baseline: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args: Vec<String> = vec![
        "replay".into(),
        "--format".into(),
        "jsonl".into(),
        "--baseline".into(),
        baseline.display().to_string(),
    ];
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args.push(current.display().to_string());
    let output = run_binary(args).await;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no output: {}", String::from_utf8_lossy(&output.stderr)));
    (
        output.status.code(),
        common::report_json::parse(line.as_bytes()).unwrap(),
    )
}

/// The outcomes of `id` in a domain object.
fn outcomes(domain: &Value, id: &str) -> Vec<String> {
    domain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["id"] == id)
        .map(|finding| finding["outcome"].as_str().unwrap().to_owned())
        .collect()
}

fn not_passing(domain: &Value) -> Vec<String> {
    let mut list: Vec<String> = domain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| {
            finding["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("change."))
                && finding["outcome"] != "pass"
        })
        .map(|finding| {
            format!(
                "{} {}",
                finding["id"].as_str().unwrap(),
                finding["outcome"].as_str().unwrap()
            )
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_is_seen_by_a_run_against_the_saved_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let cas = Cas::new(dir.path());
    let baseline = save(&cas, Change::default(), dir.path(), "baseline.evidence").await;
    let unchanged = save(&cas, Change::default(), dir.path(), "unchanged.evidence").await;
    let edited = save(
        &cas,
        Change {
            edited_policy: true,
            ..Change::default()
        },
        dir.path(),
        "edited.evidence",
    )
    .await;
    let mx_added = save(
        &cas,
        Change {
            mx_added: true,
            ..Change::default()
        },
        dir.path(),
        "mx-added.evidence",
    )
    .await;
    let other_ca = save(
        &cas,
        Change {
            other_ca: true,
            ..Change::default()
        },
        dir.path(),
        "other-ca.evidence",
    )
    .await;

    // The passing half of every pair: nothing changed.
    let (code, same) = replay_against(&unchanged, &baseline, &["--fail-on", "change"]).await;
    assert_eq!(not_passing(&same), Vec::<String>::new());
    assert_eq!(code, Some(0));
    for id in [
        "change.id-not-bumped",
        "change.mx-set",
        "change.certificate-replaced",
        "change.outcomes",
    ] {
        assert!(
            outcomes(&same, id).iter().all(|outcome| outcome == "pass"),
            "{id}"
        );
    }

    // The policy edited, the id kept.
    let (code, domain) = replay_against(&edited, &baseline, &["--fail-on", "change"]).await;
    assert_eq!(outcomes(&domain, "change.id-not-bumped"), ["fail"]);
    assert_eq!(outcomes(&domain, "change.mode-weakened"), ["warn"]);
    assert_eq!(code, Some(1));
    let finding = domain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["id"] == "change.id-not-bumped")
        .unwrap();
    let evidence: Vec<String> = finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|evidence| {
            format!(
                "{}: {}",
                evidence["label"].as_str().unwrap(),
                evidence["value"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        evidence.contains(&"difference: - mode: enforce; + mode: testing".to_owned()),
        "{evidence:?}"
    );

    // An MX added that the policy does not list.
    let (_, domain) = replay_against(&mx_added, &baseline, &[]).await;
    assert_eq!(outcomes(&domain, "change.mx-set"), ["warn"]);
    assert_eq!(outcomes(&domain, "change.outcomes"), ["warn"]);

    // mx1's certificate now from another CA.
    let (_, domain) = replay_against(&other_ca, &baseline, &[]).await;
    assert_eq!(not_passing(&domain), ["change.certificate-replaced warn"]);

    // Live, against the running servers, the same as offline.
    let world = World::start(
        &cas,
        Change {
            edited_policy: true,
            ..Change::default()
        },
    )
    .await;
    let output = world
        .check(&[
            "--format",
            "jsonl",
            "--baseline",
            &baseline.display().to_string(),
            "--fail-on",
            "change",
            DOMAIN,
        ])
        .await;
    assert_eq!(output.status.code(), Some(1));
    let live = common::report_json::parse(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        not_passing(&live),
        ["change.id-not-bumped fail", "change.mode-weakened warn"]
    );
    // The human report leads with what changed.
    let output = world
        .check(&[
            "--baseline",
            &baseline.display().to_string(),
            "other.test",
            DOMAIN,
        ])
        .await;
    let text = String::from_utf8_lossy(&output.stdout);
    let block = &text[text.find("\nmemory.test: ").expect("the domain's block")..];
    let since = block.find("Since 20").expect("a since section");
    assert!(since < block.find("MTA-STS TXT record").unwrap(), "{text}");
    assert!(block[since..].contains("[change.id-not-bumped]"), "{text}");
    assert!(text.contains("new since the baseline"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jsonl_report_serves_as_a_baseline_without_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let cas = Cas::new(dir.path());
    let report = dir.path().join("report.jsonl");
    {
        let world = World::start(&cas, Change::default()).await;
        let output = world.check(&["--format", "jsonl", DOMAIN]).await;
        std::fs::write(&report, &output.stdout).unwrap();
    }
    let world = World::start(
        &cas,
        Change {
            edited_policy: true,
            ..Change::default()
        },
    )
    .await;
    let output = world
        .check(&[
            "--format",
            "jsonl",
            "--baseline",
            &report.display().to_string(),
            DOMAIN,
            "gone.test",
        ])
        .await;
    let text = String::from_utf8_lossy(&output.stdout);
    let domain: Value = text
        .lines()
        .map(|line| common::report_json::parse(line.as_bytes()).unwrap())
        .find(|value| value["domain"] == DOMAIN)
        .unwrap();
    assert_eq!(outcomes(&domain, "change.id-not-bumped"), ["fail"]);
    let skipped: Vec<&Value> = domain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["id"] == "change.certificate-replaced")
        .collect();
    assert!(!skipped.is_empty());
    assert!(skipped
        .iter()
        .all(|finding| finding["blocked_by"] == "--baseline evidence"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_domains_missing_from_the_run_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let cas = Cas::new(dir.path());
    let baseline = save(&cas, Change::default(), dir.path(), "baseline.evidence").await;
    let world = World::start(&cas, Change::default()).await;
    let output = world
        .check(&[
            "--format",
            "json",
            "--baseline",
            &baseline.display().to_string(),
            "other.test",
        ])
        .await;
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["summary"]["baseline_absent"],
        serde_json::json!([DOMAIN])
    );
    let output = world
        .check(&["--baseline", &baseline.display().to_string(), "other.test"])
        .await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("in the baseline but not in this run: memory.test"),
        "{text}"
    );
}

/// `replay` judges certificate expiry at the time the evidence was saved, unless `--now`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_judges_at_the_saved_time_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let cas = Cas::new(dir.path());
    let evidence = save(&cas, Change::default(), dir.path(), "saved.evidence").await;
    let replay = |extra: &'static [&'static str]| {
        let mut args: Vec<String> = vec!["replay".into(), "--format".into(), "jsonl".into()];
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        args.push(evidence.display().to_string());
        run_binary(args)
    };
    let at_the_time = replay(&[]).await;
    let domain = common::report_json::parse(&at_the_time.stdout).unwrap();
    assert_eq!(outcomes(&domain, "smtp.certificate-expiry"), ["pass"]);
    assert_eq!(at_the_time.status.code(), Some(0));

    let later = replay(&["--now", "2100-01-01T00:00:00Z"]).await;
    let domain = common::report_json::parse(&later.stdout).unwrap();
    assert_eq!(outcomes(&domain, "smtp.certificate-expiry"), ["fail"]);
    assert_eq!(later.status.code(), Some(1));

    // A wider margin makes the 90-day test certificates expiring.
    let wide = replay(&["--expiry-warn", "365"]).await;
    let domain = common::report_json::parse(&wide.stdout).unwrap();
    assert_eq!(outcomes(&domain, "smtp.certificate-expiring"), ["warn"]);
}
