//! Exceptions: accepted risks that suppress matching findings until they expire.

use palisade_api::{ExceptionCreate, ExceptionView};
use palisade_model::time::Timestamp;

use crate::Store;
use crate::error::{Result, StoreError};

impl Store {
    /// Creates an exception (audited as `actor`): the reason must not be empty and at least
    /// one of check, namespace, name or fingerprint must be given.
    pub async fn create_exception(
        &self,
        req: &ExceptionCreate,
        actor: &str,
        now: Timestamp,
    ) -> Result<ExceptionView> {
        let _ = (req, actor, now);
        Err(StoreError::Unsupported("create_exception"))
    }

    /// Every exception (revoked and expired ones included), newest first.
    pub async fn exceptions(&self) -> Result<Vec<ExceptionView>> {
        Err(StoreError::Unsupported("exceptions"))
    }

    /// Revokes exception `id` (audited as `actor`).
    pub async fn revoke_exception(
        &self,
        id: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<ExceptionView> {
        let _ = (id, actor, now);
        Err(StoreError::Unsupported("revoke_exception"))
    }
}
