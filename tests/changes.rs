//! The `change.*` stage (`--baseline`) against hand-built pairs of runs: each scenario of
//! `common::scenario::change_scenarios` changes one thing between the baseline and now, and
//! exactly the checks that watch for that change stop passing.

// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::scenario::*;
use mtasts::catalog::{CheckId, Stage};
use mtasts::model::{DomainReport, Outcome};

fn scenario(name: &str) -> DomainReport {
    change_scenarios()
        .into_iter()
        .find(|(scenario, _)| *scenario == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
        .1
}

/// The `change.*` checks that did not pass, with their outcome labels.
fn changes(report: &DomainReport) -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut map: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for finding in &report.findings {
        if finding.check.spec().stage == Stage::Changes && finding.outcome != Outcome::Pass {
            map.entry(finding.check.as_str())
                .or_default()
                .push(finding.outcome.label());
        }
    }
    map
}

fn evidence<'a>(report: &'a DomainReport, check: CheckId, label: &str) -> &'a str {
    report
        .findings
        .iter()
        .filter(|finding| finding.check == check)
        .flat_map(|finding| &finding.evidence)
        .find(|evidence| evidence.label == label)
        .map(|evidence| evidence.value.as_str())
        .unwrap_or_else(|| panic!("{check} has no evidence {label:?}"))
}

#[test]
fn nothing_changed_means_every_change_check_passes() {
    let report = scenario("unchanged");
    assert_eq!(changes(&report), BTreeMap::new());
    assert_eq!(report.facts.baseline_at, Some(BASELINE_AT));
}

#[test]
fn a_domain_missing_from_the_baseline_is_new() {
    let report = scenario("new domain");
    let found = changes(&report);
    assert_eq!(found["change.in-baseline"], ["info"]);
    assert!(found
        .iter()
        .all(|(id, labels)| *id == "change.in-baseline" || labels == &["skipped"]));
}

#[test]
fn a_policy_edited_without_a_new_id_fails_with_both_bodies_and_the_diff() {
    let report = scenario("policy edited, id kept");
    let found = changes(&report);
    assert_eq!(found["change.id-not-bumped"], ["fail"]);
    assert_eq!(found["change.mode-weakened"], ["warn"]);
    assert!(!found.contains_key("change.id-unneeded"));
    assert!(
        evidence(&report, CheckId::ChangeIdNotBumped, "baseline policy").contains("mode: enforce")
    );
    assert!(
        evidence(&report, CheckId::ChangeIdNotBumped, "current policy").contains("mode: testing")
    );
    assert_eq!(
        evidence(&report, CheckId::ChangeIdNotBumped, "difference"),
        "- mode: enforce; + mode: testing"
    );
    // The same edit announced by a new id passes the id check, and still warns of the mode.
    let announced = changes(&scenario("policy edited, id changed"));
    assert!(!announced.contains_key("change.id-not-bumped"));
    assert_eq!(announced["change.mode-weakened"], ["warn"]);
}

#[test]
fn an_id_changed_for_nothing_is_information() {
    let found = changes(&scenario("id changed for nothing"));
    assert_eq!(
        found.keys().copied().collect::<Vec<_>>(),
        ["change.id-unneeded"]
    );
    assert_eq!(found["change.id-unneeded"], ["info"]);
}

#[test]
fn a_shorter_max_age_warns() {
    let found = changes(&scenario("max_age shortened"));
    assert_eq!(found["change.max-age-shortened"], ["warn"]);
    assert!(!found.contains_key("change.id-not-bumped"));
}

#[test]
fn a_removed_record_with_the_policy_still_served_gives_the_removal_steps() {
    let report = scenario("record removed");
    let found = changes(&report);
    assert_eq!(found["change.record-removed"], ["info"]);
    assert!(CheckId::ChangeRecordRemoved
        .spec()
        .fix
        .contains("mode: none"));
    // The outcomes got worse: sts-record.present no longer passes.
    assert_eq!(found["change.outcomes"], ["warn"]);
    assert!(evidence(&report, CheckId::ChangeOutcomes, "worse").contains("sts-record.present"));
}

#[test]
fn an_added_mx_outside_the_policy_warns_and_names_the_host() {
    let report = scenario("MX added, not in the policy");
    let found = changes(&report);
    assert_eq!(found["change.mx-set"], ["warn"]);
    assert_eq!(
        evidence(&report, CheckId::ChangeMxSet, "added"),
        "mx3.example.org"
    );
    assert_eq!(
        evidence(&report, CheckId::ChangeMxSet, "TXT id"),
        "unchanged"
    );
    assert!(
        evidence(&report, CheckId::ChangeOutcomes, "worse").contains("mx.covered (mx3.example.org")
    );
    assert_eq!(
        evidence(&report, CheckId::ChangeOutcomes, "verdict"),
        "pass → fail"
    );
    // The new host has no certificate in the baseline to compare with.
    assert_eq!(found["change.certificate-replaced"], ["info"]);
}

#[test]
fn a_certificate_from_another_ca_warns_and_a_renewal_informs() {
    let report = scenario("certificate from another CA, expiring sooner");
    let found = changes(&report);
    assert_eq!(found["change.certificate-replaced"], ["warn"]);
    assert_eq!(found["change.certificate-expires-sooner"], ["warn"]);
    let replaced = report
        .findings
        .iter()
        .find(|finding| {
            finding.check == CheckId::ChangeCertificateReplaced && finding.outcome != Outcome::Pass
        })
        .unwrap();
    assert_eq!(
        replaced.subject,
        mtasts::model::Subject::host("mx1.example.org")
    );
    assert!(
        replaced.summary.contains("CN=Other CA"),
        "{}",
        replaced.summary
    );

    let renewed = changes(&scenario("certificate renewed by the same CA"));
    assert_eq!(renewed["change.certificate-replaced"], ["info"]);
    assert!(!renewed.contains_key("change.certificate-expires-sooner"));
}

#[test]
fn without_a_baseline_the_stage_is_skipped_once_for_the_domain() {
    let report = run(&perfect(), mtasts::catalog::Profile::Rfc);
    let skipped: Vec<_> = report
        .findings
        .iter()
        .filter(|finding| finding.check.spec().stage == Stage::Changes)
        .map(|finding| (finding.outcome.clone(), finding.subject.clone()))
        .collect();
    assert_eq!(
        skipped.len(),
        mtasts::catalog::stage_checks(Stage::Changes).count()
    );
    for (outcome, subject) in skipped {
        assert_eq!(subject, mtasts::model::Subject::Domain);
        assert_eq!(
            outcome,
            Outcome::Skipped {
                blocked_by: mtasts::model::RunFlag::NoBaseline.into()
            }
        );
    }
}
