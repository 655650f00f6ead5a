//! `mtasts reports PATH...`: its arguments, and the glue from them to the output and the exit
//! status. Kept here rather than in `cli.rs`/`app.rs` so the command is one module.
//!
//! Exit status: 0 when every input was read; 1 when some input (or a part of one) was not a
//! report, or was truncated or corrupt (each is listed with its path and reason, and the rest
//! are still counted); 2 on a usage error (clap) or when standard output cannot be written.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::container::Limits;
use super::date::Day;
use super::files::WalkLimits;
use super::render::{lists_unreadable, render, ReportsFormat};
use super::summary::Window;

/// The `--max-files` default.
pub const DEFAULT_MAX_FILES: u64 = 100_000;
/// The `--max-report-mib` default.
pub const DEFAULT_MAX_REPORT_MIB: u64 = 16;

#[derive(Debug, Args)]
pub struct ReportsArgs {
    /// Output format (JSON: docs/report-tlsrpt-json.md).
    #[arg(long, value_enum, default_value_t = ReportsFormat::Human)]
    pub format: ReportsFormat,
    /// Count only reports that cover this day (YYYY-MM-DD, UTC) or later.
    #[arg(long, value_name = "DATE", value_parser = parse_day, conflicts_with = "days")]
    pub since: Option<Day>,
    /// Count only the last N days (UTC), today included.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: Option<u32>,
    /// Count only the policies of this policy domain.
    #[arg(long, value_name = "DOMAIN", value_parser = parse_domain)]
    pub domain: Option<String>,
    /// Read at most N files (directories are walked in name order).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_FILES,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_files: u64,
    /// Largest report after decompression, in MiB (a zip bomb stops there).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_REPORT_MIB,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_report_mib: u64,
    /// Lab only: the day taken as today for --days.
    #[arg(long, hide = true, value_name = "DATE", value_parser = parse_day)]
    pub today: Option<Day>,
    /// Report files, directories (read recursively; Maildir folders through cur/ and new/),
    /// mbox files, or `-` for standard input. JSON, gzip, zip and email are told apart by their
    /// bytes, not their names.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).map_err(|error| error.to_string())
}

fn parse_domain(text: &str) -> Result<String, crate::input::DomainError> {
    crate::input::normalize_domain(text)
}

/// Runs `mtasts reports`; `now` is the Unix time, for `--days`.
pub fn run(args: &ReportsArgs, now: i64) -> anyhow::Result<ExitCode> {
    let today = args.today.unwrap_or_else(|| Day::of_unix(now));
    let window = Window {
        since: args.since.or_else(|| {
            args.days
                .and_then(|days| Window::last_days(today, days).since)
        }),
        domain: args.domain.clone(),
    };
    let walk_limits = WalkLimits {
        max_files: usize::try_from(args.max_files).unwrap_or(usize::MAX),
        ..WalkLimits::default()
    };
    let limits = Limits {
        max_report_bytes: args.max_report_mib.saturating_mul(1024 * 1024),
        ..Limits::default()
    };
    let summary = super::read_and_summarise(&args.paths, &walk_limits, &limits, window);
    if !lists_unreadable(args.format) {
        let mut stderr = io::stderr().lock();
        for unreadable in &summary.unreadable {
            // Nothing useful can be done if standard error is closed.
            let _ = writeln!(
                stderr,
                "mtasts: {}: {}",
                crate::escape::escape_str(&unreadable.path),
                crate::escape::escape_str(&unreadable.reason)
            );
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match render(&summary, args.format, &mut out).and_then(|()| out.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            return Err(error).context("cannot write to standard output")
        }
        _ => {}
    }
    Ok(if summary.unreadable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::app::EXIT_FINDINGS)
    })
}
