//! Collection reads: selectors, `limit` + `continue` + `remainingItemCount`, and the
//! metadata-only form (`PartialObjectMetadataList`).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::discovery::media_param;
use crate::request::Query;
use crate::resources::RESOURCES;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::Store;

/// The selectors of a list or watch request.
pub struct Filter {
    labels: LabelSelector,
    fields: FieldSelector,
    namespace: Option<String>,
}

impl Filter {
    /// From the query's `labelSelector` and `fieldSelector` and the URL's namespace.
    pub fn from_query(q: &Query, namespace: Option<&str>) -> Result<Filter, ApiError> {
        Ok(Filter {
            labels: LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
                .map_err(ApiError::bad_request)?,
            fields: FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))
                .map_err(ApiError::bad_request)?,
            namespace: namespace.map(str::to_string),
        })
    }

    /// The namespace of the URL, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Whether `obj` is selected.
    pub fn matches(&self, obj: &Value) -> bool {
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        self.namespace
            .as_deref()
            .is_none_or(|want| ns == Some(want))
            && self.labels.matches(obj)
            && self.fields.matches(obj)
    }
}

/// Whether the client asked for metadata only (`as=PartialObjectMetadata[List]`).
pub fn metadata_only(accept: &str, list: bool) -> bool {
    let form = if list {
        "PartialObjectMetadataList"
    } else {
        "PartialObjectMetadata"
    };
    media_param(accept, &[("as", form)])
}

/// An object as served: whole, or as `PartialObjectMetadata`.
pub fn shape(obj: &Value, metadata: bool) -> Value {
    if metadata {
        json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
        })
    } else {
        obj.clone()
    }
}

/// A list item as real API servers send it: without `kind` and `apiVersion` (clients take them
/// from the list).
fn item(obj: &Arc<Value>, metadata: bool) -> Value {
    let mut v = shape(obj, metadata);
    if !metadata && let Some(m) = v.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    v
}

/// Serves a list request.
pub fn list(
    store: &Store,
    res: usize,
    namespace: Option<&str>,
    q: &Query,
    accept: &str,
) -> Result<Value, ApiError> {
    let filter = Filter::from_query(q, namespace)?;
    let limit = match q.get("limit") {
        None | Some("") | Some("0") => usize::MAX,
        Some(n) => n
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {n:?}")))?,
    };
    let token = q.get("continue").filter(|t| !t.is_empty());
    let after = match token {
        Some(t) => Some(parse_continue(t, store.compacted())?),
        None => None,
    };
    let (items, more, current) = store.list(
        res,
        namespace,
        after
            .as_ref()
            .map(|(_, ns, name)| (ns.as_str(), name.as_str())),
        limit,
        &|o| filter.matches(o),
    );
    let list_rv = after.as_ref().map_or(current, |(rv, _, _)| *rv);
    let metadata = metadata_only(accept, true);
    let rt = RESOURCES[res];
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if more > 0
        && let Some(last) = items.last()
    {
        let ns = last
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = last
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        meta["continue"] = format!("{list_rv}/{ns}/{name}").into();
        meta["remainingItemCount"] = more.into();
    }
    let items: Vec<Value> = items.iter().map(|o| item(o, metadata)).collect();
    Ok(if metadata {
        json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items})
    } else {
        json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(), "metadata": meta, "items": items})
    })
}

/// A continue token: `RV/NAMESPACE/NAME` of the list's resourceVersion and the last item sent.
fn parse_continue(token: &str, compacted: u64) -> Result<(u64, String, String), ApiError> {
    let mut parts = token.splitn(3, '/');
    let (Some(rv), Some(ns), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ApiError::bad_request("invalid continue token"));
    };
    let rv: u64 = rv
        .parse()
        .map_err(|_| ApiError::bad_request("invalid continue token"))?;
    if rv < compacted {
        return Err(ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        ));
    }
    Ok((rv, ns.to_string(), name.to_string()))
}
