//! The records `bpf/exec.bpf.c` writes into its ring buffer, decoded. The layout is the C
//! structs' (`struct exec_record`, `struct task_record`), little-endian on the machines the
//! agent supports; the C file asserts the same sizes and offsets. An exec record is packed:
//! the header of `struct exec_record` (up to its `filename` field), then the file name, the
//! executable, the working directory and argv, each as long as the header says.

use palisade_runtime::event::StdioKind;

/// The header of a packed exec record (`struct exec_record` up to `filename`).
pub const EXEC_HEADER_BYTES: usize = 120;
/// `struct task_record`'s size.
pub const TASK_RECORD_BYTES: usize = 32;
/// Most bytes of argv the kernel side copies (`ARGS_MAX_BYTES - 1`).
pub const ARGS_MAX_BYTES: usize = 4095;

const KIND_EXEC: u32 = 1;
const KIND_FORK: u32 = 2;
const KIND_EXIT: u32 = 3;

/// `flags` bits.
const FLAG_ARGS_TRUNCATED: u32 = 1;
const FLAG_EXE_TRUNCATED: u32 = 2;
const FLAG_CWD_TRUNCATED: u32 = 4;

/// Field offsets in the header of `struct exec_record`.
mod at {
    pub const FILENAME_LEN: usize = 60;
    pub const ARGS_LEN: usize = 64;
    pub const EXE_LEN: usize = 68;
    pub const CWD_LEN: usize = 72;
    pub const STDIO: usize = 80;
    pub const COMM: usize = 104;
}
const FILENAME_BYTES: usize = 256;
const PATH_BYTES: usize = 1024;

/// An exec as the kernel saw it, at the moment it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRecord {
    /// Process (thread group) ID.
    pub pid: u32,
    /// Parent's process ID.
    pub ppid: u32,
    /// PID in the process's own (innermost) PID namespace.
    pub vpid: u32,
    /// Real user ID.
    pub uid: u32,
    /// Effective user ID.
    pub euid: u32,
    /// Real group ID.
    pub gid: u32,
    /// `CLOCK_MONOTONIC` ns of the exec.
    pub ts_ns: u64,
    /// The cgroup v2 ID (the inode number of its directory).
    pub cgroup_id: u64,
    /// Start time, ns since boot (`task->start_boottime`).
    pub start_boottime_ns: u64,
    /// Mode bits of the executable file.
    pub exe_mode: u32,
    /// The command name (`comm`).
    pub comm: String,
    /// The file name given to execve.
    pub filename: String,
    /// The executable's path as `/proc/PID/exe` shows it (empty: not known).
    pub exe: String,
    /// The working directory.
    pub cwd: String,
    /// The argument vector (bounded to [`ARGS_MAX_BYTES`]).
    pub args: Vec<String>,
    /// What standard input, output and error are.
    pub stdio: [StdioKind; 3],
    /// Fields the kernel side had to cut: `args`, `exe`, `cwd`.
    pub truncated: Vec<&'static str>,
}

/// One ring buffer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A process executed a program.
    Exec(Box<ExecRecord>),
    /// A process forked a new process.
    Fork {
        /// Parent PID.
        parent: u32,
        /// Child PID.
        child: u32,
    },
    /// A process exited.
    Exit {
        /// PID.
        pid: u32,
    },
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// The text of a NUL-terminated field (at most `max` bytes).
fn c_str(b: &[u8], at: usize, max: usize) -> String {
    let field = &b[at..at + max];
    let end = field.iter().position(|c| *c == 0).unwrap_or(max);
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A path written leaf first as NUL-terminated components, turned around: `busybox\0bin\0`
/// is `/bin/busybox`. No components is `/` when `root_if_empty`, else empty (unknown).
pub fn path_from_components(raw: &[u8], root_if_empty: bool) -> String {
    let parts: Vec<&[u8]> = raw.split(|c| *c == 0).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return if root_if_empty {
            "/".into()
        } else {
            String::new()
        };
    }
    let mut path = String::new();
    for p in parts.iter().rev() {
        path.push('/');
        path.push_str(&String::from_utf8_lossy(p));
    }
    path
}

/// What a standard stream is, from its file's mode and device number (0 mode: closed), as
/// [`StdioKind::from_link_target`] says it from the `/proc/PID/fd` link.
pub fn stdio_kind(mode: u16, rdev: u32) -> StdioKind {
    const S_IFMT: u16 = 0o170_000;
    // The kernel's internal dev_t: major in the top 12 bits, minor in the low 20.
    let (major, minor) = (rdev >> 20, rdev & 0xf_ffff);
    match mode & S_IFMT {
        0 => StdioKind::Closed,
        0o140_000 => StdioKind::Socket,
        0o010_000 => StdioKind::Pipe,
        0o020_000 => match (major, minor) {
            (1, 3) => StdioKind::Null,
            // tty0-63 and serial (4), /dev/tty, console and ptmx (5), /dev/pts/* (136-143).
            (4 | 5 | 136..=143, _) => StdioKind::Tty,
            _ => StdioKind::File,
        },
        _ => StdioKind::File,
    }
}

fn bounded_len(b: &[u8], at: usize, max: usize) -> usize {
    (u32_at(b, at) as usize).min(max)
}

/// Decodes one record; `None` when it is of an unknown kind or too short.
pub fn parse(b: &[u8]) -> Option<Record> {
    if b.len() < TASK_RECORD_BYTES {
        return None;
    }
    match u32_at(b, 0) {
        KIND_FORK => Some(Record::Fork {
            parent: u32_at(b, 8),
            child: u32_at(b, 4),
        }),
        KIND_EXIT => Some(Record::Exit { pid: u32_at(b, 4) }),
        KIND_EXEC if b.len() >= EXEC_HEADER_BYTES => {
            parse_exec(b).map(|e| Record::Exec(Box::new(e)))
        }
        _ => None,
    }
}

/// The packed fields of an exec record (file name, executable, working directory, argv), or
/// `None` when the record is shorter than its header says.
fn packed_fields(b: &[u8]) -> Option<[&[u8]; 4]> {
    let lens = [
        bounded_len(b, at::FILENAME_LEN, FILENAME_BYTES),
        bounded_len(b, at::EXE_LEN, PATH_BYTES),
        bounded_len(b, at::CWD_LEN, PATH_BYTES),
        bounded_len(b, at::ARGS_LEN, ARGS_MAX_BYTES),
    ];
    let mut rest = b.get(EXEC_HEADER_BYTES..)?;
    let mut fields: [&[u8]; 4] = [&[]; 4];
    for (field, len) in fields.iter_mut().zip(lens) {
        let (head, tail) = rest.split_at_checked(len)?;
        *field = head;
        rest = tail;
    }
    Some(fields)
}

fn parse_exec(b: &[u8]) -> Option<ExecRecord> {
    let flags = u32_at(b, 28);
    let [filename, exe, cwd, args_raw] = packed_fields(b)?;
    let args_raw = args_raw.strip_suffix(&[0]).unwrap_or(args_raw);
    let args = if args_raw.is_empty() {
        Vec::new()
    } else {
        args_raw
            .split(|c| *c == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    };
    let stdio = |i: usize| {
        let at = at::STDIO + 8 * i;
        stdio_kind(u16_at(b, at), u32_at(b, at + 4))
    };
    let truncated = [
        (FLAG_ARGS_TRUNCATED, "args"),
        (FLAG_EXE_TRUNCATED, "exe"),
        (FLAG_CWD_TRUNCATED, "cwd"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| name)
    .collect();
    Some(ExecRecord {
        pid: u32_at(b, 4),
        ppid: u32_at(b, 8),
        vpid: u32_at(b, 12),
        uid: u32_at(b, 16),
        euid: u32_at(b, 20),
        gid: u32_at(b, 24),
        ts_ns: u64_at(b, 32),
        cgroup_id: u64_at(b, 40),
        start_boottime_ns: u64_at(b, 48),
        exe_mode: u32_at(b, 56),
        comm: c_str(b, at::COMM, 16),
        filename: c_str(filename, 0, filename.len()),
        exe: path_from_components(exe, false),
        cwd: path_from_components(cwd, true),
        args,
        stdio: [stdio(0), stdio(1), stdio(2)],
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(b: &mut [u8], at: usize, v: &[u8]) {
        b[at..at + v.len()].copy_from_slice(v);
    }

    /// A packed exec record: the header, then file name, executable, cwd and argv.
    fn packed_exec(filename: &[u8], exe: &[u8], cwd: &[u8], args: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; EXEC_HEADER_BYTES];
        for (at, v) in [
            (0, 1u32),
            (4, 4711),
            (8, 42),
            (12, 3),
            (16, 1000),
            (20, 0),
            (24, 100),
        ] {
            put(&mut b, at, &v.to_le_bytes());
        }
        put(&mut b, 28, &1u32.to_le_bytes());
        put(&mut b, 32, &123_456_789u64.to_le_bytes());
        put(&mut b, 40, &9876u64.to_le_bytes());
        put(&mut b, 56, &0o104_755u32.to_le_bytes());
        for (at, field) in [
            (at::FILENAME_LEN, filename),
            (at::EXE_LEN, exe),
            (at::CWD_LEN, cwd),
            (at::ARGS_LEN, args),
        ] {
            put(&mut b, at, &(field.len() as u32).to_le_bytes());
        }
        put(&mut b, at::COMM, b"echo\0");
        // stdin a pipe, stdout /dev/pts/0 (136:0), stderr closed
        put(&mut b, at::STDIO, &0o010_600u16.to_le_bytes());
        put(&mut b, at::STDIO + 8, &0o020_620u16.to_le_bytes());
        put(&mut b, at::STDIO + 12, &(136u32 << 20).to_le_bytes());
        for field in [filename, exe, cwd, args] {
            b.extend_from_slice(field);
        }
        b
    }

    #[test]
    fn decodes_an_exec_record_as_laid_out_in_exec_bpf_c() {
        let b = packed_exec(
            b"/bin/echo\0",
            b"busybox\0bin\0",
            b"",
            b"echo\0hello world\0",
        );
        let Some(Record::Exec(e)) = parse(&b) else {
            panic!("not an exec")
        };
        assert_eq!(e.pid, 4711);
        assert_eq!(e.ppid, 42);
        assert_eq!(e.vpid, 3);
        assert_eq!((e.uid, e.euid, e.gid), (1000, 0, 100));
        assert_eq!(e.ts_ns, 123_456_789);
        assert_eq!(e.cgroup_id, 9876);
        assert_eq!(e.comm, "echo");
        assert_eq!(e.filename, "/bin/echo");
        assert_eq!(e.exe, "/bin/busybox");
        assert_eq!(e.cwd, "/");
        assert_eq!(e.args, ["echo", "hello world"]);
        assert_eq!(
            e.stdio,
            [StdioKind::Pipe, StdioKind::Tty, StdioKind::Closed]
        );
        assert_eq!(e.truncated, ["args"]);
        assert_eq!(e.exe_mode & 0o4000, 0o4000);
        let b = packed_exec(b"/bin/sh\0", b"sh\0bin\0", b"tmp\0", b"sh\0");
        let Some(Record::Exec(e)) = parse(&b) else {
            panic!("not an exec")
        };
        assert_eq!(
            (e.filename.as_str(), e.exe.as_str(), e.cwd.as_str()),
            ("/bin/sh", "/bin/sh", "/tmp")
        );
        assert_eq!(e.args, ["sh"]);
        assert_eq!(
            parse(&b[..b.len() - 1]),
            None,
            "shorter than its header says"
        );
    }

    #[test]
    fn decodes_fork_and_exit_and_rejects_short_or_unknown_records() {
        let mut b = vec![0u8; TASK_RECORD_BYTES];
        put(&mut b, 0, &2u32.to_le_bytes());
        put(&mut b, 4, &200u32.to_le_bytes());
        put(&mut b, 8, &100u32.to_le_bytes());
        assert_eq!(
            parse(&b),
            Some(Record::Fork {
                parent: 100,
                child: 200
            })
        );
        put(&mut b, 0, &3u32.to_le_bytes());
        assert_eq!(parse(&b), Some(Record::Exit { pid: 200 }));
        put(&mut b, 0, &1u32.to_le_bytes());
        assert_eq!(parse(&b), None, "an exec record is longer");
        put(&mut b, 0, &9u32.to_le_bytes());
        assert_eq!(parse(&b), None);
        assert_eq!(parse(&b[..8]), None);
    }

    #[test]
    fn classifies_standard_streams_like_their_proc_links() {
        assert_eq!(stdio_kind(0o140_777, 0), StdioKind::Socket);
        assert_eq!(stdio_kind(0o020_666, (1 << 20) | 3), StdioKind::Null);
        assert_eq!(stdio_kind(0o020_666, 5 << 20 | 2), StdioKind::Tty);
        assert_eq!(stdio_kind(0o020_666, (1 << 20) | 5), StdioKind::File);
        assert_eq!(stdio_kind(0o100_644, 0), StdioKind::File);
        assert_eq!(path_from_components(b"", true), "/");
        assert_eq!(path_from_components(b"", false), "");
        assert_eq!(path_from_components(b"x\0", false), "/x");
    }
}
