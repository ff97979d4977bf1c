//! `/ui/login` (an API token in a form → a session cookie) and `/ui/logout`.
//!
//! The login form has no session yet, so its CSRF defence is a double-submit cookie
//! (`pal_login`, HttpOnly, SameSite=Strict) that must equal the form's hidden field. Only
//! admin and analyst tokens open a session. The token is never logged or echoed; the log line
//! names the token's id.

use axum::extract::State;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, html};
use serde::Deserialize;

use super::layout::UiError;
use super::session::{self, LIFETIME, random_id, set_cookie};
use super::{Form, UiState, VIEWERS, Viewer, csrf};

/// How long the login form's cookie lives.
const LOGIN_COOKIE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    let token = random_id();
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Log in · Palisade" }
                link rel="stylesheet" href="/ui/assets/dashboard.css";
            }
            body data-path="/ui/login" {
                a class="skip" href="#main" { "Skip to content" }
                main id="main" class="narrow" {
                    h1 { "Palisade central" }
                    @if let Some(e) = error { p class="error" role="alert" { (e) } }
                    form method="post" action="/ui/login" class="stack" {
                        (csrf::field(&token))
                        label for="token" { "API token (admin or analyst)" }
                        input id="token" type="password" name="token" autocomplete="off" required autofocus;
                        button type="submit" { "Log in" }
                    }
                    p class="hint" { "Create one with " code { "palisade central token create --role analyst --name NAME" } "." }
                }
            }
        }
    };
    let mut response = (status, body).into_response();
    if let Ok(v) = set_cookie(csrf::LOGIN_COOKIE, &token, LOGIN_COOKIE_LIFETIME).parse() {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

/// `GET /ui/login`.
pub async fn form() -> Response {
    login_page(StatusCode::OK, None)
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    #[serde(default)]
    csrf: Option<String>,
}

fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response();
    for c in cookies {
        if let Ok(v) = c.parse() {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

/// `POST /ui/login`.
pub async fn submit(
    State(state): State<UiState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, UiError> {
    let expected = session::request_cookie(&headers, csrf::LOGIN_COOKIE);
    if !expected.is_some_and(|e| csrf::matches(&e, form.csrf.as_deref())) {
        return Err(UiError::forbidden(
            "the login form's CSRF token is missing or wrong; reload the login page",
        ));
    }
    let secret = form.token.trim().to_string();
    let info = state
        .app
        .store
        .authenticate(&secret, state.app.now())
        .await?;
    let Some(info) = info else {
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            Some("That token is unknown, revoked or expired."),
        ));
    };
    if !VIEWERS.contains(&info.role) {
        return Ok(login_page(
            StatusCode::FORBIDDEN,
            Some("Only admin and analyst tokens open the dashboard."),
        ));
    }
    tracing::info!(token = %info.id, role = %info.role, "dashboard login");
    let id = state.sessions.create(secret, info);
    Ok(see_other(
        "/ui/",
        &[
            set_cookie(session::COOKIE, &id, LIFETIME),
            set_cookie(csrf::LOGIN_COOKIE, "", std::time::Duration::ZERO),
        ],
    ))
}

/// The logout form.
#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /ui/logout`: ends the session and deletes the cookie.
pub async fn logout(
    State(state): State<UiState>,
    viewer: Viewer,
    Form(form): Form<LogoutForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(form.csrf.as_deref())?;
    state.sessions.remove(&viewer.session);
    tracing::info!(token = %viewer.info.id, "dashboard logout");
    Ok(see_other(
        "/ui/login",
        &[set_cookie(session::COOKIE, "", std::time::Duration::ZERO)],
    ))
}
