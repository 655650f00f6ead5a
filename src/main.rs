//! The `mtasts` binary: parses the command line and hands it to [`mtasts::app::run`].
//!
//! Exit status ([`mtasts::exit`]): 0 clean, 1 findings at or above `--fail-on`, 2 usage or
//! internal error, 3 nothing failed but something could not be determined.

// Also set in Cargo.toml `[lints.rust]`; stated here so the guarantee is visible in the code.
#![forbid(unsafe_code)]

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use clap::Parser;
use mtasts::app;
use mtasts::cli::Cli;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits 2 (0 for --help and --version).
    let cli = Cli::parse();
    match panic::catch_unwind(AssertUnwindSafe(|| app::run(cli))) {
        Ok(Ok(status)) => status,
        Ok(Err(err)) => {
            eprintln!("mtasts: {err:#}");
            ExitCode::from(app::EXIT_ERROR)
        }
        // The panic hook has printed the message; a bug is an internal error, not a finding.
        Err(_) => ExitCode::from(app::EXIT_ERROR),
    }
}
