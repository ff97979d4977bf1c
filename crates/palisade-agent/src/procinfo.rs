//! Enrichment from `/proc/PID`: identity, credentials, command line, executable, working
//! directory, start time and what the standard streams point at.

use palisade_runtime::event::{ProcessInfo, ProcessSummary, StdioKind};
use procfs::process::Process;

use crate::clock::BootClock;

/// Most bytes of command line kept per process (longer ones are cut, against memory abuse).
pub const MAX_CMDLINE_BYTES: usize = 16 * 1024;
/// Most arguments kept per process.
pub const MAX_ARGS: usize = 256;

/// Reads a process. Returns `None` when it is gone (or became a zombie before its status
/// could be read); fields that cannot be read individually are left empty.
pub fn read_process(pid: u32, boot: &BootClock) -> Option<ProcessInfo> {
    ProcReader::default().read(pid, boot).map(|(p, _)| p)
}

/// Reads processes from `/proc`, reusing its buffers from one process to the next.
///
/// This is the hot path of the agent (once per exec): it opens `/proc/PID` once and reads
/// everything relative to that directory descriptor (`stat`, `status`, `cmdline`, `exe`,
/// `cwd`, `fd/0..2`, `cgroup`), parsing only the fields it needs, without allocating for
/// what it does not keep.
#[derive(Default)]
pub struct ProcReader {
    path: String,
    buf: Vec<u8>,
    cgroup: String,
    link: Vec<u8>,
}

impl ProcReader {
    /// Reads a process and the content of its `/proc/PID/cgroup` (empty when unreadable).
    /// `None` when the process is gone.
    pub fn read(&mut self, pid: u32, boot: &BootClock) -> Option<(ProcessInfo, &str)> {
        use rustix::fs::{Mode, OFlags};
        use std::fmt::Write;
        self.path.clear();
        let _ = write!(self.path, "/proc/{pid}");
        let dir = rustix::fs::open(
            self.path.as_str(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        read_at_into(&dir, "stat", 4096, &mut self.buf)?;
        let fields = parse_stat(&self.buf)?;
        read_at_into(&dir, "status", 8192, &mut self.buf)?;
        let ids = parse_status(&self.buf);
        // A zombie (exited, not yet reaped) or dead process has no memory, executable,
        // working directory or open files any more: skip the reads that would fail.
        let alive = !matches!(fields.state, b'Z' | b'X' | b'x');
        let live = if alive {
            self.read_live(&dir)
        } else {
            LiveFields::default()
        };
        let LiveFields {
            args,
            exe,
            mode,
            cwd,
            stdio: [stdin, stdout, stderr],
        } = live;
        self.cgroup.clear();
        if read_at_into(&dir, "cgroup", 64 * 1024, &mut self.buf).is_some() {
            self.cgroup.push_str(&String::from_utf8_lossy(&self.buf));
        }
        let (info_exe_empty, info_args_empty) = (exe.is_empty(), args.is_empty());
        let info = ProcessInfo {
            pid,
            vpid: ids.nspid_last,
            ppid: fields.ppid,
            uid: ids.ruid,
            euid: ids.euid,
            gid: ids.rgid,
            name: program_name(fields.comm, &exe, &args),
            exe,
            args,
            cwd,
            start_time_ms: boot.ticks_to_ms(fields.start_ticks),
            start_ticks: fields.start_ticks,
            exe_setuid: mode & 0o4000 != 0,
            exe_setgid: mode & 0o2000 != 0,
            stdin,
            stdout,
            stderr,
            missing: if alive {
                // It exited during the read: what failed is unknown.
                [("exe", info_exe_empty), ("args", info_args_empty)]
                    .into_iter()
                    .filter(|(_, m)| *m)
                    .map(|(f, _)| f.to_string())
                    .collect()
            } else {
                ["exe", "args", "cwd", "stdio"].map(String::from).to_vec()
            },
        };
        Some((info, self.cgroup.as_str()))
    }
}

/// What only a live process has (empty for a zombie).
#[derive(Default)]
struct LiveFields {
    args: Vec<String>,
    exe: String,
    mode: u32,
    cwd: String,
    stdio: [StdioKind; 3],
}

impl ProcReader {
    /// What only a live process has: arguments, executable (path and mode), working
    /// directory and the targets of its standard streams.
    fn read_live(&mut self, dir: &rustix::fd::OwnedFd) -> LiveFields {
        use rustix::fs::AtFlags;
        let args = read_at_into(dir, "cmdline", MAX_CMDLINE_BYTES, &mut self.buf)
            .map(|()| bound_args(split_cmdline(&self.buf)))
            .unwrap_or_default();
        let link = |name: &str| {
            rustix::fs::readlinkat(dir, name, Vec::new())
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        };
        let exe = link("exe").unwrap_or_default();
        // statat follows the magic link to the executable itself, in whatever mount
        // namespace it lives.
        let mode = if exe.is_empty() {
            0
        } else {
            rustix::fs::statat(dir, "exe", AtFlags::empty()).map_or(0, |st| st.st_mode)
        };
        let cwd = link("cwd").unwrap_or_default();
        let mut stdio =
            |fd: &str| match rustix::fs::readlinkat(dir, fd, std::mem::take(&mut self.link)) {
                Ok(target) => {
                    let kind = StdioKind::from_link_target(&target.to_string_lossy());
                    self.link = target.into_bytes();
                    kind
                }
                Err(rustix::io::Errno::NOENT) => StdioKind::Closed,
                Err(_) => StdioKind::Unknown,
            };
        let stdio = [stdio("fd/0"), stdio("fd/1"), stdio("fd/2")];
        LiveFields {
            args,
            exe,
            mode,
            cwd,
            stdio,
        }
    }
}

/// Reads a whole `/proc` file below `dir` into `buf` (replacing its content), at most `max`
/// bytes. `None` when it cannot be opened or read.
fn read_at_into(
    dir: &impl rustix::fd::AsFd,
    name: &str,
    max: usize,
    buf: &mut Vec<u8>,
) -> Option<()> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    buf.clear();
    while buf.len() < max {
        if buf.capacity() == buf.len() {
            buf.reserve(buf.len().max(4096).min(max - buf.len()));
        }
        let room = buf.capacity() - buf.len();
        match rustix::io::read(&fd, rustix::buffer::spare_capacity(buf)) {
            Ok(0) => break,
            // /proc files hand over their whole content in one read when it fits: a short
            // read is the end (saves the extra read that would return 0).
            Ok(n) if n < room => break,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
    buf.truncate(max);
    Some(())
}

/// The fields of `/proc/PID/stat` the agent uses.
#[derive(Debug, PartialEq, Eq)]
pub struct StatFields {
    /// Command name (field 2, without parentheses).
    pub comm: String,
    /// State (field 3): `R`, `S`, `D`, `Z` (zombie: exited, not yet reaped), …
    pub state: u8,
    /// Parent PID (field 4).
    pub ppid: u32,
    /// Start time in clock ticks since boot (field 22).
    pub start_ticks: u64,
}

/// Parses `/proc/PID/stat`. The command name may contain spaces and parentheses, so it runs
/// from the first `(` to the last `)`.
pub fn parse_stat(raw: &[u8]) -> Option<StatFields> {
    let open = raw.iter().position(|b| *b == b'(')?;
    let close = raw.iter().rposition(|b| *b == b')')?;
    let comm = String::from_utf8_lossy(raw.get(open + 1..close)?).into_owned();
    // Field 3 (state) is the first after the name.
    let mut rest = raw
        .get(close + 1..)?
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty());
    let state = *rest.next()?.first()?;
    let ppid = parse_num(rest.next()?)?;
    let start_ticks = parse_num(rest.nth(17)?)?;
    Some(StatFields {
        comm,
        state,
        ppid: u32::try_from(ppid).ok()?,
        start_ticks,
    })
}

/// A decimal number made only of ASCII digits.
fn parse_num(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            .flatten()
    })
}

/// User, group and namespace PIDs from `/proc/PID/status`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StatusIds {
    /// Real UID.
    pub ruid: u32,
    /// Effective UID.
    pub euid: u32,
    /// Real GID.
    pub rgid: u32,
    /// Last `NSpid` entry (PID in the innermost namespace).
    pub nspid_last: Option<u32>,
}

/// Parses the `Uid:`, `Gid:` and `NSpid:` lines of `/proc/PID/status`.
pub fn parse_status(raw: &[u8]) -> StatusIds {
    let mut ids = StatusIds::default();
    // The numbers after a `Key:` label, as u32 (unparsable ones skipped).
    fn nums(line: &[u8], label: usize) -> impl Iterator<Item = u32> + '_ {
        line[label..]
            .split(u8::is_ascii_whitespace)
            .filter_map(|v| parse_num(v).and_then(|n| u32::try_from(n).ok()))
    }
    for line in raw.split(|b| *b == b'\n') {
        if line.starts_with(b"Uid:") {
            let mut v = nums(line, 4);
            ids.ruid = v.next().unwrap_or(0);
            ids.euid = v.next().unwrap_or(0);
        } else if line.starts_with(b"Gid:") {
            ids.rgid = nums(line, 4).next().unwrap_or(0);
        } else if line.starts_with(b"NSpid:") {
            ids.nspid_last = nums(line, 6).last();
        }
    }
    ids
}

pub(crate) fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// Reads the identifying fields only (for parents).
pub fn read_summary(pid: u32) -> Option<ProcessSummary> {
    let proc_ = Process::new(pid as i32).ok()?;
    let stat = proc_.stat().ok()?;
    let uid = proc_.uid().unwrap_or(0);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args = proc_.cmdline().map(bound_args).unwrap_or_default();
    Some(ProcessSummary {
        pid,
        name: program_name(stat.comm, &exe, &args),
        exe,
        args,
        uid,
    })
}

/// The kernel names a process after the file it executed. A program executed through
/// `/proc/self/exe` (as busybox runs its applets) is named `exe` for all of them; then the
/// base name of `argv[0]` (at most 15 bytes, like the kernel's name) says which program it is.
pub fn program_name(comm: String, exe: &str, args: &[String]) -> String {
    if comm != "exe" || exe.rsplit('/').next() == Some("exe") {
        return comm;
    }
    let Some(base) = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .filter(|b| !b.is_empty())
    else {
        return comm;
    };
    let mut end = base.len().min(15);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    base[..end].to_string()
}

/// The start time (ticks since boot) of a PID now, to detect PID reuse.
pub fn start_ticks(pid: u32) -> Option<u64> {
    Process::new(pid as i32)
        .ok()?
        .stat()
        .ok()
        .map(|s| s.starttime)
}

pub(crate) fn bound_args(mut args: Vec<String>) -> Vec<String> {
    args.truncate(MAX_ARGS);
    let mut total = 0;
    for (i, a) in args.iter_mut().enumerate() {
        if total + a.len() > MAX_CMDLINE_BYTES {
            let keep = MAX_CMDLINE_BYTES.saturating_sub(total);
            let mut cut = keep.min(a.len());
            while !a.is_char_boundary(cut) {
                cut -= 1;
            }
            a.truncate(cut);
            return args.into_iter().take(i + 1).collect();
        }
        total += a.len();
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    #[test]
    fn reads_a_real_child_process() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("sleep")
            .arg("30")
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let boot = BootClock::read();
        // spawn() returns once the child's descriptors are closed on exec, which the kernel
        // does before it sets up the new program's argument area: until then cmdline reads
        // empty (and the name may still be the parent's). Wait for both to appear.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let p = loop {
            let p = read_process(child.id(), &boot).expect("child is alive");
            if (!p.args.is_empty() && p.name == "sleep") || std::time::Instant::now() > deadline {
                break p;
            }
            std::thread::yield_now();
        };
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(p.pid, child.id());
        assert_eq!(p.ppid, std::process::id());
        assert_eq!(p.name, "sleep");
        assert_eq!(p.args, vec!["sleep".to_string(), "30".to_string()]);
        assert!(p.exe.ends_with("sleep"), "{}", p.exe);
        assert_eq!(p.cwd, dir.path().canonicalize().unwrap().to_string_lossy());
        assert_eq!(p.uid, rustix::process::getuid().as_raw());
        assert_eq!(p.stdin, StdioKind::Pipe);
        assert_eq!(p.stdout, StdioKind::Null);
        assert!(!p.exe_setuid);
        assert!(p.start_ticks > 0);
        let now = crate::clock::now_ms();
        assert!(p.start_time_ms <= now + 1000 && p.start_time_ms + 60_000 > now);
        assert_eq!(p.vpid, Some(p.pid), "same PID namespace as the test");
        let _ = std::io::stdout().flush();
    }

    #[test]
    fn a_gone_process_reads_as_none() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(read_process(pid, &BootClock::read()).is_none());
    }

    #[test]
    fn programs_run_through_proc_self_exe_are_named_by_argv0() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            program_name("exe".into(), "/bin/busybox", &args(&["sleep", "1"])),
            "sleep"
        );
        assert_eq!(
            program_name(
                "exe".into(),
                "/bin/busybox",
                &args(&["/usr/bin/a-very-long-program-name"])
            ),
            "a-very-long-pro"
        );
        // A program really called `exe` keeps its name; other names are the kernel's.
        assert_eq!(program_name("exe".into(), "/opt/exe", &args(&["x"])), "exe");
        assert_eq!(
            program_name("sh".into(), "/bin/busybox", &args(&["spoofed"])),
            "sh"
        );
        assert_eq!(program_name("exe".into(), "/bin/busybox", &[]), "exe");
    }

    #[test]
    fn stat_and_status_parsing() {
        let stat = b"4711 (we(ird) name) S 4700 4711 4700 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 200 18446744073709551615";
        assert_eq!(
            parse_stat(stat),
            Some(StatFields {
                comm: "we(ird) name".into(),
                state: b'S',
                ppid: 4700,
                start_ticks: 123456
            })
        );
        assert_eq!(parse_stat(b"garbage"), None);
        let status = b"Name:\tsh\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\nNSpid:\t4711\t7\n";
        assert_eq!(
            parse_status(status),
            StatusIds {
                ruid: 1000,
                euid: 0,
                rgid: 100,
                nspid_last: Some(7)
            }
        );
        assert_eq!(
            split_cmdline(b"sh\0-c\0echo hi\0"),
            vec!["sh", "-c", "echo hi"]
        );
        assert!(split_cmdline(b"").is_empty());
    }

    #[test]
    fn long_command_lines_are_bounded() {
        let args: Vec<String> = (0..1000).map(|i| format!("{i:0100}")).collect();
        let b = bound_args(args);
        assert!(b.len() <= MAX_ARGS);
        assert!(b.iter().map(String::len).sum::<usize>() <= MAX_CMDLINE_BYTES);
    }
}
