//! `mtasts.toml`: settings and accepted findings for `check`, `replay` and `lint`, read from the
//! current directory or from `--config FILE`. Pure: text in, a [`Config`] or an error naming the
//! line out; `app.rs` finds and reads the file.
//!
//! Every key is one of the command line's options, spelt the same way (`fail-on`, `timeout`),
//! and the command line wins over the file. Unknown keys are errors naming the key and its line
//! (serde's `deny_unknown_fields`), so a misspelt `tiemout` cannot silently do nothing.
//!
//! ```toml
//! profile = "sge"
//! fail-on = "warn"
//! timeout = 5
//!
//! [[ignore]]
//! id = "tlsrpt.present"
//! domain = "example.org"             # optional: without it, every domain
//! reason = "TLS-RPT arrives with the new mail provider (ticket 1234)"
//! until = 2027-03-31                 # optional: the last day it holds (quoted or not)
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::{Range, RangeInclusive};
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::catalog::lookup::lookup;
use crate::catalog::Profile;
use crate::cli::{self, CheckArgs, FailOn, ReportArgs};
use crate::ignore::{normalise_domain, Ignore};
use crate::report::{Detail, Format};
use crate::tlsrpt_report::date::Day;

/// The largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The file looked for in the current directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "mtasts.toml";

/// The file as written; values are checked by [`Config::parse`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    profile: Option<Profile>,
    fail_on: Option<FailOn>,
    format: Option<Format>,
    detail: Option<Detail>,
    allow_inconclusive: Option<bool>,
    no_smtp: Option<bool>,
    timeout: Option<Spanned<u64>>,
    domain_timeout: Option<Spanned<u64>>,
    concurrency: Option<Spanned<u64>>,
    dns_concurrency: Option<Spanned<u64>>,
    per_address: Option<Spanned<u64>>,
    expiry_warn: Option<Spanned<u64>>,
    resolver: Option<Spanned<String>>,
    ehlo_name: Option<Spanned<String>>,
    ca_file: Option<PathBuf>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: Spanned<String>,
    domain: Option<Spanned<String>>,
    reason: Spanned<String>,
    until: Option<Spanned<DateValue>>,
}

/// `until` as a quoted date (`"2026-09-30"`) or a bare TOML date (`2026-09-30`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DateValue {
    Text(String),
    Date(toml::value::Datetime),
}

/// The settings of a configuration file, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub profile: Option<Profile>,
    pub fail_on: Option<FailOn>,
    pub format: Option<Format>,
    pub detail: Option<Detail>,
    pub allow_inconclusive: Option<bool>,
    pub no_smtp: Option<bool>,
    pub timeout: Option<u64>,
    pub domain_timeout: Option<u64>,
    pub concurrency: Option<u64>,
    pub dns_concurrency: Option<u64>,
    pub per_address: Option<u64>,
    pub expiry_warn: Option<u32>,
    pub resolver: Option<SocketAddr>,
    pub ehlo_name: Option<String>,
    /// As written: relative paths are relative to the file's directory (the caller resolves).
    pub ca_file: Option<PathBuf>,
    pub ignore: Vec<Ignore>,
}

/// What is wrong with a configuration file: the line (from 1), and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The command-line options given explicitly (clap's argument IDs: `timeout`, `fail_on`), which
/// the file may not override.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Given(pub BTreeSet<String>);

impl Given {
    pub fn has(&self, id: &str) -> bool {
        self.0.contains(id)
    }
}

impl Config {
    /// Reads the text of a configuration file; `origin` names it in the ignores' messages
    /// (`mtasts.toml`).
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|err| ConfigError {
            line: err.span().map(|span| line_of(text, span.start)),
            message: err.message().trim_end().to_owned(),
        })?;
        let at = |span: Range<usize>, message: String| ConfigError {
            line: Some(line_of(text, span.start)),
            message,
        };
        let number = |key: &str, value: Option<Spanned<u64>>, range: RangeInclusive<u64>| {
            value
                .map(|value| {
                    let span = value.span();
                    let value = value.into_inner();
                    if range.contains(&value) {
                        Ok(value)
                    } else {
                        Err(at(
                            span,
                            format!(
                                "`{key}` must be from {} to {}, not {value}",
                                range.start(),
                                range.end()
                            ),
                        ))
                    }
                })
                .transpose()
        };
        let expiry_warn = number(
            "expiry-warn",
            raw.expiry_warn,
            0..=u64::try_from(*cli::EXPIRY_WARN_RANGE.end()).unwrap_or(u64::MAX),
        )?
        .map(|days| u32::try_from(days).unwrap_or(u32::MAX));
        let resolver = read_text(text, raw.resolver, "`resolver`", cli::parse_resolver)?;
        let ehlo_name = read_text(text, raw.ehlo_name, "`ehlo-name`", normalise_domain)?;
        let mut ignore = Vec::new();
        for entry in raw.ignore {
            let line = line_of(text, entry.span().start);
            let entry = entry.into_inner();
            let id_span = entry.id.span();
            let id =
                lookup(entry.id.get_ref()).map_err(|err| at(id_span, format!("ignore: {err}")))?;
            let domain = read_text(text, entry.domain, "ignore: `domain`", normalise_domain)?;
            let reason_span = entry.reason.span();
            let reason = entry.reason.into_inner().trim().to_owned();
            if reason.is_empty() {
                return Err(at(
                    reason_span,
                    "ignore: `reason` is empty; say why the finding is accepted".to_owned(),
                ));
            }
            let until = entry.until.map(|until| {
                let span = until.span();
                let written = match until.into_inner() {
                    DateValue::Text(text) => text,
                    DateValue::Date(date) => date.to_string(),
                };
                Spanned::new(span, written)
            });
            let until = read_text(text, until, "ignore: `until`", |until| {
                Day::parse(until.trim()).map_err(|why| why.to_string())
            })?;
            ignore.push(Ignore {
                id,
                domain,
                reason,
                until,
                origin: format!("{origin} line {line}"),
            });
        }
        Ok(Self {
            profile: raw.profile,
            fail_on: raw.fail_on,
            format: raw.format,
            detail: raw.detail,
            allow_inconclusive: raw.allow_inconclusive,
            no_smtp: raw.no_smtp,
            timeout: number("timeout", raw.timeout, cli::TIMEOUT_RANGE)?,
            domain_timeout: number(
                "domain-timeout",
                raw.domain_timeout,
                cli::DOMAIN_TIMEOUT_RANGE,
            )?,
            concurrency: number("concurrency", raw.concurrency, cli::CONCURRENCY_RANGE)?,
            dns_concurrency: number(
                "dns-concurrency",
                raw.dns_concurrency,
                cli::CONCURRENCY_RANGE,
            )?,
            per_address: number("per-address", raw.per_address, cli::PER_ADDRESS_RANGE)?,
            expiry_warn,
            resolver,
            ehlo_name,
            ca_file: raw.ca_file,
            ignore,
        })
    }

    /// Sets what the file says on the options shared by `check`, `replay` and `lint`, unless the
    /// command line gave them.
    pub fn apply_report(&self, args: &mut ReportArgs, given: &Given) {
        set(&mut args.profile, self.profile, given.has("profile"));
        set(&mut args.fail_on, self.fail_on, given.has("fail_on"));
        set(&mut args.format, self.format, given.has("format"));
        set(&mut args.detail, self.detail, given.has("detail"));
    }

    /// Sets what the file says on `check`'s options, unless the command line gave them.
    /// `ca_file` is the file's `ca-file` already resolved against the file's directory.
    pub fn apply_check(&self, args: &mut CheckArgs, given: &Given, ca_file: Option<PathBuf>) {
        self.apply_report(&mut args.report, given);
        let flag = |value: Option<bool>, id: &str| value.filter(|_| !given.has(id));
        if let Some(allow) = flag(self.allow_inconclusive, "allow_inconclusive") {
            args.allow_inconclusive = allow;
        }
        if let Some(skip) = flag(self.no_smtp, "no_smtp") {
            args.no_smtp = skip;
        }
        set(&mut args.timeout, self.timeout, given.has("timeout"));
        set(
            &mut args.domain_timeout,
            self.domain_timeout,
            given.has("domain_timeout"),
        );
        set(
            &mut args.concurrency,
            self.concurrency,
            given.has("concurrency"),
        );
        set(
            &mut args.dns_concurrency,
            self.dns_concurrency,
            given.has("dns_concurrency"),
        );
        set(
            &mut args.per_address,
            self.per_address,
            given.has("per_address"),
        );
        set(
            &mut args.memory.judging.expiry_warn,
            self.expiry_warn,
            given.has("expiry_warn"),
        );
        if args.resolver.is_none() {
            args.resolver = self.resolver;
        }
        if args.ehlo_name.is_none() {
            args.ehlo_name.clone_from(&self.ehlo_name);
        }
        if args.ca_file.is_none() {
            args.ca_file = ca_file;
        }
    }
}

/// A text value of the file read by `read`; a complaint is put on the value's line of `text`.
fn read_text<T>(
    text: &str,
    value: Option<Spanned<String>>,
    what: &str,
    read: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    value
        .map(|value| {
            read(value.get_ref()).map_err(|why| ConfigError {
                line: Some(line_of(text, value.span().start)),
                message: format!("{what}: {why}"),
            })
        })
        .transpose()
}

fn set<T>(field: &mut T, value: Option<T>, given: bool) {
    if let (Some(value), false) = (value, given) {
        *field = value;
    }
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::catalog::CheckId;
    use crate::cli::{Cli, Command};

    fn error(text: &str) -> ConfigError {
        Config::parse(text, "mtasts.toml").unwrap_err()
    }

    #[test]
    fn reads_settings_and_ignores() {
        let text = "profile = \"sge\"\nfail-on = \"warn\"\nformat = \"jsonl\"\ntimeout = 5\n\
                    resolver = \"127.0.0.1:5353\"\n\n[[ignore]]\nid = \"tlsrpt.present\"\n\
                    domain = \"Example.ORG\"\nreason = \"ticket 12\"\nuntil = \"2026-09-30\"\n\n\
                    [[ignore]]\nid = \"policy.mode-enforce\"\nreason = \"rolling out\"\n";
        let config = Config::parse(text, "mtasts.toml").unwrap();
        assert_eq!(config.profile, Some(Profile::Sge));
        assert_eq!(config.fail_on, Some(FailOn::Warn));
        assert_eq!(config.format, Some(Format::Jsonl));
        assert_eq!(config.timeout, Some(5));
        assert_eq!(config.resolver.map(|r| r.port()), Some(5353));
        assert_eq!(config.ignore.len(), 2);
        let first = &config.ignore[0];
        assert_eq!(first.id, CheckId::TlsRptPresent);
        assert_eq!(first.domain.as_deref(), Some("example.org"));
        assert_eq!(
            first.until.map(|d| d.to_string()).as_deref(),
            Some("2026-09-30")
        );
        assert_eq!(first.origin, "mtasts.toml line 7");
        assert_eq!(config.ignore[1].origin, "mtasts.toml line 13");
        // A bare TOML date reads as a quoted one.
        let bare = Config::parse(
            "[[ignore]]\nid = \"policy.mode\"\nreason = \"x\"\nuntil = 2026-09-30\n",
            "m",
        )
        .unwrap();
        assert_eq!(bare.ignore[0].until, first.until);
        assert_eq!(Config::parse("", "x").unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let err = error("profile = \"rfc\"\ntiemout = 5\n");
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("unknown field `tiemout`"), "{err}");
        let err =
            error("[[ignore]]\nid = \"policy.mode\"\nreason = \"x\"\nuntill = \"2026-01-01\"\n");
        assert_eq!(err.line, Some(4), "{err}");
        assert!(err.message.contains("`untill`"), "{err}");
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let cases = [
            (
                "timeout = 0\n",
                1,
                "`timeout` must be from 1 to 3600, not 0",
            ),
            ("\nprofile = \"eu\"\n", 2, "eu"),
            ("resolver = \"dns.example\"\n", 1, "`resolver`"),
            (
                "[[ignore]]\nid = \"policy.mod\"\nreason = \"x\"\n",
                2,
                "there is no check `policy.mod`; the closest are `policy.mode`",
            ),
            (
                "[[ignore]]\nid = \"policy.mode\"\nreason = \"x\"\nuntil = \"2026-13-01\"\n",
                4,
                "`until`",
            ),
            (
                "[[ignore]]\nid = \"policy.mode\"\nreason = \" \"\n",
                3,
                "`reason` is empty",
            ),
            (
                "[[ignore]]\nid = \"policy.mode\"\n",
                1,
                "missing field `reason`",
            ),
        ];
        for (text, line, wanted) in cases {
            let err = error(text);
            assert_eq!(err.line, Some(line), "{text:?}: {err}");
            assert!(err.message.contains(wanted), "{text:?}: {err}");
        }
        assert!(error("timeout = ").to_string().starts_with("line 1: "));
    }

    #[test]
    fn the_command_line_beats_the_file() {
        let config = Config::parse(
            "profile = \"ncsc\"\ntimeout = 7\nfail-on = \"warn\"\nno-smtp = true\n",
            "mtasts.toml",
        )
        .unwrap();
        let cli = Cli::try_parse_from(["mtasts", "check", "--timeout", "3", "a.example"]).unwrap();
        let Command::Check(mut args) = cli.command else {
            panic!("not check");
        };
        let given = Given(["timeout".to_owned()].into());
        config.apply_check(&mut args, &given, None);
        assert_eq!(args.timeout, 3, "given on the command line");
        assert_eq!(args.report.profile, Profile::Ncsc);
        assert_eq!(args.report.fail_on, FailOn::Warn);
        assert!(args.no_smtp);
    }

    #[test]
    fn lines_are_counted_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
