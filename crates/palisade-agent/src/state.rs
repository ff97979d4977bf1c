//! The agent's state directory: baselines and the findings summary (written atomically so a
//! crash never leaves a torn file), an exclusive lock held while an agent runs, and control
//! requests that `palisade agent baseline lock|reset` leaves for a running agent.
//!
//! ```text
//! STATE_DIR/
//!   agent.lock        flock()ed by the running agent
//!   baselines.json    BaselineStore
//!   findings.json     FindingsSummary
//!   stats.json        counters at the last save
//!   requests/*.json   pending ControlRequests (deleted once applied)
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use palisade_runtime::baseline::BaselineStore;
use palisade_runtime::policy::FindingsSummary;
use serde::{Deserialize, Serialize};

/// Largest state file read (against a corrupted or hostile file).
const MAX_STATE_FILE: u64 = 256 << 20;

/// A state-directory problem, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The content is not what the agent writes.
    #[error("{path}: not a valid state file: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error.
        message: String,
    },
}

/// A change to baselines requested from outside the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ControlRequest {
    /// Lock one baseline (`key`) or all (`None`).
    Lock {
        /// Baseline key.
        key: Option<String>,
    },
    /// Reset one baseline or all.
    Reset {
        /// Baseline key.
        key: Option<String>,
    },
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

/// Held while an agent runs; dropping it releases the lock.
#[derive(Debug)]
pub struct AgentLock {
    _file: File,
}

impl StateDir {
    /// Opens (creating if needed, mode 0700) a state directory.
    pub fn open(root: &Path) -> Result<StateDir, StateError> {
        let io_err = |source| StateError::Io {
            path: root.to_path_buf(),
            source,
        };
        fs::create_dir_all(root.join("requests")).map_err(io_err)?;
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(root, fs::Permissions::from_mode(0o700));
        Ok(StateDir {
            root: root.to_path_buf(),
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `baselines.json`.
    pub fn baselines_path(&self) -> PathBuf {
        self.root.join("baselines.json")
    }

    /// `findings.json`.
    pub fn findings_path(&self) -> PathBuf {
        self.root.join("findings.json")
    }

    /// `stats.json`.
    pub fn stats_path(&self) -> PathBuf {
        self.root.join("stats.json")
    }

    fn requests_dir(&self) -> PathBuf {
        self.root.join("requests")
    }

    /// Takes the agent lock without waiting; `Ok(None)` when another agent holds it.
    pub fn try_lock(&self) -> Result<Option<AgentLock>, StateError> {
        let path = self.root.join("agent.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StateError::Io {
                path: path.clone(),
                source,
            })?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(AgentLock { _file: file })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(StateError::Io {
                path,
                source: e.into(),
            }),
        }
    }

    /// Loads the baselines (empty when the file does not exist yet).
    pub fn load_baselines(&self) -> Result<BaselineStore, StateError> {
        load_json(&self.baselines_path()).map(Option::unwrap_or_default)
    }

    /// Saves the baselines atomically.
    pub fn save_baselines(&self, store: &BaselineStore) -> Result<(), StateError> {
        save_json(&self.baselines_path(), store)
    }

    /// Loads the findings summary (empty when missing).
    pub fn load_findings(&self) -> Result<FindingsSummary, StateError> {
        load_json(&self.findings_path()).map(Option::unwrap_or_default)
    }

    /// Saves the findings summary atomically.
    pub fn save_findings(&self, f: &FindingsSummary) -> Result<(), StateError> {
        save_json(&self.findings_path(), f)
    }

    /// Saves any serializable value as `stats.json`.
    pub fn save_stats<T: Serialize>(&self, stats: &T) -> Result<(), StateError> {
        save_json(&self.stats_path(), stats)
    }

    /// Leaves a request for the running agent; returns its file.
    pub fn submit_request(&self, req: &ControlRequest) -> Result<PathBuf, StateError> {
        let name = format!(
            "{}-{}-{}.json",
            crate::clock::now_ms(),
            std::process::id(),
            fastrand_suffix()
        );
        let path = self.requests_dir().join(name);
        save_json(&path, req)?;
        Ok(path)
    }

    /// Pending requests, oldest first. Unreadable request files are returned as errors so
    /// the caller can report and delete them.
    pub fn pending_requests(&self) -> Vec<(PathBuf, Result<ControlRequest, StateError>)> {
        let Ok(entries) = fs::read_dir(self.requests_dir()) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let r = load_json::<ControlRequest>(&p).and_then(|o| {
                    o.ok_or_else(|| StateError::Corrupt {
                        path: p.clone(),
                        message: "vanished".into(),
                    })
                });
                (p, r)
            })
            .collect()
    }
}

fn fastrand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::clock::monotonic_ns());
    h.finish() & 0xffff_ffff
}

fn load_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, StateError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut buf = Vec::new();
    file.take(MAX_STATE_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|source| StateError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > MAX_STATE_FILE {
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            message: format!("larger than {MAX_STATE_FILE} bytes"),
        });
    }
    serde_json::from_slice(&buf)
        .map(Some)
        .map_err(|e| StateError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

fn save_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), StateError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| StateError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes).map_err(|source| StateError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a file so that readers see either the old or the new content: write a temporary
/// file in the same directory, fsync it, rename it over the target, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.json")]);
    }

    #[test]
    fn missing_files_load_empty_and_corrupt_ones_name_the_file() {
        let d = tempfile::tempdir().unwrap();
        let s = StateDir::open(d.path()).unwrap();
        assert!(s.load_baselines().unwrap().baselines.is_empty());
        fs::write(s.baselines_path(), "{not json").unwrap();
        let e = s.load_baselines().unwrap_err().to_string();
        assert!(
            e.contains("baselines.json") && e.contains("not a valid state file"),
            "{e}"
        );
    }

    #[test]
    fn lock_is_exclusive_until_dropped() {
        let d = tempfile::tempdir().unwrap();
        let s = StateDir::open(d.path()).unwrap();
        let held = s.try_lock().unwrap();
        assert!(held.is_some());
        // flock locks belong to the open file description: a second open conflicts.
        assert!(s.try_lock().unwrap().is_none());
        drop(held);
        assert!(s.try_lock().unwrap().is_some());
    }

    #[test]
    fn requests_round_trip_in_order() {
        let d = tempfile::tempdir().unwrap();
        let s = StateDir::open(d.path()).unwrap();
        s.submit_request(&ControlRequest::Lock { key: None })
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        s.submit_request(&ControlRequest::Reset {
            key: Some("container/web".into()),
        })
        .unwrap();
        let reqs = s.pending_requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            reqs[0].1.as_ref().unwrap(),
            &ControlRequest::Lock { key: None }
        );
        assert!(matches!(reqs[1].1, Ok(ControlRequest::Reset { .. })));
    }
}
