//! Compiles the eBPF exec capture (`bpf/exec.bpf.c`) with clang into `$OUT_DIR/exec.bpf.o`,
//! which the agent embeds. Without clang (or the libbpf headers) the build still succeeds:
//! the object is left empty, a build-time note says why, and at run time the agent reports
//! the BPF source unavailable and uses the proc connector.
//!
//! `PALISADE_BPF_CLANG` names another clang; set it to an empty string to build without BPF.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let object = out.join("exec.bpf.o");
    let note = out.join("exec.bpf.note");
    println!("cargo:rerun-if-changed=bpf/exec.bpf.c");
    println!("cargo:rerun-if-env-changed=PALISADE_BPF_CLANG");
    let clang = std::env::var("PALISADE_BPF_CLANG").unwrap_or_else(|_| "clang".into());
    let arch = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => "x86",
        Ok("aarch64") => "arm64",
        Ok(other) => other,
        Err(_) => "x86",
    }
    .to_string();
    let multiarch = format!(
        "-I/usr/include/{}-linux-gnu",
        std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_else(|_| "x86_64".into())
    );
    let result = if clang.is_empty() {
        Err("PALISADE_BPF_CLANG is empty".to_string())
    } else {
        Command::new(&clang)
            .args(["-O2", "-g", "-Wall", "-target", "bpf"])
            .arg(format!("-D__TARGET_ARCH_{arch}"))
            .arg(&multiarch)
            .args(["-c", "bpf/exec.bpf.c", "-o"])
            .arg(&object)
            .output()
            .map_err(|e| format!("{clang}: {e}"))
            .and_then(|o| {
                if o.status.success() {
                    Ok(())
                } else {
                    Err(format!(
                        "{clang} failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ))
                }
            })
    };
    match result {
        Ok(()) => std::fs::write(&note, "").expect("writing the BPF note"),
        Err(why) => {
            let why = format!(
                "eBPF exec capture not built ({why}); the agent will use the proc connector \
                 (install clang and libbpf-dev: scripts/setup/35-bpf.sh)"
            );
            println!("cargo:warning={}", why.lines().next().unwrap_or_default());
            std::fs::write(&object, b"").expect("writing an empty BPF object");
            std::fs::write(&note, &why).expect("writing the BPF note");
        }
    }
}
