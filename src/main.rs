//! The `mtasts` binary: parses the command line and hands it to [`mtasts::app::run`].
//!
//! Exit status ([`mtasts::exit`]): 0 clean, 1 findings at or above `--fail-on`, 2 usage or
//! internal error, 3 nothing failed but something could not be determined.

// Also set in Cargo.toml `[lints.rust]`; stated here so the guarantee is visible in the code.
#![forbid(unsafe_code)]

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use mtasts::app;
use mtasts::cli::Cli;
use mtasts::config::Given;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits 2 (0 for --help and --version).
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    // What the command line set explicitly, which mtasts.toml may not override.
    let given = Given(
        matches
            .subcommand()
            .map(|(_, sub)| {
                sub.ids()
                    .filter(|id| sub.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                    .map(|id| id.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    );
    match panic::catch_unwind(AssertUnwindSafe(|| app::run(cli, &given))) {
        Ok(Ok(status)) => status,
        Ok(Err(err)) => {
            eprintln!("mtasts: {err:#}");
            ExitCode::from(app::EXIT_ERROR)
        }
        // The panic hook has printed the message; a bug is an internal error, not a finding.
        Err(_) => ExitCode::from(app::EXIT_ERROR),
    }
}
