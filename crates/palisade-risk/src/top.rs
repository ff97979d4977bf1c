//! The "top risks" summary of a ranking: the few riskiest workloads, each with its points per
//! category and its largest factors. A scan report shows it before the findings (the JSON
//! report's `top_risks` member, see docs/output.md); `palisade risk` lists every factor instead.

use serde::Serialize;

use crate::score::{Factor, WorkloadRisk};
use palisade_model::WorkloadId;

/// How many factors a [`TopRisk`] keeps.
pub const TOP_FACTORS: usize = 5;

/// One of the riskiest workloads, summarised (an entry of a scan report's `top_risks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopRisk {
    /// Rank, from 1.
    pub rank: usize,
    /// `Kind/namespace/name`.
    pub workload: String,
    /// The workload's identity.
    pub id: WorkloadId,
    /// Its service account.
    pub service_account: String,
    /// The score.
    pub score: u32,
    /// Points per category (after caps), highest first.
    pub by_category: Vec<CategoryPoints>,
    /// The factors with positive points, largest first (at most [`TOP_FACTORS`]).
    pub top_factors: Vec<Factor>,
}

/// Points of one category of a workload's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryPoints {
    /// Category (`findings`, `vulnerabilities`, `privileges`, …).
    pub category: &'static str,
    /// Its points after the cap.
    pub points: i32,
}

/// The `limit` riskiest workloads of a list ranked by [`crate::assess`]; workloads with score 0
/// are left out.
pub fn top_risks(ranked: &[WorkloadRisk], limit: usize) -> Vec<TopRisk> {
    ranked
        .iter()
        .filter(|r| r.score > 0)
        .take(limit)
        .enumerate()
        .map(|(i, r)| TopRisk {
            rank: i + 1,
            workload: r.workload.to_string(),
            id: r.workload.clone(),
            service_account: r.service_account.clone(),
            score: r.score,
            by_category: by_category(&r.factors),
            top_factors: largest_factors(&r.factors),
        })
        .collect()
}

/// Points per category, zero sums left out, highest first (ties by name).
fn by_category(factors: &[Factor]) -> Vec<CategoryPoints> {
    let mut by: Vec<CategoryPoints> = Vec::new();
    for f in factors {
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
    by
}

/// The factors with positive points, largest first, at most [`TOP_FACTORS`].
fn largest_factors(factors: &[Factor]) -> Vec<Factor> {
    let mut top: Vec<Factor> = factors.iter().filter(|f| f.points > 0).cloned().collect();
    // Stable: equal points keep the category order of the score.
    top.sort_by_key(|f| std::cmp::Reverse(f.points));
    top.truncate(TOP_FACTORS);
    top
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Category;

    fn factor(category: Category, points: i32, detail: &str) -> Factor {
        Factor {
            category,
            points,
            detail: detail.into(),
        }
    }

    fn risk(name: &str, factors: Vec<Factor>) -> WorkloadRisk {
        WorkloadRisk {
            workload: WorkloadId {
                namespace: "ns".into(),
                kind: "Deployment".into(),
                name: name.into(),
            },
            service_account: "default".into(),
            score: factors.iter().map(|f| f.points).sum::<i32>().max(0) as u32,
            factors,
        }
    }

    #[test]
    fn categories_are_summed_and_factors_kept_largest_first() {
        let ranked = vec![
            risk(
                "a",
                vec![
                    factor(Category::Findings, 5, "f1"),
                    factor(Category::Findings, 10, "f2"),
                    factor(Category::Privileges, 30, "privileged"),
                    factor(Category::Privileges, 25, "SYS_ADMIN"),
                    factor(Category::Privileges, -5, "cap"),
                    factor(Category::Secrets, 3, "s1"),
                    factor(Category::Network, 3, "n1"),
                ],
            ),
            risk("calm", vec![]),
        ];
        let top = top_risks(&ranked, 5);
        assert_eq!(top.len(), 1, "score 0 is left out");
        let a = &top[0];
        assert_eq!((a.rank, a.workload.as_str()), (1, "Deployment/ns/a"));
        let by: Vec<(&str, i32)> = a
            .by_category
            .iter()
            .map(|c| (c.category, c.points))
            .collect();
        assert_eq!(
            by,
            [
                ("privileges", 50),
                ("findings", 15),
                ("network", 3),
                ("secrets", 3)
            ]
        );
        let details: Vec<&str> = a.top_factors.iter().map(|f| f.detail.as_str()).collect();
        assert_eq!(details, ["privileged", "SYS_ADMIN", "f2", "f1", "s1"]);
        assert!(top_risks(&ranked, 0).is_empty());
    }
}
