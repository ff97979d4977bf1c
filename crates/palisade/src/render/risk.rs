//! Rendering of risk rankings, and the "top risks" section the scan report shows first.

use palisade_risk::{TopRisk, WorkloadRisk};
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

/// The "Top risks" table a scan report shows first: rank, score, workload, points by category
/// and the largest factors, of the `top` riskiest of `ranked` workloads. Empty when `top` is.
pub fn top_risks_section(top: &[TopRisk], ranked: usize) -> String {
    if top.is_empty() {
        return String::new();
    }
    let mut t = new_table(&["#", "SCORE", "WORKLOAD", "BY CATEGORY", "TOP FACTORS"]);
    for r in top {
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
        ranked
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_rbac::RbacIndex;
    use palisade_risk::{ExternalFacts, RiskContext, assess, top_risks};

    const MANIFESTS: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: ops}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      hostPID: true\n      containers:\n      - {name: agent, image: ops/agent:2, securityContext: {privileged: true}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: calm, namespace: ops}\nspec:\n  automountServiceAccountToken: false\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - name: c\n    image: ops/calm@sha256:0000000000000000000000000000000000000000000000000000000000000000\n";

    fn ranked() -> Vec<WorkloadRisk> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.yaml");
        std::fs::write(&file, MANIFESTS).unwrap();
        let (inv, _) =
            crate::input::load_inventory(&[file.display().to_string()], &Default::default())
                .unwrap();
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
        let text = top_risks_section(&top_risks(&ranked, 3), ranked.len());
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
