//! The invariants every judged domain must keep, checked wherever a test judges one:
//!
//! * the observations round-trip through their serde form and judge to the identical report,
//!   so saved evidence can be judged again later (the probe → verdict contract);
//! * every check of the catalog appears in the report, once per subject of its stage, so a
//!   check that a verdict forgot to report (or reported twice) fails the test that judged it;
//! * no summary or reason is a Rust `Debug` rendering (issue 12: a chain too deep read
//!   `Other(OtherError(MaximumPathDepthExceeded))`): what a user reads is a sentence.

use std::collections::{BTreeMap, BTreeSet};

use mtasts::catalog::{Scope, Stage, CATALOG};
use mtasts::model::{DomainReport, Subject};
use mtasts::observe::Observations;
use mtasts::verdict::{judge, Context};

/// Judges `obs` as the binary would, after checking both invariants.
pub fn judge_checked(obs: &Observations, ctx: &Context) -> DomainReport {
    let report = judge(obs, ctx);
    assert_round_trips(obs, ctx, &report);
    assert_every_check_once_per_subject(&report);
    assert_no_debug_renderings(&report);
    report
}

/// Every summary and could-not-determine reason reads as words: none holds a `Debug` form
/// such as `Some(`, `Err(`, a CamelCase name followed by `(` or ` {`, or a struct's
/// `Name { field: …`.
pub fn assert_no_debug_renderings(report: &DomainReport) {
    for finding in &report.findings {
        let reason = match &finding.outcome {
            mtasts::model::Outcome::CouldNotDetermine { reason } => Some(reason.as_str()),
            _ => None,
        };
        for text in std::iter::once(finding.summary.as_str()).chain(reason) {
            if let Some(form) = debug_form(text) {
                panic!("{} says `{form}` in: {text}", finding.check);
            }
        }
    }
}

/// The first word of `text` that looks like a Rust `Debug` rendering.
pub fn debug_form(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if !bytes[start].is_ascii_alphabetic()
            || (start > 0 && bytes[start - 1].is_ascii_alphanumeric())
        {
            start += 1;
            continue;
        }
        let end = (start..bytes.len())
            .find(|&at| !bytes[at].is_ascii_alphanumeric())
            .unwrap_or(bytes.len());
        let word = &text[start..end];
        let rest = &text[end..];
        let opens = rest.starts_with('(') || rest.starts_with(" {");
        let camel = word.as_bytes()[0].is_ascii_uppercase()
            && word.len() > 2
            && word[1..].bytes().any(|b| b.is_ascii_lowercase())
            && word[1..].bytes().any(|b| b.is_ascii_uppercase());
        if opens && (camel || matches!(word, "Some" | "Ok" | "Err")) {
            return Some(word);
        }
        let field = rest.strip_prefix(" { ").and_then(|fields| {
            let name_end = fields.find(|c: char| !(c.is_ascii_lowercase() || c == '_'))?;
            (name_end > 0 && fields[name_end..].starts_with(": ")).then_some(())
        });
        if field.is_some() && word.as_bytes()[0].is_ascii_uppercase() {
            return Some(word);
        }
        start = end;
    }
    None
}

/// Serialises `obs`, reads it back and judges it again: the same observations, the same report.
pub fn assert_round_trips(obs: &Observations, ctx: &Context, report: &DomainReport) {
    let json = serde_json::to_string(obs).expect("observations serialise");
    let back: Observations = serde_json::from_str(&json)
        .unwrap_or_else(|error| panic!("observations do not read back: {error}"));
    // Compared as JSON: a failure then shows the first difference, not two huge Debug dumps.
    assert_eq!(
        serde_json::to_string(&back).expect("observations serialise"),
        json,
        "observations changed through serde"
    );
    assert!(
        &back == obs,
        "observations changed through serde (outside their JSON form)"
    );
    assert_eq!(
        &judge(&back, ctx),
        report,
        "judging read-back observations differs"
    );
}

/// No check is reported twice for one subject; every check of the catalog is reported; and
/// within a stage, every subject of one kind (each MX address, each MX host) gets the same
/// checks, so a check one verdict path forgets for some subjects shows up as a difference.
///
/// A host-wide check may name the host's addresses one by one instead of the host (the non-public
/// ones of `mx.public-address`); it then counts for the host.
pub fn assert_every_check_once_per_subject(report: &DomainReport) {
    let mut wrong = Vec::new();
    let mut exact: BTreeSet<(&'static str, &Subject)> = BTreeSet::new();
    let mut seen: BTreeMap<(Stage, &'static str), BTreeMap<Subject, BTreeSet<&'static str>>> =
        BTreeMap::new();
    for finding in &report.findings {
        let spec = finding.check.spec();
        if !exact.insert((spec.id.as_str(), &finding.subject)) {
            wrong.push(format!(
                "{} reported twice for {:?}",
                spec.id, finding.subject
            ));
        }
        let subject = match (&finding.subject, spec.scope) {
            (Subject::Endpoint { host, .. }, Scope::Host) => Subject::host(host),
            (subject, _) => subject.clone(),
        };
        seen.entry((spec.stage, kind(&subject)))
            .or_default()
            .entry(subject)
            .or_default()
            .insert(spec.id.as_str());
    }
    for ((stage, kind), subjects) in &seen {
        let all: BTreeSet<&str> = subjects.values().flatten().copied().collect();
        for (subject, checks) in subjects {
            let missing: Vec<&str> = all.difference(checks).copied().collect();
            if !missing.is_empty() {
                wrong.push(format!(
                    "{} for {subject:?} lacks {} that other {kind} subjects have",
                    stage.as_str(),
                    missing.join(", ")
                ));
            }
        }
    }
    for spec in CATALOG {
        if !report
            .findings
            .iter()
            .any(|finding| finding.check == spec.id)
        {
            wrong.push(format!("{} is missing from the report", spec.id));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}: checks not reported exactly once per subject:\n  {}",
        report.domain,
        wrong.join("\n  ")
    );
}

fn kind(subject: &Subject) -> &'static str {
    match subject {
        Subject::Domain => "domain",
        Subject::Host { .. } => "host",
        Subject::Endpoint { .. } => "endpoint",
    }
}
