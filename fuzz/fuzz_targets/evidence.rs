//! Fuzz target `evidence`: saved evidence as `replay` and `--baseline` read it; the input
//! handling and invariants live in tests/fuzz_harness, shared with the regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::evidence(data));
