//! docs/checks.md is exactly `mtasts checks --format markdown`, so the documentation cannot drift
//! from the catalog the binary uses.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn docs_checks_md_is_fresh() {
    let output = Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(["checks", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/checks.md is out of date with the catalog; regenerate it with:\n\n    \
         cargo run -q -- checks --format markdown > docs/checks.md\n"
    );
}

#[test]
fn every_check_has_an_anchor_in_docs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md");
    let docs = std::fs::read_to_string(path).unwrap();
    for spec in mtasts::catalog::CATALOG {
        assert!(
            docs.contains(&format!("<a id=\"{}\"></a>", spec.id.as_str())),
            "{} has no anchor",
            spec.id
        );
    }
}
