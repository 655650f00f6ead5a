//! Run statistics for the hidden lab flag `mtasts check --stats` and the benchmark
//! (`benches/bulk.rs`, docs/performance.md): domains audited, wall time, peak resident memory, and
//! the time spent in each network stage summed over all domains.
//!
//! The stage clock is one process-wide set of atomic counters, fed by [`crate::audit`] around
//! every probe call; it costs two clock reads and two relaxed atomic adds per call, so it is always
//! on and needs no plumbing through the engine. Nothing here changes what an audit observes.

// The one place outside probe/ and app.rs that reads the clock: it only measures.
#![allow(clippy::disallowed_methods, reason = "run statistics read the clock")]

use std::future::Future;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A network stage whose time is accounted separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// TXT, MX, A/AAAA (one call asks both) and TLSA lookups.
    Dns,
    /// HTTPS fetches of the policy, one call per policy host address.
    PolicyFetch,
    /// STARTTLS probes, one call per MX address.
    Smtp,
}

impl Stage {
    const ALL: [Stage; 3] = [Stage::Dns, Stage::PolicyFetch, Stage::Smtp];

    fn index(self) -> usize {
        match self {
            Stage::Dns => 0,
            Stage::PolicyFetch => 1,
            Stage::Smtp => 2,
        }
    }

    /// The key in the `--stats` JSON.
    pub fn key(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::PolicyFetch => "policy_fetch",
            Stage::Smtp => "smtp",
        }
    }
}

/// Thread-safe accumulator of calls and elapsed time per stage.
#[derive(Debug)]
pub struct StageClock {
    calls: [AtomicU64; 3],
    nanos: [AtomicU64; 3],
}

impl StageClock {
    pub const fn new() -> Self {
        Self {
            calls: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            nanos: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    /// Adds one call of `stage` that took `elapsed`.
    pub fn record(&self, stage: Stage, elapsed: Duration) {
        let index = stage.index();
        // Relaxed: these are independent counters read once at the end of the run.
        self.calls[index].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.nanos[index].fetch_add(nanos, Ordering::Relaxed);
    }

    /// What has been recorded so far.
    pub fn totals(&self) -> StageTimes {
        let read = |stage: Stage| StageTime {
            calls: self.calls[stage.index()].load(Ordering::Relaxed),
            total: Duration::from_nanos(self.nanos[stage.index()].load(Ordering::Relaxed)),
        };
        StageTimes {
            dns: read(Stage::Dns),
            policy_fetch: read(Stage::PolicyFetch),
            smtp: read(Stage::Smtp),
        }
    }
}

impl Default for StageClock {
    fn default() -> Self {
        Self::new()
    }
}

static STAGE_CLOCK: StageClock = StageClock::new();

/// Awaits `call`, adding the time it took to `stage` on the [`stage_clock`].
pub async fn timed<F: Future>(stage: Stage, call: F) -> F::Output {
    let started = Instant::now();
    let output = call.await;
    stage_clock().record(stage, started.elapsed());
    output
}

/// Wall time since it was started, for the run's statistics.
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    pub fn start() -> Self {
        Self(Instant::now())
    }

    pub fn elapsed(self) -> Duration {
        self.0.elapsed()
    }
}

/// The process-wide clock the audit records into.
pub fn stage_clock() -> &'static StageClock {
    &STAGE_CLOCK
}

/// Calls of one stage and their summed duration. Calls overlap (domains run concurrently, and
/// one domain's stages run side by side), so the sum can exceed the wall time; it includes any
/// waiting inside the probe (connection limits, timeouts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageTime {
    pub calls: u64,
    pub total: Duration,
}

/// A snapshot of the [`StageClock`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageTimes {
    pub dns: StageTime,
    pub policy_fetch: StageTime,
    pub smtp: StageTime,
}

impl StageTimes {
    pub fn get(&self, stage: Stage) -> StageTime {
        match stage {
            Stage::Dns => self.dns,
            Stage::PolicyFetch => self.policy_fetch,
            Stage::Smtp => self.smtp,
        }
    }
}

/// What `--stats` prints at the end of a `check` run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Domains audited by this run.
    pub domains: u64,
    /// From the start of the audit to the last report written.
    pub wall: Duration,
    /// Peak resident set size (`VmHWM`), Linux only.
    pub peak_rss_kib: Option<u64>,
    pub stage_times: StageTimes,
}

impl RunStats {
    /// The statistics of this process now: peak memory and the [`stage_clock`] totals.
    pub fn collect(domains: u64, wall: Duration) -> Self {
        Self {
            domains,
            wall,
            peak_rss_kib: peak_rss_kib(),
            stage_times: stage_clock().totals(),
        }
    }

    /// The one-line JSON form (see [`print()`]).
    pub fn to_json(&self) -> serde_json::Value {
        let wall_secs = self.wall.as_secs_f64();
        let per_sec = if wall_secs > 0.0 {
            self.domains as f64 / wall_secs
        } else {
            0.0
        };
        let stages: serde_json::Map<String, serde_json::Value> = Stage::ALL
            .iter()
            .map(|&stage| {
                let time = self.stage_times.get(stage);
                let value = serde_json::json!({
                    "calls": time.calls,
                    "total_ms": millis(time.total),
                });
                (stage.key().to_owned(), value)
            })
            .collect();
        serde_json::json!({
            "kind": STATS_KIND,
            "domains": self.domains,
            "wall_ms": millis(self.wall),
            "domains_per_sec": (per_sec * 10.0).round() / 10.0,
            "peak_rss_kib": self.peak_rss_kib,
            "stages": stages,
        })
    }
}

/// The `kind` field that marks the statistics line among other standard-error output.
pub const STATS_KIND: &str = "mtasts-run-stats";

/// Milliseconds with microsecond precision.
fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Writes `stats` as one JSON line, e.g.
/// `{"domains":1000,"domains_per_sec":812.3,"kind":"mtasts-run-stats","peak_rss_kib":23456,
/// "stages":{"dns":{"calls":19000,"total_ms":5123.4},...},"wall_ms":1231.0}`.
pub fn print(stats: &RunStats, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", stats.to_json())?;
    out.flush()
}

/// This process's peak resident set size in KiB, from `/proc/self/status`; `None` where there
/// is no procfs.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_field_kib(&status, "VmHWM")
}

/// A `NAME:   1234 kB` field of a `/proc/PID/status` file, in KiB.
pub fn status_field_kib(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(':')?;
        let number = value.trim().strip_suffix("kB")?.trim();
        number.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_fields() {
        let status = "Name:\tmtasts\nVmPeak:\t  200000 kB\nVmHWM:\t   23456 kB\nVmRSS:\t 12 kB\n";
        let cases = [
            ("VmHWM", Some(23456)),
            ("VmRSS", Some(12)),
            ("VmPeak", Some(200_000)),
            ("VmSwap", None),
            ("Name", None),
            ("VmHW", None),
        ];
        for (name, expected) in cases {
            assert_eq!(status_field_kib(status, name), expected, "{name}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn peak_rss_of_this_process_is_known_on_linux() {
        let peak = peak_rss_kib().unwrap();
        assert!(peak > 100, "{peak} KiB");
    }

    #[test]
    fn clock_sums_calls_and_time_per_stage() {
        let clock = StageClock::new();
        clock.record(Stage::Dns, Duration::from_millis(2));
        clock.record(Stage::Dns, Duration::from_millis(3));
        clock.record(Stage::Smtp, Duration::from_micros(7));
        let totals = clock.totals();
        assert_eq!(
            totals,
            StageTimes {
                dns: StageTime {
                    calls: 2,
                    total: Duration::from_millis(5)
                },
                policy_fetch: StageTime::default(),
                smtp: StageTime {
                    calls: 1,
                    total: Duration::from_micros(7)
                },
            }
        );
    }

    #[test]
    fn prints_one_json_line() {
        let stats = RunStats {
            domains: 1000,
            wall: Duration::from_millis(1250),
            peak_rss_kib: Some(40_000),
            stage_times: StageTimes {
                dns: StageTime {
                    calls: 20_000,
                    total: Duration::from_micros(5_000_500),
                },
                ..StageTimes::default()
            },
        };
        let mut out = Vec::new();
        print(&stats, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), 1, "{text}");
        assert!(text.ends_with('\n'));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["kind"], STATS_KIND);
        assert_eq!(value["domains"], 1000);
        assert_eq!(value["wall_ms"], 1250.0);
        assert_eq!(value["domains_per_sec"], 800.0);
        assert_eq!(value["peak_rss_kib"], 40_000);
        assert_eq!(value["stages"]["dns"]["calls"], 20_000);
        assert_eq!(value["stages"]["dns"]["total_ms"], 5000.5);
        assert_eq!(value["stages"]["smtp"]["calls"], 0);
        assert_eq!(value["stages"]["policy_fetch"]["total_ms"], 0.0);
    }

    #[test]
    fn unknown_peak_memory_is_null() {
        let stats = RunStats {
            domains: 0,
            wall: Duration::ZERO,
            peak_rss_kib: None,
            stage_times: StageTimes::default(),
        };
        let value = stats.to_json();
        assert!(value["peak_rss_kib"].is_null());
        assert_eq!(value["domains_per_sec"], 0.0);
    }
}
