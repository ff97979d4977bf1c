//! Licence strings as SBOMs need them: SPDX identifiers and expressions where the declared
//! text is one, otherwise a name (CycloneDX) or a `LicenseRef-` (SPDX).

/// SPDX licence identifiers commonly declared by packages. Strings made only of these (and
/// `AND`/`OR`/`WITH`/parentheses) are treated as SPDX expressions.
const KNOWN_IDS: &[&str] = &[
    "0BSD",
    "AFL-2.1",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-1.0",
    "Artistic-2.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSL-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "EPL-1.0",
    "EPL-2.0",
    "GPL-1.0-or-later",
    "GPL-2.0",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "OpenSSL",
    "PSF-2.0",
    "Python-2.0",
    "Ruby",
    "Unicode-DFS-2016",
    "Unicode-3.0",
    "Unlicense",
    "Vim",
    "WTFPL",
    "X11",
    "Zlib",
    "curl",
    "BlueOak-1.0.0",
    "OFL-1.1",
    "PostgreSQL",
    "bzip2-1.0.6",
    "Classpath-exception-2.0",
    "LLVM-exception",
    "GCC-exception-3.1",
    "Autoconf-exception-3.0",
];

/// Whether `s` is one known SPDX identifier.
pub fn is_known_id(s: &str) -> bool {
    KNOWN_IDS.contains(&s)
}

/// Whether `s` is an SPDX expression over known identifiers.
pub fn is_expression(s: &str) -> bool {
    let spaced = s.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    !tokens.is_empty()
        && tokens.iter().all(|t| {
            matches!(*t, "AND" | "OR" | "WITH" | "(" | ")") || is_known_id(t.trim_end_matches('+'))
        })
        && tokens.iter().any(|t| is_known_id(t.trim_end_matches('+')))
}

/// A `LicenseRef-` identifier for a free-text licence (idstring: letters, digits, `.`, `-`).
pub fn license_ref(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{}", cleaned.trim_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert!(is_expression("MIT"));
        assert!(is_expression("(MIT OR Apache-2.0) AND BSD-3-Clause"));
        assert!(is_expression(
            "GPL-2.0-or-later WITH Classpath-exception-2.0"
        ));
        assert!(!is_expression("BSD License"));
        assert!(!is_expression("AND"));
        assert_eq!(license_ref("BSD License"), "LicenseRef-BSD-License");
    }
}
