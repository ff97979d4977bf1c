//! The `image scan` report in each of its formats (`write`… `render`), and the package table
//! `sbom scan` shares.

use std::fmt::Write;

use palisade_image::ImageScan;
use palisade_model::Package;
use palisade_sbom::SbomInput;

/// Output format of `image scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable summary and package table.
    #[value(alias = "text", alias = "txt")]
    Table,
    /// The full scan as JSON (packages, facts, layers, diagnostics, vulnerabilities).
    Json,
    /// Vulnerabilities as SARIF 2.1.0 (one rule per vulnerability id).
    #[cfg(feature = "vuln")]
    Sarif,
    /// CycloneDX 1.6 JSON SBOM.
    Cyclonedx,
    /// SPDX 2.3 JSON SBOM.
    Spdx,
}

impl Format {
    /// Whether the format is text for people (escaped for the terminal).
    pub fn for_people(self) -> bool {
        self == Format::Table
    }
}

/// Everything `image scan` reports about one image.
pub struct ImageReport<'a> {
    /// The scan.
    pub scan: &'a ImageScan,
    /// Its vulnerabilities (none under `--no-vulns`, and for the SBOM formats).
    #[cfg(feature = "vuln")]
    pub vulns: Option<&'a palisade_vuln::VulnReport>,
    /// When the SBOM formats say they were created (RFC 3339).
    pub created: &'a str,
}

/// The report in `format`, ending with a newline.
pub fn render(r: &ImageReport<'_>, format: Format) -> anyhow::Result<String> {
    let scan = r.scan;
    Ok(match format {
        #[cfg(not(feature = "vuln"))]
        Format::Table => table(scan),
        #[cfg(feature = "vuln")]
        Format::Table => {
            let mut t = table(scan);
            if let Some(v) = r.vulns {
                t.push('\n');
                t.push_str(&crate::render::vuln::table(v));
            }
            t
        }
        #[cfg(not(feature = "vuln"))]
        Format::Json => serde_json::to_string_pretty(scan)? + "\n",
        #[cfg(feature = "vuln")]
        Format::Json => {
            let mut doc = serde_json::to_value(scan)?;
            if let (Some(v), Some(obj)) = (r.vulns, doc.as_object_mut()) {
                let (summary, list) = crate::render::vuln::json_members(v)?;
                obj.insert("vulnerability_scan".into(), summary);
                obj.insert("vulnerabilities".into(), list);
            }
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        #[cfg(feature = "vuln")]
        Format::Sarif => {
            let mut out = Vec::new();
            crate::render::vuln::write_sarif(r.vulns, &scan.source, None, &mut out)?;
            String::from_utf8(out)?
        }
        Format::Cyclonedx | Format::Spdx => {
            let os = scan.os.as_ref().map(|o| {
                (
                    o.id.clone(),
                    o.version_id
                        .clone()
                        .or(o.codename.clone())
                        .unwrap_or_default(),
                )
            });
            let input = SbomInput {
                subject: &scan.source,
                subject_version: scan.manifest_digest.as_deref(),
                os: os.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                packages: &scan.packages,
                created: r.created,
                tool_name: "palisade",
                tool_version: env!("CARGO_PKG_VERSION"),
            };
            let doc = if format == Format::Cyclonedx {
                palisade_sbom::cyclonedx::write(&input)
            } else {
                palisade_sbom::spdx::write(&input)
            };
            serde_json::to_string_pretty(&doc)? + "\n"
        }
    })
}

/// A package table with aligned columns.
pub fn package_table(packages: &[Package]) -> String {
    let rows: Vec<[String; 5]> = packages
        .iter()
        .map(|p| {
            [
                p.ecosystem.to_string(),
                p.name.clone(),
                p.version.clone(),
                p.source_name
                    .clone()
                    .filter(|s| s != &p.name)
                    .unwrap_or_default(),
                p.path.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["ECOSYSTEM", "NAME", "VERSION", "SOURCE", "PATH"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: [&str; 5]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 4 {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, header);
    for r in &rows {
        line(&mut out, [&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    let _ = writeln!(out, "{} packages", rows.len());
    out
}

/// The human-readable report of one image.
pub fn table(scan: &ImageScan) -> String {
    let mut out = String::new();
    let f = &scan.facts;
    let _ = writeln!(out, "Image:     {}", scan.source);
    if let Some(d) = &scan.manifest_digest {
        let _ = writeln!(out, "Digest:    {d}");
    }
    if let Some(p) = &scan.platform {
        let _ = writeln!(out, "Platform:  {p}");
    }
    let os = scan
        .os
        .as_ref()
        .map_or("unknown".to_string(), |o| o.pretty_name.clone());
    let _ = writeln!(out, "OS:        {os}");
    let _ = writeln!(
        out,
        "User:      {}{}",
        f.user.as_deref().unwrap_or("(unset)"),
        if f.runs_as_root {
            "  [runs as root]"
        } else {
            ""
        }
    );
    if let Some(c) = &f.created {
        let _ = writeln!(out, "Created:   {c}");
    }
    if !f.exposed_ports.is_empty() {
        let _ = writeln!(out, "Ports:     {}", f.exposed_ports.join(", "));
    }
    if !f.entrypoint.is_empty() || !f.cmd.is_empty() {
        let _ = writeln!(
            out,
            "Command:   {}",
            f.entrypoint
                .iter()
                .chain(&f.cmd)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let _ = writeln!(
        out,
        "Layers:    {}   Files: {}",
        scan.layers.len(),
        scan.file_count
    );
    for e in f.env.iter().filter(|e| e.secret.is_some()) {
        let _ = writeln!(
            out,
            "Secret env: {} ({})",
            e.name,
            e.secret.as_deref().unwrap_or("")
        );
    }
    for s in &f.secret_files {
        let _ = writeln!(
            out,
            "Secret file: {} ({}) in layer {}",
            s.path,
            s.kind,
            s.layer.as_deref().unwrap_or("?")
        );
    }
    for h in f
        .history
        .iter()
        .filter(|h| h.remote_add || h.download_piped_to_shell)
    {
        let what = if h.remote_add {
            "ADD from a URL"
        } else {
            "download piped to a shell"
        };
        let _ = writeln!(out, "Build step ({what}): {}", h.created_by);
    }
    if !f.tools.is_empty() {
        let _ = writeln!(
            out,
            "Tools:     {}",
            f.tools
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for d in &scan.diagnostics {
        let _ = writeln!(out, "Note: {}: {}", d.path, d.message);
    }
    out.push('\n');
    out.push_str(&package_table(&scan.packages));
    out
}
