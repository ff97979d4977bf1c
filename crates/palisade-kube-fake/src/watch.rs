//! Watches: newline-delimited events from a resourceVersion, selector transitions, bookmarks,
//! `sendInitialEvents`, 410 Expired after a compaction, `timeoutSeconds`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::channel::Sender;
use serde_json::{Value, json};

use crate::list::{Filter, shape};
use crate::resources::RESOURCES;
use crate::status::ApiError;
use crate::store::{EventKind, Store};

/// What one watch request asked for.
pub struct WatchRequest {
    /// Resource type index.
    pub res: usize,
    /// Selectors and namespace.
    pub filter: Filter,
    /// `resourceVersion` (`None`, or `0`, start from the current state).
    pub resource_version: Option<u64>,
    /// `sendInitialEvents=true`.
    pub send_initial_events: bool,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// `timeoutSeconds`.
    pub timeout: Option<Duration>,
    /// Objects as `PartialObjectMetadata`.
    pub metadata_only: bool,
}

struct Stream {
    tx: Sender<Bytes>,
    req: WatchRequest,
}

impl Stream {
    async fn send(&mut self, kind: &str, object: Value) -> bool {
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        line.push(b'\n');
        self.tx.send_data(Bytes::from(line)).await.is_ok()
    }

    async fn object(&mut self, kind: &str, obj: &Value) -> bool {
        let shaped = shape(obj, self.req.metadata_only);
        self.send(kind, shaped).await
    }

    async fn bookmark(&mut self, rv: u64, initial_end: bool) -> bool {
        let rt = RESOURCES[self.req.res];
        let (kind, api_version) = if self.req.metadata_only {
            (
                "PartialObjectMetadata".to_string(),
                "meta.k8s.io/v1".to_string(),
            )
        } else {
            (rt.kind.to_string(), rt.api_version())
        };
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        self.send(
            "BOOKMARK",
            json!({"kind": kind, "apiVersion": api_version, "metadata": meta}),
        )
        .await
    }

    async fn error(&mut self, e: ApiError) {
        self.send("ERROR", e.body).await;
    }
}

/// Runs one watch, writing events into `tx` until the timeout, a pause, the client leaving or
/// a compaction the watch had not caught up with.
pub async fn run(
    store: Arc<Store>,
    tx: Sender<Bytes>,
    req: WatchRequest,
    bookmark_every: Duration,
) {
    let mut signals = store.subscribe();
    let epoch = signals.borrow().epoch;
    let deadline = req.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut s = Stream { tx, req };
    let mut last = match s.req.resource_version {
        Some(rv) if rv > 0 && !s.req.send_initial_events => rv,
        _ => {
            let filter = &s.req.filter;
            let (items, _, rv) =
                store.list(s.req.res, filter.namespace(), None, usize::MAX, &|o| {
                    filter.matches(o)
                });
            for obj in items {
                if !s.object("ADDED", &obj).await {
                    return;
                }
            }
            if s.req.send_initial_events && s.req.bookmarks && !s.bookmark(rv, true).await {
                return;
            }
            rv
        }
    };
    let mut tick = tokio::time::interval(bookmark_every);
    tick.tick().await;
    loop {
        let (events, head) = match store.events_after(s.req.res, last) {
            Ok(x) => x,
            Err(e) => return s.error(e).await,
        };
        for ev in events {
            let now = s.req.filter.matches(&ev.object);
            let before = ev.old.as_deref().is_some_and(|o| s.req.filter.matches(o));
            let kind = match (ev.kind, before, now) {
                (EventKind::Added, _, true) => "ADDED",
                (EventKind::Deleted, _, true) => "DELETED",
                (EventKind::Modified, true, true) => "MODIFIED",
                (EventKind::Modified, false, true) => "ADDED",
                (EventKind::Modified, true, false) => "DELETED",
                _ => continue,
            };
            if !s.object(kind, &ev.object).await {
                return;
            }
        }
        last = head;
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = signals.changed() => {
                let sig = *signals.borrow_and_update();
                if changed.is_err() || sig.epoch != epoch || sig.paused {
                    return;
                }
            }
            _ = tick.tick(), if s.req.bookmarks => {
                if !s.bookmark(last, false).await {
                    return;
                }
            }
            _ = sleep => return,
        }
    }
}
