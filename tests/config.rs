//! `mtasts.toml` and `--ignore` through the real binary (issue 13): found in the current
//! directory or named with `--config`, beaten by the command line, strict about its keys, and
//! ignores that mark findings, stop them counting, expire and report what matched nothing.
//! `lint` needs no network, so it carries most of these; `check` shows a bad file stops a run
//! before any network use.

// Test code runs the binary in temporary directories.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

/// A policy in testing mode: under `--profile sge`, `policy.mode-enforce` fails and nothing else.
const TESTING_POLICY: &str =
    "version: STSv1\nmode: testing\nmx: mail.example.com\nmax_age: 1209600\n";

fn dir_with(config: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.txt"), TESTING_POLICY).unwrap();
    if let Some(config) = config {
        std::fs::write(dir.path().join("mtasts.toml"), config).unwrap();
    }
    dir
}

fn mtasts(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&output.stdout)))
}

fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["domains"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn the_file_in_the_current_directory_sets_the_profile_and_format() {
    let dir = dir_with(Some("profile = \"sge\"\nformat = \"json\"\n"));
    let output = mtasts(dir.path(), &["lint", "policy.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["profile"], "sge");
    assert_eq!(report["settings"]["config"], "mtasts.toml");
    assert_eq!(finding(&report, "policy.mode-enforce")["outcome"], "fail");

    // The command line wins: rfc makes testing mode information only.
    let output = mtasts(dir.path(), &["lint", "--profile", "rfc", "policy.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["profile"], "rfc");
    let output = mtasts(dir.path(), &["lint", "--format", "csv", "policy.txt"]);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("domain,verdict,"));
}

#[test]
fn without_a_file_nothing_changes() {
    let dir = dir_with(None);
    let output = mtasts(dir.path(), &["lint", "--format", "json", "policy.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["profile"], "rfc");
    assert_eq!(report["settings"], serde_json::json!({}));
}

#[test]
fn an_ignored_finding_is_shown_marked_and_does_not_count() {
    let config = "profile = \"sge\"\n\n[[ignore]]\nid = \"policy.mode-enforce\"\n\
                  reason = \"enforce on 1 October (ticket 42)\"\nuntil = \"2999-10-01\"\n";
    let dir = dir_with(Some(config));
    let output = mtasts(dir.path(), &["lint", "--format", "json", "policy.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    let ignored = finding(&report, "policy.mode-enforce");
    assert_eq!(ignored["outcome"], "fail", "still shown as what it is");
    assert_eq!(
        ignored["ignored"],
        serde_json::json!({"reason": "enforce on 1 October (ticket 42)", "until": "2999-10-01"})
    );
    assert_eq!(report["domains"][0]["verdict"], "pass");
    assert_eq!(report["domains"][0]["ignored"]["fail"], 1);
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));

    let human = mtasts(dir.path(), &["lint", "policy.txt"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("        ignored: enforce on 1 October (ticket 42) (until 2999-10-01)\n"),
        "{text}"
    );
    assert!(text.contains("; 1 ignored)"), "{text}");
    let csv = mtasts(dir.path(), &["lint", "--format", "csv", "policy.txt"]);
    let row = String::from_utf8_lossy(&csv.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(row.starts_with("policy.txt,pass,"), "{row}");
    assert!(
        row.ends_with(",policy.mode-enforce,policy.mode-enforce"),
        "{row}"
    );
}

#[test]
fn an_expired_ignore_warns_and_its_findings_count_again() {
    let config = "profile = \"sge\"\n[[ignore]]\nid = \"policy.mode-enforce\"\n\
                  reason = \"was due in 2020\"\nuntil = \"2020-01-31\"\n";
    let dir = dir_with(Some(config));
    let output = mtasts(dir.path(), &["lint", "--format", "json", "policy.txt"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(finding(&json(&output), "policy.mode-enforce")
        .get("ignored")
        .is_none());
    let err = stderr(&output);
    assert!(
        err.contains(
            "mtasts: warning: the ignore of policy.mode-enforce (mtasts.toml line 2) expired on \
             2020-01-31: its findings count again (it said: was due in 2020)"
        ),
        "{err}"
    );

    // Under --fail-on warn the expired ignore is itself a warning that fails the run, even
    // when what it ignored is fine today.
    let config = "[[ignore]]\nid = \"policy.mode\"\nreason = \"old\"\nuntil = \"2020-01-31\"\n";
    let dir = dir_with(Some(config));
    let lenient = mtasts(dir.path(), &["lint", "policy.txt"]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stderr(&lenient));
    let strict = mtasts(dir.path(), &["lint", "--fail-on", "warn", "policy.txt"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
}

#[test]
fn an_ignore_that_matched_nothing_is_noted() {
    let config =
        "[[ignore]]\nid = \"policy.wildcard\"\ndomain = \"example.org\"\nreason = \"old\"\n";
    let dir = dir_with(Some(config));
    let output = mtasts(dir.path(), &["lint", "policy.txt"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains(
            "mtasts: note: the ignore of policy.wildcard for example.org (mtasts.toml line 1) \
             matched no finding"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn ignore_flags_and_an_explicit_config_file() {
    let dir = dir_with(None);
    let sge = ["lint", "--profile", "sge", "policy.txt"];
    assert_eq!(mtasts(dir.path(), &sge).status.code(), Some(1));
    let output = mtasts(
        dir.path(),
        &[
            "lint",
            "--profile",
            "sge",
            "--ignore",
            "policy.mode-enforce",
            "--format",
            "json",
            "policy.txt",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        finding(&json(&output), "policy.mode-enforce")["ignored"]["reason"],
        "accepted with --ignore on the command line"
    );
    // A domain-scoped ignore only matches that domain (lint's "domain" is the file name).
    let scoped = mtasts(
        dir.path(),
        &[
            "lint",
            "--profile",
            "sge",
            "--ignore",
            "policy.mode-enforce@example.org",
            "policy.txt",
        ],
    );
    assert_eq!(scoped.status.code(), Some(1));

    let elsewhere = tempfile::tempdir().unwrap();
    let path = elsewhere.path().join("ci.toml");
    std::fs::write(&path, "profile = \"sge\"\n").unwrap();
    let output = mtasts(
        dir.path(),
        &["lint", "--config", path.to_str().unwrap(), "policy.txt"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let missing = mtasts(dir.path(), &["lint", "--config", "nope.toml", "policy.txt"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot read nope.toml"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn bad_files_and_flags_are_usage_errors_naming_the_key_and_line() {
    let cases = [
        ("profile = \"sge\"\ntiemout = 5\n", "mtasts: mtasts.toml: line 2: unknown field `tiemout`"),
        ("timeout = 0\n", "mtasts: mtasts.toml: line 1: `timeout` must be from 1 to 3600, not 0"),
        (
            "[[ignore]]\nid = \"policy.mod\"\nreason = \"x\"\n",
            "mtasts: mtasts.toml: line 2: ignore: there is no check `policy.mod`; the closest are `policy.mode`",
        ),
    ];
    for (config, wanted) in cases {
        let dir = dir_with(Some(config));
        for command in [&["lint", "policy.txt"][..], &["check", "example.org"]] {
            let output = mtasts(dir.path(), command);
            assert_eq!(output.status.code(), Some(2), "{config:?} {command:?}");
            assert!(
                stderr(&output).contains(wanted),
                "{config:?}: {}",
                stderr(&output)
            );
            assert!(output.stdout.is_empty(), "nothing audited");
        }
    }
    let dir = dir_with(None);
    let output = mtasts(dir.path(), &["lint", "--ignore", "mx.coverd", "policy.txt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the closest is `mx.covered`"),
        "{}",
        stderr(&output)
    );
}
