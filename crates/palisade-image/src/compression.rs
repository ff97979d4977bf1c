//! Layer decompression chosen by magic bytes (gzip, zstd or plain tar), with metering so the
//! compression-ratio and total-size caps can be enforced while streaming.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::into_io;
use crate::{ImageError, Limits};

/// The compression of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Uncompressed tar.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard.
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Detects the compression from the first bytes of a blob.
pub fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Opens the decompressor that matches the magic bytes of `raw`.
pub(crate) fn decompress<'a, R: Read + 'a>(
    raw: R,
    what: &str,
) -> Result<(Compression, Box<dyn Read + 'a>), ImageError> {
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered
        .fill_buf()
        .map_err(|e| crate::error::from_io(e, what))?;
    let compression = detect(head);
    let reader: Box<dyn Read + 'a> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| ImageError::io(what, e))?,
        ),
    };
    Ok((compression, reader))
}

/// Enforces the total-size and compression-ratio caps on the uncompressed side of a layer.
pub(crate) struct LimitReader<R> {
    inner: R,
    layer: String,
    compressed: Arc<AtomicU64>,
    produced: u64,
    total_before: u64,
    limits: Limits,
    compressed_input: bool,
}

impl<R> LimitReader<R> {
    pub(crate) fn new(
        inner: R,
        layer: String,
        compressed: Arc<AtomicU64>,
        total_before: u64,
        limits: Limits,
        compressed_input: bool,
    ) -> Self {
        LimitReader {
            inner,
            layer,
            compressed,
            produced: 0,
            total_before,
            limits,
            compressed_input,
        }
    }
}

impl<R: Read> Read for LimitReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.total_before + self.produced > self.limits.max_total_uncompressed {
            return Err(into_io(ImageError::TotalSizeLimit {
                layer: self.layer.clone(),
                limit: self.limits.max_total_uncompressed,
            }));
        }
        if self.compressed_input && self.produced > self.limits.ratio_grace_bytes {
            let compressed = self.compressed.load(Ordering::Relaxed).max(1);
            if self.produced / compressed > self.limits.max_compression_ratio {
                return Err(into_io(ImageError::CompressionRatio {
                    layer: self.layer.clone(),
                    limit: self.limits.max_compression_ratio,
                    uncompressed: self.produced,
                    compressed,
                }));
            }
        }
        Ok(n)
    }
}
