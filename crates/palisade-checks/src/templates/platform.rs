//! Templates about cluster add-ons configured through objects: ingress-nginx annotations and
//! admission webhooks (read from the raw objects kept in `Inventory::others`).

use serde::Deserialize;
use serde_json::Value;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AnnotationParams {
    /// Annotation keys that fire.
    annotations: Vec<String>,
}

pub(crate) fn ingress_annotation(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<AnnotationParams> = params(check)?;
    if p.annotations.is_empty() {
        return Err("annotations must not be empty".into());
    }
    for ing in &ctx.inv.ingresses {
        for key in &p.annotations {
            if ing.meta.annotations.contains_key(key) {
                hits.object(
                    ing,
                    Some(format!("metadata.annotations[{key}]")),
                    format!(
                        "Ingress sets {key}: its text is pasted into the controller's nginx configuration, where it can read the controller's credentials and every Secret the controller can read"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// The webhooks of a `admissionregistration.k8s.io` webhook configuration.
fn webhooks(o: &palisade_model::inventory::OtherObject) -> &[Value] {
    o.raw
        .get("webhooks")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(crate) fn webhook_fails_open(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let configurations = ctx.inv.others.iter().filter(|o| {
        matches!(
            o.kind.as_str(),
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
        ) && o.api_version.starts_with("admissionregistration.k8s.io/")
    });
    for o in configurations {
        for (i, w) in webhooks(o).iter().enumerate() {
            // admissionregistration.k8s.io/v1 defaults failurePolicy to Fail.
            if w.get("failurePolicy").and_then(Value::as_str) == Some("Ignore") {
                let name = w.get("name").and_then(Value::as_str).unwrap_or("?");
                hits.object(
                    o,
                    Some(format!("webhooks[{i}].failurePolicy")),
                    format!(
                        "webhook {name} has failurePolicy Ignore: while it is down or slow, every request it should judge is admitted unchecked"
                    ),
                );
            }
        }
    }
    Ok(())
}
