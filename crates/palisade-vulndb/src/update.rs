//! `db update`: downloading OSV zips (or single data files) over HTTPS and importing them.
//!
//! Only `https://` URLs are fetched, except plain `http://` to a loopback host (127.0.0.0/8,
//! `::1`, `localhost`) for local mirrors and tests; redirects are held to the same rule.
//! Downloads stream into a temporary file beside the database, bounded by
//! [`UpdateOptions::max_bytes`]. A private mirror's CA is trusted with
//! [`UpdateOptions::ca_cert`] in addition to the system roots.

use std::io::{Seek, Write};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::import::MAX_FILE_BYTES;
use crate::{DbError, ImportReport, VulnDb};

/// Options of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateOptions {
    /// A PEM file of CA certificates to trust besides the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Largest download accepted, in bytes.
    pub max_bytes: u64,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            ca_cert: None,
            max_bytes: 4 * 1024 * 1024 * 1024,
        }
    }
}

/// What an update reports while it runs (the CLI draws a progress bar on a terminal). Every
/// method has an empty default.
pub trait UpdateProgress: Sync {
    /// A download begins; `length` is the server's `Content-Length`, when it sent one.
    fn download_started(&self, _url: &str, _length: Option<u64>) {}
    /// `bytes` more bytes of the current download arrived.
    fn downloaded(&self, _bytes: u64) {}
    /// The current download is complete and is being imported.
    fn importing(&self, _url: &str) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl UpdateProgress for NoProgress {}

/// Where `db update` downloads from when no URL is given: osv.dev's public bucket, one
/// `all.zip` per ecosystem (<https://google.github.io/osv.dev/data/#data-dumps>).
pub const DEFAULT_MIRROR: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The ecosystems `db update` fetches by default (OSV names): the distributions and language
/// ecosystems whose packages Palisade inventories in images and SBOMs.
pub const DEFAULT_ECOSYSTEMS: [&str; 11] = [
    "Alpine",
    "Debian",
    "Ubuntu",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
];

/// The `all.zip` URL of each ecosystem under `mirror` (a base URL laid out as osv.dev's
/// bucket: `MIRROR/ECOSYSTEM/all.zip`).
pub fn ecosystem_urls(mirror: &str, ecosystems: &[&str]) -> Vec<String> {
    let base = mirror.trim_end_matches('/');
    ecosystems
        .iter()
        .map(|e| {
            let segment: String = url::form_urlencoded::byte_serialize(e.as_bytes()).collect();
            format!("{base}/{}/all.zip", segment.replace('+', "%20"))
        })
        .collect()
}

/// Checks that a URL may be fetched: `https`, or `http` to a loopback host.
pub fn check_url_allowed(url: &str) -> Result<Url, DbError> {
    let refused = |reason: &str| DbError::UrlRefused {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = Url::parse(url).map_err(|e| refused(&format!("not a valid URL: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Never echo the credentials back.
        let mut shown = parsed.clone();
        let _ = shown.set_password(None);
        let _ = shown.set_username("REDACTED");
        return Err(DbError::UrlRefused {
            url: shown.to_string(),
            reason: "credentials in a URL would be kept in the database's list of sources and \
                     shown in messages; serve the mirror without them"
                .to_string(),
        });
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if loopback {
                Ok(parsed)
            } else {
                Err(refused(
                    "plain http is only allowed to a loopback host; use https",
                ))
            }
        }
        other => Err(refused(&format!(
            "unsupported scheme {other:?} (use https)"
        ))),
    }
}

fn client(options: &UpdateOptions) -> Result<reqwest::Client, DbError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if check_url_allowed(attempt.url().as_str()).is_err() {
                attempt.error("redirect to a URL that is neither https nor loopback http")
            } else {
                attempt.follow()
            }
        }));
    if let Some(ca) = &options.ca_cert {
        let pem = std::fs::read(ca).map_err(|source| DbError::Io {
            path: ca.clone(),
            source,
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| DbError::Io {
            path: ca.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a PEM certificate bundle: {e}"),
            ),
        })?;
        if certs.is_empty() {
            return Err(DbError::Io {
                path: ca.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "no certificate in the PEM file",
                ),
            });
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| DbError::Download {
        url: String::new(),
        reason: format!("cannot build the HTTP client: {e}"),
    })
}

/// Full error chain of a reqwest error (the TLS cause is nested).
fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

async fn download(
    client: &reqwest::Client,
    url: Url,
    file: &mut std::fs::File,
    max_bytes: u64,
    progress: &dyn UpdateProgress,
) -> Result<u64, DbError> {
    let shown = url.to_string();
    let fail = |reason: String| DbError::Download {
        url: shown.clone(),
        reason,
    };
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| fail(describe(&e)))?;
    if !response.status().is_success() {
        return Err(fail(format!("server answered {}", response.status())));
    }
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(fail(format!("larger than the {max_bytes} byte limit")));
    }
    progress.download_started(&shown, response.content_length());
    let mut total: u64 = 0;
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(describe(&e)))? {
        total += chunk.len() as u64;
        if total > max_bytes {
            return Err(fail(format!("larger than the {max_bytes} byte limit")));
        }
        file.write_all(&chunk)
            .map_err(|e| fail(format!("writing the download: {e}")))?;
        progress.downloaded(chunk.len() as u64);
    }
    file.flush()
        .map_err(|e| fail(format!("writing the download: {e}")))?;
    Ok(total)
}

pub(crate) fn update(
    db: &VulnDb,
    urls: &[String],
    options: &UpdateOptions,
    progress: &dyn UpdateProgress,
) -> Result<ImportReport, DbError> {
    let client = client(options)?;
    let dir = db
        .path()
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut total = ImportReport::default();
    for url in urls {
        let parsed = check_url_allowed(url)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".palisade-download-")
            .tempfile_in(&dir)
            .map_err(|source| DbError::Io {
                path: dir.clone(),
                source,
            })?;
        let size = db.block_on(download(
            &client,
            parsed.clone(),
            tmp.as_file_mut(),
            options.max_bytes,
            progress,
        ))?;
        progress.importing(url);
        let file_name = parsed
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("download")
            .to_string();
        let mut file = tmp.reopen().map_err(|source| DbError::Io {
            path: tmp.path().to_path_buf(),
            source,
        })?;
        let mut magic = [0u8; 4];
        let is_zip = std::io::Read::read(&mut file, &mut magic)
            .map(|n| n == 4 && magic == *b"PK\x03\x04")
            .unwrap_or(false);
        file.rewind().map_err(|source| DbError::Io {
            path: tmp.path().to_path_buf(),
            source,
        })?;
        let report = if is_zip {
            crate::import::import_zip_file(db, url, file)?
        } else {
            if size > MAX_FILE_BYTES {
                return Err(DbError::Download {
                    url: url.clone(),
                    reason: format!(
                        "not a zip archive and larger than the {MAX_FILE_BYTES} byte limit for single files"
                    ),
                });
            }
            let bytes = std::fs::read(tmp.path()).map_err(|source| DbError::Io {
                path: tmp.path().to_path_buf(),
                source,
            })?;
            crate::import::import_bytes(db, url, &file_name, &bytes)?
        };
        total.add(report);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules() {
        assert!(
            check_url_allowed("https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip")
                .is_ok()
        );
        assert!(check_url_allowed("http://127.0.0.1:8080/all.zip").is_ok());
        assert!(check_url_allowed("http://127.1.2.3/all.zip").is_ok());
        assert!(check_url_allowed("http://[::1]:8080/all.zip").is_ok());
        assert!(check_url_allowed("http://localhost/all.zip").is_ok());
        for bad in [
            "http://example.com/all.zip",
            "http://10.0.0.1/x.zip",
            "ftp://127.0.0.1/x.zip",
            "file:///etc/passwd",
            "not a url",
        ] {
            let err = check_url_allowed(bad).unwrap_err().to_string();
            assert!(err.contains("refusing"), "{bad}: {err}");
        }
        // Credentials are refused and never repeated in the message.
        for with_secret in [
            "https://bob:s3cr3t-pw@mirror.example/all.zip",
            "https://s3cr3t-token@mirror.example/all.zip",
        ] {
            let err = check_url_allowed(with_secret).unwrap_err().to_string();
            assert!(err.contains("credentials"), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }
}
