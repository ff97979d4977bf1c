//! Fuzz target: arbitrary bytes as an image layer (gzip, zstd or plain tar, by magic bytes),
//! unpacked under small caps and then inventoried, must give a result or a clear error, never a
//! panic, a hang or memory beyond the caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::Limits;
use palisade_image::unpack::{LayerExpectation, Unpacker};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_total_uncompressed: 8 << 20,
        max_entries: 10_000,
        max_file_size: 4 << 20,
        max_kept_file_size: 4 << 20,
        ratio_grace_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut unpacker = Unpacker::new(limits);
    // A layer twice: whiteouts and overwrites of the first by the second.
    for _ in 0..2 {
        if unpacker.apply_layer(data, &LayerExpectation::default()).is_err() {
            return;
        }
    }
    if let Ok(fs) = unpacker.finish() {
        let _ = palisade_image::analyze("fuzz".into(), None, &fs);
    }
});
