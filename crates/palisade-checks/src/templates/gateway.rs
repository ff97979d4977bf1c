//! Gateway API and Istio templates: listeners without TLS, route attachment from every
//! namespace, and routes to Services that are missing or in another namespace without a
//! ReferenceGrant. Routes are read through [`palisade_model::routes`], which risk's exposure
//! reads too.

use palisade_model::inventory::{DEFAULT_NAMESPACE, OtherObject};
use palisade_model::routes::{is_gateway_route, route_backends};
use serde_json::Value;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

fn group_is(o: &OtherObject, group: &str) -> bool {
    o.api_version.rsplit_once('/').map_or("", |(g, _)| g) == group
}

/// Gateway API Gateways with each listener and its index.
fn gateway_listeners<'a>(
    ctx: &Ctx<'a>,
) -> impl Iterator<Item = (&'a OtherObject, usize, &'a Value)> {
    ctx.inv
        .others
        .iter()
        .filter(|o| o.kind == "Gateway" && group_is(o, "gateway.networking.k8s.io"))
        .flat_map(|o| {
            let listeners = o.raw.pointer("/spec/listeners").and_then(Value::as_array);
            listeners
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(i, l)| (o, i, l))
        })
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn listener_name(l: &Value, i: usize) -> String {
    str_at(l, "/name").map_or_else(|| format!("#{i}"), str::to_string)
}

/// Reports, for every Gateway API listener, what `judge` finds wrong with it: the field under
/// the listener and the message.
fn judge_listeners(
    ctx: &Ctx<'_>,
    hits: &mut Hits,
    judge: impl Fn(&Value, &str) -> Option<(&'static str, String)>,
) {
    for (o, i, l) in gateway_listeners(ctx) {
        if let Some((field, message)) = judge(l, &listener_name(l, i)) {
            hits.object(o, Some(format!("spec.listeners[{i}].{field}")), message);
        }
    }
}

pub(crate) fn gateway_plain_http(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    judge_listeners(ctx, hits, |l, name| {
        (str_at(l, "/protocol") == Some("HTTP")).then(|| {
            let port = l.get("port").map_or_else(|| "?".to_string(), Value::to_string);
            (
                "protocol",
                format!("Gateway listener {name} serves plain HTTP on port {port}: traffic and credentials cross the network unencrypted"),
            )
        })
    });
    for o in ctx
        .inv
        .others
        .iter()
        .filter(|o| o.kind == "Gateway" && group_is(o, "networking.istio.io"))
    {
        let servers = o.raw.pointer("/spec/servers").and_then(Value::as_array);
        for (i, s) in servers.into_iter().flatten().enumerate() {
            let protocol = str_at(s, "/port/protocol").unwrap_or("");
            let redirect = s.pointer("/tls/httpsRedirect").and_then(Value::as_bool) == Some(true);
            if protocol.eq_ignore_ascii_case("HTTP") && !redirect {
                hits.object(
                    o,
                    Some(format!("spec.servers[{i}].port.protocol")),
                    "Istio Gateway server serves plain HTTP without tls.httpsRedirect: traffic and credentials cross the network unencrypted".into(),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn gateway_tls_without_certificate(
    check: &CheckDef,
    ctx: &Ctx<'_>,
    hits: &mut Hits,
) -> R {
    params::<serde_json::Value>(check)?;
    judge_listeners(ctx, hits, |l, name| {
        let protocol = str_at(l, "/protocol").unwrap_or("");
        let mode = str_at(l, "/tls/mode").unwrap_or("Terminate");
        let terminates = protocol == "HTTPS" || (protocol == "TLS" && mode == "Terminate");
        let certs = l
            .pointer("/tls/certificateRefs")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        (terminates && !certs).then(|| {
            (
                "tls",
                format!("Gateway listener {name} terminates TLS ({protocol}) without certificateRefs: it cannot serve TLS, or serves an implementation default certificate"),
            )
        })
    });
    Ok(())
}

pub(crate) fn gateway_routes_from_all(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    judge_listeners(ctx, hits, |l, name| {
        (str_at(l, "/allowedRoutes/namespaces/from") == Some("All")).then(|| {
            (
                "allowedRoutes.namespaces.from",
                format!("Gateway listener {name} accepts routes from every namespace: anyone who can create a route anywhere can publish through it"),
            )
        })
    });
    Ok(())
}

/// One reference across namespaces: objects of `from_kind` (a Gateway API kind) in `from_ns`
/// referring to the core-group object `to_kind`/`name` in `to_ns`.
struct CrossReference<'r> {
    from_kind: &'r str,
    from_ns: &'r str,
    to_ns: &'r str,
    to_kind: &'r str,
    name: &'r str,
}

/// Whether a ReferenceGrant in the target namespace allows the reference.
fn reference_granted(ctx: &Ctx<'_>, r: &CrossReference<'_>) -> bool {
    let CrossReference {
        from_kind: kind,
        from_ns,
        to_ns,
        to_kind,
        name,
    } = *r;
    ctx.inv.others.iter().any(|g| {
        g.kind == "ReferenceGrant"
            && group_is(g, "gateway.networking.k8s.io")
            && g.namespace() == Some(to_ns)
            && g.raw
                .pointer("/spec/from")
                .and_then(Value::as_array)
                .is_some_and(|from| {
                    from.iter().any(|f| {
                        str_at(f, "/group") == Some("gateway.networking.k8s.io")
                            && str_at(f, "/kind") == Some(kind)
                            && str_at(f, "/namespace") == Some(from_ns)
                    })
                })
            && g.raw
                .pointer("/spec/to")
                .and_then(Value::as_array)
                .is_some_and(|to| {
                    to.iter().any(|t| {
                        str_at(t, "/group").unwrap_or("").is_empty()
                            && str_at(t, "/kind") == Some(to_kind)
                            && str_at(t, "/name").is_none_or(|n| n == name)
                    })
                })
    })
}

pub(crate) fn route_cross_namespace_backend(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for o in ctx.inv.others.iter().filter(|o| is_gateway_route(o)) {
        let own = o.namespace().unwrap_or(DEFAULT_NAMESPACE);
        for b in route_backends(o) {
            let granted = reference_granted(
                ctx,
                &CrossReference {
                    from_kind: &o.kind,
                    from_ns: own,
                    to_ns: &b.namespace,
                    to_kind: "Service",
                    name: &b.name,
                },
            );
            if b.namespace != own && !granted {
                hits.object(
                    o,
                    Some(b.path),
                    format!(
                        "{} sends traffic to Service {}/{} in another namespace without a ReferenceGrant there: the reference is refused, or granted elsewhere than the input shows",
                        o.kind, b.namespace, b.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn dangling_route_backend(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let namespaces_with_services: std::collections::HashSet<&str> = ctx
        .inv
        .services
        .iter()
        .filter_map(|s| s.namespace())
        .collect();
    for o in &ctx.inv.others {
        for b in route_backends(o) {
            if !namespaces_with_services.contains(b.namespace.as_str()) {
                continue;
            }
            let exists = ctx
                .inv
                .services
                .iter()
                .any(|s| s.namespace() == Some(b.namespace.as_str()) && s.meta.name == b.name);
            if !exists {
                hits.object(
                    o,
                    Some(b.path),
                    format!(
                        "{} routes to Service {}/{}, which is not in the input: requests fail",
                        o.kind, b.namespace, b.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn gateway_cross_namespace_certificate(
    check: &CheckDef,
    ctx: &Ctx<'_>,
    hits: &mut Hits,
) -> R {
    params::<serde_json::Value>(check)?;
    for (o, i, l) in gateway_listeners(ctx) {
        let own = o.namespace().unwrap_or(DEFAULT_NAMESPACE);
        let refs = l.pointer("/tls/certificateRefs").and_then(Value::as_array);
        for (j, r) in refs.into_iter().flatten().enumerate() {
            let (Some(ns), Some(name)) = (str_at(r, "/namespace"), str_at(r, "/name")) else {
                continue;
            };
            let kind = str_at(r, "/kind").unwrap_or("Secret");
            let granted = reference_granted(
                ctx,
                &CrossReference {
                    from_kind: "Gateway",
                    from_ns: own,
                    to_ns: ns,
                    to_kind: kind,
                    name,
                },
            );
            if ns != own && !granted {
                hits.object(
                    o,
                    Some(format!("spec.listeners[{i}].tls.certificateRefs[{j}]")),
                    format!(
                        "Gateway listener {} uses {kind} {ns}/{name} from another namespace without a ReferenceGrant there: the certificate is refused, or granted elsewhere than the input shows",
                        listener_name(l, i)
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn route_any_host(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let routes =
        ctx.inv.others.iter().filter(|o| {
            is_gateway_route(o) && matches!(o.kind.as_str(), "HTTPRoute" | "GRPCRoute")
        });
    for o in routes {
        let hostnames: Vec<&str> = o
            .raw
            .pointer("/spec/hostnames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let message = if hostnames.is_empty() {
            format!(
                "{} has no hostnames: it answers for every hostname of the listeners it attaches to",
                o.kind
            )
        } else if hostnames
            .iter()
            .any(|h| h.trim() == "*" || h.trim().is_empty())
        {
            format!("{} matches any hostname (\"*\")", o.kind)
        } else {
            continue;
        };
        hits.object(o, Some("spec.hostnames".into()), message);
    }
    Ok(())
}
