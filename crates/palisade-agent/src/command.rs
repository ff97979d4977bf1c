//! Running a helper program (podman, crictl, docker) with a deadline.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Output of a finished command.
#[derive(Debug)]
pub struct CommandOutput {
    /// Exit status code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output (at most 4 MiB kept).
    pub stdout: Vec<u8>,
    /// Standard error (at most 64 KiB kept).
    pub stderr: String,
}

const MAX_STDOUT: u64 = 4 << 20;
const MAX_STDERR: u64 = 64 << 10;

/// Runs `program args…`, killing it after `timeout`. Standard input is closed.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> std::io::Result<CommandOutput> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out_pipe = child.stdout.take();
    let err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe {
            let _ = p.take(MAX_STDOUT).read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe {
            let _ = p.take(MAX_STDERR).read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{program} did not finish within {} ms", timeout.as_millis()),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok(CommandOutput {
        code: status.code(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let o = run(
            "sh",
            &["-c", "echo out; echo err >&2; exit 3"],
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(o.code, Some(3));
        assert_eq!(o.stdout, b"out\n");
        assert_eq!(o.stderr, "err\n");
    }

    #[test]
    fn kills_on_timeout() {
        let t = Instant::now();
        let e = run("sleep", &["10"], Duration::from_millis(200)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn missing_program_is_an_error() {
        assert!(run("/nonexistent/palisade-x", &[], Duration::from_secs(1)).is_err());
    }
}
