//! `palisade central`: the real binary over HTTPS on loopback, on SQLite and on a real
//! PostgreSQL 15 (`palisade_testkit::postgres`, after `scripts/setup/50-postgres.sh`).
#![cfg(feature = "central")]

mod support;

use std::path::Path;

use palisade_testkit::postgres::Postgres;
use serde_json::{Value, json};
use support::central::Central;
use support::cli::palisade;

/// Manifests with high findings (privileged, host network), RBAC, a NetworkPolicy and a Secret.
const MANIFESTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/central/cluster.yaml"
);

/// `palisade scan --push` with a sensor token of `cluster`.
fn scan_push(central: &Central, dir: &Path, cluster: &str, token: &str) -> (i32, String, String) {
    let token_file = dir.join(format!("{cluster}.token"));
    std::fs::write(&token_file, token).unwrap();
    palisade(&["scan"])
        .arg(MANIFESTS)
        .args([
            "--push",
            &central.url(),
            "--cluster-name",
            cluster,
            "--token-file",
        ])
        .arg(&token_file)
        .arg("--ca-cert")
        .arg(central.ca())
        .env_remove("PALISADE_TOKEN")
        .run()
}

/// `palisade central query ARGS --format json` with `token`.
fn query(central: &Central, token: &str, args: &[&str]) -> Value {
    let (code, out, err) = palisade(&["central", "query"])
        .args(args)
        .args(["--url", &central.url(), "--ca-cert"])
        .arg(central.ca())
        .env("PALISADE_TOKEN", token)
        .run();
    assert_eq!(code, 0, "{out}\n{err}");
    if args.contains(&"json") {
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    } else {
        Value::String(out)
    }
}

/// Push with `scan --push`, then query findings, workloads, clusters, the network graph and
/// who-can through the API and the CLI client.
fn push_then_query(central: &Central, dir: &Path) {
    let sensor = central.token("sensor", Some("prod"), "prod-sensor");
    let (code, out, err) = scan_push(central, dir, "prod", &sensor);
    // The report is printed as before; the push is acknowledged on stderr.
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("PAL-"),
        "the scan report is still printed: {out}"
    );
    assert!(err.contains("pushed snapshot"), "{err}");
    assert!(
        !err.contains(&sensor) && !out.contains(&sensor),
        "the token is never printed"
    );

    let analyst = central.token("analyst", None, "alice");
    let table = query(
        central,
        &analyst,
        &["findings", "--cluster", "prod", "--severity", "high"],
    );
    let table = table.as_str().unwrap();
    assert!(table.contains("Deployment/shop/web"), "{table}");
    let page = query(
        central,
        &analyst,
        &[
            "findings",
            "--cluster",
            "prod",
            "--severity",
            "high",
            "--format",
            "json",
        ],
    );
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{page}");
    for f in items {
        assert!(
            matches!(f["severity"].as_str(), Some("high" | "critical")),
            "{f}"
        );
        assert_eq!(f["cluster"], "prod");
        assert_eq!(f["status"], "new");
    }
    let workloads = query(
        central,
        &analyst,
        &["risk", "--cluster", "prod", "--format", "json"],
    );
    let names: Vec<&str> = workloads["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{workloads}");
    assert_eq!(
        names[0], "web",
        "the privileged workload ranks first: {workloads}"
    );
    let clusters = query(central, &analyst, &["clusters", "--format", "json"]);
    assert_eq!(clusters[0]["name"], "prod", "{clusters}");
    assert_eq!(clusters[0]["workloads"], 2, "{clusters}");

    // The engines run over the stored objects.
    let graph = central.get(Some(&analyst), "/api/v1/clusters/prod/network");
    assert_eq!(graph.status, 200, "{}", graph.text);
    let to_db: Vec<&Value> = graph.json["reachability"]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["dst"]["name"] == "db")
        .collect();
    assert!(
        !to_db.is_empty() && to_db.iter().all(|c| c["src"]["name"] == "web"),
        "only web reaches db: {}",
        graph.text
    );
    let who = central.get(
        Some(&analyst),
        "/api/v1/clusters/prod/rbac/who-can?verb=get&resource=secrets&namespace=shop",
    );
    assert_eq!(who.status, 200, "{}", who.text);
    assert!(who.text.contains("\"web\""), "{}", who.text);
    // The Secret's value never reached central.
    assert!(!graph.text.contains("aHVudGVyMg"), "{}", graph.text);

    // Every reply above is what central's OpenAPI document says it is.
    let doc = central.get(Some(&analyst), "/api/v1/openapi.json").json;
    let replies = [
        ("/api/v1/findings", &page),
        ("/api/v1/risk", &workloads),
        ("/api/v1/clusters", &clusters),
        ("/api/v1/clusters/{cluster}/network", &graph.json),
        ("/api/v1/clusters/{cluster}/rbac/who-can", &who.json),
    ];
    for (path, reply) in replies {
        conforms(&doc, path, reply);
    }
    let mut broken = page.clone();
    broken["items"][0]["severity"] = json!("severe");
    let schema = reply_schema(&doc, "/api/v1/findings");
    assert!(
        !jsonschema::is_valid(&schema, &broken),
        "the document's schemas are not vacuous"
    );
}

/// The schema of `GET path`'s 200 reply, with the document's components beside it so that its
/// `$ref`s resolve.
fn reply_schema(doc: &Value, path: &str) -> Value {
    let mut schema =
        doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            .clone();
    assert!(schema.is_object(), "{path} has a reply schema");
    schema["components"] = doc["components"].clone();
    schema
}

/// Fails with every error when `reply` does not match `GET path`'s documented schema.
fn conforms(doc: &Value, path: &str, reply: &Value) {
    let schema = reply_schema(doc, path);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(reply)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{path}: {errors:#?}\n{reply}");
}

/// A central on SQLite in a fresh temporary directory (its data directory is `DIR/data`).
fn sqlite_central(extra: &[&str]) -> (tempfile::TempDir, Central) {
    let dir = tempfile::tempdir().unwrap();
    let central = Central::start(&dir.path().join("data"), None, extra);
    (dir, central)
}

#[test]
fn sqlite_push_query_and_kill_9_after_an_acknowledged_push() {
    let (dir, central) = sqlite_central(&[]);
    let data = central.data.clone();
    // First start: admin token printed once, written owner-only, CA path printed.
    let admin = central.admin();
    assert!(central.printed().contains(&admin), "{}", central.printed());
    assert!(
        central.printed().contains("tls/ca.pem"),
        "{}",
        central.printed()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    push_then_query(&central, dir.path());
    let before = central.get(Some(&admin), "/api/v1/findings?cluster=prod&limit=1000");
    assert_eq!(before.status, 200, "{}", before.text);

    // An acknowledged push survives SIGKILL.
    let sensor = central.token("sensor", Some("staging"), "staging-sensor");
    let (code, _, err) = scan_push(&central, dir.path(), "staging", &sensor);
    assert_eq!(code, 0, "{err}");
    central.kill9();
    let central = Central::start(&data, None, &[]);
    assert!(
        !central.printed().contains("admin token"),
        "no second admin token: {}",
        central.printed()
    );
    let after = central.get(Some(&admin), "/api/v1/findings?cluster=prod&limit=1000");
    assert_eq!(after.json["items"], before.json["items"]);
    let staging = central.get(Some(&admin), "/api/v1/findings?cluster=staging&limit=1000");
    assert_eq!(
        staging.json["items"].as_array().unwrap().len(),
        before.json["items"].as_array().unwrap().len(),
        "{}",
        staging.text
    );
}

#[test]
fn postgres_push_query_outage_and_two_replicas() {
    let mut pg = Postgres::new();
    let dir = tempfile::tempdir().unwrap();
    let one = Central::start(&dir.path().join("one"), Some(&pg.url()), &[]);
    let two = Central::start(&dir.path().join("two"), Some(&pg.url()), &[]);
    // One admin token for the shared store, made by whichever started first.
    assert!(!two.data.join("admin.token").exists());
    let admin = one.admin();

    push_then_query(&one, dir.path());
    // Read through the other replica.
    let via_two = two.get(Some(&admin), "/api/v1/findings?cluster=prod&severity=high");
    let via_one = one.get(Some(&admin), "/api/v1/findings?cluster=prod&severity=high");
    assert_eq!(via_two.status, 200, "{}", via_two.text);
    assert_eq!(via_two.json, via_one.json);

    // PostgreSQL down: 503 from /readyz and the API; back up: recovers.
    assert_eq!(one.get(Some(&admin), "/readyz").status, 200);
    pg.stop();
    for path in ["/readyz", "/api/v1/findings", "/api/v1/clusters"] {
        let r = one.get(Some(&admin), path);
        assert_eq!(r.status, 503, "{path}: {}", r.text);
        assert!(
            r.json["error"].as_str().unwrap().contains("unavailable"),
            "{}",
            r.text
        );
    }
    assert_eq!(one.get(None, "/healthz").status, 200);
    pg.start();
    let mut ready = one.get(Some(&admin), "/readyz");
    // The pool reconnects on the next query; a request that raced the restart may still fail.
    for _ in 0..50 {
        if ready.status == 200 {
            break;
        }
        ready = one.get(Some(&admin), "/readyz");
    }
    assert_eq!(ready.status, 200, "{}", ready.text);
    let again = one.get(Some(&admin), "/api/v1/findings?cluster=prod&severity=high");
    assert_eq!(again.json, via_one.json);
}

#[test]
fn security_tokens_roles_and_clusters() {
    let (_dir, central) = sqlite_central(&[]);
    let data = central.data.clone();
    let admin = central.admin();
    let analyst = central.token("analyst", None, "alice");
    let sensor = central.token("sensor", Some("prod"), "prod-sensor");
    let agent = central.token("agent", Some("prod"), "prod-agent");
    let snapshot = json!({
        "id": "s1", "scanned_at": "2026-12-01T00:00:00Z", "tool_version": "test",
        "source": "manifests", "workloads": [], "findings": []
    });

    // Every route but /healthz needs a token; the OpenAPI document lists them all.
    let doc = central.get(Some(&admin), "/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json["openapi"], "3.1.0");
    let paths = doc.json["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{}", doc.text);
    for (path, methods) in paths {
        let concrete = path.replace("{cluster}", "prod").replace("{id}", "1");
        for method in methods.as_object().unwrap().keys() {
            let url = format!("{}{concrete}", central.url());
            let client = reqwest::blocking::Client::builder()
                .tls_certs_only(
                    reqwest::Certificate::from_pem_bundle(&std::fs::read(central.ca()).unwrap())
                        .unwrap(),
                )
                .build()
                .unwrap();
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = client
                .request(m.clone(), &url)
                .send()
                .unwrap()
                .status()
                .as_u16();
            let with_bad_token = client
                .request(m, &url)
                .bearer_auth("pal_nope_nope")
                .send()
                .unwrap()
                .status()
                .as_u16();
            if path == "/healthz" {
                assert_eq!(status, 200);
            } else {
                assert_eq!(status, 401, "{method} {path} without a token");
                assert_eq!(with_bad_token, 401, "{method} {path} with an unknown token");
            }
        }
    }
    // A path outside the table is the router's JSON 404.
    let none = central.get(Some(&admin), "/api/v1/nothing");
    assert_eq!(none.status, 404);
    assert!(none.json["error"].as_str().unwrap().contains("no route"));
    let r = central.delete(Some(&admin), "/api/v1/findings").expect(405);
    assert!(
        r.json["error"].as_str().unwrap().contains("DELETE"),
        "{}",
        r.text
    );

    // Wrong role: 403.
    central
        .post_json(Some(&analyst), "/api/v1/clusters/prod/snapshots", &snapshot)
        .expect(403);
    assert_eq!(central.get(Some(&sensor), "/api/v1/images").status, 403);
    assert_eq!(central.get(Some(&agent), "/api/v1/findings").status, 403);
    assert_eq!(central.get(Some(&analyst), "/api/v1/tokens").status, 403);
    assert_eq!(central.get(Some(&analyst), "/api/v1/audit").status, 403);
    central
        .post_json(Some(&agent), "/api/v1/clusters/prod/snapshots", &snapshot)
        .expect(403);

    // A sensor token: its own cluster only, for writes and reads.
    central
        .post_json(Some(&sensor), "/api/v1/clusters/prod/snapshots", &snapshot)
        .expect(200);
    central
        .post_json(Some(&sensor), "/api/v1/clusters/other/snapshots", &snapshot)
        .expect(403);
    central
        .post_json(
            Some(&agent),
            "/api/v1/clusters/other/alerts",
            &json!({"alerts": []}),
        )
        .expect(403);
    assert_eq!(
        central
            .get(Some(&sensor), "/api/v1/findings?cluster=other")
            .status,
        403
    );
    assert_eq!(
        central
            .get(Some(&sensor), "/api/v1/workloads?cluster=other")
            .status,
        403
    );
    assert_eq!(
        central
            .get(Some(&sensor), "/api/v1/findings?cluster=prod")
            .status,
        200
    );
    // Without a filter a sensor reads its own cluster.
    assert_eq!(central.get(Some(&sensor), "/api/v1/findings").status, 200);
    let clusters = central.get(Some(&sensor), "/api/v1/clusters");
    assert!(
        clusters
            .json
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] == "prod")
    );

    // A revoked token is refused.
    let list = central.get(Some(&admin), "/api/v1/tokens");
    let id = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "prod-agent")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        central
            .delete(Some(&admin), &format!("/api/v1/tokens/{id}"))
            .status,
        204
    );
    assert_eq!(central.get(Some(&agent), "/api/v1/clusters").status, 401);

    // `token create` and `token list` on the store directly; secrets never listed.
    let (code, created, err) = palisade(&["central", "token", "create", "--role", "sensor"])
        .args(["--cluster", "edge", "--name", "edge-sensor", "--data"])
        .arg(&data)
        .env_remove("PALISADE_DATABASE_URL")
        .run();
    assert_eq!(code, 0, "{err}");
    let cli_token = created.lines().last().unwrap().trim().to_string();
    assert!(cli_token.starts_with("pal_"), "{created}");
    assert_eq!(
        central.get(Some(&cli_token), "/api/v1/findings").status,
        200
    );
    let (code, _, err) = palisade(&[
        "central", "token", "create", "--role", "sensor", "--name", "x",
    ])
    .arg("--data")
    .arg(&data)
    .run();
    assert_ne!(code, 0);
    assert!(err.contains("cluster"), "{err}");
    let (code, listed, err) = palisade(&["central", "token", "list", "--format", "json", "--data"])
        .arg(&data)
        .env_remove("PALISADE_DATABASE_URL")
        .run();
    assert_eq!(code, 0, "{err}");
    let (_, table, _) = palisade(&["central", "token", "list", "--data"])
        .arg(&data)
        .env_remove("PALISADE_DATABASE_URL")
        .run();
    assert!(
        listed.contains("edge-sensor") && table.contains("edge-sensor"),
        "{listed}"
    );
    let audit = central.get(Some(&admin), "/api/v1/audit");
    for secret in [&admin, &analyst, &sensor, &agent, &cli_token] {
        // The part after the public id is the secret.
        assert!(!listed.contains(secret.as_str()) && !table.contains(secret.as_str()));
        assert!(
            !central.logs().contains(secret.as_str()),
            "a token in the logs"
        );
        assert!(
            !audit.text.contains(secret.as_str()),
            "a token in the audit log"
        );
    }
    // The logs are JSON lines and name requests.
    let logs = central.logs();
    assert!(
        logs.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{logs}"
    );
    assert!(logs.contains("\"route\":\"/api/v1/findings\""), "{logs}");
    // Metrics: requests by route and status, ingest counts, latency.
    let metrics = central.get(Some(&admin), "/metrics").text;
    assert!(
        metrics.contains("palisade_central_requests_total{"),
        "{metrics}"
    );
    assert!(metrics.contains("status=\"403\""), "{metrics}");
    assert!(
        metrics.contains("palisade_central_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_central_ingested_records_total{kind=\"snapshots\"}"),
        "{metrics}"
    );
}

/// A push the token may not make is refused from its head: central answers 401/403 without
/// waiting for (or reading) the declared 100 MB body.
#[test]
fn refused_pushes_are_answered_before_their_body() {
    let (_dir, central) = sqlite_central(&[]);
    let analyst = central.token("analyst", None, "alice");
    let sensor = central.token("sensor", Some("prod"), "prod-sensor");
    let agent = central.token("agent", Some("prod"), "prod-agent");
    let declared = 100 << 20;
    for (token, path, status) in [
        ("pal_nope_nope", "/api/v1/clusters/prod/snapshots", 401),
        (&*analyst, "/api/v1/clusters/prod/snapshots", 403),
        (&*sensor, "/api/v1/clusters/dev/snapshots", 403),
        (&*sensor, "/api/v1/clusters/dev/delta", 403),
        (&*agent, "/api/v1/clusters/prod/snapshots", 403),
        (&*agent, "/api/v1/clusters/dev/alerts", 403),
        (&*sensor, "/api/v1/clusters/prod/alerts", 403),
        (&*analyst, "/api/v1/exceptions", 403),
        (&*sensor, "/api/v1/tokens", 403),
    ] {
        assert_eq!(
            central.post_head_only(token, path, declared),
            status,
            "POST {path}"
        );
    }
}

/// A body large enough to be parsed while it arrives: a bad field deep inside is still a 400
/// naming its path, a good one is stored.
#[test]
fn large_bodies_read_in_chunks_are_checked_whole() {
    let (_dir, central) = sqlite_central(&[]);
    let admin = central.admin();
    let path = "/api/v1/clusters/prod/snapshots";
    let workloads: Vec<Value> = (0..5000)
        .map(|i| json!({"id": {"namespace": "shop", "kind": "Deployment", "name": format!("web-{i}")}}))
        .collect();
    let mut snapshot = json!({
        "id": "s1", "scanned_at": "2026-12-01T00:00:00Z", "tool_version": "test",
        "source": "manifests", "workloads": workloads, "findings": []
    });
    let mut bad = snapshot.clone();
    bad["workloads"][4321]["id"]["name"] = json!(5);
    assert!(bad.to_string().len() > 256 * 1024);
    let r = central.post_json(Some(&admin), path, &bad).expect(400);
    assert_eq!(r.json["field"], "workloads[4321].id.name", "{}", r.text);
    let r = central
        .post(
            Some(&admin),
            path,
            format!("{snapshot} trailing").as_bytes(),
            false,
        )
        .expect(400);
    assert_eq!(r.json["field"], ".", "{}", r.text);
    assert_eq!(
        central.get(Some(&admin), "/api/v1/clusters").json,
        json!([])
    );
    // Compressed, so the declared length is small and the decoded body is not.
    snapshot["id"] = json!("s2");
    central
        .post(Some(&admin), path, snapshot.to_string().as_bytes(), true)
        .expect(200);
    let r = central
        .get(Some(&admin), "/api/v1/workloads?limit=1")
        .expect(200);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1, "{}", r.text);
}

#[test]
fn bad_bodies_limits_and_strict_queries() {
    let (_dir, central) = sqlite_central(&["--max-body-mib", "1"]);
    let admin = central.admin();
    let path = "/api/v1/clusters/prod/snapshots";
    let snapshot = json!({
        "id": "s1", "scanned_at": "2026-12-01T00:00:00Z", "tool_version": "test",
        "source": "manifests",
        "workloads": [{"id": {"namespace": "shop", "kind": "Deployment", "name": "web"}}],
        "findings": []
    });

    // A wrong field: 400 with its JSON path; nothing stored.
    let mut bad = snapshot.clone();
    bad["workloads"][0]["id"]["name"] = json!(5);
    let r = central.post_json(Some(&admin), path, &bad).expect(400);
    assert_eq!(r.json["field"], "workloads[0].id.name", "{}", r.text);
    let mut bad = snapshot.clone();
    bad["unexpected"] = json!(1);
    let r = central.post_json(Some(&admin), path, &bad).expect(400);
    assert_eq!(r.json["field"], "unexpected", "{}", r.text);
    central
        .post(Some(&admin), path, b"{not json", false)
        .expect(400);
    // A Secret with its values is refused.
    let mut bad = snapshot.clone();
    bad["objects"] = json!([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}]);
    let r = central.post_json(Some(&admin), path, &bad).expect(400);
    assert_eq!(r.json["field"], "objects[0].data");
    assert_eq!(
        central.get(Some(&admin), "/api/v1/clusters").json,
        json!([])
    );

    // gzip bodies are accepted.
    central
        .post(Some(&admin), path, snapshot.to_string().as_bytes(), true)
        .expect(200);
    assert_eq!(
        central.get(Some(&admin), "/api/v1/workloads").json["items"][0]["id"]["name"],
        "web"
    );

    // Over the limit (1 MiB here): 413, plain or as a small gzip bomb.
    let mut big = snapshot.clone();
    big["id"] = json!("s2");
    big["tool_version"] = json!("x".repeat(2 << 20));
    central.post_json(Some(&admin), path, &big).expect(413);
    central
        .post(Some(&admin), path, big.to_string().as_bytes(), true)
        .expect(413);

    // A snapshot stream's lines are limited like a body: a line over 1 MiB is a 413 naming it.
    let header = json!({"header": {"id": "s3", "scanned_at": "2026-12-01T00:00:00Z",
        "tool_version": "test", "source": "manifests",
        "counts": {"workloads": 1, "findings": 0, "images": 0, "objects": 0, "diagnostics": 0}}});
    let long = json!({"workload": {"id": {"namespace": "shop", "kind": "Deployment", "name": "x".repeat(2 << 20)}}});
    let r = central
        .post_stream(Some(&admin), path, &format!("{header}\n{long}\n"))
        .expect(413);
    assert_eq!(r.json["field"], "line 2", "{}", r.text);

    // Query strings are strict: the parameter to blame is named.
    for (query, field) in [
        ("/api/v1/findings?severity=high&colour=red", "colour"),
        ("/api/v1/findings?severity=extreme", "severity"),
        ("/api/v1/workloads?limit=ten", "limit"),
        ("/api/v1/clusters/prod/network?verb=get", "verb"),
    ] {
        let r = central.get(Some(&admin), query).expect(400);
        assert_eq!(r.json["field"], field, "{query}");
    }
}

/// A snapshot stream's lines (`palisade_api::stream`), written by hand from its description:
/// the header with `counts`, then one `{"KIND": RECORD}` per line.
fn stream_lines(snapshot: &Value, counts: Value) -> Vec<String> {
    let mut lines = vec![
        json!({"header": {
            "id": snapshot["id"], "scanned_at": snapshot["scanned_at"],
            "tool_version": snapshot["tool_version"], "source": snapshot["source"],
            "counts": counts
        }})
        .to_string(),
    ];
    for (field, kind) in [
        ("findings", "finding"),
        ("objects", "object"),
        ("workloads", "workload"),
        ("images", "image"),
    ] {
        for record in snapshot[field].as_array().unwrap() {
            lines.push(json!({ kind: record }).to_string());
        }
    }
    lines
}

#[test]
fn snapshot_streams_are_stored_like_json_and_refused_whole() {
    let (_dir, central) = sqlite_central(&[]);
    let admin = central.admin();
    let finding = |fingerprint: &str, severity: &str, name: &str| {
        json!({"fingerprint": fingerprint, "check_id": "PAL-001", "severity": severity,
               "title": "t", "message": format!("on {name}"),
               "object": {"namespace": "shop", "kind": "Deployment", "name": name}})
    };
    let snapshot = json!({
        "id": "s1", "scanned_at": "2026-12-01T00:00:00Z", "tool_version": "test",
        "source": "manifests",
        "workloads": [
            {"id": {"namespace": "shop", "kind": "Deployment", "name": "web"}, "images": ["nginx"]},
            {"id": {"namespace": "shop", "kind": "Deployment", "name": "db"}}
        ],
        "findings": [finding("f1", "high", "web"), finding("f2", "low", "web"), finding("f3", "critical", "db")],
        "objects": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}],
        "images": [{"reference": "nginx"}]
    });
    let counts =
        json!({"workloads": 2, "findings": 3, "images": 1, "objects": 1, "diagnostics": 0});
    central
        .post_json(
            Some(&admin),
            "/api/v1/clusters/as-json/snapshots",
            &snapshot,
        )
        .expect(200);
    let body = stream_lines(&snapshot, counts.clone()).join("\n") + "\n";
    let r = central
        .post_stream(Some(&admin), "/api/v1/clusters/as-stream/snapshots", &body)
        .expect(200);
    assert_eq!(
        r.json,
        json!({"accepted": 7, "duplicates": 0}),
        "{}",
        r.text
    );
    // The same rows either way.
    for what in ["findings", "workloads"] {
        let rows = |cluster: &str| {
            let mut items = central
                .get(Some(&admin), &format!("/api/v1/{what}?cluster={cluster}"))
                .json["items"]
                .clone();
            for item in items.as_array_mut().unwrap() {
                item.as_object_mut().unwrap().remove("cluster");
            }
            items
        };
        let (from_json, from_stream) = (rows("as-json"), rows("as-stream"));
        assert_eq!(
            from_json.as_array().unwrap().len(),
            if what == "findings" { 3 } else { 2 }
        );
        assert_eq!(from_json, from_stream, "{what}");
    }
    // The same stream again: all duplicates.
    let r = central
        .post_stream(Some(&admin), "/api/v1/clusters/as-stream/snapshots", &body)
        .expect(200);
    assert_eq!(
        r.json,
        json!({"accepted": 0, "duplicates": 7}),
        "{}",
        r.text
    );

    // Refused whole, naming the line or the count; nothing of them is stored.
    let path = "/api/v1/clusters/refused/snapshots";
    let mut lines = stream_lines(&snapshot, counts.clone());
    lines[2] = json!({"finding": finding("f2", "extreme", "web")}).to_string();
    let r = central
        .post_stream(Some(&admin), path, &lines.join("\n"))
        .expect(400);
    assert_eq!(r.json["field"], "line 3: finding.severity", "{}", r.text);
    let mut lines = stream_lines(&snapshot, counts.clone());
    lines.remove(3);
    let r = central
        .post_stream(Some(&admin), path, &lines.join("\n"))
        .expect(400);
    assert_eq!(r.json["field"], "counts.findings", "{}", r.text);
    let lines = stream_lines(&snapshot, counts.clone());
    let r = central
        .post_stream(Some(&admin), path, &lines[1..].join("\n"))
        .expect(400);
    assert_eq!(r.json["field"], "line 1", "{}", r.text);
    let mut lines = stream_lines(&snapshot, counts);
    lines.push(
        json!({"object": {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}})
            .to_string(),
    );
    let r = central
        .post_stream(Some(&admin), path, &lines.join("\n"))
        .expect(400);
    assert_eq!(r.json["field"], "objects[1].data", "{}", r.text);
    central.post_stream(Some(&admin), path, "").expect(400);
    let clusters = central.get(Some(&admin), "/api/v1/clusters").json;
    let names: Vec<&str> = clusters
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["as-json", "as-stream"], "{clusters}");
}

#[test]
fn scan_push_failure_exits_non_zero_with_the_reason() {
    let (dir, central) = sqlite_central(&[]);
    let (code, out, err) = scan_push(&central, dir.path(), "prod", "pal_unknown_token");
    assert_ne!(code, 0);
    assert!(out.contains("PAL-"), "the report is printed first: {out}");
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("pushing the scan to central"), "{err}");
}

#[test]
fn a_push_over_centrals_body_limit_names_the_limit() {
    // 1 MiB at central; 3,000 Deployments make a snapshot stream of several MiB.
    let (dir, central) = sqlite_central(&["--max-stream-mib", "1"]);
    let input = dir.path().join("big.yaml");
    let mut yaml = String::new();
    for i in 0..3000 {
        yaml.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {{app: web-{i}}}\n  template:\n    metadata:\n      labels: {{app: web-{i}}}\n    spec:\n      containers:\n        - name: app\n          image: nginx\n---\n"
        ));
    }
    std::fs::write(&input, yaml).unwrap();
    let token = dir.path().join("admin.token");
    std::fs::write(&token, central.admin()).unwrap();
    let (code, _out, err) = palisade(&["scan"])
        .arg(&input)
        .args(["--format", "json", "--output", "/dev/null"])
        .args([
            "--push",
            &central.url(),
            "--cluster-name",
            "prod",
            "--token-file",
        ])
        .arg(&token)
        .arg("--ca-cert")
        .arg(central.ca())
        .env_remove("PALISADE_TOKEN")
        .run();
    assert_ne!(code, 0, "{err}");
    // Either central's 413 reached the client, or the upload was cut and the hint names it.
    assert!(err.contains("413"), "{err}");
    assert!(!err.contains("pal_"), "no token in the error: {err}");
}

#[test]
fn exceptions_are_audited_and_runtime_data_is_queryable() {
    let (dir, central) = sqlite_central(&[]);
    let admin = central.admin();
    let sensor = central.token("sensor", Some("prod"), "prod-sensor");
    let agent = central.token("agent", Some("prod"), "prod-agent");
    let analyst = central.token("analyst", None, "alice");
    let lead = central.token("admin", None, "carol");
    let (code, _, err) = scan_push(&central, dir.path(), "prod", &sensor);
    assert_eq!(code, 0, "{err}");

    // An admin accepts a risk: the findings of that check become suppressed, the change is
    // audited with the token's name. Analysts and sensors only read (403).
    let high = central.get(
        Some(&analyst),
        "/api/v1/findings?cluster=prod&severity=high",
    );
    let check = high.json["items"][0]["check_id"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = json!({"check": check, "reason": " ", "expires": "2099-01-01"});
    let r = central
        .post_json(Some(&lead), "/api/v1/exceptions", &bad)
        .expect(400);
    assert_eq!(r.json["field"], "reason");
    let exception = json!({"cluster": "prod", "check": check, "reason": "accepted until the migration", "expires": "2099-01-01"});
    for reader in [&sensor, &analyst] {
        central
            .post_json(Some(reader), "/api/v1/exceptions", &exception)
            .expect(403);
    }
    let created = central
        .post_json(Some(&lead), "/api/v1/exceptions", &exception)
        .expect(201);
    assert_eq!(created.json["created_by"], "carol");
    let suppressed = central.get(
        Some(&analyst),
        &format!("/api/v1/findings?cluster=prod&check={check}&status=suppressed"),
    );
    assert!(
        !suppressed.json["items"].as_array().unwrap().is_empty(),
        "{}",
        suppressed.text
    );
    let id = created.json["id"].as_i64().unwrap();
    central
        .delete(Some(&analyst), &format!("/api/v1/exceptions/{id}"))
        .expect(403);
    let revoked = central
        .delete(Some(&lead), &format!("/api/v1/exceptions/{id}"))
        .expect(200);
    assert_eq!(revoked.json["revoked_by"], "carol");
    central
        .delete(Some(&lead), "/api/v1/exceptions/x")
        .expect(400);
    let audit = central.get(Some(&admin), "/api/v1/audit").expect(200);
    let actions: Vec<(&str, &str)> = audit.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert!(
        actions.contains(&("exception.create", "carol")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("exception.revoke", "carol")),
        "{actions:?}"
    );

    // Runtime data from an agent: alerts (idempotent by id) and flows beside the graph.
    let alerts = json!({"alerts": [{
        "id": "a1", "time": "2026-12-06T10:00:00Z", "node": "n1",
        "workload": {"namespace": "shop", "kind": "Deployment", "name": "web"},
        "container": "web", "rule": "shell-in-container", "severity": "high",
        "message": "sh started in web", "detail": {"pid": 42}
    }]});
    let ack = central
        .post_json(Some(&agent), "/api/v1/clusters/prod/alerts", &alerts)
        .expect(200);
    assert_eq!(ack.json, json!({"accepted": 1, "duplicates": 0}));
    let ack = central
        .post_json(Some(&agent), "/api/v1/clusters/prod/alerts", &alerts)
        .expect(200);
    assert_eq!(ack.json, json!({"accepted": 0, "duplicates": 1}));
    let listed = query(
        &central,
        &analyst,
        &["alerts", "--cluster", "prod", "--format", "json"],
    );
    assert_eq!(listed["items"][0]["rule"], "shell-in-container", "{listed}");
    let table = query(&central, &analyst, &["alerts", "--severity", "high"]);
    assert!(
        table.as_str().unwrap().contains("sh started in web"),
        "{table}"
    );
    let flows = json!({"flows": [{
        "src": {"namespace": "shop", "kind": "Deployment", "name": "web"},
        "dst": {"namespace": "shop", "kind": "Deployment", "name": "db"},
        "port": 5432, "protocol": "TCP",
        "first_seen": "2026-12-06T10:00:00Z", "last_seen": "2026-12-06T10:05:00Z", "count": 3
    }]});
    central
        .post_json(Some(&agent), "/api/v1/clusters/prod/flows", &flows)
        .expect(200);
    let graph = central
        .get(
            Some(&analyst),
            "/api/v1/clusters/prod/network?namespace=shop",
        )
        .expect(200);
    assert_eq!(graph.json["flows"][0]["count"], 3, "{}", graph.text);
    // Allowed edges between workloads never observed are tighten candidates: all but
    // web -> db, which was observed (edges to or from external ranges are never listed).
    let allowed = graph.json["reachability"]["connections"]
        .as_array()
        .unwrap();
    let unused = graph.json["unused"].as_array().unwrap();
    assert!(unused.iter().all(|c| allowed.contains(c)), "{}", graph.text);
    let names: Vec<(&str, &str)> = unused
        .iter()
        .map(|c| {
            (
                c["src"]["name"].as_str().unwrap(),
                c["dst"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("db", "web"), ("web", "web")], "{}", graph.text);
    // netpol generate reads the same flows from central: web may reach db on 5432.
    let token_file = dir.path().join("analyst.token");
    std::fs::write(&token_file, &analyst).unwrap();
    let (code, policies, err) = palisade(&["netpol", "generate", "--flows-from"])
        .arg(format!("{}/api/v1/clusters/prod/network", central.url()))
        .arg("--token-file")
        .arg(&token_file)
        .arg("--ca-cert")
        .arg(central.ca())
        .arg(MANIFESTS)
        .env_remove("PALISADE_TOKEN")
        .run();
    assert_eq!(code, 0, "{err}");
    assert!(
        policies.contains("kind: NetworkPolicy") && policies.contains("port: 5432"),
        "{policies}"
    );
    let other = central
        .get(
            Some(&analyst),
            "/api/v1/clusters/prod/network?namespace=elsewhere",
        )
        .expect(200);
    assert_eq!(other.json["flows"], json!([]));
    assert_eq!(other.json["reachability"]["connections"], json!([]));
    central
        .get(Some(&analyst), "/api/v1/clusters/nowhere/network")
        .expect(404);
}

#[test]
fn postgres_over_tls_verified_and_nothing_in_clear() {
    let mut pg = Postgres::new();
    let certs =
        palisade_tls::certs::generate_today("test database CA", &["127.0.0.1".into()], 30).unwrap();
    pg.require_tls(&certs.cert_pem, &certs.key_pem);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("db-ca.pem");
    std::fs::write(&ca, &certs.ca_pem).unwrap();

    // Verified TLS (sslmode=verify-full against the database's CA): central serves.
    let central = Central::start(&dir.path().join("data"), Some(&pg.tls_url(&ca)), &[]);
    let sensor = central.token("sensor", Some("prod"), "prod-sensor");
    let (code, _, err) = scan_push(&central, dir.path(), "prod", &sensor);
    assert_eq!(code, 0, "{err}");
    central
        .get(Some(&central.admin()), "/api/v1/findings?cluster=prod")
        .expect(200);
    drop(central);

    // Without TLS the server refuses the connection; with another CA the client refuses the
    // server. Either way central does not start, and says why.
    let other =
        palisade_tls::certs::generate_today("another CA", &["127.0.0.1".into()], 30).unwrap();
    let wrong_ca = dir.path().join("other-ca.pem");
    std::fs::write(&wrong_ca, &other.ca_pem).unwrap();
    for (url, why) in [
        (pg.url(), "no encryption"),
        (pg.tls_url(&wrong_ca), "certificate"),
    ] {
        let (code, out, err) = palisade(&["central", "serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("data2"))
            .args(["--database", &url])
            .env_remove("PALISADE_DATABASE_URL")
            .run();
        assert_ne!(code, 0, "{out}\n{err}");
        assert!(err.to_lowercase().contains(why), "{why}: {err}");
    }
}

#[test]
fn serves_the_given_certificate_and_generates_none() {
    let dir = tempfile::tempdir().unwrap();
    let certs = palisade_tls::certs::generate_today(
        "operator CA",
        &["localhost".into(), "127.0.0.1".into()],
        30,
    )
    .unwrap();
    let (cert, key, ca) = (
        dir.path().join("tls.crt"),
        dir.path().join("tls.key"),
        dir.path().join("ca.crt"),
    );
    std::fs::write(&cert, &certs.cert_pem).unwrap();
    std::fs::write(&key, &certs.key_pem).unwrap();
    std::fs::write(&ca, &certs.ca_pem).unwrap();
    let data = dir.path().join("data");
    let args = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let central = Central::start_trusting(&data, None, &args, &ca);
    central.get(None, "/healthz").expect(200);
    central.get(Some(&central.admin()), "/readyz").expect(200);
    assert!(!data.join("tls").exists(), "no certificate generated");
    assert!(
        !central.printed().contains("CA certificate"),
        "{}",
        central.printed()
    );
    // A client that trusts only another CA refuses the connection.
    let other = palisade_tls::certs::generate_today("other CA", &["localhost".into()], 1).unwrap();
    let stranger = reqwest::blocking::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(other.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    assert!(
        stranger
            .get(format!("{}/healthz", central.url()))
            .send()
            .is_err()
    );
}

/// `central manifests`: SQLite on a volume with one replica, or PostgreSQL from a Secret with
/// several; the admin token never in the environment; the TLS Secret mounted read-only; HTTPS
/// probes; and `palisade scan` of what is printed reports nothing but reasoned exceptions
/// (tests/container_image.rs does the same with the image pinned by digest).
#[test]
fn manifests_run_central_least_privilege_and_pass_the_scan() {
    let pinned = "registry.example/palisade@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    for (extra, exceptions) in [
        (&[][..], &["PAL-069", "PAL-076", "PAL-107"][..]),
        (
            &["--database-secret", "central-db", "--replicas", "3"][..],
            &["PAL-022", "PAL-069", "PAL-069"][..],
        ),
    ] {
        let (code, yaml, err) = palisade(&["central", "manifests", "--image", pinned])
            .args(extra)
            .run();
        assert_eq!(code, 0, "{err}");
        let scanned = palisade(&["scan", "-", "--format", "json", "--fail-on", "info"])
            .env_remove("PALISADE_CONFIG")
            .stdin(yaml.clone())
            .output();
        assert_eq!(scanned.status.code(), Some(0), "{yaml}");
        let report = support::cli::json(&scanned);
        assert_eq!(report["findings"], json!([]), "{report:#}");
        for s in report["suppressed"].as_array().unwrap() {
            assert!(s["reason"].as_str().unwrap().len() > 40, "{s}");
        }
        let mut ids = support::cli::check_ids(&report["suppressed"]);
        ids.sort_unstable();
        assert_eq!(ids, exceptions, "{report:#}");

        let docs: Vec<Value> = yaml
            .split("\n---\n")
            .skip(1)
            .map(|d| serde_saphyr::from_str(d).unwrap())
            .collect();
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], pinned);
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let security = &container["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true);
        assert_eq!(security["runAsNonRoot"], true);
        assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
        for probe in ["livenessProbe", "readinessProbe"] {
            assert_eq!(container[probe]["httpGet"]["scheme"], "HTTPS", "{probe}");
            assert_eq!(container[probe]["httpGet"]["path"], "/healthz", "{probe}");
        }
        assert!(container["resources"]["limits"]["memory"].is_string());
        let tls = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "tls")
            .unwrap();
        assert_eq!(tls["readOnly"], true);
        assert_eq!(
            pod["volumes"][0]["secret"]["secretName"],
            "palisade-central-tls"
        );
        // The admin token is never in the environment: only the database URL is, from its
        // Secret.
        let env = container["env"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let ns_policies = docs.iter().filter(|d| d["kind"] == "NetworkPolicy").count();
        assert_eq!(ns_policies, 2, "default-deny and central's");
        if extra.is_empty() {
            assert!(env.is_empty(), "{env:?}");
            assert!(kinds.contains(&"PersistentVolumeClaim"), "{kinds:?}");
            assert_eq!(deployment["spec"]["replicas"], 1);
            assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
        } else {
            assert_eq!(env.len(), 1);
            assert_eq!(env[0]["name"], "PALISADE_DATABASE_URL");
            assert_eq!(
                env[0]["valueFrom"]["secretKeyRef"],
                json!({"name": "central-db", "key": "database-url"})
            );
            assert!(!kinds.contains(&"PersistentVolumeClaim"), "{kinds:?}");
            assert_eq!(deployment["spec"]["replicas"], 3);
        }
    }
    // SQLite has one writer: more replicas are refused with the way out.
    let (code, _, err) = palisade(&["central", "manifests", "--replicas", "2"]).run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--database-secret"), "{err}");
    let (code, _, err) = palisade(&["central", "manifests", "--namespace", "a b"]).run();
    assert_eq!(code, 2, "{err}");
}
