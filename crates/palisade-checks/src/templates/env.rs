//! Environment-variable templates. Values are inspected but never reported.

use std::collections::BTreeMap;

use palisade_model::secrets;
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RefParams {
    /// `key_ref` (env[].valueFrom.secretKeyRef) or `env_from` (envFrom[].secretRef).
    source: String,
}

pub(crate) fn env_secret_ref(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<RefParams> = params(check)?;
    let (key_ref, env_from) = match p.source.as_str() {
        "key_ref" => (true, false),
        "env_from" => (false, true),
        other => return Err(format!("source must be key_ref or env_from, not {other:?}")),
    };
    for c in ctx.containers() {
        for (i, e) in c.container.env.iter().enumerate().filter(|_| key_ref) {
            if let Some(r) = e
                .value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
            {
                hits.container(
                    &c,
                    &format!("env[{i}].valueFrom.secretKeyRef"),
                    format!(
                        "container {} puts key {} of Secret {} into environment variable {}",
                        c.container.name, r.key, r.name, e.name
                    ),
                );
            }
        }
        for (i, e) in c.container.env_from.iter().enumerate().filter(|_| env_from) {
            if let Some(r) = &e.secret_ref {
                hits.container(
                    &c,
                    &format!("envFrom[{i}].secretRef"),
                    format!(
                        "container {} puts every key of Secret {} into its environment",
                        c.container.name, r.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn env_secret_literal(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        for (i, e) in c.container.env.iter().enumerate() {
            let Some(value) = e.value.as_deref() else {
                continue;
            };
            let reason = if let Some(kind) = secrets::credential_value_kind(value) {
                Some(format!("its value has the form of {kind}"))
            } else if secrets::is_credential_name(&e.name) && !secrets::is_placeholder(value) {
                Some("its name marks it as a credential and it has a literal value".into())
            } else {
                None
            };
            if let Some(reason) = reason {
                hits.container(
                    &c,
                    &format!("env[{i}].value"),
                    format!(
                        "container {} environment variable {} looks like a hard-coded secret: {reason} (value not shown)",
                        c.container.name, e.name
                    ),
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn env_duplicate(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, e) in c.container.env.iter().enumerate() {
            if let Some(first) = seen.insert(e.name.as_str(), i) {
                hits.container(
                    &c,
                    &format!("env[{i}]"),
                    format!(
                        "container {} defines environment variable {} twice (env[{first}] and env[{i}]; the last one wins)",
                        c.container.name, e.name
                    ),
                );
            }
        }
    }
    Ok(())
}
