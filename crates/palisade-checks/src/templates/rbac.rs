//! RBAC object templates (per Role/Binding; effective permissions per subject are the RBAC
//! analyzer's job).

use palisade_model::api::PolicyRule;
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

pub(crate) fn wildcard(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for role in &ctx.inv.roles {
        for (i, rule) in role.spec.rules.iter().enumerate() {
            let mut what = Vec::new();
            if rule.verbs.iter().any(|v| v == "*") {
                what.push("verbs");
            }
            if rule.resources.iter().any(|r| r == "*") {
                what.push("resources");
            }
            if rule.api_groups.iter().any(|g| g == "*") && !rule.resources.is_empty() {
                what.push("apiGroups");
            }
            if rule.non_resource_urls.iter().any(|u| u == "*") {
                what.push("nonResourceURLs");
            }
            if !what.is_empty() {
                hits.object(
                    role,
                    Some(format!("rules[{i}]")),
                    format!(
                        "{} {} grants * in {}",
                        role.kind,
                        role.meta.name,
                        what.join(", ")
                    ),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RoleParams {
    roles: Vec<String>,
}

pub(crate) fn binding_to_role(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<RoleParams> = params(check)?;
    for b in &ctx.inv.role_bindings {
        if b.spec.role_ref.kind == "ClusterRole" && p.roles.contains(&b.spec.role_ref.name) {
            report_binding(
                hits,
                b,
                &format!("grants ClusterRole {}", b.spec.role_ref.name),
                " cluster-wide",
            );
        }
    }
    Ok(())
}

/// Reports binding `b` on its roleRef: `KIND {grant} to SUBJECTS`, then `cluster_scope` for a
/// ClusterRoleBinding.
pub(crate) fn report_binding(
    hits: &mut Hits,
    b: &palisade_model::inventory::RoleBinding,
    grant: &str,
    cluster_scope: &str,
) {
    let scope = if b.is_cluster_binding() {
        cluster_scope
    } else {
        ""
    };
    hits.object(
        b,
        Some("roleRef".into()),
        format!("{} {grant} to {}{scope}", b.kind, subjects_text(b)),
    );
}

/// A binding's subjects as `Kind name, …`, or `no subject`.
pub(crate) fn subjects_text(b: &palisade_model::inventory::RoleBinding) -> String {
    if b.spec.subjects.is_empty() {
        return "no subject".into();
    }
    b.spec
        .subjects
        .iter()
        .map(|s| format!("{} {}", s.kind, s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GroupParams {
    subjects: Vec<String>,
}

pub(crate) fn binding_to_group(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<GroupParams> = params(check)?;
    for b in &ctx.inv.role_bindings {
        for (i, s) in b.spec.subjects.iter().enumerate() {
            if (s.kind == "Group" || s.kind == "User") && p.subjects.contains(&s.name) {
                hits.object(
                    b,
                    Some(format!("subjects[{i}]")),
                    format!(
                        "{} grants {} {} to {} {}",
                        b.kind, b.spec.role_ref.kind, b.spec.role_ref.name, s.kind, s.name
                    ),
                );
            }
        }
    }
    Ok(())
}

fn core_group() -> Vec<String> {
    vec![String::new()]
}

/// A family of API requests: any verb on any resource in any of the groups.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Requests {
    /// API groups of the resources (`""` is the core group; default: core only).
    #[serde(default = "core_group")]
    api_groups: Vec<String>,
    /// Resources, possibly with a subresource (`pods/exec`).
    resources: Vec<String>,
    /// Verbs.
    verbs: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GrantParams {
    /// One family of requests (flat form)...
    #[serde(flatten)]
    single: Option<Requests>,
    /// ...or several, for checks whose verbs apply to different resources (escalate and bind
    /// on roles, impersonate on users, groups and service accounts).
    #[serde(default)]
    any_of: Vec<Requests>,
    /// Restrict to ClusterRoles (cluster-wide power).
    #[serde(default)]
    cluster_roles_only: bool,
}

/// Whether `rule` grants `verb` on `resource` (which may be `res/sub`) in `group`, following
/// the RBAC authorizer: `*` matches everything, `*/sub` matches that subresource of any
/// resource. Rules restricted by resourceNames still grant the verb on those names.
pub(crate) fn rule_grants(rule: &PolicyRule, group: &str, resource: &str, verb: &str) -> bool {
    let verb_ok = rule.verbs.iter().any(|v| v == "*" || v == verb);
    let group_ok = rule.api_groups.iter().any(|g| g == "*" || g == group);
    let resource_ok = rule.resources.iter().any(|r| {
        r == "*"
            || r == resource
            || resource
                .split_once('/')
                .is_some_and(|(_, sub)| *r == format!("*/{sub}"))
    });
    verb_ok && group_ok && resource_ok
}

pub(crate) fn grants(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<GrantParams> = params(check)?;
    let families: Vec<&Requests> = p.single.iter().chain(p.any_of.iter()).collect();
    if families.is_empty()
        || families
            .iter()
            .any(|f| f.verbs.is_empty() || f.resources.is_empty())
    {
        return Err("every request family needs verbs and resources".into());
    }
    for role in &ctx.inv.roles {
        if p.cluster_roles_only && !role.is_cluster_role() {
            continue;
        }
        for (i, rule) in role.spec.rules.iter().enumerate() {
            let mut granted: Vec<String> = Vec::new();
            for f in &families {
                for res in &f.resources {
                    for v in &f.verbs {
                        if f.api_groups.iter().any(|g| rule_grants(rule, g, res, v)) {
                            let s = format!("{v} {res}");
                            if !granted.contains(&s) {
                                granted.push(s);
                            }
                        }
                    }
                }
            }
            if !granted.is_empty() {
                hits.object(
                    role,
                    Some(format!("rules[{i}]")),
                    format!(
                        "{} {} grants {}{}",
                        role.kind,
                        role.meta.name,
                        granted.join(", "),
                        if rule.resource_names.is_empty() {
                            String::new()
                        } else {
                            format!(" (only on {})", rule.resource_names.join(", "))
                        }
                    ),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SaParams {
    names: Vec<String>,
}

pub(crate) fn binding_to_service_account(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<SaParams> = params(check)?;
    for b in &ctx.inv.role_bindings {
        for (i, s) in b.spec.subjects.iter().enumerate() {
            if s.kind == "ServiceAccount" && p.names.contains(&s.name) {
                let ns = s.namespace.as_deref().or(b.namespace()).unwrap_or("?");
                hits.object(
                    b,
                    Some(format!("subjects[{i}]")),
                    format!(
                        "{} grants {} {} to service account {ns}/{}, which every pod without its own service account uses",
                        b.kind, b.spec.role_ref.kind, b.spec.role_ref.name, s.name
                    ),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MissingRoleParams {
    /// ClusterRoles every cluster has (not reported when absent from the input).
    builtin: Vec<String>,
}

pub(crate) fn binding_missing_role(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<MissingRoleParams> = params(check)?;
    // Only decidable when the input carries RBAC roles at all.
    if ctx.inv.roles.is_empty() {
        return Ok(());
    }
    for b in &ctx.inv.role_bindings {
        let r = &b.spec.role_ref;
        let exists = ctx.bound_role(b).is_some();
        let builtin = r.kind == "ClusterRole"
            && (p.builtin.contains(&r.name) || r.name.starts_with("system:"));
        if !exists && !builtin {
            hits.object(
                b,
                Some("roleRef".into()),
                format!(
                    "{} refers to {} {}, which is not in the input",
                    b.kind, r.kind, r.name
                ),
            );
        }
    }
    Ok(())
}
