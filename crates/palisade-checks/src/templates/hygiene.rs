//! Hygiene templates: deprecated fields, resolver options, required labels and annotations.

use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

pub(crate) fn deprecated_service_account(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for w in ctx.workloads() {
        let pod = &w.spec.pod;
        let Some(old) = pod.service_account.as_deref() else {
            continue;
        };
        let message = match pod.service_account_name.as_deref() {
            Some(name) if name != old => format!(
                "deprecated serviceAccount {old:?} differs from serviceAccountName {name:?}: the pod runs as {name:?}, and readers of the manifest may believe otherwise"
            ),
            Some(_) => "deprecated serviceAccount field is set (beside serviceAccountName)".into(),
            None => {
                format!("deprecated serviceAccount field names {old:?}; use serviceAccountName")
            }
        };
        hits.workload(
            w,
            Some(format!("{}.serviceAccount", w.pod_spec_path())),
            message,
        );
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NdotsParams {
    /// Largest acceptable `ndots`.
    maximum: u32,
}

pub(crate) fn dns_ndots(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<NdotsParams> = params(check)?;
    for w in ctx.workloads() {
        let options = w.spec.pod.dns_config.iter().flat_map(|c| c.options.iter());
        for (i, o) in options.enumerate() {
            if o.name != "ndots" {
                continue;
            }
            let Some(n) = o
                .value
                .as_deref()
                .and_then(|v| v.trim().parse::<u32>().ok())
            else {
                continue;
            };
            if n > p.maximum {
                hits.workload(
                    w,
                    Some(format!("{}.dnsConfig.options[{i}]", w.pod_spec_path())),
                    format!(
                        "dnsConfig ndots {n} (above {}): names with fewer dots are tried against every search domain first, so external look-ups multiply and leak to those domains",
                        p.maximum
                    ),
                );
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RequiredParams {
    /// `labels` or `annotations`.
    field: String,
    /// Keys every workload must carry (on itself or its pod template). Empty: the check
    /// finds nothing until palisade.yaml sets them (`checks.params`).
    #[serde(default)]
    keys: Vec<String>,
}

pub(crate) fn required_metadata(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<RequiredParams> = params(check)?;
    let labels = match p.field.as_str() {
        "labels" => true,
        "annotations" => false,
        other => {
            return Err(format!(
                "field must be labels or annotations, not {other:?}"
            ));
        }
    };
    if p.keys.iter().any(|k| k.trim().is_empty()) {
        return Err("keys must not be empty strings".into());
    }
    for w in ctx.workloads() {
        let (own, pod) = if labels {
            (&w.meta.labels, &w.spec.pod_meta.labels)
        } else {
            (&w.meta.annotations, &w.spec.pod_meta.annotations)
        };
        let missing: Vec<&str> = p
            .keys
            .iter()
            .filter(|k| {
                own.get(*k).is_none_or(|v| v.is_empty()) && pod.get(*k).is_none_or(|v| v.is_empty())
            })
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            hits.workload(
                w,
                Some(format!("metadata.{}", p.field)),
                format!(
                    "required {} missing or empty: {}",
                    p.field,
                    missing.join(", ")
                ),
            );
        }
    }
    Ok(())
}
