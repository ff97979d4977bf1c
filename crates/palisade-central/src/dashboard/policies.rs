//! `/ui/policies`: the check catalog (rationale, remediation, cross-references) and what the
//! admission decisions pushed to central show about each check.

use std::collections::BTreeMap;

use axum::extract::State;
use maud::{Markup, html};
use palisade_checks::Catalog;
use serde::Deserialize;

use super::layout::{self, UiError, href, no_data, severity, text_input};
use super::{Params, UiState, Viewer, cluster_names};

/// `/ui/policies` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyParams {
    /// One check (id or name) or a word of its title.
    check: Option<String>,
}

/// Per check: admission decisions that denied, and that allowed with the finding (warn or
/// audit, or dry-run).
#[derive(Default)]
struct Admission {
    denied: u64,
    allowed: u64,
}

fn references(r: &palisade_checks::References) -> Markup {
    html! { @for (label, ids) in r.labelled() { span class="kv" { (label) ": " (ids) } br; } }
}

/// `GET /ui/policies`.
pub async fn page(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(p): Params<PolicyParams>,
) -> Result<Markup, UiError> {
    // Parsed once: the built-in catalog never changes while central runs.
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    let catalog = CATALOG.get_or_init(Catalog::builtin);
    let mut admission: BTreeMap<String, Admission> = BTreeMap::new();
    let mut decisions = 0usize;
    for c in cluster_names(&state).await? {
        for d in state
            .app
            .store
            .admission(&c, Some(palisade_api::MAX_PAGE))
            .await?
        {
            decisions += 1;
            for f in &d.findings {
                let a = admission.entry(f.check_id.clone()).or_default();
                if d.allowed && !d.dry_run {
                    a.allowed += 1;
                } else {
                    a.denied += 1;
                }
            }
        }
    }
    let q = p.check.clone().unwrap_or_default();
    let wanted = |c: &&palisade_checks::CheckDef| {
        q.is_empty()
            || c.id == q
            || c.name == q
            || c.title.to_lowercase().contains(&q.to_lowercase())
    };
    let body = html! {
        form method="get" action="/ui/policies" class="filters" {
            (text_input("check", "Check id, name or title word", &q))
            button type="submit" { "Find" }
            @if !q.is_empty() { a href="/ui/policies" { "All checks" } }
        }
        p class="hint" {
            "Admission: " (decisions) " recent decisions pushed to central. The webhook's enforce/warn/audit configuration itself is not pushed: "
            "the columns show what the decisions did (denied, or allowed with the finding reported)."
        }
        @if decisions == 0 { (no_data("no admission decision pushed (palisade admission serve with --central)")) }
        div class="scroll" { table {
            thead { tr {
                th scope="col" { "Check" } th scope="col" { "Severity" } th scope="col" { "Category" }
                th scope="col" { "Why" } th scope="col" { "Fix" } th scope="col" { "References" } th scope="col" { "Admission" }
            } }
            tbody { @for c in catalog.checks().iter().filter(wanted) {
                tr id=(c.id) {
                    th scope="row" { (c.id) br; code { (c.name) } br; (c.title) br;
                        a href=(href("/ui/findings", &[("check", &c.id)])) { "Findings" } }
                    td { (severity(c.severity)) }
                    td { (c.category) }
                    td { (c.rationale) }
                    td { (c.remediation) }
                    td { (references(&c.references)) }
                    td { @match admission.get(&c.id) {
                        Some(a) => { "denied " (a.denied) ", allowed with finding " (a.allowed) },
                        None => span class="muted" { "no decision" },
                    } }
                }
            } }
        } }
    };
    Ok(layout::page(&viewer, "Policies", "/ui/policies", body))
}
