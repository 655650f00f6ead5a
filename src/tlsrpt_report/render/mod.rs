//! Renderers of a reports [`Summary`]: pure, summary in, bytes out, one file per format.
//! The formats are those of `mtasts check` that suit a summary ([`ReportsFormat`]).

mod csv;
pub(crate) mod human;
pub mod json;

use std::io::{self, Write};

use super::summary::Summary;

/// Formats of `mtasts reports --format`: those of `mtasts check` that suit a summary of
/// reports. The formats CI tools read (SARIF, JUnit, GitHub annotations) describe checks of
/// domains, which a summary of reports has none of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportsFormat {
    /// One block per policy domain, for people.
    #[default]
    Human,
    /// One JSON document, described in docs/report-tlsrpt-json.md.
    Json,
    /// JSON Lines: one line per policy domain, then one per unreadable input.
    Jsonl,
    /// One row per policy domain with stable columns.
    Csv,
}

/// Writes `summary` in `format`.
pub fn render(summary: &Summary, format: ReportsFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        ReportsFormat::Human => human::render(summary, out),
        ReportsFormat::Json => json::render(summary, out),
        ReportsFormat::Jsonl => json::render_lines(summary, out),
        ReportsFormat::Csv => csv::render(summary, out),
    }
}

/// Whether the format has a place for the unreadable inputs (CSV has none: the caller prints
/// them on standard error).
pub fn lists_unreadable(format: ReportsFormat) -> bool {
    format != ReportsFormat::Csv
}
