//! `mtasts reports`: reading SMTP TLS reports (RFC 8460 §4) and summarising them per policy
//! domain.
//!
//! Layers, pure except [`files`]:
//!
//! - [`files`]: walks paths, Maildir folders and standard input, with bounds (the I/O seam);
//! - [`container`]: bytes → the report JSON inside gzip, zip, email, mbox, bounded;
//! - [`parse`]: one report's JSON → [`model::Report`] and notes on each leniency;
//! - [`summary`]: de-duplication, the day window and per-domain tallies (the API an audit stage
//!   reads);
//! - [`evidence`]: a summary → the per-domain evidence `mtasts check --reports` judges;
//! - [`explain`]: each result type in words, with the `mtasts check` checks that find it;
//! - [`cli`]: the arguments of `mtasts reports` and the glue from them to the output;
//! - [`render`]: a [`summary::Summary`] → human, JSON, JSON Lines or CSV bytes.

pub mod cli;
pub mod container;
pub mod date;
pub mod evidence;
pub mod explain;
pub mod files;
pub mod model;
pub mod parse;
pub mod render;
pub mod summary;

use std::path::PathBuf;

use container::{Item, Limits};
use files::WalkLimits;
use summary::{Collector, Summary, Window};

/// Reads every input and summarises the reports found: the whole of `mtasts reports` but the
/// arguments and the output.
pub fn read_and_summarise(
    paths: &[PathBuf],
    walk_limits: &WalkLimits,
    limits: &Limits,
    window: Window,
) -> Summary {
    let mut collector = Collector::new(window);
    let stats = files::read_inputs(paths, walk_limits, limits, &mut |path, item| {
        add_item(&mut collector, path, item);
    });
    let mut summary = collector.finish();
    summary.files_read = stats.files;
    summary
}

/// Parses one item found in an input and counts it (or lists it as unreadable).
pub fn add_item(collector: &mut Collector, path: &str, item: Item) {
    match item {
        Item::Json { origin, bytes } => match parse::parse_report(&bytes) {
            Ok(parsed) => {
                let source = if origin.is_empty() {
                    path.to_owned()
                } else {
                    format!("{path} ({origin})")
                };
                collector.add(&source, &parsed);
            }
            Err(error) => collector.unreadable(path, located(&origin, &error.0)),
        },
        Item::Problem { origin, reason } => collector.unreadable(path, located(&origin, &reason)),
    }
}

fn located(origin: &str, reason: &str) -> String {
    if origin.is_empty() {
        reason.to_owned()
    } else {
        format!("{origin}: {reason}")
    }
}
