//! `--format human` for `mtasts reports`: one block per policy domain (days covered, reporters,
//! sessions, failures by result type with the check that finds the same fault, by MX, by
//! sender, and a per-day table with a bar of failed sessions), then what could not be read and
//! what was read leniently. Every string from a report or a file name is escaped with
//! [`crate::escape`].

use std::fmt::Write as _;
use std::io::{self, Write};

use super::super::explain::explain;
use super::super::model::PolicyType;
use super::super::summary::{DomainSummary, Summary, Tally};
use crate::escape::escape_str;

/// The widest per-day bar, in characters.
const BAR_WIDTH: u64 = 24;
/// The most days the per-day table shows (the latest ones).
const MAX_DAYS_SHOWN: i64 = 62;
/// The most rows in a breakdown (by MX, by organisation).
const MAX_ROWS: usize = 10;

pub(super) fn render(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let mut text = String::new();
    header(summary, &mut text);
    for domain in &summary.domains {
        text.push('\n');
        domain_block(domain, &mut text);
    }
    if summary.domains.is_empty() {
        text.push_str("\nNo report counted.\n");
    }
    if !summary.unreadable.is_empty() {
        let _ = writeln!(text, "\nUnreadable ({}):", summary.unreadable.len());
        for unreadable in &summary.unreadable {
            let _ = writeln!(
                text,
                "  {}: {}",
                escape_str(&unreadable.path),
                escape_str(&unreadable.reason)
            );
        }
    }
    if !summary.notes.is_empty() {
        text.push_str("\nRead leniently (what the reports did that RFC 8460 does not allow):\n");
        for note in &summary.notes {
            let _ = writeln!(
                text,
                "  {:>6}x {}: {}\n          e.g. {}: {}",
                thousands(note.count),
                note.kind.code(),
                note.kind.describe(),
                escape_str(&note.example_source),
                escape_str(&note.example_detail)
            );
        }
    }
    out.write_all(text.as_bytes())
}

fn header(summary: &Summary, text: &mut String) {
    let _ = write!(
        text,
        "TLS-RPT reports: {} counted, from {} read in {} {}",
        thousands(summary.reports_counted),
        thousands(summary.reports_read),
        thousands(summary.files_read as u64),
        if summary.files_read == 1 {
            "file"
        } else {
            "files"
        }
    );
    let mut extra = Vec::new();
    if !summary.duplicates.is_empty() {
        extra.push(format!(
            "{} duplicates",
            thousands(summary.duplicates.len() as u64)
        ));
    }
    if summary.outside_window > 0 {
        extra.push(format!(
            "{} before the window",
            thousands(summary.outside_window)
        ));
    }
    if summary.other_domains > 0 {
        extra.push(format!(
            "{} for other domains",
            thousands(summary.other_domains)
        ));
    }
    if !summary.unreadable.is_empty() {
        extra.push(format!(
            "{} unreadable",
            thousands(summary.unreadable.len() as u64)
        ));
    }
    if !extra.is_empty() {
        let _ = write!(text, " ({})", extra.join(", "));
    }
    text.push('\n');
    if let Some(since) = summary.window.since {
        let _ = writeln!(text, "Window: from {since}");
    }
}

fn domain_block(domain: &DomainSummary, text: &mut String) {
    let name = domain
        .policy_domain
        .as_deref()
        .map_or_else(|| "(policy domain not given)".to_owned(), escape_str);
    let _ = writeln!(text, "{name}");
    if let (Some(first), Some(last)) = (domain.first_day(), domain.last_day()) {
        let _ = writeln!(
            text,
            "  covered      {first} to {last}: {} distinct {}, {} {}",
            domain.distinct_days(),
            if domain.distinct_days() == 1 {
                "day"
            } else {
                "days"
            },
            thousands(domain.reports),
            if domain.reports == 1 {
                "report"
            } else {
                "reports"
            }
        );
    }
    let reporters: Vec<String> = domain
        .organizations
        .iter()
        .map(|(org, reports)| format!("{} ({reports})", escape_str(org)))
        .collect();
    let _ = writeln!(text, "  reporters    {}", reporters.join(", "));
    let totals = &domain.totals;
    let _ = writeln!(
        text,
        "  sessions     {} successful, {} failed{} (sts and no-policy-found policies)",
        thousands(totals.successful),
        thousands(totals.failed),
        rate(totals)
    );
    for (policy_type, tally) in &domain.by_policy_type {
        if policy_type.counts_toward_totals() {
            continue;
        }
        let why = match policy_type {
            PolicyType::Tlsa => "not added: the same sessions, checked for DANE",
            _ => "not added: a policy type outside RFC 8460",
        };
        let _ = writeln!(
            text,
            "  beside       {}: {} successful, {} failed ({why})",
            escape_str(policy_type.as_str()),
            thousands(tally.successful),
            thousands(tally.failed)
        );
    }
    if !domain.modes.is_empty() || !domain.mx_patterns.is_empty() {
        let modes: Vec<String> = domain.modes.iter().map(|m| escape_str(m)).collect();
        let mx: Vec<String> = domain.mx_patterns.iter().map(|m| escape_str(m)).collect();
        let _ = writeln!(
            text,
            "  policy       mode {}; mx {}",
            if modes.is_empty() {
                "?".to_owned()
            } else {
                modes.join(", ")
            },
            if mx.is_empty() {
                "?".to_owned()
            } else {
                mx.join(", ")
            }
        );
    }
    failures(totals, text);
    daily(domain, text);
}

fn failures(totals: &Tally, text: &mut String) {
    if totals.failures.is_empty() && totals.failed == 0 {
        return;
    }
    text.push_str("  failures by result type:\n");
    let mut list: Vec<_> = totals.failures.iter().collect();
    list.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    for (result_type, failure) in list {
        let explanation = explain(result_type);
        let _ = writeln!(
            text,
            "    {:>9}  {}  {}",
            thousands(failure.count),
            escape_str(result_type.as_str()),
            explanation.meaning
        );
        if let (Some(check), Some(fix)) = (explanation.checks.first(), explanation.fix()) {
            let _ = writeln!(text, "               check {check}: {fix}");
            if explanation.checks.len() > 1 {
                let others: Vec<&str> =
                    explanation.checks[1..].iter().map(|c| c.as_str()).collect();
                let _ = writeln!(text, "               see also {}", others.join(", "));
            }
        }
        if !failure.reasons.is_empty() {
            let mut reasons: Vec<_> = failure.reasons.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let shown: Vec<String> = reasons
                .iter()
                .take(3)
                .map(|(reason, count)| format!("{} ({count})", escape_str(reason)))
                .collect();
            let more = if reasons.len() > 3 {
                format!(", and {} more", reasons.len() - 3)
            } else {
                String::new()
            };
            let _ = writeln!(text, "               reasons: {}{more}", shown.join(", "));
        }
    }
    let unattributed = totals.unattributed_failures();
    if unattributed > 0 {
        let _ = writeln!(
            text,
            "    {:>9}  (without failure details: the summary total is larger than the details)",
            thousands(unattributed)
        );
    }
    breakdown(
        "failures by receiving MX",
        totals
            .failures_by_mx
            .iter()
            .map(|(mx, count)| {
                (
                    mx.as_deref()
                        .map_or_else(|| "(not given)".to_owned(), escape_str),
                    *count,
                )
            })
            .collect(),
        text,
    );
    breakdown(
        "failures by sending organisation",
        totals
            .failures_by_organization
            .iter()
            .map(|(org, count)| (escape_str(org), *count))
            .collect(),
        text,
    );
}

fn breakdown(title: &str, mut rows: Vec<(String, u64)>, text: &mut String) {
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let _ = writeln!(text, "  {title}:");
    for (name, count) in rows.iter().take(MAX_ROWS) {
        let _ = writeln!(text, "    {:>9}  {name}", thousands(*count));
    }
    if rows.len() > MAX_ROWS {
        let _ = writeln!(text, "               and {} more", rows.len() - MAX_ROWS);
    }
}

fn daily(domain: &DomainSummary, text: &mut String) {
    let (Some(first), Some(last)) = (domain.first_day(), domain.last_day()) else {
        return;
    };
    let start = if last.0 - first.0 >= MAX_DAYS_SHOWN {
        let start = last.plus(1 - MAX_DAYS_SHOWN);
        let _ = writeln!(
            text,
            "  per day (the last {MAX_DAYS_SHOWN}; all of them in --format json):"
        );
        start
    } else {
        text.push_str("  per day:\n");
        first
    };
    let most_failed = domain.daily.values().map(|t| t.failed).max().unwrap_or(0);
    let _ = writeln!(
        text,
        "    {:<10}  {:>11}  {:>9}  failed sessions",
        "day", "successful", "failed"
    );
    let mut day = start;
    while day <= last {
        if let Some(tally) = domain.daily.get(&day) {
            let _ = writeln!(
                text,
                "    {day}  {:>11}  {:>9}  |{}",
                thousands(tally.successful),
                thousands(tally.failed),
                bar(tally.failed, most_failed)
            );
            day = day.plus(1);
            continue;
        }
        // A run of days without a report of their own is one line.
        let covered = domain.days.contains(&day);
        let mut end = day;
        while end.plus(1) <= last
            && !domain.daily.contains_key(&end.plus(1))
            && domain.days.contains(&end.plus(1)) == covered
        {
            end = end.plus(1);
        }
        let what = if covered {
            "covered by a report of an earlier day"
        } else {
            "no report"
        };
        let days = end.0 - day.0 + 1;
        if days == 1 {
            let _ = writeln!(text, "    {day}  {:>11}  {:>9}  ({what})", "-", "-");
        } else {
            let _ = writeln!(
                text,
                "    {day}  {:>11}  {:>9}  ({what} for {days} days, to {end})",
                "-", "-"
            );
        }
        day = end.plus(1);
    }
}

/// `#` for failed sessions, scaled to the day with most; at least one `#` for any failure.
fn bar(failed: u64, most: u64) -> String {
    if failed == 0 || most == 0 {
        return String::new();
    }
    let width = (u128::from(failed) * u128::from(BAR_WIDTH)).div_ceil(u128::from(most));
    "#".repeat(usize::try_from(width.clamp(1, u128::from(BAR_WIDTH))).unwrap_or(1))
}

fn rate(tally: &Tally) -> String {
    match tally.failure_rate() {
        Some(rate) if tally.failed > 0 => format!(" ({:.2}% failed)", rate * 100.0),
        _ => String::new(),
    }
}

/// `12,345`.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_and_show_any_failure() {
        assert_eq!(bar(0, 10), "");
        assert_eq!(bar(10, 10).len(), 24);
        assert_eq!(bar(1, 1_000_000), "#");
        assert_eq!(bar(5, 10).len(), 12);
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
