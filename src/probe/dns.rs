//! DNS through hickory-resolver, kept as [`DnsAnswer`]s: TXT strings apart, TTLs, CNAME chains,
//! and NXDOMAIN / NODATA / failure kept distinct.

use super::NetworkConfig;
use crate::observe::{DnsAnswer, HostLookup, MxRecord, TxtRecord};

pub struct DnsClient {}

impl DnsClient {
    pub fn new(_config: &NetworkConfig) -> anyhow::Result<Self> {
        todo!()
    }
    pub async fn txt(&self, _name: &str) -> DnsAnswer<Vec<TxtRecord>> {
        todo!()
    }
    pub async fn mx(&self, _name: &str) -> DnsAnswer<Vec<MxRecord>> {
        todo!()
    }
    pub async fn addrs(&self, _name: &str) -> HostLookup {
        todo!()
    }
    pub async fn tlsa(&self, _name: &str) -> DnsAnswer<Vec<String>> {
        todo!()
    }
}
