//! The progress bar of a bulk run, on standard error: domains done of the total, the rate in
//! domains per second, the time left, and the last domain finished. Drawn by `indicatif`, which
//! limits redraws to a few per second, so updating it from every task costs little.
//!
//! The caller decides whether it shows (`stderr` is a terminal and `--quiet` is not given); a
//! hidden bar holds no `indicatif` state at all and writes nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::human::clean;

/// `[elapsed] bar done/total domains · rate · ETA · last domain`.
const TEMPLATE: &str =
    "[{elapsed_precise}] {bar:30} {pos}/{len} domains · {rate} · ETA {eta} · {wide_msg}";

/// A bar shared by every task of a run (`&Progress` is enough: it is `Sync`).
#[derive(Clone, Debug)]
pub struct Progress {
    /// `None` when disabled, so a disabled bar is one branch per call.
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar counting up to `total` domains on standard error; hidden when `enabled` is false.
    pub fn new(total: u64, enabled: bool) -> Self {
        Self::with_target(total, enabled.then(ProgressDrawTarget::stderr))
    }

    /// A bar drawn to `target`, or none.
    fn with_target(total: u64, target: Option<ProgressDrawTarget>) -> Self {
        let bar = target.map(|target| {
            let bar = ProgressBar::with_draw_target(Some(total), target);
            bar.set_style(style());
            bar
        });
        Self { bar }
    }

    /// Counts one more domain done; `domain` is shown as the latest.
    pub fn domain_done(&self, domain: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(clean(domain).into_owned());
            bar.inc(1);
        }
    }

    /// Removes the bar from the terminal; call once, after the last domain.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Runs `write` with the bar taken off the terminal, so output to the same terminal (the
    /// human report on standard output, a warning on standard error) is not torn by a redraw.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// True when nothing will ever be drawn.
    pub fn is_hidden(&self) -> bool {
        self.bar.as_ref().is_none_or(ProgressBar::is_hidden)
    }
}

fn style() -> ProgressStyle {
    // The template is a constant checked by a test; the fallback only keeps this panic-free.
    ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.1} domains/s", state.per_sec());
            },
        )
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

    use super::*;

    /// A terminal that records what is drawn.
    #[derive(Clone, Debug, Default)]
    struct RecordingTerm(Arc<Mutex<String>>);

    impl RecordingTerm {
        fn text(&self) -> String {
            self.0.lock().unwrap().clone()
        }
        fn push(&self, text: &str) -> io::Result<()> {
            self.0.lock().unwrap().push_str(text);
            Ok(())
        }
    }

    impl TermLike for RecordingTerm {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, line: &str) -> io::Result<()> {
            self.push(line)?;
            self.push("\n")
        }
        fn write_str(&self, text: &str) -> io::Result<()> {
            self.push(text)
        }
        fn clear_line(&self) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn template_parses() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }

    #[test]
    fn disabled_is_hidden_and_inert() {
        let progress = Progress::new(3, false);
        assert!(progress.bar.is_none());
        assert!(progress.is_hidden());
        progress.domain_done("a.example");
        assert_eq!(progress.suspend(|| 7), 7);
        progress.finish();
    }

    #[test]
    fn enabled_draws_count_rate_and_domain() {
        let term = RecordingTerm::default();
        let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
        let progress = Progress::with_target(3, Some(target));
        assert!(!progress.is_hidden());
        progress.domain_done("a.example");
        progress.domain_done("b.\u{1b}[2Jexample");
        // Redraws are rate-limited; a forced tick draws now.
        if let Some(bar) = &progress.bar {
            bar.tick();
        }
        let text = term.text();
        assert!(text.contains("2/3 domains"), "{text:?}");
        assert!(text.contains("domains/s"), "{text:?}");
        assert!(text.contains("ETA"), "{text:?}");
        assert!(!text.contains("\u{1b}[2J"), "{text:?}");
        progress.finish();
    }

    #[test]
    fn shared_across_threads() {
        let term = RecordingTerm::default();
        let target = ProgressDrawTarget::term_like(Box::new(term));
        let progress = Progress::with_target(8, Some(target));
        std::thread::scope(|scope| {
            for worker in 0..4 {
                let progress = &progress;
                scope.spawn(move || {
                    progress.domain_done(&format!("w{worker}a.example"));
                    progress.domain_done(&format!("w{worker}b.example"));
                });
            }
        });
        assert_eq!(progress.bar.as_ref().map(ProgressBar::position), Some(8));
    }
}
