//! A [`Probe`] wrapper for runs of many domains: each SMTP server is probed once, not once per
//! MX name, and no address sees more than `per_address` SMTP sessions at a time.
//!
//! **Sharing by address** (issue 11). A server is identified by its address; what can differ
//! by name is only the certificate chosen by SNI. The first MX name that needs an address
//! probes it. When a second name arrives, it probes once more with its own SNI; if the server
//! presented the same chain and the same TLS facts and answered every step alike, the address
//! is SNI-invariant and every further name is answered with the first session, marked
//! [`SmtpObservation::shared_from`] (the verdict judges the certificate's name for each name
//! from the chain's DNS names, and the report says which session a finding rests on). If the
//! two differ, or either was cut short for now, every name at that address is probed on its
//! own. A provider with 5,000 tenant MX names on four addresses thus sees about a dozen
//! sessions. [`CachingProbe::with_sharing`]`(false)` (`--probe-every-name`) probes each
//! (name, address). The TLS 1.0/1.1 probe is a property of the server, so it runs once per
//! address either way ([`Probe::legacy_tls`]).
//!
//! A government's domains mostly share a few mail gateways; without this, 800 domains behind
//! one gateway would open 1,600 connections to it (a STARTTLS session and the TLS 1.0/1.1 probe
//! each), and the gateway's rate limiting would answer most of them `421` (RFC 5321 §4.2.5).
//! The per-address limit also covers different MX names that lead to one address. It counts
//! connections: the TLS 1.0/1.1 probe, which starts as soon as the first session's STARTTLS is
//! answered 220 (it needs nothing more of that session) and overlaps the rest of it, takes a
//! slot of its own.
//!
//! A temporary refusal (`421`, or another 4xx before TLS; [`SmtpObservation::temporary_refusal`])
//! or a connection the server dropped mid-session ([`SmtpObservation::lost_mid_session`])
//! is tried again after [`RETRY_BACKOFF`] (1 s, then 3 s), the slot given back while waiting;
//! the attempts are noted at the top of the transcript, and a refusal that persists is judged
//! "rate limited", never a failure of the domain.
//!
//! The memo is bounded ([`DEFAULT_MEMO_ENTRIES`]); when full, the least recently used half of
//! the finished entries goes, so a hostile list cannot grow it without limit while gateways
//! shared by many domains stay. DNS is not memoised here: the resolver's own cache (see
//! [`super::dns`]) serves repeated names, TTLs counting down as they should.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, OnceCell, OwnedSemaphorePermit, Semaphore};

use super::smtp::{retry_note, RETRY_BACKOFF};
use super::Probe;
use crate::observe::{
    CertSummary, DnsAnswer, FetchObservation, HandshakeObservation, HostLookup, LegacyTls,
    MxRecord, SharedFrom, SmtpObservation, SmtpReply, TlsVersion, TxtRecord,
};

/// SMTP observations kept at most. One is a few kilobytes (transcript and certificate
/// summaries), so the memo stays in the tens of megabytes however long the list.
pub const DEFAULT_MEMO_ENTRIES: usize = 10_000;

/// How often the memo answered; for `--stats` and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemoStats {
    /// SMTP probes asked for.
    pub smtp_requests: u64,
    /// SMTP probes actually run (the rest were answered from the memo).
    pub smtp_probes: u64,
    /// Requests answered with another MX name's session at the same, SNI-invariant, address.
    pub smtp_shared: u64,
}

/// Memoises [`Probe::smtp`] per (host, address) and limits sessions per address; every other
/// question goes straight to `P`.
pub struct CachingProbe<P> {
    inner: P,
    per_address: usize,
    smtp: Mutex<Memo<(String, IpAddr), SmtpObservation>>,
    /// Per address: the first name's session, whether it may be shared, the TLS 1.0/1.1 probe.
    addresses: Mutex<Memo<IpAddr, Arc<Address>>>,
    /// Judge further names at an SNI-invariant address from its first session (the default;
    /// `--probe-every-name` turns it off).
    share_by_address: bool,
    /// One semaphore per address with a session under way or waiting; removed when idle.
    gates: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    smtp_requests: AtomicU64,
    smtp_probes: AtomicU64,
    smtp_shared: AtomicU64,
    /// Waits before each retry of a temporary refusal.
    backoff: Vec<Duration>,
}

impl<P: Probe> CachingProbe<P> {
    /// At most `per_address` (at least 1) sessions at once per address.
    pub fn new(inner: P, per_address: usize) -> Self {
        Self::with_capacity(inner, per_address, DEFAULT_MEMO_ENTRIES)
    }

    /// As [`CachingProbe::new`], keeping at most `memo_entries` (at least 1) observations.
    pub fn with_capacity(inner: P, per_address: usize, memo_entries: usize) -> Self {
        Self {
            inner,
            per_address: per_address.max(1),
            smtp: Mutex::new(Memo::new(memo_entries.max(1))),
            addresses: Mutex::new(Memo::new(memo_entries.max(1))),
            share_by_address: true,
            gates: Mutex::new(HashMap::new()),
            smtp_requests: AtomicU64::new(0),
            smtp_probes: AtomicU64::new(0),
            smtp_shared: AtomicU64::new(0),
            backoff: RETRY_BACKOFF.to_vec(),
        }
    }

    /// Other waits between attempts than [`RETRY_BACKOFF`] (one retry per wait); for tests.
    pub fn with_backoff(mut self, backoff: &[Duration]) -> Self {
        self.backoff = backoff.to_vec();
        self
    }

    /// `false` probes every (name, address) on its own (`--probe-every-name`); `true` (the
    /// default) shares one session among the names of an SNI-invariant address.
    pub fn with_sharing(mut self, share_by_address: bool) -> Self {
        self.share_by_address = share_by_address;
        self
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    pub fn stats(&self) -> MemoStats {
        MemoStats {
            smtp_requests: self.smtp_requests.load(Ordering::Relaxed),
            smtp_probes: self.smtp_probes.load(Ordering::Relaxed),
            smtp_shared: self.smtp_shared.load(Ordering::Relaxed),
        }
    }

    /// Observations held in the memo now.
    pub fn memo_len(&self) -> usize {
        lock(&self.smtp).entries.len()
    }

    /// Addresses with a session under way or waiting.
    pub fn busy_addresses(&self) -> usize {
        lock(&self.gates).len()
    }

    /// Waits for a session slot at `ip`; the slot is given back when the guard is dropped,
    /// also when the probe is cancelled (a domain's deadline).
    async fn enter(&self, ip: IpAddr) -> Gate<'_> {
        let semaphore = lock(&self.gates)
            .entry(ip)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_address)))
            .clone();
        let mut gate = Gate {
            gates: &self.gates,
            ip,
            semaphore: Some(semaphore.clone()),
            permit: None,
        };
        // The semaphore is never closed, so acquiring only waits.
        gate.permit = semaphore.acquire_owned().await.ok();
        gate
    }
}

impl<P: Probe> CachingProbe<P> {
    /// Probes within the address's session limit; a temporary refusal is tried again after
    /// each wait of the backoff, with the slot given back while waiting. The TLS 1.0/1.1 probe
    /// runs once per address, for the first session whose STARTTLS got a 220: it starts as
    /// soon as that 220 is in, in a slot of its own, and runs while the session completes its
    /// handshake, EHLO and QUIT (with `--per-address 1` it waits for the session's slot, so
    /// the two run one after the other).
    async fn probe_politely(&self, host: &str, ip: IpAddr, address: &Address) -> SmtpObservation {
        let mut notes = Vec::new();
        let started = std::time::Instant::now();
        loop {
            let mut obs = {
                let (accepted, told) = oneshot::channel();
                let session = async {
                    let _gate = self.enter(ip).await;
                    self.inner.starttls_telling(host, ip, accepted).await
                };
                let legacy = async {
                    told.await.ok()?;
                    address
                        .legacy
                        .get_or_init(|| async {
                            let _gate = self.enter(ip).await;
                            self.inner.legacy_tls(host, ip).await
                        })
                        .await
                        .clone()
                };
                let (mut obs, legacy) = tokio::join!(session, legacy);
                if let Some(legacy) = legacy {
                    obs.legacy_tls = legacy;
                }
                obs
            };
            let retry = obs.retry_reason().zip(self.backoff.get(notes.len()));
            let Some((refusal, &wait)) = retry else {
                // The earlier attempts only say why they were given up; the transcript is the
                // last one's.
                let earlier = u32::try_from(notes.len()).unwrap_or(u32::MAX);
                obs.attempts = obs.attempts.saturating_add(earlier);
                if earlier > 0 {
                    obs.tried_for = crate::observe::whole_millis(started.elapsed());
                }
                obs.transcript.splice(0..0, notes);
                return obs;
            };
            notes.push(retry_note(notes.len() + 1, &refusal, wait));
            tokio::time::sleep(wait).await;
        }
    }

    /// What is known about `ip` (created empty on first use).
    async fn address(&self, ip: IpAddr) -> Arc<Address> {
        let cell = lock(&self.addresses).cell(ip);
        cell.get_or_init(|| async { Arc::new(Address::default()) })
            .await
            .clone()
    }

    /// The observation of `host` (lower-cased `key`) at `ip` made with its own name, probed
    /// once per run.
    async fn own(&self, host: &str, key: &str, ip: IpAddr, address: &Address) -> SmtpObservation {
        let cell = lock(&self.smtp).cell((key.to_owned(), ip));
        // Whoever comes first probes; the others wait for its observation. If the first is
        // cancelled, one of the waiting callers probes instead (tokio's OnceCell).
        cell.get_or_init(|| async {
            self.smtp_probes.fetch_add(1, Ordering::Relaxed);
            self.probe_politely(host, ip, address).await
        })
        .await
        .clone()
    }

    /// The observation of `key` at `ip` made with its own name, if there is one already.
    fn probed(&self, key: &str, ip: IpAddr) -> Option<SmtpObservation> {
        lock(&self.smtp).peek(&(key.to_owned(), ip))
    }

    /// Sharing by address: the first name probes; a second name probes once more and decides
    /// whether the address is SNI-invariant; every further name is then judged from the first
    /// name's session, or probed on its own if the two differed.
    async fn shared_or_own(&self, host: &str, ip: IpAddr) -> SmtpObservation {
        let key = host.to_ascii_lowercase();
        let address = self.address(ip).await;
        if !self.share_by_address {
            return self.own(host, &key, ip, &address).await;
        }
        let first_host = address.first_host.get_or_init(|| key.clone()).clone();
        let first = address
            .first
            .get_or_init(|| async {
                self.smtp_probes.fetch_add(1, Ordering::Relaxed);
                self.probe_politely(&first_host, ip, &address).await
            })
            .await;
        if first_host == key {
            return first.clone();
        }
        let invariant = *address
            .invariant
            .get_or_init(|| async {
                let second = self.own(host, &key, ip, &address).await;
                sni_invariant(first, &second)
            })
            .await;
        if let Some(own) = self.probed(&key, ip) {
            return own;
        }
        if invariant {
            self.smtp_shared.fetch_add(1, Ordering::Relaxed);
            let mut shared = first.clone();
            shared.shared_from = Some(SharedFrom {
                host: first.host.clone(),
            });
            return shared;
        }
        self.own(host, &key, ip, &address).await
    }
}

/// Whether two sessions with different SNI names at one address show the same server: the same
/// certificate chain, trust verdict and TLS facts, and the same answers to every step. A session
/// cut short for now (a timeout, a 4xx) proves nothing either way, so it is not shared.
fn sni_invariant(a: &SmtpObservation, b: &SmtpObservation) -> bool {
    let transient = |obs: &SmtpObservation| {
        obs.temporary_refusal().is_some()
            || obs.failure.as_ref().is_some_and(|failure| {
                failure.timed_out || failure.step == crate::observe::SmtpStep::Deadline
            })
    };
    if transient(a) || transient(b) {
        return false;
    }
    let code = |reply: &Option<SmtpReply>| reply.as_ref().map(|reply| reply.code);
    fn tls(obs: &SmtpObservation) -> Option<(TlsVersion, &String, &Vec<CertSummary>, &TlsTrust)> {
        obs.tls
            .as_ref()
            .map(|tls| (tls.version, &tls.cipher, &tls.chain, &tls.trust))
    }
    type TlsTrust = Result<(), String>;
    a.server_spoke == b.server_spoke
        && code(&a.greeting) == code(&b.greeting)
        && code(&a.ehlo) == code(&b.ehlo)
        && a.starttls_offered == b.starttls_offered
        && code(&a.starttls_reply) == code(&b.starttls_reply)
        && a.pre_tls_bytes == b.pre_tls_bytes
        && a.starttls_after_tls == b.starttls_after_tls
        && a.failure.as_ref().map(|failure| failure.step)
            == b.failure.as_ref().map(|failure| failure.step)
        && a.not_contacted == b.not_contacted
        && tls(a) == tls(b)
}

/// What the run knows about one MX address.
#[derive(Default)]
struct Address {
    /// The first MX name (lower case) that asked for this address.
    first_host: std::sync::OnceLock<String>,
    /// Its session.
    first: OnceCell<SmtpObservation>,
    /// Decided by a second name's session: whether later names may share the first's.
    invariant: OnceCell<bool>,
    /// The TLS 1.0/1.1 probe, once per address (`None`: the inner probe does it itself).
    legacy: OnceCell<Option<LegacyTls>>,
}

impl<P: Probe> Probe for CachingProbe<P> {
    async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
        self.inner.txt(name).await
    }

    async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
        self.inner.mx(name).await
    }

    async fn addrs(&self, name: &str) -> HostLookup {
        self.inner.addrs(name).await
    }

    async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
        self.inner.tlsa(name).await
    }

    async fn fetch_policy(&self, host: &str, ip: IpAddr) -> FetchObservation {
        self.inner.fetch_policy(host, ip).await
    }

    async fn tls_handshake(
        &self,
        host: &str,
        ip: IpAddr,
        port: Option<u16>,
    ) -> HandshakeObservation {
        self.inner.tls_handshake(host, ip, port).await
    }

    async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
        self.smtp_requests.fetch_add(1, Ordering::Relaxed);
        let mut observation = self.shared_or_own(host, ip).await;
        // The caller's spelling, as if it had probed itself.
        host.clone_into(&mut observation.host);
        observation
    }
}

/// A session slot at one address.
struct Gate<'a> {
    gates: &'a Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    ip: IpAddr,
    semaphore: Option<Arc<Semaphore>>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        self.permit = None;
        self.semaphore = None;
        // Clones are only taken under this lock, so a count of one (the map's) means nobody
        // holds or waits for this address: forget it, so the map stays as small as the work.
        let mut gates = lock(self.gates);
        if gates
            .get(&self.ip)
            .is_some_and(|semaphore| Arc::strong_count(semaphore) == 1)
        {
            gates.remove(&self.ip);
        }
    }
}

/// A bounded map from a key to a cell that is filled once.
struct Memo<K, V> {
    entries: HashMap<K, MemoEntry<V>>,
    capacity: usize,
    /// Counts uses, to tell recent entries from old ones.
    clock: u64,
}

struct MemoEntry<V> {
    cell: Arc<OnceCell<V>>,
    last_used: u64,
}

impl<K: Eq + Hash, V> Memo<K, V> {
    fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
            clock: 0,
        }
    }

    /// The value for `key`, if its cell is filled; does not create one.
    fn peek(&self, key: &K) -> Option<V>
    where
        V: Clone,
    {
        self.entries
            .get(key)
            .and_then(|entry| entry.cell.get().cloned())
    }

    /// The cell for `key`, new and empty if the key was not seen (or was evicted).
    fn cell(&mut self, key: K) -> Arc<OnceCell<V>> {
        self.clock += 1;
        let now = self.clock;
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.last_used = now;
            return entry.cell.clone();
        }
        if self.entries.len() >= self.capacity {
            self.evict();
        }
        let cell = Arc::new(OnceCell::new());
        self.entries.insert(
            key,
            MemoEntry {
                cell: cell.clone(),
                last_used: now,
            },
        );
        cell
    }

    /// Drops the least recently used half of the entries nobody is waiting for, and every
    /// empty cell nobody holds (its probe was cancelled). A cell being filled stays, so that
    /// no address is probed twice at once. With everything under way, the map may pass its
    /// capacity for a while; the number of domains in flight bounds that.
    fn evict(&mut self) {
        let idle = |entry: &MemoEntry<V>| Arc::strong_count(&entry.cell) == 1;
        self.entries
            .retain(|_, entry| entry.cell.initialized() || !idle(entry));
        let mut settled: Vec<u64> = self
            .entries
            .values()
            .filter(|entry| entry.cell.initialized())
            .map(|entry| entry.last_used)
            .collect();
        if settled.is_empty() {
            return;
        }
        settled.sort_unstable();
        let cutoff = settled[(settled.len() - 1) / 2];
        self.entries
            .retain(|_, entry| !entry.cell.initialized() || entry.last_used > cutoff);
    }
}

/// A poisoned lock only means another task panicked while holding it; the maps stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::observe::LegacyTls;

    /// Counts SMTP probes and how many run at once per address; each takes `delay`. Hosts
    /// named `busy…` are greeted `421` on their first `refusals` probes.
    struct Fake {
        delay: Duration,
        refusals: usize,
        /// Each name gets a certificate for itself (the server picks by SNI).
        sni_varies: bool,
        /// Runs the TLS 1.0/1.1 probe apart ([`Probe::legacy_tls`]) and counts it.
        legacy_apart: bool,
        legacy_probes: AtomicUsize,
        probes: AtomicUsize,
        active: Mutex<HashMap<IpAddr, usize>>,
        most_active: Mutex<HashMap<IpAddr, usize>>,
    }

    impl Fake {
        fn new(delay: Duration) -> Self {
            Self {
                delay,
                refusals: 0,
                sni_varies: false,
                legacy_apart: false,
                legacy_probes: AtomicUsize::new(0),
                probes: AtomicUsize::new(0),
                active: Mutex::new(HashMap::new()),
                most_active: Mutex::new(HashMap::new()),
            }
        }

        fn most_active(&self, ip: IpAddr) -> usize {
            self.most_active
                .lock()
                .unwrap()
                .get(&ip)
                .copied()
                .unwrap_or(0)
        }
    }

    fn observation(host: &str, ip: IpAddr) -> SmtpObservation {
        let mut obs = SmtpObservation::unanswered(host, ip, "", None);
        obs.transcript = vec![format!("S: 220 {host}")];
        obs.legacy_tls = LegacyTls::Refused;
        obs
    }

    impl Probe for Fake {
        async fn txt(&self, _: &str) -> DnsAnswer<Vec<TxtRecord>> {
            DnsAnswer::NoData
        }
        async fn mx(&self, _: &str) -> DnsAnswer<Vec<MxRecord>> {
            DnsAnswer::NoData
        }
        async fn addrs(&self, name: &str) -> HostLookup {
            HostLookup {
                name: name.to_owned(),
                a: DnsAnswer::NoData,
                aaaa: DnsAnswer::NoData,
            }
        }
        async fn tlsa(&self, _: &str) -> DnsAnswer<Vec<String>> {
            DnsAnswer::NoData
        }
        async fn fetch_policy(&self, _: &str, _: IpAddr) -> FetchObservation {
            unreachable!("not used here")
        }
        async fn smtp(&self, host: &str, ip: IpAddr) -> SmtpObservation {
            let earlier = self.probes.fetch_add(1, Ordering::SeqCst);
            if host.starts_with("busy") && earlier < self.refusals {
                let mut obs = observation(host, ip);
                obs.greeting = Some(SmtpReply {
                    code: 421,
                    lines: vec!["4.7.0 busy".to_owned()],
                });
                obs.failure = Some(crate::observe::SmtpFailure {
                    step: crate::observe::SmtpStep::Greeting,
                    timed_out: false,
                    detail: "greeted with 421".to_owned(),
                });
                return obs;
            }
            {
                let mut active = self.active.lock().unwrap();
                let now = active.entry(ip).or_default();
                *now += 1;
                let mut most = self.most_active.lock().unwrap();
                let most = most.entry(ip).or_default();
                *most = (*most).max(*now);
            }
            tokio::time::sleep(self.delay).await;
            *self.active.lock().unwrap().entry(ip).or_default() -= 1;
            let mut obs = observation(host, ip);
            obs.starttls_reply = Some(SmtpReply {
                code: 220,
                lines: vec!["ready".to_owned()],
            });
            let names = if self.sni_varies {
                vec![host.to_owned()]
            } else {
                vec!["*.farm.test".to_owned()]
            };
            obs.tls = Some(crate::observe::TlsObservation {
                version: TlsVersion::Tls13,
                cipher: "TLS13_AES_128_GCM_SHA256".to_owned(),
                chain: vec![CertSummary {
                    subject: "CN=farm".to_owned(),
                    issuer: "CN=CA".to_owned(),
                    dns_names: names,
                    not_before: 0,
                    not_after: i64::MAX,
                    serial: "01".to_owned(),
                    der: Vec::new(),
                    spki_sha256: String::new(),
                }],
                trust: Ok(()),
                name_match: Ok(()),
                chain_presented: 0,
            });
            if self.legacy_apart {
                obs.legacy_tls = LegacyTls::NotTested {
                    reason: "left to legacy_tls".to_owned(),
                };
            }
            obs
        }
        async fn legacy_tls(&self, _: &str, _: IpAddr) -> Option<LegacyTls> {
            if !self.legacy_apart {
                return None;
            }
            self.legacy_probes.fetch_add(1, Ordering::SeqCst);
            Some(LegacyTls::Refused)
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Runs `calls` concurrently against one shared probe.
    async fn run_all(
        probe: &Arc<CachingProbe<Fake>>,
        calls: Vec<(String, IpAddr)>,
    ) -> Vec<SmtpObservation> {
        let mut tasks = tokio::task::JoinSet::new();
        for (host, ip) in calls {
            let probe = probe.clone();
            tasks.spawn(async move { probe.smtp(&host, ip).await });
        }
        let mut out = Vec::new();
        while let Some(result) = tasks.join_next().await {
            out.push(result.unwrap());
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_probe_per_host_and_address() {
        let probe = Arc::new(CachingProbe::new(Fake::new(Duration::from_millis(50)), 2));
        let mut calls = Vec::new();
        for index in 0..100 {
            // Same gateway under two spellings, on two addresses.
            let host = if index % 2 == 0 {
                "mx.gw.test"
            } else {
                "MX.gw.test"
            };
            let address = if index % 3 == 0 {
                "192.0.2.1"
            } else {
                "192.0.2.2"
            };
            calls.push((host.to_owned(), ip(address)));
        }
        let results = run_all(&probe, calls).await;
        assert_eq!(results.len(), 100);
        assert_eq!(probe.inner().probes.load(Ordering::SeqCst), 2);
        assert_eq!(
            probe.stats(),
            MemoStats {
                smtp_requests: 100,
                smtp_probes: 2,
                smtp_shared: 0
            }
        );
        for obs in &results {
            assert!(["mx.gw.test", "MX.gw.test"].contains(&obs.host.as_str()));
            assert_eq!(obs.transcript.len(), 1);
        }
        assert_eq!(probe.busy_addresses(), 0, "idle gates are forgotten");
    }

    /// 40 tenant names on two addresses of one provider.
    fn farm_calls() -> Vec<(String, IpAddr)> {
        (0..40)
            .map(|n| {
                let address = if n % 2 == 0 {
                    "192.0.2.50"
                } else {
                    "192.0.2.51"
                };
                (format!("t{n}.farm.test"), ip(address))
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_sni_invariant_address_is_probed_twice_for_all_its_names() {
        let mut fake = Fake::new(Duration::from_millis(20));
        fake.legacy_apart = true;
        let probe = Arc::new(CachingProbe::new(fake, 2));
        let results = run_all(&probe, farm_calls()).await;
        // The first name, and a second to confirm; per address.
        assert_eq!(probe.inner().probes.load(Ordering::SeqCst), 4);
        assert_eq!(probe.inner().legacy_probes.load(Ordering::SeqCst), 2);
        let stats = probe.stats();
        assert_eq!((stats.smtp_requests, stats.smtp_probes), (40, 4));
        assert_eq!(stats.smtp_shared, 36);
        let shared: Vec<&SmtpObservation> = results
            .iter()
            .filter(|obs| obs.shared_from.is_some())
            .collect();
        assert_eq!(shared.len(), 36);
        for obs in &results {
            assert!(obs.host.starts_with('t'), "the caller's name: {}", obs.host);
            assert_eq!(obs.legacy_tls, LegacyTls::Refused, "{}", obs.host);
            if let Some(from) = &obs.shared_from {
                assert_ne!(from.host, obs.host);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn names_are_probed_one_by_one_where_sni_changes_the_certificate_or_when_asked() {
        for (sni_varies, sharing) in [(true, true), (false, false)] {
            let mut fake = Fake::new(Duration::from_millis(5));
            fake.sni_varies = sni_varies;
            fake.legacy_apart = true;
            let probe = Arc::new(CachingProbe::new(fake, 2).with_sharing(sharing));
            let results = run_all(&probe, farm_calls()).await;
            assert_eq!(probe.inner().probes.load(Ordering::SeqCst), 40);
            // Still one TLS 1.0/1.1 probe per address.
            assert_eq!(probe.inner().legacy_probes.load(Ordering::SeqCst), 2);
            assert_eq!(probe.stats().smtp_shared, 0);
            assert!(results.iter().all(|obs| obs.shared_from.is_none()));
        }
    }

    #[test]
    fn sessions_cut_short_for_now_are_never_shared() {
        let base = observation("a.test", ip("192.0.2.1"));
        assert!(sni_invariant(&base, &base.clone()));
        let mut timed_out = base.clone();
        timed_out.failure = Some(crate::observe::SmtpFailure {
            step: crate::observe::SmtpStep::Greeting,
            timed_out: true,
            detail: "slow".to_owned(),
        });
        assert!(!sni_invariant(&base, &timed_out));
        assert!(!sni_invariant(&timed_out, &timed_out));
        let mut other_reply = base.clone();
        other_reply.starttls_offered = true;
        assert!(!sni_invariant(&base, &other_reply));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sessions_per_address_are_limited() {
        for per_address in [1, 2, 3] {
            let fake = Fake::new(Duration::from_millis(30));
            // Every name on its own: sharing would make most of these one session.
            let probe = Arc::new(CachingProbe::new(fake, per_address).with_sharing(false));
            // Twelve MX names on one address, four on another.
            let mut calls: Vec<(String, IpAddr)> = (0..12)
                .map(|n| (format!("mx{n}.a.test"), ip("192.0.2.1")))
                .collect();
            calls.extend((0..4).map(|n| (format!("mx{n}.b.test"), ip("2001:db8::1"))));
            run_all(&probe, calls).await;
            let fake = probe.inner();
            assert_eq!(fake.probes.load(Ordering::SeqCst), 16);
            // Reached, never passed.
            assert_eq!(fake.most_active(ip("192.0.2.1")), per_address);
            assert_eq!(fake.most_active(ip("2001:db8::1")), per_address);
            assert_eq!(probe.busy_addresses(), 0);
        }
    }

    const QUICK_BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(300)];

    #[tokio::test]
    async fn temporary_refusals_are_retried_with_backoff() {
        // (refusals, probes run, notes, refused in the end)
        for (refusals, probes, notes, refused) in
            [(0, 1, 0, false), (2, 3, 2, false), (9, 3, 2, true)]
        {
            let mut fake = Fake::new(Duration::ZERO);
            fake.refusals = refusals;
            let probe = CachingProbe::new(fake, 1).with_backoff(&QUICK_BACKOFF);
            let started = tokio::time::Instant::now();
            let obs = probe.smtp("busy.test", ip("192.0.2.7")).await;
            assert_eq!(probe.inner().probes.load(Ordering::SeqCst), probes);
            let noted: Vec<&String> = obs
                .transcript
                .iter()
                .filter(|line| line.starts_with("-- attempt "))
                .collect();
            assert_eq!(noted.len(), notes, "{:?}", obs.transcript);
            assert_eq!(
                obs.attempts, probes as u32,
                "every session tried is counted"
            );
            assert_eq!(obs.temporary_refusal().is_some(), refused);
            if notes == 2 {
                assert_eq!(
                    noted[1],
                    "-- attempt 2 refused for now (421 4.7.0 busy); trying again after 0.3s --"
                );
                assert!(started.elapsed() >= Duration::from_millis(400));
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_slot_is_free_while_a_refused_probe_waits() {
        let mut fake = Fake::new(Duration::from_millis(10));
        fake.refusals = 2;
        let slow_backoff = [Duration::from_secs(1), Duration::from_secs(1)];
        // Two names at one address, each probed on its own (sharing would have the second
        // wait for the first name's session, by design).
        let probe = Arc::new(
            CachingProbe::new(fake, 1)
                .with_backoff(&slow_backoff)
                .with_sharing(false),
        );
        let shared = ip("192.0.2.8");
        let busy = {
            let probe = probe.clone();
            tokio::spawn(async move { probe.smtp("busy.test", shared).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = tokio::time::Instant::now();
        probe.smtp("calm.test", shared).await;
        // Not after the busy probe's two seconds of waiting.
        assert!(
            started.elapsed() < Duration::from_millis(700),
            "{:?}",
            started.elapsed()
        );
        assert!(busy.await.unwrap().temporary_refusal().is_none());
    }

    #[tokio::test]
    async fn a_cancelled_probe_is_run_again_and_frees_its_slot() {
        let probe = CachingProbe::new(Fake::new(Duration::from_millis(200)), 1);
        let target = ip("192.0.2.9");
        let cut = tokio::time::timeout(Duration::from_millis(20), probe.smtp("mx.test", target));
        assert!(cut.await.is_err());
        assert_eq!(probe.busy_addresses(), 0, "the slot was given back");
        let obs = probe.smtp("mx.test", target).await;
        assert_eq!(obs.host, "mx.test");
        assert_eq!(probe.inner().probes.load(Ordering::SeqCst), 2);
        // Now memoised.
        probe.smtp("mx.test", target).await;
        assert_eq!(probe.inner().probes.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_memo_is_bounded_and_keeps_what_is_used() {
        let probe = CachingProbe::with_capacity(Fake::new(Duration::ZERO), 2, 4);
        let hot = ip("192.0.2.100");
        for n in 0..20u8 {
            probe.smtp("hot.test", hot).await;
            probe.smtp("cold.test", IpAddr::from([192, 0, 2, n])).await;
            assert!(probe.memo_len() <= 4, "{} entries", probe.memo_len());
        }
        // The hot gateway was probed once; the cold ones once each.
        assert_eq!(probe.inner().probes.load(Ordering::SeqCst), 21);
    }

    #[test]
    fn eviction_drops_idle_empty_cells_and_the_older_half() {
        let mut memo: Memo<u32, u32> = Memo::new(10);
        for key in 0..4 {
            let cell = memo.cell(key);
            cell.set(key).unwrap();
        }
        // An empty cell whose probe was cancelled, and one still being filled.
        let _held = memo.cell(10);
        drop(memo.cell(11));
        memo.evict();
        let mut keys: Vec<u32> = memo.entries.keys().copied().collect();
        keys.sort_unstable();
        assert_eq!(keys, [2, 3, 10]);
    }
}
