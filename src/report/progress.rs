//! STAND-IN, to be dropped at the merge of issue 4: the progress helper owns this file and
//! replaces it whole. It exists only so that `app::check` compiles on the `engine` branch, with
//! the interface agreed for issue 4 (`Progress::new`, `domain_done`, `finish`); it draws nothing.
//!
//! It also lends `input::InputError` the `Display` the input helper is adding in `src/input.rs`;
//! drop it with this file.

use std::fmt;

/// STAND-IN: a progress bar on standard error that draws nothing.
#[derive(Debug)]
pub struct Progress {
    _total: u64,
    _enabled: bool,
}

impl Progress {
    pub fn new(total: u64, enabled: bool) -> Self {
        Self {
            _total: total,
            _enabled: enabled,
        }
    }

    pub fn domain_done(&self, _domain: &str) {}

    pub fn finish(&self) {}
}

/// STAND-IN: `origin:line: text: reason`.
impl fmt::Display for crate::input::InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: ", self.origin)?,
            None => write!(f, "{}: ", self.origin)?,
        }
        write!(f, "{:?}: {}", self.text, self.reason)
    }
}
