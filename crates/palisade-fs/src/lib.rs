//! Opening files of an untrusted tree (a checked-out repository, an OCI layout, a root
//! filesystem) without letting it stall or exhaust the process.
//!
//! `open()` on a FIFO blocks until a writer appears, so a FIFO named `deploy.yaml`, or a
//! symlink to one, would hang a scan forever; a character device such as `/dev/zero` never
//! ends. Every file is therefore opened with `O_NONBLOCK` (which makes `open()` itself return at
//! once whatever the file is) and its type checked on the open descriptor (`fstat`, so a file
//! swapped between a directory listing and the open is still caught). Only regular files are
//! read, unless the caller explicitly allows special files for a path the user named (a shell's
//! process substitution `<(helm template …)` passes a pipe as `/dev/fd/63`); such a file is
//! switched back to blocking mode, and reading a pipe without a writer ends at once with EOF.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Whether a file that is not a regular file may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// Only regular files (files found by walking a directory, members of an image layout).
    Refuse,
    /// Pipes and character devices too (a path the user named on the command line).
    Allow,
}

/// Why a file was not read.
#[derive(Debug)]
pub enum OpenError {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The file is not a regular file (its kind is named: FIFO, socket, device, directory).
    NotRegular(&'static str),
    /// The file is larger than the limit (in bytes); nothing was kept.
    TooLarge(u64),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => write!(f, "{e}"),
            OpenError::NotRegular(kind) => write!(f, "not a regular file (a {kind}); not read"),
            OpenError::TooLarge(max) => {
                write!(f, "file is larger than the limit of {max} bytes; not read")
            }
        }
    }
}

impl std::error::Error for OpenError {}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// The kind of a file that is not a regular file, for messages; `None` for a regular file.
pub fn special_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("directory")
    } else if file_type.is_fifo() {
        Some("FIFO")
    } else if file_type.is_socket() {
        Some("socket")
    } else if file_type.is_char_device() {
        Some("character device")
    } else if file_type.is_block_device() {
        Some("block device")
    } else {
        Some("special file")
    }
}

/// Whether an error from following a path is a symlink loop (`ELOOP`).
pub fn is_symlink_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

/// Opens `path` for reading without blocking in `open()`, and returns it when it is a regular
/// file (or, with [`Special::Allow`], a pipe or character device, switched back to blocking
/// reads). Symlinks are followed, so the type checked is the target's.
pub fn open(path: &Path, special: Special) -> Result<File, OpenError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    let file_type = file.metadata()?.file_type();
    match special_kind(file_type) {
        None => Ok(file),
        Some(_)
            if special == Special::Allow
                && (file_type.is_fifo() || file_type.is_char_device() || file_type.is_socket()) =>
        {
            let flags = rustix::fs::fcntl_getfl(&file).map_err(io::Error::from)?;
            rustix::fs::fcntl_setfl(&file, flags - rustix::fs::OFlags::NONBLOCK)
                .map_err(io::Error::from)?;
            Ok(file)
        }
        Some(kind) => Err(OpenError::NotRegular(kind)),
    }
}

/// Reads a whole file opened as [`open`] does, refusing files larger than `max` bytes without
/// keeping them (at most `max + 1` bytes are read).
pub fn read_bounded(path: &Path, max: u64, special: Special) -> Result<Vec<u8>, OpenError> {
    let file = open(path, special)?;
    // Sized from the metadata so the buffer is not regrown while reading; `take` still bounds
    // what is read if the file grows meanwhile.
    let expected = file.metadata().map_or(0, |m| m.len()).min(max + 1);
    let mut data = Vec::with_capacity(usize::try_from(expected).unwrap_or(0) + 1);
    file.take(max + 1).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(OpenError::TooLarge(max));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::sync::mpsc;
    use std::time::Duration;

    fn mkfifo(path: &Path) {
        let status = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success(), "mkfifo failed");
    }

    /// Runs `f` on another thread and fails the test if it does not return within 10 s
    /// (the defect being tested is a hang).
    fn within_deadline<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("reading did not return: it blocked")
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("deploy.yaml");
        mkfifo(&fifo);
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        for path in [fifo, link] {
            let result = within_deadline(move || read_bounded(&path, 1024, Special::Refuse));
            let err = result.unwrap_err();
            assert!(matches!(err, OpenError::NotRegular("FIFO")), "{err}");
            assert_eq!(err.to_string(), "not a regular file (a FIFO); not read");
        }
    }

    #[test]
    fn a_named_fifo_without_writer_reads_as_empty_and_with_a_writer_reads_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let path = fifo.clone();
        let data = within_deadline(move || read_bounded(&path, 1024, Special::Allow));
        assert_eq!(data.unwrap(), b"");

        // As process substitution does: a writer holds the pipe open and writes later.
        let writer_path = fifo.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let mut w = OpenOptions::new().write(true).open(writer_path).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            w.write_all(b"kind: Pod\n").unwrap();
        });
        // The reader opens (non-blocking) while the writer may or may not be there yet; both
        // orders must give the data or an empty read, never a hang.
        let path = fifo.clone();
        let mut got = Vec::new();
        for _ in 0..50 {
            let p = path.clone();
            got = within_deadline(move || read_bounded(&p, 1024, Special::Allow)).unwrap();
            if !got.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        writer.join().unwrap();
        assert_eq!(got, b"kind: Pod\n");
    }

    #[test]
    fn devices_and_directories_are_named() {
        let err = read_bounded(Path::new("/dev/zero"), 16, Special::Refuse).unwrap_err();
        assert!(
            matches!(err, OpenError::NotRegular("character device")),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let err = read_bounded(dir.path(), 16, Special::Refuse).unwrap_err();
        assert!(matches!(err, OpenError::NotRegular("directory")), "{err}");
        // Allowed, a character device is still bounded by the size limit.
        let err = read_bounded(Path::new("/dev/zero"), 16, Special::Allow).unwrap_err();
        assert!(matches!(err, OpenError::TooLarge(16)), "{err}");
    }

    #[test]
    fn regular_files_are_read_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(
            read_bounded(&file, 10, Special::Refuse).unwrap(),
            b"0123456789"
        );
        assert!(matches!(
            read_bounded(&file, 9, Special::Refuse),
            Err(OpenError::TooLarge(9))
        ));
        let err = read_bounded(&dir.path().join("missing"), 9, Special::Refuse).unwrap_err();
        assert!(matches!(err, OpenError::Io(_)));
    }
}
