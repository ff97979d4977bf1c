//! API tokens: created with a random secret of which only the SHA-256 is stored, checked by
//! that hash, listed, revoked; every change audited.

use palisade_api::{Role, TokenCreate, TokenCreated, TokenInfo};
use palisade_model::time::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::values::{Get, day, ms, parse_day, ts};
use crate::{Store, audit};

/// Every token starts with this: `pal_<id>_<secret>`.
pub const TOKEN_PREFIX: &str = "pal_";

/// Random bytes of a token id (public) and of its secret (256 bits).
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

const TOKEN_COLUMNS: &str = "id, name, role, cluster, created_ms, expires, revoked_ms";

fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Other(format!("no randomness for a token: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The stored form of a bearer secret.
fn secret_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn token_info(row: &AnyRow) -> Result<TokenInfo> {
    let role = row.text("role")?;
    Ok(TokenInfo {
        id: row.text("id")?,
        name: row.text("name")?,
        role: role
            .parse::<Role>()
            .map_err(|e| StoreError::Other(e.to_string()))?,
        cluster: row.opt_text("cluster")?,
        created_at: ts(row.int("created_ms")?),
        expires: row
            .opt_text("expires")?
            .map(|d| parse_day(&d))
            .transpose()?,
        revoked_at: row.opt_int("revoked_ms")?.map(ts),
    })
}

/// Checks a creation request: a name, and a cluster exactly for cluster-bound roles.
fn validate(req: &TokenCreate) -> Result<()> {
    if req.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "must not be empty"));
    }
    match (&req.cluster, req.role.is_cluster_bound()) {
        (None, true) => Err(StoreError::invalid(
            "cluster",
            format!("a {} token needs a cluster", req.role),
        )),
        (Some(_), false) => Err(StoreError::invalid(
            "cluster",
            format!("a {} token is not bound to a cluster", req.role),
        )),
        (Some(c), true) if c.trim().is_empty() => {
            Err(StoreError::invalid("cluster", "must not be empty"))
        }
        _ => Ok(()),
    }
}

impl Store {
    /// Creates a token; `actor` (the creating token's name, or `bootstrap`) is audited. The
    /// secret is in the answer only.
    pub async fn create_token(
        &self,
        req: &TokenCreate,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenCreated> {
        validate(req)?;
        let id = random_hex(ID_BYTES)?;
        let token = format!("{TOKEN_PREFIX}{id}_{}", random_hex(SECRET_BYTES)?);
        let mut tx = self.pool().begin().await?;
        let mut sql = self.sql(
            "INSERT INTO tokens (id, name, role, cluster, secret_hash, created_ms, expires) VALUES (",
        );
        sql.bind(id.clone()).push(",").bind(req.name.clone());
        sql.push(",").bind(req.role.as_str()).push(",");
        sql.bind(req.cluster.clone())
            .push(",")
            .bind(secret_hash(&token));
        sql.push(",")
            .bind(ms(now))
            .push(",")
            .bind(req.expires.map(day));
        sql.push(")");
        sql.execute(&mut *tx).await?;
        let detail = serde_json::json!({
            "name": req.name, "role": req.role, "cluster": req.cluster, "expires": req.expires,
        });
        audit::record(
            &mut tx,
            self.backend(),
            now,
            actor,
            "token.create",
            &id,
            &detail,
        )
        .await?;
        tx.commit().await?;
        let info = TokenInfo {
            id,
            name: req.name.clone(),
            role: req.role,
            cluster: req.cluster.clone(),
            created_at: ts(ms(now)),
            expires: req.expires,
            revoked_at: None,
        };
        Ok(TokenCreated { info, token })
    }

    /// The token whose bearer secret is `token`, when it exists, is not revoked and has not
    /// expired at `now` (a token is valid through its `expires` day, UTC).
    pub async fn authenticate(&self, token: &str, now: Timestamp) -> Result<Option<TokenInfo>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let mut sql = self.sql(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE secret_hash = "
        ));
        sql.bind(secret_hash(token));
        let Some(row) = sql.fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let info = token_info(&row)?;
        let expired = info.expires.is_some_and(|last| now.date() > last);
        Ok((info.revoked_at.is_none() && !expired).then_some(info))
    }

    /// Every token (revoked ones included), oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        self.sql(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_ms, id"
        ))
        .fetch_each(self.pool(), token_info)
        .await
    }

    /// Revokes token `id` (audited as `actor`). Revoking a revoked token is a conflict.
    pub async fn revoke_token(&self, id: &str, actor: &str, now: Timestamp) -> Result<TokenInfo> {
        audit::revoke(
            self,
            "token",
            TOKEN_COLUMNS,
            id.to_string(),
            actor,
            now,
            token_info,
        )
        .await
    }
}
