//! The binary's domain-list input (`--file`, `--shard`, `--resume`) on the paths that stop the
//! run before any network use: exit 2 with a message naming the file, line or flag.
//!
//! No test here may reach a resolver: every run also gets `--resolver 127.0.0.1:1` (loopback,
//! nothing listens) and `--no-smtp`, so that even a regression that went on to audit would stay
//! on this machine. Successful input paths are tested at the unit level, in `src/input.rs`.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/input");

/// Runs `mtasts check` with the safety flags, `stdin` piped in.
fn check(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .arg("check")
        .args([
            "--resolver",
            "127.0.0.1:1",
            "--timeout",
            "1",
            "--no-smtp",
            "--quiet",
        ])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The binary may exit before reading everything; a broken pipe is fine.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit status 2, nothing on standard output, and standard error containing every `expected`.
fn assert_stops(output: &Output, expected: &[&str]) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(output.stdout.is_empty(), "{text}");
    for part in expected {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}

#[test]
fn a_list_of_only_invalid_names_stops_with_every_line_named() {
    let path = format!("{FIXTURES}/invalid-only.txt");
    let output = check(&["--file", &path], b"");
    assert_stops(
        &output,
        &[
            "no valid domain given; 7 input errors:",
            &format!("{path}:2: \"ex ample.com\": a space is not allowed"),
            &format!("{path}:3: \"localhost\": `localhost` has a single label"),
            &format!("{path}:5: \"mail_host.example\": `_` is not allowed"),
            &format!("{path}:6: \"192.0.2.1\": an IP address"),
            &format!("{path}:7: \"2001:db8::1\": an IP address"),
            &format!("{path}:8: \"a..b.example\": the name has an empty label"),
            // The escape sequence is shown, never sent to the terminal.
            &format!("{path}:9: \"evil\\x1B[31m.example\": `\\x1B` is not allowed"),
        ],
    );
    assert!(!output.stderr.contains(&0x1b), "{}", stderr(&output));
}

#[test]
fn standard_input_is_a_list_too() {
    let output = check(&["--file", "-"], b"# from a pipe\r\nnot a name\r\n");
    assert_stops(&output, &["<stdin>:2: \"not a name\""]);

    let output = check(&["--file", "-", "--file", "-"], b"a.example\n");
    assert_stops(
        &output,
        &["--file - (standard input) is given more than once"],
    );
}

#[test]
fn an_invalid_argument_is_a_usage_error_even_with_a_list() {
    // Valid names in a list do not let a typo on the command line through.
    let output = check(&["bad_name.example", "--file", "-"], b"a.example\n");
    assert_stops(
        &output,
        &["invalid domain \"bad_name.example\": `_` is not allowed"],
    );
}

#[test]
fn an_unreadable_list_stops_the_run_naming_it() {
    let output = check(
        &["a.example", "--file", "/nonexistent/mtasts/domains.txt"],
        b"",
    );
    assert_stops(
        &output,
        &["cannot read the domain list /nonexistent/mtasts/domains.txt"],
    );
    // A directory opens but cannot be read.
    let output = check(&["--file", FIXTURES], b"");
    assert_stops(
        &output,
        &[&format!("cannot read the domain list {FIXTURES}")],
    );
}

#[test]
fn an_oversized_list_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.txt");
    std::fs::write(&path, "#\n".repeat(1_000_001)).unwrap();
    let path = path.to_str().unwrap();
    let output = check(&["a.example", "--file", path], b"");
    assert_stops(
        &output,
        &[
            &format!("domain list {path}"),
            "1000001 lines (at most 1000000)",
        ],
    );
}

#[test]
fn a_bad_shard_is_a_usage_error() {
    for (shard, reason) in [
        (
            "8/8",
            "shard 8 does not exist: with 8 shards, K goes from 0 to 7",
        ),
        ("0/0", "the number of shards N must be at least 1"),
        ("3", "`3` is not of the form K/N"),
        ("a/4", "`a` is not a whole number"),
    ] {
        let output = check(&["a.example", "--shard", shard], b"");
        assert_stops(&output, &["--shard", reason]);
    }
}

#[test]
fn an_unreadable_resume_file_stops_the_run_naming_it() {
    let output = check(
        &["a.example", "--resume", "/nonexistent/mtasts/out.jsonl"],
        b"",
    );
    assert_stops(
        &output,
        &["cannot read the --resume file /nonexistent/mtasts/out.jsonl"],
    );
}

#[test]
fn help_describes_the_list_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(["check", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    for part in [
        "--file <FILE>",
        "--shard <K/N>",
        "--resume <FILE>",
        "FNV-1a",
    ] {
        assert!(text.contains(part), "{part} missing from check --help");
    }
}

/// Issue 11: a resumed run with nothing left to do exits as the whole run would have, from the
/// verdicts the `--resume` file holds.
#[test]
fn a_resumed_run_exits_with_the_status_of_the_domains_it_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let line = |domain: &str, fail: u32, warn: u32, undetermined: u32| {
        format!(
            "{{\"domain\":\"{domain}\",\"verdict\":\"x\",\"counts\":{{\"pass\":3,\"fail\":{fail},\
             \"warn\":{warn},\"info\":0,\"skipped\":0,\"could_not_determine\":{undetermined}}},\
             \"findings\":[]}}\n"
        )
    };
    // (lines in the file: domain, fail, warn, could-not-determine; extra flags; exit status)
    type Lines<'a> = &'a [(&'a str, u32, u32, u32)];
    let cases: [(Lines<'_>, &[&str], i32); 7] = [
        (&[("a.example", 0, 0, 0), ("b.example", 0, 0, 0)], &[], 0),
        (&[("a.example", 0, 0, 0), ("b.example", 2, 0, 0)], &[], 1),
        (&[("a.example", 0, 1, 0), ("b.example", 0, 0, 0)], &[], 0),
        (
            &[("a.example", 0, 1, 0), ("b.example", 0, 0, 0)],
            &["--fail-on", "warn"],
            1,
        ),
        (&[("a.example", 0, 0, 4), ("b.example", 0, 0, 0)], &[], 3),
        (&[("a.example", 0, 0, 4), ("b.example", 1, 0, 0)], &[], 1),
        (
            &[("a.example", 0, 0, 4), ("b.example", 0, 0, 0)],
            &["--allow-inconclusive"],
            0,
        ),
    ];
    for (index, (lines, flags, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("done{index}.jsonl"));
        let text: String = lines
            .iter()
            .map(|(domain, fail, warn, undetermined)| line(domain, *fail, *warn, *undetermined))
            .collect();
        std::fs::write(&path, text).unwrap();
        let mut args = vec![
            "a.example",
            "b.example",
            "--format",
            "jsonl",
            "--resume",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(flags);
        let output = check(&args, b"");
        assert!(output.stdout.is_empty(), "nothing was left to audit");
        assert_eq!(
            output.status.code(),
            Some(*expected),
            "case {index}: {}",
            stderr(&output)
        );
    }
}

/// Issue 12: what people paste (a URL, `host:port`, a `mailto:` URI, an address) is audited as
/// the domain it names, with a note on standard error naming the argument or line; what names
/// no domain is an input error saying what it was recognised as. A `--resume` file marking the
/// three domains done keeps the run off the network, and proves which domains they were taken
/// for.
#[test]
fn pasted_forms_are_taken_for_their_domains_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let done = dir.path().join("done.jsonl");
    let line = |domain: &str| {
        format!(
            "{{\"domain\":\"{domain}\",\"verdict\":\"pass\",\"counts\":{{\"pass\":1,\"fail\":0,\
             \"warn\":0,\"info\":0,\"skipped\":0,\"could_not_determine\":0}},\"findings\":[]}}\n"
        )
    };
    let text: String = ["example.org", "example.net", "example.com", "example.edu"]
        .iter()
        .map(|domain| line(domain))
        .collect();
    std::fs::write(&done, text).unwrap();
    let output = check(
        &[
            "https://mta-sts.example.org/.well-known/mta-sts.txt",
            "--file",
            "-",
            "--format",
            "jsonl",
            "--resume",
            done.to_str().unwrap(),
        ],
        b"example.net:25\nmailto:postmaster@example.com\npostmaster@example.edu\n",
    );
    let text = stderr(&output);
    assert!(
        output.stdout.is_empty(),
        "nothing was left to audit: {text}"
    );
    assert_eq!(output.status.code(), Some(0), "{text}");
    for expected in [
        "mtasts: note: argument: \"https://mta-sts.example.org/.well-known/mta-sts.txt\": the URL \
         of the MTA-STS policy of example.org: audited as example.org",
        "mtasts: note: <stdin>:1: \"example.net:25\": a host name and port: audited as \
         example.net",
        "mtasts: note: <stdin>:2: \"mailto:postmaster@example.com\": a mailto: URI: audited as \
         example.com, the domain of the address",
        "mtasts: note: <stdin>:3: \"postmaster@example.edu\": a mail address: audited as \
         example.edu, the domain of the address",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }

    let output = check(&["--file", "-"], b"https://192.0.2.1/\n192.0.2.1:25\n");
    assert_stops(
        &output,
        &[
            "<stdin>:1: \"https://192.0.2.1/\": a URL whose host is an IP address",
            "<stdin>:2: \"192.0.2.1:25\": an IP address and port",
        ],
    );
}

/// Issue 12: a `--resume` line that is valid but longer than the line bound (16 MiB) is named
/// on standard error, with the domain it reports on, and that domain is audited again rather
/// than silently taken as done or silently dropped.
#[test]
fn an_over_long_resume_line_is_reported_and_its_domain_audited_again() {
    let dir = tempfile::tempdir().unwrap();
    let done = dir.path().join("done.jsonl");
    let pad = "x".repeat(17 * 1024 * 1024);
    let long = format!("{{\"domain\":\"a.example\",\"counts\":{{\"fail\":0}},\"pad\":\"{pad}\"}}");
    let text =
        format!("{{\"domain\":\"b.example\",\"counts\":{{\"fail\":0}},\"findings\":[]}}\n{long}\n");
    std::fs::write(&done, &text).unwrap();
    // a.example is audited again; the resolver on 127.0.0.1:1 never answers, so it ends
    // could-not-determine, which is not what this test is about.
    let output = check(
        &[
            "a.example",
            "b.example",
            "--format",
            "jsonl",
            "--resume",
            done.to_str().unwrap(),
        ],
        b"",
    );
    let text = stderr(&output);
    let expected = format!(
        "mtasts: note: --resume {}:2: the line is {} bytes long, more than the 16 MiB a line is \
         read to, so it was not read: a.example is audited again",
        done.display(),
        long.len()
    );
    assert!(
        text.contains(&expected),
        "{expected:?} missing from: {text}"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let audited: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("{\"domain\""))
        .collect();
    assert_eq!(audited.len(), 1, "{stdout}");
    assert!(
        audited[0].starts_with("{\"domain\":\"a.example\""),
        "{stdout}"
    );
}
