//! The real [`Probe`]: hickory-resolver for DNS, reqwest for the policy, tokio + rustls for SMTP.

use std::net::IpAddr;

use super::{NetworkConfig, Probe};
use crate::observe::{
    DnsAnswer, FetchObservation, HandshakeObservation, HostLookup, LegacyTls, MxRecord,
    SmtpObservation, TxtRecord,
};

pub struct LiveProbe {
    pub(crate) dns: super::dns::DnsClient,
    pub(crate) config: NetworkConfig,
}

impl LiveProbe {
    pub fn new(config: NetworkConfig) -> anyhow::Result<Self> {
        Self::with_dns_concurrency(config, super::dns::DEFAULT_DNS_CONCURRENCY)
    }

    /// [`LiveProbe::new`] with at most `dns_concurrency` DNS questions in flight
    /// (`--dns-concurrency`; the window also shrinks when the resolver pushes back).
    pub fn with_dns_concurrency(
        config: NetworkConfig,
        dns_concurrency: usize,
    ) -> anyhow::Result<Self> {
        let dns = super::dns::DnsClient::with_concurrency(&config, dns_concurrency)?;
        Ok(Self { dns, config })
    }

    /// The run's DNS figures (retries, throttling), to read when the run is over.
    pub fn dns_stats(&self) -> std::sync::Arc<super::dns::DnsStats> {
        self.dns.stats()
    }
}

impl Probe for LiveProbe {
    async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
        self.dns.txt(name).await
    }
    async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
        self.dns.mx(name).await
    }
    async fn addrs(&self, name: &str) -> HostLookup {
        self.dns.addrs(name).await
    }
    async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
        self.dns.tlsa(name).await
    }
    async fn fetch_policy(&self, host: &str, ip: IpAddr) -> FetchObservation {
        super::https::fetch_policy(&self.config, host, ip).await
    }
    async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
        super::smtp::probe(&self.config, host, ip).await
    }
    async fn tls_handshake(
        &self,
        host: &str,
        ip: IpAddr,
        port: Option<u16>,
    ) -> HandshakeObservation {
        super::https::tls_handshake(&self.config, host, ip, port).await
    }
    async fn starttls(&self, host: &str, ip: IpAddr) -> SmtpObservation {
        super::smtp::starttls_only(&self.config, host, ip).await
    }
    async fn starttls_telling(
        &self,
        host: &str,
        ip: IpAddr,
        accepted: tokio::sync::oneshot::Sender<()>,
    ) -> SmtpObservation {
        super::smtp::starttls_telling(&self.config, host, ip, Some(accepted)).await
    }
    async fn legacy_tls(&self, host: &str, ip: IpAddr) -> Option<LegacyTls> {
        Some(super::legacy_tls::probe(&self.config, host, ip).await)
    }
}
