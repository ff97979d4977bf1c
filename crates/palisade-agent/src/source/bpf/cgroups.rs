//! Cgroup v2 IDs to cgroup paths. `bpf_get_current_cgroup_id()` gives the ID of the process's
//! cgroup in the v2 hierarchy, which is the inode number of its directory: the map is built
//! by walking the v2 mount once and walked again on a miss (a cgroup made since). The path
//! then names the container exactly as `/proc/PID/cgroup`'s `0::` line would.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use palisade_runtime::attribution::{CgroupAttribution, attribute_cgroup_path};

/// Deepest cgroup directory walked.
const MAX_DEPTH: usize = 32;
/// Most cgroups remembered (beyond this, walks still answer but only the first are kept).
const MAX_CGROUPS: usize = 262_144;

/// Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup` on a pure v2 system,
/// `/sys/fs/cgroup/unified` on a hybrid one), from `/proc/self/mountinfo`.
pub fn v2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    v2_mount_in(&text)
}

/// The first `cgroup2` mount point in a mountinfo text.
pub fn v2_mount_in(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        (fstype == "cgroup2").then(|| left.split_whitespace().nth(4).map(PathBuf::from))?
    })
}

/// The v2 hierarchy under a configured cgroup root: the root itself, or its `unified`
/// directory when the root is a hybrid system's `/sys/fs/cgroup` (v1 controllers, with v2
/// mounted at `unified`).
pub fn v2_root_in(root: &Path) -> PathBuf {
    let unified = root.join("unified");
    if !root.join("cgroup.controllers").exists() && unified.join("cgroup.controllers").exists() {
        unified
    } else {
        root.to_path_buf()
    }
}

/// Cgroup IDs to container attributions, learnt from the v2 hierarchy.
#[derive(Debug)]
pub struct CgroupMap {
    root: PathBuf,
    paths: HashMap<u64, String>,
    /// IDs still unknown after a walk (a cgroup removed before it was seen): not walked for
    /// again.
    unknown: HashSet<u64>,
    walks: u64,
}

impl CgroupMap {
    /// A map of the v2 hierarchy mounted at `root`, walked once now.
    pub fn new(root: PathBuf) -> CgroupMap {
        let mut m = CgroupMap {
            root,
            paths: HashMap::new(),
            unknown: HashSet::new(),
            walks: 0,
        };
        m.walk();
        m
    }

    /// How many times the hierarchy was walked.
    pub fn walks(&self) -> u64 {
        self.walks
    }

    /// The cgroup path (`/libpod_parent/libpod-…`) of an ID; walks again on a miss.
    pub fn path(&mut self, id: u64) -> Option<&str> {
        if !self.paths.contains_key(&id) && !self.unknown.contains(&id) {
            self.walk();
            if !self.paths.contains_key(&id) {
                self.unknown.insert(id);
            }
        }
        self.paths.get(&id).map(String::as_str)
    }

    /// The container a cgroup ID names (`None`: a host cgroup, or unknown).
    pub fn attribution(&mut self, id: u64) -> Option<CgroupAttribution> {
        self.path(id).and_then(attribute_cgroup_path)
    }

    fn walk(&mut self) {
        self.walks += 1;
        let root = self.root.clone();
        let mut stack = vec![(root.clone(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&dir) else {
                continue;
            };
            if self.paths.len() < MAX_CGROUPS {
                self.paths
                    .entry(meta.ino())
                    .or_insert_with(|| relative(&root, &dir));
                self.unknown.remove(&meta.ino());
            }
            if depth >= MAX_DEPTH {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push((e.path(), depth + 1));
                }
            }
        }
    }
}

/// `dir` below `root` as a cgroup path (`/` for the root itself).
fn relative(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    format!("/{}", rel.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_of_a_hybrid_system() {
        let text = "29 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                    30 29 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n\
                    31 29 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        assert_eq!(
            v2_mount_in(text),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(v2_mount_in("1 0 0:1 / / rw - ext4 /dev/vda rw\n"), None);
    }

    #[test]
    fn a_configured_root_of_a_hybrid_system_means_its_unified_hierarchy() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(v2_root_in(dir.path()), dir.path());
        std::fs::create_dir(dir.path().join("unified")).unwrap();
        std::fs::write(dir.path().join("unified/cgroup.controllers"), "").unwrap();
        assert_eq!(v2_root_in(dir.path()), dir.path().join("unified"));
        std::fs::write(dir.path().join("cgroup.controllers"), "cpu").unwrap();
        assert_eq!(v2_root_in(dir.path()), dir.path());
    }

    #[test]
    fn maps_directory_inodes_to_cgroup_paths_and_walks_again_on_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let id = "a".repeat(64);
        let leaf = dir
            .path()
            .join("libpod_parent")
            .join(format!("libpod-{id}"));
        std::fs::create_dir_all(&leaf).unwrap();
        let mut m = CgroupMap::new(dir.path().to_path_buf());
        let ino = std::fs::metadata(&leaf).unwrap().ino();
        assert_eq!(
            m.path(ino),
            Some(format!("/libpod_parent/libpod-{id}").as_str())
        );
        assert_eq!(m.attribution(ino).unwrap().container_id, id);
        assert_eq!(m.walks(), 1);
        let late = dir.path().join("late");
        std::fs::create_dir(&late).unwrap();
        let late_ino = std::fs::metadata(&late).unwrap().ino();
        assert_eq!(m.path(late_ino), Some("/late"));
        assert_eq!(m.walks(), 2);
        assert!(m.attribution(late_ino).is_none(), "not a container");
        // An ID no walk finds is not walked for twice.
        assert_eq!(m.path(u64::MAX), None);
        assert_eq!(m.path(u64::MAX), None);
        assert_eq!(m.walks(), 3);
    }
}
