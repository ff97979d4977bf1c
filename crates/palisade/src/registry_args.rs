//! The registry access options every command that reaches a registry flattens in
//! (`image scan|verify|sign`, `scan --registry`), and the pull options they make.

use anyhow::Context;
use palisade_image::oci::Platform;
use palisade_registry::{AuthSource, PullOptions};

/// Registry access: plain-HTTP registries and credentials.
///
/// A command whose registry access is optional (`scan --registry`) keeps the flags but makes
/// them require its switch and says so in their help, with `mut_arg` on its own arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RegistryArgs {
    /// Registry (`host[:port]`) that may be reached over plain HTTP (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
    /// Registry username (password from $PALISADE_REGISTRY_PASSWORD).
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
}

impl RegistryArgs {
    /// Pull options for palisade-registry: `--username` with the password from
    /// `$PALISADE_REGISTRY_PASSWORD`, else the docker config's credentials.
    pub fn pull_options(&self, platform: Option<Platform>) -> anyhow::Result<PullOptions> {
        let auth = match &self.username {
            Some(user) => AuthSource::Basic {
                username: user.clone(),
                password: std::env::var("PALISADE_REGISTRY_PASSWORD")
                    .context("--username needs the password in $PALISADE_REGISTRY_PASSWORD")?,
            },
            None => AuthSource::DockerConfig,
        };
        Ok(PullOptions {
            platform,
            insecure_registries: self.insecure_registries.clone(),
            auth,
        })
    }
}
