//! Test servers on loopback and a certificate authority made at run time.
#![allow(dead_code, unreachable_pub)]

pub mod ca;
pub mod smtp;
