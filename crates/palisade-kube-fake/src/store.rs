//! The object store: objects by resource type, namespace and name; one global resourceVersion
//! counter (as etcd's revision); the event log watches read from, with a compaction point.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::resources::{RESOURCES, ResourceType};
use crate::status::ApiError;

/// Where an object is stored: resource type index, namespace (`""` when cluster-scoped), name.
pub type Key = (usize, String, String);

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Deleted (the object as it was, with the deletion's resourceVersion).
    Deleted,
}

/// One change, at resourceVersion `rv`.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// Resource type index.
    pub res: usize,
    /// What happened.
    pub kind: EventKind,
    /// The object after the change (before it, for a deletion).
    pub object: Arc<Value>,
    /// The object before a modification (for label-selector transitions).
    pub old: Option<Arc<Value>>,
}

/// What open watches need to know: the latest resourceVersion, and whether they must end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signal {
    /// Latest resourceVersion.
    pub rv: u64,
    /// Incremented whenever open watches must end (pause, compaction with lagging watches).
    pub epoch: u64,
    /// While true, watch requests wait and open watches end.
    pub paused: bool,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<Key, Arc<Value>>,
    rv: u64,
    log: VecDeque<Event>,
    compacted: u64,
    forbidden: BTreeSet<String>,
    serial: u64,
}

/// The shared store of one fake server.
pub struct Store {
    state: Mutex<State>,
    signal: tokio::sync::watch::Sender<Signal>,
}

fn now() -> String {
    let t = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(&Rfc3339).unwrap_or_default()
}

fn meta(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

fn str_at<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

impl Default for Store {
    fn default() -> Self {
        Store {
            state: Mutex::default(),
            signal: tokio::sync::watch::Sender::new(Signal::default()),
        }
    }
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A receiver of [`Signal`]s for a watch.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Signal> {
        self.signal.subscribe()
    }

    fn publish(&self, rv: u64, end_watches: bool) {
        self.signal.send_modify(|s| {
            s.rv = rv;
            if end_watches {
                s.epoch += 1;
            }
        });
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Marks `kind` forbidden (403 for every verb) or allowed again.
    pub fn set_forbidden(&self, kind: &str, forbidden: bool) {
        let mut s = self.lock();
        if forbidden {
            s.forbidden.insert(kind.to_string());
        } else {
            s.forbidden.remove(kind);
        }
    }

    /// Whether `kind` is forbidden.
    pub fn is_forbidden(&self, kind: &str) -> bool {
        self.lock().forbidden.contains(kind)
    }

    /// Pauses (`true`) or resumes watches: while paused, open watches end and new ones wait.
    pub fn set_paused(&self, paused: bool) {
        self.signal.send_modify(|s| {
            s.paused = paused;
            s.epoch += 1;
        });
    }

    /// Forgets the event log: a watch from an older resourceVersion gets 410 Expired, and so does
    /// a continue token issued before. Open watches that have not read every event end.
    pub fn compact(&self) {
        let rv = {
            let mut s = self.lock();
            s.compacted = s.rv;
            s.log.clear();
            s.rv
        };
        self.publish(rv, true);
    }

    /// The compaction point: events at or before it are gone.
    pub fn compacted(&self) -> u64 {
        self.lock().compacted
    }

    fn key(res: usize, obj: &Value) -> Key {
        let ns = if RESOURCES[res].namespaced {
            str_at(obj, "namespace").unwrap_or("default").to_string()
        } else {
            String::new()
        };
        (res, ns, str_at(obj, "name").unwrap_or("").to_string())
    }

    /// Logs a change made under `s` and wakes the watches; returns the object.
    fn record(
        &self,
        mut s: MutexGuard<'_, State>,
        (rv, res): (u64, usize),
        kind: EventKind,
        object: Arc<Value>,
        old: Option<Arc<Value>>,
    ) -> Arc<Value> {
        s.log.push_back(Event {
            rv,
            res,
            kind,
            object: object.clone(),
            old,
        });
        drop(s);
        self.publish(rv, false);
        object
    }

    /// Creates an object of resource type `res`; `namespace` from the URL wins over the
    /// object's. Sets uid, resourceVersion, creationTimestamp and generation.
    pub fn create(
        &self,
        res: usize,
        namespace: Option<&str>,
        mut obj: Value,
    ) -> Result<Arc<Value>, ApiError> {
        let rt = RESOURCES[res];
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        normalize(&rt, namespace, &mut obj);
        let mut s = self.lock();
        s.serial += 1;
        let serial = s.serial;
        let m = meta(&mut obj);
        if m.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            match m.get("generateName").and_then(Value::as_str) {
                Some(prefix) => {
                    let name = format!("{prefix}{serial:05x}");
                    m.insert("name".into(), name.into());
                }
                None => {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        "metadata.name: Required value",
                    ));
                }
            }
        }
        let key = Self::key(res, &obj);
        if s.objects.contains_key(&key) {
            return Err(ApiError::new(
                409,
                "AlreadyExists",
                format!("{} \"{}\" already exists", rt.plural, key.2),
            ));
        }
        s.rv += 1;
        let rv = s.rv;
        let m = meta(&mut obj);
        m.insert(
            "uid".into(),
            format!("00000000-0000-4000-8000-{serial:012x}").into(),
        );
        m.insert("resourceVersion".into(), rv.to_string().into());
        m.insert("creationTimestamp".into(), now().into());
        m.insert("generation".into(), 1.into());
        let object = Arc::new(obj);
        s.objects.insert(key, object.clone());
        Ok(self.record(s, (rv, res), EventKind::Added, object, None))
    }

    /// Replaces an object. With `check_version`, a resourceVersion in `obj` that is not the
    /// stored one is a 409 Conflict (optimistic concurrency, as PUT).
    pub fn replace(
        &self,
        res: usize,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
        check_version: bool,
    ) -> Result<Arc<Value>, ApiError> {
        let rt = RESOURCES[res];
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        normalize(&rt, namespace, &mut obj);
        meta(&mut obj).insert("name".into(), name.into());
        let mut s = self.lock();
        let key = Self::key(res, &obj);
        let Some(old) = s.objects.get(&key).cloned() else {
            return Err(ApiError::not_found(rt.plural, name));
        };
        let stored_rv = str_at(&old, "resourceVersion").unwrap_or("").to_string();
        if check_version
            && let Some(given) = str_at(&obj, "resourceVersion")
            && given != stored_rv
        {
            return Err(ApiError::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    rt.plural
                ),
            ));
        }
        s.rv += 1;
        let rv = s.rv;
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let generation = if old.get("spec") == obj.get("spec") {
            generation
        } else {
            generation + 1
        };
        let m = meta(&mut obj);
        for field in ["uid", "creationTimestamp"] {
            if let Some(v) = old.pointer(&format!("/metadata/{field}")) {
                m.insert(field.into(), v.clone());
            }
        }
        m.insert("resourceVersion".into(), rv.to_string().into());
        m.insert("generation".into(), generation.into());
        let object = Arc::new(obj);
        s.objects.insert(key, object.clone());
        Ok(self.record(s, (rv, res), EventKind::Modified, object, Some(old)))
    }

    /// Applies a JSON merge patch to a stored object.
    pub fn patch(
        &self,
        res: usize,
        namespace: Option<&str>,
        name: &str,
        patch: &Value,
    ) -> Result<Arc<Value>, ApiError> {
        let current = self
            .get(res, namespace, name)
            .ok_or_else(|| ApiError::not_found(RESOURCES[res].plural, name))?;
        let mut obj = (*current).clone();
        merge_patch(&mut obj, patch);
        self.replace(res, namespace, name, obj, true)
    }

    /// Creates or replaces an object (no version check), deriving its type from apiVersion and
    /// kind.
    pub fn apply(&self, obj: Value) -> Result<Arc<Value>, ApiError> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let res = crate::resources::by_kind(api_version, kind).ok_or_else(|| {
            ApiError::bad_request(format!("no resource type serves {api_version} {kind}"))
        })?;
        let name = str_at(&obj, "name").unwrap_or("").to_string();
        let ns = str_at(&obj, "namespace").map(str::to_string);
        if self.get(res, ns.as_deref(), &name).is_some() {
            self.replace(res, ns.as_deref(), &name, obj, false)
        } else {
            self.create(res, ns.as_deref(), obj)
        }
    }

    /// Deletes an object, returning it as it was (with the deletion's resourceVersion).
    pub fn delete(
        &self,
        res: usize,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let rt = RESOURCES[res];
        let ns = if rt.namespaced {
            namespace.unwrap_or("default").to_string()
        } else {
            String::new()
        };
        let mut s = self.lock();
        let Some(old) = s.objects.remove(&(res, ns, name.to_string())) else {
            return Err(ApiError::not_found(rt.plural, name));
        };
        s.rv += 1;
        let rv = s.rv;
        let mut obj = (*old).clone();
        meta(&mut obj).insert("resourceVersion".into(), rv.to_string().into());
        Ok(self.record(s, (rv, res), EventKind::Deleted, Arc::new(obj), None))
    }

    /// One stored object.
    pub fn get(&self, res: usize, namespace: Option<&str>, name: &str) -> Option<Arc<Value>> {
        let ns = if RESOURCES[res].namespaced {
            namespace.unwrap_or("default")
        } else {
            ""
        };
        self.lock()
            .objects
            .get(&(res, ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Objects of type `res` (in `namespace` when given) after `after` (namespace, name) in key
    /// order, that pass `keep`: at most `limit` of them, how many more pass, and the current
    /// resourceVersion.
    pub fn list(
        &self,
        res: usize,
        namespace: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
        keep: &dyn Fn(&Value) -> bool,
    ) -> (Vec<Arc<Value>>, usize, u64) {
        let s = self.lock();
        let start = match after {
            Some((ns, name)) => std::ops::Bound::Excluded((res, ns.to_string(), name.to_string())),
            None => std::ops::Bound::Included((res, String::new(), String::new())),
        };
        let end = std::ops::Bound::Excluded((res + 1, String::new(), String::new()));
        let mut items = Vec::new();
        let mut more = 0;
        for ((_, ns, _), obj) in s.objects.range((start, end)) {
            if namespace.is_some_and(|want| want != ns) || !keep(obj) {
                continue;
            }
            if items.len() < limit {
                items.push(obj.clone());
            } else {
                more += 1;
            }
        }
        (items, more, s.rv)
    }

    /// Events of type `res` after resourceVersion `after`, or `Err` when some of them have been
    /// compacted away.
    /// With them, the latest resourceVersion (read at the same instant).
    pub fn events_after(&self, res: usize, after: u64) -> Result<(Vec<Event>, u64), ApiError> {
        let s = self.lock();
        if after < s.compacted {
            return Err(ApiError::expired(format!(
                "too old resource version: {after} ({})",
                s.compacted
            )));
        }
        let start = s.log.partition_point(|e| e.rv <= after);
        let events = s
            .log
            .range(start..)
            .filter(|e| e.res == res)
            .cloned()
            .collect();
        Ok((events, s.rv))
    }

    /// How many objects are stored.
    pub fn count(&self) -> usize {
        self.lock().objects.len()
    }
}

/// Sets `apiVersion`, `kind` and (for namespaced types) `metadata.namespace`.
fn normalize(rt: &ResourceType, namespace: Option<&str>, obj: &mut Value) {
    obj["apiVersion"] = rt.api_version().into();
    obj["kind"] = rt.kind.into();
    let m = meta(obj);
    if rt.namespaced {
        let ns = namespace
            .map(str::to_string)
            .or_else(|| {
                m.get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "default".into());
        m.insert("namespace".into(), ns.into());
    } else {
        m.remove("namespace");
    }
}
