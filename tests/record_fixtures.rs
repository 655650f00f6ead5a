//! Table-driven fixtures for the `_mta-sts` and `_smtp._tls` record stages.
//!
//! Each `fixtures/sts-record/NNN-name.json` and `fixtures/tlsrpt-record/NNN-name.json` describes
//! one DNS answer and lists every finding of the stage that is not a pass, as
//! `[check-id, outcome]`. The test builds `Observations::empty(&"example.org".parse().unwrap())` with that answer,
//! runs the stage's `judge`, and compares the multiset of non-pass findings exactly.
//!

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use std::fs;
use std::path::Path;

use common::fixtures::*;
use mtasts::catalog::{Stage, CATALOG};
use mtasts::model::Outcome;

/// Checks one fixture; the error says what differed.
fn check_fixture(path: &Path, stage: Stage) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|err| err.to_string())?;
    let fixture: Fixture = serde_json::from_str(&text).map_err(|err| err.to_string())?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let numbered = name.len() > 4 && name[..3].bytes().all(|b| b.is_ascii_digit());
    if !numbered || name.as_bytes()[3] != b'-' {
        return Err("file name must be NNN-name.json".to_owned());
    }
    let obs = observations(&fixture, stage)?;
    let findings = run_stage(&obs, stage, profile(&fixture)?);

    for spec in CATALOG.iter().filter(|spec| spec.stage == stage) {
        if !findings.iter().any(|f| f.check == spec.id) {
            return Err(format!("no finding at all for {}", spec.id));
        }
    }
    for finding in &findings {
        if finding.check.spec().stage != stage {
            return Err(format!("finding of another stage: {}", finding.check));
        }
        if finding.outcome == Outcome::Pass && finding.summary.is_empty() {
            return Err(format!("{} passes without a summary", finding.check));
        }
    }

    let mut got: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f.outcome != Outcome::Pass)
        .map(|f| (f.check.as_str().to_owned(), f.outcome.label().to_owned()))
        .collect();
    let mut want = fixture.expect.clone();
    got.sort();
    want.sort();
    if got != want {
        let detail: Vec<String> = findings
            .iter()
            .filter(|f| f.outcome != Outcome::Pass)
            .map(|f| format!("  {} {}: {}", f.check, f.outcome.label(), f.summary))
            .collect();
        return Err(format!(
            "{}\n expected {want:?}\n got      {got:?}\n{}",
            fixture.about,
            detail.join("\n")
        ));
    }
    Ok(())
}

fn check_dir(dir: &str, stage: Stage) {
    let failures: Vec<String> = fixture_files(dir)
        .iter()
        .filter_map(|path| {
            check_fixture(path, stage)
                .err()
                .map(|err| format!("{}: {err}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn sts_record_fixtures() {
    check_dir("sts-record", Stage::StsRecord);
}

#[test]
fn tlsrpt_record_fixtures() {
    check_dir("tlsrpt-record", Stage::TlsRpt);
}
