//! The runtime checks (PAL-097, PAL-098) on a policy exported from agent state, exactly as
//! `palisade agent export-policy` and central build it: the one engine turns runtime facts into
//! findings (this test was `RuntimePolicy::findings`'s before the findings moved here).

use std::sync::Arc;

use palisade_checks::{Engine, EngineOptions, Severity};
use palisade_runtime::alert::Alert;
use palisade_runtime::baseline::BaselineStore;
use palisade_runtime::event::{ContainerInfo, ContainerRuntime, Event, ProcessInfo};
use palisade_runtime::policy::{
    AllowedProcess, ExportOptions, FindingsSummary, ProcessAllowlist, RuntimePolicy, export_policy,
};
use palisade_runtime::rules::RuleSet;

const ID: &str = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";
const IMAGE_CHECK: &str = "PAL-097";
const ALLOWLIST_CHECK: &str = "PAL-098";

fn alert(rule: &str, image: &str, t: u64) -> Alert {
    let container = ContainerInfo {
        image: Some(image.into()),
        ..ContainerInfo::bare(ContainerRuntime::Containerd, ID)
    };
    let sh = ProcessInfo {
        args: vec!["sh".into(), "-c".into(), "id".into()],
        name: "sh".into(),
        ..Default::default()
    };
    let event = Event::exec(t, sh, None, Some(container));
    Alert::for_rule(RuleSet::builtin().unwrap().get(rule).unwrap(), &event)
}

fn policy(summary: &FindingsSummary) -> RuntimePolicy {
    let mut store = BaselineStore::new();
    store.seed_locked(
        ProcessAllowlist {
            key: "k8s/shop/Deployment/web/nginx".into(),
            namespace: Some("shop".into()),
            workload: Some("Deployment/web".into()),
            container: Some("nginx".into()),
            image: None,
            locked_at: "1970-01-01T00:00:01.000Z".into(),
            processes: vec![AllowedProcess {
                name: "nginx".into(),
                exe: "/usr/sbin/nginx".into(),
            }],
        }
        .to_locked_baseline(0),
    );
    export_policy(summary, &store, &ExportOptions::default(), 2000)
}

fn deployment(image: &str, command: &str) -> palisade_model::Inventory {
    let yaml = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\n\
         spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    \
         metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - name: nginx\n        \
         image: {image}\n        command: {command}\n"
    );
    let ingested = palisade_ingest::ingest_str("web.yaml", &yaml);
    assert!(
        ingested.diagnostics.is_empty(),
        "{:?}",
        ingested.diagnostics
    );
    ingested.inventory
}

fn run(
    policy: Option<RuntimePolicy>,
    options: EngineOptions,
    inv: &palisade_model::Inventory,
) -> Vec<palisade_model::Finding> {
    let engine = Engine::new(
        palisade_checks::Catalog::builtin(),
        EngineOptions {
            only: vec![IMAGE_CHECK.into(), ALLOWLIST_CHECK.into()],
            runtime: policy.map(Arc::new),
            ..options
        },
    );
    engine.run(inv).findings
}

#[test]
fn findings_flag_workloads_using_flagged_images_and_unlisted_commands() {
    let mut s = FindingsSummary::default();
    s.record(
        &alert("shell-in-container", "docker.io/library/nginx:1.27", 5000),
        5000,
    );
    let p = policy(&s);
    let inv = deployment("nginx:1.27", r#"["/bin/sh", "-c", "run.sh"]"#);
    let f = run(Some(p.clone()), EngineOptions::default(), &inv);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!(&*f[0].check_id, IMAGE_CHECK);
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(f[0].container.as_deref(), Some("nginx"));
    assert!(f[0].message.contains("shell-in-container"));
    assert!(
        f[0].message
            .contains("1 alert, last 1970-01-01T00:00:05.000Z"),
        "{}",
        f[0].message
    );
    assert_eq!(
        f[0].path.as_deref(),
        Some("spec.template.spec.containers[0].image")
    );
    assert_eq!(&*f[1].check_id, ALLOWLIST_CHECK);
    assert!(f[1].message.contains("/bin/sh"));
    assert_eq!(
        f[1].path.as_deref(),
        Some("spec.template.spec.containers[0].command")
    );
    // A clean image with an allowed command gives nothing.
    let inv = deployment("nginx:1.28", r#"["/usr/sbin/nginx"]"#);
    assert!(run(Some(p), EngineOptions::default(), &inv).is_empty());
    // Without a runtime policy the checks decide nothing.
    let inv = deployment("nginx:1.27", r#"["/bin/sh"]"#);
    assert!(run(None, EngineOptions::default(), &inv).is_empty());
}

#[test]
fn a_warned_image_is_medium_and_configured_severities_still_win() {
    let mut s = FindingsSummary::default();
    let mut a = alert("network-tool-in-container", "nginx:1.27", 5000);
    a.severity = Severity::Medium;
    s.record(&a, 5000);
    let p = policy(&s);
    assert_eq!(p.images[0].verdict, palisade_runtime::policy::Verdict::Warn);
    let inv = deployment("nginx:1.27", r#"["nginx"]"#);
    let f = run(Some(p.clone()), EngineOptions::default(), &inv);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity, Severity::Medium);
    assert!(f[0].message.contains("verdict warn"), "{}", f[0].message);
    let options = EngineOptions {
        severity_overrides: [("runtime-image-misbehaved".to_string(), Severity::Critical)].into(),
        ..EngineOptions::default()
    };
    assert_eq!(run(Some(p), options, &inv)[0].severity, Severity::Critical);
}
