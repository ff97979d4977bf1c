//! Packages compiled into executables: the Go build info blob (`.go.buildinfo`: Go version,
//! main module, dependency modules) and cargo-auditable's `.dep-v0` section (zlib-compressed
//! JSON dependency list).

use std::io::Read;

use object::{Object, ObjectSection, ObjectSegment};
use palisade_model::{Ecosystem, Package, purl};
use serde::Deserialize;

const GO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// Sentinels around the module info string (16 bytes each side).
const MODINFO_SENTINEL_LEN: usize = 16;
const MAX_AUDIT_JSON: u64 = 16 << 20;

/// Go build information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// Toolchain version (`go1.21.5`).
    pub go_version: String,
    /// Main package path.
    pub path: Option<String>,
    /// Main module (path, version).
    pub main: Option<(String, String)>,
    /// Dependency modules (path, version), replacements applied.
    pub deps: Vec<(String, String)>,
}

/// Packages of an ELF executable (Go modules or Rust crates); empty for other binaries.
pub fn packages(bytes: &[u8]) -> Result<Vec<Package>, String> {
    let file = object::File::parse(bytes).map_err(|e| format!("unreadable ELF: {e}"))?;
    if let Some(section) = file.section_by_name(".dep-v0") {
        let data = section.data().map_err(|e| format!(".dep-v0: {e}"))?;
        return auditable_packages(data);
    }
    let info = match file.section_by_name(".go.buildinfo") {
        Some(section) => {
            let data = section.data().map_err(|e| format!(".go.buildinfo: {e}"))?;
            go_build_info(data, &file)?
        }
        None => match find_aligned(bytes, GO_MAGIC) {
            Some(at) => go_build_info(&bytes[at..], &file)?,
            None => return Ok(Vec::new()),
        },
    };
    Ok(go_packages(&info))
}

fn find_aligned(hay: &[u8], needle: &[u8]) -> Option<usize> {
    (0..hay.len().saturating_sub(needle.len()))
        .step_by(16)
        .find(|&i| hay[i..].starts_with(needle))
}

/// Decodes a `.go.buildinfo` blob (both the Go ≥ 1.18 inline layout and the older pointer
/// layout, whose strings are read through the file's segments).
pub fn go_build_info(data: &[u8], file: &object::File<'_>) -> Result<GoBuildInfo, String> {
    if data.len() < 32 || !data.starts_with(GO_MAGIC) {
        return Err(".go.buildinfo: missing magic".into());
    }
    let ptr_size = data[14] as usize;
    let flags = data[15];
    let big_endian = flags & 1 != 0;
    let (version, modinfo) = if flags & 2 != 0 {
        let mut at = 32;
        let v = uvarint_string(data, &mut at).ok_or(".go.buildinfo: bad version string")?;
        let m = uvarint_string(data, &mut at).ok_or(".go.buildinfo: bad modinfo string")?;
        (v, m)
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!(".go.buildinfo: pointer size {ptr_size}"));
        }
        let read_ptr = |b: &[u8]| -> Option<u64> {
            let s = b.get(..ptr_size)?;
            let mut v = 0u64;
            if big_endian {
                for x in s {
                    v = (v << 8) | *x as u64;
                }
            } else {
                for x in s.iter().rev() {
                    v = (v << 8) | *x as u64;
                }
            }
            Some(v)
        };
        let read_go_string = |addr: u64| -> Option<String> {
            let header = read_at(file, addr, 2 * ptr_size as u64)?;
            let ptr = read_ptr(header)?;
            let len = read_ptr(&header[ptr_size..])?;
            if len > 16 << 20 {
                return None;
            }
            Some(String::from_utf8_lossy(read_at(file, ptr, len)?).into_owned())
        };
        let vaddr = read_ptr(&data[16..]).ok_or(".go.buildinfo: truncated")?;
        let maddr = read_ptr(&data[16 + ptr_size..]).ok_or(".go.buildinfo: truncated")?;
        (
            read_go_string(vaddr).ok_or(".go.buildinfo: unreadable version")?,
            read_go_string(maddr).unwrap_or_default(),
        )
    };
    let modinfo = if modinfo.len() > 2 * MODINFO_SENTINEL_LEN
        && modinfo.as_bytes()[modinfo.len() - MODINFO_SENTINEL_LEN - 1] == b'\n'
    {
        modinfo
            .get(MODINFO_SENTINEL_LEN..modinfo.len() - MODINFO_SENTINEL_LEN)
            .unwrap_or("")
            .to_string()
    } else {
        modinfo
    };
    Ok(parse_modinfo(&version, &modinfo))
}

fn read_at<'a>(file: &object::File<'a>, addr: u64, len: u64) -> Option<&'a [u8]> {
    file.segments()
        .find_map(|s| s.data_range(addr, len).ok().flatten())
}

fn uvarint_string(data: &[u8], at: &mut usize) -> Option<String> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *data.get(*at)?;
        *at += 1;
        len |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let s = data.get(*at..at.checked_add(len)?)?;
    *at += len;
    Some(String::from_utf8_lossy(s).into_owned())
}

/// Parses the module info text (`path`, `mod`, `dep`, `=>` lines).
pub fn parse_modinfo(go_version: &str, text: &str) -> GoBuildInfo {
    let mut info = GoBuildInfo {
        go_version: go_version.to_string(),
        path: None,
        main: None,
        deps: Vec::new(),
    };
    let mut last_was_dep = false;
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["path", p, ..] => info.path = Some(p.to_string()),
            ["mod", p, v, ..] => info.main = Some((p.to_string(), v.to_string())),
            ["dep", p, v, ..] => {
                info.deps.push((p.to_string(), v.to_string()));
                last_was_dep = true;
                continue;
            }
            ["=>", p, v, ..] if last_was_dep && !v.is_empty() => {
                if let Some(d) = info.deps.last_mut() {
                    *d = (p.to_string(), v.to_string());
                }
            }
            _ => {}
        }
        last_was_dep = false;
    }
    info
}

fn go_packages(info: &GoBuildInfo) -> Vec<Package> {
    let mut out = Vec::new();
    let go = |name: &str, version: &str| {
        let mut p = Package::new(Ecosystem::Go, name, version);
        p.purl = purl::build(&Ecosystem::Go, None, name, version, &[]);
        p
    };
    let toolchain = info.go_version.trim_start_matches("go");
    let toolchain = toolchain.split([' ', '-']).next().unwrap_or(toolchain);
    if !toolchain.is_empty() && toolchain.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.push(go("stdlib", toolchain));
    }
    if let Some((path, version)) = &info.main
        && version != "(devel)"
        && !version.is_empty()
    {
        out.push(go(path, version));
    }
    for (path, version) in &info.deps {
        out.push(go(path, version));
    }
    out
}

#[derive(Deserialize)]
struct AuditData {
    packages: Vec<AuditPackage>,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    root: bool,
}

/// Decodes cargo-auditable's zlib-compressed JSON (bounded to 16 MiB).
pub fn auditable_packages(compressed: &[u8]) -> Result<Vec<Package>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_AUDIT_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!(".dep-v0: not zlib data: {e}"))?;
    if json.len() as u64 > MAX_AUDIT_JSON {
        return Err(".dep-v0: dependency list larger than 16 MiB".into());
    }
    let data: AuditData =
        serde_json::from_slice(&json).map_err(|e| format!(".dep-v0: invalid JSON: {e}"))?;
    Ok(data
        .packages
        .into_iter()
        .filter(|p| !p.root || p.source.as_deref() == Some("crates.io"))
        .map(|p| {
            let mut pkg = Package::new(Ecosystem::CratesIo, &p.name, &p.version);
            pkg.purl = purl::build(&Ecosystem::CratesIo, None, &p.name, &p.version, &[]);
            pkg
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modinfo_with_replacements() {
        let text = "path\texample.com/app/cmd/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/net\tv0.17.0\th1:abc=\ndep\tgithub.com/old/mod\tv1.0.0\th1:x=\n=>\tgithub.com/new/mod\tv1.2.0\th1:y=\nbuild\tGOOS=linux\n";
        let info = parse_modinfo("go1.21.5", text);
        assert_eq!(info.path.as_deref(), Some("example.com/app/cmd/app"));
        assert_eq!(
            info.deps,
            [
                ("golang.org/x/net".to_string(), "v0.17.0".to_string()),
                ("github.com/new/mod".to_string(), "v1.2.0".to_string())
            ]
        );
        let pkgs = go_packages(&info);
        assert_eq!(pkgs[0].name, "stdlib");
        assert_eq!(pkgs[0].version, "1.21.5");
        assert_eq!(pkgs.len(), 3, "(devel) main module is not a package");
    }
}
