//! Reading a JSON request body while it arrives: a large body (a 10,000-workload snapshot is
//! about 100 MB) is parsed on the blocking pool from a bounded channel the connection's task
//! fills chunk by chunk, so parsing overlaps the upload instead of starting after it. The body
//! limit (`DefaultBodyLimit`, applied after gzip decoding) still answers 413.
//!
//! Handlers check the caller's role and cluster before they call [`read_json`], so a refused
//! push costs the server its headers only, never its body.

use std::io::Read;

use axum::RequestExt;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, LengthLimitError};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::extract::{parse_json, parse_json_naming_the_field};

/// Bodies declared smaller than this are read whole and parsed on the I/O thread.
const PARSE_INLINE_LIMIT: usize = 256 * 1024;
/// Chunks in flight between the connection and the parser (hyper's chunks are up to a few
/// hundred kilobytes, so a few megabytes at most).
const CHANNEL_CHUNKS: usize = 16;
/// The parser's read buffer.
const READ_BUFFER: usize = 256 * 1024;

/// What the connection hands the parser: the body's chunks, then `End` once all of it arrived.
/// A channel that closes without `End` means the body did not arrive whole.
enum Piece {
    Chunk(Bytes),
    End,
}

/// Reads `request`'s body (within the route's body limit) as JSON `T`. A bad body is a 400
/// naming the field, a body over the limit a 413.
pub async fn read_json<T: DeserializeOwned + Send + 'static>(
    request: Request,
) -> Result<T, ApiError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = request.with_limited_body().into_body();
    if declared.is_some_and(|n| n < PARSE_INLINE_LIMIT) {
        let bytes = body.collect().await.map_err(body_error)?.to_bytes();
        return parse_json(&bytes);
    }
    let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
    let parser = tokio::task::spawn_blocking(move || parse_streamed::<T>(receiver));
    let mut failure = None;
    let mut complete = true;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                if sender.send(Piece::Chunk(data)).await.is_err() {
                    complete = false; // the parser stopped at an error: the rest is not needed
                    break;
                }
            }
            Err(e) => {
                failure = Some(body_error(e));
                break;
            }
        }
    }
    if failure.is_none() && complete {
        // The parser may already be gone (an error in the last chunk): its answer says so.
        let _ = sender.send(Piece::End).await;
    }
    drop(sender);
    let parsed = parser.await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("parsing the request body: {e}"),
        )
    })?;
    match failure {
        Some(e) => Err(e),
        None => parsed,
    }
}

/// The request body could not be read: 413 over the limit, else the connection's error.
fn body_error(e: axum::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(error) = source {
        if error.is::<LengthLimitError>() {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is larger than the limit",
            );
        }
        source = error.source();
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("reading the request body: {e}"),
    )
}

/// The blocking side: parses the chunks as they come. The chunks are kept (shared, not
/// copied) so that a refused body is parsed again, tracking the path of the field that is
/// wrong (as [`parse_json`] does).
fn parse_streamed<T: DeserializeOwned>(receiver: mpsc::Receiver<Piece>) -> Result<T, ApiError> {
    let mut reader = std::io::BufReader::with_capacity(READ_BUFFER, Chunks::new(receiver));
    let parsed = serde_json::from_reader::<_, T>(&mut reader);
    let chunks = reader.into_inner();
    match parsed {
        // The body broke off; the caller answers with the connection's error.
        _ if chunks.broken => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the request body ended early",
        )),
        Ok(value) => Ok(value),
        Err(_) => {
            let bytes: Vec<u8> = chunks.kept.concat();
            parse_json_naming_the_field(&bytes)
        }
    }
}

/// [`Read`] over the channel's chunks, keeping each chunk it hands out.
struct Chunks {
    receiver: mpsc::Receiver<Piece>,
    kept: Vec<Bytes>,
    current: Bytes,
    ended: bool,
    broken: bool,
}

impl Chunks {
    fn new(receiver: mpsc::Receiver<Piece>) -> Chunks {
        Chunks {
            receiver,
            kept: Vec::new(),
            current: Bytes::new(),
            ended: false,
            broken: false,
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.ended || self.broken {
                return Ok(0);
            }
            match self.receiver.blocking_recv() {
                Some(Piece::Chunk(chunk)) => {
                    self.kept.push(chunk.clone());
                    self.current = chunk;
                }
                Some(Piece::End) => self.ended = true,
                None => {
                    self.broken = true;
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the request body ended early",
                    ));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
