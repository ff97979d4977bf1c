//! Where audit records go: one JSON line each, on stderr or in a file rotated by size.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::audit::AuditRecord;

/// Receives audit records of notable decisions (never for dry-run requests).
pub type AuditSink = Arc<dyn Fn(&AuditRecord) + Send + Sync>;

/// Smallest `max_bytes` of a [`RotatingFile`]: room for many ordinary records.
pub const MIN_AUDIT_FILE_BYTES: u64 = 4096;

/// A record as one JSON line: `{"event":"palisade.admission","record":{…}}\n`.
fn line(record: &AuditRecord) -> Option<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        event: &'static str,
        record: &'a AuditRecord,
    }
    let mut line = serde_json::to_vec(&Line {
        event: "palisade.admission",
        record,
    })
    .ok()?;
    line.push(b'\n');
    Some(line)
}

/// Writes an audit record as one JSON line on stderr, in a single write (stderr is
/// unbuffered: formatting straight into it would cost a system call per JSON fragment, and
/// concurrent records could interleave).
pub fn stderr_audit_sink() -> AuditSink {
    Arc::new(|record: &AuditRecord| {
        if let Some(line) = line(record) {
            let _ = std::io::stderr().lock().write_all(&line);
        }
    })
}

/// Writes audit records as JSON lines to `path`, rotated by size (see [`RotatingFile`]).
pub fn file_audit_sink(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<AuditSink> {
    let file = RotatingFile::open(path, max_bytes, keep)?;
    Ok(Arc::new(move |record: &AuditRecord| {
        if let Some(line) = line(record)
            && let Err(e) = file.append(&line)
        {
            tracing::warn!(path = %file.path.display(), "writing the audit log failed: {e}");
        }
    }))
}

/// A log file that never grows past `max_bytes`: before a line would cross the bound, the file
/// is renamed to `FILE.1` (`FILE.1` to `FILE.2`, …, keeping `keep` old files; with 0 the old
/// lines are dropped) and a new one started. Lines are never split; a single line longer than
/// the bound is dropped with a warning. So the files together hold at most
/// `(keep + 1) × max_bytes` bytes.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    state: Mutex<Open>,
}

#[derive(Debug)]
struct Open {
    file: File,
    size: u64,
}

impl RotatingFile {
    /// Opens (appends to) `path`, creating it owner-readable only.
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<RotatingFile> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        let rotating = RotatingFile {
            path: path.to_path_buf(),
            max_bytes: max_bytes.max(MIN_AUDIT_FILE_BYTES),
            keep,
            state: Mutex::new(Open { file, size }),
        };
        if size > rotating.max_bytes {
            let mut state = rotating.state.lock().unwrap_or_else(|p| p.into_inner());
            rotating.rotate(&mut state)?;
        }
        Ok(rotating)
    }

    /// Appends one line, rotating first when it would not fit.
    pub fn append(&self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64;
        if len > self.max_bytes {
            tracing::warn!(
                bytes = len,
                max_bytes = self.max_bytes,
                "audit record larger than the audit file bound; dropped"
            );
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.size + len > self.max_bytes {
            self.rotate(&mut state)?;
        }
        state.file.write_all(line)?;
        state.size += len;
        Ok(())
    }

    fn rotate(&self, state: &mut Open) -> std::io::Result<()> {
        let numbered = |i: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{i}"));
            PathBuf::from(name)
        };
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for i in (1..self.keep).rev() {
                match std::fs::rename(numbered(i), numbered(i + 1)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        *state = Open {
            file: open_append(&self.path)?,
            size: 0,
        };
        Ok(())
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_every_file_under_the_bound_and_lines_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = RotatingFile::open(&path, 4096, 2).unwrap();
        let line = format!("{}\n", "x".repeat(299));
        for _ in 0..100 {
            log.append(line.as_bytes()).unwrap();
        }
        for name in ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"] {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(text.len() <= 4096, "{name}: {}", text.len());
            assert!(text.lines().all(|l| l.len() == 299), "{name}");
            // Rotated files were filled as far as whole lines allow.
            if name != "audit.jsonl" {
                assert!(text.len() > 4096 - 300, "{name}: {}", text.len());
            }
        }
        assert!(!dir.path().join("audit.jsonl.3").exists());
        // A line over the bound is dropped, not split.
        log.append(&vec![b'y'; 5000]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains('y'));
    }
}
