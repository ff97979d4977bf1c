//! Token management straight on the store, for `palisade central token …`: it needs the data
//! directory or the database URL (as the server does), works while central is down, and no
//! token travels over the network. Changes are audited with the actor `cli`. The API's
//! `/api/v1/tokens` offers the same to remote admins.

use palisade_api::{TokenCreate, TokenCreated, TokenInfo};
use std::future::Future;

use palisade_model::time::{Clock, SystemClock};
use palisade_store::{Store, StoreError};

use crate::{CentralError, StoreLocation};

/// The actor named in the audit log for changes made with the command line.
pub const CLI_ACTOR: &str = "cli";

/// Opens the store and runs `work` on it, on a runtime of its own.
fn with_store<T, F, Fut>(location: &StoreLocation, work: F) -> Result<T, CentralError>
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CentralError::Io(format!("starting the runtime: {e}")))?;
    runtime.block_on(async {
        let store = location.open().await?;
        work(store)
            .await
            .map_err(|e| CentralError::Store(e.to_string()))
    })
}

/// Creates a token; the answer holds its secret (show it once).
pub fn create_token(
    location: &StoreLocation,
    request: &TokenCreate,
) -> Result<TokenCreated, CentralError> {
    crate::query::check_token_request(request).map_err(|e| {
        CentralError::Invalid(match e.body.field {
            Some(field) => format!("{}: {}", field, e.body.error),
            None => e.body.error,
        })
    })?;
    with_store(location, |store| async move {
        store
            .create_token(request, CLI_ACTOR, SystemClock.now())
            .await
    })
}

/// Every token, without secrets.
pub fn list_tokens(location: &StoreLocation) -> Result<Vec<TokenInfo>, CentralError> {
    with_store(location, |store| async move { store.list_tokens().await })
}

/// Revokes the token with this id.
pub fn revoke_token(location: &StoreLocation, id: &str) -> Result<TokenInfo, CentralError> {
    with_store(location, |store| async move {
        store.revoke_token(id, CLI_ACTOR, SystemClock.now()).await
    })
}
