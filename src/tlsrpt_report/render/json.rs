//! `--format json` and `jsonl` for `mtasts reports` (docs/report-tlsrpt-json.md). Wire types
//! are kept apart from the summary types, so the contract changes only here.

use std::io::{self, Write};

use serde::Serialize;

use super::super::explain::explain;
use super::super::model::ResultType;
use super::super::summary::{DomainSummary, Summary, Tally};

/// The version of the shape below; bumped on any change to an existing field.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    window: WindowWire<'a>,
    files_read: usize,
    reports_read: u64,
    reports_counted: u64,
    duplicates: usize,
    outside_window: u64,
    other_domains: u64,
    domains: Vec<DomainWire<'a>>,
    duplicate_reports: Vec<DuplicateWire<'a>>,
    unreadable: Vec<UnreadableWire<'a>>,
    notes: Vec<NoteWire<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool {
    name: "mtasts",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
struct WindowWire<'a> {
    since: Option<String>,
    domain: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct DomainWire<'a> {
    policy_domain: Option<&'a str>,
    first_day: Option<String>,
    last_day: Option<String>,
    days: usize,
    reports: u64,
    organizations: Vec<&'a str>,
    reports_by_organization: Vec<OrganizationReports<'a>>,
    successful_sessions: u64,
    failed_sessions: u64,
    failure_rate: Option<f64>,
    unattributed_failures: u64,
    failures: Vec<FailureWire<'a>>,
    failures_by_mx: Vec<MxCount<'a>>,
    failures_by_organization: Vec<OrganizationCount<'a>>,
    policy_types: Vec<PolicyTypeWire<'a>>,
    daily: Vec<DayWire<'a>>,
    modes: Vec<&'a str>,
    mx_patterns: Vec<&'a str>,
}

#[derive(Serialize)]
struct OrganizationReports<'a> {
    organization: &'a str,
    reports: u64,
}

#[derive(Serialize)]
struct FailureWire<'a> {
    result_type: &'a str,
    count: u64,
    registered: bool,
    meaning: &'static str,
    checks: Vec<&'static str>,
    fix: Option<&'static str>,
    by_mx: Vec<MxCount<'a>>,
    reasons: Vec<ReasonCount<'a>>,
}

#[derive(Serialize)]
struct MxCount<'a> {
    mx_host: Option<&'a str>,
    count: u64,
}

#[derive(Serialize)]
struct OrganizationCount<'a> {
    organization: &'a str,
    count: u64,
}

#[derive(Serialize)]
struct ReasonCount<'a> {
    reason: &'a str,
    count: u64,
}

#[derive(Serialize)]
struct PolicyTypeWire<'a> {
    policy_type: &'a str,
    in_totals: bool,
    policies: u64,
    successful_sessions: u64,
    failed_sessions: u64,
}

#[derive(Serialize)]
struct DayWire<'a> {
    day: String,
    policies: u64,
    successful_sessions: u64,
    failed_sessions: u64,
    failures: Vec<ResultCount<'a>>,
}

#[derive(Serialize)]
struct ResultCount<'a> {
    result_type: &'a str,
    count: u64,
}

#[derive(Serialize)]
struct DuplicateWire<'a> {
    source: &'a str,
    first_source: &'a str,
    organization_name: &'a str,
    report_id: &'a str,
}

#[derive(Serialize)]
pub(super) struct UnreadableWire<'a> {
    path: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct NoteWire<'a> {
    code: &'static str,
    description: &'static str,
    count: u64,
    example_source: &'a str,
    example_detail: &'a str,
}

/// Counts sorted by count, largest first, then by key.
fn by_count<K: Ord + Clone>(map: impl IntoIterator<Item = (K, u64)>) -> Vec<(K, u64)> {
    let mut list: Vec<(K, u64)> = map.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}

fn mx_counts(map: &std::collections::BTreeMap<Option<String>, u64>) -> Vec<MxCount<'_>> {
    by_count(map.iter().map(|(mx, count)| (mx.as_deref(), *count)))
        .into_iter()
        .map(|(mx_host, count)| MxCount { mx_host, count })
        .collect()
}

fn failures(tally: &Tally) -> Vec<FailureWire<'_>> {
    let mut list: Vec<(&ResultType, _)> = tally.failures.iter().collect();
    list.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    list.into_iter()
        .map(|(result_type, failure)| {
            let explanation = explain(result_type);
            FailureWire {
                result_type: result_type.as_str(),
                count: failure.count,
                registered: result_type.is_registered(),
                meaning: explanation.meaning,
                checks: explanation.checks.iter().map(|c| c.as_str()).collect(),
                fix: explanation.fix(),
                by_mx: mx_counts(&failure.by_mx),
                reasons: by_count(failure.reasons.iter().map(|(r, c)| (r.as_str(), *c)))
                    .into_iter()
                    .map(|(reason, count)| ReasonCount { reason, count })
                    .collect(),
            }
        })
        .collect()
}

pub(super) fn domain_wire(domain: &DomainSummary) -> DomainWire<'_> {
    let totals = &domain.totals;
    DomainWire {
        policy_domain: domain.policy_domain.as_deref(),
        first_day: domain.first_day().map(|day| day.to_string()),
        last_day: domain.last_day().map(|day| day.to_string()),
        days: domain.distinct_days(),
        reports: domain.reports,
        organizations: domain.organizations().collect(),
        reports_by_organization: domain
            .organizations
            .iter()
            .map(|(organization, reports)| OrganizationReports {
                organization,
                reports: *reports,
            })
            .collect(),
        successful_sessions: totals.successful,
        failed_sessions: totals.failed,
        failure_rate: totals.failure_rate(),
        unattributed_failures: totals.unattributed_failures(),
        failures: failures(totals),
        failures_by_mx: mx_counts(&totals.failures_by_mx),
        failures_by_organization: by_count(
            totals
                .failures_by_organization
                .iter()
                .map(|(o, c)| (o.as_str(), *c)),
        )
        .into_iter()
        .map(|(organization, count)| OrganizationCount {
            organization,
            count,
        })
        .collect(),
        policy_types: domain
            .by_policy_type
            .iter()
            .map(|(policy_type, tally)| PolicyTypeWire {
                policy_type: policy_type.as_str(),
                in_totals: policy_type.counts_toward_totals(),
                policies: tally.policies,
                successful_sessions: tally.successful,
                failed_sessions: tally.failed,
            })
            .collect(),
        daily: domain
            .daily
            .iter()
            .map(|(day, tally)| DayWire {
                day: day.to_string(),
                policies: tally.policies,
                successful_sessions: tally.successful,
                failed_sessions: tally.failed,
                failures: tally
                    .failures
                    .iter()
                    .map(|(result_type, failure)| ResultCount {
                        result_type: result_type.as_str(),
                        count: failure.count,
                    })
                    .collect(),
            })
            .collect(),
        modes: domain.modes.iter().map(String::as_str).collect(),
        mx_patterns: domain.mx_patterns.iter().map(String::as_str).collect(),
    }
}

fn document(summary: &Summary) -> Document<'_> {
    Document {
        schema_version: SCHEMA_VERSION,
        tool: TOOL,
        window: WindowWire {
            since: summary.window.since.map(|day| day.to_string()),
            domain: summary.window.domain.as_deref(),
        },
        files_read: summary.files_read,
        reports_read: summary.reports_read,
        reports_counted: summary.reports_counted,
        duplicates: summary.duplicates.len(),
        outside_window: summary.outside_window,
        other_domains: summary.other_domains,
        domains: summary.domains.iter().map(domain_wire).collect(),
        duplicate_reports: summary
            .duplicates
            .iter()
            .map(|duplicate| DuplicateWire {
                source: &duplicate.source,
                first_source: &duplicate.first_source,
                organization_name: &duplicate.organization_name,
                report_id: &duplicate.report_id,
            })
            .collect(),
        unreadable: summary
            .unreadable
            .iter()
            .map(|unreadable| UnreadableWire {
                path: &unreadable.path,
                reason: &unreadable.reason,
            })
            .collect(),
        notes: summary
            .notes
            .iter()
            .map(|note| NoteWire {
                code: note.kind.code(),
                description: note.kind.describe(),
                count: note.count,
                example_source: &note.example_source,
                example_detail: &note.example_detail,
            })
            .collect(),
    }
}

/// One JSON document, pretty-printed, and a newline.
pub(super) fn render(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(summary))?;
    out.write_all(b"\n")
}

/// A line of `--format jsonl`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Line<'a> {
    Domain(Box<DomainWire<'a>>),
    Unreadable(UnreadableWire<'a>),
}

/// One line per domain (`"kind": "domain"`, then the fields of a `domains` element), then one per
/// unreadable input (`"kind": "unreadable"`).
pub(super) fn render_lines(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let domains = summary
        .domains
        .iter()
        .map(|d| Line::Domain(Box::new(domain_wire(d))));
    let unreadable = summary.unreadable.iter().map(|u| {
        Line::Unreadable(UnreadableWire {
            path: &u.path,
            reason: &u.reason,
        })
    });
    for line in domains.chain(unreadable) {
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
