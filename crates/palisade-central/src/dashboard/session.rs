//! Dashboard sessions: a random id in an `HttpOnly; Secure; SameSite=Strict` cookie scoped to
//! `/ui`, kept server-side in memory under the SHA-256 of the id (a memory dump shows no usable
//! cookie), with the CSRF token bound to it and an expiry. The API token the user logged in
//! with is kept with the session (memory only, never logged) so that every request
//! re-authenticates it: revoking the token ends its sessions at once.
//!
//! Sessions live in one process: a restart or another replica asks the user to log in again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use palisade_api::TokenInfo;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE: &str = "pal_session";
/// How long a session lasts after login.
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// At most this many sessions are kept; the oldest go first.
const MAX_SESSIONS: usize = 10_000;

/// One logged-in browser.
#[derive(Clone)]
pub struct Session {
    /// The token logged in with (re-checked on every request).
    pub secret: String,
    /// What the token was when the session started.
    pub info: TokenInfo,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    expires: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token", &self.info.id)
            .finish_non_exhaustive()
    }
}

/// Every session of this process.
#[derive(Debug, Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes, hex.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source");
    hex::encode(bytes)
}

fn hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

impl Sessions {
    /// Starts a session for `info` (logged in with `secret`); returns the cookie value.
    pub fn create(&self, secret: String, info: TokenInfo) -> String {
        let id = random_id();
        let session = Session {
            secret,
            info,
            csrf: random_id(),
            expires: Instant::now() + LIFETIME,
        };
        let mut map = self.by_hash.lock().expect("sessions lock");
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(hash(&id), session);
        id
    }

    /// The live session of cookie value `id`.
    pub fn get(&self, id: &str) -> Option<Session> {
        let key = hash(id);
        let mut map = self.by_hash.lock().expect("sessions lock");
        match map.get(&key) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends the session of cookie value `id`.
    pub fn remove(&self, id: &str) {
        self.by_hash
            .lock()
            .expect("sessions lock")
            .remove(&hash(id));
    }
}

/// The value of cookie `name` among a request's `Cookie` headers.
pub fn request_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie(h, name))
        .map(str::to_string)
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A `Set-Cookie` value for `/ui`: HttpOnly, Secure, SameSite=Strict; `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: Duration) -> String {
    format!(
        "{name}={value}; HttpOnly; Secure; SameSite=Strict; Path=/ui; Max-Age={}",
        max_age.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use palisade_api::Role;
    use palisade_model::time::Timestamp;

    use super::*;

    #[test]
    fn sessions_are_found_by_their_id_only_and_removed() {
        let sessions = Sessions::default();
        let info = TokenInfo {
            id: "t".into(),
            name: "n".into(),
            role: Role::Admin,
            cluster: None,
            created_at: Timestamp::from_unix_secs(0),
            expires: None,
            revoked_at: None,
        };
        let id = sessions.create("pal_secret".into(), info);
        assert_eq!(id.len(), 64);
        let s = sessions.get(&id).unwrap();
        assert_eq!(s.csrf.len(), 64);
        assert!(!format!("{s:?}").contains("pal_secret"));
        // Stored under its hash, not the id itself.
        assert!(!sessions.by_hash.lock().unwrap().contains_key(&id));
        assert!(sessions.get(&hash(&id)).is_none());
        sessions.remove(&id);
        assert!(sessions.get(&id).is_none());
        assert_eq!(cookie("a=1; pal_session=xyz; b=2", COOKIE), Some("xyz"));
        assert_eq!(cookie("a=1", COOKIE), None);
        let set = set_cookie(COOKIE, "v", LIFETIME);
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/ui"] {
            assert!(set.contains(part), "{set}");
        }
    }
}
