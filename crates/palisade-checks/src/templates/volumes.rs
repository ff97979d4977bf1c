//! Volume templates: mount propagation and the lifetime of projected service account tokens.

use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

pub(crate) fn mount_propagation(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        for (i, m) in c.container.volume_mounts.iter().enumerate() {
            if m.mount_propagation.as_deref() == Some("Bidirectional") {
                hits.container(
                    &c,
                    &format!("volumeMounts[{i}].mountPropagation"),
                    format!(
                        "volume {} is mounted with Bidirectional propagation: mounts made in the container appear on the node and in every other pod sharing the volume",
                        m.name
                    ),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokenParams {
    /// Longest acceptable `expirationSeconds`.
    maximum_seconds: i64,
}

pub(crate) fn projected_token_lifetime(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<TokenParams> = params(check)?;
    for w in ctx.workloads() {
        for (i, v) in w.spec.pod.volumes.iter().enumerate() {
            let sources = v.projected.iter().flat_map(|p| p.sources.iter());
            for (j, s) in sources.enumerate() {
                let Some(seconds) = s
                    .service_account_token
                    .as_ref()
                    .and_then(|t| t.get("expirationSeconds"))
                    .and_then(serde_json::Value::as_i64)
                else {
                    continue;
                };
                if seconds > p.maximum_seconds {
                    hits.workload(
                        w,
                        Some(format!(
                            "{}.volumes[{i}].projected.sources[{j}].serviceAccountToken.expirationSeconds",
                            w.pod_spec_path()
                        )),
                        format!(
                            "projected service account token {} valid for {seconds} s (over {} s): a token stolen from the pod stays usable that long",
                            v.name, p.maximum_seconds
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}
