//! The command line: what `mtasts` accepts, parsed and validated by clap before anything runs.
//!
//! Domain names are normalised here (trimmed, lower-cased, one trailing dot dropped) and rejected
//! when they cannot be a host name (RFC 1035 §2.3.4 lengths; letters, digits, hyphen and, for the
//! `_mta-sts` style labels people paste, underscore). A bad value is a usage error: exit 2.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalog::Profile;
use crate::report::catalog::CatalogFormat;
use crate::report::Format;

/// Audit MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) deployments.
///
/// Exit status: 0 when nothing reaches --fail-on, 1 when something does (a check that could not be
/// determined counts unless --allow-inconclusive), 2 on a usage or internal error.
#[derive(Debug, Parser)]
#[command(name = "mtasts", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit the MTA-STS and TLS-RPT deployment of one or more domains.
    Check(CheckArgs),
    /// Check a policy file (mta-sts.txt) on its own, without any network access.
    Lint(LintArgs),
    /// Print the catalog of checks (docs/checks.md is its markdown form).
    Checks(ChecksArgs),
}

/// Which findings make the exit status 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only failures (and, unless --allow-inconclusive, checks that could not be determined).
    #[default]
    Fail,
    /// Warnings as well as failures.
    Warn,
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
    /// The lowest outcome that makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Do not count checks that could not be determined (e.g. port 25 blocked here) as failures.
    #[arg(long)]
    pub allow_inconclusive: bool,
    /// Skip the STARTTLS probes of the MX hosts (for networks that block outbound port 25).
    #[arg(long)]
    pub no_smtp: bool,
    /// Extra trust anchors (PEM), added to the Mozilla roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// DNS server to ask instead of the system's.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_resolver)]
    pub resolver: Option<SocketAddr>,
    /// Timeout in seconds for each network step.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
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
    /// The domains to audit (A-label form for internationalised names).
    #[arg(required = true, value_name = "DOMAIN", value_parser = parse_domain)]
    pub domains: Vec<String>,
}

/// The `--timeout` default, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

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

/// Why a domain name was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainError {
    Empty,
    TooLong { len: usize },
    EmptyLabel,
    LabelTooLong { label: String },
    NonAscii,
    BadCharacter { ch: char },
    EdgeHyphen { label: String },
    IpLiteral,
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the name is empty"),
            Self::TooLong { len } => write!(f, "the name is {len} characters long (at most 253)"),
            Self::EmptyLabel => {
                f.write_str("the name has an empty label (two dots in a row, or a leading dot)")
            }
            Self::LabelTooLong { label } => {
                write!(
                    f,
                    "the label `{label}` is {} characters long (at most 63)",
                    label.len()
                )
            }
            Self::NonAscii => f.write_str(
                "internationalised names are not converted yet; give the A-label (xn--) form",
            ),
            Self::BadCharacter { ch } => write!(
                f,
                "`{}` is not allowed (only letters, digits, hyphen and underscore)",
                ch.escape_debug()
            ),
            Self::EdgeHyphen { label } => {
                write!(f, "the label `{label}` starts or ends with a hyphen")
            }
            Self::IpLiteral => f.write_str("an IP address is not a mail domain"),
        }
    }
}

impl std::error::Error for DomainError {}

/// Normalises a domain given on the command line: trims it, lower-cases it, drops one trailing
/// dot, and checks that it can be a DNS host name.
pub fn normalize_domain(input: &str) -> Result<String, DomainError> {
    let trimmed = input.trim();
    let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if name.is_empty() {
        return Err(DomainError::Empty);
    }
    if !name.is_ascii() {
        return Err(DomainError::NonAscii);
    }
    let name = name.to_ascii_lowercase();
    // 253 characters of text is the 255-octet wire limit of RFC 1035 §2.3.4.
    if name.len() > 253 {
        return Err(DomainError::TooLong { len: name.len() });
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(DomainError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(DomainError::LabelTooLong {
                label: label.to_owned(),
            });
        }
        if let Some(ch) = label
            .chars()
            .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_'))
        {
            return Err(DomainError::BadCharacter { ch });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainError::EdgeHyphen {
                label: label.to_owned(),
            });
        }
    }
    // No top-level domain is all digits (RFC 3696 §2), so this is an IPv4 address.
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DomainError::IpLiteral);
    }
    Ok(name)
}

/// clap value parser for domain names; clap's message names the rejected value.
fn parse_domain(input: &str) -> Result<String, DomainError> {
    normalize_domain(input)
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
    fn normalizes_accepted_names() {
        let cases = [
            ("example.com", "example.com"),
            ("  Example.COM.  ", "example.com"),
            ("_mta-sts.example.com", "_mta-sts.example.com"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("localhost", "localhost"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_domain(input).as_deref(),
                Ok(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_names() {
        let long_label = "a".repeat(64);
        let long_name = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
        ]
        .join(".");
        let cases: [(&str, DomainError); 9] = [
            ("", DomainError::Empty),
            (".", DomainError::Empty),
            ("example.com..", DomainError::EmptyLabel),
            ("a..b", DomainError::EmptyLabel),
            (".example.com", DomainError::EmptyLabel),
            (
                &long_label,
                DomainError::LabelTooLong {
                    label: long_label.clone(),
                },
            ),
            (&long_name, DomainError::TooLong { len: 255 }),
            ("bücher.example", DomainError::NonAscii),
            ("exa mple.com", DomainError::BadCharacter { ch: ' ' }),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_domain(input), Err(expected), "{input:?}");
        }
        assert!(matches!(
            normalize_domain("a/b.com"),
            Err(DomainError::BadCharacter { ch: '/' })
        ));
        assert!(normalize_domain("mx\r\nQUIT.example").is_err());
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
        assert_eq!(args.domains, ["example.com"]);
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
        assert_eq!(args.domains, ["a.example", "b.example"]);
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
