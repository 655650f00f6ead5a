//! Renderers of a reports [`Summary`]: pure, summary in, bytes out, one file per format.
//! The formats are those of `mtasts check` ([`Format`]).

mod csv;
mod human;
pub mod json;

use std::io::{self, Write};

use super::summary::Summary;
use crate::report::Format;

/// Writes `summary` in `format`.
pub fn render(summary: &Summary, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::render(summary, out),
        Format::Json => json::render(summary, out),
        Format::Jsonl => json::render_lines(summary, out),
        Format::Csv => csv::render(summary, out),
    }
}

/// Whether the format has a place for the unreadable inputs (CSV has none: the caller prints
/// them on standard error).
pub fn lists_unreadable(format: Format) -> bool {
    format != Format::Csv
}
