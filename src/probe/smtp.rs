//! The STARTTLS probe of one MX address (RFC 3207, RFC 5321): greeting, EHLO, STARTTLS, TLS,
//! EHLO again, QUIT. Never MAIL or RCPT.

use std::net::IpAddr;

use super::NetworkConfig;
use crate::observe::SmtpObservation;

pub async fn probe(_config: &NetworkConfig, _host: &str, _ip: IpAddr) -> SmtpObservation {
    todo!()
}
