//! Routes of the ingress-like custom resources: Gateway API `HTTPRoute`, `GRPCRoute`,
//! `TLSRoute`, `TCPRoute` and `UDPRoute` (`gateway.networking.k8s.io`) and Istio
//! `VirtualService` (`networking.istio.io`). What they route to is read from the raw object, so
//! exposure (risk) and the route checks agree on it.

use serde_json::Value;

use crate::inventory::{DEFAULT_NAMESPACE, OtherObject};

/// The route kinds of the Gateway API read here.
pub const GATEWAY_ROUTE_KINDS: [&str; 5] =
    ["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"];

/// One Service a route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteBackend {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Field path of the reference in the route.
    pub path: String,
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Whether `o` is a Gateway API route.
pub fn is_gateway_route(o: &OtherObject) -> bool {
    group_of(&o.api_version) == "gateway.networking.k8s.io"
        && GATEWAY_ROUTE_KINDS.contains(&o.kind.as_str())
}

/// Whether `o` is an Istio VirtualService.
pub fn is_virtual_service(o: &OtherObject) -> bool {
    group_of(&o.api_version) == "networking.istio.io" && o.kind == "VirtualService"
}

/// The Services a route object sends traffic to (empty for other objects). Gateway API
/// `backendRefs` of kind `Service` in the core group (the defaults); Istio destinations by
/// host: a short `name` (in the VirtualService's namespace, as Istio reads it) or
/// `name.namespace.svc.cluster.local` (Istio takes any other host as a full name: hosts
/// outside the cluster or ServiceEntries and are not listed).
pub fn route_backends(o: &OtherObject) -> Vec<RouteBackend> {
    let own = o.namespace().unwrap_or(DEFAULT_NAMESPACE);
    let mut out = Vec::new();
    let rules = o.raw.pointer("/spec/rules").and_then(Value::as_array);
    if is_gateway_route(o) {
        for (i, rule) in rules.into_iter().flatten().enumerate() {
            let refs = rule.get("backendRefs").and_then(Value::as_array);
            for (j, r) in refs.into_iter().flatten().enumerate() {
                let kind = r.get("kind").and_then(Value::as_str).unwrap_or("Service");
                let group = r.get("group").and_then(Value::as_str).unwrap_or("");
                let Some(name) = r.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if kind != "Service" || !group.is_empty() {
                    continue;
                }
                let namespace = r.get("namespace").and_then(Value::as_str).unwrap_or(own);
                out.push(RouteBackend {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    path: format!("spec.rules[{i}].backendRefs[{j}]"),
                });
            }
        }
    } else if is_virtual_service(o) {
        for section in ["http", "tcp", "tls"] {
            let routes = o
                .raw
                .pointer(&format!("/spec/{section}"))
                .and_then(Value::as_array);
            for (i, route) in routes.into_iter().flatten().enumerate() {
                let dests = route.get("route").and_then(Value::as_array);
                for (j, d) in dests.into_iter().flatten().enumerate() {
                    let Some(host) = d.pointer("/destination/host").and_then(Value::as_str) else {
                        continue;
                    };
                    if let Some((name, namespace)) = service_of_host(host, own) {
                        out.push(RouteBackend {
                            namespace,
                            name,
                            path: format!("spec.{section}[{i}].route[{j}].destination.host"),
                        });
                    }
                }
            }
        }
    }
    out
}

/// The in-cluster Service an Istio host names, if it names one.
fn service_of_host(host: &str, own: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => Some((name.to_string(), own.to_string())),
        [name, ns, "svc", "cluster", "local"] => Some((name.to_string(), ns.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_hosts_name_services_in_the_cluster_only() {
        assert_eq!(
            service_of_host("web", "shop"),
            Some(("web".into(), "shop".into()))
        );
        assert_eq!(
            service_of_host("web.pay.svc.cluster.local", "shop"),
            Some(("web".into(), "pay".into()))
        );
        assert_eq!(service_of_host("api.example.com", "shop"), None);
        assert_eq!(service_of_host("web.pay", "shop"), None);
    }
}
