//! What a request asks for: the parsed query string and the target path.

use crate::resources;

/// Query parameters, decoded.
#[derive(Debug, Default, Clone)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string (`a=1&b=x%20y`).
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `key` is `true` or `1`.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// A path naming resources: a collection (optionally in a namespace) or one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Resource type index.
    pub res: usize,
    /// Namespace from the URL.
    pub namespace: Option<String>,
    /// Object name, for item paths.
    pub name: Option<String>,
}

/// Parses `/api/v1/...` or `/apis/GROUP/VERSION/...` into a target; `None` when the path names
/// no served resource (discovery paths included).
pub fn target(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let (namespace, plural, name) = match rest {
        [plural] => (None, *plural, None),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return None,
    };
    let res = resources::by_path(group, version, plural)?;
    let namespaced = resources::RESOURCES[res].namespaced;
    if namespace.is_some() && !namespaced {
        return None;
    }
    Some(Target {
        res,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_collections_and_items() {
        let pods = resources::by_path("", "v1", "pods").unwrap();
        assert_eq!(
            target("/api/v1/namespaces/a/pods/p"),
            Some(Target {
                res: pods,
                namespace: Some("a".into()),
                name: Some("p".into())
            })
        );
        assert_eq!(target("/api/v1/pods").unwrap().namespace, None);
        let ns = resources::by_path("", "v1", "namespaces").unwrap();
        assert_eq!(
            target("/api/v1/namespaces/a").unwrap(),
            Target {
                res: ns,
                namespace: None,
                name: Some("a".into())
            }
        );
        assert!(target("/apis/apps/v1").is_none());
        assert!(target("/apis/rbac.authorization.k8s.io/v1/namespaces/a/clusterroles").is_none());
    }
}
