//! The human report. By default it shows the problems first and only the problems: per domain the
//! verdict line and the facts, then every finding that failed, warned, could not be determined
//! or is `info`, in the order a person should fix them (failures first, and among them the ones
//! that kept other checks from running), each with its evidence, fix and rule; then one line
//! per stage counting what passed and what was skipped. `--verbose` shows the whole checklist
//! instead, grouped by stage in the order of [`Stage::ALL`], passes included.
//!
//! Each domain is written as it finishes; a run of several domains ends with a summary built
//! from the [`RunSummary`] counts (plus a line per domain for short runs), so nothing grows with
//! the length of the list. Evidence is bounded per finding ([`MAX_EVIDENCE_LINES`],
//! [`MAX_EVIDENCE_CHARS`]), saying what was left out, so a pathological policy stays readable.
//!
//! Colour is decided once by the caller ([`Style`]). Evidence was escaped when it was captured;
//! this renderer still escapes any control or bidi character left, so nothing a remote server
//! sent can move the cursor or recolour the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::stream::{NetworkNotes, RunHeader, RunSummary, Sink};
use super::{status_tag, Style, UNDETERMINED_TAG};
use crate::catalog::Stage;
use crate::model::{Blocker, DomainReport, Facts, Finding, Outcome, RunFlag, Subject, Verdict};

/// Runs of at most this many domains end with a line per domain; longer runs only with counts,
/// so the summary never needs more than this many lines kept in memory.
pub const PER_DOMAIN_SUMMARY_MAX: usize = 50;

/// How many of the most common failing checks the summary lists.
pub const TOP_FAILING_CHECKS: usize = 10;

/// Evidence lines shown under one finding; the rest are counted ("… and 9,990 more").
pub const MAX_EVIDENCE_LINES: usize = 8;

/// Characters of one evidence value shown; the rest are counted.
pub const MAX_EVIDENCE_CHARS: usize = 300;

/// Writes the run header before the first domain, each domain's checklist as it comes, and for
/// more than one domain a summary at the end.
pub(super) struct HumanSink<'a> {
    out: Box<dyn Write + Send + 'a>,
    paint: Paint,
    verbose: bool,
    header: RunHeader,
    header_written: bool,
    /// One summary line per domain while there are at most [`PER_DOMAIN_SUMMARY_MAX`]; `None`
    /// once there are more.
    lines: Option<Vec<DomainLine>>,
}

/// What the summary says about one domain.
struct DomainLine {
    verdict: Verdict,
    domain: String,
    counts: String,
}

impl<'a> HumanSink<'a> {
    pub(super) fn new(out: Box<dyn Write + Send + 'a>, style: Style, header: RunHeader) -> Self {
        Self {
            out,
            paint: Paint {
                colour: style.colour,
            },
            verbose: style.verbose,
            header,
            header_written: false,
            lines: Some(Vec::new()),
        }
    }

    fn write_header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.header_written = true;
            render_run_header(&self.header, self.paint, &mut self.out)?;
        }
        Ok(())
    }
}

impl Sink for HumanSink<'_> {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        self.write_header()?;
        // The block is built whole, then written at once, so output stays in whole domains.
        let mut block = Vec::new();
        writeln!(block)?;
        if self.verbose {
            render_checklist(report, self.paint, &mut block)?;
        } else {
            render_problems_first(report, self.paint, &mut block)?;
        }
        self.out.write_all(&block)?;
        self.out.flush()?;

        if let Some(lines) = &mut self.lines {
            if lines.len() < PER_DOMAIN_SUMMARY_MAX {
                lines.push(DomainLine {
                    verdict: report.verdict(),
                    domain: clean(&report.domain).into_owned(),
                    counts: counts_phrase(report, false),
                });
            } else {
                self.lines = None;
            }
        }
        Ok(())
    }

    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        self.write_header()?;
        let not_audited = summary.input_errors + summary.resumed + summary.other_shards;
        // One domain on its own reads as it always has: the checklist and its verdict line.
        if summary.domains != 1 || not_audited > 0 || !summary.baseline_absent.is_empty() {
            writeln!(self.out)?;
            render_summary(summary, self.lines.as_deref(), self.paint, &mut self.out)?;
            if let Some(network) = &summary.network {
                render_network(network, &mut self.out)?;
            }
        } else if let Some(reason) = summary
            .network
            .as_ref()
            .and_then(|n| n.resolver_down.as_ref())
        {
            writeln!(self.out, "\n{}", clean(reason))?;
        }
        self.out.flush()
    }
}

fn render_run_header(header: &RunHeader, paint: Paint, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} · profile {} · {}",
        paint.bold(&format!("mtasts {}", clean(&header.tool_version))),
        header.profile.as_str(),
        utc_timestamp(header.generated_at)
    )?;
    for (key, value) in &header.settings {
        writeln!(out, "  {}", clean(&describe_setting(key, value)))?;
    }
    Ok(())
}

/// A setting as a phrase that says what it changes.
fn describe_setting(key: &str, value: &str) -> String {
    match key {
        "config" => format!("settings and ignores from {value}"),
        "ca-file" => format!("extra trust anchors from --ca-file {value}"),
        "resolver" => format!("DNS questions go to --resolver {value}"),
        "no-smtp" => "STARTTLS probes skipped (--no-smtp)".to_owned(),
        "allow-private" => {
            "loopback, private and other non-public addresses contacted (--allow-private)"
                .to_owned()
        }
        "timeout" => format!("network step timeout {value} s (--timeout)"),
        "ehlo-name" => format!("EHLO name {value} (--ehlo-name)"),
        "https-port" => format!("policy fetched from port {value} (lab setting)"),
        "smtp-port" => format!("MX hosts probed on port {value} (lab setting)"),
        "baseline" => format!("compared with the earlier run in --baseline {value}"),
        "expiry-warn" => {
            format!("certificates with fewer than {value} days left warn (--expiry-warn)")
        }
        "replay" => format!("judged again from the evidence saved in {value}, without the network"),
        "evidence-from" => format!("evidence saved by {value}"),
        _ if value.is_empty() => format!("--{key}"),
        _ => format!("--{key} {value}"),
    }
}

/// The default view: verdict, facts, the problems in the order to fix them, one line per stage.
fn render_problems_first(
    domain: &DomainReport,
    paint: Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let verdict = domain.verdict();
    writeln!(
        out,
        "{}: {} ({})",
        paint.bold(&clean(&domain.domain)),
        paint.verdict(verdict),
        counts_phrase(domain, false)
    )?;
    for line in fact_lines(&domain.facts) {
        writeln!(out, "  {}", clean(&line))?;
    }
    render_since(domain, paint, out)?;
    let problems = problems_in_fixing_order(domain);
    if !problems.is_empty() {
        writeln!(out)?;
        for finding in problems {
            render_finding(finding, &domain.domain, paint, out)?;
        }
    }
    let stages: Vec<String> = Stage::ALL
        .into_iter()
        .filter_map(|stage| stage_line(domain, stage))
        .collect();
    if !stages.is_empty() {
        writeln!(out)?;
        for line in stages {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

/// The findings a person has to read, in the order to fix them: failures, then warnings, then
/// what could not be determined, then information; within each, a finding that kept more
/// checks from running comes first (fixing it may change what they say), then catalog order.
fn problems_in_fixing_order(domain: &DomainReport) -> Vec<&Finding> {
    let rank = |outcome: &Outcome| match outcome {
        Outcome::Fail => 0,
        Outcome::Warn => 1,
        Outcome::CouldNotDetermine { .. } => 2,
        Outcome::Info => 3,
        Outcome::Pass | Outcome::Skipped { .. } => 4,
    };
    let blocked = |finding: &Finding| {
        domain
            .findings
            .iter()
            .filter(|other| {
                other.outcome
                    == (Outcome::Skipped {
                        blocked_by: Blocker::Check(finding.check),
                    })
                    && (finding.subject == Subject::Domain || other.subject == finding.subject)
            })
            .count()
    };
    let mut problems: Vec<(usize, usize, &Finding)> = domain
        .findings
        .iter()
        .filter(|finding| rank(&finding.outcome) < 4)
        .map(|finding| (rank(&finding.outcome), blocked(finding), finding))
        .collect();
    // Stable: catalog order within equal rank and reach.
    problems.sort_by_key(|(rank, blocked, _)| (*rank, std::cmp::Reverse(*blocked)));
    problems
        .into_iter()
        .map(|(_, _, finding)| finding)
        .collect()
}

/// "Policy file: 24 passed, 1 failed": what one stage's checks came to, or `None` for a stage
/// with no findings, or one that was not run because the run did not ask for it (no
/// `--baseline`).
fn stage_line(domain: &DomainReport, stage: Stage) -> Option<String> {
    let findings = stage_findings(domain, stage)?;
    let count = |wanted: fn(&Outcome) -> bool| {
        findings
            .iter()
            .filter(|finding| wanted(&finding.outcome))
            .count()
    };
    let mut parts = Vec::new();
    for (number, word) in [
        (count(|o| *o == Outcome::Pass), "passed"),
        (count(|o| *o == Outcome::Fail), "failed"),
        (count(|o| *o == Outcome::Warn), "warned"),
        (
            count(|o| matches!(o, Outcome::CouldNotDetermine { .. })),
            "could not be determined",
        ),
        (count(|o| *o == Outcome::Info), "info"),
    ] {
        if number > 0 {
            parts.push(format!("{number} {word}"));
        }
    }
    let mut blockers: Vec<&'static str> = Vec::new();
    for finding in &findings {
        if let Outcome::Skipped { blocked_by } = finding.outcome {
            if !blockers.contains(&blocked_by.as_str()) {
                blockers.push(blocked_by.as_str());
            }
        }
    }
    let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
    if skipped > 0 {
        parts.push(format!("{skipped} skipped (needs {})", blockers.join(", ")));
    }
    Some(format!("{}: {}", stage.title(), parts.join(", ")))
}

/// `--verbose`: every check, grouped by stage, passes and skips included.
fn render_checklist(domain: &DomainReport, paint: Paint, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        paint.bold(&format!("== {} ==", clean(&domain.domain)))
    )?;
    for line in fact_lines(&domain.facts) {
        writeln!(out, "  {}", clean(&line))?;
    }
    render_since(domain, paint, out)?;
    for stage in Stage::ALL {
        let Some(findings) = stage_findings(domain, stage) else {
            continue;
        };
        writeln!(out)?;
        writeln!(out, "{}", paint.bold(stage.title()))?;
        for finding in findings {
            render_finding(finding, &domain.domain, paint, out)?;
        }
    }
    writeln!(out)?;
    let verdict = domain.verdict();
    writeln!(
        out,
        "{}: {} ({})",
        clean(&domain.domain),
        paint.verdict(verdict),
        counts_phrase(domain, true)
    )
}

/// The findings of one stage, or `None` when it has none to show: no findings, or the changes
/// stage of a run without `--baseline` (it compared nothing: it would be a column of skips).
fn stage_findings(domain: &DomainReport, stage: Stage) -> Option<Vec<&Finding>> {
    let findings: Vec<&Finding> = domain
        .findings
        .iter()
        .filter(|finding| finding.check.spec().stage == stage)
        .collect();
    let compared_nothing =
        stage == Stage::Changes && findings.iter().all(|finding| no_baseline(finding));
    (!findings.is_empty() && !compared_nothing).then_some(findings)
}

fn no_baseline(finding: &Finding) -> bool {
    finding.outcome
        == (Outcome::Skipped {
            blocked_by: Blocker::Flag(RunFlag::NoBaseline),
        })
}

/// "Since TIME" (the baseline's time): the changes first, one line each, when anything changed; the
/// stage itself, with evidence and fixes, follows in its place.
fn render_since(domain: &DomainReport, paint: Paint, out: &mut dyn Write) -> io::Result<()> {
    let changed: Vec<&Finding> = domain
        .findings
        .iter()
        .filter(|finding| {
            finding.check.spec().stage == Stage::Changes
                && !matches!(finding.outcome, Outcome::Pass | Outcome::Skipped { .. })
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let since = domain
        .facts
        .baseline_at
        .map_or_else(|| "the baseline".to_owned(), utc_timestamp);
    writeln!(out)?;
    writeln!(out, "{}", paint.bold(&format!("Since {since}")))?;
    for finding in changed {
        let mut line = format!(
            "  {}  {}",
            paint.outcome(&finding.outcome),
            clean(&finding.summary)
        );
        if let Some(subject) = describe_subject(&finding.subject, &domain.domain) {
            let _ = write!(line, " — {}", clean(&subject));
        }
        let _ = write!(
            line,
            "  {}",
            paint.dim(&format!("[{}]", finding.check.as_str()))
        );
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn fact_lines(facts: &Facts) -> Vec<String> {
    let mut lines = Vec::new();
    let mut policy = Vec::new();
    if let Some(mode) = &facts.mode {
        policy.push(format!("mode {mode}"));
    }
    if let Some(id) = &facts.sts_id {
        policy.push(format!("id {id}"));
    }
    if let Some(max_age) = facts.max_age {
        policy.push(format!("max_age {}", describe_seconds(max_age)));
    }
    if !policy.is_empty() {
        lines.push(format!("policy: {}", policy.join(", ")));
    }
    // The MX hosts and the policy's patterns side by side: they are read against each other.
    let mx = [("MX", &facts.mx_hosts), ("policy mx", &facts.policy_mx)]
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(label, values)| format!("{label}: {}", values.join(", ")))
        .collect::<Vec<_>>();
    if !mx.is_empty() {
        lines.push(mx.join(" · "));
    }
    if !facts.tlsrpt_rua.is_empty() {
        lines.push(format!("TLS-RPT rua: {}", facts.tlsrpt_rua.join(", ")));
    }
    lines
}

fn describe_seconds(seconds: u64) -> String {
    const DAY: u64 = 86_400;
    match seconds {
        0 => "0".to_owned(),
        s if s % DAY == 0 => format!("{s} ({} days)", s / DAY),
        s if s % 3600 == 0 => format!("{s} ({} hours)", s / 3600),
        s => s.to_string(),
    }
}

fn render_finding(
    finding: &Finding,
    domain: &str,
    paint: Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let spec = finding.check.spec();
    let mut line = format!("  {}  ", paint.outcome(&finding.outcome));
    let text = if finding.summary.is_empty() {
        spec.title
    } else {
        finding.summary.as_str()
    };
    line.push_str(&clean(text));
    if let Some(subject) = describe_subject(&finding.subject, domain) {
        let _ = write!(line, " — {}", clean(&subject));
    }
    let _ = write!(line, "  {}", paint.dim(&format!("[{}]", spec.id.as_str())));
    writeln!(out, "{line}")?;

    // A skipped check says what blocked it in its summary; its fix would be noise.
    if matches!(finding.outcome, Outcome::Pass | Outcome::Skipped { .. }) {
        return Ok(());
    }
    const INDENT: &str = "        ";
    // Accepted as known: said first, so the evidence below reads as what was accepted.
    if let Some(ignored) = &finding.ignored {
        let until = ignored
            .until
            .as_ref()
            .map(|day| format!(" (until {day})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{INDENT}{}",
            paint.dim(&format!("ignored: {}{}", clean(&ignored.reason), until))
        )?;
    }
    for evidence in finding.evidence.iter().take(MAX_EVIDENCE_LINES) {
        writeln!(
            out,
            "{INDENT}{}: {}",
            clean(&evidence.label),
            bounded(&clean(&evidence.value))
        )?;
    }
    if let Some(left) = finding.evidence.len().checked_sub(MAX_EVIDENCE_LINES) {
        if left > 0 {
            writeln!(
                out,
                "{INDENT}… and {} more (all of them: --format json)",
                thousands(left)
            )?;
        }
    }
    // Could not determine: the fix is for the person running the audit (issue 12).
    let fix = match finding.outcome {
        Outcome::CouldNotDetermine { .. } => spec.stage.undetermined_fix(),
        _ => spec.fix,
    };
    writeln!(out, "{INDENT}fix: {}", clean(fix))?;
    let sources: Vec<String> = spec.sources.iter().map(ToString::to_string).collect();
    writeln!(out, "{INDENT}rule: {}", sources.join(", "))
}

/// `value` cut to [`MAX_EVIDENCE_CHARS`] characters, saying how many were left out.
fn bounded(value: &str) -> Cow<'_, str> {
    let Some((cut, _)) = value.char_indices().nth(MAX_EVIDENCE_CHARS) else {
        return Cow::Borrowed(value);
    };
    let left = value[cut..].chars().count();
    Cow::Owned(format!(
        "{}… ({} more characters)",
        &value[..cut],
        thousands(left)
    ))
}

/// `9990` as `9,990`, as the reports summary writes counts.
fn thousands(number: usize) -> String {
    crate::tlsrpt_report::render::human::thousands(u64::try_from(number).unwrap_or(u64::MAX))
}

/// The subject, unless it is the domain itself.
pub(super) fn describe_subject(subject: &Subject, domain: &str) -> Option<String> {
    match subject {
        Subject::Domain => None,
        Subject::Host { name } if name == domain => None,
        Subject::Host { name } => Some(name.clone()),
        Subject::Endpoint { host, ip } => Some(format!("{host} [{ip}]")),
    }
}

fn counts_phrase(domain: &DomainReport, all: bool) -> String {
    let counts = [
        (domain.count("pass"), "pass"),
        (domain.count("fail"), "fail"),
        (domain.count("warn"), "warn"),
        (domain.count("info"), "info"),
        (domain.count("skipped"), "skipped"),
        (domain.count("could-not-determine"), "could not determine"),
    ];
    let mut phrase = counts
        .iter()
        .filter(|(count, _)| all || *count > 0)
        .map(|(count, label)| format!("{count} {label}"))
        .collect::<Vec<_>>()
        .join(", ");
    let ignored = domain.ignored().count();
    if ignored > 0 {
        let _ = write!(phrase, "; {ignored} ignored");
    }
    phrase
}

/// The end of a run of several domains: verdict counts, what was not audited, a line per domain
/// (when kept), and the checks that failed for the most domains.
/// The run's network figures, two lines: DNS retries and throttling, SMTP sessions shared.
fn render_network(network: &NetworkNotes, out: &mut dyn Write) -> io::Result<()> {
    if let Some(reason) = &network.resolver_down {
        writeln!(out, "  {}", clean(reason))?;
    }
    let bottleneck = if network.resolver_bottleneck {
        format!(
            "the resolver was the bottleneck (questions in flight went down to {} of {})",
            network.dns_window_smallest, network.dns_window_limit
        )
    } else {
        "the resolver was not the bottleneck".to_owned()
    };
    writeln!(
        out,
        "  DNS: {}, {} retried, {} throttled (SERVFAIL, REFUSED or no answer), {} failed after \
         retries; {bottleneck}",
        plural(
            usize::try_from(network.dns_questions).unwrap_or(usize::MAX),
            "lookup",
            "lookups"
        ),
        network.dns_retried,
        network.dns_throttled,
        network.dns_failed,
    )?;
    if network.smtp_requests > 0 {
        writeln!(
            out,
            "  SMTP: {} for {} MX addresses of domains ({} judged from another MX name's session \
             at the same, SNI-invariant, address)",
            plural(
                usize::try_from(network.smtp_probes).unwrap_or(usize::MAX),
                "session",
                "sessions"
            ),
            network.smtp_requests,
            network.smtp_shared,
        )?;
    }
    Ok(())
}

fn render_summary(
    summary: &RunSummary,
    lines: Option<&[DomainLine]>,
    paint: Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let heading = format!(
        "Summary: {} — {} pass, {} warn, {} fail, {} could not be determined",
        plural(summary.domains, "domain", "domains"),
        summary.count(Verdict::Pass),
        summary.count(Verdict::Warn),
        summary.count(Verdict::Fail),
        summary.count(Verdict::CouldNotDetermine),
    );
    writeln!(out, "{}", paint.bold(&heading))?;

    let not_audited: Vec<String> = [
        (
            summary.input_errors,
            "input line that is not a domain name",
            "input lines that are not domain names",
        ),
        (
            summary.resumed,
            "domain done in an earlier run (--resume)",
            "domains done in an earlier run (--resume)",
        ),
        (
            summary.other_shards,
            "domain left to other shards (--shard)",
            "domains left to other shards (--shard)",
        ),
    ]
    .into_iter()
    .filter(|(count, _, _)| *count > 0)
    .map(|(count, one, many)| plural(count, one, many))
    .collect();
    if !not_audited.is_empty() {
        writeln!(out, "  not audited: {}", not_audited.join(", "))?;
    }

    if let Some(lines) = lines.filter(|lines| !lines.is_empty()) {
        let width = lines
            .iter()
            .map(|line| line.domain.chars().count())
            .max()
            .unwrap_or(0);
        // Tags are four letters but UNKNOWN: pad them to one column when it is there.
        let tag_width = lines
            .iter()
            .map(|line| verdict_tag(line.verdict).len())
            .max()
            .unwrap_or(0);
        for line in lines {
            let pad = " ".repeat(tag_width - verdict_tag(line.verdict).len());
            let text = format!(
                "  {}{pad}  {:width$}  {}",
                paint.verdict(line.verdict),
                line.domain,
                line.counts
            );
            // A domain without findings has no counts, and a line ends without padding.
            writeln!(out, "{}", text.trim_end())?;
        }
    }

    if !summary.baseline_absent.is_empty() {
        writeln!(
            out,
            "  in the baseline but not in this run: {}",
            clean(&summary.baseline_absent.join(", "))
        )?;
    }

    let top = summary.top_failing_checks(TOP_FAILING_CHECKS);
    if !top.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint.bold("Most common failing checks (domains):")
        )?;
        let width = top
            .iter()
            .map(|(_, count)| count.to_string().len())
            .max()
            .unwrap_or(0);
        for (check, count) in top {
            writeln!(
                out,
                "  {count:>width$}  {}  {}",
                check.as_str(),
                paint.dim(check.spec().title)
            )?;
        }
    }
    Ok(())
}

/// `1 domain`, `2 domains`.
fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// ANSI styling, or none.
#[derive(Clone, Copy)]
struct Paint {
    colour: bool,
}

impl Paint {
    fn sgr(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(self, text: &str) -> String {
        self.sgr("1", text)
    }

    fn dim(self, text: &str) -> String {
        self.sgr("2", text)
    }

    fn outcome(self, outcome: &Outcome) -> String {
        let code = match outcome {
            Outcome::Pass => "32",
            Outcome::Fail => "1;31",
            Outcome::Warn => "33",
            Outcome::Info => "36",
            Outcome::Skipped { .. } => "2",
            Outcome::CouldNotDetermine { .. } => "35",
        };
        self.sgr(code, status_tag(outcome))
    }

    fn verdict(self, verdict: Verdict) -> String {
        let code = match verdict {
            Verdict::Pass => "32",
            Verdict::Warn => "33",
            Verdict::CouldNotDetermine => "35",
            Verdict::Fail => "1;31",
        };
        self.sgr(code, verdict_tag(verdict))
    }
}

fn verdict_tag(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Warn => "WARN",
        Verdict::CouldNotDetermine => UNDETERMINED_TAG,
        Verdict::Fail => "FAIL",
    }
}

/// Escapes control, format and bidi characters that survived capture-time escaping. Backslashes
/// are left alone: escaped text is full of them, and they are harmless on a terminal.
pub(super) fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if !is_unsafe(ch) {
            out.push(ch);
        } else if (ch as u32) < 0x80 {
            let _ = write!(out, "\\x{:02X}", ch as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", ch as u32);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(ch: char) -> bool {
    ch.is_control() || crate::escape::is_invisible_or_control(ch)
}

/// `2023-11-14 22:13:20 UTC` from Unix seconds (proleptic Gregorian calendar).
fn utc_timestamp(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        let cases = [
            (0, "1970-01-01 00:00:00 UTC"),
            (1_700_000_000, "2023-11-14 22:13:20 UTC"),
            (951_782_400, "2000-02-29 00:00:00 UTC"),
            (-1, "1969-12-31 23:59:59 UTC"),
        ];
        for (unix, expected) in cases {
            assert_eq!(utc_timestamp(unix), expected);
        }
    }

    #[test]
    fn cleans_control_and_bidi_characters() {
        let cases = [
            ("plain \\r\\n text", "plain \\r\\n text"),
            ("\x1b[31mred", "\\x1B[31mred"),
            ("a\rb\nc", "a\\x0Db\\x0Ac"),
            ("\u{9b}x", "\\u{9b}x"),
            ("a\u{202e}b", "a\\u{202e}b"),
            ("bücher", "bücher"),
            // Issue 12: every Cf character, the separators and C1 controls.
            ("a\u{61c}b", "a\\u{61c}b"),
            ("a\u{2066}b\u{2069}", "a\\u{2066}b\\u{2069}"),
            ("a\u{2028}b\u{2029}", "a\\u{2028}b\\u{2029}"),
            ("\u{85}\u{ad}\u{e0041}", "\\u{85}\\u{ad}\\u{e0041}"),
        ];
        for (input, expected) in cases {
            assert_eq!(clean(input), expected, "{input:?}");
        }
    }

    #[test]
    fn groups_thousands_and_bounds_long_values() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(9_990), "9,990");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let long = "é".repeat(MAX_EVIDENCE_CHARS + 1_200);
        let shown = bounded(&long);
        assert!(shown.ends_with("… (1,200 more characters)"), "{shown}");
        assert_eq!(
            shown.chars().filter(|ch| *ch == 'é').count(),
            MAX_EVIDENCE_CHARS
        );
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn describes_seconds() {
        assert_eq!(describe_seconds(604_800), "604800 (7 days)");
        assert_eq!(describe_seconds(7200), "7200 (2 hours)");
        assert_eq!(describe_seconds(86_401), "86401");
    }

    #[test]
    fn omits_the_domain_as_subject() {
        let ip = "192.0.2.1".parse().unwrap();
        assert_eq!(describe_subject(&Subject::Domain, "a.example"), None);
        assert_eq!(
            describe_subject(&Subject::host("a.example"), "a.example"),
            None
        );
        assert_eq!(
            describe_subject(&Subject::endpoint("mx.a.example", ip), "a.example").as_deref(),
            Some("mx.a.example [192.0.2.1]")
        );
    }
}
