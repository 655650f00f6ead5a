//! The GitHub Action's shell part (`scripts/action-run.sh`, run by `action.yml`) run locally as
//! the runner would run it: in a checkout, with the built binary as `MTASTS`, the action's
//! inputs as `INPUT_*` variables, `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` as files, and the
//! loopback lab reached through the `args` input. It must write the SARIF log, report it in
//! the step's outputs, and exit as `fail-on` says.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use common::lab::{run, World};

/// One run of the action's script, and what it left behind.
struct ActionRun {
    output: Output,
    /// `GITHUB_OUTPUT`, read back as the runner does (`name=value` lines).
    outputs: BTreeMap<String, String>,
    summary: String,
    checkout: tempfile::TempDir,
}

impl ActionRun {
    fn sarif(&self) -> serde_json::Value {
        let name = &self.outputs["sarif-file"];
        let text = std::fs::read_to_string(self.checkout.path().join(name)).unwrap();
        common::sarif::assert_valid(&text)
    }

    fn status(&self) -> Option<i32> {
        self.output.status.code()
    }
}

/// Runs the script with `inputs` (name without the `INPUT_` prefix, value) in a fresh checkout
/// holding `domains.txt`; the lab flags go in through the `args` input.
async fn run_action(world: &World, inputs: &[(&str, &str)]) -> ActionRun {
    let checkout = tempfile::tempdir().unwrap();
    std::fs::write(
        checkout.path().join("domains.txt"),
        "# audited by the action\nbroken.test\n",
    )
    .unwrap();
    let output_file = checkout.path().join("github-output");
    let summary_file = checkout.path().join("step-summary");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-run.sh");
    let mut command = Command::new("bash");
    command
        .arg(script)
        .current_dir(checkout.path())
        .env("MTASTS", env!("CARGO_BIN_EXE_mtasts"))
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("INPUT_ARGS", world.lab_flags().join(" "));
    for (name, value) in inputs {
        command.env(format!("INPUT_{name}"), value);
    }
    let output = run(command).await;
    let outputs = std::fs::read_to_string(&output_file)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let (name, value) = line.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let summary = std::fs::read_to_string(&summary_file).unwrap_or_default();
    ActionRun {
        output,
        outputs,
        summary,
        checkout,
    }
}

fn results_of_level(log: &serde_json::Value, level: &str) -> usize {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|result| result["level"] == level)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_domain_from_the_file_input_fails_the_step_with_its_sarif() {
    let world = World::start().await;
    let action = run_action(&world, &[("FILE", "domains.txt")]).await;
    assert_eq!(
        action.status(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&action.output.stderr)
    );
    assert_eq!(action.outputs["exit-code"], "1");
    assert_eq!(action.outputs["sarif-file"], "mtasts.sarif");
    let log = action.sarif();
    let located = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(located["artifactLocation"]["uri"], "domains.txt");
    assert_eq!(located["region"]["startLine"], 2);
    // The counts the script gives the workflow are the log's.
    for (output, level) in [
        ("errors", "error"),
        ("warnings", "warning"),
        ("notes", "note"),
    ] {
        assert_eq!(
            action.outputs[output],
            results_of_level(&log, level).to_string(),
            "{output}"
        );
    }
    assert_ne!(action.outputs["errors"], "0");
    assert!(
        action.summary.contains("findings reached `--fail-on fail`"),
        "{}",
        action.summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_and_profile_decide_the_exit_status() {
    let world = World::start().await;
    // good.test passes; testing.test (mode testing) only warns under ncsc.
    let passing = run_action(
        &world,
        &[
            ("DOMAINS", "good.test\n  testing.test"),
            ("PROFILE", "ncsc"),
        ],
    )
    .await;
    assert_eq!(
        passing.status(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&passing.output.stderr)
    );
    assert_eq!(passing.outputs["exit-code"], "0");
    assert!(passing.summary.contains("nothing reached `--fail-on fail`"));
    let log = passing.sarif();
    assert_eq!(
        log["runs"][0]["invocations"][0]["properties"]["profile"],
        "ncsc"
    );
    assert!(results_of_level(&log, "warning") > 0);

    let on_warn = run_action(
        &world,
        &[
            ("DOMAINS", "testing.test"),
            ("PROFILE", "ncsc"),
            ("FAIL_ON", "warn"),
        ],
    )
    .await;
    assert_eq!(on_warn.status(), Some(1));
    assert_eq!(
        on_warn.sarif()["runs"][0]["invocations"][0]["properties"]["failOn"],
        "warn"
    );

    // The sarif-file input names where the log goes.
    let elsewhere = run_action(
        &world,
        &[("DOMAINS", "good.test"), ("SARIF_FILE", "audit.sarif")],
    )
    .await;
    assert_eq!(elsewhere.status(), Some(0));
    assert_eq!(elsewhere.outputs["sarif-file"], "audit.sarif");
    assert!(elsewhere.checkout.path().join("audit.sarif").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_domain_or_a_bad_input_stops_with_status_2_and_no_log() {
    let world = World::start().await;
    let nothing = run_action(&world, &[]).await;
    assert_eq!(nothing.status(), Some(2));
    assert!(!nothing.outputs.contains_key("sarif-file"));
    assert!(String::from_utf8_lossy(&nothing.output.stdout).contains("::error title=mtasts::"));

    let bad_profile = run_action(&world, &[("DOMAINS", "good.test"), ("PROFILE", "eu")]).await;
    assert_eq!(bad_profile.status(), Some(2));
    assert_eq!(bad_profile.outputs["exit-code"], "2");
    assert!(!bad_profile.outputs.contains_key("sarif-file"));
}

/// The names under a top-level `key:` of action.yml (two-space indented `name:` lines).
fn action_keys(action: &str, key: &str) -> Vec<String> {
    action
        .lines()
        .skip_while(|line| *line != format!("{key}:"))
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| !name.starts_with(' '))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_input_reaches_the_script_and_the_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let script = std::fs::read_to_string(root.join("scripts/action-run.sh")).unwrap();
    let inputs = action_keys(&action, "inputs");
    assert_eq!(
        inputs,
        [
            "domains",
            "file",
            "profile",
            "fail-on",
            "args",
            "sarif-file",
            "upload",
            "category"
        ]
    );
    for input in &inputs {
        assert!(
            action.contains(&format!("inputs.{input} "))
                || action.contains(&format!("inputs.{input} }}")),
            "{input} is never used"
        );
        assert!(
            readme.contains(&format!("`{input}`")),
            "README does not name {input}"
        );
    }
    // The inputs the script reads are the ones the audit step hands it.
    for input in [
        "domains",
        "file",
        "profile",
        "fail-on",
        "args",
        "sarif-file",
    ] {
        let variable = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert!(
            action.contains(&format!("{variable}: ${{{{ inputs.{input} }}}}")),
            "{variable}"
        );
        assert!(script.contains(&variable), "the script ignores {variable}");
    }
    for output in action_keys(&action, "outputs") {
        assert!(
            script.contains(&format!("echo \"{output}=")),
            "the script never sets {output}"
        );
        assert!(
            readme.contains(&format!("`{output}`")),
            "README does not name {output}"
        );
    }
}
