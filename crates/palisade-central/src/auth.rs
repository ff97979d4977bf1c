//! Who is calling: the bearer token of every request but `/healthz`, resolved by the store
//! (which keeps only hashes), and what its role and cluster allow.
//!
//! 401 without a token or with one the store does not accept (unknown, revoked, expired); 403
//! when the role may not use the route or a sensor/agent token names another cluster, for reads
//! and writes alike. The secret itself is never logged or put in an answer.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use palisade_api::{Role, TokenInfo};

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenInfo);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let info = state
            .store
            .authenticate(secret, state.now())
            .await
            .map_err(crate::store_error::to_api)?
            .ok_or_else(ApiError::unauthorized)?;
        // Named in the request's log line (by id, never by secret).
        parts.extensions.insert(TokenId(info.id.clone()));
        Ok(Caller(info))
    }
}

/// The id of the token that made a request, for the access log.
#[derive(Debug, Clone)]
pub struct TokenId(pub String);

impl Caller {
    /// The token's name (audit entries name the actor by it).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} token may not do this (needs {})",
                self.0.role,
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }

    /// For a push to `cluster`: the caller has one of `roles` and, when its token is bound to
    /// a cluster, it is this one.
    pub fn write(&self, cluster: &str, roles: &[Role]) -> Result<(), ApiError> {
        self.require(roles)?;
        self.own_cluster(cluster)
    }

    /// For a read across clusters filtered by `requested`: the caller has one of `roles`; a
    /// cluster-bound token reads its own cluster only (the filter defaults to it; another
    /// cluster is 403). Returns the cluster filter to apply.
    pub fn read(
        &self,
        requested: Option<String>,
        roles: &[Role],
    ) -> Result<Option<String>, ApiError> {
        self.require(roles)?;
        match (&self.0.cluster, requested) {
            (Some(own), None) if self.0.role.is_cluster_bound() => Ok(Some(own.clone())),
            (_, Some(c)) => {
                self.own_cluster(&c)?;
                Ok(Some(c))
            }
            (_, None) => Ok(None),
        }
    }

    /// 403 when the token is bound to a cluster other than `cluster`.
    pub fn own_cluster(&self, cluster: &str) -> Result<(), ApiError> {
        match &self.0.cluster {
            Some(own) if self.0.role.is_cluster_bound() && own != cluster => {
                Err(ApiError::forbidden(format!(
                    "this token is bound to cluster {own:?}, not {cluster:?}"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// Roles that read everything.
pub const READERS: &[Role] = &[Role::Admin, Role::Analyst];
/// Roles that read one cluster's state (sensors their own).
pub const STATE_READERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Sensor];
/// Roles that see the cluster list (sensors and agents their own cluster only).
pub const CLUSTER_READERS: &[Role] = &Role::ALL;
/// Roles that push snapshots and admission decisions.
pub const SENSOR_WRITERS: &[Role] = &[Role::Admin, Role::Sensor];
/// Roles that push alerts, flows and baselines.
pub const AGENT_WRITERS: &[Role] = &[Role::Admin, Role::Agent];
/// Roles that manage exceptions: admins only; an analyst reads them (read-only role).
pub const EXCEPTION_WRITERS: &[Role] = &[Role::Admin];
/// Roles that manage tokens and read the audit log.
pub const ADMINS: &[Role] = &[Role::Admin];

#[cfg(test)]
mod tests {
    use palisade_model::time::Timestamp;

    use super::*;

    fn caller(role: Role, cluster: Option<&str>) -> Caller {
        Caller(TokenInfo {
            id: "id".into(),
            name: "n".into(),
            role,
            cluster: cluster.map(str::to_string),
            created_at: Timestamp::from_unix_secs(0),
            expires: None,
            revoked_at: None,
        })
    }

    #[test]
    fn cluster_bound_tokens_stay_in_their_cluster() {
        let sensor = caller(Role::Sensor, Some("prod"));
        assert_eq!(
            sensor.read(None, STATE_READERS).unwrap(),
            Some("prod".into())
        );
        assert!(sensor.read(Some("prod".into()), STATE_READERS).is_ok());
        let e = sensor.read(Some("dev".into()), STATE_READERS).unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::FORBIDDEN);
        assert!(sensor.write("prod", SENSOR_WRITERS).is_ok());
        assert!(sensor.write("dev", SENSOR_WRITERS).is_err());
        assert!(sensor.write("prod", AGENT_WRITERS).is_err());
        assert!(sensor.require(READERS).is_err());

        let analyst = caller(Role::Analyst, None);
        assert_eq!(analyst.read(None, STATE_READERS).unwrap(), None);
        assert_eq!(
            analyst.read(Some("dev".into()), STATE_READERS).unwrap(),
            Some("dev".into())
        );
        assert!(analyst.write("dev", SENSOR_WRITERS).is_err());
        let admin = caller(Role::Admin, None);
        assert!(admin.write("any", AGENT_WRITERS).is_ok());
        assert!(admin.require(ADMINS).is_ok());
    }
}
