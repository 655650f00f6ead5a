//! The conventions of a command-line tool (issue 13): shell completions that the shells accept,
//! a man page that mandoc accepts, and one table of exit codes shared by `--help`, the man page
//! and the README. Nothing here touches the network.
//!
//! The completion checks for zsh, fish and elvish need those shells, and the man page checks
//! need mandoc, all of which `.ci/run` installs: plain `cargo test` lists them as ignored, and
//! under `--include-ignored` each fails when what it needs is missing. bash is always there, so
//! its check always runs, and so does the comparison of the exit codes (it reads the roff).

// Test code runs the binary and the shells, and reads the README.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mtasts::exit::EXIT_CODES;

fn mtasts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let output = mtasts(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Writes the completion script for `shell` into a temporary directory.
fn completion_file(shell: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
    let script = stdout_of(&["completions", shell]);
    assert!(script.contains("mtasts"), "{shell}: {script}");
    // Every command and a flag of `check` are in every script (fish writes `-l fail-on`).
    for word in ["check", "lint", "explain", "fail-on"] {
        assert!(script.contains(word), "{shell} script lacks {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, script).unwrap();
    (dir, path)
}

/// Runs `program args... path`; the shell must exist and accept the script.
fn shell_accepts(program: &str, args: &[&str], path: &Path) {
    let output = Command::new(program)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run {program} ({err}): install it (.ci/run apt-installs it)")
        });
    assert!(
        output.status.success(),
        "{program} rejects the completion script: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `program -c script` and returns what it printed; it must succeed.
fn shell_output(program: &str, script: &str) -> String {
    let output = Command::new(program)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program} ({err})"));
    assert!(
        output.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The commands a completion must offer after `mtasts `.
const COMMANDS: [&str; 5] = ["check", "lint", "explain", "completions", "man"];

#[test]
fn bash_completion_is_valid_bash_and_completes() {
    let (_dir, path) = completion_file("bash", "mtasts.bash");
    shell_accepts("bash", &["-n"], &path);
    // Sourced for real, it registers a function that completes the commands.
    let offered = shell_output(
        "bash",
        &format!(
            "source {} && complete -p mtasts >/dev/null && COMP_WORDS=(mtasts '') && \
             COMP_CWORD=1 && _mtasts mtasts '' mtasts && echo \"${{COMPREPLY[@]}}\"",
            path.display()
        ),
    );
    for command in COMMANDS {
        assert!(
            offered.split_whitespace().any(|word| word == command),
            "{offered}"
        );
    }
}

#[test]
#[ignore = "needs zsh, which .ci/run installs"]
fn zsh_completion_is_valid_zsh() {
    let (_dir, path) = completion_file("zsh", "_mtasts");
    shell_accepts("zsh", &["-n"], &path);
}

#[test]
#[ignore = "needs fish, which .ci/run installs"]
fn fish_completion_is_valid_fish_and_completes() {
    let (_dir, path) = completion_file("fish", "mtasts.fish");
    shell_accepts("fish", &["--no-execute"], &path);
    let source = format!("source {};", path.display());
    let commands = shell_output("fish", &format!("{source} complete -C 'mtasts '"));
    for command in COMMANDS {
        assert!(
            commands
                .lines()
                .any(|line| line.starts_with(&format!("{command}\t"))),
            "{commands}"
        );
    }
    let values = shell_output(
        "fish",
        &format!("{source} complete -C 'mtasts check --fail-on '"),
    );
    let values: Vec<&str> = values
        .lines()
        .filter_map(|line| line.split('\t').next())
        .collect();
    assert_eq!(values, ["change", "fail", "warn"]);
}

/// Elvish knows the `edit:` module only in an interactive session, so the script is run with
/// stand-ins for the two names it uses from it (any other `edit:` name fails the test, so the
/// stand-ins stay complete), and its completer is asked what follows `mtasts `.
#[test]
#[ignore = "needs elvish, which .ci/run installs"]
fn elvish_completion_is_valid_elvish_and_completes() {
    let (dir, path) = completion_file("elvish", "mtasts.elv");
    let script = std::fs::read_to_string(&path).unwrap();
    let stubbed = script
        .replace("edit:completion:arg-completer", "arg-completer")
        .replace("edit:complex-candidate", "complex-candidate");
    assert!(
        !stubbed.contains("edit:"),
        "a new edit: name to stand in for:\n{script}"
    );
    let runnable = dir.path().join("run.elv");
    std::fs::write(
        &runnable,
        format!(
            "var arg-completer = [&]\nfn complex-candidate {{|c &display=''| put $c }}\n\
             {stubbed}\n$arg-completer[mtasts] mtasts ''\n"
        ),
    )
    .unwrap();
    shell_accepts("elvish", &["-compileonly"], &runnable);
    let output = Command::new("elvish").arg(&runnable).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let offered = String::from_utf8_lossy(&output.stdout);
    for command in COMMANDS {
        assert!(
            offered
                .lines()
                .any(|line| line.ends_with(&format!(" {command}"))),
            "{offered}"
        );
    }
}

/// PowerShell is not packaged for Debian, so its script is only read: it registers a completer
/// for `mtasts`.
#[test]
fn powershell_completion_registers_a_completer() {
    let (_dir, path) = completion_file("powershell", "mtasts.ps1");
    let script = std::fs::read_to_string(path).unwrap();
    assert!(
        script.contains("Register-ArgumentCompleter -Native -CommandName 'mtasts'"),
        "{script}"
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = mtasts(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("tcsh"));
}

/// `mandoc -T lint` on one page: nothing at warning level or above.
fn mandoc_accepts(page: &str, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, page).unwrap();
    let output = Command::new("mandoc")
        .args(["-T", "lint", "-W", "warning"])
        .arg(&path)
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run mandoc ({err}): install it (apt-get install mandoc; .ci/run does)")
        });
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "mandoc -T lint on {name}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "needs mandoc, which .ci/run installs"]
fn man_pages_pass_mandoc_lint() {
    mandoc_accepts(&stdout_of(&["man"]), "mtasts.1");
    for command in mtasts::manpage::commands() {
        let page = stdout_of(&["man", &command]);
        mandoc_accepts(&page, &format!("mtasts-{command}.1"));
    }
    let output = mtasts(&["man", "chekc"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a command"));
}

/// The man page renders to text with both added sections and the options of the commands.
#[test]
#[ignore = "needs mandoc, which .ci/run installs"]
fn man_page_renders_with_exit_status_and_examples() {
    let page = stdout_of(&["man"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mtasts.1");
    std::fs::write(&path, page).unwrap();
    let output = Command::new("mandoc")
        .args(["-T", "utf8"])
        .arg(&path)
        .output()
        .expect("mandoc (apt-get install mandoc)");
    assert!(output.status.success());
    // mandoc marks bold by overstriking; drop that to read the text.
    let text = strip_overstrike(&String::from_utf8_lossy(&output.stdout));
    for heading in [
        "EXIT STATUS",
        "EXAMPLES",
        "SEE ALSO",
        "mtasts explain policy.max-age",
    ] {
        assert!(text.contains(heading), "{heading} missing from:\n{text}");
    }
    let check = stdout_of(&["man", "check"]);
    assert!(check.contains("allow\\-inconclusive"), "{check}");
    assert!(check.contains(".SH \"EXIT STATUS\""), "{check}");
}

fn strip_overstrike(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        if ch == '\u{8}' {
            out.pop();
        } else {
            out.push(ch);
        }
    }
    out
}

/// The man page's EXIT STATUS as (code, meaning) pairs: `.TP`, the code in bold, the meaning.
fn man_exit_codes(page: &str) -> Vec<(u8, String)> {
    let section = page
        .split(".SH \"EXIT STATUS\"")
        .nth(1)
        .or_else(|| page.split(".SH EXIT STATUS").nth(1))
        .expect("an EXIT STATUS section")
        .split("\n.SH ")
        .next()
        .unwrap();
    section
        .split(".TP\n")
        .skip(1)
        .map(|item| {
            let text = unroff(item);
            let (code, meaning) = text.split_once('\n').expect("code, then meaning");
            (
                code.trim().parse().expect("a numeric code"),
                meaning.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

/// Roff text as plain text: font changes dropped, escaped hyphens and quotes restored.
fn unroff(text: &str) -> String {
    text.replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "")
        .replace("\\-", "-")
        .replace("\\(aq", "'")
        .replace("\\(oq", "'")
        .replace("\\(cq", "'")
        .replace("\\&", "")
}

/// The README's exit status table as (code, meaning) pairs, backticks dropped.
fn readme_exit_codes() -> Vec<(u8, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("| exit | meaning |\n| --- | --- |\n")
        .nth(1)
        .expect("the README's exit status table");
    table
        .lines()
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            (
                cells[0].trim().parse().expect("a numeric code"),
                cells[1].trim().replace('`', ""),
            )
        })
        .collect()
}

#[test]
fn exit_codes_agree_in_man_page_readme_help_and_code() {
    let table: Vec<(u8, String)> = EXIT_CODES
        .iter()
        .map(|(code, meaning)| (*code, meaning.replace('`', "")))
        .collect();
    assert_eq!(man_exit_codes(&stdout_of(&["man"])), table);
    assert_eq!(man_exit_codes(&stdout_of(&["man", "check"])), table);
    assert_eq!(readme_exit_codes(), table);
    let help = stdout_of(&["check", "--help"]);
    let help_flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for (code, meaning) in &table {
        assert!(
            help_flat.contains(&format!("{code} {meaning}")),
            "check --help lacks exit status {code}:\n{help}"
        );
    }
}
