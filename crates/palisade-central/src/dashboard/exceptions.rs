//! `/ui/exceptions`: the exceptions and (for admins) the audit log; the form that creates an
//! exception from a finding (reason, expiry, scope) and the revoke buttons. Creating and
//! revoking need an admin session and the session's CSRF token (else 403); both are audited
//! by the store with the token's name, as through the API.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use palisade_api::ExceptionCreate;
use palisade_model::time::{Date, Timestamp};
use serde::Deserialize;

use super::layout::{self, UiError, no_data};
use super::{Form, Params, UiState, Viewer, csrf};

/// What the exception form was opened from (a finding's identity).
#[derive(Debug, Default, Deserialize)]
pub struct FromFinding {
    cluster: Option<String>,
    check: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    fingerprint: Option<String>,
}

/// The scopes an exception made from a finding can have.
const SCOPES: &[(&str, &str)] = &[
    ("finding", "this finding only (its fingerprint)"),
    ("object", "this check on this object"),
    ("namespace", "this check in this namespace"),
    ("cluster", "this check in the whole cluster"),
];

fn forbid_analyst(viewer: &Viewer) -> Result<(), UiError> {
    if viewer.edits_exceptions() {
        Ok(())
    } else {
        Err(UiError::forbidden(format!(
            "a {} session may look at exceptions but not change them",
            viewer.info.role
        )))
    }
}

/// `GET /ui/exceptions/new`: the form, prefilled from a finding.
pub async fn form(
    State(state): State<UiState>,
    viewer: Viewer,
    Params(f): Params<FromFinding>,
) -> Result<Markup, UiError> {
    forbid_analyst(&viewer)?;
    let default_expiry =
        Timestamp::from_unix_ms(state.app.now().unix_ms() + 30 * 86_400_000).date();
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let body = html! {
        form method="post" action="/ui/exceptions" class="stack" {
            (csrf::field(&viewer.csrf))
            dl class="facts" {
                dt { "Cluster" } dd { (v(&f.cluster)) }
                dt { "Check" } dd { (v(&f.check)) }
                dt { "Object" } dd { (v(&f.namespace)) "/" (v(&f.name)) }
                dt { "Fingerprint" } dd { code { (v(&f.fingerprint)) } }
            }
            @for (name, value) in [("cluster", &f.cluster), ("check", &f.check), ("namespace", &f.namespace), ("name", &f.name), ("fingerprint", &f.fingerprint)] {
                input type="hidden" name=(name) value=(v(value));
            }
            fieldset {
                legend { "Scope" }
                @for (i, (value, label)) in SCOPES.iter().enumerate() {
                    label class="radio" { input type="radio" name="scope" value=(value) checked[i == 0]; " " (label) }
                }
            }
            label for="reason" { "Reason (required)" }
            textarea id="reason" name="reason" required rows="3" {}
            label for="expires" { "Last day it applies (UTC)" }
            input id="expires" type="date" name="expires" value=(default_expiry.to_string()) required;
            button type="submit" { "Create exception" }
        }
    };
    Ok(layout::page(
        &viewer,
        "New exception",
        "/ui/exceptions",
        body,
    ))
}

/// The exception form as posted.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    check: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    fingerprint: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: String,
}

impl CreateForm {
    /// The exception the form asks for.
    fn spec(&self) -> Result<ExceptionCreate, UiError> {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let expires = Date::parse(self.expires.trim())
            .map_err(|_| UiError::bad_request("the expiry must be a date (YYYY-MM-DD)"))?;
        let (namespace, name, fingerprint) = match self.scope.as_str() {
            "finding" => (None, None, some(&self.fingerprint)),
            "object" => (some(&self.namespace), some(&self.name), None),
            "namespace" => (some(&self.namespace), None, None),
            "cluster" => (None, None, None),
            other => return Err(UiError::bad_request(format!("unknown scope {other:?}"))),
        };
        Ok(ExceptionCreate {
            cluster: some(&self.cluster),
            check: if self.scope == "finding" {
                None
            } else {
                some(&self.check)
            },
            namespace,
            name,
            fingerprint,
            reason: self.reason.trim().to_string(),
            expires,
        })
    }
}

/// `POST /ui/exceptions`: creates the exception (admin, CSRF-checked, audited).
pub async fn create(
    State(state): State<UiState>,
    viewer: Viewer,
    Form(form): Form<CreateForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(form.csrf.as_deref())?;
    forbid_analyst(&viewer)?;
    let spec = form.spec()?;
    let created = state
        .app
        .store
        .create_exception(&spec, &viewer.info.name, state.app.now())
        .await?;
    tracing::info!(token = %viewer.info.id, exception = created.id, "exception created from the dashboard");
    Ok(Redirect::to("/ui/exceptions").into_response())
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /ui/exceptions/{id}/revoke` (admin, CSRF-checked, audited).
pub async fn revoke(
    State(state): State<UiState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(form.csrf.as_deref())?;
    forbid_analyst(&viewer)?;
    let id: i64 = id
        .parse()
        .map_err(|_| UiError::bad_request("an exception id is a number"))?;
    state
        .app
        .store
        .revoke_exception(id, &viewer.info.name, state.app.now())
        .await?;
    tracing::info!(token = %viewer.info.id, exception = id, "exception revoked from the dashboard");
    Ok(Redirect::to("/ui/exceptions").into_response())
}

/// `GET /ui/exceptions`.
pub async fn list(State(state): State<UiState>, viewer: Viewer) -> Result<Markup, UiError> {
    let store = &state.app.store;
    let exceptions = store.exceptions().await?;
    let editor = viewer.edits_exceptions();
    let audit = if editor {
        Some(store.audit(Some(50), None).await?)
    } else {
        None
    };
    let today = state.app.now().date();
    let body = html! {
        @if !editor { p class="hint" { "You can read exceptions; only admins create or revoke them here." } }
        @if exceptions.is_empty() { (no_data("no exception yet (create one from a finding)")) }
        @else { div class="scroll" { table {
            thead { tr {
                th scope="col" { "Id" } th scope="col" { "Matches" } th scope="col" { "Reason" } th scope="col" { "Expires" }
                th scope="col" { "Created" } th scope="col" { "State" } @if editor { th scope="col" { "Action" } }
            } }
            tbody { @for e in &exceptions { tr {
                td class="num" { (e.id) }
                td { @for (k, v) in [("cluster", &e.spec.cluster), ("check", &e.spec.check), ("namespace", &e.spec.namespace), ("name", &e.spec.name), ("fingerprint", &e.spec.fingerprint)] {
                    @if let Some(v) = v { span class="kv" { (k) "=" code { (v) } } " " }
                } }
                td { (e.spec.reason) }
                td { (e.spec.expires.to_string()) }
                td { (e.created_by) ", " (e.created_at.rfc3339()) }
                td { @if let Some(at) = e.revoked_at { "revoked " (at.rfc3339()) @if let Some(by) = &e.revoked_by { " by " (by) } }
                     @else if e.spec.expires < today { "expired" } @else { "active" } }
                @if editor { td { @if e.revoked_at.is_none() {
                    form method="post" action={ "/ui/exceptions/" (e.id) "/revoke" } data-confirm="Revoke this exception?" {
                        (csrf::field(&viewer.csrf))
                        button type="submit" { "Revoke " span class="sr" { "exception " (e.id) } }
                    }
                } } }
            } } }
        } } }
        @if let Some(audit) = &audit {
            section aria-labelledby="h-audit" {
                h2 id="h-audit" { "Audit log" }
                @if audit.items.is_empty() { (no_data("nothing audited yet")) }
                @else { div class="scroll" { table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Target" } } }
                    tbody { @for a in &audit.items { tr { td { (a.time.rfc3339()) } td { (a.actor) } td { (a.action) } td { (a.target) } } } }
                } } }
            }
        }
    };
    Ok(layout::page(&viewer, "Exceptions", "/ui/exceptions", body))
}
