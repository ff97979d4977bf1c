//! Tables and JSON of `palisade central query` and `palisade central token`.

use palisade_api::{
    AlertView, ClusterView, FindingView, ImageView, Page, TokenCreated, TokenInfo, WorkloadView,
};
use serde::Serialize;

use crate::render::table::{keep_whole, new_table};

/// Output format of the central commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable table.
    Table,
    /// The API's JSON, as central answered.
    Json,
}

fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<String> {
    Ok(format!("{}\n", serde_json::to_string_pretty(value)?))
}

/// A table with its rows; a page's cursor goes to stderr so stdout stays the table.
fn table<T>(
    headers: &[&str],
    rows: &[T],
    next: Option<&str>,
    whole: &[usize],
    row: impl Fn(&T) -> Vec<String>,
) -> String {
    let mut t = new_table(headers);
    for r in rows {
        t.add_row(row(r));
    }
    keep_whole(&mut t, whole);
    if let Some(cursor) = next {
        eprintln_safe!("palisade: more rows: repeat with --cursor {cursor}");
    }
    format!("{t}\n")
}

/// A page as a table or as JSON.
fn page<T: Serialize>(
    page: &Page<T>,
    format: Format,
    headers: &[&str],
    whole: &[usize],
    row: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<String> {
    match format {
        Format::Json => json(page),
        Format::Table => Ok(table(
            headers,
            &page.items,
            page.next.as_deref(),
            whole,
            row,
        )),
    }
}

fn object(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// `query findings`.
pub fn findings(p: &Page<FindingView>, format: Format) -> anyhow::Result<String> {
    let headers = [
        "SEVERITY",
        "CLUSTER",
        "OBJECT",
        "CHECK",
        "STATUS",
        "FIRST SEEN",
        "MESSAGE",
    ];
    page(p, format, &headers, &[0, 1, 3, 4], |f| {
        vec![
            f.severity.to_string(),
            f.cluster.clone(),
            object(
                &f.object.kind,
                f.object.namespace.as_deref(),
                &f.object.name,
            ),
            f.check_id.clone(),
            serde_json::to_value(f.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            f.first_seen.rfc3339(),
            f.message.clone(),
        ]
    })
}

/// `query workloads` and `query risk`.
pub fn workloads(p: &Page<WorkloadView>, format: Format) -> anyhow::Result<String> {
    let headers = ["CLUSTER", "WORKLOAD", "RISK", "RANK", "FINDINGS", "IMAGES"];
    page(p, format, &headers, &[0, 2, 3, 4], |w| {
        vec![
            w.cluster.clone(),
            w.id.to_string(),
            w.risk_score.to_string(),
            w.risk_rank.map(|r| r.to_string()).unwrap_or_default(),
            w.open_findings.to_string(),
            w.images.join(", "),
        ]
    })
}

/// `query images`.
pub fn images(p: &Page<ImageView>, format: Format) -> anyhow::Result<String> {
    let headers = [
        "IMAGE",
        "DIGEST",
        "CLUSTERS",
        "WORKLOADS",
        "VULNERABILITIES",
    ];
    page(p, format, &headers, &[3, 4], |i| {
        vec![
            i.reference.clone(),
            i.digest.clone().unwrap_or_default(),
            i.clusters.join(", "),
            i.workloads.to_string(),
            i.vulnerabilities.len().to_string(),
        ]
    })
}

/// `query alerts`.
pub fn alerts(p: &Page<AlertView>, format: Format) -> anyhow::Result<String> {
    let headers = ["TIME", "CLUSTER", "SEVERITY", "RULE", "WORKLOAD", "MESSAGE"];
    page(p, format, &headers, &[0, 1, 2, 3], |a| {
        vec![
            a.alert.time.rfc3339(),
            a.cluster.clone(),
            a.alert.severity.to_string(),
            a.alert.rule.clone(),
            a.alert
                .workload
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            a.alert.message.clone(),
        ]
    })
}

/// `query clusters`.
pub fn clusters(clusters: &[ClusterView], format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return json(clusters);
    }
    let headers = ["CLUSTER", "LAST SNAPSHOT", "WORKLOADS", "OPEN FINDINGS"];
    Ok(table(&headers, clusters, None, &[0, 1, 2], |c| {
        vec![
            c.name.clone(),
            c.last_snapshot_at.map(|t| t.rfc3339()).unwrap_or_default(),
            c.workloads.to_string(),
            c.open_findings
                .iter()
                .rev()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ]
    }))
}

/// `token list`.
pub fn tokens(tokens: &[TokenInfo], format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return json(tokens);
    }
    let headers = [
        "ID", "NAME", "ROLE", "CLUSTER", "CREATED", "EXPIRES", "REVOKED",
    ];
    Ok(table(&headers, tokens, None, &[0, 2, 4], |t| {
        vec![
            t.id.clone(),
            t.name.clone(),
            t.role.to_string(),
            t.cluster.clone().unwrap_or_default(),
            t.created_at.rfc3339(),
            t.expires.map(|d| d.to_string()).unwrap_or_default(),
            t.revoked_at.map(|t| t.rfc3339()).unwrap_or_default(),
        ]
    }))
}

/// `token create`: the secret, shown this once.
pub fn token_created(created: &TokenCreated, format: Format) -> anyhow::Result<String> {
    match format {
        Format::Json => json(created),
        Format::Table => Ok(format!(
            "created {} token {} ({}); its secret is shown only now:\n{}\n",
            created.info.role, created.info.id, created.info.name, created.token
        )),
    }
}
