//! The per-workload risk score: a sum of factors, each with its points and a reason, grouped in
//! categories with a cap each so no single category drowns the others.
//!
//! | category | points | cap |
//! |---|---|---|
//! | findings | critical 10, high 5, medium 2, low 1 each | 40 |
//! | vulnerabilities | critical 8, high 3, medium 1 each (low 0); notorious (Log4Shell, …) 15 each more | 40 |
//! | privileges | privileged 30, hostPID 15, hostNetwork 10, hostIPC 10, dangerous capabilities 15 (`ALL`/`SYS_ADMIN` 25), writable hostPath 10 (sensitive path 25), allowPrivilegeEscalation 5, runAsUser 0 5 | 50 |
//! | exposure | LoadBalancer 25 (15 with source ranges), external IPs 20, Ingress 20, NodePort 15, host port 10, cluster-internal 2 (the highest route counts) | 25 |
//! | network | ingress unprotected 8, egress unprotected 4, blast radius `ceil(min(can_reach,20)/2)`, reachable from `ceil(min(reachable_from,20)/4)` | 20 |
//! | rbac | per dangerous capability of its service account: critical 25, high 12, medium 5, low 2; 0 when the token is not mounted | 50 |
//! | secrets | 3 per Secret it reads | 10 |
//! | image age | over 365 days 10, over 180 days 6, over 90 days 3; newer version available 3 (worst image counts) | 10 |

use foldhash::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use palisade_model::{Finding, Inventory, ObjectRef, Severity, Workload, WorkloadId};
use palisade_rbac::{CapabilityGrant, Principal, RbacIndex};
use serde::Serialize;

use crate::exposure::{ExposureIndex, ExposureLevel};
use crate::facts::{ExternalFacts, image_key};
use crate::privileges::{Privilege, privileges};
use crate::workload::secrets_used;

/// A group of factors with a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Check findings on the workload.
    Findings,
    /// Known vulnerabilities of its images.
    Vulnerabilities,
    /// Privileges its pods ask for.
    Privileges,
    /// How it can be reached.
    Exposure,
    /// Network policy coverage and reachability.
    Network,
    /// What its service account may do.
    Rbac,
    /// Secrets it reads.
    Secrets,
    /// Age and staleness of its images.
    ImageAge,
}

impl Category {
    /// The most points the category adds.
    pub fn cap(self) -> i32 {
        match self {
            Category::Findings | Category::Vulnerabilities => 40,
            Category::Privileges | Category::Rbac => 50,
            Category::Exposure => 25,
            Category::Network => 20,
            Category::Secrets | Category::ImageAge => 10,
        }
    }

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Findings => "findings",
            Category::Vulnerabilities => "vulnerabilities",
            Category::Privileges => "privileges",
            Category::Exposure => "exposure",
            Category::Network => "network",
            Category::Rbac => "rbac",
            Category::Secrets => "secrets",
            Category::ImageAge => "image_age",
        }
    }
}

/// One reason a workload is risky, with what it adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor {
    /// Its category.
    pub category: Category,
    /// Points added (negative only for the adjustment that applies a category cap).
    pub points: i32,
    /// Why, in one sentence.
    pub detail: String,
}

/// The risk of one workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadRisk {
    /// The workload.
    pub workload: WorkloadId,
    /// Its service account.
    pub service_account: String,
    /// Sum of the factors' points.
    pub score: u32,
    /// The factors, by category then in the order found.
    pub factors: Vec<Factor>,
}

/// Everything a risk assessment reads.
pub struct RiskContext<'a> {
    /// The inventory.
    pub inventory: &'a Inventory,
    /// Findings of the check engine (any objects; those of each workload are picked).
    pub findings: &'a [Finding],
    /// The resolved RBAC state of the same inventory.
    pub rbac: &'a RbacIndex,
    /// Vulnerabilities, image facts and network facts, when known.
    pub facts: &'a ExternalFacts,
}

/// Scores every top-level workload (workloads owned by another listed workload are counted
/// through their owner) and returns them ranked: see [`rank`].
pub fn assess(ctx: &RiskContext<'_>) -> Vec<WorkloadRisk> {
    let facts = ctx.facts.normalized();
    // The indexes do not depend on each other: built side by side.
    let ((exposure, automount), (by_object, ranked)) = rayon::join(
        || {
            rayon::join(
                || ExposureIndex::build(ctx.inventory),
                || palisade_rbac::risky::AutomountIndex::build(ctx.inventory),
            )
        },
        || {
            rayon::join(
                || findings_by_object(ctx.findings),
                || -> Vec<(&Workload, WorkloadId)> {
                    ctx.inventory
                        .top_level_workloads()
                        .into_par_iter()
                        .map(|w| (w, WorkloadId::of(w)))
                        .collect()
                },
            )
        },
    );
    // RBAC power per service account, resolved once for all the workloads that share it.
    let mut caps_by_account: HashMap<(&str, &str), Vec<CapabilityGrant>> = HashMap::default();
    for (w, id) in &ranked {
        let sa = w.spec.pod.effective_service_account();
        caps_by_account
            .entry((id.namespace.as_str(), sa))
            .or_insert_with(|| {
                ctx.rbac
                    .capabilities_of(&Principal::service_account(&id.namespace, sa))
            });
    }
    // Each workload is assessed on its own: spread over the cores.
    let mut out: Vec<WorkloadRisk> = ranked
        .par_iter()
        .map(|(w, id)| {
            let id = id.clone();
            let sa = w.spec.pod.effective_service_account();
            let caps = caps_by_account
                .get(&(id.namespace.as_str(), sa))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let sa = sa.to_string();
            let findings = by_object
                .get(&(id.kind.as_str(), id.namespace.as_str(), id.name.as_str()))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut factors = Vec::new();
            findings_factors(findings, &mut factors);
            vulnerability_factors(w, &facts, &mut factors);
            privilege_factors(w, &mut factors);
            exposure_factors(&exposure, w, &mut factors);
            network_factors(&id, &facts, &mut factors);
            rbac_factors(caps, automount.token_automounted(w), &mut factors);
            secret_factors(w, &mut factors);
            image_age_factors(w, &facts, &mut factors);
            let factors = apply_caps(factors);
            let score = factors.iter().map(|f| f.points).sum::<i32>().max(0) as u32;
            WorkloadRisk {
                workload: id,
                service_account: sa,
                score,
                factors,
            }
        })
        .collect();
    rank(&mut out);
    out
}

/// The findings about each object, keyed by borrowed kind, namespace and name (hundreds of
/// thousands of findings are grouped without copying a string), each group in input order.
/// Findings about one object share its reference: they are grouped by that reference's address
/// first, so the three names are hashed once per object rather than once per finding.
fn findings_by_object(findings: &[Finding]) -> HashMap<(&str, &str, &str), Vec<&Finding>> {
    let mut by_reference: HashMap<*const ObjectRef, Vec<&Finding>> = HashMap::default();
    for f in findings {
        by_reference
            .entry(Arc::as_ptr(&f.object))
            .or_default()
            .push(f);
    }
    let mut by_object: HashMap<(&str, &str, &str), Vec<&Finding>> =
        HashMap::with_capacity_and_hasher(by_reference.len(), Default::default());
    let mut merged = Vec::new();
    for group in by_reference.into_values() {
        let o = &group[0].object;
        let key = (
            o.kind.as_str(),
            o.namespace.as_deref().unwrap_or_default(),
            o.name.as_str(),
        );
        match by_object.entry(key) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(group);
            }
            std::collections::hash_map::Entry::Occupied(mut e) => {
                // Equal names in two references (an object repeated in the input).
                e.get_mut().extend(group);
                merged.push(key);
            }
        }
    }
    // Back to input order: the findings are borrowed from one slice.
    for key in merged {
        if let Some(group) = by_object.get_mut(&key) {
            group.sort_by_key(|f| std::ptr::from_ref::<Finding>(f) as usize);
        }
    }
    by_object
}

/// Sorts by score (highest first), then namespace, kind and name: the same input always gives
/// the same order.
pub fn rank(risks: &mut [WorkloadRisk]) {
    risks.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.workload.namespace.cmp(&b.workload.namespace))
            .then_with(|| a.workload.kind.cmp(&b.workload.kind))
            .then_with(|| a.workload.name.cmp(&b.workload.name))
    });
}

fn push(out: &mut Vec<Factor>, category: Category, points: i32, detail: String) {
    out.push(Factor {
        category,
        points,
        detail,
    });
}

/// Orders factors by category and adds one negative adjustment per category over its cap.
fn apply_caps(mut factors: Vec<Factor>) -> Vec<Factor> {
    factors.sort_by_key(|f| f.category);
    let mut out = Vec::with_capacity(factors.len());
    let mut i = 0;
    while i < factors.len() {
        let cat = factors[i].category;
        let mut sum = 0;
        while i < factors.len() && factors[i].category == cat {
            sum += factors[i].points;
            out.push(factors[i].clone());
            i += 1;
        }
        if sum > cat.cap() {
            push(
                &mut out,
                cat,
                cat.cap() - sum,
                format!("{} capped at {} points", cat.as_str(), cat.cap()),
            );
        }
    }
    out
}

fn findings_factors(findings: &[&Finding], out: &mut Vec<Factor>) {
    for sev in Severity::ALL.iter().rev() {
        let each = match sev {
            Severity::Critical => 10,
            Severity::High => 5,
            Severity::Medium => 2,
            Severity::Low => 1,
            Severity::Info => 0,
        };
        let hits: Vec<&str> = findings
            .iter()
            .filter(|f| f.severity == *sev)
            .map(|f| &*f.check_id)
            .collect();
        if hits.is_empty() || each == 0 {
            continue;
        }
        push(
            out,
            Category::Findings,
            each * hits.len() as i32,
            format!("{} {sev} finding(s): {}", hits.len(), hits.join(", ")),
        );
    }
}

fn images_of(w: &Workload) -> Vec<String> {
    let mut v: Vec<String> = w
        .spec
        .pod
        .all_containers()
        .filter_map(|(_, c)| c.image.as_deref())
        .map(image_key)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn vulnerability_factors(w: &Workload, facts: &ExternalFacts, out: &mut Vec<Factor>) {
    for img in images_of(w) {
        let Some(v) = facts.vulnerabilities.get(&img) else {
            continue;
        };
        let points = 8 * v.critical as i32 + 3 * v.high as i32 + v.medium as i32;
        if points > 0 || v.low > 0 {
            push(
                out,
                Category::Vulnerabilities,
                points,
                format!(
                    "image {img}: {} critical, {} high, {} medium, {} low vulnerabilities",
                    v.critical, v.high, v.medium, v.low
                ),
            );
        }
        if v.notorious > 0 {
            push(
                out,
                Category::Vulnerabilities,
                15 * v.notorious as i32,
                format!(
                    "image {img}: {} notorious vulnerabilit{} (on the notorious list)",
                    v.notorious,
                    if v.notorious == 1 { "y" } else { "ies" }
                ),
            );
        }
    }
}

fn privilege_factors(w: &Workload, out: &mut Vec<Factor>) {
    for p in privileges(&w.spec.pod) {
        let (points, detail) = match &p {
            Privilege::Privileged { container } => {
                (30, format!("container {container} runs privileged"))
            }
            Privilege::HostPid => (15, "shares the node's PID namespace (hostPID)".into()),
            Privilege::HostNetwork => (
                10,
                "shares the node's network namespace (hostNetwork)".into(),
            ),
            Privilege::HostIpc => (10, "shares the node's IPC namespace (hostIPC)".into()),
            Privilege::Capabilities { container, added } => {
                let strong = added.iter().any(|c| c == "ALL" || c == "SYS_ADMIN");
                (
                    if strong { 25 } else { 15 },
                    format!("container {container} adds {}", added.join(", ")),
                )
            }
            Privilege::WritableHostPath {
                container,
                path,
                sensitive,
            } => (
                if *sensitive { 25 } else { 10 },
                format!(
                    "container {container} mounts host path {path} writable{}",
                    if *sensitive { " (sensitive)" } else { "" }
                ),
            ),
            Privilege::AllowPrivilegeEscalation { container } => (
                5,
                format!("container {container} sets allowPrivilegeEscalation: true"),
            ),
            Privilege::RunAsRoot { container } => {
                (5, format!("container {container} runs as UID 0"))
            }
        };
        push(out, Category::Privileges, points, detail);
    }
}

fn exposure_factors(index: &ExposureIndex, w: &Workload, out: &mut Vec<Factor>) {
    let e = index.exposure_of(w);
    let points_of = |r: &crate::exposure::Route| match r.level {
        ExposureLevel::LoadBalancer if r.source_ranges_restricted => 15,
        ExposureLevel::LoadBalancer => 25,
        ExposureLevel::ExternalIp | ExposureLevel::Ingress => 20,
        ExposureLevel::NodePort => 15,
        ExposureLevel::HostPort => 10,
        ExposureLevel::ClusterInternal => 2,
        ExposureLevel::None => 0,
    };
    // The most exposing route counts; the others are listed for the explanation.
    let Some(best) = e.routes.iter().max_by_key(|r| points_of(r)) else {
        return;
    };
    let others: Vec<&str> = e
        .routes
        .iter()
        .filter(|r| !std::ptr::eq(*r, best))
        .map(|r| r.via.as_str())
        .collect();
    let mut detail = format!(
        "exposed {} via {}{}",
        best.level.as_str().replace('_', " "),
        best.via,
        if best.source_ranges_restricted {
            " (source ranges restricted)"
        } else {
            ""
        }
    );
    if !others.is_empty() {
        detail.push_str(&format!("; also {}", others.join(", ")));
    }
    push(out, Category::Exposure, points_of(best), detail);
}

fn network_factors(id: &WorkloadId, facts: &ExternalFacts, out: &mut Vec<Factor>) {
    let Some(n) = facts.network.get(id) else {
        return;
    };
    if n.ingress_unprotected {
        push(
            out,
            Category::Network,
            8,
            "no NetworkPolicy restricts ingress".into(),
        );
    }
    if n.egress_unprotected {
        push(
            out,
            Category::Network,
            4,
            "no NetworkPolicy restricts egress".into(),
        );
    }
    let reach = n.can_reach.min(20).div_ceil(2) as i32;
    if reach > 0 {
        push(
            out,
            Category::Network,
            reach,
            format!("can reach {} other workload(s)", n.can_reach),
        );
    }
    let from = n.reachable_from.min(20).div_ceil(4) as i32;
    if from > 0 {
        push(
            out,
            Category::Network,
            from,
            format!("reachable from {} other workload(s)", n.reachable_from),
        );
    }
}

fn rbac_factors(caps: &[CapabilityGrant], token_mounted: bool, out: &mut Vec<Factor>) {
    for c in caps {
        let points = if !token_mounted {
            0
        } else {
            match c.severity {
                Severity::Critical => 25,
                Severity::High => 12,
                Severity::Medium => 5,
                Severity::Low => 2,
                Severity::Info => 0,
            }
        };
        let via: Vec<String> = c
            .via
            .iter()
            .map(|v| format!("{} {}", v.binding.kind, v.binding.name))
            .collect();
        push(
            out,
            Category::Rbac,
            points,
            format!(
                "service account can {} ({}, {}) via {}{}",
                c.capability.description(),
                c.scope,
                c.severity,
                via.join(", "),
                if token_mounted {
                    ""
                } else {
                    "; token not mounted, not counted"
                }
            ),
        );
    }
}

fn secret_factors(w: &Workload, out: &mut Vec<Factor>) {
    let secrets = secrets_used(&w.spec.pod);
    if secrets.is_empty() {
        return;
    }
    let names: Vec<&str> = secrets.iter().map(String::as_str).collect();
    push(
        out,
        Category::Secrets,
        3 * secrets.len() as i32,
        format!("reads {} secret(s): {}", secrets.len(), names.join(", ")),
    );
}

fn image_age_factors(w: &Workload, facts: &ExternalFacts, out: &mut Vec<Factor>) {
    let mut worst: Option<(i32, String)> = None;
    for img in images_of(w) {
        let Some(f) = facts.images.get(&img) else {
            continue;
        };
        let (age_points, age_text) = match f.age_days {
            Some(d) if d > 365 => (10, format!("{d} days old")),
            Some(d) if d > 180 => (6, format!("{d} days old")),
            Some(d) if d > 90 => (3, format!("{d} days old")),
            _ => (0, String::new()),
        };
        let newer = if f.newer_version_available == Some(true) {
            3
        } else {
            0
        };
        let points = age_points + newer;
        if points == 0 {
            continue;
        }
        let mut parts = Vec::new();
        if !age_text.is_empty() {
            parts.push(age_text);
        }
        if newer > 0 {
            parts.push("a newer version is available".into());
        }
        let detail = format!("image {img} is {}", parts.join(" and "));
        if worst.as_ref().is_none_or(|(p, _)| points > *p) {
            worst = Some((points, detail));
        }
    }
    if let Some((points, detail)) = worst {
        push(out, Category::ImageAge, points, detail);
    }
}
