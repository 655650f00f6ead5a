//! Fuzz target `tlsrpt_report`: the TLS-RPT report reader (containers, parser, summary and
//! renderers). The input handling and invariants live in tests/tlsrpt_report_harness, shared
//! with the property tests.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/tlsrpt_report_harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::tlsrpt_report(data));
