//! `mtasts explain` (issue 13): every check of the catalog explains through the binary, with its
//! rules and examples; an unknown ID is answered with the closest IDs; and every example that is
//! a record or a policy file is judged here and must pass or fail its check as it says, so the
//! examples cannot drift from the verdict code.

// Test code runs the binary.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::scenario::{perfect, records, NOW};
use mtasts::catalog::examples::{Sample, EXAMPLES};
use mtasts::catalog::{CheckId, Profile, CATALOG};
use mtasts::model::{Finding, Outcome};
use mtasts::observe::TxtRecord;
use mtasts::verdict::{self, Context};

const PROFILES: [Profile; 3] = [Profile::Rfc, Profile::Sge, Profile::Ncsc];

/// The findings of `check` when `sample` is what the audit saw, under `profile`; `None` for an
/// example told in words.
fn judged(check: CheckId, sample: &Sample, profile: Profile) -> Option<Vec<Finding>> {
    let findings = match sample {
        Sample::Seen(_) => return None,
        Sample::Policy(body) => verdict::policy::lint(body.as_bytes(), profile).findings,
        Sample::StsTxt(text) | Sample::TlsRptTxt(text) => {
            let mut obs = perfect();
            let answer = records(text.lines().map(TxtRecord::single).collect(), 86_400);
            if matches!(sample, Sample::StsTxt(_)) {
                obs.sts_txt = answer;
            } else {
                obs.tlsrpt_txt = answer;
            }
            verdict::judge(&obs, &Context::new(profile, NOW)).findings
        }
    };
    Some(
        findings
            .into_iter()
            .filter(|finding| finding.check == check)
            .collect(),
    )
}

#[test]
fn record_and_policy_examples_pass_and_fail_as_they_say() {
    let mut verified = 0;
    let mut problems = Vec::new();
    for examples in EXAMPLES {
        let check = examples.check;
        // A passing example passes under every profile (a check a profile does not apply may
        // skip), and is judged passing under at least one.
        let mut passed_somewhere = false;
        let mut judged_any = false;
        for profile in PROFILES {
            let Some(findings) = judged(check, &examples.pass, profile) else {
                continue;
            };
            judged_any = true;
            for finding in &findings {
                match finding.outcome {
                    Outcome::Pass => passed_somewhere = true,
                    Outcome::Skipped { .. } => {}
                    _ => problems.push(format!(
                        "{check}: the passing example is {} under {}: {}",
                        finding.outcome.label(),
                        profile.as_str(),
                        finding.summary
                    )),
                }
            }
        }
        if judged_any && !passed_somewhere {
            problems.push(format!("{check}: the passing example never passes"));
        }
        // A failing example is reported (fail, warn, info or could not determine) under the
        // profile that weighs the check most.
        let worst = PROFILES
            .into_iter()
            .max_by_key(|profile| check.spec().severity(*profile))
            .unwrap();
        if let Some(findings) = judged(check, &examples.fail, worst) {
            verified += 1;
            let reported = findings
                .iter()
                .any(|finding| !matches!(finding.outcome, Outcome::Pass | Outcome::Skipped { .. }));
            if !reported {
                let outcomes: Vec<&str> = findings.iter().map(|f| f.outcome.label()).collect();
                problems.push(format!(
                    "{check}: the failing example is {outcomes:?} under {}",
                    worst.as_str()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The record and policy checks' failing examples (6 TXT, 24 policy, 8 TLS-RPT) are judged;
    // fewer means an example was turned into words.
    assert!(verified >= 38, "only {verified} examples were judged");
}

#[test]
fn every_check_explains_through_the_binary() {
    for spec in CATALOG {
        let output = Command::new(env!("CARGO_BIN_EXE_mtasts"))
            .args(["explain", spec.id.as_str()])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", spec.id);
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(
            text.starts_with(&format!("{}: {}\n", spec.id, spec.title)),
            "{text}"
        );
        for part in [
            "\nPasses\n",
            "\nFails (or is reported)\n",
            "\nFix\n",
            spec.fix,
        ] {
            assert!(
                text.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .contains(&part.split_whitespace().collect::<Vec<_>>().join(" ")),
                "{}: no {part:?}",
                spec.id
            );
        }
        for rule in spec.rules {
            assert!(
                text.contains(&format!("docs/rules.md#{rule}")),
                "{}: {rule}",
                spec.id
            );
        }
    }
}

#[test]
fn an_unknown_id_names_the_closest() {
    let output = Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(["explain", "smtp.starttls"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.starts_with("mtasts: there is no check `smtp.starttls`; the closest are `smtp."),
        "{err}"
    );
    assert!(err.contains("`smtp.starttls-offered`"), "{err}");
}
