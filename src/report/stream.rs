//! Output for runs of many domains: each domain is written as soon as it is judged, so memory
//! stays flat however long the list (`--format jsonl`, `csv`, `human`); `--format json`, being
//! one document, is the exception and keeps the reports until the end.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Format, Style};
use crate::catalog::{CheckId, Profile};
use crate::model::{DomainReport, Verdict};

/// What a run's output says about the run itself (the header of the human and JSON formats).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunHeader {
    pub tool_version: String,
    pub profile: Profile,
    /// Unix seconds.
    pub generated_at: i64,
    /// Settings that differ from the defaults (`("ca-file", "lab.pem")`).
    pub settings: Vec<(String, String)>,
}

/// Counts over a whole run, kept while the reports themselves are streamed out and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub domains: usize,
    pub verdicts: BTreeMap<Verdict, usize>,
    /// How many domains failed each check (a domain counts once per check).
    pub failing_checks: BTreeMap<CheckId, usize>,
    /// Input lines that were not domain names.
    pub input_errors: usize,
    /// Domains skipped because `--resume` found them done.
    pub resumed: usize,
    /// Domains left to other `--shard`s.
    pub other_shards: usize,
}

impl RunSummary {
    /// Counts one judged domain.
    pub fn add(&mut self, _report: &DomainReport) {
        todo!("issue 4")
    }
}

/// Where judged domains go, one at a time.
pub trait Sink: Send {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()>;
    /// Writes what comes after the last domain (the human summary, the JSON document's end).
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()>;
}

/// The sink for `format`, writing to `out`.
pub fn sink(
    _format: Format,
    _style: Style,
    _header: RunHeader,
    _out: Box<dyn Write + Send>,
) -> Box<dyn Sink> {
    todo!("issue 4")
}
