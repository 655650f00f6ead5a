//! `mtasts man [COMMAND]`: man pages in roff, made from the one clap definition ([`crate::cli`])
//! by `clap_mangen`, with the sections clap knows nothing of added here: EXIT STATUS (from
//! [`crate::exit::EXIT_CODES`], the table the README and `--help` show), EXAMPLES and SEE ALSO.
//!
//! `mtasts man` is mtasts(1); `mtasts man check` is mtasts-check(1), one page per command, as
//! git and cargo do, so that each command's options have a page of their own.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

use crate::cli::Cli;

/// The date on every page (`.TH`), the release it describes; pages carry no build time, so the
/// same source gives the same pages. Update it with the version.
const PAGE_DATE: &str = "2026-12-01";

/// The commands whose exit status is the audit's ([`crate::exit::EXIT_CODES`]).
const AUDIT_COMMANDS: [&str; 3] = ["check", "lint", "replay"];

/// The exit status of `mtasts reports`, which reads files and judges nothing.
const REPORTS_EXIT_CODES: [(u8, &str); 3] = [
    (0, "Every input was read."),
    (
        1,
        "Some input could not be read (each is named on standard error).",
    ),
    (2, "Usage error."),
];

/// Examples shown on mtasts(1): what to run, then what it does.
const EXAMPLES: [(&str, &str); 9] = [
    (
        "mtasts check example.org",
        "Audit one domain; the report goes to standard output.",
    ),
    (
        "mtasts check --profile sge --fail-on warn example.org",
        "Judge by the New Zealand SGE guide and fail on warnings too, as a CI job would.",
    ),
    (
        "mtasts check --file domains.txt --format jsonl > results.jsonl",
        "Audit a list of domains, one JSON object per line as each finishes.",
    ),
    (
        "mtasts check --config ci/mtasts.toml --ignore tlsrpt.present@example.org example.org",
        "Take settings and accepted findings from a configuration file, and accept one more.",
    ),
    (
        "mtasts lint mta-sts.txt",
        "Check a policy file before publishing it.",
    ),
    (
        "mtasts explain policy.max-age",
        "Show what a check verifies, why, and passing and failing examples.",
    ),
    (
        "mtasts reports ~/Maildir/.tlsrpt",
        "Summarise the TLS-RPT reports senders mailed to the domain.",
    ),
    (
        "mtasts completions bash > /etc/bash_completion.d/mtasts",
        "Install completions for bash (also zsh, fish, elvish, powershell).",
    ),
    (
        "mtasts man check > mtasts-check.1",
        "Write the page of one command.",
    ),
];

/// The command names `mtasts man` accepts, besides none at all.
pub fn commands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .filter(|name| name != "help")
        .collect()
}

/// Writes the page of `command` (`None`: mtasts(1)). `Err` of kind `InvalidInput` for a name
/// that is not a command.
pub fn render(command: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let version = cli.get_version().unwrap_or_default().to_owned();
    let (page, name) = match command {
        None => (cli.clone(), "mtasts".to_owned()),
        Some(name) => {
            let sub = cli.find_subcommand(name).cloned().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "`{name}` is not a command of mtasts; the commands are {}",
                        commands().join(", ")
                    ),
                )
            })?;
            (sub, format!("mtasts-{name}"))
        }
    };
    let man = Man::new(page.clone())
        .title(name.to_uppercase())
        .section("1")
        .date(PAGE_DATE)
        .source(format!("mtasts {version}"))
        .manual("User Commands");
    let mut generated = Vec::new();
    man.render_title(&mut generated)?;
    man.render_name_section(&mut generated)?;
    man.render_synopsis_section(&mut generated)?;
    man.render_description_section(&mut generated)?;
    if page.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut generated)?;
    }
    if page.has_subcommands() {
        man.render_subcommands_section(&mut generated)?;
    }
    // clap_mangen separates an option's help from its list of values with `.br`, an empty line
    // and `.br`, which mandoc -T lint warns about; one `.sp` is the same vertical space.
    let generated = String::from_utf8_lossy(&generated).replace("\n.br\n\n.br\n", "\n.sp\n");
    out.write_all(generated.as_bytes())?;
    let mut roff = Roff::default();
    match command {
        None => exit_status(
            &mut roff,
            &crate::exit::EXIT_CODES,
            Some("check, lint and replay"),
        ),
        Some(name) if AUDIT_COMMANDS.contains(&name) => {
            exit_status(&mut roff, &crate::exit::EXIT_CODES, None);
        }
        Some("reports") => exit_status(&mut roff, &REPORTS_EXIT_CODES, None),
        Some(_) => {}
    }
    if command.is_none() {
        roff.control("SH", ["EXAMPLES"]);
        for (run, what) in EXAMPLES {
            roff.control("TP", []);
            roff.text([bold(run)]);
            roff.text([roman(what)]);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut see_also: Vec<String> = std::iter::once("mtasts".to_owned())
        .chain(commands().into_iter().map(|sub| format!("mtasts-{sub}")))
        .filter(|page| *page != name)
        .map(|page| format!("{page}(1)"))
        .collect();
    see_also.push("the checks: docs/checks.md; the rules: docs/rules.md".to_owned());
    roff.text([roman(see_also.join(", "))]);
    roff.to_writer(out)?;
    // The commands carry no version of their own; the title names it on every page.
    if command.is_none() {
        man.render_version_section(out)?;
    }
    Ok(())
}

/// The EXIT STATUS section: one tagged paragraph per code. Backticks mark flags in the table's
/// text; on the page they are bold.
fn exit_status(roff: &mut Roff, codes: &[(u8, &str)], of: Option<&str>) {
    roff.control("SH", ["EXIT STATUS"]);
    if let Some(of) = of {
        roff.text([roman(format!("The exit status of {of}:"))]);
    }
    for (code, meaning) in codes {
        roff.control("TP", []);
        roff.text([bold(code.to_string())]);
        let inlines: Vec<_> = meaning
            .split('`')
            .enumerate()
            .map(|(index, part)| {
                if index % 2 == 1 {
                    bold(part)
                } else {
                    roman(part)
                }
            })
            .collect();
        roff.text(inlines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(command: Option<&str>) -> String {
        let mut out = Vec::new();
        render(command, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_main_page_has_exit_status_and_examples() {
        let text = page(None);
        assert!(text.contains("\n.TH MTASTS 1 "), "{text}");
        for section in ["NAME", "SYNOPSIS", "EXAMPLES"] {
            assert!(text.contains(&format!("\n.SH {section}\n")), "{section}");
        }
        for section in ["EXIT STATUS", "SEE ALSO"] {
            assert!(
                text.contains(&format!("\n.SH \"{section}\"\n")),
                "{section}"
            );
        }
        assert!(text.contains("mtasts\\-check(1)"), "{text}");
    }

    #[test]
    fn every_command_has_a_page_and_unknown_ones_are_named() {
        for command in commands() {
            let text = page(Some(&command));
            assert!(
                text.contains(&format!("\n.TH MTASTS-{} 1 ", command.to_uppercase())),
                "{text}"
            );
        }
        assert!(page(Some("check")).contains(".SH \"EXIT STATUS\""));
        let err = render(Some("chekc"), &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("check, lint"), "{err}");
    }
}
