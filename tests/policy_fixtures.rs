//! Runs every policy fixture through `mtasts::verdict::policy::lint` (RFC 8461 §3.2 and the
//! guidance checks) and compares the findings with the fixture's `.expected` file.
//!
//! `fixtures/policy/NNN-name.txt` holds the raw bytes as a server would serve them.
//! `NNN-name.expected` lists every finding that is not a pass, one `check-id outcome` per line,
//! where outcome is fail, warn, info, skipped or could-not-determine; an optional first line
//! `profile sge` or `profile ncsc` selects the profile (default rfc). The comparison is of
//! multisets: order does not matter, counts do.

// The fixture corpus is read from disk.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use common::fixtures::{policy_fixture_dir, read_expected};
use mtasts::verdict::policy::lint;

/// Lines present in one sorted list and not the other, with multiplicity.
fn difference(left: &[(String, String)], right: &[(String, String)]) -> Vec<String> {
    let mut counts: BTreeMap<&(String, String), i64> = BTreeMap::new();
    for pair in left {
        *counts.entry(pair).or_default() += 1;
    }
    for pair in right {
        *counts.entry(pair).or_default() -= 1;
    }
    counts
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .flat_map(|((check, outcome), count)| (0..count).map(move |_| format!("{check} {outcome}")))
        .collect()
}

#[test]
fn policy_fixtures_match_their_expected_findings() {
    let dir = policy_fixture_dir();
    let mut bodies: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    bodies.sort();
    assert!(!bodies.is_empty(), "no fixtures in {}", dir.display());

    let mut failures = Vec::new();
    for body_path in &bodies {
        let name = body_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let expected_path = body_path.with_extension("expected");
        if !expected_path.exists() {
            failures.push(format!("{name}: no {}", expected_path.display()));
            continue;
        }
        let (profile, expected) = match read_expected(&expected_path) {
            Ok(parsed) => parsed,
            Err(err) => {
                failures.push(err);
                continue;
            }
        };
        let body = fs::read(body_path).unwrap();
        let mut actual: Vec<(String, String)> = lint(&body, profile)
            .findings
            .into_iter()
            .filter(|finding| finding.outcome.label() != "pass")
            .map(|finding| {
                (
                    finding.check.as_str().to_owned(),
                    finding.outcome.label().to_owned(),
                )
            })
            .collect();
        actual.sort();
        if actual != expected {
            failures.push(format!(
                "{name} (profile {}):\n  missing:    {:?}\n  unexpected: {:?}",
                profile.as_str(),
                difference(&expected, &actual),
                difference(&actual, &expected)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} policy fixtures differ:\n{}",
        failures.len(),
        bodies.len(),
        failures.join("\n")
    );
}

#[test]
fn every_expected_file_has_its_fixture() {
    let dir = policy_fixture_dir();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "expected") {
            assert!(
                path.with_extension("txt").exists(),
                "{} has no .txt fixture",
                path.display()
            );
        }
    }
}

#[test]
fn expected_file_parser_rejects_typos() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("policy.mode fail\n", true),
        ("profile sge\npolicy.mode fail\n", true),
        ("policy.mode failed\n", false),
        ("policy.moad fail\n", false),
        ("policy.mode fail\nprofile sge\n", false),
        ("profile uk\n", false),
        ("policy.mode\n", false),
    ];
    for (text, ok) in cases {
        let path = dir.path().join("x.expected");
        fs::write(&path, text).unwrap();
        assert_eq!(read_expected(&path).is_ok(), ok, "{text:?}");
    }
}
