//! The conventions of a command-line tool (issue 13): shell completions that the shells accept,
//! a man page that mandoc accepts, and one table of exit codes shared by `--help`, the man page
//! and the README. Nothing here touches the network.
//!
//! The completion checks for zsh, fish and elvish need those shells, which `.ci/run` installs:
//! plain `cargo test` lists them as ignored, and under `--include-ignored` each fails when its
//! shell is missing. bash is always there, so its check always runs.

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
    // Every command and a flag of `check` are in every script.
    for word in ["check", "lint", "explain", "--fail-on"] {
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

#[test]
fn bash_completion_is_valid_bash() {
    let (_dir, path) = completion_file("bash", "mtasts.bash");
    shell_accepts("bash", &["-n"], &path);
    // Sourced for real, it registers the completion function.
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p mtasts", path.display()))
        .output()
        .unwrap();
    let registered = String::from_utf8_lossy(&output.stdout);
    assert!(registered.contains("mtasts"), "{registered}");
}

#[test]
#[ignore = "needs zsh, which .ci/run installs"]
fn zsh_completion_is_valid_zsh() {
    let (_dir, path) = completion_file("zsh", "_mtasts");
    shell_accepts("zsh", &["-n"], &path);
}

#[test]
#[ignore = "needs fish, which .ci/run installs"]
fn fish_completion_is_valid_fish() {
    let (_dir, path) = completion_file("fish", "mtasts.fish");
    shell_accepts("fish", &["--no-execute"], &path);
}

#[test]
#[ignore = "needs elvish, which .ci/run installs"]
fn elvish_completion_is_valid_elvish() {
    let (_dir, path) = completion_file("elvish", "mtasts.elv");
    shell_accepts("elvish", &["-compileonly"], &path);
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
