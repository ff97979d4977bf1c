//! Rule matching exactly as the Kubernetes RBAC authorizer does it
//! (`plugin/pkg/auth/authorizer/rbac`: `RuleAllows` and the `rbacv1helpers` matchers).
//!
//! - A verb, API group or resource of `*` matches everything of its kind.
//! - The requested resource is combined with its subresource as `resource/subresource`; a rule
//!   resource matches when it equals that combination, or is `*/subresource` for the requested
//!   subresource. `pods` does not match `pods/exec`, and `pods/*` is not a pattern.
//! - A rule with `resourceNames` only matches requests that name one of those objects; requests
//!   without a name (list, watch, create, deletecollection on the collection) never match it.
//! - A non-resource URL matches when equal, when the rule URL is `*`, or when the rule URL ends in
//!   `*` and the request path starts with the rule URL without that `*`.

use palisade_model::api::PolicyRule;

use crate::request::{NonResourceRequest, Request, ResourceRequest};

/// The wildcard used in verbs, API groups, resources and non-resource URLs.
pub const ALL: &str = "*";

/// Whether `rule` allows `request`.
pub fn rule_allows(rule: &PolicyRule, request: &Request) -> bool {
    match request {
        Request::Resource(r) => resource_rule_allows(rule, r),
        Request::NonResource(r) => non_resource_rule_allows(rule, r),
    }
}

/// Whether `rule` allows a resource request.
pub fn resource_rule_allows(rule: &PolicyRule, r: &ResourceRequest) -> bool {
    verb_matches(rule, &r.verb)
        && api_group_matches(rule, &r.api_group)
        && resource_matches(rule, &r.resource, r.subresource.as_deref())
        && resource_name_matches(rule, r.name.as_deref())
}

/// Whether `rule` allows a non-resource request.
pub fn non_resource_rule_allows(rule: &PolicyRule, r: &NonResourceRequest) -> bool {
    verb_matches(rule, &r.verb) && non_resource_url_matches(rule, &r.path)
}

/// `VerbMatches`: `*` or an exact verb.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == ALL || v == verb)
}

/// `APIGroupMatches`: `*` or an exact group (`""` is the core group).
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == ALL || g == group)
}

/// `ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*/subresource`.
pub fn resource_matches(rule: &PolicyRule, resource: &str, subresource: Option<&str>) -> bool {
    let sub = subresource.filter(|s| !s.is_empty());
    rule.resources.iter().any(|rr| {
        if rr == ALL {
            return true;
        }
        match sub {
            None => rr == resource,
            Some(sub) => {
                let exact = rr.len() == resource.len() + 1 + sub.len()
                    && rr.starts_with(resource)
                    && rr[resource.len()..].starts_with('/')
                    && rr.ends_with(sub);
                exact || rr.strip_prefix("*/") == Some(sub)
            }
        }
    })
}

/// `ResourceNameMatches`: no `resourceNames` matches every request; otherwise the request must
/// name one of them (a request without a name never matches).
pub fn resource_name_matches(rule: &PolicyRule, name: Option<&str>) -> bool {
    if rule.resource_names.is_empty() {
        return true;
    }
    let name = name.unwrap_or("");
    rule.resource_names.iter().any(|n| n == name)
}

/// `NonResourceURLMatches`: `*`, an exact path, or a prefix ending in `*`.
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        if u == ALL || u == path {
            return true;
        }
        match u.strip_suffix('*') {
            Some(_) => path.starts_with(u.trim_end_matches('*')),
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        PolicyRule {
            api_groups: s(groups),
            resources: s(resources),
            verbs: s(verbs),
            resource_names: s(names),
            non_resource_urls: Vec::new(),
        }
    }

    #[test]
    fn subresource_needs_exact_or_star_slash_form() {
        let r = rule(&[""], &["pods"], &["get"], &[]);
        assert!(resource_matches(&r, "pods", None));
        assert!(!resource_matches(&r, "pods", Some("log")));
        let r = rule(&[""], &["pods/log"], &["get"], &[]);
        assert!(resource_matches(&r, "pods", Some("log")));
        assert!(!resource_matches(&r, "pods", None));
        assert!(!resource_matches(&r, "pods", Some("exec")));
        let r = rule(&[""], &["*/status"], &["get"], &[]);
        assert!(resource_matches(&r, "pods", Some("status")));
        assert!(resource_matches(&r, "nodes", Some("status")));
        assert!(!resource_matches(&r, "pods", None));
        // "pods/*" is not a pattern in Kubernetes RBAC.
        let r = rule(&[""], &["pods/*"], &["get"], &[]);
        assert!(!resource_matches(&r, "pods", Some("log")));
        // A longer subresource name must not match by suffix alone.
        let r = rule(&[""], &["*/status"], &["get"], &[]);
        assert!(!resource_matches(&r, "pods", Some("xstatus")));
    }

    #[test]
    fn non_resource_prefix() {
        let mut r = rule(&[], &[], &["get"], &[]);
        r.non_resource_urls = vec!["/healthz".into(), "/logs/*".into()];
        assert!(non_resource_url_matches(&r, "/healthz"));
        assert!(!non_resource_url_matches(&r, "/healthz/ready"));
        assert!(non_resource_url_matches(&r, "/logs/"));
        assert!(non_resource_url_matches(&r, "/logs/kube-apiserver.log"));
        assert!(!non_resource_url_matches(&r, "/logs"));
    }
}
