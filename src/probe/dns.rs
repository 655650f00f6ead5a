//! DNS through hickory-resolver, kept as [`DnsAnswer`]s: TXT character-strings apart
//! (RFC 1035 §3.3.14, joined later per RFC 8461 §3.1 / RFC 8460 §3), TTLs, CNAME chains, and
//! NXDOMAIN / NODATA / failure kept distinct (RFC 2308; a SERVFAIL is not "no record").
//!
//! Questions go out the way a sender's stub resolver asks them: recursion desired, EDNS0,
//! UDP with a retry over TCP when the answer is truncated, names taken as fully qualified
//! (no search domains), no /etc/hosts.
//!
//! The resolver's cache is on, bounded to [`CACHE_ENTRIES`] answers (least recently used
//! go first), and shared by every domain of a run: a government's domains share a few MX and
//! report hosts, and asking for them once per domain would be both slow and impolite. It is on
//! for a single domain too: one audit never asks a name judged on its TTL twice, so there it
//! changes nothing, and one code path is easier to trust. A cached answer shows
//! its TTL counted down by the time since it was first asked (seconds to minutes in a long
//! run); the TTL checks allow 10%, and the names they judge (`_mta-sts.D`, `_smtp._tls.D`)
//! belong to one domain each, so they are asked once and never come from the cache.

use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use hickory_resolver::config::{NameServerConfigGroup, ResolveHosts, ResolverConfig};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::proto::{ProtoError, ProtoErrorKind};
use hickory_resolver::{ResolveError, ResolveErrorKind, TokioResolver};

use super::cert::hex;
use super::NetworkConfig;
use crate::escape::escape_str;
use crate::observe::{AnswerCut, DnsAnswer, HostLookup, MxRecord, TxtRecord};

/// Records kept per answer; a zone can publish thousands at one name. When an answer holds more,
/// the ones kept are the most preferred MX records, the lowest addresses, or the first TXT and
/// TLSA records, and the answer says how many there were ([`AnswerCut`]).
pub const MAX_RECORDS: usize = 100;
/// CNAME steps accepted per answer. A longer chain is reported as a failed lookup, as the
/// recursive resolvers senders use give up long before (Unbound and BIND restart a query at
/// most 11 times); hickory itself chases at most 8 steps when the server does not.
pub const MAX_CNAME_STEPS: usize = 16;
/// Bytes of one TXT record kept (its character-strings together). A record cannot exceed
/// 65,535 bytes on the wire; MTA-STS and TLS-RPT records are under 1 KiB, and the largest
/// TXT records in real zones (2048-bit DKIM keys, long SPF) under 2 KiB. A longer record is
/// kept cut at this size, whole character-strings first.
pub const MAX_TXT_RECORD_BYTES: usize = 8 * 1024;
/// Bytes of TXT data kept per answer, all records together; records past it are dropped. A
/// busy apex (SPF, verification tokens) holds a few KiB.
pub const MAX_TXT_ANSWER_BYTES: usize = 32 * 1024;
/// The first attempt of a question waits this long for an answer before asking again; each
/// further attempt waits twice as long, up to [`LONGEST_ATTEMPT_TIMEOUT`] (0.4 s, 0.8 s, 1.6 s,
/// 1.6 s, …), all within the step's budget (`--timeout`), so a lost UDP datagram costs a
/// fraction of a second, not the whole timeout, and a resolver dropping questions under load
/// gets several more tries.
pub const FIRST_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(400);
/// The longest one attempt waits: a cold recursive resolution rarely takes longer.
pub const LONGEST_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1600);
/// The wait before the first retry of a SERVFAIL, REFUSED or lost answer; it doubles with each
/// retry and is spread by ±50 % of jitter, so that a throttled burst does not come back at once.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The `--dns-concurrency` default: questions in flight at once. Public resolvers accept
/// hundreds to thousands of queries a second from one client; at a 20 ms round trip this is
/// at most 5,000 a second, and the window shrinks by itself when the resolver pushes back.
pub const DEFAULT_DNS_CONCURRENCY: usize = 100;
/// Questions that must all fail unanswered, with no answer ever received, before the resolver
/// is declared down and every further question fails at once.
const DOWN_AFTER_QUESTIONS: u64 = 3;
/// Answers the resolver keeps; a bound so that a long list cannot grow the cache without limit.
pub const CACHE_ENTRIES: usize = 8192;

/// The auditor's DNS client; one per run, shared by all lookups.
///
/// **Throttling is not failure** (issue 11). Questions in flight are bounded by an AIMD window
/// (`Window`: at most `--dns-concurrency`, halved when SERVFAIL, REFUSED or lost answers
/// come back, growing by one per window's worth of good answers). A question answered
/// SERVFAIL or REFUSED, or not at all, is asked again after a backoff with jitter, each attempt
/// with a short timeout that grows ([`FIRST_ATTEMPT_TIMEOUT`]), until the step's budget is
/// spent; only then is it "failed", with the number of attempts in the reason. A resolver that
/// has never answered and has let three questions fail is down: every
/// question after that fails at once, saying so in one sentence, so a run against a dead
/// resolver ends in one step's time instead of a timeout per question. [`DnsStats`] counts
/// all of it for the run summary.
pub struct DnsClient {
    resolver: TokioResolver,
    /// Bounds one question overall, retries included.
    question_timeout: Duration,
    window: Window,
    stats: Arc<DnsStats>,
    /// "the resolver 192.0.2.53:53", for the one sentence a dead resolver gets.
    resolver_name: String,
}

/// What the DNS client saw over a run; shared, read at the end for the run summary.
#[derive(Debug, Default)]
pub struct DnsStats {
    /// Questions asked (answers from the cache included).
    pub questions: AtomicU64,
    /// Questions asked more than once.
    pub retried: AtomicU64,
    /// Attempts answered SERVFAIL or REFUSED, or not at all in time: the resolver pushing back.
    pub throttled: AtomicU64,
    /// Questions that failed even after their retries.
    pub failed: AtomicU64,
    /// Times the window was halved.
    pub slowdowns: AtomicU64,
    /// The smallest the window became.
    pub smallest_window: AtomicU64,
    /// The window at the start (`--dns-concurrency`).
    pub largest_window: AtomicU64,
    /// Questions that had to wait for a slot in the window.
    pub waited: AtomicU64,
    /// Some answer (any response code) has come back from the resolver.
    answered: AtomicBool,
    /// Questions that failed with no answer from the resolver, while none had ever come.
    unanswered: AtomicU64,
    /// What [`DnsStats::down_reason`] says.
    down_sentence: Mutex<String>,
    /// When the run's first question was asked, the step's budget, and attempts that got no
    /// answer at all.
    first_question: std::sync::OnceLock<Instant>,
    budget_ms: AtomicU64,
    lost_attempts: AtomicU64,
}

/// [`DnsStats`] read out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DnsSummary {
    pub questions: u64,
    pub retried: u64,
    pub throttled: u64,
    pub failed: u64,
    pub slowdowns: u64,
    pub smallest_window: u64,
    pub largest_window: u64,
    pub waited: u64,
}

impl DnsSummary {
    /// Whether the resolver held the run back: it pushed back often enough to shrink the window,
    /// or questions waited for a slot in it.
    pub fn resolver_was_bottleneck(&self) -> bool {
        self.slowdowns > 0 || self.waited > self.questions / 10
    }
}

impl DnsStats {
    pub fn summary(&self) -> DnsSummary {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        DnsSummary {
            questions: get(&self.questions),
            retried: get(&self.retried),
            throttled: get(&self.throttled),
            failed: get(&self.failed),
            slowdowns: get(&self.slowdowns),
            smallest_window: get(&self.smallest_window),
            largest_window: get(&self.largest_window),
            waited: get(&self.waited),
        }
    }

    /// Down: no answer ever came, and either [`DOWN_AFTER_QUESTIONS`] questions gave up, or a
    /// step's budget has passed since the first question with as many attempts lost (while the
    /// window is down to one question at a time, a question spends its own budget slowly).
    fn down(&self) -> bool {
        if self.answered.load(Ordering::Relaxed) {
            return false;
        }
        if self.unanswered.load(Ordering::Relaxed) >= DOWN_AFTER_QUESTIONS {
            return true;
        }
        let budget = Duration::from_millis(self.budget_ms.load(Ordering::Relaxed));
        self.first_question
            .get()
            .is_some_and(|first| first.elapsed() > budget)
            && self.lost_attempts.load(Ordering::Relaxed) >= DOWN_AFTER_QUESTIONS
    }

    /// The one sentence for a run whose resolver never answered; `None` when it did.
    pub fn down_reason(&self) -> Option<String> {
        self.down().then(|| lock(&self.down_sentence).clone())
    }
}

/// Questions in flight, bounded by a window that halves when the resolver pushes back and grows
/// again by one per window's worth of answers (additive increase, multiplicative decrease).
struct Window {
    state: Mutex<WindowState>,
    freed: Notify,
    largest: f64,
}

struct WindowState {
    size: f64,
    in_flight: usize,
    /// The last halving: the window halves at most once per [`SLOWDOWN_SPACING`], since one
    /// burst of refusals is one signal, not many.
    last_slowdown: Option<Instant>,
}

const SLOWDOWN_SPACING: Duration = Duration::from_millis(200);

/// A slot in the window; given back when dropped.
struct Slot<'a>(&'a Window);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).in_flight -= 1;
        self.0.freed.notify_one();
    }
}

impl Window {
    fn new(largest: usize) -> Self {
        let largest = largest.max(1) as f64;
        Self {
            state: Mutex::new(WindowState {
                size: largest,
                in_flight: 0,
                last_slowdown: None,
            }),
            freed: Notify::new(),
            largest,
        }
    }

    /// Waits for a slot; `true` in the second place when it had to wait.
    async fn enter(&self) -> (Slot<'_>, bool) {
        let mut waited = false;
        loop {
            {
                let mut state = lock(&self.state);
                if (state.in_flight as f64) < state.size.floor().max(1.0) {
                    state.in_flight += 1;
                    return (Slot(self), waited);
                }
            }
            waited = true;
            // `notify_one` keeps a permit when nobody waits, so a slot freed between the check
            // and this await is not missed.
            self.freed.notified().await;
        }
    }

    /// A good answer: grow by one per window's worth.
    fn answered(&self) {
        let grew = {
            let mut state = lock(&self.state);
            let before = state.size.floor();
            state.size = (state.size + 1.0 / state.size).min(self.largest);
            state.size.floor() > before
        };
        if grew {
            self.freed.notify_one();
        }
    }

    /// The resolver pushed back: halve, at most once per [`SLOWDOWN_SPACING`]. Returns the new
    /// size when it halved.
    fn pushed_back(&self) -> Option<f64> {
        let mut state = lock(&self.state);
        let now = Instant::now();
        if state
            .last_slowdown
            .is_some_and(|last| now.duration_since(last) < SLOWDOWN_SPACING)
        {
            return None;
        }
        state.last_slowdown = Some(now);
        state.size = (state.size / 2.0).max(1.0);
        Some(state.size)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How one attempt at a question ended.
enum Attempt<T> {
    /// An answer to keep: records, NODATA, NXDOMAIN, or a failure that asking again will not
    /// change (a CNAME loop, FORMERR).
    Final(DnsAnswer<Vec<T>>),
    /// SERVFAIL, REFUSED, a lost answer or a transport error: worth asking again. `answered`:
    /// the resolver did send something (a SERVFAIL or REFUSED).
    Retry { reason: String, answered: bool },
}

/// A small, fast spread for backoff jitter, between 0.5 and 1.5: not for secrets.
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    0.5 + (x >> 11) as f64 / (1u64 << 53) as f64
}

impl DnsClient {
    /// Uses only `config.resolver` when set (UDP and TCP), else the system's resolv.conf servers.
    pub fn new(config: &NetworkConfig) -> anyhow::Result<Self> {
        Self::with_concurrency(config, DEFAULT_DNS_CONCURRENCY)
    }

    /// [`DnsClient::new`] with at most `concurrency` questions in flight (`--dns-concurrency`).
    pub fn with_concurrency(config: &NetworkConfig, concurrency: usize) -> anyhow::Result<Self> {
        let provider = TokioConnectionProvider::default();
        let mut builder = match config.resolver {
            Some(addr) => {
                // Negative answers from the one server asked are final (no other server to try).
                let servers =
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_parts(None, Vec::new(), servers),
                    provider,
                )
            }
            None => TokioResolver::builder(provider).map_err(|err| {
                anyhow::anyhow!("cannot read the system resolver configuration: {err}")
            })?,
        };
        let step = config.limits.step_timeout;
        let options = builder.options_mut();
        // Each attempt is bounded here, shorter; the retries are ours (`ask`).
        options.timeout = step;
        options.attempts = 1;
        // Names are made fully qualified before asking, so search domains never apply.
        options.ndots = 0;
        // Shared by the whole run; see the module documentation for why the TTL count-down
        // is acceptable.
        options.cache_size = CACHE_ENTRIES;
        options.use_hosts_file = ResolveHosts::Never;
        options.preserve_intermediates = true;
        options.edns0 = true;
        options.recursion_desired = true;
        options.try_tcp_on_error = true;
        // Questions of one audit go to one server at a time, like a stub resolver.
        options.num_concurrent_reqs = 1;
        let concurrency = concurrency.max(1);
        let stats = Arc::new(DnsStats::default());
        let largest = u64::try_from(concurrency).unwrap_or(u64::MAX);
        stats.largest_window.store(largest, Ordering::Relaxed);
        stats.smallest_window.store(largest, Ordering::Relaxed);
        let resolver_name = match config.resolver {
            Some(addr) => format!("the resolver {addr}"),
            None => "the system's resolver (/etc/resolv.conf)".to_owned(),
        };
        *lock(&stats.down_sentence) = down_sentence(&resolver_name);
        stats.budget_ms.store(
            u64::try_from(step.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        Ok(Self {
            resolver: builder.build(),
            question_timeout: step,
            window: Window::new(concurrency),
            stats,
            resolver_name,
        })
    }

    /// The run's DNS figures, shared: read them when the run is over.
    pub fn stats(&self) -> Arc<DnsStats> {
        Arc::clone(&self.stats)
    }

    /// TXT records at `name`, each record's character-strings kept apart, within
    /// [`MAX_TXT_RECORD_BYTES`] a record and [`MAX_TXT_ANSWER_BYTES`] an answer.
    pub async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
        let answer = self
            .ask(name, RecordType::TXT, in_answer_order, |data| match data {
                RData::TXT(txt) => Some(TxtRecord {
                    strings: txt.txt_data().iter().map(|s| s.to_vec()).collect(),
                }),
                _ => None,
            })
            .await;
        match answer {
            DnsAnswer::Records {
                data,
                ttl,
                cname_chain,
                cut,
            } => {
                let (data, cut) = bounded_txt_answer(data, cut);
                DnsAnswer::Records {
                    data,
                    ttl,
                    cname_chain,
                    cut,
                }
            }
            other => other,
        }
    }

    /// MX records at `name`; exchanges lower-cased without the trailing dot, `""` for `.`.
    pub async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
        let most_preferred_first = |records: &mut Vec<MxRecord>| {
            records.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
        };
        self.ask(
            name,
            RecordType::MX,
            most_preferred_first,
            |data| match data {
                RData::MX(mx) => Some(MxRecord {
                    preference: mx.preference(),
                    exchange: name_text(mx.exchange()),
                }),
                _ => None,
            },
        )
        .await
    }

    /// A and AAAA of `name`, asked concurrently.
    ///
    /// A name with addresses of one family is no CNAME loop, so a negative answer for the other
    /// family is final as it is: the CNAME chain is followed (as `DnsClient::ask` does) only when
    /// neither family has records, once for both. This keeps the usual IPv4-only host at one
    /// round trip: the connections to it wait for this lookup.
    pub async fn addrs(&self, name: &str) -> HostLookup {
        let lowest_first = |addrs: &mut Vec<IpAddr>| addrs.sort_unstable();
        let a = self.ask_once(name, RecordType::A, lowest_first, |data| match data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        });
        let aaaa = self.ask_once(name, RecordType::AAAA, lowest_first, |data| match data {
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        });
        let (mut a, mut aaaa) = tokio::join!(a, aaaa);
        let negative = |answer: &DnsAnswer<Vec<IpAddr>>| {
            matches!(answer, DnsAnswer::NoData | DnsAnswer::NxDomain)
        };
        let resolved =
            |answer: &DnsAnswer<Vec<IpAddr>>| matches!(answer, DnsAnswer::Records { .. });
        if (negative(&a) || negative(&aaaa)) && !resolved(&a) && !resolved(&aaaa) {
            if let Ok(fqdn) = fully_qualified(name) {
                if let Some(reason) = self.broken_cname_chain(&fqdn).await {
                    for answer in [&mut a, &mut aaaa] {
                        if negative(answer) {
                            *answer = DnsAnswer::Failed {
                                reason: reason.clone(),
                            };
                        }
                    }
                }
            }
        }
        HostLookup {
            name: name.to_owned(),
            a,
            aaaa,
        }
    }

    /// TLSA records at `name`, rendered "usage selector matching hex" (RFC 6698 §2.2).
    pub async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
        self.ask(name, RecordType::TLSA, in_answer_order, |data| match data {
            RData::TLSA(tlsa) => Some(format!(
                "{} {} {} {}",
                u8::from(tlsa.cert_usage()),
                u8::from(tlsa.selector()),
                u8::from(tlsa.matching()),
                hex(tlsa.cert_data())
            )),
            _ => None,
        })
        .await
    }

    /// One question, with the answer's records of `record_type` converted by `convert`: asked
    /// again after SERVFAIL, REFUSED or silence, with backoff, within the step's budget. An
    /// answer with more than [`MAX_RECORDS`] is put in `keep_order` and cut. After a negative
    /// answer the CNAME chain from `name` is followed, to name a loop.
    async fn ask<T>(
        &self,
        name: &str,
        record_type: RecordType,
        keep_order: fn(&mut Vec<T>),
        convert: impl Fn(&RData) -> Option<T>,
    ) -> DnsAnswer<Vec<T>> {
        let answer = self.ask_once(name, record_type, keep_order, convert).await;
        if matches!(answer, DnsAnswer::NoData | DnsAnswer::NxDomain) {
            if let Ok(fqdn) = fully_qualified(name) {
                if let Some(reason) = self.broken_cname_chain(&fqdn).await {
                    return DnsAnswer::Failed { reason };
                }
            }
        }
        answer
    }

    /// [`DnsClient::ask`] without following the CNAME chain after a negative answer.
    async fn ask_once<T>(
        &self,
        name: &str,
        record_type: RecordType,
        keep_order: fn(&mut Vec<T>),
        convert: impl Fn(&RData) -> Option<T>,
    ) -> DnsAnswer<Vec<T>> {
        let fqdn = match fully_qualified(name) {
            Ok(fqdn) => fqdn,
            Err(reason) => return DnsAnswer::Failed { reason },
        };
        self.stats.questions.fetch_add(1, Ordering::Relaxed);
        self.stats.first_question.get_or_init(Instant::now);
        // The step's budget counts the attempts and the pauses between them, not the waits for
        // a slot in the window: those are the run's own politeness, bounded by the domain's
        // deadline.
        let mut spent = Duration::ZERO;
        let mut attempt_timeout = FIRST_ATTEMPT_TIMEOUT;
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0u32;
        let mut answered = false;
        loop {
            if self.stats.down() {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                return DnsAnswer::Failed {
                    reason: self.down_reason(),
                };
            }
            let remaining = self.question_timeout.saturating_sub(spent);
            let wait = attempt_timeout.min(remaining);
            attempts += 1;
            let outcome = {
                let (_slot, waited) = self.window.enter().await;
                if waited {
                    self.stats.waited.fetch_add(1, Ordering::Relaxed);
                    // It may have been declared down while this question waited.
                    if self.stats.down() {
                        self.stats.failed.fetch_add(1, Ordering::Relaxed);
                        return DnsAnswer::Failed {
                            reason: self.down_reason(),
                        };
                    }
                }
                let started = Instant::now();
                let lookup = self.resolver.lookup(fqdn.clone(), record_type);
                let result = with_deadline(wait, lookup).await;
                spent += started.elapsed();
                match result {
                    Some(Ok(lookup)) => Attempt::Final(answer_from_lookup(
                        &lookup,
                        &fqdn,
                        record_type,
                        keep_order,
                        &convert,
                    )),
                    Some(Err(err)) => attempt_from_error(&err),
                    None => Attempt::Retry {
                        reason: format!(
                            "{} did not answer within {:.1} s",
                            self.resolver_name,
                            wait.as_secs_f64()
                        ),
                        answered: false,
                    },
                }
            };
            let (reason, this_answered) = match outcome {
                Attempt::Final(answer) => {
                    self.stats.answered.store(true, Ordering::Relaxed);
                    self.window.answered();
                    return answer;
                }
                Attempt::Retry { reason, answered } => (reason, answered),
            };
            answered |= this_answered;
            if this_answered {
                self.stats.answered.store(true, Ordering::Relaxed);
            } else {
                self.stats.lost_attempts.fetch_add(1, Ordering::Relaxed);
            }
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            if let Some(size) = self.window.pushed_back() {
                self.stats.slowdowns.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .smallest_window
                    .fetch_min(size as u64, Ordering::Relaxed);
            }
            let pause = backoff.mul_f64(jitter());
            let left = self.question_timeout.saturating_sub(spent);
            // Another attempt needs the pause and a short wait for its answer.
            if left <= pause + FIRST_ATTEMPT_TIMEOUT / 2 {
                let tries = if attempts > 1 {
                    format!(", still after {attempts} attempts")
                } else {
                    String::new()
                };
                return self.given_up(format!("{reason}{tries}"), answered);
            }
            if attempts == 1 {
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(pause).await;
            spent += pause;
            backoff = backoff.saturating_mul(2).min(LONGEST_ATTEMPT_TIMEOUT);
            attempt_timeout = attempt_timeout
                .saturating_mul(2)
                .min(LONGEST_ATTEMPT_TIMEOUT);
        }
    }

    /// Follows the CNAMEs from `name` one `CNAME` question at a time, and names a loop or a
    /// chain longer than [`MAX_CNAME_STEPS`]; `None` when the chain ends (or cannot be followed).
    ///
    /// Needed because hickory turns an answer that is a CNAME loop into "no records" and drops
    /// the CNAMEs, so a loop at `_mta-sts.D` would read as "no MTA-STS record", when senders'
    /// resolvers fail the lookup (SERVFAIL). Asked only after a negative answer (for addresses,
    /// only when neither family has any: [`DnsClient::addrs`]), so a name that
    /// resolves costs nothing more.
    async fn broken_cname_chain(&self, name: &Name) -> Option<String> {
        let mut visited = vec![name.clone()];
        for _ in 0..=MAX_CNAME_STEPS {
            let current = visited.last()?.clone();
            let lookup = self.resolver.lookup(current.clone(), RecordType::CNAME);
            let lookup = with_deadline(self.question_timeout, lookup).await?.ok()?;
            let target = lookup
                .records()
                .iter()
                .find_map(|record| match record.data() {
                    RData::CNAME(target) if record.name() == &current => Some(target.0.clone()),
                    _ => None,
                })?;
            if visited.contains(&target) {
                return Some(format!(
                    "CNAME loop: {} -> {}",
                    chain_names(&visited),
                    name_text(&target)
                ));
            }
            visited.push(target);
        }
        Some(format!(
            "the CNAME chain is longer than {MAX_CNAME_STEPS} steps ({} -> …); resolvers give up \
             on chains this long",
            chain_names(&visited[..4])
        ))
    }

    /// A question that failed after its retries; counts towards declaring the resolver down
    /// when it never answered.
    fn given_up<T>(&self, reason: String, answered: bool) -> DnsAnswer<T> {
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        if !answered {
            self.stats.unanswered.fetch_add(1, Ordering::Relaxed);
        }
        // Once the resolver is known to be down, that is the reason, whatever the last attempt
        // ran into.
        if self.stats.down() {
            return DnsAnswer::Failed {
                reason: self.down_reason(),
            };
        }
        DnsAnswer::Failed { reason }
    }

    fn down_reason(&self) -> String {
        down_sentence(&self.resolver_name)
    }
}

/// "the resolver 127.0.0.1:53 did not answer" (and what that means for the run).
fn down_sentence(resolver_name: &str) -> String {
    format!(
        "{resolver_name} did not answer: no question of this run got any answer, so nothing \
         could be looked up"
    )
}

/// Sorts an error from one attempt: SERVFAIL, REFUSED, timeouts and transport errors are worth
/// another attempt; NXDOMAIN, NODATA and other answers are final.
fn attempt_from_error<T>(err: &ResolveError) -> Attempt<T> {
    if let ResolveErrorKind::Proto(proto) = err.kind() {
        match proto.kind() {
            ProtoErrorKind::NoRecordsFound {
                response_code: ResponseCode::ServFail | ResponseCode::Refused,
                ..
            } => {
                if let DnsAnswer::Failed { reason } = answer_from_proto_error::<T>(proto) {
                    return Attempt::Retry {
                        reason,
                        answered: true,
                    };
                }
            }
            ProtoErrorKind::NoConnections | ProtoErrorKind::Timeout | ProtoErrorKind::Io(_) => {
                let DnsAnswer::Failed { reason } = answer_from_proto_error::<T>(proto) else {
                    return Attempt::Final(answer_from_proto_error(proto));
                };
                return Attempt::Retry {
                    reason,
                    answered: false,
                };
            }
            _ => {}
        }
        return Attempt::Final(answer_from_proto_error(proto));
    }
    Attempt::Final(answer_from_error(err))
}

async fn with_deadline<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    tokio::time::timeout(limit, future).await.ok()
}

/// `name` as an absolute DNS name; U-labels become A-labels.
fn fully_qualified(name: &str) -> Result<Name, String> {
    let trimmed = name.trim_end_matches('.');
    if trimmed.is_empty() {
        return Err("empty DNS name".to_owned());
    }
    let absolute = format!("{trimmed}.");
    let parsed = if absolute.is_ascii() {
        Name::from_ascii(&absolute)
    } else {
        Name::from_utf8(&absolute)
    };
    parsed.map_err(|err| {
        format!(
            "not a valid DNS name: {} ({})",
            escape_str(name),
            escape_str(&err.to_string())
        )
    })
}

/// Records with no order of their own (TXT, TLSA) are kept as the answer lists them.
fn in_answer_order<T>(_: &mut Vec<T>) {}

/// One TXT record's character-strings, cut at [`MAX_TXT_RECORD_BYTES`]; `true` when cut.
fn bounded_txt(record: TxtRecord) -> (TxtRecord, bool) {
    let mut kept = Vec::new();
    let mut room = MAX_TXT_RECORD_BYTES;
    let mut shortened = false;
    for mut string in record.strings {
        if room == 0 {
            shortened = true;
            break;
        }
        if string.len() > room {
            string.truncate(room);
            shortened = true;
        }
        room -= string.len();
        kept.push(string);
    }
    (TxtRecord { strings: kept }, shortened)
}

/// The records of one TXT answer, each cut at [`MAX_TXT_RECORD_BYTES`], up to
/// [`MAX_TXT_ANSWER_BYTES`] in all; `cut` (what [`answer_from_lookup`] dropped already) says
/// what was left out.
fn bounded_txt_answer(
    records: Vec<TxtRecord>,
    cut: Option<AnswerCut>,
) -> (Vec<TxtRecord>, Option<AnswerCut>) {
    let received = records.len();
    let bytes: usize = records
        .iter()
        .flat_map(|record| &record.strings)
        .map(Vec::len)
        .sum();
    let mut shortened = 0usize;
    let mut used = 0usize;
    let mut kept = Vec::new();
    for record in records {
        let (record, cut_short) = bounded_txt(record);
        used = used.saturating_add(record.strings.iter().map(Vec::len).sum::<usize>());
        if used > MAX_TXT_ANSWER_BYTES {
            break;
        }
        shortened += usize::from(cut_short);
        kept.push(record);
    }
    let over_budget = kept.len() < received;
    if cut.is_none() && shortened == 0 && !over_budget {
        return (kept, None);
    }
    let cut = AnswerCut {
        records: cut.map_or(received, |cut| cut.records),
        shortened,
        bytes: if over_budget { bytes } else { 0 },
    };
    (kept, Some(cut))
}

/// A name as text: lower-case, no trailing dot, the root as `""`.
fn name_text(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// The records of `record_type` in `lookup`, at most [`MAX_RECORDS`] of them (the first in
/// `keep_order`), with the TTL and CNAME chain of the answer.
fn answer_from_lookup<T>(
    lookup: &Lookup,
    asked: &Name,
    record_type: RecordType,
    keep_order: fn(&mut Vec<T>),
    convert: impl Fn(&RData) -> Option<T>,
) -> DnsAnswer<Vec<T>> {
    let records = lookup.records();
    let mut data = Vec::new();
    let mut ttl = u32::MAX;
    for record in records {
        let relevant =
            record.record_type() == record_type || record.record_type() == RecordType::CNAME;
        if relevant {
            // The answer lives as long as its shortest-lived record, CNAMEs included.
            ttl = ttl.min(record.ttl());
        }
        // All are converted (a DNS message is at most 64 KiB) so that the ones kept can be
        // chosen, and the report can say how many there were.
        if record.record_type() == record_type {
            if let Some(item) = convert(record.data()) {
                data.push(item);
            }
        }
    }
    let cut = (data.len() > MAX_RECORDS).then(|| {
        let records = data.len();
        keep_order(&mut data);
        data.truncate(MAX_RECORDS);
        AnswerCut {
            records,
            ..AnswerCut::default()
        }
    });
    // A looping or overlong chain fails the lookup, as it does at senders' resolvers, whether
    // or not the server put an answer at its end.
    let cname_chain = match cname_chain(asked, records) {
        Ok(chain) => chain,
        Err(reason) => return DnsAnswer::Failed { reason },
    };
    if data.is_empty() {
        return DnsAnswer::NoData;
    }
    DnsAnswer::Records {
        data,
        ttl,
        cname_chain,
        cut,
    }
}

/// The CNAME steps `owner -> target` in the order they lead from the asked name; CNAMEs that do
/// not continue the chain (unusual) are kept after it. `Err` names a loop, or a chain longer
/// than [`MAX_CNAME_STEPS`].
fn cname_chain(asked: &Name, records: &[Record]) -> Result<Vec<String>, String> {
    // One more than accepted, to see that a chain is too long; the rest are never looked at.
    let mut cnames: Vec<(Name, Name)> = records
        .iter()
        .filter_map(|record| match record.data() {
            RData::CNAME(target) => Some((record.name().clone(), target.0.clone())),
            _ => None,
        })
        .take(MAX_CNAME_STEPS + 1)
        .collect();
    let mut chain = Vec::with_capacity(cnames.len());
    let mut visited = vec![asked.clone()];
    let mut current = asked.clone();
    while let Some(index) = cnames.iter().position(|(owner, _)| owner == &current) {
        let (owner, target) = cnames.remove(index);
        chain.push(format!("{} -> {}", name_text(&owner), name_text(&target)));
        if visited.contains(&target) {
            return Err(format!(
                "CNAME loop: {} -> {}",
                chain_names(&visited),
                name_text(&target)
            ));
        }
        visited.push(target.clone());
        current = target;
    }
    if chain.len() + cnames.len() > MAX_CNAME_STEPS {
        return Err(format!(
            "the CNAME chain is longer than {MAX_CNAME_STEPS} steps ({} -> …); resolvers give up \
             on chains this long",
            chain_names(&visited[..visited.len().min(4)])
        ));
    }
    for (owner, target) in cnames {
        chain.push(format!("{} -> {}", name_text(&owner), name_text(&target)));
    }
    Ok(chain)
}

fn chain_names(names: &[Name]) -> String {
    names.iter().map(name_text).collect::<Vec<_>>().join(" -> ")
}

fn answer_from_error<T>(err: &ResolveError) -> DnsAnswer<T> {
    match err.kind() {
        ResolveErrorKind::Proto(proto) => answer_from_proto_error(proto),
        _ => DnsAnswer::Failed {
            reason: escape_str(&err.to_string()),
        },
    }
}

fn answer_from_proto_error<T>(err: &ProtoError) -> DnsAnswer<T> {
    match err.kind() {
        ProtoErrorKind::NoRecordsFound { response_code, .. } => match response_code {
            ResponseCode::NXDomain => DnsAnswer::NxDomain,
            ResponseCode::NoError => DnsAnswer::NoData,
            ResponseCode::ServFail => DnsAnswer::Failed {
                reason: "the server answered SERVFAIL".to_owned(),
            },
            ResponseCode::Refused => DnsAnswer::Failed {
                reason: "the server answered REFUSED".to_owned(),
            },
            other => DnsAnswer::Failed {
                reason: format!("the server answered {}", escape_str(&other.to_string())),
            },
        },
        ProtoErrorKind::Timeout => DnsAnswer::Failed {
            reason: "the resolver did not answer (the query timed out)".to_owned(),
        },
        _ => DnsAnswer::Failed {
            reason: escape_str(&err.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::{A, CNAME, TXT};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn names_become_fully_qualified() {
        assert_eq!(
            fully_qualified("_mta-sts.example.com").unwrap().to_ascii(),
            "_mta-sts.example.com."
        );
        assert_eq!(
            fully_qualified("example.com.").unwrap().to_ascii(),
            "example.com."
        );
        assert!(fully_qualified("bücher.example").unwrap().is_fqdn());
        assert!(fully_qualified("").is_err());
        assert!(fully_qualified("a..b").is_err());
    }

    #[test]
    fn name_text_drops_root_dot_and_case() {
        assert_eq!(name_text(&name("MX1.Example.COM.")), "mx1.example.com");
        assert_eq!(name_text(&Name::root()), "");
    }

    #[test]
    fn cname_chain_follows_owner_order() {
        let records = vec![
            Record::from_rdata(name("b.test."), 60, RData::CNAME(CNAME(name("c.test.")))),
            Record::from_rdata(name("a.test."), 30, RData::CNAME(CNAME(name("b.test.")))),
            Record::from_rdata(name("c.test."), 300, RData::A(A::new(192, 0, 2, 1))),
        ];
        assert_eq!(
            cname_chain(&name("a.test."), &records).unwrap(),
            vec!["a.test -> b.test", "b.test -> c.test"]
        );
        let lookup = Lookup::new_with_max_ttl(
            hickory_resolver::proto::op::Query::query(name("a.test."), RecordType::A),
            records.into(),
        );
        let answer = answer_from_lookup(
            &lookup,
            &name("a.test."),
            RecordType::A,
            in_answer_order,
            |data| match data {
                RData::A(a) => Some(a.0),
                _ => None,
            },
        );
        assert_eq!(answer.ttl(), Some(30));
        assert_eq!(answer.data().map(Vec::len), Some(1));
    }

    #[test]
    fn answers_are_bounded_and_say_how_many_records_they_held() {
        let records: Vec<Record> = (0..250)
            .map(|index| {
                Record::from_rdata(
                    name("t.test."),
                    300,
                    RData::TXT(TXT::new(vec![format!("record {index}")])),
                )
            })
            .collect();
        let lookup = Lookup::new_with_max_ttl(
            hickory_resolver::proto::op::Query::query(name("t.test."), RecordType::TXT),
            records.into(),
        );
        let answer = answer_from_lookup(
            &lookup,
            &name("t.test."),
            RecordType::TXT,
            in_answer_order,
            |data| match data {
                RData::TXT(txt) => Some(txt.txt_data().len()),
                _ => None,
            },
        );
        assert_eq!(answer.data().map(Vec::len), Some(MAX_RECORDS));
        assert_eq!(answer.cut().map(|cut| cut.records), Some(250));
    }

    /// Issue 12: of an MX answer past the bound, the most preferred records are kept, whatever
    /// order the server sent them in.
    #[test]
    fn the_most_preferred_mx_records_are_kept() {
        let records: Vec<Record> = (0..200u16)
            .rev()
            .map(|index| {
                Record::from_rdata(
                    name("d.test."),
                    300,
                    RData::MX(hickory_resolver::proto::rr::rdata::MX::new(
                        index,
                        name(&format!("mx{index}.d.test.")),
                    )),
                )
            })
            .collect();
        let lookup = Lookup::new_with_max_ttl(
            hickory_resolver::proto::op::Query::query(name("d.test."), RecordType::MX),
            records.into(),
        );
        let by_preference = |records: &mut Vec<u16>| records.sort_unstable();
        let answer = answer_from_lookup(
            &lookup,
            &name("d.test."),
            RecordType::MX,
            by_preference,
            |data| match data {
                RData::MX(mx) => Some(mx.preference()),
                _ => None,
            },
        );
        let kept = answer.data().unwrap();
        assert_eq!(kept, &(0..100).collect::<Vec<u16>>());
        assert_eq!(answer.cut().map(|cut| cut.records), Some(200));
    }

    #[test]
    fn lookup_without_wanted_type_is_nodata() {
        let records = vec![Record::from_rdata(
            name("a.test."),
            30,
            RData::CNAME(CNAME(name("b.test."))),
        )];
        let lookup = Lookup::new_with_max_ttl(
            hickory_resolver::proto::op::Query::query(name("a.test."), RecordType::MX),
            records.into(),
        );
        let answer: DnsAnswer<Vec<()>> = answer_from_lookup(
            &lookup,
            &name("a.test."),
            RecordType::MX,
            in_answer_order,
            |_| Some(()),
        );
        assert_eq!(answer, DnsAnswer::NoData);
    }

    #[test]
    fn cname_loops_and_long_chains_fail() {
        let cname = |from: &str, to: &str| {
            Record::from_rdata(name(from), 60, RData::CNAME(CNAME(name(to))))
        };
        let looping = vec![cname("a.test.", "b.test."), cname("b.test.", "a.test.")];
        let err = cname_chain(&name("a.test."), &looping).unwrap_err();
        assert_eq!(err, "CNAME loop: a.test -> b.test -> a.test");

        let long: Vec<Record> = (0..20)
            .map(|index| cname(&format!("c{index}.test."), &format!("c{}.test.", index + 1)))
            .collect();
        let err = cname_chain(&name("c0.test."), &long).unwrap_err();
        assert!(
            err.starts_with("the CNAME chain is longer than 16 steps (c0.test -> c1.test"),
            "{err}"
        );
        assert_eq!(
            cname_chain(&name("c4.test."), &long[4..]).unwrap().len(),
            MAX_CNAME_STEPS
        );
    }

    #[test]
    fn txt_records_and_answers_are_cut_saying_so() {
        let long = TxtRecord {
            strings: vec![vec![b'x'; 255]; 40],
        };
        let (record, shortened) = bounded_txt(long.clone());
        assert!(shortened);
        assert_eq!(
            record.strings.iter().map(Vec::len).sum::<usize>(),
            MAX_TXT_RECORD_BYTES
        );
        let (kept, cut) = bounded_txt_answer(vec![long; 10], None);
        assert_eq!(kept.len(), MAX_TXT_ANSWER_BYTES / MAX_TXT_RECORD_BYTES);
        assert_eq!(
            cut,
            Some(AnswerCut {
                records: 10,
                shortened: 4,
                bytes: 10 * 40 * 255,
            })
        );
        let small = vec![TxtRecord::single("v=STSv1; id=1"); 3];
        assert_eq!(bounded_txt_answer(small.clone(), None), (small, None));
    }

    #[test]
    fn odd_bytes_in_names_are_shown_escaped() {
        let odd = Name::from_labels(vec![&b"mx\x00 \xff"[..], b"example"]).unwrap();
        let text = name_text(&odd);
        assert!(text.chars().all(|c| c.is_ascii_graphic()), "{text:?}");
        assert!(
            crate::name::HostName::parse_mx_target(&text).is_err(),
            "{text:?}"
        );
    }
}
