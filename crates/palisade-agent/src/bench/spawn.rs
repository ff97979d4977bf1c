//! The fastest process spawner we can write without `unsafe`: several threads, each reusing
//! one `std::process::Command` (which uses `posix_spawn`, a `vfork`-style clone, when no
//! pre-exec hook is set), executing a tiny static program that exits at once, and a reaper
//! thread that waits for children by PID.
//!
//! The tiny program is a 129-byte static ELF executable written by [`write_exit_program`]:
//! one program header and three instructions (`exit_group(0)`). No dynamic loader, no libc
//! start-up: its exec is as cheap as an exec can be, so the spawn rate it reaches is the
//! machine's limit for creating processes.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

/// Machine code of `exit_group(0)` and the ELF machine number, for this architecture.
fn exit_code_for_arch() -> Option<(u16, &'static [u8])> {
    if cfg!(target_arch = "x86_64") {
        // xor edi, edi; mov eax, 231 (exit_group); syscall
        Some((
            0x3e,
            &[0x31, 0xff, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05],
        ))
    } else if cfg!(target_arch = "aarch64") {
        // mov x0, #0; mov x8, #94 (exit_group); svc #0
        Some((
            0xb7,
            &[
                0x00, 0x00, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
            ],
        ))
    } else {
        None
    }
}

/// The bytes of a minimal static little-endian ELF64 executable that calls `exit_group(0)`:
/// the ELF header (64 bytes), one `PT_LOAD` program header (56 bytes) mapping the whole file
/// read+execute at 0x400000, then the code. `None` on architectures other than x86-64 and
/// AArch64.
pub fn exit_program_bytes() -> Option<Vec<u8>> {
    const BASE: u64 = 0x40_0000;
    const EHDR: u64 = 64;
    const PHDR: u64 = 56;
    let (machine, code) = exit_code_for_arch()?;
    let size = EHDR + PHDR + code.len() as u64;
    let mut b = Vec::with_capacity(size as usize);
    // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, System V ABI, padding.
    b.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    b.extend_from_slice(&machine.to_le_bytes()); // e_machine
    b.extend_from_slice(&1u32.to_le_bytes()); // e_version
    b.extend_from_slice(&(BASE + EHDR + PHDR).to_le_bytes()); // e_entry
    b.extend_from_slice(&EHDR.to_le_bytes()); // e_phoff
    b.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    b.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    b.extend_from_slice(&(EHDR as u16).to_le_bytes()); // e_ehsize
    b.extend_from_slice(&(PHDR as u16).to_le_bytes()); // e_phentsize
    b.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    b.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    b.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    b.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    // Program header: PT_LOAD, PF_R | PF_X, the whole file at BASE.
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&5u32.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    b.extend_from_slice(&BASE.to_le_bytes()); // p_vaddr
    b.extend_from_slice(&BASE.to_le_bytes()); // p_paddr
    b.extend_from_slice(&size.to_le_bytes()); // p_filesz
    b.extend_from_slice(&size.to_le_bytes()); // p_memsz
    b.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
    b.extend_from_slice(code);
    Some(b)
}

/// Writes the exit program to `path` (mode 0755). Returns false when this architecture has
/// none (callers then use another short program).
pub fn write_exit_program(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let Some(bytes) = exit_program_bytes() else {
        return Ok(false);
    };
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(true)
}

/// Creates the benchmark's marker program at `path`: the exit program when this
/// architecture has one, otherwise a symbolic link to `fallback` (busybox, which exits at
/// once with "applet not found"). Returns whether the marker writes to standard error (only
/// the fallback does).
pub fn make_marker(path: &Path, fallback: &Path) -> std::io::Result<bool> {
    if write_exit_program(path)? {
        return Ok(false);
    }
    let _ = std::fs::remove_file(path);
    std::os::unix::fs::symlink(fallback, path)?;
    Ok(true)
}

/// What a spawn run did.
#[derive(Debug, Clone, Copy)]
pub struct SpawnOutcome {
    /// Processes created.
    pub spawned: u64,
    /// Spawn attempts that failed.
    pub failed: u64,
    /// Seconds from the first spawn to the last.
    pub seconds: f64,
}

/// Spawner settings.
#[derive(Debug, Clone)]
pub struct SpawnPlan {
    /// The program to run (no arguments).
    pub program: PathBuf,
    /// Processes to create in all.
    pub count: u64,
    /// Spawning threads.
    pub threads: usize,
    /// Exited children left unreaped (0: each is reaped as soon as it exits).
    pub zombie_backlog: usize,
    /// Silence the children's standard streams (costs three opens of `/dev/null` per spawn).
    pub null_stdio: bool,
}

/// Runs the plan; `on_spawn` sees every child's PID (from the spawning thread).
pub fn spawn_many(plan: &SpawnPlan, on_spawn: &(dyn Fn(u32) + Sync)) -> SpawnOutcome {
    let threads = plan.threads.max(1);
    let (pid_tx, pid_rx) = sync_channel::<u32>(8192);
    let backlog = plan.zombie_backlog;
    let reaper = std::thread::Builder::new()
        .name("bench-reaper".into())
        .spawn(move || reap(pid_rx, backlog));
    let failed = Arc::new(AtomicU64::new(0));
    let spawned = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let tx = pid_tx.clone();
            let share =
                plan.count / threads as u64 + u64::from((t as u64) < plan.count % threads as u64);
            let failed = failed.clone();
            let spawned = &spawned;
            s.spawn(move || {
                let mut cmd = Command::new(&plan.program);
                if plan.null_stdio {
                    cmd.stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null());
                }
                for _ in 0..share {
                    match cmd.spawn() {
                        Ok(child) => {
                            let pid = child.id();
                            spawned.fetch_add(1, Ordering::Relaxed);
                            on_spawn(pid);
                            // The Child handle is dropped (which does not wait): the reaper
                            // waits by PID.
                            if tx.send(pid).is_err() {
                                return;
                            }
                        }
                        Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    drop(pid_tx);
    if let Ok(r) = reaper {
        let _ = r.join();
    }
    SpawnOutcome {
        spawned: spawned.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        seconds,
    }
}

/// Waits for children by PID, oldest first, keeping up to `backlog` of them unreaped.
fn reap(rx: std::sync::mpsc::Receiver<u32>, backlog: usize) {
    let mut held: VecDeque<u32> = VecDeque::with_capacity(backlog + 1);
    let wait = |pid: u32| {
        if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::waitpid(Some(p), rustix::process::WaitOptions::empty());
        }
    };
    for pid in rx {
        held.push_back(pid);
        while held.len() > backlog {
            if let Some(p) = held.pop_front() {
                wait(p);
            }
        }
    }
    for p in held {
        wait(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_program_runs_and_exits_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pal-exit");
        if !write_exit_program(&path).unwrap() {
            // No machine code for this architecture: nothing to run.
            assert!(exit_program_bytes().is_none());
            return;
        }
        let code_len = exit_code_for_arch().map_or(0, |(_, c)| c.len() as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 + 56 + code_len);
        // Another test's child, forked while the program was open for writing, holds that
        // descriptor until it execs: exec fails with ETXTBSY meanwhile (retry, bounded).
        let mut attempts = 0;
        let status = loop {
            match Command::new(&path).status() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 200 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => break other.unwrap(),
            }
        };
        assert_eq!(status.code(), Some(0));
    }

    #[test]
    fn spawn_many_creates_and_reaps_every_child() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pal-exit");
        let noisy = make_marker(&path, Path::new("/bin/busybox")).unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let out = spawn_many(
            &SpawnPlan {
                program: path,
                count: 50,
                threads: 3,
                zombie_backlog: 5,
                null_stdio: noisy,
            },
            &|pid| seen.lock().unwrap().push(pid),
        );
        assert_eq!(out.spawned, 50);
        assert_eq!(out.failed, 0);
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 50);
        // Every child was reaped: none of them is our child any more.
        for pid in seen {
            let p = rustix::process::Pid::from_raw(pid as i32).unwrap();
            assert!(
                rustix::process::waitpid(Some(p), rustix::process::WaitOptions::NOHANG).is_err(),
                "child {pid} was not reaped"
            );
        }
    }
}
