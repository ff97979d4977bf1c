//! What a user asks of any CLI (issue 19 §2): `palisade version` (plain and JSON), shell
//! completion that a real bash loads and completes with, man pages that a real `man` renders.

use std::path::PathBuf;
use std::process::Command;

mod support;

use support::cli::palisade;

fn git_head() -> String {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "the tests run in a git checkout");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn version_names_the_build_and_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let (code, out, err) = palisade(&["version", "--format", "json"])
        .env("PALISADE_DB", &db)
        .run();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    // The binary was built from this checkout (the build script reruns when HEAD moves).
    assert_eq!(v["commit"], git_head().as_str());
    assert!(
        palisade_model::time::Timestamp::parse_rfc3339(v["build_date"].as_str().unwrap()).is_ok(),
        "{v}"
    );
    let features: Vec<&str> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(features.contains(&"netpol"), "{features:?}");
    assert_eq!(v["vulnerability_db"]["status"], "missing");
    assert_eq!(v["vulnerability_db"]["path"], db.to_str().unwrap());

    #[cfg(feature = "vuln")]
    {
        let data = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/vulndata/osv/crates.io");
        let (code, _, err) = palisade(&["db", "import", data.to_str().unwrap()])
            .env("PALISADE_DB", &db)
            .run();
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = palisade(&["version"]).env("PALISADE_DB", &db).run();
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with(&format!("palisade {}\n", env!("CARGO_PKG_VERSION"))),
            "{out}"
        );
        assert!(
            out.contains(&format!("commit:      {}", git_head())),
            "{out}"
        );
        assert!(
            out.contains("vuln db:")
                && out.contains("1206 advisories, last import ")
                && out.contains("(0 days ago)"),
            "{out}"
        );
    }
    let (_, out, _) = palisade(&["--version"]).run();
    assert_eq!(
        out.trim(),
        format!("palisade {} ({})", env!("CARGO_PKG_VERSION"), git_head())
    );
}

/// The bash script loads in a real bash and completes subcommands and flags.
#[test]
fn bash_completion_completes_commands_and_flags() {
    let (code, script, err) = palisade(&["completion", "bash"]).run();
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("palisade.bash");
    std::fs::write(&path, script).unwrap();
    let complete = |words: &str| {
        let program = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; _palisade palisade \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = Command::new("bash")
            .args(["-c", &program])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let commands = complete("palisade ve");
    assert!(commands.lines().any(|l| l == "version"), "{commands}");
    assert!(commands.lines().any(|l| l == "vercmp"), "{commands}");
    let flags = complete("palisade scan --ex");
    assert_eq!(flags.trim(), "--exclude", "{flags}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let (code, script, err) = palisade(&["completion", shell]).run();
        assert_eq!(code, 0, "{err}");
        assert!(script.contains("palisade"), "{shell}");
    }
    let (code, _, err) = palisade(&["completion", "tcsh"]).run();
    assert_eq!(code, 2);
    assert!(err.contains("possible values"), "{err}");
}

/// Pages for every command, rendered by the real man (groff) without warnings.
#[test]
fn man_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = palisade(&["man", "--dir", dir.path().to_str().unwrap()]).run();
    assert_eq!(code, 0, "{err}");
    let scan = dir.path().join("palisade-scan.1");
    assert!(scan.is_file());
    let pages = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(pages > 30, "{pages} pages");
    let out = Command::new("man")
        .args(["--warnings", "-E", "UTF-8", "-l"])
        .arg(&scan)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .unwrap();
    // Bold and underline arrive as overstrikes (`c\x08c`): keep the last character of each.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    let text = text.replace('\u{2010}', "-");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("--exclude <GLOB>"), "{text}");
    let (code, page, _) = palisade(&["man"]).run();
    assert_eq!(code, 0);
    assert!(page.contains(".TH palisade 1"), "{page}");
}

/// Linked as `kubectl-palisade` anywhere on PATH, the binary is a kubectl plugin: the real
/// kubectl finds it and passes the arguments through.
#[cfg(unix)]
#[test]
fn works_as_a_kubectl_plugin() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_palisade"),
        dir.path().join("kubectl-palisade"),
    )
    .unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", dir.path().display());
    let out = Command::new("kubectl")
        .args(["palisade", "version", "--format", "json"])
        .env("PATH", &path)
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .expect("kubectl is installed by scripts/setup/60-kubectl.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("kubectl-palisade"),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
}

/// `palisade.yaml` (or `.palisade.yaml`) in the working directory is used when no --config is
/// given; `PALISADE_*` variables set the common flags.
#[test]
fn configuration_is_discovered_and_flags_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  containers:\n  - {name: c, image: nginx:1.27, securityContext: {privileged: true}}\n",
    )
    .unwrap();
    let checks = |extra: &[(&str, &str)], args: &[&str]| -> (i32, Vec<String>, String) {
        let mut all = vec!["scan", "pod.yaml", "--format", "json"];
        all.extend_from_slice(args);
        let out = palisade(&all)
            .current_dir(dir.path())
            .env_remove("PALISADE_CONFIG")
            .envs(extra.iter().copied())
            .output();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ids = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check_id"].as_str().unwrap().to_string())
            .collect();
        (
            out.status.code().unwrap(),
            ids,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, all, _) = checks(&[], &[]);
    assert!(all.iter().any(|c| c == "PAL-001"), "privileged: {all:?}");

    std::fs::write(
        dir.path().join(".palisade.yaml"),
        "checks:\n  skip: [PAL-001]\n",
    )
    .unwrap();
    let (_, hidden, _) = checks(&[], &[]);
    assert!(!hidden.iter().any(|c| c == "PAL-001"), "{hidden:?}");
    assert_eq!(hidden.len(), all.len() - 1);
    // palisade.yaml comes first; -v says which file was used.
    std::fs::write(
        dir.path().join("palisade.yaml"),
        "checks:\n  only: [PAL-001]\n",
    )
    .unwrap();
    let (_, only, err) = checks(&[], &["-v"]);
    assert_eq!(only, ["PAL-001"]);
    assert!(err.contains("palisade.yaml"), "{err}");
    std::fs::write(dir.path().join("other.yaml"), "checks: {}\n").unwrap();
    let (_, explicit, _) = checks(&[("PALISADE_CONFIG", "other.yaml")], &[]);
    assert_eq!(explicit, all);

    let (code, _, _) = checks(&[("PALISADE_FAIL_ON", "critical")], &[]);
    assert_eq!(
        code, 1,
        "PALISADE_FAIL_ON=critical fails on the privileged container"
    );
    std::fs::remove_file(dir.path().join("palisade.yaml")).unwrap();
    std::fs::remove_file(dir.path().join(".palisade.yaml")).unwrap();
    let (_, critical, _) = checks(&[("PALISADE_MIN_SEVERITY", "critical")], &[]);
    assert!(
        !critical.is_empty() && critical.len() < all.len(),
        "{critical:?}"
    );
    let (_, flag_wins, _) = checks(
        &[("PALISADE_MIN_SEVERITY", "critical")],
        &["--min-severity", "info"],
    );
    assert_eq!(flag_wins, all);
    let out = palisade(&["scan", "pod.yaml"])
        .current_dir(dir.path())
        .env("PALISADE_FORMAT", "sarif")
        .output();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

/// Every command that prints a report takes `-f/--format` (the human format is `table`
/// everywhere, `txt` and `text` accepted) and `-o/--output FILE`, which writes exactly what
/// stdout would have shown.
#[test]
fn every_report_command_takes_format_and_output() {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-cluster");
    let demo = demo.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["scan", demo],
        vec!["rbac", "who-can", "get", "secrets", demo],
        vec!["rbac", "risky", demo],
        vec!["risk", demo],
        vec!["inventory", demo],
        vec!["netpol", "reach", demo],
        vec!["netpol", "exposure", demo],
        vec!["checks", "list"],
        vec!["version"],
    ];
    for command in commands {
        for format in ["table", "txt", "text", "json"] {
            let mut args = command.clone();
            args.extend(["--format", format]);
            let (code, stdout, err) = palisade(&args).env("NO_COLOR", "1").run();
            assert!(code == 0 || code == 1, "{args:?}: {err}");
            let file = dir.path().join("out");
            let mut to_file = args.clone();
            to_file.extend(["-o", file.to_str().unwrap()]);
            let (code2, nothing, err) = palisade(&to_file).env("NO_COLOR", "1").run();
            assert_eq!(code2, code, "{to_file:?}: {err}");
            assert_eq!(nothing, "", "{to_file:?} writes the file, not stdout");
            let written = std::fs::read_to_string(&file).unwrap();
            assert_eq!(written, stdout, "{to_file:?}");
            if format == "json" {
                serde_json::from_str::<serde_json::Value>(&written)
                    .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            }
        }
    }
}
