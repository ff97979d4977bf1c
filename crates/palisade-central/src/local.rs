//! Token management straight on the store, for `palisade central token …`: it needs the data
//! directory or the database URL (as the server does), works while central is down, and no
//! token travels over the network. Changes are audited with the actor `cli`. The API's
//! `/api/v1/tokens` offers the same to remote admins.

use palisade_api::{TokenCreate, TokenCreated, TokenInfo};
use palisade_model::time::{Clock, SystemClock};

use crate::{CentralError, StoreLocation};

/// The actor named in the audit log for changes made with the command line.
pub const CLI_ACTOR: &str = "cli";

fn block_on<T>(work: impl std::future::Future<Output = T>) -> Result<T, CentralError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CentralError::Io(format!("starting the runtime: {e}")))?;
    Ok(runtime.block_on(work))
}

fn store_error(e: palisade_store::StoreError) -> CentralError {
    CentralError::Store(e.to_string())
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
    block_on(async {
        let store = location.open().await?;
        store
            .create_token(request, CLI_ACTOR, SystemClock.now())
            .await
            .map_err(store_error)
    })?
}

/// Every token, without secrets.
pub fn list_tokens(location: &StoreLocation) -> Result<Vec<TokenInfo>, CentralError> {
    block_on(async {
        let store = location.open().await?;
        store.list_tokens().await.map_err(store_error)
    })?
}

/// Revokes the token with this id.
pub fn revoke_token(location: &StoreLocation, id: &str) -> Result<TokenInfo, CentralError> {
    block_on(async {
        let store = location.open().await?;
        store
            .revoke_token(id, CLI_ACTOR, SystemClock.now())
            .await
            .map_err(store_error)
    })?
}
