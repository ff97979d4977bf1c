//! End-to-end: `palisade netpol` on manifest files, through the real binary.

#![cfg(feature = "netpol")]

use std::collections::BTreeMap;
use std::path::Path;

mod support;

use support::cli::{json, palisade, stderr, stdout};

const WORKLOADS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27", ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "postgres:16", ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: tester, namespace: dev}
spec:
  selector: {matchLabels: {app: tester}}
  template:
    metadata: {labels: {app: tester}}
    spec: {containers: [{name: t, image: "busybox:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
"#;

const POLICIES: &str = r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: pg}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
      ports: [{port: 8080}]
    - from: [{ipBlock: {cidr: 10.0.0.0/33}}]
"#;

/// A directory with workloads.yaml and policies.yaml.
fn cluster() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("workloads.yaml"), WORKLOADS).unwrap();
    std::fs::write(dir.path().join("policies.yaml"), POLICIES).unwrap();
    dir
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `ns/Kind/name` or an IP range of a JSON endpoint.
fn endpoint(v: &serde_json::Value) -> String {
    match v["type"].as_str().unwrap() {
        "workload" => format!(
            "{}/{}/{}",
            v["namespace"].as_str().unwrap(),
            v["kind"].as_str().unwrap(),
            v["name"].as_str().unwrap()
        ),
        _ => {
            let cidrs = v["cidrs"].as_array().unwrap();
            if cidrs.len() == 1 {
                cidrs[0].as_str().unwrap().to_string()
            } else {
                format!(
                    "{}-{}",
                    v["first"].as_str().unwrap(),
                    v["last"].as_str().unwrap()
                )
            }
        }
    }
}

/// (protocol, first port, last port) ranges.
type Ports = Vec<(String, u64, u64)>;

/// connections of a reach JSON as (src, dst) -> [(protocol, start, end)].
fn connections(v: &serde_json::Value) -> BTreeMap<(String, String), Ports> {
    v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let ports = c["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["protocol"].as_str().unwrap().to_string(),
                        r["start"].as_u64().unwrap(),
                        r["end"].as_u64().unwrap(),
                    )
                })
                .collect();
            ((endpoint(&c["src"]), endpoint(&c["dst"])), ports)
        })
        .collect()
}

fn tcp(port: u64) -> Ports {
    vec![("TCP".into(), port, port)]
}

fn all_ports() -> Ports {
    ["TCP", "UDP", "SCTP"]
        .iter()
        .map(|p| (p.to_string(), 1, 65535))
        .collect()
}

#[test]
fn reach_json_lists_allowed_connections_and_reports_bad_policies() {
    let dir = cluster();
    let out = palisade(&["netpol", "reach", p(dir.path()), "--format", "json"]).output();
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let c = connections(&v);
    let key = |a: &str, b: &str| (a.to_string(), b.to_string());
    // db admits only web, on the named port pg (5432).
    assert_eq!(
        c.get(&key("shop/Deployment/web", "shop/StatefulSet/db")),
        Some(&tcp(5432))
    );
    assert_eq!(
        c.get(&key("dev/Deployment/tester", "shop/StatefulSet/db")),
        None
    );
    // web admits the Internet except 10/8 on 8080; the invalid /33 block admits nothing.
    assert_eq!(
        c.get(&key("11.0.0.0-255.255.255.255", "shop/Deployment/web")),
        Some(&tcp(8080))
    );
    assert_eq!(c.get(&key("10.0.0.0/8", "shop/Deployment/web")), None);
    assert_eq!(
        c.get(&key("dev/Deployment/tester", "shop/Deployment/web")),
        None
    );
    // Nothing restricts tester.
    assert_eq!(
        c.get(&key("shop/StatefulSet/db", "dev/Deployment/tester")),
        Some(&all_ports())
    );
    assert_eq!(v["stats"]["workloads"], 3);
    assert_eq!(
        v["diagnostics"][0]["field"],
        "spec.ingress[1].from[0].ipBlock.cidr"
    );
    let err = stderr(&out);
    assert!(
        err.contains("policies.yaml:10") && err.contains("NetworkPolicy shop/web-ingress"),
        "{err}"
    );
}

#[test]
fn reach_focus_and_the_text_csv_dot_svg_formats() {
    let dir = cluster();
    let out = palisade(&["netpol", "reach", p(dir.path()), "--focus", "shop/db"]).output();
    assert!(out.status.success());
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(
        lines.contains(&"shop/Deployment/web -> shop/StatefulSet/db : 5432/TCP"),
        "{text}"
    );
    assert!(
        lines.iter().all(|l| l.contains("shop/StatefulSet/db")),
        "{text}"
    );

    let out = palisade(&["netpol", "reach", p(dir.path()), "--format", "csv"]).output();
    let csv = stdout(&out);
    assert!(csv.starts_with("src_type,src,dst_type,dst,protocol,port_start,port_end\n"));
    assert!(
        csv.contains("workload,shop/Deployment/web,workload,shop/StatefulSet/db,TCP,5432,5432\n")
    );

    let out = palisade(&["netpol", "reach", p(dir.path()), "--format", "dot"]).output();
    let dot = stdout(&out);
    assert!(dot.starts_with("digraph reach {"));
    assert!(dot.contains("\"shop/Deployment/web\" -> \"shop/StatefulSet/db\" [label=\"5432/TCP\""));

    let out = palisade(&[
        "netpol",
        "reach",
        p(dir.path()),
        "--format",
        "svg",
        "--focus",
        "shop/web",
    ])
    .output();
    let svg = stdout(&out);
    assert!(
        svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(svg.contains(">Deployment/web</text>") && svg.contains(">StatefulSet/db</text>"));
    let focus_rows = json(
        &palisade(&[
            "netpol",
            "reach",
            p(dir.path()),
            "--format",
            "json",
            "--focus",
            "shop/web",
        ])
        .output(),
    )["connections"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(svg.matches("marker-end=").count(), focus_rows);

    let out = palisade(&["netpol", "reach", p(dir.path()), "--max-connections", "3"]).output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("connections would be listed"),
        "{}",
        stderr(&out)
    );

    let out = palisade(&["netpol", "reach", p(dir.path()), "--focus", "shop/nothing"]).output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no workload shop/nothing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn can_answers_with_exit_code_and_the_responsible_rule() {
    let dir = cluster();
    let out = palisade(&[
        "netpol",
        "can",
        "shop/web",
        "shop/db",
        "5432/TCP",
        p(dir.path()),
    ])
    .output();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("allowed: shop/Deployment/web -> shop/StatefulSet/db on 5432/TCP"));
    assert!(
        text.contains("allowed by NetworkPolicy shop/db-ingress spec.ingress[0]"),
        "{text}"
    );

    let out = palisade(&[
        "netpol",
        "can",
        "dev/tester",
        "shop/db",
        "5432",
        p(dir.path()),
        "--format",
        "json",
    ])
    .output();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["allowed"], false);
    assert_eq!(v["ingress"]["state"], "isolated");
    assert_eq!(v["ingress"]["policies"][0]["name"], "db-ingress");
    assert_eq!(v["egress"]["state"], "not_isolated");

    let out = palisade(&[
        "netpol",
        "can",
        "203.0.113.7",
        "shop/web",
        "8080/tcp",
        p(dir.path()),
    ])
    .output();
    assert_eq!(out.status.code(), Some(0));
    let out = palisade(&[
        "netpol",
        "can",
        "10.1.2.3",
        "shop/web",
        "8080",
        p(dir.path()),
    ])
    .output();
    assert_eq!(out.status.code(), Some(1));

    let out = palisade(&[
        "netpol",
        "can",
        "shop/web",
        "shop/db",
        "80/ICMP",
        p(dir.path()),
    ])
    .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ICMP"));
}

#[test]
fn exposure_reports_isolation_blast_radius_and_publication() {
    let dir = cluster();
    let out = palisade(&["netpol", "exposure", p(dir.path()), "--format", "json"]).output();
    assert!(out.status.success());
    let v = json(&out);
    let web = v["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workload"]["name"] == "web")
        .unwrap();
    assert_eq!(web["ingress_isolated"], true);
    assert_eq!(web["egress_isolated"], false);
    assert_eq!(web["reachable_from_workloads"], 0);
    assert_eq!(web["can_reach_workloads"], 2);
    assert_eq!(web["published"][0]["kind"], "LoadBalancer");
    assert_eq!(web["published"][0]["admitted_by_policy"], true);
    let out = palisade(&["netpol", "exposure", p(dir.path())]).output();
    assert!(stdout(&out).contains("dev/Deployment/tester"));
}

#[test]
fn diff_shows_what_a_policy_change_adds_and_removes() {
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    std::fs::write(old.path().join("w.yaml"), WORKLOADS).unwrap();
    std::fs::write(new.path().join("w.yaml"), WORKLOADS).unwrap();
    std::fs::write(
        new.path().join("p.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: dev}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
    )
    .unwrap();
    let out = palisade(&[
        "netpol",
        "diff",
        p(old.path()),
        p(new.path()),
        "--format",
        "json",
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let changes = v["changes"].as_array().unwrap();
    // Everything that reached tester is removed: 3 workloads (itself included) and 2 ranges.
    assert_eq!(changes.len(), 5, "{v:#}");
    assert!(
        changes
            .iter()
            .all(|c| c["change"] == "removed" && c["dst"]["name"] == "tester")
    );
    let out = palisade(&["netpol", "diff", p(old.path()), p(new.path())]).output();
    assert!(
        stdout(&out).starts_with("# 0 added, 5 removed, 0 changed\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn generate_then_reach_allows_exactly_the_observed_flows() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("workloads.yaml");
    std::fs::write(&manifests, WORKLOADS).unwrap();
    let flows = dir.path().join("flows.jsonl");
    std::fs::write(
        &flows,
        concat!(
            r#"{"timestamp":"2026-01-01T00:00:00Z","src":{"namespace":"shop","pod":"web-7d9f8c-abcde"},"dst":{"namespace":"shop","pod":"db-0"},"port":5432,"protocol":"TCP"}"#, "\n",
            r#"{"timestamp":"2026-01-01T00:00:01Z","src":{"ip":"203.0.113.7"},"dst":{"namespace":"shop","workload":"Deployment/web"},"port":8080,"protocol":"TCP"}"#, "\n",
            r#"{"timestamp":"2026-01-01T00:00:02Z","src":{"namespace":"dev","pod":"tester-abc-xyz"},"dst":{"ip":"2001:db8::1"},"port":443,"protocol":"TCP"}"#, "\n",
            "\n",
            r#"{"timestamp":"2026-01-01T00:00:03Z","src":{"namespace":"nowhere","pod":"x"},"dst":{"ip":"1.1.1.1"},"port":53,"protocol":"UDP"}"#, "\n",
        ),
    )
    .unwrap();
    let out = palisade(&[
        "netpol",
        "generate",
        "--flows",
        p(&flows),
        "--default-deny",
        "--no-dns",
        p(&manifests),
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("flows.jsonl:5: warning: flow skipped"),
        "{}",
        stderr(&out)
    );
    let generated = dir.path().join("generated.yaml");
    std::fs::write(&generated, &out.stdout).unwrap();
    let out = palisade(&[
        "netpol",
        "reach",
        p(&manifests),
        p(&generated),
        "--format",
        "json",
    ])
    .output();
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 0);
    let got = connections(&v);
    let mut expected = BTreeMap::new();
    expected.insert(
        (
            "shop/Deployment/web".to_string(),
            "shop/StatefulSet/db".to_string(),
        ),
        tcp(5432),
    );
    expected.insert(
        (
            "203.0.113.7/32".to_string(),
            "shop/Deployment/web".to_string(),
        ),
        tcp(8080),
    );
    expected.insert(
        (
            "dev/Deployment/tester".to_string(),
            "2001:db8::1/128".to_string(),
        ),
        tcp(443),
    );
    assert_eq!(got, expected);
}

#[test]
fn malformed_flows_are_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("workloads.yaml");
    std::fs::write(&manifests, WORKLOADS).unwrap();
    let flows = dir.path().join("bad.jsonl");
    std::fs::write(
        &flows,
        "{\"timestamp\":\"t\",\"src\":{\"ip\":\"1.2.3.4\"},\"dst\":{\"ip\":\"5.6.7.8\"},\"port\":1,\"protocol\":\"TCP\"}\n{\"port\": \"eighty\"}\n",
    )
    .unwrap();
    let out = palisade(&["netpol", "generate", "--flows", p(&flows), p(&manifests)]).output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.jsonl:2: not a flow record"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reach_group_classes_lists_one_line_per_class_pair_with_its_members() {
    let dir = cluster();
    let reach = |extra: &[&str]| palisade(&[&["netpol", "reach", p(dir.path())], extra].concat());
    let (code, text, err) = reach(&["--group", "classes"]).run();
    assert_eq!(code, 0, "{err}");
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("# 3 workloads in 2 namespaces") && header.ends_with(" class pairs"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "[shop/Deployment/web] -> [shop/StatefulSet/db] : 5432/TCP"),
        "{text}"
    );

    let listed = json(&reach(&["--format", "json"]).output());
    let grouped = json(&reach(&["--group", "classes", "--format", "json"]).output());
    assert_eq!(grouped["stats"], listed["stats"]);
    // Expanding every class pair gives exactly the listed connections.
    let mut expanded = BTreeMap::new();
    for pair in grouped["class_pairs"].as_array().unwrap() {
        let (src, dst) = (
            pair["src"].as_array().unwrap(),
            pair["dst"].as_array().unwrap(),
        );
        assert_eq!(pair["connections"], (src.len() * dst.len()) as u64);
        for s in src {
            for d in dst {
                let previous = expanded.insert((endpoint(s), endpoint(d)), pair["ports"].clone());
                assert!(previous.is_none(), "{pair}");
            }
        }
    }
    let listed: BTreeMap<_, _> = listed["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let key = (endpoint(&c["src"]), endpoint(&c["dst"]));
            (key, c["ports"].clone())
        })
        .collect();
    assert_eq!(expanded, listed);

    let (code, _, err) = reach(&["--group", "classes", "--format", "csv"]).run();
    assert_eq!(code, 2);
    assert!(
        err.contains("--group classes writes table or json"),
        "{err}"
    );
    let (code, _, err) = reach(&["--group", "classes", "--focus", "shop/web"]).run();
    assert_eq!(code, 2, "{err}");
}

/// Peak memory of the listing does not grow with the rows printed. Workloads without policies
/// reach each other, so `n` workloads list n² + 4n connections: 400 of them are 161,600 rows
/// (10 MB of text), 1,600 are 2,566,400 rows (160 MB). The process's peak RSS is read while it
/// is still writing the end of the listing. Holding the rows would add at least the 150 MB of
/// text between the two runs; streaming adds what parsing 1,200 more small manifests takes.
/// Comparing two runs of the same build keeps allocator and build-profile overheads out of it.
#[cfg(target_os = "linux")]
#[test]
fn reach_streams_the_listing_without_holding_the_rows() {
    let small = listing_peak_rss_kb(400);
    let large = listing_peak_rss_kb(1600);
    assert!(
        large < small + 60_000,
        "peak RSS {small} kB listing 161,600 rows, {large} kB listing 2,566,400 rows"
    );
}

/// Peak RSS in kB of `netpol reach` listing `workloads` policy-free Deployments, measured before
/// the last 50,000 rows are read (the writer, 1 MiB chunks into a 64 KiB pipe, still runs).
#[cfg(target_os = "linux")]
fn listing_peak_rss_kb(workloads: usize) -> u64 {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::new();
    for i in 0..workloads {
        yaml.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w-{i:04}, namespace: big}}\nspec:\n  template:\n    metadata: {{labels: {{app: w{i}}}}}\n    spec: {{containers: [{{name: c, image: x}}]}}\n"
        ));
    }
    std::fs::write(dir.path().join("big.yaml"), yaml).unwrap();
    let mut child = palisade(&[
        "netpol",
        "reach",
        p(dir.path()),
        "--max-connections",
        "10000000",
    ])
    .command()
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = lines.next().unwrap().unwrap();
    let rows: usize = header
        .rsplit_once("; ")
        .and_then(|(_, n)| n.strip_suffix(" connections"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{header}"));
    assert_eq!(rows, workloads * workloads + 4 * workloads);
    let unread = 50_000;
    for _ in 0..rows - unread {
        lines.next().unwrap().unwrap();
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(lines.count(), unread);
    assert!(child.wait().unwrap().success());
    peak_kb
}

/// Issue 20 §4: an invalid label key or value in a selector, a NetworkPolicy name repeated in
/// one namespace and a Namespace declared twice with different labels are diagnostics, shown
/// by `palisade netpol …` and by the scan (which still reads its input: not exit status 3).
#[test]
fn selector_syntax_and_repeated_names_are_diagnostics_in_netpol_and_scan() {
    let dir = tempfile::tempdir().unwrap();
    let policy = |name: &str, selector: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{podSelector: {selector}, ingress: []}}\n"
        )
    };
    let namespace = |team: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {{team: {team}}}}}\n"
        )
    };
    let docs = [
        namespace("a"),
        namespace("b"),
        policy("bad-key", r#"{matchLabels: {"app@b": web}}"#),
        policy("bad-value", r#"{matchLabels: {app: "$x"}}"#),
        policy("twice", "{}"),
        policy("twice", "{}"),
    ];
    std::fs::write(dir.path().join("all.yaml"), docs.join("---\n")).unwrap();
    let messages = |diagnostics: &serde_json::Value| -> Vec<String> {
        diagnostics
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap().to_string())
            .collect()
    };
    let wants = [
        "app@b",
        "$x",
        "shop/twice is declared more than once",
        "Namespace shop",
    ];
    let expect = |got: &[String], context: &str| {
        let missing: Vec<&&str> = wants
            .iter()
            .filter(|w| !got.iter().any(|m| m.contains(**w)))
            .collect();
        assert!(missing.is_empty(), "{missing:?} not in {got:#?}\n{context}");
    };
    let out = palisade(&["netpol", "reach", p(dir.path()), "--format", "json"]).output();
    assert!(out.status.success(), "{}", stderr(&out));
    expect(&messages(&json(&out)["diagnostics"]), &stderr(&out));
    assert!(stderr(&out).contains("app@b"), "{}", stderr(&out));

    let out = palisade(&["scan", p(dir.path()), "--format", "json"]).output();
    assert_ne!(out.status.code(), Some(3), "{}", stderr(&out));
    expect(&messages(&json(&out)["diagnostics"]), &stderr(&out));
}

/// The `width="…"` of an SVG document.
fn svg_width(svg: &str) -> f64 {
    svg.split("width=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no width: {svg}"))
}

#[test]
fn reach_group_namespaces_draws_the_demo_readably_and_expands_one_namespace() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-cluster");
    let full = stdout(&palisade(&["netpol", "reach", demo, "--format", "svg"]).output());
    let grouped = |extra: &[&str]| {
        let out = palisade(&["netpol", "reach", demo, "--format", "svg"])
            .args(["--group", "namespaces"])
            .args(extra)
            .output();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let svg = grouped(&[]);
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    let edges = svg.matches("marker-end=").count();
    let namespaces = svg.matches("<g class=\"node\">").count();
    // Readable: namespaces (and the external node) instead of 28 workloads, at most one edge
    // per ordered pair, and a picture that fits a laptop screen, against the 3,560 px of the
    // per-workload drawing.
    assert!((5..=15).contains(&namespaces), "{namespaces} nodes");
    assert!(edges <= namespaces * namespaces, "{edges} edges");
    assert!(
        edges < full.matches("marker-end=").count() / 3,
        "{edges} edges"
    );
    let width = svg_width(&svg);
    assert!(width <= 1400.0, "{width} px wide");
    assert!(svg_width(&full) > 3000.0);
    // Unprotected workloads and allow-all edges are said in words.
    assert!(svg.contains("unprotected"), "{svg}");
    assert!(svg.contains("allow-all"), "{svg}");

    let expanded = grouped(&["--expand", "shop"]);
    assert!(expanded.contains("Deployment/checkout"), "{expanded}");
    assert!(
        !expanded.contains(">shop</text>"),
        "shop is drawn as its workloads"
    );

    let out = palisade(&["netpol", "reach", demo, "--group", "namespaces"]).output();
    assert_eq!(out.status.code(), Some(2), "namespaces draw svg only");
}
