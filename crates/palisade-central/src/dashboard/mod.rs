//! Central's web dashboard under `/ui` (issue 17): server-rendered HTML (maud escapes every
//! value at compile time), one CSS and one small JS file embedded in the binary, no CDN.
//!
//! Every page reads the store through the same store queries as the JSON API (and the netpol
//! and RBAC engines through [`crate::graph`]), needs a session ([`session`]: log in with an API
//! token; else 303 to `/ui/login`), and is sent with a strict Content-Security-Policy
//! ([`layout::security_headers`]). Every form carries the session's CSRF token ([`csrf`]); a
//! POST without it is a 403. Only admin and analyst tokens may log in; only admins get the
//! exception forms (an analyst's POST is a 403).
//!
//! | path | module |
//! |---|---|
//! | `/ui/login`, `/ui/logout` | [`login`] |
//! | `/ui/` | [`overview`] |
//! | `/ui/workloads`, `/ui/workload` | [`workloads`] |
//! | `/ui/findings` | [`findings`] |
//! | `/ui/exceptions`, `/ui/exceptions/new`, `/ui/exceptions/{id}/revoke` | [`exceptions`] |
//! | `/ui/network`, `/ui/network.svg` | [`network`] |
//! | `/ui/rbac` | [`rbac`] |
//! | `/ui/images` | [`images`] |
//! | `/ui/runtime` | [`runtime`] |
//! | `/ui/policies` | [`policies`] |

pub mod csrf;
pub mod exceptions;
pub mod findings;
pub mod images;
pub mod layout;
pub mod login;
pub mod network;
pub mod overview;
pub mod policies;
pub mod rbac;
pub mod runtime;
pub mod session;
pub mod workloads;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::map_response;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use palisade_api::{Role, TokenInfo};
use serde::de::DeserializeOwned;

use crate::state::AppState;
pub use layout::UiError;
use session::Sessions;

/// The dashboard's state: central's, and the sessions.
#[derive(Clone)]
pub struct UiState {
    /// Store, metrics, clock.
    pub app: AppState,
    /// Logged-in browsers.
    pub sessions: Arc<Sessions>,
}

impl FromRef<UiState> for AppState {
    fn from_ref(state: &UiState) -> AppState {
        state.app.clone()
    }
}

/// Roles that may log in.
pub const VIEWERS: &[Role] = &[Role::Admin, Role::Analyst];
/// Roles that may create and revoke exceptions from the dashboard.
pub const EXCEPTION_EDITORS: &[Role] = &[Role::Admin];

/// The logged-in user of a request (a live session whose token is still accepted).
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The token, as the store knows it now.
    pub info: TokenInfo,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session cookie's value.
    pub session: String,
    /// The path of the request (pages carry it as `<body data-path>`, for tests and scripts).
    pub path: String,
}

impl Viewer {
    /// Whether this user gets the exception forms.
    pub fn edits_exceptions(&self) -> bool {
        EXCEPTION_EDITORS.contains(&self.info.role)
    }

    /// 403 unless `given` is this session's CSRF token.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), UiError> {
        if csrf::matches(&self.csrf, given) {
            Ok(())
        } else {
            Err(UiError::forbidden(
                "the form's CSRF token is missing or wrong; reload the page and try again",
            ))
        }
    }
}

/// Where a request without a session goes.
pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/ui/login").into_response()
    }
}

impl FromRequestParts<UiState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, Response> {
        let id = session::request_cookie(&parts.headers, session::COOKIE)
            .ok_or_else(|| ToLogin.into_response())?;
        let s = state
            .sessions
            .get(&id)
            .ok_or_else(|| ToLogin.into_response())?;
        // The token may have been revoked or have expired since the login.
        let info = state
            .app
            .store
            .authenticate(&s.secret, state.app.now())
            .await
            .map_err(|e| UiError::from(e).into_response())?;
        let Some(info) = info.filter(|i| VIEWERS.contains(&i.role)) else {
            state.sessions.remove(&id);
            return Err(ToLogin.into_response());
        };
        parts
            .extensions
            .insert(crate::auth::TokenId(info.id.clone()));
        Ok(Viewer {
            info,
            csrf: s.csrf,
            session: id,
            path: parts.uri.path().to_string(),
        })
    }
}

/// A form body (`application/x-www-form-urlencoded`) of type `T`.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, UiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| UiError::new(e.status(), "the form could not be read"))?;
        serde_urlencoded::from_bytes(&bytes)
            .map(Form)
            .map_err(|e| UiError::bad_request(format!("invalid form: {e}")))
    }
}

/// Query-string parameters of a page (unknown ones are ignored, empty ones are absent).
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, UiError> {
        let pairs = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .filter(|(_, v)| !v.is_empty());
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        T::deserialize(de)
            .map(Params)
            .map_err(|e| UiError::bad_request(format!("invalid query parameter: {e}")))
    }
}

/// Parses an optional severity name.
pub fn parse_severity(
    s: Option<&str>,
) -> Result<Option<palisade_model::finding::Severity>, UiError> {
    s.map(|s| {
        s.parse()
            .map_err(|_| UiError::bad_request(format!("unknown severity {s:?}")))
    })
    .transpose()
}

/// The clusters the store has (for selectors), by name.
pub async fn cluster_names(state: &UiState) -> Result<Vec<String>, UiError> {
    Ok(state.app.store.cluster_names().await?)
}

/// Largest form body.
const FORM_LIMIT: usize = 64 * 1024;

/// The dashboard's routes (`/` redirects to `/ui/`), with the security headers on every answer
/// and the API's request metrics and access log.
pub fn router(app: AppState) -> Router {
    let metrics = app.metrics.clone();
    let state = UiState {
        app,
        sessions: Arc::new(Sessions::default()),
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(overview::page))
        .route("/ui/login", get(login::form).post(login::submit))
        .route("/ui/logout", post(login::logout))
        .route(
            "/ui/assets/dashboard.css",
            get(|| async { layout::asset("text/css; charset=utf-8", layout::CSS) }),
        )
        .route(
            "/ui/assets/dashboard.js",
            get(|| async { layout::asset("text/javascript; charset=utf-8", layout::JS) }),
        )
        .route("/ui/workloads", get(workloads::list))
        .route("/ui/workload", get(workloads::detail))
        .route("/ui/findings", get(findings::page))
        .route(
            "/ui/exceptions",
            get(exceptions::list).post(exceptions::create),
        )
        .route("/ui/exceptions/new", get(exceptions::form))
        .route("/ui/exceptions/{id}/revoke", post(exceptions::revoke))
        .route("/ui/network", get(network::page))
        .route("/ui/network.svg", get(network::download))
        .route("/ui/rbac", get(rbac::page))
        .route("/ui/images", get(images::page))
        .route("/ui/runtime", get(runtime::page))
        .route("/ui/policies", get(policies::page))
        .route(
            "/ui/{*rest}",
            get(|| async { UiError::not_found("there is no such dashboard page") }),
        )
        // Request metrics and the access log line, as for the API (route, method, status, ms).
        .route_layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(map_response(layout::security_headers))
        .with_state(state)
}
