//! Records the commit and build date that `palisade version` prints.
//!
//! The date is reproducible: `SOURCE_DATE_EPOCH` when set (reproducible-builds.org), else the
//! commit's date, so two builds of one commit print the same thing. Outside a git checkout
//! (a source tarball) both are `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    let date = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => Some(format!("@{epoch}")),
        Err(_) => git(&["log", "-1", "--format=%cI"]),
    };
    println!(
        "cargo:rustc-env=PALISADE_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!(
        "cargo:rustc-env=PALISADE_BUILD_DATE={}",
        date.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // A new commit or checkout changes HEAD or the ref it points to (paths as git resolves
    // them, worktrees included; only existing files, or cargo would rerun this every build).
    let mut watched = vec!["HEAD".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    watched.push("packed-refs".into());
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name])
            && std::path::Path::new(&path).is_file()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
