//! Test servers on loopback, a certificate authority made at run time, hand-built observations
//! and the fixture corpus loader.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]
// Test servers and fixture files: the tests' own side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod ca;
pub mod contract;
pub mod delay;
pub mod dns;
pub mod fixtures;
pub mod https;
pub mod lab;
pub mod mime;
pub mod peak;
pub mod report_json;
pub mod sarif;
pub mod scenario;
pub mod smtp;
pub mod workflow;
