//! Signed checkpoints in the C2SP signed-note format, as Rekor v1 and v2 write them:
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n[other lines]\n\n— <name> <base64(key hint ‖ signature)>\n…
//! ```
//!
//! A checkpoint is accepted when one signature line names the log (the host of its URL, which
//! must also begin the origin line), carries the first four bytes of the log ID as key hint,
//! and verifies under the log key over the note text (everything before the blank line, with
//! its final newline). Other signatures (witness cosignatures) are ignored.

use crate::sigstore::bundle::b64;
use crate::sigstore::root::LogKey;

/// The parsed body of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root_hash: Vec<u8>,
}

/// Verifies the checkpoint `note` against `log` and returns its body.
pub fn verify(note: &str, log: &LogKey) -> Result<Checkpoint, String> {
    let (text, sigs) = note
        .split_once("\n\n")
        .ok_or("checkpoint has no signature block")?;
    let text = format!("{text}\n");
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default().to_string();
    if origin.is_empty() || origin.parse::<u64>().is_ok() {
        return Err("checkpoint has no origin line".into());
    }
    let size_line = lines.next().ok_or("checkpoint has no tree size")?;
    let size = size_line
        .parse::<u64>()
        .map_err(|_| format!("checkpoint tree size {size_line:?} is not a number"))?;
    let root_line = lines.next().ok_or("checkpoint has no root hash")?;
    let root_hash = b64(root_line, "checkpoint root hash")?;
    if root_hash.len() != 32 {
        return Err(format!(
            "checkpoint root hash {root_line:?} is not a SHA-256 hash"
        ));
    }
    let host = log.host();
    if origin.split(' ').next() != Some(host) {
        return Err(format!(
            "checkpoint origin {origin:?} is not the log {host}"
        ));
    }
    let mut named = 0;
    for line in sigs.lines().filter(|l| !l.is_empty()) {
        let Some(rest) = line.strip_prefix("— ") else {
            return Err(format!("checkpoint signature line {line:?} is malformed"));
        };
        let Some((name, sig)) = rest.rsplit_once(' ') else {
            return Err(format!("checkpoint signature line {line:?} is malformed"));
        };
        if name != host {
            continue;
        }
        named += 1;
        let Ok(sig) = b64(sig, "checkpoint signature") else {
            continue;
        };
        if sig.len() > 4
            && log.key_id.len() >= 4
            && sig[..4] == log.key_id[..4]
            && log.key.verify(text.as_bytes(), &sig[4..])
        {
            return Ok(Checkpoint {
                origin,
                size,
                root_hash,
            });
        }
    }
    Err(if named == 0 {
        format!("checkpoint has no signature by the log {host}")
    } else {
        format!(
            "checkpoint signature does not verify with the key of log {host} (key hint or signature mismatch)"
        )
    })
}
