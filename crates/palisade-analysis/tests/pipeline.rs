//! The pipeline end to end on small inventories: it gives what its parts give, applies the
//! filters before ranking, and `affected_by` leaves out only analyses a change cannot move.

use std::collections::{BTreeMap, HashSet};

use palisade_analysis::{
    Analyses, Filters, Inputs, Options, Phase, RiskOptions, affected_by, analyze, analyze_observed,
    network_facts,
};
use palisade_checks::Engine;
use palisade_model::{Inventory, Severity};
use palisade_rbac::RbacIndex;
use palisade_risk::{Category, ExternalFacts, Factor, RiskContext, WorkloadRisk};

const NAMESPACE: &str =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: web}}\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      serviceAccountName: web\n      containers:\n      - name: web\n        image: shop/web:1\n        ports: [{containerPort: 8080}]\n        securityContext: {privileged: true}\n        env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: token, key: t}}}]\n";
const WORKER: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: shop}\nspec:\n  selector: {matchLabels: {app: worker}}\n  template:\n    metadata: {labels: {app: worker}}\n    spec:\n      containers:\n      - {name: w, image: shop/worker:1}\n";
const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n";
const POLICY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: worker}}}]\n";
const POLICY_DENY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n";
const ACCOUNT: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n";
const ACCOUNT_NO_TOKEN: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\nautomountServiceAccountToken: false\n";
const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: shop}\nrules:\n- {apiGroups: [\"\"], resources: [configmaps], verbs: [get]}\n";
const ROLE_WIDE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: shop}\nrules:\n- {apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}\n";
const BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: reader, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\nsubjects:\n- {kind: ServiceAccount, name: web, namespace: shop}\n";
const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: fast}\n";
const CONFIG_MAP_CHANGED: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: slow, password: hunter2}\n";

fn base() -> Vec<&'static str> {
    vec![
        NAMESPACE, DEPLOYMENT, WORKER, SERVICE, POLICY, ACCOUNT, ROLE, BINDING, CONFIG_MAP,
    ]
}

/// The base documents with each `(old, new)` of `changes` applied.
fn replaced(changes: &[(&str, &'static str)]) -> Vec<&'static str> {
    base()
        .into_iter()
        .map(|d| changes.iter().find(|(old, _)| *old == d).map_or(d, |c| c.1))
        .collect()
}

fn inventory(docs: &[&str]) -> Inventory {
    let ingested = palisade_ingest::ingest_str("cluster.yaml", &docs.join("---\n"));
    assert!(!ingested.has_errors(), "{:?}", ingested.diagnostics);
    ingested.inventory
}

fn ranked_options(top: usize) -> Options {
    Options {
        risk: Some(RiskOptions { top, network: true }),
        ..Options::builtin()
    }
}

fn run(inv: &Inventory, options: &Options) -> palisade_analysis::Analysis {
    analyze(
        &Inputs {
            inventory: inv,
            diagnostics: &[],
            image_facts: None,
            runtime_policy: None,
        },
        options,
    )
}

#[test]
fn the_pipeline_gives_what_its_parts_give() {
    let inv = inventory(&base());
    let analysis = run(&inv, &ranked_options(3));
    let outcome = Engine::builtin().run(&inv);
    assert_eq!(analysis.findings, outcome.findings);
    assert_eq!(analysis.checks_run, outcome.checks_run);
    let rbac = RbacIndex::build(&inv);
    let facts = ExternalFacts {
        network: network_facts(&inv),
        ..ExternalFacts::default()
    };
    let ranking = palisade_risk::assess(&RiskContext {
        inventory: &inv,
        findings: &outcome.findings,
        rbac: &rbac,
        facts: &facts,
    });
    assert_eq!(analysis.ranking.as_deref(), Some(ranking.as_slice()));
    let top = analysis.top_risks.as_deref().expect("top risks asked for");
    assert_eq!(top, palisade_risk::top_risks(&ranking, 3));
    assert_eq!(top[0].workload, "Deployment/shop/web");
    let counts = analysis.counts();
    assert_eq!(counts.values().sum::<usize>(), analysis.findings.len());
    assert_eq!(counts.len(), Severity::ALL.len());
    assert!(!analysis.input_errors);

    // Without ranking: no RBAC or network work, no ranking.
    let unranked = run(&inv, &Options::builtin());
    assert!(unranked.ranking.is_none() && unranked.top_risks.is_none());
    assert_eq!(unranked.findings, outcome.findings);
    // Ranking without top risks (`palisade risk`).
    let all = run(&inv, &ranked_options(0));
    assert!(all.top_risks.is_none());
    assert_eq!(all.ranking, Some(ranking));
}

#[test]
fn filters_apply_before_the_ranking_and_phases_are_reported_in_order() {
    let inv = inventory(&base());
    let full = run(&inv, &ranked_options(5));
    let baseline: HashSet<String> = full
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .map(|f| f.fingerprint())
        .collect();
    assert!(!baseline.is_empty());
    let options = Options {
        filters: Filters {
            min_severity: Some(Severity::Medium),
            baseline: Some(baseline.clone()),
        },
        ..ranked_options(5)
    };
    let mut phases = Vec::new();
    let filtered = analyze_observed(
        &Inputs {
            inventory: &inv,
            diagnostics: &[],
            image_facts: None,
            runtime_policy: None,
        },
        &options,
        &mut |p| phases.push(p),
    );
    assert_eq!(phases, [Phase::Checks, Phase::Risk]);
    let expected: Vec<_> = full
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium && !baseline.contains(&f.fingerprint()))
        .cloned()
        .collect();
    assert_eq!(filtered.findings, expected);
    assert!(!filtered.has_finding_at_or_above(Severity::Critical));
    // The ranking scores the kept findings only.
    let points = |a: &palisade_analysis::Analysis| findings_points(a.ranking.as_deref().unwrap());
    assert!(points(&filtered) < points(&full));
}

fn findings_points(ranking: &[WorkloadRisk]) -> i32 {
    ranking
        .iter()
        .flat_map(|r| &r.factors)
        .filter(|f| f.category == Category::Findings)
        .map(|f| f.points)
        .sum()
}

/// What each analysis produced, to compare before and after a change.
struct Observed {
    network: BTreeMap<palisade_model::WorkloadId, palisade_risk::NetworkFacts>,
    rbac: Vec<(String, Vec<Factor>)>,
    ranking: Vec<WorkloadRisk>,
}

fn observe(docs: &[&str]) -> Observed {
    let inv = inventory(docs);
    let ranking = run(&inv, &ranked_options(5)).ranking.unwrap();
    Observed {
        network: network_facts(&inv),
        rbac: ranking
            .iter()
            .map(|r| {
                let rbac = r.factors.iter().filter(|f| f.category == Category::Rbac);
                (r.workload.to_string(), rbac.cloned().collect())
            })
            .collect(),
        ranking,
    }
}

#[test]
fn a_change_moves_no_analysis_that_affected_by_leaves_out() {
    let before = observe(&base());
    let changes: [(&str, &str, &str); 4] = [
        ("Role", ROLE, ROLE_WIDE),
        ("ServiceAccount", ACCOUNT, ACCOUNT_NO_TOKEN),
        ("NetworkPolicy", POLICY, POLICY_DENY),
        ("ConfigMap", CONFIG_MAP, CONFIG_MAP_CHANGED),
    ];
    for (kind, old, new) in changes {
        let after = observe(&replaced(&[(old, new)]));
        let affected = affected_by(kind);
        if !affected.contains(Analyses::NETWORK_FACTS) {
            assert!(
                before.network == after.network,
                "{kind} moved the network facts"
            );
        }
        if !affected.contains(Analyses::RBAC) {
            assert_eq!(before.rbac, after.rbac, "{kind} moved the RBAC factors");
        }
        if !affected.contains(Analyses::RISK) {
            assert_eq!(before.ranking, after.ranking, "{kind} moved the ranking");
        }
    }
    // The changes are real: each moves what its kind is said to affect.
    let wide = observe(&replaced(&[(ROLE, ROLE_WIDE)]));
    assert_ne!(before.rbac, wide.rbac);
    let no_token = observe(&replaced(&[(ROLE, ROLE_WIDE), (ACCOUNT, ACCOUNT_NO_TOKEN)]));
    assert_ne!(wide.rbac, no_token.rbac);
    assert!(before.network != observe(&replaced(&[(POLICY, POLICY_DENY)])).network);
}
