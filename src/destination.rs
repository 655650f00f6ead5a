//! Where a report is written: standard output, or `--output FILE`.
//!
//! A report to a file is written to a temporary file in FILE's directory and renamed over FILE
//! only when the run has finished writing it ([`Destination::commit`]), so FILE is never seen
//! half written, and a run that stops on an error leaves an earlier FILE as it was (the
//! temporary file is removed when the [`Destination`] is dropped uncommitted).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use tempfile::TempPath;

/// The report's destination. Cloning it shares the one buffered writer, so a sink can own a
/// handle while the run flushes after each domain.
#[derive(Clone)]
pub struct Destination {
    writer: Arc<Mutex<BufWriter<Box<dyn Write + Send>>>>,
    file: Option<Arc<Mutex<Option<PendingFile>>>>,
}

/// A temporary file waiting to be renamed over its target.
struct PendingFile {
    temp: TempPath,
    target: PathBuf,
}

impl Destination {
    /// Standard output, or a temporary file beside `output`.
    pub fn open(output: Option<&Path>) -> anyhow::Result<Self> {
        let Some(target) = output else {
            return Ok(Self::from_writer(Box::new(io::stdout()), None));
        };
        let shown = target.display();
        let directory = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if target.is_dir() {
            anyhow::bail!("--output {shown} is a directory; give a file name");
        }
        let temp = tempfile::Builder::new()
            .prefix(".mtasts-")
            .suffix(".tmp")
            .tempfile_in(directory)
            .with_context(|| {
                format!(
                    "cannot write --output {shown}: cannot create a file in {}",
                    directory.display()
                )
            })?;
        let (file, temp) = temp.into_parts();
        let pending = PendingFile {
            temp,
            target: target.to_path_buf(),
        };
        Ok(Self::from_writer(Box::new(file), Some(pending)))
    }

    fn from_writer(writer: Box<dyn Write + Send>, file: Option<PendingFile>) -> Self {
        Self {
            writer: Arc::new(Mutex::new(BufWriter::new(writer))),
            file: file.map(|file| Arc::new(Mutex::new(Some(file)))),
        }
    }

    /// Whether the report goes to a file (`--output`), where automatic colour never applies.
    pub fn is_file(&self) -> bool {
        self.file.is_some()
    }

    /// Flushes what was written so far.
    pub fn flush_now(&self) -> io::Result<()> {
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }

    /// Ends the report: flushes it and, for `--output`, renames the temporary file over the
    /// target. Call once, after the last write.
    pub fn commit(&self) -> anyhow::Result<()> {
        let shown = |pending: &PendingFile| pending.target.display().to_string();
        let Some(file) = &self.file else {
            return self.flush_now().context("cannot write to standard output");
        };
        let Some(pending) = file.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            return Ok(());
        };
        self.flush_now()
            .with_context(|| format!("cannot write --output {}", shown(&pending)))?;
        let target = pending.target.clone();
        pending
            .temp
            .persist(&target)
            .map_err(|err| err.error)
            .with_context(|| format!("cannot write --output {}", target.display()))?;
        Ok(())
    }
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_now()
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "the tests read back the files they had written"
)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_when_committed_and_replaces_the_old_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.txt");
        std::fs::write(&target, "old report\n").unwrap();
        let mut destination = Destination::open(Some(&target)).unwrap();
        assert!(destination.is_file());
        destination.write_all(b"new ").unwrap();
        destination.flush_now().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old report\n");
        destination.write_all(b"report\n").unwrap();
        destination.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new report\n");
        // Only the report is left in the directory: the temporary file was renamed.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_uncommitted_file_leaves_the_old_one_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        std::fs::write(&target, "{}\n").unwrap();
        {
            let mut destination = Destination::open(Some(&target)).unwrap();
            destination.write_all(b"{\"half\":").unwrap();
            destination.flush_now().unwrap();
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_or_a_missing_directory_is_a_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let error = Destination::open(Some(dir.path())).err().unwrap();
        assert!(error.to_string().contains("is a directory"), "{error}");
        let missing = dir.path().join("no-such-dir").join("r.txt");
        let error = format!("{:#}", Destination::open(Some(&missing)).err().unwrap());
        assert!(error.starts_with("cannot write --output"), "{error}");
    }
}
