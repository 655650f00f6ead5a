//! The binary itself: help, the catalog, and the exit status of usage errors (2, with a message
//! naming what was wrong). Nothing here touches the network.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use mtasts::catalog::CATALOG;

fn mtasts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_works() {
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["lint", "--help"],
        &["checks", "--help"],
    ] {
        let output = mtasts(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("Usage: mtasts"), "{args:?}: {text}");
    }
    let text = String::from_utf8(mtasts(&["check", "--help"]).stdout).unwrap();
    for flag in [
        "--profile",
        "--format",
        "--fail-on",
        "--allow-inconclusive",
        "--no-smtp",
        "--ca-file",
        "--resolver",
        "--timeout",
        "--ehlo-name",
    ] {
        assert!(text.contains(flag), "{flag} missing from check --help");
    }
    // Lab flags exist but stay out of the help.
    assert!(!text.contains("--smtp-port"));
}

#[test]
fn checks_json_lists_the_whole_catalog() {
    let output = mtasts(&["checks", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let checks = value["checks"].as_array().unwrap();
    assert_eq!(checks.len(), CATALOG.len());
    assert_eq!(checks[0]["id"], CATALOG[0].id.as_str());
}

#[test]
fn checks_text_and_markdown_print() {
    for format in ["text", "markdown"] {
        let output = mtasts(&["checks", "--format", format]);
        assert_eq!(output.status.code(), Some(0), "{format}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("policy.mode"), "{format}");
        assert!(!text.contains('\x1b'), "no ANSI off a terminal");
    }
}

#[test]
fn bad_domains_exit_2_naming_the_name() {
    let cases = [
        "exa mple.com",
        "a..example",
        "mail_host.example.com",
        "-",
        "bad-.example",
        "192.0.2.1",
        &format!("{}.example", "a".repeat(64)),
    ];
    for name in cases {
        // Should validation ever regress, the audit of good.example still asks only a closed
        // loopback port and probes nothing: tests never reach a real resolver.
        let output = mtasts(&[
            "check",
            "--resolver",
            "127.0.0.1:1",
            "--no-smtp",
            "--timeout",
            "1",
            "good.example",
            name,
        ]);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(name),
            "{name}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn usage_errors_exit_2() {
    let cases: [&[&str]; 6] = [
        &[
            "check",
            "--resolver",
            "127.0.0.1:1",
            "--no-such-flag",
            "example.com",
        ],
        &["check"],
        &["--no-such-flag"],
        &["check", "--format", "xml", "example.com"],
        &["check", "--resolver", "dns.example", "example.com"],
        &["frobnicate"],
    ];
    for args in cases {
        let output = mtasts(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn ca_file_errors_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let empty = dir.path().join("empty-ca.pem");
    std::fs::write(&empty, "nothing here\n").unwrap();
    for path in [&missing, &empty] {
        let path = path.to_str().unwrap();
        let output = mtasts(&[
            "check",
            "--resolver",
            "127.0.0.1:1",
            "--no-smtp",
            "--ca-file",
            path,
            "example.com",
        ]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(path), "{}", stderr(&output));
    }
}

#[test]
fn lint_of_a_missing_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-policy.txt");
    let output = mtasts(&["lint", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no-such-policy.txt"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn lint_of_an_oversized_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge-policy.txt");
    std::fs::write(&big, vec![b'x'; 2 * 1024 * 1024]).unwrap();
    let output = mtasts(&["lint", big.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("huge-policy.txt"),
        "{}",
        stderr(&output)
    );
}

/// Issue 12: `lint` applies the size rules `check` applies to a fetched body (a 111 KB file
/// fails `policy-fetch.size` and nothing else is judged, as `check` judges nothing else of it),
/// and its JSON and CSV carry `mode` and `max_age` as `check`'s do.
#[test]
fn lint_applies_the_size_rules_of_check_and_reports_mode_and_max_age() {
    let dir = tempfile::tempdir().unwrap();
    let good = "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 604800\r\n";
    let mut large = good.to_owned();
    while large.len() < 111_000 {
        large.push_str("mx: backup.example.com\r\n");
    }
    let good_path = dir.path().join("good.txt");
    let large_path = dir.path().join("large.txt");
    std::fs::write(&good_path, good).unwrap();
    std::fs::write(&large_path, &large).unwrap();

    let output = mtasts(&["lint", "--format", "json", large_path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let domain = &report["domains"][0];
    let judged: Vec<(&str, &str)> = domain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["outcome"] != "skipped")
        .map(|finding| {
            (
                finding["id"].as_str().unwrap(),
                finding["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(judged, [("policy-fetch.size", "fail")]);
    assert_eq!(
        domain["findings"][0]["summary"],
        format!(
            "the policy is {} bytes, larger than the 65536 bytes senders read (RFC 8461 §3.3); \
             senders do not accept it",
            large.len()
        )
    );
    assert_eq!(domain["facts"]["mode"], serde_json::Value::Null);

    let output = mtasts(&["lint", "--format", "json", good_path.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let facts = &report["domains"][0]["facts"];
    assert_eq!(facts["mode"], "testing");
    assert_eq!(facts["max_age"], 604_800);
    assert_eq!(facts["policy_mx"], serde_json::json!(["mail.example.com"]));

    let output = mtasts(&["lint", "--format", "csv", good_path.to_str().unwrap()]);
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| row[header.iter().position(|column| *column == name).unwrap()];
    assert_eq!(column("mode"), "testing", "{text}");
    assert_eq!(column("max_age"), "604800", "{text}");
}

/// Issue 10: a bad evidence file is a usage error naming the file and the line, never a panic;
/// `--fail-on change` without `--baseline` is refused.
#[test]
fn replay_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let header = r#"{"mtasts_evidence":1,"tool_version":"0.1.0","generated_at":1790000000,"profile":"rfc","settings":{}}"#;
    let cases: [(&str, String, &str); 5] = [
        ("empty", String::new(), "holds no saved evidence"),
        ("garbage", format!("{header}\nnot json\n"), "line 2: not a JSON object"),
        (
            "newer",
            format!("{header}\n{{\"schema_version\": 99, \"domain\": \"a.example\"}}\n"),
            "line 2: the observations are of schema version 99, newer than this mtasts reads (schema version 2)",
        ),
        (
            "report",
            "{\"domain\":\"a.example\",\"findings\":[]}\n".to_owned(),
            "line 1: this is a report (--format jsonl), not saved evidence",
        ),
        (
            "format",
            "{\"mtasts_evidence\": 2}\n".to_owned(),
            "line 1: evidence format version 2 is not one this mtasts reads (version 1)",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let output = mtasts(&["replay", path.to_str().unwrap()]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
        assert!(
            message.contains(name),
            "{name}: the file is named: {message}"
        );
        assert!(!message.contains("panicked"), "{name}: {message}");
    }

    let output = mtasts(&["check", "--fail-on", "change", "a.example"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--fail-on change needs --baseline"));
}
