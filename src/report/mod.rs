//! Renderers: findings in, bytes out. They decide nothing: outcomes, severities and verdicts come
//! from the verdict code and the [catalog](crate::catalog); a renderer only lays them out.

pub mod catalog;
pub mod human;
pub mod json;
pub mod progress;
pub mod stream;

use std::io::{self, Write};

use crate::catalog::Profile;
use crate::model::{DomainReport, Outcome};

/// Everything one run of `mtasts check` (or `lint`) reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub tool_version: String,
    pub profile: Profile,
    /// Unix seconds.
    pub generated_at: i64,
    /// Settings that differ from the defaults, echoed in the header (`("ca-file", "lab.pem")`),
    /// so a report made against a lab resolver or extra roots says so.
    pub settings: Vec<(String, String)>,
    /// In the order the domains were given.
    pub domains: Vec<DomainReport>,
}

/// Report formats (`--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A checklist for people, grouped by stage.
    #[default]
    Human,
    /// One JSON document, described in docs/report-json.md.
    Json,
    /// JSON Lines: one domain object (as in `json`'s `domains`) per line, as each domain finishes.
    Jsonl,
    /// One row per domain with stable columns, safe to open in a spreadsheet.
    Csv,
}

/// How the human renderer may style its output; decided once, by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colour; only on a terminal and without NO_COLOR.
    pub colour: bool,
}

/// Writes `report` in `format`: the one place a renderer is picked.
pub fn render(
    report: &AuditReport,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, style, out),
        Format::Json => json::render(report, out),
        Format::Jsonl | Format::Csv => todo!("issue 4: through stream::sink"),
    }
}

/// The short status tag of an outcome, as the human checklist shows it.
pub fn status_tag(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Warn => "WARN",
        Outcome::Info => "INFO",
        Outcome::Skipped { .. } => "SKIP",
        Outcome::CouldNotDetermine { .. } => "????",
    }
}

/// The anchor of a check in docs/checks.md; `report::catalog` writes an explicit `<a id>` with
/// it, so the link does not depend on how a markdown renderer slugs headings.
pub fn docs_anchor(check: crate::catalog::CheckId) -> String {
    format!("docs/checks.md#{}", check.as_str())
}
