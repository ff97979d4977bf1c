//! A snapshot stream (`application/x-ndjson`, see `palisade_api::stream`) stored while it
//! arrives: three activities run at once — the connection's task takes the body chunk by
//! chunk, a blocking-pool thread splits it into lines and parses them into batches, and the
//! store writes each batch into the push's transaction — so receiving, parsing and writing
//! overlap instead of following one another, and central holds a few batches, never the
//! whole snapshot.
//!
//! Limits: a line is limited like a JSON body ([`BodyLimit`]), the stream by [`StreamLimit`]
//! (both after gzip decoding); over either, 413. A bad line is a 400 naming the line and the
//! field; nothing of a refused stream is stored.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use palisade_api::{IngestAck, SnapshotHeader, SnapshotLine};
use palisade_store::{SnapshotPart, SnapshotParts};
use tokio::sync::{mpsc, oneshot};

use crate::DEFAULT_BODY_LIMIT;
use crate::body::{BodyLimit, drain, next_data, refuse_oversized};
use crate::error::ApiError;
use crate::extract::parse_json_naming_the_field;
use crate::state::AppState;
use crate::store_error::to_api;

/// The most bytes a snapshot stream may carry (after gzip decoding); a request extension set
/// by the router. Without it, [`DEFAULT_STREAM_LIMIT`] applies.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimit(pub u64);

/// The stream limit when the router set none.
pub const DEFAULT_STREAM_LIMIT: u64 = 16 << 30;
/// Records per batch handed to the store.
const BATCH_RECORDS: usize = 16_384;
/// Bytes of lines per batch handed to the store (objects are large).
const BATCH_BYTES: usize = 16 << 20;
/// Body chunks in flight between the connection and the parser.
const CHUNKS_IN_FLIGHT: usize = 16;
/// Batches in flight between the parser and the store.
const BATCHES_IN_FLIGHT: usize = 2;

/// How the body's reading ended.
enum Read {
    /// The body arrived whole.
    Whole,
    /// The parser stopped taking it (a refused line, or the store stopped): the rest was read
    /// and discarded (`true`) or could not be.
    Abandoned(bool),
}

/// Stores the snapshot stream in `request`'s body as `cluster`'s current state.
pub async fn push(
    state: &AppState,
    cluster: &str,
    request: Request,
) -> Result<(IngestAck, SnapshotHeader), ApiError> {
    let line_limit = request
        .extensions()
        .get::<BodyLimit>()
        .map_or(DEFAULT_BODY_LIMIT, |l| l.0);
    let stream_limit = request
        .extensions()
        .get::<StreamLimit>()
        .map_or(DEFAULT_STREAM_LIMIT, |l| l.0);
    let body = request.into_body();
    let (chunks, chunk_receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let (parts, part_receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
    let (header_sender, header_receiver) = oneshot::channel();
    let parser = tokio::task::spawn_blocking(move || {
        let mut parser = Parser::new(parts, line_limit);
        parser.run(chunk_receiver, header_sender)
    });
    // The store's side runs as a task of its own (a future with everything it needs).
    let (store, owned_cluster, now) = (state.store.clone(), cluster.to_string(), state.now());
    let storing = tokio::spawn(async move {
        let header: SnapshotHeader = header_receiver.await.ok()?;
        let parts = SnapshotParts::channel(part_receiver);
        let stored = store
            .push_snapshot_parts(&owned_cluster, &header, parts, now)
            .await;
        Some((stored, header))
    });
    let read = read(body, chunks, stream_limit).await;
    let stored = storing.await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("storing the snapshot stream: {e}"),
        )
    })?;
    let parsed = parser.await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("parsing the snapshot stream: {e}"),
        )
    })?;
    let drained = match read? {
        Read::Whole => true,
        Read::Abandoned(drained) => drained,
    };
    let close = |mut e: ApiError| {
        e.close_connection = !drained;
        e
    };
    if let Err(Some(e)) = parsed {
        return Err(close(e));
    }
    match stored {
        Some((Ok(ack), header)) => Ok((ack, header)),
        Some((Err(e), _)) => Err(close(to_api(e))),
        // The parser ended without a header: its error said why, or the body was empty.
        None => Err(close(ApiError::bad_field(
            "a snapshot stream starts with its header line",
            "line 1",
        ))),
    }
}

/// Takes `body` chunk by chunk into `chunks`; 413 past `limit` bytes. When the parser stops
/// taking chunks, reads the rest and discards it so the client hears the answer.
async fn read(mut body: Body, chunks: mpsc::Sender<Bytes>, limit: u64) -> Result<Read, ApiError> {
    let mut received = 0u64;
    while let Some(data) = next_data(&mut body).await? {
        received += data.len() as u64;
        if received > limit {
            drop(chunks);
            return Err(refuse_oversized(body).await);
        }
        if chunks.send(data).await.is_err() {
            return Ok(Read::Abandoned(drain(body).await));
        }
    }
    Ok(Read::Whole)
}

/// Splits the body into lines, parses them and hands batches to the store.
struct Parser {
    parts: mpsc::Sender<SnapshotPart<'static>>,
    line_limit: usize,
    /// Lines so far (for messages: the first line is 1).
    line: u64,
    batch: Batch,
}

/// Records parsed and not yet handed over, per kind.
#[derive(Default)]
struct Batch {
    findings: Vec<palisade_api::FindingRecord>,
    objects: Vec<palisade_api::RawObject>,
    diagnostics: Vec<palisade_model::Diagnostic>,
    workloads: Vec<palisade_api::WorkloadRecord>,
    images: Vec<palisade_api::ImageRecord>,
    records: usize,
    bytes: usize,
}

/// Why the parser stopped early: a refused line (`Some`), or the store stopped taking
/// batches (`None`: the store's answer says why).
type Stopped = Option<ApiError>;

impl Parser {
    fn new(parts: mpsc::Sender<SnapshotPart<'static>>, line_limit: usize) -> Parser {
        Parser {
            parts,
            line_limit,
            line: 0,
            batch: Batch::default(),
        }
    }

    /// Parses every line of the chunks; the header goes to `header`, the records to the store
    /// in batches, then [`SnapshotPart::End`] once the body ended.
    fn run(
        &mut self,
        mut chunks: mpsc::Receiver<Bytes>,
        header: oneshot::Sender<SnapshotHeader>,
    ) -> Result<(), Stopped> {
        let mut header = Some(header);
        // The start of a line whose end is in a later chunk.
        let mut carry: Vec<u8> = Vec::new();
        while let Some(chunk) = chunks.blocking_recv() {
            let mut rest: &[u8] = &chunk;
            while let Some(end) = memchr(b'\n', rest) {
                if carry.is_empty() {
                    self.line(&rest[..end], &mut header)?;
                } else {
                    carry.extend_from_slice(&rest[..end]);
                    let line = std::mem::take(&mut carry);
                    self.line(&line, &mut header)?;
                }
                rest = &rest[end + 1..];
            }
            if carry.len() + rest.len() > self.line_limit {
                return Err(Some(line_too_long(self.line + 1)));
            }
            carry.extend_from_slice(rest);
        }
        // The body ended (the reader closes the channel once it is whole; a cut body is the
        // reader's error, which wins). A last line without its line break still counts.
        if !carry.is_empty() {
            self.line(&carry, &mut header)?;
        }
        if header.is_some() {
            return Err(Some(ApiError::bad_field(
                "the snapshot stream is empty: it starts with its header line",
                "line 1",
            )));
        }
        self.flush()?;
        self.send(SnapshotPart::End)
    }

    /// One line (without its line break).
    fn line(
        &mut self,
        text: &[u8],
        header: &mut Option<oneshot::Sender<SnapshotHeader>>,
    ) -> Result<(), Stopped> {
        self.line += 1;
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() > self.line_limit {
            return Err(Some(line_too_long(self.line)));
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(()); // a blank line
        }
        let parsed = match serde_json::from_slice::<SnapshotLine>(text) {
            Ok(parsed) => parsed,
            Err(_) => parse_json_naming_the_field::<SnapshotLine>(text)
                .map_err(|e| Some(on_line(self.line, e)))?,
        };
        match (parsed, header.take()) {
            (SnapshotLine::Header(h), Some(sender)) => {
                // The store's side is gone only if the request is over.
                let _ = sender.send(h);
                return Ok(());
            }
            (_, Some(_)) => {
                return Err(Some(ApiError::bad_field(
                    "a snapshot stream starts with its header line ({\"header\": …})",
                    format!("line {}", self.line),
                )));
            }
            (SnapshotLine::Header(_), None) => {
                return Err(Some(ApiError::bad_field(
                    "a snapshot stream has one header line, its first",
                    format!("line {}", self.line),
                )));
            }
            (SnapshotLine::Finding(f), None) => self.batch.findings.push(f),
            (SnapshotLine::Object(o), None) => self.batch.objects.push(o),
            (SnapshotLine::Diagnostic(d), None) => self.batch.diagnostics.push(d),
            (SnapshotLine::Workload(w), None) => self.batch.workloads.push(w),
            (SnapshotLine::Image(i), None) => self.batch.images.push(i),
        }
        self.batch.records += 1;
        self.batch.bytes += text.len();
        if self.batch.records >= BATCH_RECORDS || self.batch.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands every kind's pending records to the store.
    fn flush(&mut self) -> Result<(), Stopped> {
        let batch = std::mem::take(&mut self.batch);
        if !batch.findings.is_empty() {
            self.send(SnapshotPart::Findings(Cow::Owned(batch.findings)))?;
        }
        if !batch.objects.is_empty() {
            self.send(SnapshotPart::Objects(Cow::Owned(batch.objects)))?;
        }
        if !batch.diagnostics.is_empty() {
            self.send(SnapshotPart::Diagnostics(Cow::Owned(batch.diagnostics)))?;
        }
        if !batch.workloads.is_empty() {
            self.send(SnapshotPart::Workloads(Cow::Owned(batch.workloads)))?;
        }
        if !batch.images.is_empty() {
            self.send(SnapshotPart::Images(Cow::Owned(batch.images)))?;
        }
        Ok(())
    }

    fn send(&self, part: SnapshotPart<'static>) -> Result<(), Stopped> {
        self.parts.blocking_send(part).map_err(|_| None)
    }
}

/// The first `needle` in `haystack`.
fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// `e` with its field prefixed by the line it is on.
fn on_line(line: u64, e: ApiError) -> ApiError {
    let field = match e.body.field.as_deref() {
        Some(".") | None => format!("line {line}"),
        Some(path) => format!("line {line}: {}", path.trim_start_matches('.')),
    };
    ApiError::bad_field(e.body.error, field)
}

/// 413 for a line over the limit.
fn line_too_long(line: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("line {line} of the snapshot stream is longer than the body limit"),
    );
    e.body.field = Some(format!("line {line}"));
    e
}
