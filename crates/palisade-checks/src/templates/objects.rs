//! Templates over Secrets and ConfigMaps (metadata and key names only).

use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

pub(crate) fn legacy_sa_token_secret(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for s in &ctx.inv.secrets {
        if s.spec.type_ == "kubernetes.io/service-account-token" {
            let sa = s
                .meta
                .annotations
                .get("kubernetes.io/service-account.name")
                .map(String::as_str)
                .unwrap_or("?");
            hits.object(
                s,
                Some("type".into()),
                format!("Secret holds a long-lived, non-expiring token for service account {sa}"),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KeyParams {
    markers: Vec<String>,
}

pub(crate) fn configmap_sensitive_key(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<KeyParams> = params(check)?;
    for cm in &ctx.inv.config_maps {
        let sensitive: Vec<&str> = cm
            .spec
            .keys
            .iter()
            .filter(|k| {
                let l = k.to_ascii_lowercase();
                p.markers.iter().any(|m| l.contains(m.as_str()))
            })
            .map(String::as_str)
            .collect();
        if !sensitive.is_empty() {
            hits.object(
                cm,
                Some("data".into()),
                format!(
                    "ConfigMap has credential-like keys {} (ConfigMaps are not access-controlled or encrypted like Secrets)",
                    sensitive.join(", ")
                ),
            );
        }
    }
    Ok(())
}
