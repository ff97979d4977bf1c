//! Runtime templates: what the node agents observed (a [`RuntimePolicy`] handed to the engine)
//! applied to the workloads about to be deployed.
//!
//! [`RuntimePolicy`]: palisade_runtime::policy::RuntimePolicy

use palisade_model::Severity;
use palisade_model::inventory::DEFAULT_NAMESPACE;
use palisade_runtime::policy::Verdict;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

/// A container whose image misbehaved at runtime: high when the policy denies the image,
/// medium when it warns; the message lists the rules with their alert counts.
pub(crate) fn runtime_image(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let Some(policy) = ctx.runtime else {
        return Ok(());
    };
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        let Some(flagged) = policy.image_policy(image) else {
            continue;
        };
        let evidence: Vec<String> = flagged
            .reasons
            .iter()
            .map(|r| {
                format!(
                    "{} ({} alert{}, last {})",
                    r.rule,
                    r.count,
                    if r.count == 1 { "" } else { "s" },
                    r.last_seen
                )
            })
            .collect();
        let (verdict, severity) = match flagged.verdict {
            Verdict::Deny => ("deny", Severity::High),
            Verdict::Warn => ("warn", Severity::Medium),
        };
        hits.container(
            &c,
            "image",
            format!(
                "container {} image {image} misbehaved at runtime (runtime policy verdict {verdict}): {}",
                c.container.name,
                evidence.join(", ")
            ),
        );
        hits.with_severity(severity);
    }
    Ok(())
}

/// A container whose explicit `command` is not among the programs of its locked runtime
/// baseline (the policy's process allowlist for the same namespace, workload and container).
pub(crate) fn runtime_allowlist(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let Some(policy) = ctx.runtime else {
        return Ok(());
    };
    for c in ctx.containers() {
        let Some(command) = c.container.command.first() else {
            continue;
        };
        let w = c.workload;
        let namespace = w.namespace().unwrap_or(DEFAULT_NAMESPACE);
        let workload = format!("{}/{}", w.kind, w.name());
        let Some(allow) = policy.allowlist_for(namespace, &workload, &c.container.name) else {
            continue;
        };
        if allow.allows_command(command) {
            continue;
        }
        hits.container(
            &c,
            "command",
            format!(
                "container {} command {command} is not among the {} programs of its locked runtime baseline {}",
                c.container.name,
                allow.processes.len(),
                allow.key
            ),
        );
    }
    Ok(())
}
