//! Running the `palisade` binary: one runner for every CLI test. [`palisade`] takes the
//! arguments; the builder adds environment, working directory and standard input; `output()`
//! (or `run()` for exit code and text) runs it to completion, `command()` hands over the
//! configured [`Command`] for servers and agents the test spawns itself.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The binary under test with `args`.
pub fn palisade<S: AsRef<OsStr>>(args: &[S]) -> Palisade {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args);
    Palisade { cmd, stdin: None }
}

/// One invocation of the binary being prepared.
pub struct Palisade {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Palisade {
    /// One more argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Palisade {
        self.cmd.arg(arg);
        self
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> Palisade
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Palisade {
        self.cmd.env(key, value);
        self
    }

    /// Sets several environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Palisade
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.cmd.envs(vars);
        self
    }

    /// Removes an inherited environment variable.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Palisade {
        self.cmd.env_remove(key);
        self
    }

    /// Runs in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Palisade {
        self.cmd.current_dir(dir);
        self
    }

    /// Feeds `input` on standard input (otherwise standard input is empty).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Palisade {
        self.stdin = Some(input.into());
        self
    }

    /// Runs to completion and returns exit status and captured output.
    pub fn output(mut self) -> Output {
        let Some(input) = self.stdin.take() else {
            return self.cmd.output().expect("run palisade");
        };
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run palisade");
        let mut pipe = child.stdin.take().unwrap();
        // Written from a thread, so a child that answers while reading never blocks on a full
        // output pipe; closing it ends the input.
        let writer = std::thread::spawn(move || pipe.write_all(&input));
        let out = child.wait_with_output().expect("run palisade");
        match writer.join().unwrap() {
            // It may stop reading early; its output says what it made of the input.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                panic!("writing palisade's stdin: {e}")
            }
            _ => out,
        }
    }

    /// Runs to completion; returns the exit code (-1 when killed by a signal), stdout and
    /// stderr.
    pub fn run(self) -> (i32, String, String) {
        let out = self.output();
        (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
    }

    /// The configured command, to spawn and manage by hand (standard input given with
    /// [`Palisade::stdin`] is not part of it).
    pub fn command(self) -> Command {
        self.cmd
    }
}

/// Standard output parsed as JSON; fails the test showing both streams otherwise.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(out),
            stderr(out)
        )
    })
}

/// Standard output as text (lossy).
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text (lossy).
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `check_id`s of a JSON scan report's `findings` or `suppressed` list, in order.
pub fn check_ids(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|f| f["check_id"].as_str())
                .collect()
        })
        .unwrap_or_default()
}
