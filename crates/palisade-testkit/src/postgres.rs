//! [`Postgres`] runs a private PostgreSQL 15 server (Debian's binaries, installed by
//! `scripts/setup/50-postgres.sh`) for tests: a fresh cluster made by `initdb --auth=trust` in
//! a temporary directory, listening on a free port of 127.0.0.1 with its unix socket in that
//! directory. It can be stopped and started again on the same data (outage tests) and is
//! killed when dropped.
//!
//! PostgreSQL refuses to run as root: when the test runs as root, `initdb` and `pg_ctl` run as
//! the `postgres` user (through `runuser`), which owns the temporary directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where Debian's PostgreSQL 15 server binaries are.
pub const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// A private PostgreSQL server; killed (immediate shutdown) when dropped.
pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
    running: bool,
}

impl Postgres {
    /// A fresh cluster, started; returns once it accepts connections.
    pub fn new() -> Postgres {
        let initdb = Path::new(BIN_DIR).join("initdb");
        assert!(
            initdb.exists(),
            "{} is missing: run scripts/setup/50-postgres.sh",
            initdb.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("palisade-pg-")
            .tempdir()
            .expect("temporary directory");
        let as_postgres_user = is_root();
        if as_postgres_user {
            run_checked(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(dir.path()),
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut pg = Postgres {
            dir,
            port,
            as_postgres_user,
            running: false,
        };
        let data = pg.data_dir();
        let out = pg.pg_command(
            "initdb",
            &[
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "-D",
                &data.to_string_lossy(),
            ],
        );
        assert_success("initdb", &out);
        pg.start();
        pg
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, no TLS).
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Turns TLS on and refuses connections without it: the server presents `cert_pem` (with
    /// its chain) and `key_pem`, `pg_hba.conf` admits TCP clients only over TLS (`hostssl`,
    /// trust) and rejects the rest; the server restarts. Clients then connect with
    /// [`Postgres::tls_url`].
    pub fn require_tls(&mut self, cert_pem: &str, key_pem: &str) {
        let data = self.data_dir();
        let write = |name: &str, text: &str| {
            let path = data.join(name);
            std::fs::write(&path, text).expect("writing into the data directory");
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("owner-only permissions");
            if self.as_postgres_user {
                run_checked(Command::new("chown").arg("postgres:postgres").arg(&path));
            }
        };
        write("server.crt", cert_pem);
        write("server.key", key_pem);
        write(
            "pg_hba.conf",
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 trust\n\
             hostnossl all all 0.0.0.0/0 reject\n",
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text).expect("postgresql.conf");
        self.stop();
        self.start();
    }

    /// The URL of a server after [`Postgres::require_tls`]: TLS verified against `ca_file`, the
    /// host name checked (`sslmode=verify-full`).
    pub fn tls_url(&self, ca_file: &Path) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={}",
            self.port,
            ca_file.display()
        )
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server on its data (again, after [`Postgres::stop`]); returns once it
    /// accepts connections (`pg_ctl -w`). Does nothing when it runs.
    pub fn start(&mut self) {
        if self.running {
            return;
        }
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let out = self.pg_command(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        if !out.status.success() {
            let server_log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "pg_ctl start failed: {}\n{}\nserver log:\n{server_log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.running = true;
    }

    /// Stops the server at once (immediate shutdown, as a crash would: clients see their
    /// connections drop); returns once it is gone. Does nothing when it is stopped.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        let out = self.immediate_shutdown();
        assert_success("pg_ctl stop", &out);
        self.running = false;
    }

    fn immediate_shutdown(&self) -> Output {
        let data = self.data_dir();
        self.pg_command(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_command(&self, program: &str, args: &[&str]) -> Output {
        let program = Path::new(BIN_DIR).join(program);
        let mut command = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command
            .args(args)
            // runuser keeps the caller's working directory, which postgres may not read.
            .current_dir(self.dir.path())
            .output()
            .expect("running a PostgreSQL tool")
    }
}

impl Default for Postgres {
    fn default() -> Postgres {
        Postgres::new()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.immediate_shutdown();
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run_checked(command: &mut Command) {
    let out = command.output().expect("running a command");
    assert_success(&format!("{command:?}"), &out);
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
