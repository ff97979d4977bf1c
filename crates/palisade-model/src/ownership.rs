//! Who owns an object: the labels and annotations teams use to say so.

use crate::labels::Labels;
use crate::meta::ObjectMeta;

/// Label and annotation keys that name an owning team or person, in order of preference.
pub const OWNER_KEYS: [&str; 8] = [
    "palisade.dev/owner",
    "app.kubernetes.io/owner",
    "owner",
    "team",
    "app.kubernetes.io/team",
    "contact",
    "maintainer",
    "email",
];

fn find(map: &Labels) -> Option<(&str, &str)> {
    OWNER_KEYS.iter().find_map(|k| {
        map.get_key_value(*k)
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    })
}

/// The owner an object declares, as `(key, value)`: labels first, then annotations.
pub fn declared_owner(meta: &ObjectMeta) -> Option<(&str, &str)> {
    find(&meta.labels).or_else(|| find(&meta.annotations))
}
