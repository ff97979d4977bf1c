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
    let converter = Converter::new(cluster, limits);
    let results: Vec<FileResult> = chunks
        .into_par_iter()
        .map(|chunk| converter.convert(chunk))
        .collect();
    merge(count, results)
}

/// [`ingest_live`] of `count` objects made when they are converted: `object(i)` gives the
/// `i`th (each asked once, in order within parallel chunks; `None` skips it), so a caller that
/// holds objects as text parses each right before its conversion and frees its tree right
/// after, instead of holding every tree at once.
pub fn ingest_live_with(
    cluster: &str,
    count: usize,
    object: impl Fn(usize) -> Option<Value> + Sync,
    limits: &Limits,
) -> Ingested {
    let converter = Converter::new(cluster, limits);
    let chunks: Vec<std::ops::Range<usize>> = (0..count)
        .step_by(CHUNK)
        .map(|start| start..(start + CHUNK).min(count))
        .collect();
    let results: Vec<FileResult> = chunks
        .into_par_iter()
        .map(|range| converter.convert(range.filter_map(&object)))
        .collect();
    merge(count, results)
}

/// What converting a cluster's objects shares: the cluster's name, the file name its objects
/// are reported under, the limits.
struct Converter<'a> {
    cluster: Arc<str>,
    file: Arc<str>,
    limits: &'a Limits,
}

impl<'a> Converter<'a> {
    fn new(cluster: &str, limits: &'a Limits) -> Converter<'a> {
        Converter {
            cluster: Arc::from(cluster),
            file: Arc::from(format!("cluster:{cluster}")),
            limits,
        }
    }

    /// Converts one chunk's objects, each freed once converted.
    fn convert(&self, objects: impl IntoIterator<Item = Value>) -> FileResult {
        let mut result = FileResult::default();
        let doc = documents::Document {
            text: "",
            first_line: 0,
            json: true,
        };
        for value in objects {
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
                &self.file,
                &doc,
                item,
                self.limits,
                SourceLocation::live(&self.cluster, rv),
            );
        }
        result
    }
}

/// The chunks' results as one inventory, in chunk order.
fn merge(count: usize, results: Vec<FileResult>) -> Ingested {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_made_one_at_a_time_convert_as_a_list_of_them_does() {
        // More than one chunk, with objects of several kinds and one that does not convert.
        let objects: Vec<Value> = (0..CHUNK + 7)
            .map(|i| match i % 4 {
                0 => json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": format!("d{i}"), "namespace": "a", "resourceVersion": "7"},
                    "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
                1 => json!({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": format!("s{i}"), "namespace": "b"}, "spec": {"ports": [{"port": 80}]}}),
                2 => json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": format!("p{i}"), "namespace": "a"}, "spec": {"containers": "bad"}}),
                _ => json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("n{i}")}}),
            })
            .collect();
        let limits = Limits::default();
        let whole = ingest_live("c", objects.clone(), &limits);
        let asked = std::sync::Mutex::new(vec![0; objects.len()]);
        let lazy = ingest_live_with(
            "c",
            objects.len() + 1,
            |i| {
                asked.lock().unwrap()[i.min(objects.len() - 1)] += usize::from(i < objects.len());
                objects.get(i).cloned()
            },
            &limits,
        );
        assert!(asked.into_inner().unwrap().iter().all(|n| *n == 1));
        assert_eq!(
            format!("{:?}", lazy.inventory),
            format!("{:?}", whole.inventory)
        );
        assert_eq!(lazy.diagnostics, whole.diagnostics);
        // The Deployments convert; the bad Pods are reported, not converted.
        assert_eq!(whole.inventory.workloads.len(), (CHUNK + 7).div_ceil(4));
        assert_eq!(whole.diagnostics.len(), (CHUNK + 7 - 2).div_ceil(4));
    }
}
