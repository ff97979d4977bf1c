//! Reading a JSON request body while it arrives: a large body (a 10,000-workload snapshot is
//! about 100 MB) is gathered on the blocking pool from a bounded channel the connection's task
//! fills chunk by chunk, then parsed there from one slice. The body
//! limit (`DefaultBodyLimit`, applied after gzip decoding) still answers 413.
//!
//! Handlers check the caller's role and cluster before they call [`read_json`], so a refused
//! push costs the server its headers only, never its body.

use axum::RequestExt;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, LengthLimitError};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::extract::parse_json;

/// Bodies declared smaller than this are read whole and parsed on the I/O thread.
const PARSE_INLINE_LIMIT: usize = 256 * 1024;
/// Chunks in flight between the connection and the parser (hyper's chunks are up to a few
/// hundred kilobytes, so a few megabytes at most).
const CHANNEL_CHUNKS: usize = 16;
/// The most a body's declared length reserves up front (the body limit still applies to what
/// arrives).
const PREALLOCATE_LIMIT: usize = 256 * 1024 * 1024;

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
    let parser = tokio::task::spawn_blocking(move || parse_streamed::<T>(receiver, declared));
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

/// The blocking side: gathers the chunks as they come into one buffer (sized from the declared
/// length, at most [`PREALLOCATE_LIMIT`]) and parses it once the body is whole. Parsing from a
/// slice rather than from a reader: serde_json reads an `io::Read` byte by byte, which was a
/// sixth of central's CPU for a 10,000-workload snapshot (perf); from a slice it runs several
/// times faster, and gathering the chunks still overlaps the upload.
fn parse_streamed<T: DeserializeOwned>(
    mut receiver: mpsc::Receiver<Piece>,
    declared: Option<usize>,
) -> Result<T, ApiError> {
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(PREALLOCATE_LIMIT));
    loop {
        match receiver.blocking_recv() {
            Some(Piece::Chunk(chunk)) => body.extend_from_slice(&chunk),
            Some(Piece::End) => break,
            // The body broke off; the caller answers with the connection's error.
            None => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "the request body ended early",
                ));
            }
        }
    }
    parse_json(&body)
}
