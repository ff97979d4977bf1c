//! Debian security tracker lists (`DSA-list`, `DLA-list`).
//!
//! ```text
//! [29 Mar 2023] DSA-5380-1 xorg-server - security update
//!     {CVE-2023-1393}
//!     [bullseye] - xorg-server 2:1.20.11-1+deb11u6
//!     NOTE: …
//! ```
//!
//! Each advisory becomes a record with its CVEs as aliases; each `[release] - source version`
//! line becomes an affected source package in ecosystem `Debian:<release number>` with the range
//! `introduced: 0, fixed: <version>`. Lines whose version is `<not-affected>`, `<unfixed>`,
//! `<end-of-life>` and the like carry no fixed version and produce no range.

use crate::ParseError;
use crate::record::{Advisory, AffectedPackage, RangeEvent, RangeKind, SourceKind, VersionRange};
use crate::release::debian_codename_number;

/// Largest list accepted, in bytes.
pub const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;

/// Whether the text looks like a tracker list (its first line is an advisory header).
pub fn looks_like_tracker_list(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let first = head.lines().next().unwrap_or("");
    parse_header(first).is_some()
}

/// `[DD Mon YYYY] ID …` → (ISO date, id).
fn parse_header(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('[')?;
    let (date, rest) = rest.split_once(']')?;
    let mut parts = date.split_whitespace();
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    let month = match month {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    let id = rest.split_whitespace().next()?;
    if !(id.starts_with("DSA-") || id.starts_with("DLA-")) {
        return None;
    }
    Some((format!("{year:04}-{month:02}-{day:02}"), id.to_string()))
}

/// Parses a DSA or DLA list.
pub fn parse_list(bytes: &[u8], origin: &str) -> Result<Vec<Advisory>, ParseError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(ParseError::new(
            origin,
            "tracker list is larger than 64 MiB",
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ParseError::new(origin, format!("not UTF-8: {e}")))?;
    let mut out: Vec<Advisory> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        if raw.starts_with('[') {
            let (date, id) = parse_header(raw).ok_or_else(|| {
                ParseError::new(origin, format!("line {line_no}: malformed advisory header"))
            })?;
            out.push(Advisory {
                id,
                aliases: Vec::new(),
                summary: None,
                modified: Some(date),
                withdrawn: None,
                severity: Vec::new(),
                rating: None,
                affected: Vec::new(),
                source: SourceKind::DebianTracker,
            });
            continue;
        }
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some(current) = out.last_mut() else {
            return Err(ParseError::new(
                origin,
                format!("line {line_no}: entry before the first advisory header"),
            ));
        };
        if let Some(inner) = line.strip_prefix('{') {
            let inner = inner.trim_end_matches('}');
            for cve in inner.split_whitespace() {
                if !current.aliases.iter().any(|a| a == cve) {
                    current.aliases.push(cve.to_string());
                }
            }
        } else if let Some(rest) = line.strip_prefix('[') {
            let (release, rest) = rest.split_once(']').ok_or_else(|| {
                ParseError::new(origin, format!("line {line_no}: malformed release entry"))
            })?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // "- package version [(notes)]"
            if fields.first() != Some(&"-") || fields.len() < 3 {
                return Err(ParseError::new(
                    origin,
                    format!("line {line_no}: expected \"[release] - package version\""),
                ));
            }
            let (package, version) = (fields[1], fields[2]);
            if version.starts_with('<') {
                continue;
            }
            let Some(number) = debian_codename_number(release) else {
                return Err(ParseError::new(
                    origin,
                    format!("line {line_no}: unknown Debian release {release:?}"),
                ));
            };
            current.affected.push(AffectedPackage {
                ecosystem: format!("Debian:{number}"),
                name: package.to_string(),
                ranges: vec![VersionRange {
                    kind: RangeKind::Ecosystem,
                    events: vec![
                        RangeEvent::Introduced("0".into()),
                        RangeEvent::Fixed(version.to_string()),
                    ],
                }],
                versions: Vec::new(),
                severity: Vec::new(),
            });
        }
        // NOTE: lines and anything else are commentary.
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n[01 Jan 2006] DSA-900-1 demo - fix\n\t{CVE-2005-0001 CVE-2005-0002}\n\t[woody] - demo <not-affected> (Vulnerable code not present)\n\t[sarge] - demo 1.0-1sarge1 (bug #1; medium)\n\tNOTE: fixed in testing at time of DSA\n";

    #[test]
    fn parses_advisories_releases_and_skips_not_affected() {
        assert!(looks_like_tracker_list(SAMPLE.as_bytes()));
        let a = parse_list(SAMPLE.as_bytes(), "DSA-list").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].id, "DSA-5380-1");
        assert_eq!(a[0].modified.as_deref(), Some("2023-03-29"));
        assert_eq!(a[0].aliases, ["CVE-2023-1393"]);
        assert_eq!(a[0].affected[0].ecosystem, "Debian:11");
        assert_eq!(a[0].affected[0].name, "xorg-server");
        assert_eq!(a[1].aliases.len(), 2);
        assert_eq!(a[1].affected.len(), 1, "woody is not affected");
        assert_eq!(a[1].affected[0].ecosystem, "Debian:3.1");
        assert_eq!(
            a[1].affected[0].ranges[0].events[1],
            RangeEvent::Fixed("1.0-1sarge1".into())
        );
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = parse_list(b"[xx] DSA-1-1 a\n", "L")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
        let err = parse_list(b"[01 Jan 2006] DSA-1-1 a\n\t[narnia] - a 1.0\n", "L")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("narnia"), "{err}");
    }
}
