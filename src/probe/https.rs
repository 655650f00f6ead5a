//! The policy fetch, exactly as a sender does it (RFC 8461 §3.3).

use std::net::IpAddr;

use super::NetworkConfig;
use crate::observe::FetchObservation;

pub async fn fetch_policy(_config: &NetworkConfig, _host: &str, _ip: IpAddr) -> FetchObservation {
    todo!()
}
