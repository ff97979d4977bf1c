//! Manifests that come out of a tool: Helm charts through `helm template`, Kustomize roots
//! through `kubectl kustomize`. The tool runs only when it is on `PATH`; otherwise the directory
//! is reported once, with how to render it by hand. Output is bounded like a file, and a tool
//! that does not finish in [`TIMEOUT`] is killed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::discover::{RenderDir, WalkOptions};

/// Longest a rendering may take (Kustomize may fetch remote bases).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Most bytes of a tool's error output kept for the message.
const MAX_STDERR: u64 = 16 * 1024;

/// The rendered stream of a directory, or why there is none.
pub(crate) enum Rendered {
    /// The manifests, with the name their findings show.
    Manifests {
        /// `DIR (helm template)` or `DIR (kubectl kustomize)`.
        name: String,
        /// The stream.
        data: Vec<u8>,
    },
    /// The tool is not installed: a warning naming the directory and the way out.
    Unavailable(String),
    /// The tool failed: an error with its message.
    Failed(String),
}

/// Renders one directory, reading at most `max_bytes` of output.
pub(crate) fn render(dir: &RenderDir, options: &WalkOptions, max_bytes: u64) -> Rendered {
    let (program, args, label, how) = match dir {
        RenderDir::Helm(path) => {
            let release = release_name(path);
            let mut args = vec!["template".into(), release, path_argument(path)];
            for values in &options.helm_values {
                args.push("--values".into());
                args.push(path_argument(values));
            }
            (
                "helm",
                args,
                "helm template",
                format!(
                    "Helm chart at {} not rendered: install helm or pipe `helm template {}` into `palisade scan -`",
                    path.display(),
                    path.display()
                ),
            )
        }
        RenderDir::Kustomize(path) => (
            "kubectl",
            vec!["kustomize".into(), path_argument(path)],
            "kubectl kustomize",
            format!(
                "Kustomize directory {} not rendered: install kubectl or pipe `kubectl kustomize {}` into `palisade scan -`",
                path.display(),
                path.display()
            ),
        ),
    };
    let path = match dir {
        RenderDir::Helm(p) | RenderDir::Kustomize(p) => p,
    };
    match run(program, &args, max_bytes) {
        Ok(data) => Rendered::Manifests {
            name: format!("{} ({label})", path.display()),
            data,
        },
        Err(RunError::NotFound) => Rendered::Unavailable(how),
        Err(RunError::Failed(why)) => Rendered::Failed(format!("{label} failed: {why}")),
    }
}

enum RunError {
    NotFound,
    Failed(String),
}

/// Runs `program args`, returning its standard output when it exits successfully. Memory is
/// bounded (output past `max_bytes` is drained, not kept) and so is time ([`TIMEOUT`]).
fn run(program: &str, args: &[String], max_bytes: u64) -> Result<Vec<u8>, RunError> {
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RunError::NotFound),
        Err(e) => return Err(RunError::Failed(format!("cannot run {program}: {e}"))),
    };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || -> std::io::Result<(Vec<u8>, bool)> {
        let mut data = Vec::new();
        let Some(mut out) = stdout else {
            return Ok((data, false));
        };
        (&mut out).take(max_bytes + 1).read_to_end(&mut data)?;
        let too_large = data.len() as u64 > max_bytes;
        if too_large {
            data = Vec::new();
            std::io::copy(&mut out, &mut std::io::sink())?;
        }
        Ok((data, too_large))
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut e) = stderr {
            let _ = (&mut e).take(MAX_STDERR).read_to_end(&mut text);
            let _ = std::io::copy(&mut e, &mut std::io::sink());
        }
        String::from_utf8_lossy(&text).trim().to_string()
    });
    let status = match child.wait_timeout(TIMEOUT) {
        Ok(Some(status)) => Ok(status),
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "{program} did not finish in {} s",
                TIMEOUT.as_secs()
            ))
        }
        Err(e) => Err(format!("waiting for {program}: {e}")),
    };
    let output = out_reader.join();
    let stderr = err_reader.join().unwrap_or_default();
    let status = status.map_err(RunError::Failed)?;
    let (data, too_large) = match output {
        Ok(Ok(read)) => read,
        Ok(Err(e)) => return Err(RunError::Failed(format!("reading its output: {e}"))),
        Err(_) => return Err(RunError::Failed("reading its output failed".into())),
    };
    if !status.success() {
        return Err(RunError::Failed(if stderr.is_empty() {
            format!("{program} exited with {status}")
        } else {
            stderr
        }));
    }
    if too_large {
        return Err(RunError::Failed(format!(
            "output is larger than the limit of {max_bytes} bytes"
        )));
    }
    Ok(data)
}

/// The template a document of `helm template` output came from: its `# Source: PATH` comment
/// (before the document's first content line).
pub(crate) fn helm_source(document: &str) -> Option<&str> {
    for line in document.lines() {
        let t = line.trim();
        if t.is_empty() || t == "---" {
            continue;
        }
        if let Some(source) = t.strip_prefix("# Source: ") {
            let source = source.trim();
            return (!source.is_empty()).then_some(source);
        }
        if !t.starts_with('#') {
            return None;
        }
    }
    None
}

/// A release name Helm accepts (lower-case letters, digits and `-`) from the chart directory.
fn release_name(chart: &Path) -> String {
    let name: String = chart
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() {
        "release".into()
    } else {
        name.chars().take(53).collect()
    }
}

/// `path` as a command-line argument that a tool cannot read as an option.
fn path_argument(path: &Path) -> String {
    let text = path.display().to_string();
    if text.starts_with('-') {
        format!("./{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_sources_are_read_from_the_comment_before_the_content() {
        assert_eq!(
            helm_source("---\n# Source: shop/templates/web.yaml\napiVersion: v1\n"),
            Some("shop/templates/web.yaml")
        );
        assert_eq!(helm_source("apiVersion: v1\n# Source: late.yaml\n"), None);
        assert_eq!(helm_source("# just a comment\nkind: Pod\n"), None);
    }
}
