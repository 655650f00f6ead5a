//! Replays every input the fuzzers (`fuzz/`) once failed on through the same harness, so that a
//! fixed crash stays fixed. Inputs live in `fixtures/fuzz-regressions/<target>/<name>`.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod fuzz_harness;

use std::fs;
use std::panic;
use std::path::Path;

#[test]
fn every_fuzz_regression_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz-regressions");
    let entries =
        fs::read_dir(&root).unwrap_or_else(|err| panic!("{} must exist: {err}", root.display()));
    let mut replayed = 0;
    let mut failures = Vec::new();
    for entry in entries {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some((_, target)) = fuzz_harness::TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{} is not named for a fuzz target", dir.display());
        };
        for file in fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let data = fs::read(&path).unwrap();
            if panic::catch_unwind(|| target(&data)).is_err() {
                failures.push(path.display().to_string());
            }
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression inputs under {}",
        root.display()
    );
    assert!(failures.is_empty(), "regressions: {failures:#?}");
}
