//! Bridges an async blob stream to a blocking [`Read`]: a task on the client's runtime pulls
//! chunks into a bounded channel; the reader takes them on the unpacking thread. Memory use is
//! bounded by the channel depth.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use oci_client::manifest::OciDescriptor;
use oci_client::{Client, Reference};
use tokio::sync::mpsc;

const CHANNEL_DEPTH: usize = 16;

/// The blocking end of a blob stream.
pub struct BlobReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

pub(crate) fn spawn_blob_stream(
    runtime: &tokio::runtime::Runtime,
    client: Arc<Client>,
    reference: Reference,
    descriptor: OciDescriptor,
) -> BlobReader {
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    runtime.spawn(async move {
        match client.pull_blob_stream(&reference, &descriptor).await {
            Ok(sized) => {
                let mut stream = sized.stream;
                while let Some(chunk) = stream.next().await {
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        break;
                    }
                }
            }
            Err(e) => {
                let _ = tx
                    .send(Err(io::Error::other(format!("{}: {e}", descriptor.digest))))
                    .await;
            }
        }
    });
    BlobReader {
        rx,
        current: Bytes::new(),
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
