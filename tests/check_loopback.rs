//! The real `mtasts check` binary against a small world on loopback: a DNS server, HTTPS policy
//! hosts and SMTP servers started by the test, with a certificate authority made at run time.
//! It asserts exit codes, the JSON read back, the human checklist, and the README's quick start.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;

use common::lab::{run_binary, World};
use serde_json::Value;

fn json(output: &Output) -> Value {
    common::report_json::parse(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The outcomes of `id` in a domain object of the JSON report.
fn outcomes(domain: &Value, id: &str) -> Vec<String> {
    domain["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["id"] == id)
        .map(|finding| finding["outcome"].as_str().expect("outcome").to_owned())
        .collect()
}

fn domain<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .find(|domain| domain["domain"] == name)
        .expect("domain in report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perfect_domain_passes_every_check_that_ran() {
    let world = World::start().await;
    let output = world
        .check(&[
            "--format",
            "json",
            "--detail",
            "full",
            "--profile",
            "sge",
            "good.test",
        ])
        .await;
    let report = json(&output);
    let good = domain(&report, "good.test");
    let problems: Vec<String> = good["findings"]
        .as_array()
        .expect("findings")
        .iter()
        // Readiness is judged only from reports (`--reports`, end-to-end suite), and changes only
        // against a `--baseline`; without them those stages alone did not run.
        .filter(|finding| {
            finding["outcome"] != "pass"
                && finding["blocked_by"] != "--reports"
                && finding["blocked_by"] != "--baseline"
        })
        .map(|finding| {
            format!(
                "{} {} {}",
                finding["id"], finding["outcome"], finding["summary"]
            )
        })
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let not_run: Vec<&str> = good["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["blocked_by"] == "--reports")
        .map(|finding| finding["id"].as_str().unwrap_or_default())
        .collect();
    assert!(
        !not_run.is_empty() && not_run.iter().all(|id| id.starts_with("reports.")),
        "{not_run:?}"
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(good["verdict"], "pass");
    assert_eq!(good["facts"]["mode"], "enforce");
    for id in [
        "smtp.starttls-offered",
        "smtp.certificate-trusted",
        "smtp.legacy-tls",
        "policy-fetch.certificate-name",
        "mx.covered",
        "tlsrpt.rua-https",
    ] {
        assert_eq!(outcomes(good, id), vec!["pass"], "{id}");
    }
    // The https: report URL was looked at: a handshake with its host, nothing posted.
    let rua_https = good["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|finding| finding["id"] == "tlsrpt.rua-https")
        .expect("tlsrpt.rua-https");
    assert!(
        rua_https
            .to_string()
            .contains("certificate of reports.good.test"),
        "{rua_https}"
    );
    // The header echoes the extra trust anchors.
    assert!(
        report["settings"].to_string().contains("test-ca.pem"),
        "{}",
        report["settings"]
    );
    world.smtp[0].assert_no_mail_transaction();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_addresses_are_not_contacted_without_allow_private() {
    let world = World::start().await;
    let output = world
        .check_public_only(&["--format", "json", "good.test", "broken.test"])
        .await;
    // No HTTPS and no SMTP server saw a single connection.
    assert_eq!(world.connections(), 0);
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert!(
        report["settings"].get("allow-private").is_none(),
        "{}",
        report["settings"]
    );
    let good = domain(&report, "good.test");
    assert_eq!(outcomes(good, "policy-host.public-address"), vec!["fail"]);
    assert_eq!(outcomes(good, "mx.public-address"), vec!["fail"]);
    let finding = good["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|finding| finding["id"] == "policy-host.public-address")
        .expect("policy-host.public-address");
    assert!(finding.to_string().contains("loopback"), "{finding}");
    // The connection checks name the check that stopped them.
    for id in ["policy-fetch.connect", "smtp.connect"] {
        let blocked: Vec<&Value> = good["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|finding| finding["id"] == id)
            .collect();
        assert_eq!(blocked.len(), 1, "{id}");
        assert_eq!(blocked[0]["outcome"], "skipped", "{id}");
        assert!(
            blocked[0].to_string().contains("public-address"),
            "{}",
            blocked[0]
        );
    }

    // With --allow-private the same world is contacted, and the header says so.
    let allowed = world.check(&["--format", "json", "good.test"]).await;
    assert!(world.connections() > 0);
    assert_eq!(allowed.status.code(), Some(0));
    let report = json(&allowed);
    assert!(
        report["settings"].get("allow-private").is_some(),
        "{}",
        report["settings"]
    );
    let good = domain(&report, "good.test");
    assert_eq!(outcomes(good, "policy-host.public-address"), vec!["pass"]);
    let human = world.check(&["good.test"]).await;
    assert!(String::from_utf8_lossy(&human.stdout).contains("--allow-private"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testing_mode_passes_rfc_but_fails_sge() {
    let world = World::start().await;
    let rfc = world.check(&["--format", "json", "testing.test"]).await;
    assert_eq!(
        rfc.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rfc.stdout)
    );
    assert_eq!(
        outcomes(domain(&json(&rfc), "testing.test"), "policy.mode-enforce"),
        vec!["info"]
    );

    let sge = world
        .check(&["--format", "json", "--profile", "sge", "testing.test"])
        .await;
    assert_eq!(sge.status.code(), Some(1));
    assert_eq!(
        outcomes(domain(&json(&sge), "testing.test"), "policy.mode-enforce"),
        vec!["fail"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_domain_names_each_mistake() {
    let world = World::start().await;
    let output = world.check(&["--format", "json", "broken.test"]).await;
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let broken = domain(&report, "broken.test");
    assert_eq!(broken["verdict"], "fail");
    assert_eq!(outcomes(broken, "mx.covered"), vec!["fail"]);
    assert_eq!(outcomes(broken, "mx.any-covered"), vec!["fail"]);
    assert_eq!(outcomes(broken, "mx.stale-pattern"), vec!["warn"]);
    assert_eq!(outcomes(broken, "smtp.starttls-offered"), vec!["fail"]);
    // Issue 12: the record is published at smtp.tls.broken.test, a misplaced name; that fails
    // (it warned, as a missing TLS-RPT record does under the rfc profile).
    assert_eq!(outcomes(broken, "tlsrpt.present"), vec!["fail"]);
    let tlsrpt = broken["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|finding| finding["id"] == "tlsrpt.present")
        .expect("tlsrpt.present");
    assert!(
        tlsrpt.to_string().contains("smtp.tls.broken.test"),
        "the misplaced record is named: {tlsrpt}"
    );
    let starttls = broken["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|finding| finding["id"] == "smtp.starttls-offered")
        .expect("starttls");
    assert!(
        starttls["evidence"].to_string().contains("EHLO"),
        "the transcript is evidence: {starttls}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_domains_exit_with_the_worst_and_keep_their_order() {
    let world = World::start().await;
    let output = world
        .check(&[
            "--format",
            "json",
            "good.test",
            "broken.test",
            "testing.test",
        ])
        .await;
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    let names: Vec<&str> = report["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .map(|domain| domain["domain"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["good.test", "broken.test", "testing.test"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_warn_and_inconclusive_rules() {
    let world = World::start().await;
    // testing.test under ncsc only warns (mode testing).
    let warn_only = world
        .check(&["--format", "json", "--profile", "ncsc", "testing.test"])
        .await;
    assert_eq!(
        warn_only.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&warn_only.stdout)
    );
    let fail_on_warn = world
        .check(&[
            "--format",
            "json",
            "--profile",
            "ncsc",
            "--fail-on",
            "warn",
            "testing.test",
        ])
        .await;
    assert_eq!(fail_on_warn.status.code(), Some(1));

    // A SERVFAIL is "could not determine", never "no record": exit 3 (not 1, "broken"), and 0
    // with --allow-inconclusive.
    let servfail = world
        .check(&["--format", "json", "--no-smtp", "servfail.test"])
        .await;
    let report = json(&servfail);
    assert_eq!(
        outcomes(domain(&report, "servfail.test"), "sts-record.present"),
        vec!["could-not-determine"]
    );
    assert_eq!(
        domain(&report, "servfail.test")["verdict"],
        "could-not-determine"
    );
    assert_eq!(servfail.status.code(), Some(3));
    let allowed = world
        .check(&["--no-smtp", "--allow-inconclusive", "servfail.test"])
        .await;
    assert_eq!(allowed.status.code(), Some(0));
    // A failure outweighs what could not be determined: one broken domain makes the run 1.
    let both = world
        .check(&["--no-smtp", "servfail.test", "broken.test"])
        .await;
    assert_eq!(both.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_report_is_a_checklist_with_evidence_and_fixes() {
    let world = World::start().await;
    let output = world.check(&["broken.test"]).await;
    if std::env::var_os("MTASTS_SHOW").is_some() {
        println!("{}", String::from_utf8_lossy(&output.stdout));
    }
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(!text.contains('\x1b'), "no colour off a terminal");
    for expected in [
        "MX hosts against the policy",
        "FAIL",
        "mx.broken.test",
        "fix:",
        "rule: RFC 8461 §4.1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

/// Issue 13: `-o FILE` writes the report there (nothing on standard output, no temporary file
/// left beside it), `--color always` colours even into a file, `--verbose` lists every pass,
/// and the default lists none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_file_colour_and_verbose_on_the_binary() {
    let world = World::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.txt");
    let path_arg = path.display().to_string();

    let output = world.check(&["-o", &path_arg, "broken.test"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("broken.test: FAIL"), "{text}");
    assert!(!text.contains('\x1b'), "auto colour is off in a file");
    assert!(
        !text.contains("  PASS  "),
        "the default lists no pass:\n{text}"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.txt"], "no temporary file is left");

    let output = world
        .check(&[
            "--output",
            &path_arg,
            "--color",
            "always",
            "--verbose",
            "broken.test",
        ])
        .await;
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\x1b[1;31mFAIL\x1b[0m"), "{text}");
    assert!(
        text.contains("\x1b[32mPASS\x1b[0m"),
        "verbose lists the passes:\n{text}"
    );

    let output = world
        .check(&["--color", "never", "--format", "json", "good.test"])
        .await;
    assert!(!output.stdout.contains(&0x1b));
    let output = world
        .check(&["--color", "always", "--format", "json", "good.test"])
        .await;
    assert!(
        !output.stdout.contains(&0x1b),
        "only the human format is ever coloured"
    );

    // A report that cannot be written is a sentence, and exit status 2.
    let missing = dir.path().join("no-such-dir").join("r.txt");
    let output = world
        .check(&["-o", &missing.display().to_string(), "good.test"])
        .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write --output"), "{stderr}");
}

/// The README's quick start, run as written but for the lab flags that point at this world.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_quick_start_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let quick_start = readme
        .split("## Quick start")
        .nth(1)
        .expect("Quick start section")
        .split("\n## ")
        .next()
        .expect("section");
    let commands: Vec<&str> = quick_start
        .lines()
        .filter(|line| line.starts_with("cargo ") || line.starts_with("bash "))
        .collect();
    assert_eq!(
        commands.len(),
        2,
        "two commands: run and test: {commands:?}"
    );
    // The quick start's test command runs every test: `.ci/run` installs the servers the
    // ignored real-server suite needs, then runs the tests with the ignored ones included.
    assert!(commands.contains(&"bash .ci/run"), "{commands:?}");
    let ci =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).expect(".ci/run");
    assert!(
        ci.contains("\ncargo test --locked -- --include-ignored\n"),
        ".ci/run runs every test, the ignored ones included"
    );
    let run = commands
        .iter()
        .find(|line| line.contains(" check "))
        .expect("a check command");
    let args: Vec<&str> = run
        .split(" -- ")
        .nth(1)
        .expect("arguments after --")
        .split_whitespace()
        .collect();
    assert_eq!(args, ["check", "example.org"]);

    let world = World::start().await;
    let output = world.check(&["good.test"]).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("good.test"));
}

/// The lines of a `--format jsonl` output, each domain's object by name.
fn jsonl_by_domain(output: &Output) -> std::collections::BTreeMap<String, Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let value = common::report_json::parse(line.as_bytes()).expect("a JSON line");
            (value["domain"].as_str().expect("domain").to_owned(), value)
        })
        .collect()
}

/// Every finding of a `--format jsonl` output as `domain id subject outcome severity`.
fn outcomes_by_domain(output: &Output) -> Vec<String> {
    let mut list: Vec<String> = jsonl_by_domain(output)
        .into_iter()
        .flat_map(|(domain, value)| {
            value["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|finding| {
                    format!(
                        "{domain} {} {} {} {}",
                        finding["id"], finding["subject"], finding["outcome"], finding["severity"]
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    list.sort();
    list
}

/// The domain blocks and the run summary of a human report, without the header (which names
/// the run) and without the summary's network lines (DNS lookups, SMTP sessions): those say how
/// the live run went, which a replay, having no network, has nothing to say about.
fn human_body(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // The header is its first line and the indented settings under it; a blank line ends it.
    let start = text.find("\n\n").expect("a domain block");
    text[start..]
        .lines()
        .filter(|line| !line.starts_with("  DNS: ") && !line.starts_with("  SMTP: "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Issue 10: `--save-evidence` then `replay` gives the live run's findings, for every loopback
/// scenario, under every profile, in JSON Lines and the human checklist; the replay runs after
/// the world is gone, so it cannot have used the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_evidence_replays_to_the_live_findings_under_every_profile() {
    let dir = tempfile::tempdir().unwrap();
    let domains = ["good.test", "testing.test", "broken.test", "servfail.test"];
    let mut live = Vec::new();
    {
        let world = World::start().await;
        for profile in ["rfc", "sge", "ncsc"] {
            for format in ["jsonl", "human"] {
                let evidence = dir.path().join(format!("{profile}-{format}.evidence"));
                let evidence_arg = evidence.display().to_string();
                let mut args = vec![
                    "--profile",
                    profile,
                    "--format",
                    format,
                    "--save-evidence",
                    &evidence_arg,
                ];
                args.extend(domains);
                let output = world.check(&args).await;
                live.push((profile, format, evidence, output));
            }
        }
    }
    // Evidence saved under one profile judges under any other as that profile's live run did.
    let rfc_evidence = live[0].2.display().to_string();
    for (profile, format, _, output) in live.iter().filter(|run| run.1 == "jsonl") {
        let replayed = run_binary(vec![
            "replay".into(),
            "--profile".into(),
            (*profile).into(),
            "--format".into(),
            (*format).into(),
            rfc_evidence.clone(),
        ])
        .await;
        // The runs were made seconds apart, so certificate evidence ("days left") may differ:
        // compared by outcome and severity.
        assert_eq!(
            outcomes_by_domain(&replayed),
            outcomes_by_domain(output),
            "rfc evidence as {profile}"
        );
    }
    for (profile, format, evidence, output) in live {
        let replayed = run_binary(vec![
            "replay".into(),
            "--profile".into(),
            profile.into(),
            "--format".into(),
            format.into(),
            evidence.display().to_string(),
        ])
        .await;
        assert_eq!(
            replayed.status.code(),
            output.status.code(),
            "{profile} {format}: {}",
            String::from_utf8_lossy(&replayed.stderr)
        );
        if format == "jsonl" {
            let live = jsonl_by_domain(&output);
            assert_eq!(live.len(), domains.len());
            assert_eq!(jsonl_by_domain(&replayed), live, "{profile}");
        } else {
            assert_eq!(human_body(&replayed), human_body(&output), "{profile}");
            assert!(String::from_utf8_lossy(&replayed.stdout).contains("without the network"));
        }
    }
}
