//! Output for runs of many domains: each domain is written as soon as it is judged, so memory
//! stays flat however long the list (`--format jsonl`, `csv`, `human`, `github`); the formats
//! that are one document are the exception: `json` and `junit` keep the reports until the end,
//! `sarif` only the non-passing findings.
//!
//! The engine builds one [`Sink`] with [`sink`], hands it every [`DomainReport`] as the domain
//! finishes (in the order it wants them written), keeps a [`RunSummary`] alongside, and calls
//! [`Sink::finish`] once at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use super::{AuditReport, Detail, Format, Style};
use crate::catalog::{CheckId, Profile};
use crate::cli::FailOn;
use crate::input::InputLocation;
use crate::model::{DomainReport, Outcome, Verdict};

/// What a run's output says about the run itself (the header of the human and JSON formats).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunHeader {
    pub tool_version: String,
    pub profile: Profile,
    /// Unix seconds.
    pub generated_at: i64,
    /// Settings that differ from the defaults (`("ca-file", "lab.pem")`).
    pub settings: Vec<(String, String)>,
    /// What each finding carries in `json` and `jsonl` (`--detail`).
    pub detail: Detail,
    /// `--fail-on`: JUnit reports a warning as a failure when it makes the run fail.
    pub fail_on: FailOn,
}

impl RunHeader {
    /// The header of a report already complete in memory (`lint`, tests).
    pub fn of(report: &AuditReport) -> Self {
        Self {
            tool_version: report.tool_version.clone(),
            profile: report.profile,
            generated_at: report.generated_at,
            settings: report.settings.clone(),
            detail: Detail::Compact,
            fail_on: FailOn::default(),
        }
    }
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
    /// Domains of the `--baseline` that this run did not audit, in baseline order.
    pub baseline_absent: Vec<String>,
    /// How the network side of the run went (a `check` run; `None` for `lint` and tests).
    pub network: Option<NetworkNotes>,
}

/// How the network side of a run went: DNS retries and throttling, SMTP sessions shared. Counts
/// only; the run's edge (`app.rs`) fills them in from the probe's statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkNotes {
    /// DNS questions asked (cached answers included).
    pub dns_questions: u64,
    /// Questions asked more than once (after SERVFAIL, REFUSED or a lost answer).
    pub dns_retried: u64,
    /// Attempts the resolver answered SERVFAIL or REFUSED, or did not answer in time.
    pub dns_throttled: u64,
    /// Questions that failed even after their retries.
    pub dns_failed: u64,
    /// The DNS window (questions in flight): the smallest it became, and its limit
    /// (`--dns-concurrency`).
    pub dns_window_smallest: u64,
    pub dns_window_limit: u64,
    /// The resolver held the run back (it pushed back, or questions waited for a slot).
    pub resolver_bottleneck: bool,
    /// Set when the resolver never answered: the one sentence that explains every
    /// could-not-determine of the run.
    pub resolver_down: Option<String>,
    /// SMTP probes asked for, sessions actually run, and requests answered with another MX
    /// name's session at an SNI-invariant address.
    pub smtp_requests: u64,
    pub smtp_probes: u64,
    pub smtp_shared: u64,
}

impl RunSummary {
    /// Counts one judged domain.
    pub fn add(&mut self, report: &DomainReport) {
        self.domains += 1;
        *self.verdicts.entry(report.verdict()).or_default() += 1;
        // A check that failed for three MX hosts of one domain is still one failing domain.
        let failed: BTreeSet<CheckId> = report
            .findings
            .iter()
            .filter(|finding| finding.outcome == Outcome::Fail)
            .map(|finding| finding.check)
            .collect();
        for check in failed {
            *self.failing_checks.entry(check).or_default() += 1;
        }
    }

    /// How many domains got `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.verdicts.get(&verdict).copied().unwrap_or(0)
    }

    /// The worst domain verdict (pass for an empty run).
    pub fn worst(&self) -> Verdict {
        self.verdicts
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(verdict, _)| *verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    /// At most `limit` checks that failed for the most domains, most first; ties in catalog order.
    pub fn top_failing_checks(&self, limit: usize) -> Vec<(CheckId, usize)> {
        let mut checks: Vec<(CheckId, usize)> = self
            .failing_checks
            .iter()
            .map(|(check, count)| (*check, *count))
            .collect();
        // Stable sort over a map already in catalog order keeps ties in catalog order.
        checks.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        checks.truncate(limit);
        checks
    }
}

/// Where judged domains go, one at a time.
pub trait Sink: Send {
    /// Writes one domain (for `json`, keeps it) and flushes, so a reader of the output, or
    /// `--resume` after an interruption, sees every finished domain.
    fn domain(&mut self, report: &DomainReport) -> io::Result<()>;
    /// [`Sink::domain`] for a domain read from `source`, a line of a `--file` list. The formats
    /// CI tools read (SARIF, GitHub annotations) point the domain's findings at that line; the
    /// others ignore it.
    fn domain_from(
        &mut self,
        report: &DomainReport,
        source: Option<&InputLocation>,
    ) -> io::Result<()> {
        let _ = source;
        self.domain(report)
    }
    /// Writes what comes after the last domain (the human summary, the JSON document's end).
    /// Call it once, also when there were no domains.
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()>;
}

/// The sink for `format`, writing to `out`. Nothing is written before the first call.
pub fn sink<'a>(
    format: Format,
    style: Style,
    header: RunHeader,
    out: Box<dyn Write + Send + 'a>,
) -> Box<dyn Sink + 'a> {
    match format {
        Format::Human => Box::new(super::human::HumanSink::new(out, style, header)),
        Format::Json => Box::new(super::json::JsonSink::new(out, header)),
        Format::Jsonl => Box::new(super::jsonl::JsonlSink::new(
            out,
            header.profile,
            header.detail,
        )),
        Format::Csv => Box::new(super::csv::CsvSink::new(out)),
        Format::Sarif => Box::new(super::sarif::SarifSink::new(out, header)),
        Format::Junit => Box::new(super::junit::JunitSink::new(out, header)),
        Format::Github => Box::new(super::github::GithubSink::new(out)),
    }
}

/// Writes a complete `report` through the sink of `format`, as a streamed run would.
pub(super) fn render_through_sink(
    report: &AuditReport,
    format: Format,
    style: Style,
    detail: Detail,
    out: &mut dyn Write,
) -> io::Result<()> {
    // A sink owns a `Send` writer and `out` is neither; the report is in memory anyway.
    let mut buffer = Vec::new();
    {
        let header = RunHeader {
            detail,
            ..RunHeader::of(report)
        };
        let mut sink = sink(format, style, header, Box::new(&mut buffer));
        let mut summary = RunSummary::default();
        for domain in &report.domains {
            sink.domain(domain)?;
            summary.add(domain);
        }
        sink.finish(&summary)?;
    }
    out.write_all(&buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Facts, Finding, Subject};

    fn domain(name: &str, outcomes: &[(CheckId, Outcome)]) -> DomainReport {
        DomainReport {
            domain: name.to_owned(),
            facts: Facts::default(),
            findings: outcomes
                .iter()
                .map(|(check, outcome)| Finding {
                    check: *check,
                    subject: Subject::host("mx.example"),
                    outcome: outcome.clone(),
                    summary: String::new(),
                    evidence: Vec::new(),
                    ignored: None,
                })
                .collect(),
        }
    }

    fn undetermined() -> Outcome {
        Outcome::CouldNotDetermine {
            reason: "timeout".to_owned(),
        }
    }

    #[test]
    fn summary_counts_verdicts_and_failing_checks_once_per_domain() {
        let mut summary = RunSummary::default();
        let reports = [
            domain(
                "a.example",
                &[
                    (CheckId::MxCovered, Outcome::Fail),
                    (CheckId::MxCovered, Outcome::Fail),
                    (CheckId::TlsRptPresent, Outcome::Fail),
                ],
            ),
            domain("b.example", &[(CheckId::MxCovered, Outcome::Fail)]),
            domain("c.example", &[(CheckId::SmtpConnect, undetermined())]),
            domain("d.example", &[(CheckId::PolicyModeEnforce, Outcome::Warn)]),
            domain("e.example", &[(CheckId::StsRecordPresent, Outcome::Pass)]),
            domain("f.example", &[]),
        ];
        for report in &reports {
            summary.add(report);
        }
        assert_eq!(summary.domains, 6);
        assert_eq!(summary.count(Verdict::Fail), 2);
        assert_eq!(summary.count(Verdict::CouldNotDetermine), 1);
        assert_eq!(summary.count(Verdict::Warn), 1);
        assert_eq!(summary.count(Verdict::Pass), 2);
        assert_eq!(summary.worst(), Verdict::Fail);
        assert_eq!(summary.failing_checks[&CheckId::MxCovered], 2);
        assert_eq!(summary.failing_checks[&CheckId::TlsRptPresent], 1);
        // Warnings and undetermined checks are not failures.
        assert_eq!(summary.failing_checks.len(), 2);
    }

    #[test]
    fn top_failing_checks_most_first_ties_in_catalog_order() {
        let summary = RunSummary {
            failing_checks: BTreeMap::from([
                (CheckId::TlsRptPresent, 3),
                (CheckId::MxCovered, 3),
                (CheckId::StsRecordPresent, 1),
                (CheckId::SmtpConnect, 7),
            ]),
            ..RunSummary::default()
        };
        assert_eq!(
            summary.top_failing_checks(10),
            [
                (CheckId::SmtpConnect, 7),
                (CheckId::MxCovered, 3),
                (CheckId::TlsRptPresent, 3),
                (CheckId::StsRecordPresent, 1),
            ]
        );
        assert_eq!(summary.top_failing_checks(1), [(CheckId::SmtpConnect, 7)]);
    }

    #[test]
    fn empty_summary_is_a_pass() {
        let summary = RunSummary::default();
        assert_eq!(summary.worst(), Verdict::Pass);
        assert_eq!(summary.count(Verdict::Fail), 0);
        assert!(summary.top_failing_checks(10).is_empty());
    }
}
