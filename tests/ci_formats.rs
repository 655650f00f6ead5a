//! The formats CI tools read, from the real `mtasts check` binary run the way CI runs it: in
//! the checkout, with the domains in a `--file` list, against the loopback lab. Each finding
//! must point at the line its domain was read from.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a failed setup step should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};

use common::lab::{run, World};

/// The list, as a repository would keep it: good.test on line 2, broken.test on line 4.
const LIST: &str = "# mail domains audited daily\ngood.test\n\nbroken.test  # no TLS-RPT yet\n";

/// Runs `mtasts check --file domains.txt` with `args` and the lab flags in a fresh checkout.
async fn check_listed(world: &World, args: &[&str]) -> (tempfile::TempDir, Output) {
    let checkout = tempfile::tempdir().unwrap();
    std::fs::write(checkout.path().join("domains.txt"), LIST).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mtasts"));
    command
        .current_dir(checkout.path())
        .args(["check", "--quiet", "--file", "domains.txt"])
        .args(args)
        .args(world.lab_flags());
    let output = run(command).await;
    (checkout, output)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sarif_results_point_at_the_line_of_their_domain() {
    let world = World::start().await;
    let (_checkout, output) = check_listed(&world, &["--format", "sarif"]).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log = common::sarif::assert_valid(&stdout(&output));
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let domain = result["properties"]["domain"].as_str().unwrap();
        let line = match domain {
            "good.test" => 2,
            "broken.test" => 4,
            other => panic!("a result for {other}"),
        };
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "domains.txt");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startLine"], line, "{result}");
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|result| result["level"] == "error")
        .map(|result| result["ruleId"].as_str().unwrap())
        .collect();
    // broken.test: its MX is not in the policy and has no STARTTLS, and it has no TLS-RPT.
    for id in ["mx.covered", "smtp.starttls-offered"] {
        assert!(failed.contains(&id), "{id} in {failed:?}");
    }
    let settings = &log["runs"][0]["invocations"][0]["properties"]["settings"];
    assert_eq!(settings["https-port"], world.https_port.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_annotations_point_at_the_line_of_their_domain() {
    let world = World::start().await;
    let (_checkout, output) = check_listed(&world, &["--format", "github"]).await;
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let commands: Vec<common::workflow::Command> =
        text.lines().filter_map(common::workflow::parse).collect();
    assert!(commands.iter().any(|c| c.name == "error"), "{text}");
    for command in &commands {
        let title = &command.properties["title"];
        let line = if title.starts_with("broken.test: ") {
            "4"
        } else {
            "2"
        };
        assert_eq!(command.properties["file"], "domains.txt", "{command:?}");
        assert_eq!(command.properties["line"], line, "{command:?}");
    }
    assert!(text.contains("\nmtasts: broken.test: fail\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_has_a_suite_per_listed_domain() {
    let world = World::start().await;
    let (_checkout, output) = check_listed(&world, &["--format", "junit"]).await;
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let document = roxmltree::Document::parse(&text).unwrap();
    let suites: Vec<_> = document
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let failures = |name: &str| -> usize {
        let suite = suites
            .iter()
            .find(|suite| suite.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no suite {name}\n{text}"));
        suite.attribute("failures").unwrap().parse().unwrap()
    };
    // In input order, as the JSON document: the report is written whole at the end.
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(names, ["good.test", "broken.test"]);
    assert_eq!(failures("good.test"), 0, "{text}");
    assert!(failures("broken.test") >= 2, "{text}");
    let source = |name: &str| {
        document
            .descendants()
            .filter(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(name))
            .flat_map(|suite| suite.descendants())
            .find(|n| n.attribute("name") == Some("source"))
            .and_then(|n| n.attribute("value"))
            .map(str::to_owned)
    };
    assert_eq!(source("broken.test").as_deref(), Some("domains.txt:4"));
}
