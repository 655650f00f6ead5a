//! The application glue: parsed arguments in, an exit status out. `check` gathers the domains
//! ([`crate::input`]), runs them through the many-domain engine ([`crate::engine`]) and streams each
//! judged domain to the report sink ([`crate::report::stream`]) as it finishes; the exit status
//! is kept up to date domain by domain, so nothing but counts outlives a domain's report.
//!
//! Exit status ([`crate::exit`]):
//!
//! - 0: nothing at or above `--fail-on`, and everything determined;
//! - 1: something is, in any domain; or some input line was not a domain name (each is
//!   printed on standard error as `mtasts: …`, and the valid domains are still audited);
//! - 2: a usage or internal error (returned as `Err` and printed by `main`), including input
//!   that holds no valid domain at all, only rejected lines;
//! - 3: nothing reached `--fail-on`, but a check could not be determined (unless
//!   `--allow-inconclusive`).
//!
//! Order: the streamed formats (human, `jsonl`, `csv`, `github`) write domains as they finish,
//! which is not input order, unless `--ordered` (the engine's bounded reorder buffer); the
//! documents written whole at the end anyway (`json`, `sarif`, `junit`) keep input order.
//!
//! Errors that stop a run are `anyhow` errors from here up to `main.rs`; below, only the edges
//! that read files or build the network stack (`input::gather`, `probe::live`, `probe::dns`,
//! `tlsrpt_report::cli`) return them. Parsers and verdicts have typed errors, or none: what
//! they find is a finding.

// The run's edges: the clock for the report header, files named on the command line.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "app.rs is the edge of a run: it reads the clock and the files the user names"
)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use rustls::pki_types::CertificateDer;

use crate::audit::Options;
use crate::cli::{
    CheckArgs, ChecksArgs, Cli, ColorChoice, Command, FailOn, JudgingArgs, LintArgs, ReplayArgs,
    ReportArgs, DEFAULT_CONCURRENCY, DEFAULT_DNS_CONCURRENCY, DEFAULT_DOMAIN_TIMEOUT_SECS,
    DEFAULT_PER_ADDRESS, DEFAULT_TIMEOUT_SECS,
};
use crate::config::{Config, Given};
use crate::destination::Destination;
use crate::engine::{self, RunConfig};
use crate::evidence::{
    BaselineLine, BaselineParser, EvidenceHeader, Line as EvidenceLine, Parser as EvidenceParser,
};
use crate::exit::{RunStatus, Weighing};
use crate::ignore::Ignores;
use crate::input::{InputError, InputNote, Sources};
use crate::model::DomainReport;
use crate::observe::Observations;
use crate::probe::live::LiveProbe;
use crate::probe::{Limits, NetworkConfig};
use crate::report::progress::Progress;
use crate::report::stream::{self, NetworkNotes, RunHeader, RunSummary};
use crate::report::{self, AuditReport, Format, Style};
use crate::tlsrpt_report::container::Limits as ReportLimits;
use crate::tlsrpt_report::date::Day;
use crate::tlsrpt_report::evidence::ReportsByDomain;
use crate::tlsrpt_report::files::WalkLimits;
use crate::tlsrpt_report::summary::Window;
use crate::verdict::changes::{BaselineDomain, Baselines};
use crate::verdict::{self, Context};

pub use crate::exit::{EXIT_ERROR, EXIT_FINDINGS};

/// The largest file `mtasts lint` reads; senders stop at 64 KiB, so anything this big is not a
/// policy file.
const MAX_LINT_BYTES: u64 = 1024 * 1024;

/// The largest `--ca-file` read.
const MAX_CA_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Runs one command.
///
/// `given` names the options set on the command line, which `mtasts.toml` may not override.
pub fn run(cli: Cli, given: &Given) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(mut args) => {
            let config = read_config(&mut args.report)?;
            if let Some((config, dir)) = &config {
                let ca_file = config.ca_file.as_ref().map(|path| dir.join(path));
                config.apply_check(&mut args, given, ca_file);
            }
            let ignores = run_ignores(config, &args.report);
            check(*args, ignores)
        }
        Command::Lint(mut args) => {
            let config = read_config(&mut args.report)?;
            if let Some((config, _)) = &config {
                config.apply_report(&mut args.report, given);
            }
            let ignores = run_ignores(config, &args.report);
            lint(args, ignores)
        }
        Command::Checks(args) => checks(&args),
        Command::Reports(args) => crate::tlsrpt_report::cli::run(&args, unix_now()),
        Command::Replay(mut args) => {
            let config = read_config(&mut args.report)?;
            if let Some((config, _)) = &config {
                config.apply_report(&mut args.report, given);
                if let (Some(allow), false) =
                    (config.allow_inconclusive, given.has("allow_inconclusive"))
                {
                    args.allow_inconclusive = allow;
                }
                if let (Some(days), false) = (config.expiry_warn, given.has("expiry_warn")) {
                    args.judging.expiry_warn = days;
                }
            }
            let ignores = run_ignores(config, &args.report);
            replay(&args, ignores)
        }
        Command::Explain(args) => {
            let check = crate::catalog::lookup::lookup(&args.id)?;
            emit(|out| report::explain::render(check, out))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions(args) => {
            emit(|out| {
                let mut cli = <Cli as clap::CommandFactory>::command();
                clap_complete::generate(args.shell, &mut cli, "mtasts", out);
                Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(args) => {
            let mut page = Vec::new();
            crate::manpage::render(args.command.as_deref(), &mut page)
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            emit(|out| out.write_all(&page))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads the configuration file: `--config FILE`, else `mtasts.toml` in the current directory
/// if there is one (then `report.config` names it, for the report header). Returns it with its
/// directory, against which its relative paths are resolved.
fn read_config(report: &mut ReportArgs) -> anyhow::Result<Option<(Config, PathBuf)>> {
    let explicit = report.config.is_some();
    let path = report
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_FILE));
    if !explicit && !path.is_file() {
        return Ok(None);
    }
    let shown = crate::escape::escape_str(&path.to_string_lossy());
    let file = File::open(&path).with_context(|| format!("cannot read {shown}"))?;
    let mut text = String::new();
    file.take(crate::config::MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {shown} (it must be UTF-8 TOML)"))?;
    if text.len() as u64 > crate::config::MAX_CONFIG_BYTES {
        bail!(
            "{shown} is larger than {} bytes; a configuration file is much smaller",
            crate::config::MAX_CONFIG_BYTES
        );
    }
    let config = Config::parse(&text, &shown).map_err(|err| anyhow::anyhow!("{shown}: {err}"))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    report.config = Some(path);
    Ok(Some((config, dir)))
}

/// The run's ignores: the configuration file's, then the `--ignore` flags'. Expired ones are
/// warned about here, once, with today from the clock.
fn run_ignores(config: Option<(Config, PathBuf)>, report: &ReportArgs) -> Ignores {
    let mut list = config.map(|(config, _)| config.ignore).unwrap_or_default();
    list.extend(report.ignore.iter().cloned());
    let ignores = Ignores::new(list, Day::of_unix(unix_now()));
    let mut stderr = io::stderr().lock();
    for expired in ignores.expired() {
        // A warning of its own: the findings it accepted count again from today.
        let _ = writeln!(
            stderr,
            "mtasts: warning: {expired} expired on {}: its findings count again (it said: {})",
            expired.until.map(|day| day.to_string()).unwrap_or_default(),
            crate::escape::escape_str(&expired.reason)
        );
    }
    ignores
}

/// Notes the ignores that matched nothing in the whole run (the problem may be fixed), and
/// weighs the expired ones: each is a warning, so under `--fail-on warn` it fails the run.
fn settle_ignores(ignores: &Ignores, fail_on: FailOn, status: RunStatus) -> RunStatus {
    let mut stderr = io::stderr().lock();
    for unmatched in ignores.unmatched() {
        let _ = writeln!(
            stderr,
            "mtasts: note: {unmatched} matched no finding; remove it if the problem is fixed"
        );
    }
    if fail_on == FailOn::Warn && ignores.expired().next().is_some() {
        RunStatus::Failed
    } else {
        status
    }
}

fn check(args: CheckArgs, mut ignores: Ignores) -> anyhow::Result<ExitCode> {
    let mut gathered = crate::input::gather(&Sources {
        files: &args.input.file,
        shard: args.input.shard.as_deref(),
        resume: args.input.resume.as_deref(),
        domains: &args.input.domains,
    })?;
    print_input_notes(&gathered.notes);
    print_input_notes(&gathered.resume_notes);
    print_input_errors(&gathered.errors);
    if gathered.domains.is_empty() && !gathered.errors.is_empty() {
        bail!(
            "no valid domain to audit: every input line was rejected ({} above)",
            gathered.errors.len()
        );
    }

    let judging = &args.memory.judging;
    check_fail_on_change(args.report.fail_on, judging)?;
    check_output_is_not_resumed(&args)?;
    let config = network_config(&args)?;
    let ctx = Context {
        expiry_warn_days: judging.expiry_warn,
        ..Context::new(args.report.profile, unix_now())
    };
    let mut baseline = judging
        .baseline
        .as_deref()
        .map(|path| load_baseline(path, &ctx))
        .transpose()?;
    let run_config = RunConfig {
        concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        per_address: usize::try_from(args.per_address).unwrap_or(usize::MAX),
        domain_timeout: Duration::from_secs(args.domain_timeout),
        probe_every_name: args.probe_every_name,
        ordered: args.ordered,
        options: Options {
            skip_smtp: args.no_smtp,
            allow_private: args.allow_private,
            limits: config.limits.clone(),
            reports: read_reports(&args.reports, ctx.now),
        },
        ctx,
    };
    let format = args.report.format;
    let header = RunHeader {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        profile: args.report.profile,
        generated_at: ctx.now,
        settings: settings(&args),
        detail: args.report.detail,
        fail_on: args.report.fail_on,
    };
    let mut evidence = args
        .memory
        .save_evidence
        .as_deref()
        .map(|path| {
            EvidenceFile::create(
                path,
                &EvidenceHeader::new(
                    &header.tool_version,
                    header.generated_at,
                    header.profile,
                    &header.settings,
                ),
            )
        })
        .transpose()?;
    let out = Destination::open(args.report.output.as_deref())?;
    let mut sink = stream::sink(
        format,
        style(&args.report, &out),
        header,
        Box::new(out.clone()),
    );
    let mut summary = RunSummary {
        input_errors: gathered.errors.len(),
        resumed: gathered.resumed,
        other_shards: gathered.other_shards,
        ..RunSummary::default()
    };
    let progress = Progress::new(
        u64::try_from(gathered.domains.len()).unwrap_or(u64::MAX),
        io::stderr().is_terminal() && !args.quiet,
    );
    // Rejected input lines make the run fail, even if every valid domain passes; so do the
    // verdicts of domains a `--resume` file showed done, as if this run had audited them.
    let weighing = Weighing {
        fail_on: args.report.fail_on,
        allow_inconclusive: args.allow_inconclusive,
    };
    let resumed = gathered.resumed_outcomes;
    let mut run_status = weighing.counted(resumed.fail, resumed.warn, resumed.could_not_determine);
    if !gathered.errors.is_empty() {
        run_status = RunStatus::Failed;
    }
    // Where each domain was read (by the engine's input index), for the formats that point a
    // finding at its line of the `--file` list.
    let locations = std::mem::take(&mut gathered.locations);
    let source_of = |index: usize| locations.get(index).and_then(Option::as_ref);
    // The documents are written whole at the end, so their domains can keep input order.
    let mut kept: Option<Vec<(usize, DomainReport)>> =
        matches!(format, Format::Json | Format::Sarif | Format::Junit).then(Vec::new);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let dns_concurrency = usize::try_from(args.dns_concurrency).unwrap_or(usize::MAX);
    let mut dns_stats = None;
    let ran = runtime.block_on(async {
        let probe = LiveProbe::with_dns_concurrency(config, dns_concurrency)
            .context("cannot set up the network probe")?;
        dns_stats = Some(probe.dns_stats());
        let on_report = |index: usize, mut report: DomainReport, observations: Observations| {
            if let Some(baseline) = &mut baseline {
                baseline.compare(&mut report, &observations, ctx.profile);
            }
            ignores.apply(&mut report);
            if let Some(file) = &mut evidence {
                file.write(&observations)?;
            }
            drop(observations);
            run_status = run_status.max(weighing.domains(std::slice::from_ref(&report)));
            summary.add(&report);
            progress.domain_done(&report.domain);
            match &mut kept {
                Some(kept) => kept.push((index, report)),
                // The bar is taken off the terminal while the domain is written, so no stale
                // bar line is left inside the report.
                None => progress.suspend(|| {
                    sink.domain_from(&report, source_of(index))?;
                    out.flush_now()
                })?,
            }
            Ok(())
        };
        anyhow::Ok(engine::run_observed(probe, gathered.domains, &run_config, on_report).await)
    })?;
    progress.finish();
    if let Some(file) = evidence.take() {
        file.finish()?;
    }
    if let Some(baseline) = &baseline {
        summary.baseline_absent = baseline.absent();
        note_absent_for_streams(format, &summary.baseline_absent);
    }

    if let (Ok(stats), Some(dns)) = (&ran, &dns_stats) {
        summary.network = Some(network_notes(stats, &dns.summary(), dns.down_reason()));
        if let Some(reason) = summary
            .network
            .as_ref()
            .and_then(|n| n.resolver_down.as_ref())
        {
            // Said once, here, rather than only in every domain's findings.
            let _ = writeln!(io::stderr().lock(), "mtasts: {reason}");
        }
    }
    let written = ran.and_then(|stats| {
        if let Some(mut kept) = kept.take() {
            kept.sort_unstable_by_key(|(index, _)| *index);
            for (index, report) in kept {
                sink.domain_from(&report, source_of(index))?;
            }
        }
        sink.finish(&summary)?;
        out.flush_now()?;
        Ok(stats)
    });
    if written.is_ok() {
        out.commit()?;
    }
    match written {
        Ok(stats) => {
            if args.stats {
                engine::print_stats(&stats, dns_stats.as_ref().map(|dns| dns.summary()));
            }
            if stats.internal_errors > 0 {
                bail!(
                    "internal error: the audit of {} domain(s) stopped early (reported as could \
                     not determine); the message is above",
                    stats.internal_errors
                );
            }
        }
        // The reader went away (`mtasts check … | head`): not an error; the status so far.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {}
        Err(err)
            if err.kind() == io::ErrorKind::Other
                && err.to_string().starts_with("--save-evidence") =>
        {
            return Err(anyhow::anyhow!("{err}"));
        }
        Err(err) => return Err(err).context("cannot write to standard output"),
    }
    let run_status = settle_ignores(&ignores, args.report.fail_on, run_status);
    Ok(exit_code(run_status))
}

/// Reads `--reports` (the last [`verdict::reports::READ_DAYS`] days up to the day of `now`) for
/// the `reports.*` checks; `None` when the option was not given. Inputs that cannot be read are
/// named on standard error, and in the evidence of `reports.coverage`.
fn read_reports(paths: &[PathBuf], now: i64) -> Option<Arc<ReportsByDomain>> {
    if paths.is_empty() {
        return None;
    }
    let today = Day::of_unix(now);
    let since = Window::last_days(today, verdict::reports::READ_DAYS)
        .since
        .unwrap_or(today);
    let window = Window {
        since: Some(since),
        domain: None,
    };
    let summary = crate::tlsrpt_report::read_and_summarise(
        paths,
        &WalkLimits::default(),
        &ReportLimits::default(),
        window,
    );
    let mut stderr = io::stderr().lock();
    for unreadable in &summary.unreadable {
        // Nothing useful can be done if standard error is closed.
        let _ = writeln!(
            stderr,
            "mtasts: --reports {}: {}",
            crate::escape::escape_str(&unreadable.path),
            crate::escape::escape_str(&unreadable.reason)
        );
    }
    Some(Arc::new(ReportsByDomain::new(&summary, since, today)))
}

/// `--fail-on change` compares with something, or it would silently never fail.
fn check_fail_on_change(fail_on: FailOn, judging: &JudgingArgs) -> anyhow::Result<()> {
    if fail_on == FailOn::Change && judging.baseline.is_none() {
        bail!("--fail-on change needs --baseline FILE: without a baseline nothing can change");
    }
    Ok(())
}

/// JSON Lines and CSV carry no summary: the baseline domains this run did not audit are named
/// on standard error instead (the human and JSON reports list them in their summary).
fn note_absent_for_streams(format: Format, absent: &[String]) {
    if absent.is_empty() || matches!(format, Format::Human | Format::Json) {
        return;
    }
    let _ = writeln!(
        io::stderr().lock(),
        "mtasts: in the baseline but not in this run: {}",
        absent.join(", ")
    );
}

/// The longest line read from an evidence or baseline file.
const MAX_EVIDENCE_LINE: usize = crate::evidence::MAX_LINE_BYTES;

/// Calls `each` with every line of `reader` (without its newline), numbered from 1.
fn for_each_line(
    mut reader: impl BufRead,
    shown: &str,
    mut each: impl FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_EVIDENCE_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read {shown}"))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.len() > MAX_EVIDENCE_LINE {
            bail!("{shown}: line {number} is longer than {MAX_EVIDENCE_LINE} bytes");
        }
        each(&line)?;
    }
}

/// Opens a file named on the command line; `-` is standard input.
fn open_input(path: &Path) -> anyhow::Result<(String, Box<dyn BufRead>)> {
    if path.as_os_str() == "-" {
        return Ok(("<stdin>".to_owned(), Box::new(BufReader::new(io::stdin()))));
    }
    let shown = crate::escape::escape_str(&path.to_string_lossy());
    let file = File::open(path).with_context(|| format!("cannot read {shown}"))?;
    Ok((shown, Box::new(BufReader::new(file))))
}

/// Reads `--baseline FILE`: saved evidence, judged again under `ctx` at the time it was saved,
/// or an earlier `--format jsonl` report.
fn load_baseline(path: &Path, ctx: &Context) -> anyhow::Result<Baselines> {
    let (shown, reader) = open_input(path)?;
    let mut parser = BaselineParser::new();
    let mut baselines = Baselines::new();
    for_each_line(reader, &shown, |line| {
        let read = parser
            .line(line)
            .map_err(|error| anyhow::anyhow!("--baseline {shown}: {error}"))?;
        match read {
            BaselineLine::Empty | BaselineLine::Header(_) => {}
            BaselineLine::Observations(obs) => {
                let generated_at = parser
                    .header()
                    .map_or(ctx.now, |header| header.generated_at);
                let domain = obs.domain.to_string();
                baselines.insert(
                    domain,
                    BaselineDomain::from_observations(&obs, ctx, generated_at),
                );
            }
            BaselineLine::Report(report) => {
                let (domain, baseline) = *report;
                baselines.insert(domain, baseline);
            }
        }
        Ok(())
    })?;
    if baselines.is_empty() {
        bail!(
            "--baseline {shown} holds no domain: give the file written by --save-evidence or \
             by --format jsonl"
        );
    }
    Ok(baselines)
}

/// `--save-evidence FILE`: the header, then one line per domain, each flushed as it is written,
/// so an interrupted run leaves whole lines behind.
struct EvidenceFile {
    out: BufWriter<File>,
    shown: String,
}

impl EvidenceFile {
    fn create(path: &Path, header: &EvidenceHeader) -> anyhow::Result<Self> {
        let shown = crate::escape::escape_str(&path.to_string_lossy());
        let file =
            File::create(path).with_context(|| format!("cannot create --save-evidence {shown}"))?;
        let mut evidence = Self {
            out: BufWriter::new(file),
            shown,
        };
        evidence
            .write_line(&crate::evidence::header_line(header))
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        Ok(evidence)
    }

    fn write(&mut self, obs: &Observations) -> io::Result<()> {
        self.write_line(&crate::evidence::observations_line(obs))
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.out
            .write_all(line)
            .and_then(|()| self.out.flush())
            .map_err(|err| io::Error::other(format!("--save-evidence {}: {err}", self.shown)))
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .with_context(|| format!("cannot write --save-evidence {}", self.shown))
    }
}

/// `mtasts replay FILE`: judges saved evidence again, with no network at all (no probe is
/// built), through the same report sinks as `check`.
fn replay(args: &ReplayArgs, mut ignores: Ignores) -> anyhow::Result<ExitCode> {
    let judging = &args.judging;
    check_fail_on_change(args.report.fail_on, judging)?;
    let profile = args.report.profile;
    let base_ctx = Context {
        expiry_warn_days: judging.expiry_warn,
        ..Context::new(profile, args.now.unwrap_or(0))
    };
    let mut baseline = judging
        .baseline
        .as_deref()
        .map(|path| load_baseline(path, &base_ctx))
        .transpose()?;
    let (shown, reader) = open_input(&args.file)?;
    let format = args.report.format;
    let out = Destination::open(args.report.output.as_deref())?;
    let mut sink: Option<Box<dyn stream::Sink>> = None;
    let mut summary = RunSummary::default();
    let weighing = Weighing {
        fail_on: args.report.fail_on,
        allow_inconclusive: args.allow_inconclusive,
    };
    let mut run_status = RunStatus::Clean;
    let mut parser = EvidenceParser::new();
    let mut settings_extra = vec![("replay".to_owned(), shown.clone())];
    if let Some(path) = &judging.baseline {
        settings_extra.push(("baseline".to_owned(), path.display().to_string()));
    }
    if judging.expiry_warn != crate::cli::DEFAULT_EXPIRY_WARN_DAYS {
        settings_extra.push(("expiry-warn".to_owned(), judging.expiry_warn.to_string()));
    }
    let written = for_each_line(reader, &shown, |line| {
        let read = parser
            .line(line)
            .map_err(|error| anyhow::anyhow!("{shown}: {error}"))?;
        match read {
            EvidenceLine::Empty => {}
            EvidenceLine::Header(header) => {
                if sink.is_none() {
                    let mut settings: Vec<(String, String)> =
                        header.settings.clone().into_iter().collect();
                    settings.push((
                        "evidence-from".to_owned(),
                        format!("mtasts {}", header.tool_version),
                    ));
                    settings.extend(settings_extra.iter().cloned());
                    let run_header = RunHeader {
                        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                        profile,
                        generated_at: args.now.unwrap_or(header.generated_at),
                        settings,
                        detail: args.report.detail,
                        fail_on: args.report.fail_on,
                    };
                    sink = Some(stream::sink(
                        format,
                        style(&args.report, &out),
                        run_header,
                        Box::new(out.clone()),
                    ));
                }
            }
            EvidenceLine::Observations(obs) => {
                let saved_at = parser.header().map_or(0, |header| header.generated_at);
                let ctx = Context {
                    now: args.now.unwrap_or(saved_at),
                    ..base_ctx
                };
                let mut report = verdict::judge(&obs, &ctx);
                if let Some(baseline) = &mut baseline {
                    baseline.compare(&mut report, &obs, profile);
                }
                ignores.apply(&mut report);
                run_status = run_status.max(weighing.domains(std::slice::from_ref(&report)));
                summary.add(&report);
                if let Some(sink) = &mut sink {
                    sink.domain(&report)?;
                    out.flush_now()?;
                }
            }
        }
        Ok(())
    });
    let result = written.and_then(|()| {
        let Some(mut sink) = sink.take() else {
            bail!("{shown} holds no saved evidence: it has no header line (see docs/evidence.md)");
        };
        if let Some(baseline) = &baseline {
            summary.baseline_absent = baseline.absent();
            note_absent_for_streams(format, &summary.baseline_absent);
        }
        sink.finish(&summary)?;
        out.commit()?;
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(err)
            if err
                .downcast_ref::<io::Error>()
                .is_some_and(|err| err.kind() == io::ErrorKind::BrokenPipe) => {}
        Err(err) => return Err(err),
    }
    Ok(exit_code(settle_ignores(
        &ignores,
        args.report.fail_on,
        run_status,
    )))
}

/// `--output` replaces its file at the end of the run, so it must not be the `--resume` file,
/// whose lines the run would otherwise throw away.
fn check_output_is_not_resumed(args: &CheckArgs) -> anyhow::Result<()> {
    let (Some(output), Some(resume)) = (&args.report.output, &args.input.resume) else {
        return Ok(());
    };
    let same = match (output.canonicalize(), resume.canonicalize()) {
        (Ok(output), Ok(resume)) => output == resume,
        _ => output == resume,
    };
    if same {
        bail!(
            "--output {} is also the --resume file: the finished report would replace the lines \
             it resumes from; write to another file, or append with `>> {}` instead of --output",
            output.display(),
            resume.display()
        );
    }
    Ok(())
}

/// The run summary's network figures, from the engine's and the DNS client's statistics.
fn network_notes(
    stats: &engine::RunStats,
    dns: &crate::probe::dns::DnsSummary,
    resolver_down: Option<String>,
) -> NetworkNotes {
    NetworkNotes {
        dns_questions: dns.questions,
        dns_retried: dns.retried,
        dns_throttled: dns.throttled,
        dns_failed: dns.failed,
        dns_window_smallest: dns.smallest_window,
        dns_window_limit: dns.largest_window,
        resolver_bottleneck: dns.resolver_was_bottleneck(),
        resolver_down,
        smtp_requests: stats.memo.smtp_requests,
        smtp_probes: stats.memo.smtp_probes,
        smtp_shared: stats.memo.smtp_shared,
    }
}

/// What pasted lines and arguments were taken for: notes, which change nothing else.
fn print_input_notes(notes: &[InputNote]) {
    let mut stderr = io::stderr().lock();
    for note in notes {
        // Nothing useful can be done if standard error is closed.
        let _ = writeln!(stderr, "mtasts: note: {note}");
    }
}

fn print_input_errors(errors: &[InputError]) {
    let mut stderr = io::stderr().lock();
    for error in errors {
        // Nothing useful can be done if standard error is closed.
        let _ = writeln!(stderr, "mtasts: {error}");
    }
}

fn network_config(args: &CheckArgs) -> anyhow::Result<NetworkConfig> {
    let defaults = NetworkConfig::default();
    let extra_roots = match &args.ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    Ok(NetworkConfig {
        limits: Limits::with_timeout(Duration::from_secs(args.timeout)),
        resolver: args.resolver,
        extra_roots,
        https_port: args.https_port,
        smtp_port: args.smtp_port,
        ehlo_name: args.ehlo_name.clone().unwrap_or(defaults.ehlo_name),
        allow_private: args.allow_private,
    })
}

/// Reads `--ca-file`: PEM certificates, each one acceptable as a trust anchor.
fn read_ca_file(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let file = File::open(path).with_context(|| format!("cannot read --ca-file {shown}"))?;
    let mut reader = BufReader::new(file.take(MAX_CA_FILE_BYTES));
    let certs = rustls_pemfile::certs(&mut reader)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot read --ca-file {shown}"))?;
    if certs.is_empty() {
        bail!("--ca-file {shown} contains no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    let mut store = rustls::RootCertStore::empty();
    for (index, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).with_context(|| {
            format!(
                "--ca-file {shown}: certificate {} is not usable as a trust anchor",
                index + 1
            )
        })?;
    }
    Ok(certs)
}

/// The settings that differ from the defaults, for the report header.
fn settings(args: &CheckArgs) -> Vec<(String, String)> {
    let mut settings = Vec::new();
    let mut add = |key: &str, value: String| settings.push((key.to_owned(), value));
    if let Some(path) = &args.report.config {
        add("config", path.display().to_string());
    }
    if let Some(path) = &args.ca_file {
        add("ca-file", path.display().to_string());
    }
    if let Some(resolver) = args.resolver {
        add("resolver", resolver.to_string());
    }
    if args.no_smtp {
        add("no-smtp", String::new());
    }
    if !args.reports.is_empty() {
        let paths: Vec<String> = args
            .reports
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        add("reports", paths.join(" "));
    }
    if args.allow_private {
        add("allow-private", String::new());
    }
    if args.timeout != DEFAULT_TIMEOUT_SECS {
        add("timeout", args.timeout.to_string());
    }
    if let Some(name) = &args.ehlo_name {
        add("ehlo-name", name.clone());
    }
    let defaults = NetworkConfig::default();
    if args.https_port != defaults.https_port {
        add("https-port", args.https_port.to_string());
    }
    if args.smtp_port != defaults.smtp_port {
        add("smtp-port", args.smtp_port.to_string());
    }
    if args.dns_concurrency != DEFAULT_DNS_CONCURRENCY {
        add("dns-concurrency", args.dns_concurrency.to_string());
    }
    if args.concurrency != DEFAULT_CONCURRENCY {
        add("concurrency", args.concurrency.to_string());
    }
    if args.per_address != DEFAULT_PER_ADDRESS {
        add("per-address", args.per_address.to_string());
    }
    if args.probe_every_name {
        add("probe-every-name", String::new());
    }
    if args.ordered {
        add("ordered", String::new());
    }
    if args.domain_timeout != DEFAULT_DOMAIN_TIMEOUT_SECS {
        add("domain-timeout", args.domain_timeout.to_string());
    }
    if let Some(path) = &args.memory.judging.baseline {
        add("baseline", path.display().to_string());
    }
    if args.memory.judging.expiry_warn != crate::cli::DEFAULT_EXPIRY_WARN_DAYS {
        add("expiry-warn", args.memory.judging.expiry_warn.to_string());
    }
    settings
}

fn lint(args: LintArgs, mut ignores: Ignores) -> anyhow::Result<ExitCode> {
    let (name, body) = read_lint_input(&args.file)?;
    let profile = args.report.profile;
    let linted = verdict::policy::lint(&body, profile);
    let mut domain = DomainReport {
        domain: name,
        facts: linted.facts,
        findings: linted.findings,
    };
    ignores.apply(&mut domain);
    let settings = args
        .report
        .config
        .iter()
        .map(|path| ("config".to_owned(), path.display().to_string()))
        .collect();
    let report = AuditReport {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        profile,
        generated_at: unix_now(),
        settings,
        domains: vec![domain],
    };
    // No network, so nothing can be undetermined; if something is, it still counts.
    let status = Weighing {
        fail_on: args.report.fail_on,
        allow_inconclusive: false,
    }
    .domains(&report.domains);
    let (format, detail) = (args.report.format, args.report.detail);
    let mut out = Destination::open(args.report.output.as_deref())?;
    let style = style(&args.report, &out);
    match report::render_with_detail(&report, format, style, detail, &mut out) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {}
        written => {
            written.context("cannot write the report")?;
            out.commit()?;
        }
    }
    let status = settle_ignores(&ignores, args.report.fail_on, status);
    Ok(exit_code(status))
}

/// Reads the file to lint (`-` is standard input) and the name the report gives it.
fn read_lint_input(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let is_stdin = path.as_os_str() == "-";
    let name = if is_stdin {
        "<stdin>".to_owned()
    } else {
        crate::escape::escape_str(&path.to_string_lossy())
    };
    let reader: Box<dyn Read> = if is_stdin {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot read {name}"))?)
    };
    let mut body = Vec::new();
    reader
        .take(MAX_LINT_BYTES + 1)
        .read_to_end(&mut body)
        .with_context(|| format!("cannot read {name}"))?;
    if body.len() as u64 > MAX_LINT_BYTES {
        bail!("{name} is larger than {MAX_LINT_BYTES} bytes; a policy file is at most 64 KiB");
    }
    Ok((name, body))
}

fn checks(args: &ChecksArgs) -> anyhow::Result<ExitCode> {
    emit(|out| report::catalog::render(args.format, out))?;
    Ok(ExitCode::SUCCESS)
}

fn exit_code(status: RunStatus) -> ExitCode {
    ExitCode::from(status.code())
}

/// How the human report looks. Colour (`--color auto`, the default) only on a terminal, and
/// never when NO_COLOR is set to anything but the empty string (<https://no-color.org>), nor
/// into an `--output` file; `--color always` and `never` decide alone. No other format is
/// ever coloured.
fn style(args: &ReportArgs, out: &Destination) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let colour = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && !out.is_file() && io::stdout().is_terminal(),
    };
    Style {
        colour: colour && args.format == Format::Human,
        verbose: args.verbose,
    }
}

/// Writes to standard output; a reader that went away (`mtasts check … | head`) is not an error.
fn emit(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            Err(err).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = read_ca_file(&missing).unwrap_err();
        assert!(format!("{err:#}").contains("missing.pem"), "{err:#}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = read_ca_file(&empty).unwrap_err();
        assert!(format!("{err:#}").contains("empty.pem"), "{err:#}");
        assert!(format!("{err:#}").contains("no PEM certificate"), "{err:#}");
    }

    #[test]
    fn ca_file_with_a_certificate_is_read() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["ca.test".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, cert.pem()).unwrap();
        assert_eq!(read_ca_file(&path).unwrap().len(), 1);
    }

    #[test]
    fn settings_echo_only_what_differs() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["mtasts", "check", "a.example"]).unwrap();
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        assert!(settings(&args).is_empty());

        let cli = Cli::try_parse_from([
            "mtasts",
            "check",
            "--resolver",
            "127.0.0.1:5353",
            "--no-smtp",
            "--allow-private",
            "--https-port",
            "8443",
            "a.example",
        ])
        .unwrap();
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        let keys: Vec<String> = settings(&args).into_iter().map(|(key, _)| key).collect();
        assert_eq!(keys, ["resolver", "no-smtp", "allow-private", "https-port"]);
    }
}
