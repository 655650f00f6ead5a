//! The application glue: parsed arguments in, an exit status out. `check` gathers the domains
//! ([`crate::input`]), runs them through the many-domain engine ([`crate::engine`]) and streams each
//! judged domain to the report sink ([`crate::report::stream`]) as it finishes; the exit status
//! is kept up to date domain by domain, so nothing but counts outlives a domain's report.
//!
//! Exit status:
//!
//! - 0: nothing at or above `--fail-on`;
//! - 1: something is (a check that could not be determined counts, unless
//!   `--allow-inconclusive`), in any domain; or some input line was not a domain name (each is
//!   printed on standard error as `mtasts: …`, and the valid domains are still audited);
//! - 2: a usage or internal error (returned as `Err` and printed by `main`), including input
//!   that holds no valid domain at all, only rejected lines.
//!
//! Order: the streamed formats (human, `jsonl`, `csv`) write domains as they finish, which is
//! not input order, unless `--ordered` (the engine's bounded reorder buffer); the JSON document, which is written whole at the end anyway, keeps input
//! order.
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
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use rustls::pki_types::CertificateDer;

use crate::audit::Options;
use crate::cli::{
    CheckArgs, ChecksArgs, Cli, Command, FailOn, LintArgs, DEFAULT_CONCURRENCY,
    DEFAULT_DNS_CONCURRENCY, DEFAULT_DOMAIN_TIMEOUT_SECS, DEFAULT_PER_ADDRESS,
    DEFAULT_TIMEOUT_SECS,
};
use crate::engine::{self, RunConfig};
use crate::input::{InputError, Sources};
use crate::model::{DomainReport, Facts, Outcome};
use crate::probe::live::LiveProbe;
use crate::probe::{Limits, NetworkConfig};
use crate::report::progress::Progress;
use crate::report::stream::{self, NetworkNotes, RunHeader, RunSummary};
use crate::report::{self, AuditReport, Format, Style};
use crate::verdict::{self, Context};

/// Exit status when something reaches `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status for a usage or internal error (clap uses the same for its usage errors).
pub const EXIT_ERROR: u8 = 2;

/// The largest file `mtasts lint` reads; senders stop at 64 KiB, so anything this big is not a
/// policy file.
const MAX_LINT_BYTES: u64 = 1024 * 1024;

/// The largest `--ca-file` read.
const MAX_CA_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Lint(args) => lint(args),
        Command::Checks(args) => checks(&args),
        Command::Reports(args) => crate::tlsrpt_report::cli::run(&args, unix_now()),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let gathered = crate::input::gather(&Sources {
        files: &args.input.file,
        shard: args.input.shard.as_deref(),
        resume: args.input.resume.as_deref(),
        domains: &args.input.domains,
    })?;
    print_input_errors(&gathered.errors);
    if gathered.domains.is_empty() && !gathered.errors.is_empty() {
        bail!(
            "no valid domain to audit: every input line was rejected ({} above)",
            gathered.errors.len()
        );
    }

    let config = network_config(&args)?;
    let ctx = Context {
        profile: args.report.profile,
        now: unix_now(),
    };
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
    };
    let out = SharedStdout::default();
    let mut sink = stream::sink(format, style(format), header, Box::new(out.clone()));
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
    let resumed = gathered.resumed_outcomes;
    let mut reached = !gathered.errors.is_empty()
        || resumed.fail
        || (resumed.warn && args.report.fail_on == FailOn::Warn)
        || (resumed.could_not_determine && !args.allow_inconclusive);
    // The JSON document is one value written at the end, so its domains can keep input order.
    let mut kept: Option<Vec<(usize, DomainReport)>> = (format == Format::Json).then(Vec::new);

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
        let on_report = |index: usize, report: DomainReport| {
            reached |= reaches_fail_on(
                std::slice::from_ref(&report),
                args.report.fail_on,
                args.allow_inconclusive,
            );
            summary.add(&report);
            progress.domain_done(&report.domain);
            match &mut kept {
                Some(kept) => kept.push((index, report)),
                None => {
                    sink.domain(&report)?;
                    out.flush_now()?;
                }
            }
            Ok(())
        };
        anyhow::Ok(engine::run(probe, gathered.domains, &run_config, on_report).await)
    })?;
    progress.finish();

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
            for (_, report) in kept {
                sink.domain(&report)?;
            }
        }
        sink.finish(&summary)?;
        out.flush_now()?;
        Ok(stats)
    });
    match written {
        Ok(stats) => {
            if args.stats {
                engine::print_stats(&stats);
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
        Err(err) => return Err(err).context("cannot write to standard output"),
    }
    Ok(status(reached))
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

fn print_input_errors(errors: &[InputError]) {
    let mut stderr = io::stderr().lock();
    for error in errors {
        // Nothing useful can be done if standard error is closed.
        let _ = writeln!(stderr, "mtasts: {error}");
    }
}

/// Standard output behind a buffer the caller can flush after each domain, while the sink owns
/// a handle to it: one write per domain, and each domain visible as soon as it is judged.
#[derive(Clone)]
struct SharedStdout(Arc<Mutex<BufWriter<io::Stdout>>>);

impl Default for SharedStdout {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(BufWriter::new(io::stdout()))))
    }
}

impl SharedStdout {
    fn flush_now(&self) -> io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

impl Write for SharedStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_now()
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
    if let Some(path) = &args.ca_file {
        add("ca-file", path.display().to_string());
    }
    if let Some(resolver) = args.resolver {
        add("resolver", resolver.to_string());
    }
    if args.no_smtp {
        add("no-smtp", String::new());
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
    settings
}

fn lint(args: LintArgs) -> anyhow::Result<ExitCode> {
    let (name, body) = read_lint_input(&args.file)?;
    let profile = args.report.profile;
    let findings = verdict::policy::lint(&body, profile);
    let report = AuditReport {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        profile,
        generated_at: unix_now(),
        settings: Vec::new(),
        domains: vec![DomainReport {
            domain: name,
            facts: Facts::default(),
            findings,
        }],
    };
    // No network, so nothing can be undetermined; if something is, it still counts.
    let status = exit_status(&report.domains, args.report.fail_on, false);
    let (format, detail) = (args.report.format, args.report.detail);
    emit(|out| report::render_with_detail(&report, format, style(format), detail, out))?;
    Ok(status)
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

/// 1 when a finding reaches `fail_on`; an undetermined check counts unless `allow_inconclusive`.
pub fn exit_status(
    domains: &[DomainReport],
    fail_on: FailOn,
    allow_inconclusive: bool,
) -> ExitCode {
    status(reaches_fail_on(domains, fail_on, allow_inconclusive))
}

fn status(reached_fail_on: bool) -> ExitCode {
    if reached_fail_on {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

fn reaches_fail_on(domains: &[DomainReport], fail_on: FailOn, allow_inconclusive: bool) -> bool {
    domains
        .iter()
        .flat_map(|domain| &domain.findings)
        .any(|finding| match finding.outcome {
            Outcome::Fail => true,
            Outcome::Warn => fail_on == FailOn::Warn,
            Outcome::CouldNotDetermine { .. } => !allow_inconclusive,
            Outcome::Pass | Outcome::Info | Outcome::Skipped { .. } => false,
        })
}

/// Colour only for the human format on a terminal, and never when NO_COLOR is set to anything
/// but the empty string (<https://no-color.org>).
fn style(format: Format) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    Style {
        colour: format == Format::Human && !no_color && io::stdout().is_terminal(),
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
    use crate::catalog::CheckId;
    use crate::model::{Finding, Subject};

    fn domain_with(outcomes: &[Outcome]) -> DomainReport {
        DomainReport {
            domain: "a.example".to_owned(),
            facts: Facts::default(),
            findings: outcomes
                .iter()
                .map(|outcome| Finding {
                    check: CheckId::PolicyMode,
                    subject: Subject::Domain,
                    outcome: outcome.clone(),
                    summary: String::new(),
                    evidence: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn exit_status_follows_fail_on_and_inconclusive() {
        let undetermined = Outcome::CouldNotDetermine {
            reason: "timeout".to_owned(),
        };
        let skipped = Outcome::Skipped {
            blocked_by: CheckId::PolicyMode.into(),
        };
        // (outcomes, fail_on, allow_inconclusive, expected to reach fail_on)
        let cases = [
            (
                vec![Outcome::Pass, Outcome::Info, skipped],
                FailOn::Fail,
                false,
                false,
            ),
            (vec![Outcome::Warn], FailOn::Fail, false, false),
            (vec![Outcome::Warn], FailOn::Warn, false, true),
            (vec![Outcome::Fail], FailOn::Fail, true, true),
            (vec![undetermined.clone()], FailOn::Fail, false, true),
            (vec![undetermined], FailOn::Warn, true, false),
            (vec![], FailOn::Warn, false, false),
        ];
        for (outcomes, fail_on, allow, expected) in cases {
            let domains = [domain_with(&outcomes)];
            assert_eq!(
                reaches_fail_on(&domains, fail_on, allow),
                expected,
                "{outcomes:?} {fail_on:?} {allow}"
            );
        }
    }

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
