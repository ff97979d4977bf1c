//! Scale benchmark: resolves a generated inventory of 5,000 roles and 10,000 bindings and times
//! building the index, who-can, can and risky queries.
//!
//! Run: `cargo run --release -p palisade-rbac --example rbac_scale [ROLES BINDINGS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_model::api::{AggregationRule, PolicyRule, RoleRef, Subject};
use palisade_model::inventory::{Resource, RoleBindingSpec, RoleSpec};
use palisade_model::{Inventory, LabelSelector, Labels, ObjectMeta, SourceLocation};
use palisade_rbac::{Principal, RbacIndex, Request};

/// A small deterministic generator (64-bit LCG) so every run sees the same inventory.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];
const RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "pods/log"),
    ("", "pods/exec"),
    ("", "secrets"),
    ("", "configmaps"),
    ("", "services"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("batch", "jobs"),
    ("networking.k8s.io", "ingresses"),
    ("example.com", "widgets"),
];

fn meta(name: String, ns: Option<String>, labels: Labels) -> ObjectMeta {
    ObjectMeta {
        name,
        namespace: ns,
        labels,
        ..Default::default()
    }
}

fn resource<S>(kind: &str, meta: ObjectMeta, spec: S, line: u32) -> Resource<S> {
    Resource {
        api_version: "rbac.authorization.k8s.io/v1".into(),
        kind: kind.into(),
        meta,
        source: SourceLocation::new("generated.yaml", line),
        spec,
        raw: Arc::new(serde_json::Value::Null),
    }
}

fn random_rules(rng: &mut Lcg) -> Vec<PolicyRule> {
    (0..1 + rng.next(5))
        .map(|_| {
            let (g, r) = RESOURCES[rng.next(RESOURCES.len())];
            let verbs = (0..1 + rng.next(3))
                .map(|_| VERBS[rng.next(VERBS.len())].to_string())
                .collect();
            PolicyRule {
                api_groups: vec![g.into()],
                resources: vec![r.into()],
                verbs,
                resource_names: if rng.next(10) == 0 {
                    vec![format!("obj-{}", rng.next(50))]
                } else {
                    Vec::new()
                },
                non_resource_urls: Vec::new(),
            }
        })
        .collect()
}

fn generate(roles: usize, bindings: usize) -> Inventory {
    let mut rng = Lcg(42);
    let namespaces = 200;
    let mut inv = Inventory::default();
    let cluster_roles = roles / 5;
    let aggregated = 20.min(cluster_roles);
    for i in 0..roles {
        let line = i as u32 + 1;
        if i < aggregated {
            let sel = LabelSelector::from_labels(
                [(format!("aggregate-to-agg-{i}"), "true".to_string())].into(),
            );
            inv.roles.push(resource(
                "ClusterRole",
                meta(format!("agg-{i}"), None, Labels::new()),
                RoleSpec {
                    rules: Vec::new(),
                    aggregation_rule: Some(AggregationRule {
                        cluster_role_selectors: vec![sel],
                    }),
                },
                line,
            ));
        } else if i < cluster_roles {
            let labels: Labels = [(
                format!("aggregate-to-agg-{}", rng.next(aggregated)),
                "true".to_string(),
            )]
            .into();
            inv.roles.push(resource(
                "ClusterRole",
                meta(format!("cr-{i}"), None, labels),
                RoleSpec {
                    rules: random_rules(&mut rng),
                    aggregation_rule: None,
                },
                line,
            ));
        } else {
            inv.roles.push(resource(
                "Role",
                meta(
                    format!("role-{i}"),
                    Some(format!("ns-{}", i % namespaces)),
                    Labels::new(),
                ),
                RoleSpec {
                    rules: random_rules(&mut rng),
                    aggregation_rule: None,
                },
                line,
            ));
        }
    }
    for i in 0..bindings {
        let line = (roles + i) as u32 + 1;
        let subjects = (0..1 + rng.next(3))
            .map(|_| match rng.next(3) {
                0 => Subject {
                    kind: "User".into(),
                    name: format!("user-{}", rng.next(500)),
                    namespace: None,
                    api_group: Some("rbac.authorization.k8s.io".into()),
                },
                1 => Subject {
                    kind: "Group".into(),
                    name: format!("group-{}", rng.next(50)),
                    namespace: None,
                    api_group: Some("rbac.authorization.k8s.io".into()),
                },
                _ => Subject {
                    kind: "ServiceAccount".into(),
                    name: format!("sa-{}", rng.next(20)),
                    namespace: Some(format!("ns-{}", rng.next(namespaces))),
                    api_group: None,
                },
            })
            .collect();
        if i % 5 == 0 {
            let target = rng.next(cluster_roles);
            let name = if target < aggregated {
                format!("agg-{target}")
            } else {
                format!("cr-{target}")
            };
            inv.role_bindings.push(resource(
                "ClusterRoleBinding",
                meta(format!("crb-{i}"), None, Labels::new()),
                RoleBindingSpec {
                    role_ref: RoleRef {
                        api_group: "rbac.authorization.k8s.io".into(),
                        kind: "ClusterRole".into(),
                        name,
                    },
                    subjects,
                },
                line,
            ));
        } else {
            // A namespaced Role of the binding's namespace, or a ClusterRole.
            let ns = rng.next(namespaces);
            let (kind, name) = if rng.next(2) == 0 {
                let per_ns = (roles - cluster_roles) / namespaces;
                let k = rng.next(per_ns.max(1));
                let idx = cluster_roles + ((k * namespaces + ns) % (roles - cluster_roles));
                ("Role", format!("role-{idx}"))
            } else {
                (
                    "ClusterRole",
                    format!("cr-{}", aggregated + rng.next(cluster_roles - aggregated)),
                )
            };
            inv.role_bindings.push(resource(
                "RoleBinding",
                meta(format!("rb-{i}"), Some(format!("ns-{ns}")), Labels::new()),
                RoleBindingSpec {
                    role_ref: RoleRef {
                        api_group: "rbac.authorization.k8s.io".into(),
                        kind: kind.into(),
                        name,
                    },
                    subjects,
                },
                line,
            ));
        }
    }
    inv.finalize();
    inv
}

/// CPU time this thread has spent on a CPU (Linux `/proc/thread-self/schedstat`), so results
/// stay meaningful on a loaded machine; `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Runs `f`, printing wall-clock and on-CPU time; returns its value and the CPU time (wall time
/// when CPU time is unavailable).
fn time<T>(label: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    let cpu0 = cpu_time();
    let t = Instant::now();
    let v = f();
    let wall = t.elapsed();
    let cpu = cpu_time().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    match cpu {
        Some(c) => println!("{label}: {c:?} CPU ({wall:?} wall)"),
        None => println!("{label}: {wall:?} wall"),
    }
    (v, cpu.unwrap_or(wall))
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let roles = args.first().copied().unwrap_or(5_000);
    let bindings = args.get(1).copied().unwrap_or(10_000);
    let inv = generate(roles, bindings);
    println!(
        "input: {} roles ({} cluster roles), {} bindings",
        inv.roles.len(),
        inv.roles.iter().filter(|r| r.is_cluster_role()).count(),
        inv.role_bindings.len()
    );
    let (idx, build) = time("build index (aggregation + bindings)", || {
        RbacIndex::build(&inv)
    });
    println!("  {} diagnostics", idx.diagnostics().len());

    let queries: Vec<Request> = (0..100)
        .map(|i| {
            let (g, r) = RESOURCES[i % RESOURCES.len()];
            let target = if g.is_empty() {
                r.to_string()
            } else {
                let (res, sub) = r.split_once('/').map_or((r, None), |(a, b)| (a, Some(b)));
                format!(
                    "{res}.{g}{}",
                    sub.map(|s| format!("/{s}")).unwrap_or_default()
                )
            };
            let ns = format!("ns-{}", i % 200);
            Request::parse(VERBS[i % VERBS.len()], &target, Some(&ns), None).expect("valid query")
        })
        .collect();
    let (hits, who) = time("who-can x100", || {
        queries.iter().map(|q| idx.who_can(q).len()).sum::<usize>()
    });
    println!("  {:?} CPU per query, {hits} grants found", who / 100);

    let principals: Vec<Principal> = (0..1000)
        .map(|i| match i % 3 {
            0 => Principal::user(&format!("user-{}", i % 500)),
            1 => Principal::group(&format!("group-{}", i % 50)),
            _ => Principal::service_account(&format!("ns-{}", i % 200), &format!("sa-{}", i % 20)),
        })
        .collect();
    let (allowed, can) = time("can x1000", || {
        principals
            .iter()
            .zip(queries.iter().cycle())
            .filter(|(p, q)| idx.can(p, q).allowed)
            .count()
    });
    println!("  {:?} CPU per query, {allowed} allowed", can / 1000);

    let (risky, risky_t) = time("risky", || idx.risky(&inv));
    println!("  {} risky grants", risky.len());
    println!(
        "total CPU, build + 100 who-can + 1000 can + risky: {:?}",
        build + who + can + risky_t
    );
}
