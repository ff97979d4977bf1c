//! Rendering of risk rankings.

use palisade_risk::WorkloadRisk;
use serde::Serialize;

use crate::cmd::rbac::Format;
use crate::render::rbac::new_table;

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
    Ok(t.to_string())
}
