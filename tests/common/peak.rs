//! The peak resident set size of a child process (`VmHWM` in `/proc/PID/status`, Linux), polled
//! while it runs: what the benchmarks report as a run's peak memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mtasts::stats::status_field_kib;

/// Polls one process until [`PeakPoller::stop`].
pub struct PeakPoller {
    done: Arc<AtomicBool>,
    thread: JoinHandle<Option<u64>>,
}

impl PeakPoller {
    /// Starts polling process `pid` every `every`.
    pub fn start(pid: u32, every: Duration) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let path = format!("/proc/{pid}/status");
                let mut peak = None;
                while !done.load(Ordering::Relaxed) {
                    if let Some(hwm) = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|status| status_field_kib(&status, "VmHWM"))
                    {
                        peak = peak.max(Some(hwm));
                    }
                    std::thread::sleep(every);
                }
                peak
            })
        };
        Self { done, thread }
    }

    /// The highest `VmHWM` seen, in KiB; call it once the process has been waited for.
    pub fn stop(self) -> Option<u64> {
        self.done.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(None)
    }
}
