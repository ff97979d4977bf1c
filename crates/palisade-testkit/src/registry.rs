//! [`Registry`] runs Debian's `docker-registry` (the distribution project's registry, installed
//! by `scripts/setup/20-registry.sh`) on a free loopback port with fresh storage, so tests talk
//! to a real registry rather than a stub.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the registry authenticates clients.
#[derive(Debug, Clone, Default)]
pub enum RegistryAuth {
    /// Anonymous access (pull and push).
    #[default]
    Anonymous,
    /// HTTP basic authentication with one user (an htpasswd file made with `htpasswd -B`).
    Htpasswd {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// Bearer tokens from a token service, verified against `root_cert_pem`.
    Token {
        /// The token service's URL.
        realm: String,
        /// The `service` the tokens are issued for.
        service: String,
        /// The tokens' issuer.
        issuer: String,
        /// PEM certificate whose key signs the tokens.
        root_cert_pem: String,
    },
}

/// Registry settings beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Authentication.
    pub auth: RegistryAuth,
}

/// A running registry; stopped when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The filesystem storage root (tests may tamper with stored blobs).
    pub storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// An anonymous registry.
    pub fn start() -> Registry {
        Registry::start_with(&RegistryOptions::default())
    }

    /// A registry with `options`; returns once it accepts connections.
    pub fn start_with(options: &RegistryOptions) -> Registry {
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n",
            storage.display()
        );
        config.push_str(&format!("http:\n  addr: {addr}\n"));
        match &options.auth {
            RegistryAuth::Anonymous => {}
            RegistryAuth::Htpasswd { user, password } => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd missing: run scripts/test");
                assert!(out.status.success(), "htpasswd failed");
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, String::from_utf8_lossy(&out.stdout).trim())
                    .expect("write htpasswd");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: palisade-test\n    path: {}\n",
                    file.display()
                ));
            }
            RegistryAuth::Token {
                realm,
                service,
                issuer,
                root_cert_pem,
            } => {
                let bundle = dir.path().join("token-ca.pem");
                std::fs::write(&bundle, root_cert_pem).expect("write token certificate");
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                    bundle.display()
                ));
            }
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry missing: run scripts/test (scripts/setup/20-registry.sh installs it)");
        let mut registry = Registry {
            child,
            addr,
            storage,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&registry.addr).is_err() {
            if Instant::now() > deadline {
                registry.stop();
                panic!("registry did not start on {}", registry.addr);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// Stops the registry (idempotent).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
