//! Where audit records go: one JSON line each, on stderr or in a file rotated by size.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

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

/// `sink` with at most `per_second` records a second written on average, in bursts of up to
/// `per_second` (a token bucket). Records over the rate are dropped, not queued: a flood of
/// denials then costs neither unbounded log volume nor time on the request path. Dropping is
/// logged (a warning when it starts, and the number dropped when records are written again).
/// `per_second` 0 means no limit.
pub fn rate_limited(sink: AuditSink, per_second: u32) -> AuditSink {
    if per_second == 0 {
        return sink;
    }
    let bucket = Mutex::new(Bucket::new(per_second, Instant::now()));
    Arc::new(move |record: &AuditRecord| {
        let admitted = bucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(Instant::now());
        match admitted {
            Admit::Write { dropped_before: 0 } => sink(record),
            Admit::Write { dropped_before } => {
                tracing::warn!(
                    dropped = dropped_before,
                    per_second,
                    "audit records over the audit rate were dropped"
                );
                sink(record);
            }
            Admit::DropFirst => tracing::warn!(
                per_second,
                "audit records come faster than the audit rate; dropping them until it allows more"
            ),
            Admit::Drop => {}
        }
    })
}

/// A token bucket of audit records: `rate` tokens a second, holding at most `rate`.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
    dropped: u64,
}

/// What [`Bucket::admit`] decided for one record.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    /// Write it; `dropped_before` records were dropped since the last one written.
    Write { dropped_before: u64 },
    /// Drop it: the first dropped since a record was written.
    DropFirst,
    /// Drop it.
    Drop,
}

impl Bucket {
    fn new(per_second: u32, now: Instant) -> Bucket {
        let rate = f64::from(per_second.max(1));
        Bucket {
            rate,
            tokens: rate,
            last: now,
            dropped: 0,
        }
    }

    fn admit(&mut self, now: Instant) -> Admit {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Admit::Write {
                dropped_before: std::mem::take(&mut self.dropped),
            }
        } else {
            self.dropped += 1;
            if self.dropped == 1 {
                Admit::DropFirst
            } else {
                Admit::Drop
            }
        }
    }
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
    use std::time::Duration;

    #[test]
    fn the_bucket_admits_the_rate_in_bursts_and_counts_what_it_drops() {
        let start = Instant::now();
        let mut bucket = Bucket::new(10, start);
        // A burst of 25 at one instant: the first 10 pass, the rest are dropped.
        let burst: Vec<Admit> = (0..25).map(|_| bucket.admit(start)).collect();
        assert!(
            burst[..10]
                .iter()
                .all(|a| *a == Admit::Write { dropped_before: 0 })
        );
        assert_eq!(burst[10], Admit::DropFirst);
        assert!(burst[11..].iter().all(|a| *a == Admit::Drop));
        // A tenth of a second later one token is back, and the drops are reported once.
        let later = start + Duration::from_millis(100);
        assert_eq!(bucket.admit(later), Admit::Write { dropped_before: 15 });
        assert_eq!(bucket.admit(later), Admit::DropFirst);
        // A long pause refills no more than one second's worth.
        let much_later = later + Duration::from_secs(3600);
        let admitted = (0..30)
            .filter(|_| matches!(bucket.admit(much_later), Admit::Write { .. }))
            .count();
        assert_eq!(admitted, 10);
        // A clock that goes backwards (it cannot with Instant, but a caller's might) adds none.
        assert_eq!(bucket.admit(start), Admit::Drop);
    }

    #[test]
    fn a_rate_limited_sink_passes_the_first_records_of_a_flood_only() {
        let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&written);
        let inner: AuditSink = Arc::new(move |_: &AuditRecord| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let limited = rate_limited(inner, 5);
        let record = AuditRecord::new(
            crate::audit::Subject {
                uid: "u",
                operation: "CREATE",
                object: "Pod shop/p",
                user: "alice",
                dry_run: false,
            },
            crate::decide::Outcome::Denied,
        );
        for _ in 0..1000 {
            limited(&record);
        }
        // 5 at once, plus at most what the loop's own duration refilled.
        let n = written.load(std::sync::atomic::Ordering::Relaxed);
        assert!((5..100).contains(&n), "{n} written");
        // 0: no limit.
        let all = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&all);
        let unlimited = rate_limited(
            Arc::new(move |_: &AuditRecord| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }),
            0,
        );
        for _ in 0..1000 {
            unlimited(&record);
        }
        assert_eq!(all.load(std::sync::atomic::Ordering::Relaxed), 1000);
    }

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
