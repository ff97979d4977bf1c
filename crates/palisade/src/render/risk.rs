//! Rendering of risk rankings, and the "top risks" section the scan report shows first.

use palisade_risk::WorkloadRisk;
use serde::Serialize;

use crate::render::table::{keep_whole, new_table};

/// Output format of the risk ranking.
pub use crate::render::table::TableOrJson as Format;

#[derive(Serialize)]
struct RiskJson<'a> {
    workloads: &'a [WorkloadRisk],
}

/// Renders ranked workloads with every factor.
pub fn ranking(ranked: &[WorkloadRisk], format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&RiskJson {
            workloads: ranked,
        })?);
    }
    if ranked.is_empty() {
        return Ok("No workloads found.".into());
    }
    let mut t = new_table(&["#", "SCORE", "WORKLOAD", "SERVICE ACCOUNT", "FACTORS"]);
    for (i, r) in ranked.iter().enumerate() {
        let factors: Vec<String> = r
            .factors
            .iter()
            .map(|f| format!("{:+} {}: {}", f.points, f.category.as_str(), f.detail))
            .collect();
        t.add_row(vec![
            (i + 1).to_string(),
            r.score.to_string(),
            r.workload.to_string(),
            r.service_account.clone(),
            if factors.is_empty() {
                "-".into()
            } else {
                factors.join("\n")
            },
        ]);
    }
    keep_whole(&mut t, &[0, 1, 2]);
    Ok(t.to_string())
}

/// One entry of the `top_risks` member of a scan's JSON report.
// `top_risks` and `top_risks_section` are for `palisade scan`'s report (wired in cmd/scan.rs).
#[derive(Debug, Clone, Serialize)]
pub struct TopRisk {
    /// Rank, from 1.
    pub rank: usize,
    /// `Kind/namespace/name`.
    pub workload: String,
    /// The workload's identity.
    pub id: palisade_model::WorkloadId,
    /// Its service account.
    pub service_account: String,
    /// The score.
    pub score: u32,
    /// Points per category (after caps), highest first.
    pub by_category: Vec<CategoryPoints>,
    /// The factors with positive points, largest first (at most five).
    pub top_factors: Vec<palisade_risk::Factor>,
}

/// Points of one category of a workload's score.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryPoints {
    /// Category (`findings`, `vulnerabilities`, `privileges`, …).
    pub category: &'static str,
    /// Its points after the cap.
    pub points: i32,
}

const TOP_FACTORS: usize = 5;

/// The `limit` riskiest workloads (of a list ranked by `palisade_risk::assess`) as a
/// serializable value; workloads with score 0 are left out.
pub fn top_risks(ranked: &[WorkloadRisk], limit: usize) -> Vec<TopRisk> {
    ranked
        .iter()
        .filter(|r| r.score > 0)
        .take(limit)
        .enumerate()
        .map(|(i, r)| {
            let mut by: Vec<CategoryPoints> = Vec::new();
            for f in &r.factors {
                let name = f.category.as_str();
                match by.iter_mut().find(|c| c.category == name) {
                    Some(c) => c.points += f.points,
                    None => by.push(CategoryPoints {
                        category: name,
                        points: f.points,
                    }),
                }
            }
            by.retain(|c| c.points != 0);
            by.sort_by(|a, b| b.points.cmp(&a.points).then(a.category.cmp(b.category)));
            let mut top: Vec<palisade_risk::Factor> =
                r.factors.iter().filter(|f| f.points > 0).cloned().collect();
            // Stable: equal points keep the category order of the score.
            top.sort_by_key(|f| std::cmp::Reverse(f.points));
            top.truncate(TOP_FACTORS);
            TopRisk {
                rank: i + 1,
                workload: r.workload.to_string(),
                id: r.workload.clone(),
                service_account: r.service_account.clone(),
                score: r.score,
                by_category: by,
                top_factors: top,
            }
        })
        .collect()
}

/// The "Top risks" table a scan report shows first: rank, score, workload, points by category
/// and the largest factors. Empty when no workload scores above 0.
pub fn top_risks_section(ranked: &[WorkloadRisk], limit: usize) -> String {
    let top = top_risks(ranked, limit);
    if top.is_empty() {
        return String::new();
    }
    let mut t = new_table(&["#", "SCORE", "WORKLOAD", "BY CATEGORY", "TOP FACTORS"]);
    for r in &top {
        let by: Vec<String> = r
            .by_category
            .iter()
            .map(|c| format!("{} {}", c.category, c.points))
            .collect();
        let factors: Vec<String> = r
            .top_factors
            .iter()
            .map(|f| format!("{:+} {}", f.points, f.detail))
            .collect();
        t.add_row(vec![
            r.rank.to_string(),
            r.score.to_string(),
            r.workload.clone(),
            by.join("\n"),
            factors.join("\n"),
        ]);
    }
    keep_whole(&mut t, &[0, 1, 3]);
    format!(
        "Top risks ({} of {} workloads; `palisade risk` explains every score)\n{t}\n",
        top.len(),
        ranked.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_rbac::RbacIndex;
    use palisade_risk::{ExternalFacts, RiskContext, assess};

    const MANIFESTS: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: ops}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      hostPID: true\n      containers:\n      - {name: agent, image: ops/agent:2, securityContext: {privileged: true}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: calm, namespace: ops}\nspec:\n  automountServiceAccountToken: false\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - name: c\n    image: ops/calm@sha256:0000000000000000000000000000000000000000000000000000000000000000\n";

    fn ranked() -> Vec<WorkloadRisk> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.yaml");
        std::fs::write(&file, MANIFESTS).unwrap();
        let (inv, _) = crate::input::load_inventory(&[file.display().to_string()]).unwrap();
        let findings = palisade_checks::Engine::builtin().run(&inv).findings;
        let rbac = RbacIndex::build(&inv);
        assess(&RiskContext {
            inventory: &inv,
            findings: &findings,
            rbac: &rbac,
            facts: &ExternalFacts::default(),
        })
    }

    #[test]
    fn top_risks_lead_with_the_riskiest_workload_and_its_largest_factors() {
        let ranked = ranked();
        let top = top_risks(&ranked, 1);
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].workload, "DaemonSet/ops/agent");
        assert_eq!(top[0].rank, 1);
        // privileged (30) is the largest single factor; the categories add up to the score.
        assert_eq!(top[0].top_factors[0].points, 30);
        assert!(top[0].top_factors.len() <= 5);
        let sum: i32 = top[0].by_category.iter().map(|c| c.points).sum();
        assert_eq!(sum, top[0].score as i32);
        let text = top_risks_section(&ranked, 3);
        assert!(text.starts_with("Top risks ("), "{text}");
        assert!(
            text.contains("DaemonSet/ops/agent")
                && text.contains("+30 container agent runs privileged"),
            "{text}"
        );
        let json = serde_json::to_value(&top).unwrap();
        assert_eq!(json[0]["id"]["name"], "agent");
        assert!(top_risks_section(&[], 3).is_empty());
    }
}
