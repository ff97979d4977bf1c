//! Store benchmarks (docs/benchmarks.md): a 10,000-workload snapshot with 200,000 findings
//! pushed, findings pages filtered by cluster and severity with 10 such clusters stored, and
//! alerts ingested in batches of 1,000.
//!
//! `cargo run --release -p palisade-store --example bench -- sqlite|postgres [clusters]`
//! (PostgreSQL: a private server from palisade_testkit, scripts/setup/50-postgres.sh, with
//! `fsync` on as in production.)

use std::time::{Duration, Instant};

use palisade_api::{
    AlertBatch, AlertRecord, FindingQuery, FindingRecord, ImageRecord, ObjectKey, RiskRecord,
    Snapshot, VulnerabilityRecord, WorkloadRecord,
};
use palisade_model::WorkloadId;
use palisade_model::finding::Severity;
use palisade_model::time::Timestamp;
use palisade_store::Store;

const WORKLOADS: usize = 10_000;
const FINDINGS_PER_WORKLOAD: usize = 20;

fn snapshot(id: &str, scanned_at: Timestamp, generation: usize) -> Snapshot {
    let mut workloads = Vec::with_capacity(WORKLOADS);
    let mut findings = Vec::with_capacity(WORKLOADS * FINDINGS_PER_WORKLOAD);
    let mut objects = Vec::with_capacity(WORKLOADS);
    for i in 0..WORKLOADS {
        let namespace = format!("ns-{:03}", i % 200);
        let name = format!("app-{i:05}");
        let image = format!(
            "registry.example/team-{}/svc-{}:1.{}",
            i % 50,
            i % 500,
            i % 7
        );
        workloads.push(WorkloadRecord {
            id: WorkloadId::new(namespace.clone(), "Deployment", name.clone()),
            labels: [
                ("app".to_string(), name.clone()),
                ("team".to_string(), format!("team-{}", i % 50)),
            ]
            .into(),
            service_account: Some("default".into()),
            images: vec![image],
            risk: Some(RiskRecord {
                score: (i * 37 % 1000) as u32,
                rank: (i + 1) as u32,
                factors: vec![
                    "privileged container".into(),
                    "exposed by a LoadBalancer".into(),
                ],
            }),
            owner: Some(format!("team-{}", i % 50)),
        });
        for j in 0..FINDINGS_PER_WORKLOAD {
            // Each generation replaces 10% of the findings with new ones.
            let check = if j < 2 {
                format!("PAL-{:03}-g{generation}", 100 + j)
            } else {
                format!("PAL-{:03}", j)
            };
            findings.push(FindingRecord {
                fingerprint: format!("{check}/{namespace}/{name}"),
                severity: Severity::ALL[(i + j) % 5],
                title: format!("{check} title"),
                message: format!("container app of Deployment {namespace}/{name} breaks {check}"),
                object: ObjectKey {
                    kind: "Deployment".into(),
                    namespace: Some(namespace.clone()),
                    name: name.clone(),
                },
                container: Some("app".into()),
                path: Some("spec.template.spec.containers[0].securityContext".into()),
                check_id: check,
            });
        }
        objects.push(palisade_api::RawObject::from_value(&serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x"}]}}}
        })));
    }
    let images = (0..500)
        .map(|k| ImageRecord {
            reference: format!("registry.example/team-{}/svc-{k}:1.0", k % 50),
            digest: Some(format!("sha256:{k:064}")),
            vulnerabilities: (0..10)
                .map(|v| VulnerabilityRecord {
                    id: format!("CVE-2025-{:05}", k * 10 + v),
                    package: format!("pkg-{v}"),
                    version: "1.0".into(),
                    fixed: Some("1.1".into()),
                    severity: Severity::ALL[v % 5],
                })
                .collect(),
        })
        .collect();
    Snapshot {
        id: id.into(),
        scanned_at,
        tool_version: "0.1.0".into(),
        source: "cluster".into(),
        workloads,
        findings,
        images,
        objects,
        diagnostics: vec![],
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "sqlite".into());
    let clusters: usize = args.next().map_or(10, |n| n.parse().expect("clusters"));
    let dir = tempfile::tempdir().unwrap();
    let _pg;
    let url = match backend.as_str() {
        "sqlite" => dir.path().join("store.db").display().to_string(),
        "postgres" => {
            let pg = palisade_testkit::postgres::Postgres::new();
            let url = pg.url();
            // The test server runs without fsync; measure with it, as deployed.
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query("ALTER SYSTEM SET fsync = on")
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("SELECT pg_reload_conf()")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
            _pg = pg;
            url
        }
        other => panic!("unknown back end {other}: sqlite or postgres"),
    };
    let store = Store::open(&url).await.unwrap();
    let t0 = Timestamp::from_unix_secs(1_796_083_200);

    let built = Instant::now();
    let first = snapshot("g0", t0, 0);
    println!(
        "built a snapshot of {} workloads, {} findings, {} images, {} objects in {:.2?}",
        first.workloads.len(),
        first.findings.len(),
        first.images.len(),
        first.objects.len(),
        built.elapsed()
    );
    let mut push_times = Vec::new();
    for c in 0..clusters {
        let cluster = format!("cluster-{c:02}");
        let start = Instant::now();
        store.push_snapshot(&cluster, &first, t0).await.unwrap();
        push_times.push(start.elapsed());
    }
    println!("push into an empty cluster ({clusters} clusters): {push_times:.2?}");
    // Replacing a cluster's state: 10% of the findings new, 10% resolved.
    let second = snapshot("g1", Timestamp::from_unix_secs(1_796_083_200 + 3600), 1);
    let start = Instant::now();
    store
        .push_snapshot("cluster-00", &second, t0)
        .await
        .unwrap();
    println!(
        "push replacing cluster-00's state (10% findings new, 10% resolved): {:.2?}",
        start.elapsed()
    );

    if std::env::var_os("BENCH_ANALYZE").is_some() && backend == "postgres" {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        pool.close().await;
        println!("ran ANALYZE");
    }
    let mut times = Vec::new();
    let mut rows = 0;
    for q in 0..300usize {
        let query = FindingQuery {
            cluster: Some(format!("cluster-{:02}", q % clusters)),
            severity: Some([Severity::Critical, Severity::High, Severity::Medium][q % 3]),
            limit: Some(100),
            ..FindingQuery::default()
        };
        let start = Instant::now();
        let mut page = store.findings(&query, t0).await.unwrap();
        // Every third query reads a later page too (keyset: the cursor's page costs the same).
        if q % 3 == 0 {
            let next = FindingQuery {
                cursor: page.next.clone(),
                ..query
            };
            page = store.findings(&next, t0).await.unwrap();
        }
        times.push(start.elapsed());
        rows += page.items.len();
    }
    times.sort();
    println!(
        "findings page of 100 by cluster + severity, {} findings stored: p50 {:.2?}, p95 {:.2?}, max {:.2?} ({rows} rows)",
        clusters * WORKLOADS * FINDINGS_PER_WORKLOAD,
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1]
    );

    let batches = 100;
    let per_batch = 1000;
    let start = Instant::now();
    for b in 0..batches {
        let alerts = (0..per_batch)
            .map(|i| AlertRecord {
                id: format!("alert-{b}-{i}"),
                time: Timestamp::from_unix_secs(1_796_083_200 + (b * per_batch + i) as i64),
                node: Some(format!("node-{}", i % 20)),
                workload: Some(WorkloadId::new("ns-001", "Deployment", format!("app-{i:05}"))),
                container: Some("app".into()),
                rule: "shell-in-container".into(),
                severity: Severity::High,
                message: "a shell started in container app".into(),
                detail: serde_json::json!({"process": {"exe": "/bin/sh", "args": ["sh", "-c", "id"]}}),
            })
            .collect();
        store
            .push_alerts("cluster-01", &AlertBatch { alerts }, t0)
            .await
            .unwrap();
    }
    let elapsed = start.elapsed();
    println!(
        "alerts: {} in batches of {per_batch} in {elapsed:.2?} = {:.0}/s",
        batches * per_batch,
        (batches * per_batch) as f64 / elapsed.as_secs_f64()
    );
    println!("peak RSS of this process: {} MB", peak_rss_mb());
    if backend == "sqlite" {
        let size: u64 = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!("database files: {} MB", size / 1_000_000);
    }
}
