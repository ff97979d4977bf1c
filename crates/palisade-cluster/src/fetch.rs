//! Listing one kind: pages of `limit` objects followed by `continue` tokens, whole objects or
//! metadata only; the outcome says what the read missed instead of failing the whole read.

use kube::api::{Api, DynamicObject, ListParams, ObjectMeta, TypeMeta};
use kube::{Client, Error};
use serde_json::{Value, json};

use crate::kinds::Kind;

/// Why a kind could not be listed.
#[derive(Debug)]
pub enum ListFailure {
    /// The credentials were refused (401): nothing can be read.
    Unauthorized(String),
    /// The server could not be reached or answered something unreadable: nothing can be read.
    Transport(Error),
    /// The API server refused or failed this request (403, 404, 5xx): this kind is missing.
    Api {
        /// HTTP status.
        code: u16,
        /// The server's message.
        message: String,
    },
}

fn failure(e: Error) -> ListFailure {
    match e {
        Error::Api(status) if status.code == 401 => ListFailure::Unauthorized(status.message),
        Error::Api(status) => ListFailure::Api {
            code: status.code,
            message: status.message,
        },
        other => ListFailure::Transport(other),
    }
}

/// Sets `apiVersion` and `kind` on a list or watch item (list items lack them) and removes
/// `metadata.managedFields` (the API server's field-ownership bookkeeping: large, and nothing
/// reads it; `kubectl get -o yaml` leaves it out too).
fn prepare(kind: &Kind, item: &mut DynamicObject) {
    item.types = Some(TypeMeta {
        api_version: kind.api_version(),
        kind: kind.kind.to_string(),
    });
    item.metadata.managed_fields = None;
}

/// An object of `kind` as JSON, with `apiVersion` and `kind` set and without
/// `metadata.managedFields`.
pub(crate) fn object_value(kind: &Kind, mut item: DynamicObject) -> Value {
    prepare(kind, &mut item);
    serde_json::to_value(item).unwrap_or(Value::Null)
}

/// [`object_value`] as JSON text (what a watcher's store holds).
pub(crate) fn object_text(kind: &Kind, mut item: DynamicObject) -> String {
    prepare(kind, &mut item);
    serde_json::to_string(&item).unwrap_or_else(|_| "null".into())
}

/// A metadata-only object of `kind`: `apiVersion`, `kind` and `metadata` (without
/// `managedFields`), nothing else.
pub(crate) fn metadata_value(kind: &Kind, mut meta: ObjectMeta) -> Value {
    meta.managed_fields = None;
    let meta = serde_json::to_value(meta).unwrap_or(Value::Null);
    json!({"apiVersion": kind.api_version(), "kind": kind.kind, "metadata": meta})
}

/// A page request: `page` objects at most, after `token`, with an optional field selector.
fn params(page: u32, token: Option<&str>, fields: Option<&str>) -> ListParams {
    let mut lp = ListParams::default().limit(page);
    if let Some(t) = token {
        lp = lp.continue_token(t);
    }
    if let Some(f) = fields {
        lp = lp.fields(f);
    }
    lp
}

/// Lists every object of `kind` (in `namespace` when given), `page` at a time. List items carry
/// no `apiVersion`/`kind`: they are set from the kind. Metadata-only kinds become objects with
/// `apiVersion`, `kind` and `metadata` and nothing else.
pub async fn list_all(
    client: &Client,
    kind: &Kind,
    namespace: Option<&str>,
    page: u32,
    fields: Option<&str>,
) -> Result<Vec<Value>, ListFailure> {
    let resource = kind.api_resource();
    let api: Api<DynamicObject> = match namespace {
        Some(ns) if kind.namespaced => Api::namespaced_with(client.clone(), ns, &resource),
        _ => Api::all_with(client.clone(), &resource),
    };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let lp = params(page, token.as_deref(), fields);
        let next = if kind.metadata_only {
            let list = api.list_metadata(&lp).await.map_err(failure)?;
            out.extend(
                list.items
                    .into_iter()
                    .map(|item| metadata_value(kind, item.metadata)),
            );
            list.metadata.continue_
        } else {
            let list = api.list(&lp).await.map_err(failure)?;
            out.extend(list.items.into_iter().map(|item| object_value(kind, item)));
            list.metadata.continue_
        };
        match next.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}
