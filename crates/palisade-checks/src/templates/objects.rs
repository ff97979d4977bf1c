//! Templates over Secrets and ConfigMaps (metadata and key names only).

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

pub(crate) fn configmap_sensitive_key(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for cm in &ctx.inv.config_maps {
        let named: Vec<&str> = cm
            .spec
            .keys
            .iter()
            .filter(|k| palisade_model::secrets::is_credential_name(k))
            .map(String::as_str)
            .collect();
        if !named.is_empty() {
            hits.object(
                cm,
                Some("data".into()),
                format!(
                    "ConfigMap has credential-like keys {} (ConfigMaps are not access-controlled or encrypted like Secrets)",
                    named.join(", ")
                ),
            );
        }
        for (key, kind) in &cm.spec.credential_values {
            if named.contains(&key.as_str()) {
                continue;
            }
            hits.object(
                cm,
                Some(format!("data.{key}")),
                format!(
                    "ConfigMap key {key} holds a value with the form of {kind} (value not shown; ConfigMaps are not access-controlled or encrypted like Secrets)"
                ),
            );
        }
    }
    Ok(())
}
