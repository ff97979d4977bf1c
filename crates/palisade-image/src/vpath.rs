//! Lexical handling of paths inside an image: entry-name normalisation and joining. Paths in
//! the virtual filesystem are relative to the image root, `/`-separated, without `.`/`..`
//! components, leading or trailing slashes; the root itself is the empty string.

/// Why an entry name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathProblem {
    /// Contains a `..` component.
    DotDot,
}

/// Normalises a tar entry name: drops `.` components, empty components and a leading `./` or
/// `/` (absolute names, as umoci writes them, are rooted at the image root like every other
/// name — never at the host's). Refuses any `..` component. Returns `""` for the root.
pub(crate) fn normalize_entry(raw: &str) -> Result<String, PathProblem> {
    let mut out = String::with_capacity(raw.len());
    for comp in raw.split('/') {
        match comp {
            "" | "." => {}
            ".." => return Err(PathProblem::DotDot),
            c => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(c);
            }
        }
    }
    Ok(out)
}

/// The parent directory of a normalised path (`""` for top-level names).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// The last component of a normalised path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, n)| n)
}

/// Joins a normalised directory and a name.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Lexically resolves a symlink target against the directory holding the link. Returns `None`
/// when the target climbs above the root. Absolute targets are rooted at the image root. Used
/// for the members of a docker archive (a file, not an image root).
pub(crate) fn lexical_target(link_dir: &str, target: &str) -> Option<String> {
    let mut stack: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        link_dir.split('/').filter(|c| !c.is_empty()).collect()
    };
    for comp in target.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                stack.pop()?;
            }
            c => stack.push(c),
        }
    }
    Some(stack.join("/"))
}

/// Longest path written whole into an error message.
const SHOWN_PATH_BYTES: usize = 200;

/// A path for an error message: whole when short, else its first bytes and its length (a
/// crafted entry name can be megabytes long).
pub(crate) fn shorten(path: &str) -> String {
    if path.len() <= SHOWN_PATH_BYTES {
        return path.to_string();
    }
    let mut end = SHOWN_PATH_BYTES;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &path[..end], path.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_entry_names() {
        assert_eq!(normalize_entry("./etc/passwd").unwrap(), "etc/passwd");
        assert_eq!(
            normalize_entry("etc//apt/./sources.list").unwrap(),
            "etc/apt/sources.list"
        );
        assert_eq!(normalize_entry("usr/bin/").unwrap(), "usr/bin");
        assert_eq!(normalize_entry("./").unwrap(), "");
        assert_eq!(normalize_entry("/etc/passwd").unwrap(), "etc/passwd");
        assert_eq!(normalize_entry("/").unwrap(), "");
        assert_eq!(normalize_entry("a/../../etc"), Err(PathProblem::DotDot));
        assert_eq!(normalize_entry("a/.."), Err(PathProblem::DotDot));
    }

    #[test]
    fn lexical_targets() {
        assert_eq!(
            lexical_target("usr/bin", "../lib/x").as_deref(),
            Some("usr/lib/x")
        );
        assert_eq!(
            lexical_target("usr/bin", "/etc/x").as_deref(),
            Some("etc/x")
        );
        assert_eq!(lexical_target("usr", "../../etc"), None);
        assert_eq!(lexical_target("", ".."), None);
    }

    #[test]
    fn long_paths_are_shortened_for_messages() {
        assert_eq!(shorten("etc/passwd"), "etc/passwd");
        let long = "d/".repeat(500);
        let shown = shorten(&long);
        assert!(shown.starts_with("d/d/"), "{shown}");
        assert!(shown.ends_with("… (1000 bytes)"), "{shown}");
        assert!(shorten(&"é".repeat(200)).ends_with("(400 bytes)"));
    }
}
