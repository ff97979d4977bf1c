//! Binding-level RBAC: what a RoleBinding or ClusterRoleBinding grants through the rules of
//! the role it binds (a ClusterRole's aggregated rules included), reported on the binding. The
//! role-level checks stay; these say who actually receives the power.

use palisade_model::api::PolicyRule;
use palisade_model::inventory::{Role, RoleBinding};
use serde::Deserialize;

use super::rbac::{report_binding, rule_grants};
use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

/// A role's rules, with the rules of the ClusterRoles its aggregation rule selects (to a fixed
/// point, as the aggregation controller does).
fn effective_rules<'a>(ctx: &Ctx<'a>, role: &'a Role) -> Vec<&'a PolicyRule> {
    let mut seen: Vec<&Role> = vec![role];
    let mut i = 0;
    while i < seen.len() {
        let current = seen[i];
        i += 1;
        let Some(agg) = &current.spec.aggregation_rule else {
            continue;
        };
        for other in ctx.inv.roles.iter().filter(|r| r.is_cluster_role()) {
            let selected = agg
                .cluster_role_selectors
                .iter()
                .any(|s| !s.is_empty() && s.matches(&other.meta.labels).unwrap_or(false));
            if selected && !seen.iter().any(|r| std::ptr::eq(*r, other)) {
                seen.push(other);
            }
        }
    }
    seen.iter().flat_map(|r| r.spec.rules.iter()).collect()
}

/// Every binding whose role the input holds, with that role's effective rules.
fn bound_rules<'a>(
    ctx: &'a Ctx<'a>,
) -> impl Iterator<Item = (&'a RoleBinding, Vec<&'a PolicyRule>)> + 'a {
    ctx.inv
        .role_bindings
        .iter()
        .filter_map(|b| Some((b, effective_rules(ctx, ctx.bound_role(b)?))))
}

/// Reports that binding `b` hands out `what` through its role.
fn report(hits: &mut Hits, b: &RoleBinding, what: &str) {
    let grant = format!(
        "gives {} {} ({what})",
        b.spec.role_ref.kind, b.spec.role_ref.name
    );
    report_binding(hits, b, &grant, " in every namespace");
}

/// One request the bound rules must not grant.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Request {
    /// API group (`""`: core).
    #[serde(default)]
    api_group: String,
    /// Resource, possibly with a subresource.
    resource: String,
    /// Verb.
    verb: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BindingGrantParams {
    /// Fires when any of these is granted.
    any_of: Vec<Request>,
}

pub(crate) fn binding_grants(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<BindingGrantParams> = params(check)?;
    if p.any_of.is_empty() {
        return Err("any_of needs at least one request".into());
    }
    for (b, rules) in bound_rules(ctx) {
        let granted: Vec<String> = p
            .any_of
            .iter()
            .filter(|q| {
                rules
                    .iter()
                    .any(|r| rule_grants(r, &q.api_group, &q.resource, &q.verb))
            })
            .map(|q| format!("{} {}", q.verb, q.resource))
            .collect();
        if !granted.is_empty() {
            report(hits, b, &granted.join(", "));
        }
    }
    Ok(())
}

pub(crate) fn binding_wildcard(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for (b, rules) in bound_rules(ctx) {
        let all = rules.iter().any(|r| {
            r.verbs.iter().any(|v| v == "*")
                && r.resources.iter().any(|x| x == "*")
                && r.api_groups.iter().any(|g| g == "*")
        });
        if all {
            report(hits, b, "every verb on every resource");
        }
    }
    Ok(())
}
