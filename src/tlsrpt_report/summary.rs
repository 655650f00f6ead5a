//! Pure aggregation of parsed reports: de-duplication, the day window, and per-policy-domain
//! totals, series and breakdowns. No clock: the window's first day is given
//! ([`Window::last_days`] takes "today").
//!
//! This is the API a later audit stage (`reports.*`, readiness for `mode: enforce`) reads: build
//! a [`Collector`] with [`Window::last_days`]`(today, 14)`, [`Collector::add`] every report,
//! [`Collector::finish`], then per [`DomainSummary`]: [`DomainSummary::distinct_days`],
//! [`DomainSummary::organizations`], [`Tally::failure_rate`], [`Tally::failures`] (per result
//! type, each with its per-MX split) and [`Tally::failures_by_mx`].
//!
//! Counting rules:
//!
//! - a report is the same report when its `organization-name` and `report-id` are; the first
//!   one read counts, later ones are listed as duplicates;
//! - a report covers the days from its start to the second before its end (an end at the next
//!   midnight, as most senders write it, does not add a day); a report overlapping the window
//!   counts whole, and only its days inside the window are covered;
//! - a domain's totals are its `sts` and `no-policy-found` policies; `tlsa` and unknown policy
//!   types are tallied beside them ([`DomainSummary::by_policy_type`]) and never added;
//! - failed sessions are the summary totals; the breakdowns come from `failure-details`, which
//!   need not add up to them ([`Tally::unattributed_failures`]);
//! - the per-day series puts a report on the first day it covers inside the window.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::date::Day;
use super::model::{NoteKind, PolicyResult, PolicyType, Report, ResultType};
use super::parse::Parsed;

/// Distinct `failure-reason-code` values kept per result type and domain; the rest are counted
/// under [`OTHER_REASONS`].
pub const MAX_REASONS: usize = 20;
/// The key under which reasons past [`MAX_REASONS`] are counted.
pub const OTHER_REASONS: &str = "(other reasons)";

/// Which reports count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// The first day counted; `None` counts every day.
    pub since: Option<Day>,
    /// Only this policy domain (lower case, no trailing dot); `None` for all.
    pub domain: Option<String>,
}

impl Window {
    /// The last `days` days up to and including `today` (`days` ≥ 1).
    pub fn last_days(today: Day, days: u32) -> Self {
        Self {
            since: Some(today.plus(1 - i64::from(days.max(1)))),
            domain: None,
        }
    }
}

/// Session counts and failure breakdowns of a set of policies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Policy entries tallied (one report may hold several).
    pub policies: u64,
    pub successful: u64,
    pub failed: u64,
    /// Failed sessions by result type, from `failure-details`.
    pub failures: BTreeMap<ResultType, FailureTally>,
    /// Failed sessions by `receiving-mx-hostname` (`None`: not given).
    pub failures_by_mx: BTreeMap<Option<String>, u64>,
    /// Failed sessions by the reporting organisation.
    pub failures_by_organization: BTreeMap<String, u64>,
}

/// The failures of one result type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailureTally {
    pub count: u64,
    /// By `receiving-mx-hostname` (`None`: not given).
    pub by_mx: BTreeMap<Option<String>, u64>,
    /// By `failure-reason-code`, at most [`MAX_REASONS`] distinct ones plus [`OTHER_REASONS`].
    pub reasons: BTreeMap<String, u64>,
}

impl Tally {
    /// All sessions (successful and failed).
    pub fn sessions(&self) -> u64 {
        self.successful.saturating_add(self.failed)
    }

    /// Failed sessions as a share of all sessions (0.0 to 1.0); `None` without sessions.
    pub fn failure_rate(&self) -> Option<f64> {
        let sessions = self.sessions();
        // Session counts stay far below 2^52, where f64 is exact.
        #[allow(clippy::cast_precision_loss)]
        (sessions > 0).then(|| self.failed as f64 / sessions as f64)
    }

    /// Failed sessions the details do not account for (the summary total minus the details).
    pub fn unattributed_failures(&self) -> u64 {
        let detailed = self
            .failures
            .values()
            .fold(0u64, |sum, failure| sum.saturating_add(failure.count));
        self.failed.saturating_sub(detailed)
    }

    fn add(&mut self, organization: &str, policy: &PolicyResult) {
        self.policies += 1;
        self.successful = self.successful.saturating_add(policy.successful_sessions);
        self.failed = self.failed.saturating_add(policy.failed_sessions);
        for detail in &policy.failure_details {
            let count = detail.failed_session_count;
            let failure = self.failures.entry(detail.result_type.clone()).or_default();
            failure.count = failure.count.saturating_add(count);
            bump(
                failure
                    .by_mx
                    .entry(detail.receiving_mx_hostname.clone())
                    .or_default(),
                count,
            );
            if let Some(reason) = &detail.failure_reason_code {
                let key = if failure.reasons.contains_key(reason)
                    || failure.reasons.len() < MAX_REASONS
                {
                    reason.clone()
                } else {
                    OTHER_REASONS.to_owned()
                };
                bump(failure.reasons.entry(key).or_default(), count);
            }
            bump(
                self.failures_by_mx
                    .entry(detail.receiving_mx_hostname.clone())
                    .or_default(),
                count,
            );
            bump(
                self.failures_by_organization
                    .entry(organization.to_owned())
                    .or_default(),
                count,
            );
        }
    }
}

fn bump(counter: &mut u64, by: u64) {
    *counter = counter.saturating_add(by);
}

/// Everything known about one policy domain within the window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainSummary {
    /// `None` for policies that named no domain.
    pub policy_domain: Option<String>,
    /// Reports that mention the domain.
    pub reports: u64,
    /// Distinct days covered inside the window.
    pub days: BTreeSet<Day>,
    /// Reporting organisations, with the number of reports from each.
    pub organizations: BTreeMap<String, u64>,
    /// The `sts` and `no-policy-found` policies: the domain's totals.
    pub totals: Tally,
    /// Every policy type, those in the totals included.
    pub by_policy_type: BTreeMap<PolicyType, Tally>,
    /// The totals day by day (only days with a report).
    pub daily: BTreeMap<Day, Tally>,
    /// `mode` values seen in the reported sts policy strings.
    pub modes: BTreeSet<String>,
    /// `mx-host` patterns seen in the reported sts policies.
    pub mx_patterns: BTreeSet<String>,
}

impl DomainSummary {
    pub fn first_day(&self) -> Option<Day> {
        self.days.first().copied()
    }

    pub fn last_day(&self) -> Option<Day> {
        self.days.last().copied()
    }

    pub fn distinct_days(&self) -> usize {
        self.days.len()
    }

    pub fn organizations(&self) -> impl Iterator<Item = &str> {
        self.organizations.keys().map(String::as_str)
    }
}

/// A report that was already counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    pub source: String,
    pub first_source: String,
    pub organization_name: String,
    pub report_id: String,
}

/// A file (or part of one) that should have held a report but could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub path: String,
    /// Where inside the file, then why: one sentence.
    pub reason: String,
}

/// One kind of leniency, with how often it was needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSummary {
    pub kind: NoteKind,
    /// Notes of this kind (a report may need several).
    pub count: u64,
    /// The first one: its source and detail.
    pub example_source: String,
    pub example_detail: String,
}

/// The result of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub window: Window,
    /// Input files read (set by the caller that walked them).
    pub files_read: usize,
    /// Reports parsed, duplicates and those outside the window included.
    pub reports_read: u64,
    /// Reports counted (unique, inside the window, and for `--domain` about that domain).
    pub reports_counted: u64,
    pub duplicates: Vec<Duplicate>,
    /// Unique reports that ended before the window.
    pub outside_window: u64,
    /// Unique reports inside the window with no policy for `--domain`.
    pub other_domains: u64,
    /// Sorted by policy domain; policies without one last.
    pub domains: Vec<DomainSummary>,
    /// In the order found.
    pub unreadable: Vec<Unreadable>,
    /// Sorted by kind.
    pub notes: Vec<NoteSummary>,
}

/// What [`Collector::add`] did with a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    Counted,
    /// Already counted, from this source.
    Duplicate(String),
    OutsideWindow,
    OtherDomain,
}

/// Builds a [`Summary`] one report at a time, keeping only the tallies and the de-duplication
/// keys.
#[derive(Debug, Default)]
pub struct Collector {
    window: Window,
    seen: HashMap<(String, String), String>,
    domains: BTreeMap<Option<String>, DomainSummary>,
    summary: Summary,
    notes: BTreeMap<NoteKind, NoteSummary>,
}

impl Collector {
    pub fn new(window: Window) -> Self {
        Self {
            window,
            ..Self::default()
        }
    }

    /// Counts one parsed report read from `source` (a path, with the place inside it).
    pub fn add(&mut self, source: &str, parsed: &Parsed) -> Added {
        let report = &parsed.report;
        self.summary.reports_read += 1;
        let key = (report.organization_name.clone(), report.report_id.clone());
        if let Some(first) = self.seen.get(&key) {
            self.summary.duplicates.push(Duplicate {
                source: source.to_owned(),
                first_source: first.clone(),
                organization_name: report.organization_name.clone(),
                report_id: report.report_id.clone(),
            });
            return Added::Duplicate(first.clone());
        }
        self.seen.insert(key, source.to_owned());

        let (first, last) = report_days(report);
        let since = self.window.since.unwrap_or(first);
        if last < since {
            self.summary.outside_window += 1;
            return Added::OutsideWindow;
        }
        let first = first.max(since);
        let wanted = |policy: &&PolicyResult| {
            self.window
                .domain
                .as_ref()
                .is_none_or(|domain| policy.policy_domain.as_ref() == Some(domain))
        };
        let policies: Vec<&PolicyResult> = report.policies.iter().filter(wanted).collect();
        if policies.is_empty() && self.window.domain.is_some() {
            self.summary.other_domains += 1;
            return Added::OtherDomain;
        }
        self.summary.reports_counted += 1;
        for note in &parsed.notes {
            let entry = self.notes.entry(note.kind).or_insert_with(|| NoteSummary {
                kind: note.kind,
                count: 0,
                example_source: source.to_owned(),
                example_detail: note.detail.clone(),
            });
            entry.count += 1;
        }

        let mut mentioned: BTreeSet<Option<String>> = BTreeSet::new();
        for policy in policies {
            let domain = self
                .domains
                .entry(policy.policy_domain.clone())
                .or_insert_with(|| DomainSummary {
                    policy_domain: policy.policy_domain.clone(),
                    ..DomainSummary::default()
                });
            if mentioned.insert(policy.policy_domain.clone()) {
                domain.reports += 1;
                *domain
                    .organizations
                    .entry(report.organization_name.clone())
                    .or_default() += 1;
                let mut day = first;
                while day <= last {
                    domain.days.insert(day);
                    day = day.plus(1);
                }
            }
            domain
                .by_policy_type
                .entry(policy.policy_type.clone())
                .or_default()
                .add(&report.organization_name, policy);
            if policy.policy_type.counts_toward_totals() {
                domain.totals.add(&report.organization_name, policy);
                domain
                    .daily
                    .entry(first)
                    .or_default()
                    .add(&report.organization_name, policy);
            }
            if policy.policy_type == PolicyType::Sts {
                domain.mx_patterns.extend(policy.mx_host.iter().cloned());
                domain
                    .modes
                    .extend(policy.policy_string.iter().filter_map(|line| {
                        let (key, value) = line.split_once(':')?;
                        (key.trim() == "mode").then(|| value.trim().to_owned())
                    }));
            }
        }
        Added::Counted
    }

    /// Records an input (or part of one) that could not be read.
    pub fn unreadable(&mut self, path: &str, reason: String) {
        self.summary.unreadable.push(Unreadable {
            path: path.to_owned(),
            reason,
        });
    }

    pub fn finish(self) -> Summary {
        let mut summary = self.summary;
        summary.window = self.window;
        // BTreeMap order puts `None` first; domains without a name go last.
        let (named, unnamed): (Vec<_>, Vec<_>) = self
            .domains
            .into_values()
            .partition(|domain| domain.policy_domain.is_some());
        summary.domains = named.into_iter().chain(unnamed).collect();
        summary.notes = self.notes.into_values().collect();
        summary
    }
}

/// The first and last day a report covers: from its start to the second before its end, so
/// that an end at the next midnight does not add a day.
pub fn report_days(report: &Report) -> (Day, Day) {
    let first = report.start.day();
    let last = if report.end.unix > report.start.unix {
        Day::of_unix(report.end.unix - 1)
    } else {
        first
    };
    (first, last.max(first))
}
