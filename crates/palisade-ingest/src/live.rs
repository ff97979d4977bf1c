//! Objects read from a live cluster: already-parsed JSON values, each located by the cluster
//! and its resourceVersion instead of a file and line. The same conversion as for files.

use std::sync::Arc;

use palisade_model::SourceLocation;
use rayon::prelude::*;
use serde_json::Value;

use crate::{FileResult, Ingested, Limits, documents, parse};

/// Objects converted per parallel task.
const CHUNK: usize = 1024;

/// Converts objects read from the cluster named `cluster` (a kubeconfig context, or
/// `in-cluster`) into one inventory. Each object must carry `apiVersion` and `kind` (list items
/// do not: the caller sets them from the list). Findings and diagnostics name the object by
/// cluster, kind, namespace, name and `metadata.resourceVersion`
/// ([`SourceLocation::live`]); conversion errors are reported for the file name
/// `cluster:<cluster>`. Secrets are scrubbed as for files.
pub fn ingest_live(cluster: &str, objects: Vec<Value>, limits: &Limits) -> Ingested {
    let cluster: Arc<str> = Arc::from(cluster);
    let file: Arc<str> = Arc::from(format!("cluster:{cluster}"));
    let count = objects.len();
    let mut chunks: Vec<Vec<Value>> = Vec::with_capacity(count / CHUNK + 1);
    let mut rest = objects.into_iter();
    loop {
        let chunk: Vec<Value> = rest.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let results: Vec<FileResult> = chunks
        .into_par_iter()
        .map(|chunk| {
            let mut result = FileResult::default();
            let doc = documents::Document {
                text: "",
                first_line: 0,
                json: true,
            };
            for value in chunk {
                let rv = value
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let item = parse::Item {
                    value,
                    line: 0,
                    list_index: None,
                };
                result.add(
                    &file,
                    &doc,
                    item,
                    limits,
                    SourceLocation::live(&cluster, rv),
                );
            }
            result
        })
        .collect();
    let mut out = Ingested {
        documents: count,
        ..Default::default()
    };
    for r in results {
        out.inventory.extend(r.inventory);
        out.diagnostics.extend(r.diagnostics);
    }
    out.inventory.finalize();
    out
}
