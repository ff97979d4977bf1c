//! The `sbom scan` report in each of its formats.

use palisade_model::Package;
use serde::Serialize;

/// Output format of `sbom scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Package table (and vulnerability table).
    #[value(alias = "text", alias = "txt")]
    Table,
    /// `{"source", "packages", "vulnerability_scan", "vulnerabilities"}` (packages are
    /// palisade-model `Package` objects).
    Json,
    /// Vulnerabilities as SARIF 2.1.0, located at the SBOM file and the package's purl.
    #[cfg(feature = "vuln")]
    Sarif,
}

impl Format {
    /// Whether the format is text for people (escaped for the terminal).
    pub fn for_people(self) -> bool {
        self == Format::Table
    }
}

/// Everything `sbom scan` reports about one SBOM.
pub struct SbomReport<'a> {
    /// The SBOM file as given.
    pub source: &'a str,
    /// Its packages.
    pub packages: &'a [Package],
    /// Their vulnerabilities (none under `--no-vulns`).
    #[cfg(feature = "vuln")]
    pub vulns: Option<&'a palisade_vuln::VulnReport>,
}

/// The JSON document of `sbom scan`.
#[derive(Serialize)]
struct SbomJson<'a> {
    /// The SBOM file as given.
    source: &'a str,
    /// Its packages.
    packages: &'a [Package],
    #[cfg(feature = "vuln")]
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerability_scan: Option<serde_json::Value>,
    #[cfg(feature = "vuln")]
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerabilities: Option<serde_json::Value>,
}

/// The report in `format`, ending with a newline.
pub fn render(r: &SbomReport<'_>, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => {
            #[allow(unused_mut)]
            let mut doc = SbomJson {
                source: r.source,
                packages: r.packages,
                #[cfg(feature = "vuln")]
                vulnerability_scan: None,
                #[cfg(feature = "vuln")]
                vulnerabilities: None,
            };
            #[cfg(feature = "vuln")]
            if let Some(v) = r.vulns {
                let (summary, list) = crate::render::vuln::json_members(v)?;
                doc.vulnerability_scan = Some(summary);
                doc.vulnerabilities = Some(list);
            }
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Table => {
            #[allow(unused_mut)]
            let mut t = crate::render::image::package_table(r.packages);
            #[cfg(feature = "vuln")]
            if let Some(v) = r.vulns {
                t.push('\n');
                t.push_str(&crate::render::vuln::table(v));
            }
            t
        }
        #[cfg(feature = "vuln")]
        Format::Sarif => {
            let mut out = Vec::new();
            crate::render::vuln::write_sarif(r.vulns, r.source, Some(r.source), &mut out)?;
            String::from_utf8(out)?
        }
    })
}
