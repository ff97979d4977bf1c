//! The HTTPS client of central's API (`palisade scan --push`, `palisade central query`,
//! `--runtime-policy URL`, `netpol generate --flows-from URL`):
//! reqwest with rustls, trusting either the system roots or only `--ca-cert`, a bearer token
//! from `--token-file` or `PALISADE_TOKEN`. Errors quote central's `ErrorBody` (sentence and
//! field), never the token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use palisade_api::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where central is and how to authenticate (flattened into each command that talks to it).
#[derive(clap::Args, Debug, Clone)]
pub struct ConnectArgs {
    /// File holding the bearer token (default: $PALISADE_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// CA certificate (PEM) to trust for central's certificate instead of the system roots
    /// (central's generated `DATA/tls/ca.pem`).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// `/api/v1/clusters/{cluster}/{what}`, the cluster's name percent-encoded.
pub fn cluster_path(cluster: &str, what: &str) -> String {
    format!(
        "/api/v1/clusters/{}/{what}",
        percent_encoding::utf8_percent_encode(cluster, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// A connection to central.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
}

/// The token from `--token-file`, else `PALISADE_TOKEN`.
fn token(file: Option<&Path>) -> anyhow::Result<String> {
    let token = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the token file {}", path.display()))?,
        None => std::env::var("PALISADE_TOKEN").map_err(|_| {
            anyhow::anyhow!("no token: give --token-file FILE or set PALISADE_TOKEN")
        })?,
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        bail!("the token is empty");
    }
    Ok(token)
}

impl Client {
    /// A client of central at `url` (`https://host:port`).
    pub fn new(url: &str, args: &ConnectArgs) -> anyhow::Result<Client> {
        let base = url.trim_end_matches('/').to_string();
        if !base.starts_with("https://") {
            bail!("central's URL must start with https:// (got {base:?})");
        }
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(600))
            .connect_timeout(Duration::from_secs(10));
        if let Some(path) = &args.ca_cert {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading the CA certificate {}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("CA certificate {}", path.display()))?;
            builder = builder.tls_certs_only(certs);
        }
        Ok(Client {
            http: builder.build().context("building the HTTPS client")?,
            base,
            token: token(args.token_file.as_deref())?,
        })
    }

    /// `GET URL` (a whole `https://host:port/path?query`) as `T`.
    pub fn get_url<T: DeserializeOwned>(url: &str, args: &ConnectArgs) -> anyhow::Result<T> {
        let rest_at = url
            .strip_prefix("https://")
            .and_then(|r| r.find('/'))
            .map_or(url.len(), |i| i + "https://".len());
        let (base, path) = url.split_at(rest_at);
        let path = if path.is_empty() { "/" } else { path };
        Client::new(base, args)?.get(path, &[])
    }

    /// `GET path?query` as `T`.
    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let request = self.http.get(format!("{}{path}", self.base)).query(query);
        self.send(request, path)
    }

    /// `POST path` with a JSON body, as `T`.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let body = serde_json::to_vec(body).context("encoding the request")?;
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.send(request, path)
    }

    fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::blocking::RequestBuilder,
        path: &str,
    ) -> anyhow::Result<T> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .with_context(|| format!("reaching central at {}", self.base))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .with_context(|| format!("reading central's answer to {path}"))?;
        if !status.is_success() {
            let detail = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(ErrorBody {
                    error,
                    field: Some(field),
                }) => format!("{error} (field {field})"),
                Ok(ErrorBody { error, field: None }) => error,
                Err(_) => String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            };
            bail!("central answered {status} to {path}: {detail}");
        }
        serde_json::from_slice(&bytes).with_context(|| format!("central's answer to {path}"))
    }
}
