//! mtasts: an auditor for MTA-STS (RFC 8461) and SMTP TLS Reporting (RFC 8460).
//!
//! The audit runs in stages (DNS, policy fetch, policy parse, MX cross-check, STARTTLS probes,
//! TLS-RPT). The network stages live behind [`probe::Probe`] and return plain
//! [`observe::Observations`]; [`verdict::judge`] turns those into [`model::Finding`]s, each tied
//! to a check of the [`catalog`]. Renderers in [`report`] only format findings.

// Also set in Cargo.toml `[lints.rust]`; stated here so the guarantee is visible in the code.
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod destination;
pub mod engine;
pub mod escape;
pub mod evidence;
pub mod exit;
pub mod ignore;
pub mod input;
pub mod manpage;
pub mod model;
pub mod name;
pub mod net;
pub mod observe;
pub mod parse;
pub mod probe;
pub mod report;
pub mod retired;
pub mod stats;
pub mod tlsrpt_report;
pub mod verdict;
