//! Rendering of `palisade rbac` results: tables for people, JSON for tools.

use crate::render::table::new_table;
use palisade_model::api::{PolicyRule, Subject};
use palisade_rbac::{Access, Principal, RbacIndex, Request, RiskyGrant, Verdict, Via};
use serde::Serialize;

/// Output format of the rbac reports.
pub use crate::render::table::TableOrJson as Format;

/// `User alice`, `ServiceAccount shop/web`, `Group devs`.
pub fn subject(s: &Subject) -> String {
    match &s.namespace {
        Some(ns) if s.kind == "ServiceAccount" => format!("ServiceAccount {ns}/{}", s.name),
        _ => format!("{} {}", s.kind, s.name),
    }
}

/// `verbs=[get list] apiGroups=[""] resources=[pods] resourceNames=[x]`.
pub fn rule(r: &PolicyRule) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| {
                if s.is_empty() {
                    "\"\"".to_string()
                } else {
                    s.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut parts = vec![format!("verbs={}", list(&r.verbs))];
    if !r.non_resource_urls.is_empty() {
        parts.push(format!("nonResourceURLs={}", list(&r.non_resource_urls)));
    }
    if !r.resources.is_empty() {
        parts.push(format!("apiGroups={}", list(&r.api_groups)));
        parts.push(format!("resources={}", list(&r.resources)));
    }
    if !r.resource_names.is_empty() {
        parts.push(format!("resourceNames={}", list(&r.resource_names)));
    }
    parts.join(" ")
}

/// `RoleBinding shop/web -> ClusterRole edit (built-in)`.
pub fn via(v: &Via) -> String {
    let b = &v.binding;
    let binding = match &b.namespace {
        Some(ns) => format!("{} {ns}/{}", b.kind, b.name),
        None => format!("{} {}", b.kind, b.name),
    };
    let r = &v.role;
    let role = match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    };
    let builtin = if r.builtin { " (built-in)" } else { "" };
    let origin = if v.rule.origin != r.name {
        format!(" [aggregated from {}]", v.rule.origin)
    } else {
        String::new()
    };
    format!("{binding} -> {role}{builtin}{origin}")
}

#[derive(Serialize)]
struct WhoCanJson<'a> {
    request: &'a Request,
    subjects: &'a [Access],
    diagnostics: &'a [palisade_model::Diagnostic],
}

/// Renders who-can results.
pub fn who_can(
    request: &Request,
    access: &[Access],
    idx: &RbacIndex,
    format: Format,
) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&WhoCanJson {
            request,
            subjects: access,
            diagnostics: idx.diagnostics(),
        })?);
    }
    if access.is_empty() {
        return Ok(format!("No subject can {request}."));
    }
    let mut t = new_table(&["SUBJECT", "SCOPE", "VIA", "RULE"]);
    for a in access {
        t.add_row(vec![
            subject(&a.subject),
            a.scope.to_string(),
            via(&a.via),
            rule(&a.via.rule.rule),
        ]);
    }
    Ok(format!("{} subject(s) can {request}:\n{t}", access.len()))
}

#[derive(Serialize)]
struct CanJson<'a> {
    subject: &'a str,
    principal: &'a Principal,
    request: &'a Request,
    #[serde(flatten)]
    verdict: &'a Verdict,
    diagnostics: &'a [palisade_model::Diagnostic],
}

/// Renders a can verdict.
pub fn can(
    subject_text: &str,
    principal: &Principal,
    request: &Request,
    verdict: &Verdict,
    idx: &RbacIndex,
    format: Format,
) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&CanJson {
            subject: subject_text,
            principal,
            request,
            verdict,
            diagnostics: idx.diagnostics(),
        })?);
    }
    let mut out = match verdict.reason {
        palisade_rbac::Reason::Rbac => format!("yes: {subject_text} can {request}"),
        palisade_rbac::Reason::PrivilegedGroup => format!(
            "yes: {subject_text} can {request} (member of system:masters, which bypasses RBAC)"
        ),
        palisade_rbac::Reason::NoMatchingRule => {
            format!("no: no binding lets {subject_text} {request}")
        }
    };
    if !verdict.grants.is_empty() {
        let mut t = new_table(&["AS SUBJECT", "SCOPE", "VIA", "RULE"]);
        for g in &verdict.grants {
            t.add_row(vec![
                subject(&g.subject),
                g.scope.to_string(),
                via(&g.via),
                rule(&g.via.rule.rule),
            ]);
        }
        out.push_str(&format!("\n{t}"));
    }
    Ok(out)
}

#[derive(Serialize)]
struct RiskyJson<'a> {
    risky: &'a [RiskyGrant],
    diagnostics: &'a [palisade_model::Diagnostic],
}

/// Renders risky grants.
pub fn risky(grants: &[RiskyGrant], idx: &RbacIndex, format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&RiskyJson {
            risky: grants,
            diagnostics: idx.diagnostics(),
        })?);
    }
    if grants.is_empty() {
        return Ok("No risky RBAC grants found.".into());
    }
    let mut t = new_table(&["SEVERITY", "SUBJECT", "CAN", "SCOPE", "VIA", "WORKLOADS"]);
    for g in grants {
        let mut vias: Vec<String> = Vec::new();
        for v in g.via.iter().map(via) {
            if !vias.contains(&v) {
                vias.push(v);
            }
        }
        let workloads: Vec<String> = g
            .workloads
            .iter()
            .map(|w| {
                format!(
                    "{} {}/{}{}",
                    w.workload.kind,
                    w.workload.namespace,
                    w.workload.name,
                    if w.token_automounted {
                        ""
                    } else {
                        " (no token)"
                    }
                )
            })
            .collect();
        let restricted = if g.restricted_to_names {
            " (named objects only)"
        } else {
            ""
        };
        t.add_row(vec![
            g.severity.to_string(),
            subject(&g.subject),
            format!("{}{restricted}", g.capability.description()),
            g.scope.to_string(),
            vias.join("\n"),
            if workloads.is_empty() {
                "-".to_string()
            } else {
                workloads.join("\n")
            },
        ]);
    }
    Ok(format!("{} risky grant(s):\n{t}", grants.len()))
}
