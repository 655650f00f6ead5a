//! Parsers: bytes in, typed records and [`Problem`](crate::model::Problem)s out. No I/O.
//!
//! Parsing is strict to the RFC grammar; where senders are known to be lenient, the problem's
//! evidence says so. A leniency is reported, never applied silently.

pub mod mx_pattern;
pub mod policy;
pub mod smtp_reply;
pub mod sts_record;
pub mod tag_value;
pub mod tlsrpt_record;
