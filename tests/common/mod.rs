//! Test servers on loopback and a certificate authority made at run time.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod ca;
pub mod fixtures;
pub mod scenario;
