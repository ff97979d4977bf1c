//! A focused run gives each workload what the full run gives it: every workload of the check
//! fixtures (one inventory per file, every template's cases) and of the demo cluster, analysed
//! over its neighbourhood with the full run's RBAC index and network facts, has the full run's
//! findings, suppressed findings and score.

use std::path::{Path, PathBuf};

use palisade_analysis::{Inputs, Options, RiskOptions, analyze_focused, analyze_with};
use palisade_model::{Finding, Inventory, WorkloadId};

fn inventories() -> Vec<(PathBuf, Inventory)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixtures = root.join("crates/palisade-checks/tests/fixtures");
    // One directory per check (`PAL-001/fires.yaml`, `passes.yaml`, …).
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("check fixtures")
        .flat_map(|e| std::fs::read_dir(e.expect("entry").path()).expect("check's fixtures"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() > 300, "{} fixtures", files.len());
    files.push(root.join("examples/demo-cluster"));
    let limits = palisade_ingest::Limits {
        keep_raw: true,
        ..Default::default()
    };
    files
        .into_iter()
        .map(|f| {
            let inv = palisade_ingest::ingest_paths(std::slice::from_ref(&f), &limits).inventory;
            (f, inv)
        })
        .collect()
}

/// Findings on `id`, as comparable text, sorted.
fn on(findings: &[&Finding], id: &WorkloadId) -> Vec<String> {
    let mut out: Vec<String> = findings
        .iter()
        .filter(|f| {
            f.object.kind == id.kind
                && f.object.name == id.name
                && f.object.namespace.as_deref().unwrap_or("default") == id.namespace
        })
        .map(|f| format!("{f:?}"))
        .collect();
    out.sort();
    out
}

#[test]
fn focused_runs_give_each_workload_what_the_full_run_gives_it() {
    let options = Options {
        risk: Some(RiskOptions {
            top: 0,
            network: true,
        }),
        ..Options::builtin()
    };
    let mut workloads = 0;
    for (file, inv) in inventories() {
        let inputs = Inputs {
            inventory: &inv,
            diagnostics: &[],
            image_facts: None,
            runtime_policy: None,
        };
        let (full, known) = analyze_with(&inputs, &options, &mut |_| {}, None);
        let known = known.expect("ranked");
        let ranking = full.ranking.as_deref().unwrap_or_default();
        for risk in ranking {
            let id = &risk.workload;
            workloads += 1;
            let focused = analyze_focused(
                &inputs,
                std::slice::from_ref(id),
                &options,
                std::sync::Arc::clone(&known),
            );
            let what = format!(
                "{} {}/{}/{}",
                file.display(),
                id.namespace,
                id.kind,
                id.name
            );
            let all: Vec<&Finding> = full.findings.iter().collect();
            let mine: Vec<&Finding> = focused.analysis.findings.iter().collect();
            assert_eq!(on(&mine, id), on(&all, id), "findings of {what}");
            assert_eq!(
                mine.len(),
                on(&mine, id).len(),
                "only {what}'s findings are kept"
            );
            let all: Vec<&Finding> = full.suppressed.iter().map(|s| &s.finding).collect();
            let mine: Vec<&Finding> = focused
                .analysis
                .suppressed
                .iter()
                .map(|s| &s.finding)
                .collect();
            assert_eq!(on(&mine, id), on(&all, id), "suppressed findings of {what}");
            let scored = focused.analysis.ranking.as_deref().unwrap_or_default();
            assert_eq!(scored.len(), 1, "{what}");
            assert_eq!(
                format!("{:?}", scored[0]),
                format!("{risk:?}"),
                "risk of {what}"
            );
        }
    }
    assert!(workloads > 300, "{workloads} workloads compared");
}
