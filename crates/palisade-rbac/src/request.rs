//! Authorization requests: what someone wants to do, as the authorizer sees it.

use std::fmt;

use serde::Serialize;

/// A resource request (`verb` on `group/resource[/subresource]`, optionally one named object,
/// optionally in a namespace).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ResourceRequest {
    /// Verb (`get`, `list`, `create`, `escalate`, …).
    pub verb: String,
    /// API group; `""` is the core group.
    pub api_group: String,
    /// Resource (plural, lower case), e.g. `pods`.
    pub resource: String,
    /// Subresource, e.g. `exec` for `pods/exec`.
    pub subresource: Option<String>,
    /// The object's name, for requests on one object (`get`, `update`, `delete`, …).
    pub name: Option<String>,
    /// Namespace; `None` asks cluster-wide (cluster-scoped resources, or every namespace at
    /// once), which only ClusterRoleBindings grant.
    pub namespace: Option<String>,
}

/// A request for a non-resource URL such as `/healthz` or `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NonResourceRequest {
    /// Verb (`get`, `post`, …: lower-case HTTP method).
    pub verb: String,
    /// URL path, starting with `/`.
    pub path: String,
}

/// One authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// On an API resource.
    Resource(ResourceRequest),
    /// On a non-resource URL (always cluster-wide).
    NonResource(NonResourceRequest),
}

/// Why a request could not be built from user input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The verb is empty.
    #[error("verb is empty")]
    EmptyVerb,
    /// The resource is empty or malformed.
    #[error("invalid resource {0:?}: expected RESOURCE[.GROUP][/SUBRESOURCE] or a /URL")]
    InvalidResource(String),
    /// A bare resource name that is not a well-known one, so its API group is unknown.
    #[error(
        "unknown resource {0:?}: write it as RESOURCE.GROUP (e.g. certificates.cert-manager.io); bare names are accepted only for built-in resources"
    )]
    UnknownResource(String),
    /// A namespace or name given with a non-resource URL.
    #[error("non-resource URL {0:?} cannot take a namespace or a resource name")]
    NonResourceWithScope(String),
}

impl Request {
    /// The request's verb.
    pub fn verb(&self) -> &str {
        match self {
            Request::Resource(r) => &r.verb,
            Request::NonResource(r) => &r.verb,
        }
    }

    /// The namespace asked about (`None` for cluster-wide and non-resource requests).
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Request::Resource(r) => r.namespace.as_deref(),
            Request::NonResource(_) => None,
        }
    }

    /// Builds a request from command-line style input.
    ///
    /// `target` is either a non-resource URL (starts with `/`, e.g. `/metrics` or `/logs/*`
    /// style paths), or `RESOURCE[.GROUP][/SUBRESOURCE]` as in `pods`, `pods/exec`,
    /// `deployments.apps/scale`, `certificates.cert-manager.io`. Bare names of built-in resources
    /// get their API group from a built-in table (`deployments` → `apps`); other bare names are an
    /// error. The verb is lower-cased as the API server does.
    pub fn parse(
        verb: &str,
        target: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Request, RequestError> {
        let verb = verb.trim().to_ascii_lowercase();
        if verb.is_empty() {
            return Err(RequestError::EmptyVerb);
        }
        let target = target.trim();
        if target.starts_with('/') {
            if namespace.is_some() || name.is_some() {
                return Err(RequestError::NonResourceWithScope(target.to_string()));
            }
            return Ok(Request::NonResource(NonResourceRequest {
                verb,
                path: target.to_string(),
            }));
        }
        let invalid = || RequestError::InvalidResource(target.to_string());
        let (res_group, subresource) = match target.split_once('/') {
            Some((r, s)) => {
                if s.is_empty() || s.contains('/') {
                    return Err(invalid());
                }
                (r, Some(s.to_string()))
            }
            None => (target, None),
        };
        let (resource, api_group) = match res_group.split_once('.') {
            Some((r, g)) => (r.to_string(), g.to_string()),
            None => {
                let group = well_known_group(res_group)
                    .ok_or_else(|| RequestError::UnknownResource(res_group.to_string()))?;
                (res_group.to_string(), group.to_string())
            }
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '*')
        };
        if !valid(&resource) || (res_group.contains('.') && !valid(&api_group)) {
            return Err(invalid());
        }
        Ok(Request::Resource(ResourceRequest {
            verb,
            api_group,
            resource: resource.to_ascii_lowercase(),
            subresource,
            name: name.filter(|n| !n.is_empty()).map(str::to_string),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
        }))
    }

    /// A resource request without parsing (for code that knows the group).
    pub fn resource(
        verb: &str,
        api_group: &str,
        resource: &str,
        subresource: Option<&str>,
        namespace: Option<&str>,
    ) -> Request {
        Request::Resource(ResourceRequest {
            verb: verb.to_string(),
            api_group: api_group.to_string(),
            resource: resource.to_string(),
            subresource: subresource.map(str::to_string),
            name: None,
            namespace: namespace.map(str::to_string),
        })
    }

    /// The same request for one named object.
    pub fn named(self, name: &str) -> Request {
        match self {
            Request::Resource(mut r) => {
                r.name = Some(name.to_string());
                Request::Resource(r)
            }
            other => other,
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::NonResource(r) => write!(f, "{} {}", r.verb, r.path),
            Request::Resource(r) => {
                write!(f, "{} {}", r.verb, r.resource)?;
                if !r.api_group.is_empty() {
                    write!(f, ".{}", r.api_group)?;
                }
                if let Some(s) = &r.subresource {
                    write!(f, "/{s}")?;
                }
                if let Some(n) = &r.name {
                    write!(f, " {n:?}")?;
                }
                match &r.namespace {
                    Some(ns) => write!(f, " in namespace {ns}"),
                    None => write!(f, " cluster-wide"),
                }
            }
        }
    }
}

/// The API group of a built-in resource, by its plural name (`None` when not built in).
/// Where a resource exists in two groups (`events`), the core group is returned.
pub fn well_known_group(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "pods"
        | "services"
        | "secrets"
        | "configmaps"
        | "serviceaccounts"
        | "namespaces"
        | "nodes"
        | "persistentvolumes"
        | "persistentvolumeclaims"
        | "endpoints"
        | "events"
        | "replicationcontrollers"
        | "limitranges"
        | "resourcequotas"
        | "podtemplates"
        | "bindings"
        | "componentstatuses"
        | "users"
        | "groups" => "",
        "deployments" | "daemonsets" | "statefulsets" | "replicasets" | "controllerrevisions" => {
            "apps"
        }
        "jobs" | "cronjobs" => "batch",
        "roles" | "rolebindings" | "clusterroles" | "clusterrolebindings" => {
            "rbac.authorization.k8s.io"
        }
        "networkpolicies" | "ingresses" | "ingressclasses" => "networking.k8s.io",
        "poddisruptionbudgets" => "policy",
        "horizontalpodautoscalers" => "autoscaling",
        "certificatesigningrequests" | "signers" => "certificates.k8s.io",
        "validatingwebhookconfigurations"
        | "mutatingwebhookconfigurations"
        | "validatingadmissionpolicies"
        | "validatingadmissionpolicybindings"
        | "mutatingadmissionpolicies"
        | "mutatingadmissionpolicybindings" => "admissionregistration.k8s.io",
        "customresourcedefinitions" => "apiextensions.k8s.io",
        "apiservices" => "apiregistration.k8s.io",
        "storageclasses" | "csidrivers" | "csinodes" | "volumeattachments" => "storage.k8s.io",
        "leases" => "coordination.k8s.io",
        "endpointslices" => "discovery.k8s.io",
        "tokenreviews" | "uids" | "userextras" => "authentication.k8s.io",
        "subjectaccessreviews"
        | "selfsubjectaccessreviews"
        | "localsubjectaccessreviews"
        | "selfsubjectrulesreviews" => "authorization.k8s.io",
        "priorityclasses" => "scheduling.k8s.io",
        "runtimeclasses" => "node.k8s.io",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resource_forms() {
        let Request::Resource(r) =
            Request::parse("Create", "pods/exec", Some("shop"), None).unwrap()
        else {
            panic!("resource request expected")
        };
        assert_eq!(
            (r.verb.as_str(), r.api_group.as_str(), r.resource.as_str()),
            ("create", "", "pods")
        );
        assert_eq!(r.subresource.as_deref(), Some("exec"));
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        let Request::Resource(r) =
            Request::parse("patch", "deployments.apps/scale", None, None).unwrap()
        else {
            panic!("resource request expected")
        };
        assert_eq!(r.api_group, "apps");
        let Request::Resource(r) = Request::parse("get", "deployments", None, None).unwrap() else {
            panic!("resource request expected")
        };
        assert_eq!(r.api_group, "apps");
        let Request::Resource(r) =
            Request::parse("get", "certificates.cert-manager.io", None, None).unwrap()
        else {
            panic!("resource request expected")
        };
        assert_eq!(
            (r.resource.as_str(), r.api_group.as_str()),
            ("certificates", "cert-manager.io")
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            Request::parse("get", "widgets", None, None),
            Err(RequestError::UnknownResource("widgets".into()))
        );
        assert!(Request::parse("", "pods", None, None).is_err());
        assert!(Request::parse("get", "pods/", None, None).is_err());
        assert!(Request::parse("get", "pods/a/b", None, None).is_err());
        assert!(Request::parse("get", "/metrics", Some("ns"), None).is_err());
        assert!(matches!(
            Request::parse("get", "/metrics", None, None),
            Ok(Request::NonResource(_))
        ));
    }
}
