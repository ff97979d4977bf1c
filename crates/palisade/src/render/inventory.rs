//! Rendering of the inventory report: tables and CSV.

use palisade_risk::{InventoryReport, Signal, WorkloadEntry};

use crate::render::table::{keep_whole, new_table};

/// Output format of `palisade inventory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tables for people.
    #[value(alias = "text", alias = "txt")]
    Table,
    /// One JSON document (workloads, namespace and registry counts).
    Json,
    /// One CSV row per workload (RFC 4180).
    Csv,
}

/// The inventory report in `format` (without a final newline for the table and JSON).
pub fn render(r: &InventoryReport, format: Format) -> serde_json::Result<String> {
    Ok(match format {
        Format::Table => table(r),
        Format::Json => serde_json::to_string_pretty(r)?,
        Format::Csv => csv(r),
    })
}

fn images(w: &WorkloadEntry) -> Vec<String> {
    w.images
        .iter()
        .map(|i| match &i.parsed {
            Some(p) => p.to_string(),
            None => format!("{} (invalid)", i.reference),
        })
        .collect()
}

fn owner(w: &WorkloadEntry) -> String {
    let o = &w.ownership;
    let mut parts = Vec::new();
    if let Some(a) = &o.owner {
        parts.push(format!("owner={}", a.value));
    }
    if let Some(a) = &o.team {
        parts.push(format!("team={}", a.value));
    }
    if let Some(a) = &o.contact {
        parts.push(format!("contact={}", a.value));
    }
    parts.join(" ")
}

/// One short text per signal.
pub fn signal(s: &Signal) -> String {
    match s {
        Signal::LatestTag { container, .. } => format!("{container}: latest/untagged image"),
        Signal::NotDigestPinned { container, .. } => format!("{container}: not digest-pinned"),
        Signal::InvalidImage { container, reason } => format!("{container}: {reason}"),
        Signal::NoProbes { container } => format!("{container}: no probes"),
        Signal::NoLimits { container, missing } => {
            format!("{container}: no {} limit", missing.join("/"))
        }
        Signal::NoOwner => "no owner".into(),
        Signal::OldImage {
            container,
            age_days,
        } => format!("{container}: image {age_days} days old"),
    }
}

/// The tables: workloads, then counts per namespace and per registry.
pub fn table(r: &InventoryReport) -> String {
    let mut t = new_table(&[
        "NAMESPACE",
        "KIND",
        "NAME",
        "IMAGES",
        "SERVICE ACCOUNT",
        "EXPOSURE",
        "OWNER",
        "GAPS",
        "SIGNALS",
    ]);
    for w in &r.workloads {
        t.add_row(vec![
            w.id.namespace.clone(),
            w.id.kind.clone(),
            w.id.name.clone(),
            images(w).join("\n"),
            w.service_account.clone(),
            w.exposure.level.as_str().to_string(),
            owner(w),
            w.ownership_gaps
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            w.signals.iter().map(signal).collect::<Vec<_>>().join("\n"),
        ]);
    }
    keep_whole(&mut t, &[0, 1, 2]);
    let mut n = new_table(&[
        "NAMESPACE",
        "WORKLOADS",
        "CONTAINERS",
        "EXTERNALLY EXPOSED",
        "WITHOUT OWNER",
    ]);
    for c in &r.namespaces {
        n.add_row(vec![
            c.namespace.clone(),
            c.workloads.to_string(),
            c.containers.to_string(),
            c.externally_exposed.to_string(),
            c.without_owner.to_string(),
        ]);
    }
    let mut g = new_table(&["REGISTRY", "IMAGES", "CONTAINERS", "WORKLOADS"]);
    for c in &r.registries {
        g.add_row(vec![
            c.registry.clone(),
            c.images.to_string(),
            c.containers.to_string(),
            c.workloads.to_string(),
        ]);
    }
    format!(
        "{} workload(s)\n{t}\n\nPer namespace\n{n}\n\nPer registry\n{g}\n",
        r.workloads.len()
    )
}

/// Quotes a CSV field when it needs it (RFC 4180).
/// One row per workload; multi-valued cells are joined with `; `.
pub fn csv(r: &InventoryReport) -> String {
    let mut out = String::from(
        "namespace,kind,name,images,registries,service_account,exposure,owner,team,contact,ownership_gaps,signals\r\n",
    );
    for w in &r.workloads {
        let mut registries: Vec<&str> = w.images.iter().filter_map(|i| i.registry()).collect();
        registries.sort();
        registries.dedup();
        let o = &w.ownership;
        let val = |a: &Option<palisade_risk::Attribution>| {
            a.as_ref().map(|a| a.value.clone()).unwrap_or_default()
        };
        let row = [
            w.id.namespace.clone(),
            w.id.kind.clone(),
            w.id.name.clone(),
            images(w).join("; "),
            registries.join("; "),
            w.service_account.clone(),
            w.exposure.level.as_str().to_string(),
            val(&o.owner),
            val(&o.team),
            val(&o.contact),
            w.ownership_gaps
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            w.signals.iter().map(signal).collect::<Vec<_>>().join("; "),
        ];
        out.push_str(
            &row.iter()
                .map(|f| crate::render::csv::field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}
