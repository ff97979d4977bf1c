//! Reading a JSON request body while it arrives: a large body (a 10,000-workload snapshot is
//! about 100 MB) is gathered on the blocking pool from a bounded channel the connection's task
//! fills chunk by chunk, then parsed there from one slice. The body limit ([`BodyLimit`],
//! counted after gzip decoding) answers 413.
//!
//! A body over the limit is read on and discarded (up to [`DRAIN_LIMIT`] more bytes within
//! [`DRAIN_TIME`]) before the 413 goes out: an HTTP/1.1 client still uploading would otherwise
//! meet a reset connection (a broken pipe, or the 413 lost from its receive buffer) instead of
//! the answer, and one that reused the connection would find it closed. A body too large to
//! drain is cut off and the answer says `Connection: close`.
//!
//! Handlers check the caller's role and cluster before they call [`read_json`], so a refused
//! push costs the server its headers only, never its body.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use std::time::Duration;

use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::extract::parse_json;

/// The most bytes a request body may carry (after gzip decoding); a request extension set by
/// the router. Without it, [`crate::DEFAULT_BODY_LIMIT`] applies.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How much of an over-limit body is read on and discarded so the client hears the 413.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
/// How long the discarding may take.
const DRAIN_TIME: Duration = Duration::from_secs(10);

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
    let limit = request
        .extensions()
        .get::<BodyLimit>()
        .map_or(crate::DEFAULT_BODY_LIMIT, |l| l.0);
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = request.into_body();
    let mut received = 0usize;
    if declared.is_some_and(|n| n < PARSE_INLINE_LIMIT) {
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
        while let Some(data) = next_data(&mut body).await? {
            received += data.len();
            if received > limit {
                return Err(refuse_oversized(body).await);
            }
            bytes.extend_from_slice(&data);
        }
        return parse_json(&bytes);
    }
    let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
    let parser = tokio::task::spawn_blocking(move || parse_streamed::<T>(receiver, declared));
    let mut failure = None;
    let mut complete = true;
    loop {
        match next_data(&mut body).await {
            Ok(Some(data)) => {
                received += data.len();
                if received > limit {
                    failure = Some(refuse_oversized(body).await);
                    break;
                }
                if sender.send(Piece::Chunk(data)).await.is_err() {
                    complete = false; // the parser stopped at an error: the rest is not needed
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                failure = Some(e);
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

/// The body's next data chunk (trailers skipped), `None` at its end.
pub(crate) async fn next_data(body: &mut Body) -> Result<Option<Bytes>, ApiError> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("reading the request body: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// The 413 for a body over the limit, after reading on and discarding what is left of it
/// (within [`DRAIN_LIMIT`] and [`DRAIN_TIME`]); a body not read to its end closes the connection.
pub(crate) async fn refuse_oversized(body: Body) -> ApiError {
    let drained = drain(body).await;
    let mut error = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body is larger than the limit",
    );
    error.close_connection = !drained;
    error
}

/// Reads the rest of `body` and discards it, within [`DRAIN_LIMIT`] and [`DRAIN_TIME`]:
/// whether it was read to its end (else the answer must close the connection).
pub(crate) async fn drain(mut body: Body) -> bool {
    let drain = async {
        let mut discarded = 0usize;
        while let Ok(Some(data)) = next_data(&mut body).await {
            discarded += data.len();
            if discarded > DRAIN_LIMIT {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, drain)
        .await
        .unwrap_or(false)
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
    let started = std::time::Instant::now();
    let parsed = parse_json(&body);
    tracing::debug!(
        bytes = body.len(),
        parse_ms = started.elapsed().as_millis() as u64,
        "request body parsed"
    );
    parsed
}

/// Middleware: a request body that a handler (or an extractor refusing the request: 401, 403,
/// 404) left unread is read on and discarded after the answer, within [`DRAIN_LIMIT`] and
/// [`DRAIN_TIME`], instead of being dropped. Dropping it would make the server close the
/// connection under an HTTP/1.1 client still uploading, which then sees a broken pipe instead
/// of the answer. The answer itself is not delayed.
pub async fn drain_unread(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let request = request.map(|body| Body::new(DrainOnDrop { inner: Some(body) }));
    next.run(request).await
}

/// A body that, dropped before its end, hands what is left to a task that reads it out.
struct DrainOnDrop {
    inner: Option<Body>,
}

impl http_body::Body for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        match self.inner.as_mut() {
            Some(body) => std::pin::Pin::new(body).poll_frame(cx),
            None => std::task::Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.as_ref().map_or_else(
            || http_body::SizeHint::with_exact(0),
            http_body::Body::size_hint,
        )
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if http_body::Body::is_end_stream(&body) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                drain(body).await;
            });
        }
    }
}
