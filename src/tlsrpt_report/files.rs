//! The I/O seam of `mtasts reports`: walks the paths given (files, directories recursively,
//! Maildir folders, `-` for standard input), reads each file within bounds and hands its bytes
//! to [`container`]. Everything else is pure.
//!
//! Order is deterministic: the paths in the order given, a directory's entries sorted by name.
//! A Maildir (a directory holding `cur/` and `new/`) is read through `cur/`, `new/` and its
//! `.Folder` subfolders only, so the server's index files and the half-delivered messages in
//! `tmp/` are not taken for reports. Anything that cannot be read is reported, never skipped.

// The report reader's I/O seam: the one module of tlsrpt_report that opens files.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "files.rs walks and reads the report files named on the command line"
)]

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::container::{self, Item, Limits};

/// Bounds on the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkLimits {
    /// Most files read in one run.
    pub max_files: usize,
    /// Deepest directory level below a path given.
    pub max_depth: usize,
    /// Largest file read into memory (an mbox is streamed and has no such bound).
    pub max_file_bytes: u64,
}

impl Default for WalkLimits {
    fn default() -> Self {
        Self {
            max_files: 100_000,
            max_depth: 32,
            max_file_bytes: 256 * 1024 * 1024,
        }
    }
}

/// How a run's inputs went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Files (and standard input) read.
    pub files: usize,
}

/// Reads every input; `sink` gets the path shown for each file (`<stdin>` for `-`) and each item
/// found in it.
pub fn read_inputs(
    paths: &[PathBuf],
    walk_limits: &WalkLimits,
    limits: &Limits,
    sink: &mut dyn FnMut(&str, Item),
) -> WalkStats {
    let mut walker = Walker {
        walk_limits,
        limits,
        sink,
        stats: WalkStats::default(),
        stopped: false,
    };
    for path in paths {
        if walker.stopped {
            break;
        }
        if path.as_os_str() == "-" {
            walker.stdin();
        } else {
            walker.path(path, 0);
        }
    }
    walker.stats
}

struct Walker<'a> {
    walk_limits: &'a WalkLimits,
    limits: &'a Limits,
    sink: &'a mut dyn FnMut(&str, Item),
    stats: WalkStats,
    /// Set when `max_files` is reached.
    stopped: bool,
}

fn shown(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

impl Walker<'_> {
    fn unreadable(&mut self, path: &str, reason: String) {
        (self.sink)(
            path,
            Item::Problem {
                origin: String::new(),
                reason,
            },
        );
    }

    fn path(&mut self, path: &Path, depth: usize) {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => self.directory(path, depth),
            Ok(meta) if meta.is_file() => self.file(path),
            Ok(_) => self.unreadable(&shown(path), "not a regular file or directory".to_owned()),
            Err(error) => self.unreadable(&shown(path), format!("cannot be read: {error}")),
        }
    }

    fn directory(&mut self, dir: &Path, depth: usize) {
        if depth >= self.walk_limits.max_depth {
            self.unreadable(
                &shown(dir),
                format!(
                    "more than {} directory levels deep; not read",
                    self.walk_limits.max_depth
                ),
            );
            return;
        }
        let mut entries = match sorted_entries(dir) {
            Ok(entries) => entries,
            Err(error) => {
                return self.unreadable(&shown(dir), format!("cannot list the directory: {error}"))
            }
        };
        if is_maildir(dir) {
            entries.retain(|entry| {
                let name = entry.file_name().unwrap_or_default().to_string_lossy();
                name == "cur" || name == "new" || (name.starts_with('.') && entry.is_dir())
            });
        }
        for entry in entries {
            if self.stopped {
                return;
            }
            self.path(&entry, depth + 1);
        }
    }

    /// Counts a file against `max_files`; false once the bound is reached.
    fn admit(&mut self, path: &str) -> bool {
        if self.stats.files >= self.walk_limits.max_files {
            self.stopped = true;
            self.unreadable(
                path,
                format!(
                    "more than {} files given; this one and the rest were not read (--max-files)",
                    self.walk_limits.max_files
                ),
            );
            return false;
        }
        self.stats.files += 1;
        true
    }

    fn file(&mut self, path: &Path) {
        let name = shown(path);
        if !self.admit(&name) {
            return;
        }
        match File::open(path) {
            Ok(file) => self.reader(&name, &mut BufReader::with_capacity(64 * 1024, file)),
            Err(error) => self.unreadable(&name, format!("cannot be read: {error}")),
        }
    }

    fn stdin(&mut self) {
        let name = "<stdin>";
        if !self.admit(name) {
            return;
        }
        let stdin = io::stdin();
        let mut lock = stdin.lock();
        self.reader(name, &mut lock);
    }

    /// Streams an mbox; reads anything else whole (bounded) and extracts from the bytes.
    fn reader(&mut self, name: &str, reader: &mut dyn BufRead) {
        let is_mbox = match reader.fill_buf() {
            Ok(head) => head.starts_with(b"From "),
            Err(error) => return self.unreadable(name, format!("cannot be read: {error}")),
        };
        let sink = &mut *self.sink;
        let mut forward = |item: Item| sink(name, item);
        if is_mbox {
            container::extract_mbox(reader, self.limits, &mut forward);
            return;
        }
        let mut bytes = Vec::new();
        match reader
            .take(self.walk_limits.max_file_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
        {
            Ok(_) if bytes.len() as u64 > self.walk_limits.max_file_bytes => self.unreadable(
                name,
                format!(
                    "larger than {} bytes, the limit for one file; not read",
                    self.walk_limits.max_file_bytes
                ),
            ),
            Ok(_) => container::extract(&bytes, self.limits, &mut forward),
            Err(error) => self.unreadable(name, format!("cannot be read: {error}")),
        }
    }
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut entries = fs::read_dir(dir)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

/// A Maildir holds `cur/` and `new/` (and `tmp/`).
fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}
