//! One watcher's store, compact: per object its key (namespace and name) and its JSON text
//! (`apiVersion` and `kind` set, `metadata.managedFields` removed), parsed again only when an
//! evaluation reads the object. A tree of `serde_json` maps per object (kube-runtime's
//! reflector store of `DynamicObject`s) takes several times the memory of its text.
//!
//! A list (the first one, or a re-list after `410 Gone`) fills a buffer of its own that
//! replaces the held objects at once when the list is complete, as kube-runtime's reflector
//! does: readers never see a half-listed kind, and objects the new list lacks are gone.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::watch::ObjectName;

/// The objects one watcher holds (shared by its task, which writes, and the readers).
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The objects as of the last complete list and the changes since.
    objects: HashMap<ObjectName, Arc<str>>,
    /// A list in progress.
    listing: Option<HashMap<ObjectName, Arc<str>>>,
}

impl Store {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A list begins: its objects go to a new buffer (a list already in progress is dropped).
    pub fn list_started(&self) {
        self.write().listing = Some(HashMap::new());
    }

    /// One object of the list in progress.
    pub fn listed(&self, name: ObjectName, text: Arc<str>) {
        let mut inner = self.write();
        match inner.listing.as_mut() {
            Some(listing) => {
                listing.insert(name, text);
            }
            // kube-runtime always announces a list first; hold the object anyway.
            None => {
                inner.objects.insert(name, text);
            }
        }
    }

    /// The list is complete: its objects replace the held ones.
    pub fn list_done(&self) {
        let mut inner = self.write();
        if let Some(mut listing) = inner.listing.take() {
            listing.shrink_to_fit();
            inner.objects = listing;
        }
    }

    /// An object was added or modified.
    pub fn apply(&self, name: ObjectName, text: Arc<str>) {
        self.write().objects.insert(name, text);
    }

    /// An object was deleted.
    pub fn delete(&self, name: &ObjectName) {
        self.write().objects.remove(name);
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    /// The text of one object.
    pub fn get(&self, name: &ObjectName) -> Option<Arc<str>> {
        self.read().objects.get(name).cloned()
    }

    /// Every object held, with its key (in no particular order).
    pub fn entries(&self) -> Vec<(ObjectName, Arc<str>)> {
        self.read()
            .objects
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> ObjectName {
        ObjectName {
            namespace: Some("ns".into()),
            name: n.into(),
        }
    }

    #[test]
    fn a_list_replaces_the_objects_when_complete() {
        let store = Store::default();
        store.list_started();
        store.listed(name("a"), "1".into());
        store.listed(name("b"), "1".into());
        assert_eq!(
            store.len(),
            0,
            "nothing is visible before the list completes"
        );
        store.list_done();
        assert_eq!(store.len(), 2);
        store.apply(name("a"), "2".into());
        store.delete(&name("b"));
        assert_eq!(store.get(&name("a")).as_deref(), Some("2"));
        assert_eq!(store.get(&name("b")), None);

        // A re-list (after 410 Gone): the old objects stay visible until it completes, then
        // only the listed ones are held.
        store.list_started();
        store.listed(name("c"), "1".into());
        assert_eq!(store.get(&name("a")).as_deref(), Some("2"));
        store.list_done();
        assert_eq!(store.len(), 1);
        assert_eq!(store.get(&name("a")), None);
        assert_eq!(store.get(&name("c")).as_deref(), Some("1"));

        // A list that failed half-way and started again keeps nothing of the first attempt.
        store.list_started();
        store.listed(name("x"), "1".into());
        store.list_started();
        store.listed(name("y"), "1".into());
        store.list_done();
        let mut names: Vec<String> = store.entries().into_iter().map(|(k, _)| k.name).collect();
        names.sort();
        assert_eq!(names, ["y"]);
    }
}
