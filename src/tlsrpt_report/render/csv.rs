//! `--format csv` for `mtasts reports`: a header row, then one row per policy domain with the
//! stable columns [`COLUMNS`] (appended to, never reordered). Quoting and formula
//! neutralisation are those of `mtasts check`'s CSV ([`crate::report::csv::row`]); text from
//! reports is escaped with [`crate::escape`]. Unreadable inputs have no row: the caller prints
//! them on standard error.

use std::borrow::Cow;
use std::io::{self, Write};

use super::super::summary::{DomainSummary, Summary};
use crate::escape::escape_str;
use crate::report::csv::row;

/// The columns, in order.
pub const COLUMNS: [&str; 14] = [
    "policy_domain",
    "first_day",
    "last_day",
    "days",
    "reports",
    "organizations",
    "successful_sessions",
    "failed_sessions",
    "failure_rate",
    "failures",
    "failed_mx_hosts",
    "tlsa_successful_sessions",
    "tlsa_failed_sessions",
    "modes",
];

pub(super) fn render(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(row(&COLUMNS.map(Cow::Borrowed)).as_bytes())?;
    for domain in &summary.domains {
        out.write_all(row(&cells(domain)).as_bytes())?;
    }
    Ok(())
}

fn cells(domain: &DomainSummary) -> [Cow<'static, str>; 14] {
    let totals = &domain.totals;
    let day = |day: Option<super::super::date::Day>| day.map(|d| d.to_string()).unwrap_or_default();
    let tlsa = domain
        .by_policy_type
        .get(&super::super::model::PolicyType::Tlsa);
    let mut failures: Vec<_> = totals.failures.iter().collect();
    failures.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    let mut mx: Vec<_> = totals.failures_by_mx.iter().collect();
    mx.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let list = |items: Vec<String>| Cow::Owned(items.join(" "));
    [
        Cow::Owned(escape_str(domain.policy_domain.as_deref().unwrap_or(""))),
        Cow::Owned(day(domain.first_day())),
        Cow::Owned(day(domain.last_day())),
        Cow::Owned(domain.distinct_days().to_string()),
        Cow::Owned(domain.reports.to_string()),
        Cow::Owned(
            domain
                .organizations()
                .map(escape_str)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Cow::Owned(totals.successful.to_string()),
        Cow::Owned(totals.failed.to_string()),
        Cow::Owned(
            totals
                .failure_rate()
                .map(|rate| format!("{rate:.6}"))
                .unwrap_or_default(),
        ),
        list(
            failures
                .iter()
                .map(|(result_type, failure)| {
                    format!(
                        "{}={}",
                        escape_str(result_type.as_str()).replace(' ', "\\x20"),
                        failure.count
                    )
                })
                .collect(),
        ),
        list(
            mx.iter()
                .map(|(host, count)| {
                    format!(
                        "{}={count}",
                        escape_str(host.as_deref().unwrap_or("(not-given)"))
                    )
                })
                .collect(),
        ),
        Cow::Owned(tlsa.map(|t| t.successful.to_string()).unwrap_or_default()),
        Cow::Owned(tlsa.map(|t| t.failed.to_string()).unwrap_or_default()),
        list(domain.modes.iter().map(|mode| escape_str(mode)).collect()),
    ]
}
