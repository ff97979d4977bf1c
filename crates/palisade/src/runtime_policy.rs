//! Reading the runtime policy for scan and admission (`--runtime-policy FILE|URL`, or
//! `runtime_policy:` in palisade.yaml): a RuntimePolicy file (`palisade agent export-policy`)
//! or central's aggregate of every agent (`https://central/api/v1/runtime-policy?cluster=NAME`,
//! with the token and CA of the central connection arguments). The policy is handed to the
//! engine as a plain value; the runtime checks (PAL-097, PAL-098) read it.

use std::sync::Arc;

use anyhow::Context;
use palisade_runtime::policy::RuntimePolicy;

/// How to reach central when the source is a URL (`None` in builds without `central`).
#[cfg(feature = "central")]
pub type Connect<'a> = Option<&'a crate::central_client::ConnectArgs>;
/// How to reach central when the source is a URL (`None` in builds without `central`).
#[cfg(not(feature = "central"))]
pub type Connect<'a> = Option<&'a ()>;

/// The policy named by `flag`, else by the configuration's `runtime_policy:`; `None` when
/// neither names one. Errors name the source.
pub fn load(
    flag: Option<&str>,
    config: &palisade_config::Config,
    connect: Connect<'_>,
) -> anyhow::Result<Option<Arc<RuntimePolicy>>> {
    let Some(source) = flag.or(config.runtime_policy.as_deref()) else {
        return Ok(None);
    };
    let text = if source.starts_with("https://") || source.starts_with("http://") {
        fetch(source, connect)?
    } else {
        std::fs::read_to_string(source)
            .with_context(|| format!("reading the runtime policy {source}"))?
    };
    let policy =
        RuntimePolicy::parse(&text).with_context(|| format!("the runtime policy {source}"))?;
    tracing::info!(
        source,
        images = policy.images.len(),
        allowlists = policy.process_allowlists.len(),
        "runtime policy read"
    );
    Ok(Some(Arc::new(policy)))
}

/// `GET URL` from central with the connection's token and CA.
#[cfg(feature = "central")]
fn fetch(url: &str, connect: Connect<'_>) -> anyhow::Result<String> {
    let default = crate::central_client::ConnectArgs {
        token_file: None,
        ca_cert: None,
    };
    let value: serde_json::Value =
        crate::central_client::Client::get_url(url, connect.unwrap_or(&default))
            .with_context(|| format!("reading the runtime policy {url}"))?;
    Ok(value.to_string())
}

/// Builds without central cannot read a policy from it.
#[cfg(not(feature = "central"))]
fn fetch(url: &str, _: Connect<'_>) -> anyhow::Result<String> {
    anyhow::bail!("the runtime policy {url}: this build has no `central` feature to read it")
}
