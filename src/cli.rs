//! The command line: what `mtasts` accepts, parsed and validated by clap before anything runs.
//!
//! Domains given as arguments or in `--file` lists are normalised and validated by
//! [`crate::input`]; here only the flags are. A bad value is a usage error: exit 2.

use crate::name::{DomainName, NameError};
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalog::Profile;
use crate::report::catalog::CatalogFormat;
use crate::report::{Detail, Format};

/// Audit MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) deployments.
#[derive(Debug, Parser)]
#[command(name = "mtasts", version, about, long_about = None,
          after_help = crate::exit::help_text())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per run; boxing would only complicate the clap derive"
)]
pub enum Command {
    /// Audit the MTA-STS and TLS-RPT deployment of one or more domains.
    #[command(after_help = crate::exit::help_text())]
    Check(Box<CheckArgs>),
    /// Check a policy file (mta-sts.txt) on its own, without any network access.
    #[command(after_help = crate::exit::help_text())]
    Lint(LintArgs),
    /// Print the catalog of checks (docs/checks.md is its markdown form).
    Checks(ChecksArgs),
    /// Read SMTP TLS reports (RFC 8460) and summarise them per policy domain.
    Reports(crate::tlsrpt_report::cli::ReportsArgs),
    /// Judge saved evidence (check --save-evidence) again, with no network at all.
    #[command(after_help = crate::exit::help_text())]
    Replay(ReplayArgs),
    /// Explain one check in full: what it checks, the rules it rests on, its severity per
    /// profile, the fix, and examples of passing and failing input.
    Explain(ExplainArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(CompletionsArgs),
    /// Print the man page of mtasts, or of one command (mtasts man check), as roff.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The check's ID, as in the reports and `mtasts checks` (policy.max-age).
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. bash: `mtasts completions bash > /etc/bash_completion.d/mtasts`;
    /// zsh: save as `_mtasts` in a directory of `$fpath`; fish: save in
    /// `~/.config/fish/completions/mtasts.fish`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (mtasts-COMMAND(1)); without it, mtasts(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Which findings make the exit status 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailOn {
    /// Only failures. A check that could not be determined makes the exit status 3 instead of 0,
    /// unless --allow-inconclusive.
    #[default]
    Fail,
    /// Warnings as well as failures.
    Warn,
    /// Only changes since --baseline: any change.* check that does not pass (for a scheduled
    /// job that alerts on drift).
    Change,
}

/// Options shared by the commands that produce a report.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Whose guidance decides what fails.
    #[arg(long, value_enum, default_value_t = Profile::Rfc)]
    pub profile: Profile,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The lowest outcome that makes the exit status 1 (see Exit status below).
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// What each finding carries in json and jsonl: `compact` leaves the checks' fixed text to
    /// the catalog (the document's `checks`, `mtasts checks --format json`) and passes to their
    /// id, outcome and subject; `full` repeats everything in every finding.
    #[arg(long, value_enum, default_value_t = Detail::Compact)]
    pub detail: Detail,
    /// Human format: show every check, passes and skips included, grouped by stage (by default
    /// only the problems, in the order to fix them, and one line per stage).
    #[arg(short, long)]
    pub verbose: bool,
    /// When to colour the human report: on a terminal unless NO_COLOR is set (`auto`), always,
    /// or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Write the report to FILE instead of standard output. It is written to a temporary file
    /// beside FILE and renamed over it when the run ends, so FILE is never half written.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Settings and accepted findings from FILE (TOML; see the README's "Configuration").
    /// Without it, mtasts.toml in the current directory is read if there is one. Options given
    /// on the command line win over the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Accept the findings of check ID (for every domain, or only for DOMAIN): they are still
    /// shown, marked ignored, but no longer count toward the verdict or the exit status. May be
    /// given more than once, on top of the configuration file's `ignore` list.
    #[arg(long, value_name = "ID[@DOMAIN]", value_parser = parse_ignore)]
    pub ignore: Vec<crate::ignore::Ignore>,
}

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless the NO_COLOR environment variable is set and not empty.
    #[default]
    Auto,
    Always,
    Never,
}

/// clap value parser for `--ignore`: the check must exist (else the closest IDs are named).
fn parse_ignore(input: &str) -> Result<crate::ignore::Ignore, String> {
    crate::ignore::Ignore::from_flag(input)
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Exit 0 rather than 3 when checks could not be determined (e.g. port 25 blocked here) and
    /// nothing failed.
    #[arg(long)]
    pub allow_inconclusive: bool,
    /// Skip the STARTTLS probes of the MX hosts (for networks that block outbound port 25).
    #[arg(long)]
    pub no_smtp: bool,
    /// Also connect to loopback, private (RFC 1918, fc00::/7), link-local, CGNAT and other
    /// non-public addresses, for labs and internal audits. Without it such addresses are not
    /// contacted and fail policy-host.public-address / mx.public-address.
    #[arg(long)]
    pub allow_private: bool,
    /// TLS-RPT reports to judge readiness for `mode: enforce` by (the reports.* checks): files,
    /// directories, Maildir folders or mbox files, as `mtasts reports` reads them; the last 30
    /// days are read. Takes every value up to the next option, so put it after the domains.
    /// Without it the reports.* checks are skipped.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub reports: Vec<PathBuf>,
    /// Extra trust anchors (PEM), added to the Mozilla roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// DNS server to ask instead of the system's.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_resolver)]
    pub resolver: Option<SocketAddr>,
    /// Timeout in seconds for each network step.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(TIMEOUT_RANGE))]
    pub timeout: u64,
    /// The name sent in EHLO.
    #[arg(long, value_name = "NAME", value_parser = parse_domain)]
    pub ehlo_name: Option<String>,
    /// Lab only: the port policy hosts are fetched from (instead of 443).
    #[arg(long, hide = true, default_value_t = 443)]
    pub https_port: u16,
    /// Lab only: the port MX hosts are probed on (instead of 25).
    #[arg(long, hide = true, default_value_t = 25)]
    pub smtp_port: u16,
    /// Domains audited at the same time.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u64).range(CONCURRENCY_RANGE))]
    pub concurrency: u64,
    /// DNS questions in flight at once. Fewer are sent while the resolver answers SERVFAIL or
    /// REFUSED or drops questions (each is retried with backoff), more again when it recovers.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DNS_CONCURRENCY,
          value_parser = clap::value_parser!(u64).range(CONCURRENCY_RANGE))]
    pub dns_concurrency: u64,
    /// SMTP sessions open at once to one MX address (politeness toward shared mail providers).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PER_ADDRESS,
          value_parser = clap::value_parser!(u64).range(PER_ADDRESS_RANGE))]
    pub per_address: u64,
    /// Probe every MX name at an address on its own. By default an address is probed with the
    /// first MX name that needs it and once more with a second name; if both sessions show the
    /// same certificate chain and TLS facts, further names at that address are judged from the
    /// first session (the report says so), since only SNI can tell names apart.
    #[arg(long)]
    pub probe_every_name: bool,
    /// Write the streamed formats (human, jsonl, csv, github) in input order instead of as domains
    /// finish; finished domains wait in a bounded reorder buffer.
    #[arg(long)]
    pub ordered: bool,
    /// Deadline in seconds for one domain, on top of the per-step timeouts.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_DOMAIN_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(DOMAIN_TIMEOUT_RANGE))]
    pub domain_timeout: u64,
    /// No progress bar on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// Lab only: print run statistics (wall time, peak memory, time per stage) as JSON on
    /// standard error at the end; the benchmark reads them.
    #[arg(long, hide = true)]
    pub stats: bool,
    #[command(flatten)]
    pub memory: MemoryArgs,
    #[command(flatten)]
    pub input: InputArgs,
}

/// Saved evidence and the comparison with an earlier run (docs/evidence.md).
#[derive(Debug, Args)]
pub struct MemoryArgs {
    /// Write what this run observed to FILE (JSON Lines, one domain per line, as each domain
    /// finishes), for `mtasts replay` or a later --baseline.
    #[arg(long, value_name = "FILE")]
    pub save_evidence: Option<PathBuf>,
    #[command(flatten)]
    pub judging: JudgingArgs,
}

/// Options of judging shared by `check` and `replay`.
#[derive(Debug, Args)]
pub struct JudgingArgs {
    /// Compare with an earlier run: FILE is its saved evidence (--save-evidence) or its
    /// --format jsonl report. Adds the change.* checks.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// A certificate with fewer days left than this counts as expiring (policy host and MX).
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_EXPIRY_WARN_DAYS,
          value_parser = clap::value_parser!(u32).range(EXPIRY_WARN_RANGE))]
    pub expiry_warn: u32,
}

/// The `--expiry-warn` default, in days.
pub const DEFAULT_EXPIRY_WARN_DAYS: u32 = crate::verdict::cert::EXPIRING_DAYS;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Exit 0 rather than 3 when checks could not be determined and nothing failed.
    #[arg(long)]
    pub allow_inconclusive: bool,
    /// Judge time-dependent checks (certificate expiry) at this time instead of the time the
    /// evidence was saved: RFC 3339 (2026-01-31T12:00:00Z) or Unix seconds.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<i64>,
    #[command(flatten)]
    pub judging: JudgingArgs,
    /// The evidence file written by `check --save-evidence`; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// clap value parser for `--now`: Unix seconds, or an RFC 3339 date-time.
pub fn parse_time(input: &str) -> Result<i64, String> {
    let input = input.trim();
    if let Ok(seconds) = input.parse::<i64>() {
        return Ok(seconds);
    }
    crate::tlsrpt_report::date::Timestamp::parse(input)
        .map(|stamp| stamp.unix)
        .map_err(|_| {
            format!(
                "{input:?} is neither Unix seconds nor an RFC 3339 date-time (2026-01-31T12:00:00Z)"
            )
        })
}

/// Where the domains come from, and which of them this run audits (see `input::gather`).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Read domains from FILE, one per line; `#` starts a comment at the start of a line or after
    /// a space, blank lines are ignored, at most 1,000,000 lines and 64 MiB. `-` reads standard
    /// input (`./-` for a file named `-`). May be given more than once; the arguments come first,
    /// then the files in order, and a name given twice is audited once.
    #[arg(long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Audit only shard K of N (0 <= K < N): a name belongs to shard FNV-1a-64(name) mod N,
    /// hashed on the normalised name (lower case, A-labels), which never changes between versions
    /// or machines, so N machines can split one list and concatenate their outputs.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<String>,
    /// Skip the domains already present in this earlier `--format jsonl` output (a last line cut
    /// by an interrupted run is ignored).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// The domains to audit (internationalised names are converted to A-labels).
    #[arg(value_name = "DOMAIN", required_unless_present = "file")]
    pub domains: Vec<String>,
}

/// clap value parser for `--shard`: checked early, kept as text in its canonical `K/N` form.
fn parse_shard(input: &str) -> Result<String, crate::input::ShardError> {
    crate::input::Shard::parse(input).map(|shard| shard.to_string())
}

/// The `--concurrency` default.
pub const DEFAULT_CONCURRENCY: u64 = 64;
/// The `--dns-concurrency` default.
pub const DEFAULT_DNS_CONCURRENCY: u64 = crate::probe::dns::DEFAULT_DNS_CONCURRENCY as u64;
/// The `--per-address` default.
pub const DEFAULT_PER_ADDRESS: u64 = 2;
/// The `--domain-timeout` default, in seconds.
pub const DEFAULT_DOMAIN_TIMEOUT_SECS: u64 = 180;

/// The `--timeout` default, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

// The ranges of the numeric options, shared with mtasts.toml ([`crate::config`]).
pub const TIMEOUT_RANGE: RangeInclusive<u64> = 1..=3600;
pub const DOMAIN_TIMEOUT_RANGE: RangeInclusive<u64> = 1..=86400;
pub const CONCURRENCY_RANGE: RangeInclusive<u64> = 1..=4096;
pub const PER_ADDRESS_RANGE: RangeInclusive<u64> = 1..=64;
pub const EXPIRY_WARN_RANGE: RangeInclusive<i64> = 0..=3650;

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// The policy file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,
}

/// clap value parser for domain names; clap's message names the rejected value.
fn parse_domain(input: &str) -> Result<String, NameError> {
    DomainName::parse(input).map(String::from)
}

/// Parses `IP` or `IP:PORT` (`[v6]:PORT` for IPv6); the port defaults to 53.
pub fn parse_resolver(input: &str) -> Result<SocketAddr, String> {
    let input = input.trim();
    if let Ok(addr) = input.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = input
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(input);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            "expected an IP address, optionally with a port (192.0.2.1:53, [2001:db8::1]:53)"
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_resolver_addresses() {
        let cases = [
            ("192.0.2.1", "192.0.2.1:53"),
            ("127.0.0.1:5353", "127.0.0.1:5353"),
            ("::1", "[::1]:53"),
            ("[::1]", "[::1]:53"),
            ("[::1]:5353", "[::1]:5353"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_resolver(input)
                    .map(|addr| addr.to_string())
                    .as_deref(),
                Ok(expected),
                "{input:?}"
            );
        }
        assert!(parse_resolver("dns.example").is_err());
        assert!(parse_resolver("192.0.2.1:99999").is_err());
    }

    #[test]
    fn parses_check_defaults_and_flags() {
        let cli = Cli::try_parse_from(["mtasts", "check", "Example.COM."]).unwrap();
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        // Raw as given; `input::gather` normalises.
        assert_eq!(args.input.domains, ["Example.COM."]);
        assert_eq!(args.report.profile, Profile::Rfc);
        assert_eq!(args.report.format, Format::Human);
        assert_eq!(args.report.fail_on, FailOn::Fail);
        assert_eq!(args.timeout, DEFAULT_TIMEOUT_SECS);
        assert_eq!((args.https_port, args.smtp_port), (443, 25));

        let cli = Cli::try_parse_from([
            "mtasts",
            "check",
            "--profile",
            "ncsc",
            "--format",
            "json",
            "--fail-on",
            "warn",
            "--no-smtp",
            "--resolver",
            "127.0.0.1",
            "--timeout",
            "3",
            "--smtp-port",
            "2525",
            "a.example",
            "b.example",
        ])
        .unwrap();
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        assert_eq!(args.report.profile, Profile::Ncsc);
        assert_eq!(args.report.format, Format::Json);
        assert_eq!(args.report.fail_on, FailOn::Warn);
        assert!(args.no_smtp);
        assert_eq!(args.resolver.map(|r| r.port()), Some(53));
        assert_eq!(args.timeout, 3);
        assert_eq!(args.smtp_port, 2525);
        assert_eq!(args.input.domains, ["a.example", "b.example"]);
    }

    #[test]
    fn parses_memory_flags_and_times() {
        let cli = Cli::try_parse_from([
            "mtasts",
            "check",
            "--save-evidence",
            "e.jsonl",
            "--baseline",
            "b.jsonl",
            "--expiry-warn",
            "30",
            "--fail-on",
            "change",
            "a.example",
        ])
        .unwrap();
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        assert_eq!(args.report.fail_on, FailOn::Change);
        assert_eq!(args.memory.judging.expiry_warn, 30);
        assert!(args.memory.save_evidence.is_some() && args.memory.judging.baseline.is_some());

        let cli = Cli::try_parse_from(["mtasts", "replay", "--now", "2026-01-31T12:00:00Z", "e"])
            .unwrap();
        let Command::Replay(args) = cli.command else {
            panic!("not replay");
        };
        assert_eq!(args.now, Some(1_769_860_800));
        assert_eq!(args.judging.expiry_warn, DEFAULT_EXPIRY_WARN_DAYS);
        assert_eq!(parse_time("1769860800"), Ok(1_769_860_800));
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn rejects_bad_usage() {
        let cases: [&[&str]; 5] = [
            &["mtasts", "check"],
            &["mtasts", "check", "--timeout", "0", "example.com"],
            &["mtasts", "check", "--ehlo-name", "a b", "example.com"],
            &["mtasts", "check", "--profile", "eu", "example.com"],
            &["mtasts", "lint"],
        ];
        for args in cases {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
