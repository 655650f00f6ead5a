//! The network seam: the only door through which the auditor talks to DNS, HTTPS and SMTP.
//!
//! The pipeline is generic over [`Probe`]; [`live::LiveProbe`] is the real implementation.
//! Every method returns an observation, never an error: a failed lookup or connection is itself
//! something observed, and the verdict code decides what it means.

// This is the seam clippy.toml guards: only here do sockets, resolvers and clocks appear.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "probe/ is the network seam: sockets, resolvers and timing live here"
)]

pub mod caching;
pub mod cert;
pub mod deadline;
pub mod dns;
pub mod https;
mod legacy_tls;
pub mod live;
pub mod smtp;
pub mod tls;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::observe::{
    DnsAnswer, FetchObservation, HandshakeObservation, HostLookup, LegacyTls, MxRecord,
    SmtpObservation, TxtRecord,
};

/// Questions the pipeline asks of the network.
pub trait Probe: Send + Sync {
    fn txt(&self, name: &str) -> impl Future<Output = DnsAnswer<Vec<TxtRecord>>> + Send;
    fn mx(&self, name: &str) -> impl Future<Output = DnsAnswer<Vec<MxRecord>>> + Send;
    /// A and AAAA of `name`, asked concurrently.
    fn addrs(&self, name: &str) -> impl Future<Output = HostLookup> + Send;
    /// TLSA records at `name`, rendered as "3 1 1 ab12…".
    fn tlsa(&self, name: &str) -> impl Future<Output = DnsAnswer<Vec<String>>> + Send;
    /// GET `https://HOST/.well-known/mta-sts.txt` from one address, as a sender would.
    fn fetch_policy(&self, host: &str, ip: IpAddr)
        -> impl Future<Output = FetchObservation> + Send;
    /// The STARTTLS probe of one MX address, with its TLS 1.0/1.1 probe.
    fn smtp(&self, host: &str, ip: IpAddr) -> impl Future<Output = SmtpObservation> + Send;
    /// A TLS handshake with `host` at `ip` (port `port`, or the HTTPS port), nothing sent after
    /// it: how an `https:` report URL looks to a reporter before it posts. Probes that cannot
    /// make one (test doubles) say so in the observation.
    fn tls_handshake(
        &self,
        host: &str,
        ip: IpAddr,
        port: Option<u16>,
    ) -> impl Future<Output = HandshakeObservation> + Send {
        let _ = (host, port);
        async move {
            HandshakeObservation {
                ip,
                tls: Err(crate::observe::FetchFailure {
                    step: crate::observe::FetchStep::Connect,
                    timed_out: false,
                    detail: "this probe makes no TLS handshakes".to_owned(),
                }),
            }
        }
    }
    /// The STARTTLS session alone, for a caller that runs the TLS 1.0/1.1 probe once per
    /// address ([`Probe::legacy_tls`]); by default the whole [`Probe::smtp`].
    fn starttls(&self, host: &str, ip: IpAddr) -> impl Future<Output = SmtpObservation> + Send {
        self.smtp(host, ip)
    }
    /// [`Probe::starttls`], telling `accepted` as soon as STARTTLS is answered 220: the TLS
    /// 1.0/1.1 probe needs nothing more of the session, so a caller can start it then, while
    /// the session's own handshake, EHLO and QUIT take their round trips. By default
    /// `accepted` is told when the session is over (not at all if STARTTLS was refused).
    fn starttls_telling(
        &self,
        host: &str,
        ip: IpAddr,
        accepted: tokio::sync::oneshot::Sender<()>,
    ) -> impl Future<Output = SmtpObservation> + Send {
        async move {
            let obs = self.starttls(host, ip).await;
            if obs
                .starttls_reply
                .as_ref()
                .is_some_and(|reply| reply.code == 220)
            {
                let _ = accepted.send(());
            }
            obs
        }
    }
    /// The TLS 1.0/1.1 probe of an address whose STARTTLS was answered 220, when
    /// [`Probe::starttls`] leaves it out; `None` (the default) when `starttls` already holds it.
    fn legacy_tls(&self, host: &str, ip: IpAddr) -> impl Future<Output = Option<LegacyTls>> + Send {
        let _ = (host, ip);
        std::future::ready(None)
    }
}

/// The policy body a sender reads at most (RFC 8461 §3.3 suggests 64 KiB), and so the size
/// `mtasts lint` holds a file to.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

/// Bounds on time and size for everything a remote party controls.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Each network step (connect, TLS handshake, one DNS query, one SMTP reply).
    pub step_timeout: Duration,
    /// The whole policy fetch from one address (RFC 8461 §3.3 suggests one minute).
    pub fetch_timeout: Duration,
    /// Waiting for an SMTP greeting (tarpits delay it on purpose).
    pub greeting_timeout: Duration,
    /// The policy body; one more byte is read to detect an oversized body (RFC 8461 §3.3).
    pub max_policy_bytes: usize,
    pub max_header_bytes: usize,
    /// One SMTP reply line (RFC 5321 §4.5.3.1.5 says 512; we allow some slack).
    pub max_smtp_line: usize,
    /// Lines in one multi-line SMTP reply.
    pub max_smtp_lines: usize,
    /// MX hosts probed per domain, and addresses per host.
    pub max_mx_hosts: usize,
    pub max_addrs_per_host: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            step_timeout: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(60),
            greeting_timeout: Duration::from_secs(30),
            max_policy_bytes: MAX_POLICY_BYTES,
            max_header_bytes: 16 * 1024,
            max_smtp_line: 2048,
            max_smtp_lines: 100,
            max_mx_hosts: 20,
            max_addrs_per_host: 8,
        }
    }
}

impl Limits {
    /// All timeouts derived from one `--timeout` value.
    pub fn with_timeout(step: Duration) -> Self {
        Self {
            step_timeout: step,
            fetch_timeout: step * 2,
            greeting_timeout: step * 3,
            ..Self::default()
        }
    }
}

/// How the live probe reaches the network; the report header echoes what differs from default.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    pub limits: Limits,
    /// DNS server to ask instead of the system's (`--resolver`).
    pub resolver: Option<SocketAddr>,
    /// Extra trust anchors (`--ca-file`), added to the Mozilla roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Lab-only port overrides (hidden flags) so tests can reach loopback servers.
    pub https_port: u16,
    pub smtp_port: u16,
    /// The name sent in EHLO.
    pub ehlo_name: String,
    /// `--allow-private`: connect to loopback, private, link-local and other non-public
    /// addresses too. Off by default, so a domain list cannot point the probe at this machine's
    /// own network (see [`crate::net::address`]). The `--resolver` address is the user's own choice and is
    /// never filtered.
    pub allow_private: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            resolver: None,
            extra_roots: Vec::new(),
            https_port: 443,
            smtp_port: 25,
            ehlo_name: "mtasts.invalid".to_owned(),
            allow_private: false,
        }
    }
}

/// Why the probe will not connect to `ip`, or `None` when it may: the one gate every HTTPS and
/// SMTP connection passes, so no caller can bypass it.
pub fn refuse_connection(config: &NetworkConfig, ip: IpAddr) -> Option<String> {
    let class = crate::net::address::classify(ip);
    if config.allow_private || class.is_public() {
        return None;
    }
    Some(format!(
        "not attempted: {ip} is not a public address ({class}); senders on the internet cannot \
         reach it (--allow-private lifts this)"
    ))
}

/// The trust anchors a sender uses: Mozilla's roots plus any `--ca-file` roots.
pub fn root_store(extra: &[CertificateDer<'static>]) -> Arc<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra {
        // A bad extra root was already rejected when --ca-file was read.
        let _ = roots.add(cert.clone());
    }
    Arc::new(roots)
}
