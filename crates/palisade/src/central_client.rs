//! The HTTPS client of central's API (`palisade scan --push`, `palisade central query`,
//! `--runtime-policy URL`, `netpol generate --flows-from URL`):
//! reqwest with rustls, trusting either the system roots or only `--ca-cert`, a bearer token
//! from `--token-file` or `PALISADE_TOKEN`. Errors quote central's `ErrorBody` (sentence and
//! field), never the token.

use std::io::Write;
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
    // A token is one word of visible ASCII (`pal_…`); anything else (a file holding
    // `token create`'s whole output, say) would only fail later as an unreadable header.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        bail!(
            "the token holds spaces, line breaks or non-ASCII characters: give only the token (pal_…), as `palisade central token create` prints it on its last line"
        );
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

    /// `POST path` with a JSON body, as `T`. The body is serialized on another thread while it
    /// is sent (chunked), so a snapshot of hundreds of megabytes is never held as one buffer
    /// and its encoding overlaps the upload.
    pub fn post<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.post_encoded(path, "application/json", |out| {
            serde_json::to_writer(out, body).map_err(std::io::Error::from)
        })
    }

    /// `POST path` with `snapshot` as a snapshot stream (`application/x-ndjson`), which central
    /// stores while it arrives (`palisade_api::stream`).
    pub fn post_snapshot<T: DeserializeOwned>(
        &self,
        path: &str,
        snapshot: &palisade_api::Snapshot,
    ) -> anyhow::Result<T> {
        self.post_encoded(path, palisade_api::stream::CONTENT_TYPE, |out| {
            palisade_api::stream::write_snapshot(out, snapshot)
        })
    }

    /// `POST path` with the snapshot stream `write` writes (`application/x-ndjson`), written on
    /// another thread while it is sent: a sender that makes its records as they are written
    /// never holds them all.
    pub fn post_snapshot_with<T: DeserializeOwned>(
        &self,
        path: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + Send,
    ) -> anyhow::Result<T> {
        self.post_encoded(path, palisade_api::stream::CONTENT_TYPE, |out| write(out))
    }

    /// `POST path` with the body `encode` writes (of `content_type`), encoded on another thread
    /// while it is sent.
    fn post_encoded<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        encode: impl FnOnce(&mut std::io::BufWriter<ChunkSender>) -> std::io::Result<()> + Send,
    ) -> anyhow::Result<T> {
        let (chunks, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(STREAM_CHUNKS);
        std::thread::scope(|scope| {
            let encoder = scope.spawn(move || -> std::io::Result<()> {
                let mut out = std::io::BufWriter::with_capacity(STREAM_CHUNK, ChunkSender(chunks));
                encode(&mut out)?;
                out.flush()
            });
            let request = self
                .http
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(reqwest::blocking::Body::new(ChunkReader::new(receiver)));
            let answer = self.send(request, path);
            let encoded = encoder.join().expect("the request encoder does not panic");
            match (answer, encoded) {
                (Ok(answer), Ok(())) => Ok(answer),
                (Ok(_), Err(e)) => Err(e).context("encoding the request"),
                // The upload stopped (central answered early or the connection broke): the
                // encoder's error is only the closed channel.
                (Err(e), _) => Err(upload_cut_hint(e)),
            }
        })
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

/// `e` with a hint when the connection closed while the body was still being sent: the
/// HTTP client then reports only the broken upload, not central's answer, which for a body over
/// central's limit is 413.
fn upload_cut_hint(e: anyhow::Error) -> anyhow::Error {
    if e.downcast_ref::<reqwest::Error>()
        .is_some_and(reqwest::Error::is_body)
    {
        e.context(
            "central closed the connection before the whole body was sent (a body over central's limit is refused with 413: `central serve --max-stream-mib` for a snapshot, 16 GiB by default, `--max-body-mib` for other bodies and for each line of a snapshot, 256 MiB; central's log names the status)",
        )
    } else {
        e
    }
}

/// Chunks of an encoded request body in flight between the encoder and the upload.
const STREAM_CHUNKS: usize = 8;
/// Bytes per chunk (under glibc's mmap threshold, so chunks reuse heap memory).
const STREAM_CHUNK: usize = 64 * 1024;

/// The encoder's end: each buffered write becomes a chunk; fails once the upload has stopped.
struct ChunkSender(std::sync::mpsc::SyncSender<Vec<u8>>);

impl std::io::Write for ChunkSender {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(bytes.to_vec())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload stopped"))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The upload's end: reads the chunks in order; the end of the body once the encoder is done.
struct ChunkReader {
    chunks: std::sync::mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    offset: usize,
}

impl ChunkReader {
    fn new(chunks: std::sync::mpsc::Receiver<Vec<u8>>) -> ChunkReader {
        ChunkReader {
            chunks,
            current: Vec::new(),
            offset: 0,
        }
    }
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.offset == self.current.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.current = chunk;
                    self.offset = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.offset);
        buf[..n].copy_from_slice(&self.current[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::token;

    #[test]
    fn a_token_file_holds_one_word_of_visible_ascii() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("token");
        std::fs::write(&file, "pal_abc_123\n").expect("write");
        assert_eq!(token(Some(&file)).expect("token"), "pal_abc_123");
        // `token create`'s whole output: a sentence, then the token.
        std::fs::write(
            &file,
            "created sensor token ab12 (x); its secret is shown only now:\npal_ab12_c0ffee\n",
        )
        .expect("write");
        let err = token(Some(&file)).expect_err("two lines").to_string();
        assert!(err.contains("give only the token"), "{err}");
        assert!(!err.contains("c0ffee"), "the secret is not echoed: {err}");
        std::fs::write(&file, " \n").expect("write");
        assert!(token(Some(&file)).is_err());
    }
}
