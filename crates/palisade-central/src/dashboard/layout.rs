//! What every page shares: the security headers, the page shell (skip link, navigation,
//! logout), error pages, and small pieces (severity labels, links that keep the query string,
//! pagination, sortable headers).

use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use palisade_model::finding::Severity;

use super::Viewer;
use super::csrf;

/// The Content-Security-Policy of every dashboard answer: nothing but this origin's own script,
/// style and images; no inline script or style, no framing, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet (embedded in the binary).
pub const CSS: &str = include_str!("assets/dashboard.css");
/// The script: progressive enhancement only; every page works without it.
pub const JS: &str = include_str!("assets/dashboard.js");

/// Adds the security headers to every dashboard answer.
pub async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    response
}

/// An asset answer (cacheable for an hour).
pub fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// A page that could not be shown: a status and a sentence, as HTML.
#[derive(Debug)]
pub struct UiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Why (shown escaped).
    pub message: String,
}

impl UiError {
    /// An error page.
    pub fn new(status: StatusCode, message: impl Into<String>) -> UiError {
        UiError {
            status,
            message: message.into(),
        }
    }

    /// 403 with the reason.
    pub fn forbidden(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 404 with the reason.
    pub fn not_found(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 400 with the reason.
    pub fn bad_request(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<crate::ApiError> for UiError {
    fn from(e: crate::ApiError) -> UiError {
        UiError::new(e.status, e.body.error)
    }
}

impl From<palisade_store::StoreError> for UiError {
    fn from(e: palisade_store::StoreError) -> UiError {
        crate::store_error::to_api(e).into()
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = html! {
            (DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { (title) " · Palisade" } (head_links()) }
                body { main id="main" class="narrow" {
                    h1 { (self.status.as_u16()) " " (title) }
                    p { (self.message) }
                    p { a href="/ui/" { "Back to the overview" } }
                } }
            }
        };
        (self.status, body).into_response()
    }
}

fn head_links() -> Markup {
    html! {
        meta name="viewport" content="width=device-width, initial-scale=1";
        link rel="stylesheet" href="/ui/assets/dashboard.css";
        script src="/ui/assets/dashboard.js" defer {}
    }
}

/// The navigation: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/ui/", "Overview"),
    ("/ui/workloads", "Workloads"),
    ("/ui/findings", "Findings"),
    ("/ui/exceptions", "Exceptions"),
    ("/ui/network", "Network"),
    ("/ui/rbac", "RBAC"),
    ("/ui/images", "Images"),
    ("/ui/runtime", "Runtime"),
    ("/ui/policies", "Policies"),
];

/// A whole page for `viewer`: `active` is the navigation entry's path.
pub fn page(viewer: &Viewer, title: &str, active: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) " · Palisade" } (head_links()) }
            body data-path=(viewer.path) {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/ui/" { "Palisade" }
                    nav aria-label="Main" { ul {
                        @for (path, label) in NAV {
                            li { a href=(path) aria-current=[(*path == active).then_some("page")] { (label) } }
                        }
                    } }
                    form class="logout" method="post" action="/ui/logout" {
                        (csrf::field(&viewer.csrf))
                        span class="who" { (viewer.info.name) " (" (viewer.info.role) ")" }
                        button type="submit" { "Log out" }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A severity as a word with its colour (never colour alone).
pub fn severity(s: Severity) -> Markup {
    html! { span class={ "sev sev-" (s.as_str()) } { (s.as_str()) } }
}

/// "no data" with why.
pub fn no_data(why: &str) -> Markup {
    html! { p class="nodata" { "No data: " (why) } }
}

/// `path?k=v&…` for the non-empty values.
pub fn href(path: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// `params` with `key` set to `value` (added or replaced).
pub fn with<'a>(
    params: &[(&'a str, &'a str)],
    key: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = params.iter().filter(|(k, _)| *k != key).copied().collect();
    out.push((key, value));
    out
}

/// A table header that sorts by `key` (a link keeping the other parameters).
pub fn sort_header(
    path: &str,
    params: &[(&str, &str)],
    key: &str,
    label: &str,
    current: &str,
) -> Markup {
    let mut link = with(params, "sort", key);
    link.retain(|(k, _)| *k != "cursor");
    html! {
        th scope="col" aria-sort=[(current == key).then_some("descending")] {
            a href=(href(path, &link)) { (label) @if current == key { " ▼" } }
        }
    }
}

/// "Next page" (with `next`) and "First page" links.
pub fn pager(path: &str, params: &[(&str, &str)], next: Option<&str>) -> Markup {
    let first: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| *k != "cursor")
        .copied()
        .collect();
    let has_cursor = params.iter().any(|(k, v)| *k == "cursor" && !v.is_empty());
    html! {
        nav class="pager" aria-label="Pages" {
            @if has_cursor { a href=(href(path, &first)) { "First page" } }
            @if let Some(next) = next { a rel="next" href=(href(path, &with(&first, "cursor", next))) { "Next page" } }
        }
    }
}

/// A select of `options` named `name` with `current` selected (and an "any" entry).
pub fn select(name: &str, label: &str, options: &[&str], current: &str) -> Markup {
    html! {
        label {
            (label) " "
            select name=(name) data-autosubmit {
                option value="" { "any" }
                @for o in options { option value=(o) selected[*o == current] { (o) } }
            }
        }
    }
}

/// A text input named `name`.
pub fn text_input(name: &str, label: &str, current: &str) -> Markup {
    html! { label { (label) " " input type="text" name=(name) value=(current); } }
}

/// Severity names, worst first.
pub fn severity_names() -> Vec<&'static str> {
    Severity::ALL.iter().rev().map(|s| s.as_str()).collect()
}

/// Inline SVG produced by palisade-netpol (which escapes every label).
pub fn trusted_svg(svg: String) -> Markup {
    PreEscaped(svg)
}
