//! Reading a review body: bounded in size and time.
//!
//! Over HTTP/2 an over-limit body is read on and discarded (up to [`drain_budget`] bytes,
//! within the same deadline) before the 413 is sent, so the stream ends as a normal exchange.
//! A server that answers early must reset the client's upload with `RST_STREAM(NO_ERROR)`,
//! which some clients (curl 7.x, some proxies) take for a stream error and report instead of the
//! 413. Over HTTP/1 hyper closes the connection after an early answer, which clients handle.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;
use tokio::time::{Instant, timeout_at};

/// Why a body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over the limit; the announced length when there was one.
    TooLarge(Option<u64>),
    /// Not received before the deadline.
    Timeout,
    /// The transport failed.
    Read(String),
}

/// How much of an over-limit body is read and discarded at most: four times the limit, and at
/// least 16 MiB.
pub(crate) fn drain_budget(limit: usize) -> u64 {
    (limit as u64).saturating_mul(4).max(16 * 1024 * 1024)
}

/// Reads `body` whole if it has at most `limit` bytes and arrives before `deadline`. With
/// `drain`, an over-limit body is discarded up to [`drain_budget`] before returning.
pub(crate) async fn read<B>(
    mut body: B,
    announced: Option<u64>,
    limit: usize,
    deadline: Instant,
    drain: bool,
) -> Result<Bytes, BodyError>
where
    B: Body + Unpin,
    B::Error: std::fmt::Display,
{
    if let Some(n) = announced
        && n > limit as u64
    {
        if drain && n <= drain_budget(limit) {
            discard(&mut body, drain_budget(limit), deadline).await;
        }
        return Err(BodyError::TooLarge(Some(n)));
    }
    let mut buf = BytesMut::with_capacity(announced.map_or(0, |n| n as usize));
    loop {
        let frame = match timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::Timeout),
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(e))) => return Err(BodyError::Read(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len() + data.remaining() > limit {
            if drain {
                let seen = (buf.len() + data.remaining()) as u64;
                discard(
                    &mut body,
                    drain_budget(limit).saturating_sub(seen),
                    deadline,
                )
                .await;
            }
            return Err(BodyError::TooLarge(None));
        }
        buf.put(data);
    }
}

/// Reads and drops up to `budget` bytes of `body` until it ends, fails or `deadline` passes.
async fn discard<B: Body + Unpin>(body: &mut B, mut budget: u64, deadline: Instant) {
    while let Ok(Some(Ok(frame))) = timeout_at(deadline, body.frame()).await {
        if let Ok(data) = frame.into_data() {
            let n = data.remaining() as u64;
            if n > budget {
                return;
            }
            budget -= n;
        }
    }
}
