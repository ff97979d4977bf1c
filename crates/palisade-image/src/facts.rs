//! Image facts for policy: the configured user, ports, environment (secret-looking variables
//! flagged, their values withheld), entrypoint, labels, creation time, build history
//! (remote `ADD`, piping downloads into a shell), secret files, and package managers and
//! attacker-useful tools present. Pure: reads only the config and the filesystem view.

use std::collections::BTreeMap;

use palisade_model::time::Timestamp;
use serde::Serialize;

use crate::config::ImageConfig;
use crate::fs::ImageFs;

/// Facts read from one image's config and filesystem (what registry access learns is
/// `palisade_model::RegistryFacts`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageContentFacts {
    /// The configured `User`, as written (`None` when unset).
    pub user: Option<String>,
    /// Whether containers run as uid 0 by default (unset user, `root`, `0`, or a name that
    /// `/etc/passwd` maps to uid 0).
    pub runs_as_root: bool,
    /// Exposed ports (`80/tcp`).
    pub exposed_ports: Vec<String>,
    /// Environment variables.
    pub env: Vec<EnvVar>,
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Cmd.
    pub cmd: Vec<String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Creation time as written (RFC 3339).
    pub created: Option<String>,
    /// Creation time in seconds since the Unix epoch (callers compute the age).
    pub created_unix: Option<i64>,
    /// Build steps.
    pub history: Vec<HistoryStep>,
    /// Files that hold private keys or credentials.
    pub secret_files: Vec<SecretFile>,
    /// Package managers and attacker-useful tools present.
    pub tools: Vec<Tool>,
}

/// One environment variable. Values of secret-looking variables are never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// Value, only when the variable does not look secret.
    pub value: Option<String>,
    /// Why it looks like a secret.
    pub secret: Option<String>,
}

/// The kind of a build step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Instruction {
    /// `ADD`.
    Add,
    /// `COPY`.
    Copy,
    /// `RUN`.
    Run,
    /// Anything else (`ENV`, `CMD`, `LABEL`, …).
    Other,
}

/// One history entry, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryStep {
    /// The command as recorded.
    pub created_by: String,
    /// Its instruction.
    pub instruction: Instruction,
    /// `ADD` of a remote URL.
    pub remote_add: bool,
    /// A `RUN` that pipes a download (curl/wget) into a shell.
    pub download_piped_to_shell: bool,
    /// Whether the step produced no layer.
    pub empty_layer: bool,
}

/// A file holding secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretFile {
    /// Absolute path in the image.
    pub path: String,
    /// Digest of the layer that added it.
    pub layer: Option<String>,
    /// What it holds.
    pub kind: String,
}

/// A tool present in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    /// Name (`curl`).
    pub name: String,
    /// Where it is.
    pub path: String,
    /// `package-manager`, `network`, `shell`, `compiler`, `debugger`, `interpreter`.
    pub category: &'static str,
}

const BIN_DIRS: &[&str] = &[
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/local/bin",
    "usr/local/sbin",
];

const TOOLS: &[(&str, &str)] = &[
    ("apt", "package-manager"),
    ("apt-get", "package-manager"),
    ("dpkg", "package-manager"),
    ("apk", "package-manager"),
    ("yum", "package-manager"),
    ("dnf", "package-manager"),
    ("microdnf", "package-manager"),
    ("rpm", "package-manager"),
    ("zypper", "package-manager"),
    ("pip", "package-manager"),
    ("pip3", "package-manager"),
    ("npm", "package-manager"),
    ("gem", "package-manager"),
    ("curl", "network"),
    ("wget", "network"),
    ("nc", "network"),
    ("netcat", "network"),
    ("ncat", "network"),
    ("socat", "network"),
    ("nmap", "network"),
    ("telnet", "network"),
    ("ftp", "network"),
    ("tftp", "network"),
    ("ssh", "network"),
    ("scp", "network"),
    ("sh", "shell"),
    ("bash", "shell"),
    ("ash", "shell"),
    ("dash", "shell"),
    ("zsh", "shell"),
    ("busybox", "shell"),
    ("gcc", "compiler"),
    ("cc", "compiler"),
    ("make", "compiler"),
    ("gdb", "debugger"),
    ("strace", "debugger"),
    ("tcpdump", "debugger"),
    ("python3", "interpreter"),
    ("python", "interpreter"),
    ("perl", "interpreter"),
    ("ruby", "interpreter"),
    ("node", "interpreter"),
];

/// Derives the facts of an image from its config and filesystem.
pub fn facts(config: &ImageConfig, fs: &ImageFs) -> ImageContentFacts {
    let rc = config.config.clone().unwrap_or_default();
    let user = rc.user.clone().filter(|u| !u.is_empty());
    ImageContentFacts {
        runs_as_root: runs_as_root(user.as_deref(), fs),
        user,
        exposed_ports: rc
            .exposed_ports
            .map(|p| p.into_keys().collect())
            .unwrap_or_default(),
        env: rc
            .env
            .unwrap_or_default()
            .iter()
            .map(|e| classify_env(e))
            .collect(),
        entrypoint: rc.entrypoint.unwrap_or_default(),
        cmd: rc.cmd.unwrap_or_default(),
        working_dir: rc.working_dir.filter(|w| !w.is_empty()),
        labels: rc.labels.unwrap_or_default(),
        created_unix: config
            .created
            .as_deref()
            .and_then(|c| Timestamp::parse_rfc3339(c).ok())
            .map(Timestamp::unix_secs),
        created: config.created.clone(),
        history: config.history.iter().map(classify_history).collect(),
        secret_files: secret_files(fs),
        tools: tools(fs),
    }
}

fn runs_as_root(user: Option<&str>, fs: &ImageFs) -> bool {
    let Some(user) = user else { return true };
    let name = user.split(':').next().unwrap_or(user);
    if name.is_empty() || name == "root" {
        return true;
    }
    if let Ok(uid) = name.parse::<u32>() {
        return uid == 0;
    }
    // A named user: look its uid up in /etc/passwd.
    fs.read("etc/passwd")
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[0] == name).then(|| f[2] == "0")
            })
        })
        .unwrap_or(false)
}

/// Classifies `KEY=value` ([`palisade_model::secrets`] decides what is a credential).
pub fn classify_env(entry: &str) -> EnvVar {
    let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
    let mut secret = None;
    if let Some(kind) = secret_value_kind(value) {
        secret = Some(format!("value looks like {kind}"));
    } else if !value.is_empty() && palisade_model::secrets::is_credential_name(name) {
        secret = Some("name suggests a secret".to_string());
    }
    EnvVar {
        name: name.to_string(),
        value: secret.is_none().then(|| value.to_string()),
        secret,
    }
}

/// Recognises well-known credential formats in a value
/// ([`palisade_model::secrets::credential_value_kind`]).
pub fn secret_value_kind(v: &str) -> Option<&'static str> {
    palisade_model::secrets::credential_value_kind(v)
}

fn classify_history(h: &crate::config::History) -> HistoryStep {
    let created_by = h.created_by.clone().unwrap_or_default();
    let body = created_by.trim();
    let body = body.strip_prefix("/bin/sh -c ").unwrap_or(body).trim();
    let (instruction, rest) = if let Some(r) = body.strip_prefix("#(nop)") {
        let r = r.trim();
        let word = r.split_whitespace().next().unwrap_or("");
        let ins = match word {
            "ADD" => Instruction::Add,
            "COPY" => Instruction::Copy,
            _ => Instruction::Other,
        };
        (ins, r.get(word.len()..).unwrap_or("").to_string())
    } else {
        let word = body.split_whitespace().next().unwrap_or("");
        match word {
            "ADD" => (Instruction::Add, body[3..].to_string()),
            "COPY" => (Instruction::Copy, body[4..].to_string()),
            "RUN" => (Instruction::Run, body[3..].to_string()),
            "ENV" | "CMD" | "ENTRYPOINT" | "LABEL" | "EXPOSE" | "USER" | "WORKDIR" | "ARG"
            | "VOLUME" | "STOPSIGNAL" | "HEALTHCHECK" | "SHELL" | "ONBUILD" | "MAINTAINER" => {
                (Instruction::Other, body.to_string())
            }
            _ if body.is_empty() => (Instruction::Other, String::new()),
            _ => (Instruction::Run, body.to_string()),
        }
    };
    let remote_add = instruction == Instruction::Add
        && rest
            .split_whitespace()
            .any(|w| w.starts_with("http://") || w.starts_with("https://"));
    HistoryStep {
        download_piped_to_shell: instruction == Instruction::Run && pipes_download_to_shell(&rest),
        created_by,
        instruction,
        remote_add,
        empty_layer: h.empty_layer,
    }
}

/// `curl … | sh`, `wget -O- … | bash`, `sh -c "$(curl …)"`, `bash <(curl …)`.
pub fn pipes_download_to_shell(cmd: &str) -> bool {
    let downloads = |s: &str| {
        s.split(|c: char| c.is_whitespace() || c == '(' || c == ';' || c == '&')
            .any(|w| w == "curl" || w == "wget" || w.ends_with("/curl") || w.ends_with("/wget"))
    };
    let segments: Vec<&str> = cmd.split('|').collect();
    for pair in segments.windows(2) {
        let next = pair[1].trim_start();
        let next = next.strip_prefix("sudo ").unwrap_or(next).trim_start();
        let shell = next
            .split_whitespace()
            .next()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .is_some_and(|w| {
                matches!(
                    w,
                    "sh" | "bash" | "zsh" | "ash" | "dash" | "python" | "python3" | "perl"
                )
            });
        if shell && downloads(pair[0].rsplit(['&', ';']).next().unwrap_or(pair[0])) {
            return true;
        }
    }
    ["$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget"]
        .iter()
        .any(|p| cmd.contains(p))
}

fn secret_files(fs: &ImageFs) -> Vec<SecretFile> {
    let mut out = Vec::new();
    for (path, node) in fs.nodes() {
        let Some(bytes) = node.bytes() else { continue };
        let name = crate::vpath::file_name(path);
        if !crate::select::is_secret_candidate(path, name) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let lower = name.to_ascii_lowercase();
        let kind = if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
            Some("private key")
        } else if lower.ends_with(".p12") || lower.ends_with(".pfx") {
            Some("PKCS#12 key store")
        } else if path.contains(".aws/") && text.contains("aws_secret_access_key") {
            Some("AWS credentials")
        } else if lower == "config.json" && text.contains("\"auth\"") {
            Some("Docker registry credentials")
        } else if lower == ".git-credentials" && text.contains('@') {
            Some("git credentials")
        } else if lower == ".npmrc" && text.contains("_authToken") {
            Some("npm token")
        } else if (lower == ".pypirc" || lower == ".netrc" || lower == ".pgpass")
            && (text.contains("password") || lower == ".pgpass")
            && !text.trim().is_empty()
        {
            Some("password file")
        } else if (lower == "application_default_credentials.json" || lower == "credentials.json")
            && (text.contains("private_key") || text.contains("refresh_token"))
        {
            Some("Google Cloud credentials")
        } else if (lower == "config" || lower == "kubeconfig")
            && (text.contains("client-key-data") || text.contains("token:"))
        {
            Some("Kubernetes credentials")
        } else if text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| secret_value_kind(w) == Some("an AWS access key ID"))
        {
            Some("AWS access key id")
        } else {
            None
        };
        if let Some(kind) = kind {
            out.push(SecretFile {
                path: format!("/{path}"),
                layer: fs.layer_digest(node.layer).map(str::to_string),
                kind: kind.to_string(),
            });
        }
    }
    out
}

fn tools(fs: &ImageFs) -> Vec<Tool> {
    let mut out = Vec::new();
    for (name, category) in TOOLS {
        for dir in BIN_DIRS {
            let path = format!("{dir}/{name}");
            if fs.stat(&path).is_some_and(|n| n.is_file()) {
                out.push(Tool {
                    name: name.to_string(),
                    path: format!("/{path}"),
                    category,
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_secrets_are_flagged_without_values() {
        let v = classify_env("DB_PASSWORD=hunter2");
        assert_eq!(v.value, None);
        assert!(v.secret.is_some());
        let v = classify_env("AWS=AKIAIOSFODNN7EXAMPLE");
        assert_eq!(v.value, None);
        let v = classify_env("PASSWORD_FILE=/run/secrets/db");
        assert_eq!(v.value.as_deref(), Some("/run/secrets/db"));
        let v = classify_env("PATH=/usr/bin");
        assert_eq!(v.secret, None);
    }

    #[test]
    fn download_piped_to_shell() {
        assert!(pipes_download_to_shell(
            "apt-get update && curl -fsSL https://x/install.sh | sh"
        ));
        assert!(pipes_download_to_shell(
            "wget -qO- https://x | sudo bash -s"
        ));
        assert!(pipes_download_to_shell("sh -c \"$(curl -fsSL https://x)\""));
        assert!(!pipes_download_to_shell(
            "curl -o /tmp/x https://x && sha256sum -c x.sha"
        ));
        assert!(!pipes_download_to_shell("cat x | sh"));
    }

    #[test]
    fn history_classification() {
        let h = |s: &str| crate::config::History {
            created_by: Some(s.into()),
            ..Default::default()
        };
        assert_eq!(
            classify_history(&h("/bin/sh -c #(nop) ADD file:abc in / ")).instruction,
            Instruction::Add
        );
        let s = classify_history(&h("ADD https://example.com/x.tgz /opt/ # buildkit"));
        assert!(s.remote_add);
        assert_eq!(
            classify_history(&h("COPY app /app # buildkit")).instruction,
            Instruction::Copy
        );
        let s = classify_history(&h("RUN /bin/sh -c curl -sL https://x | bash # buildkit"));
        assert!(s.download_piped_to_shell);
    }
}
