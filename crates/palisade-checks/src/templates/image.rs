//! Image reference templates.

use palisade_model::ImageRef;
use serde::Deserialize;

use super::{Hits, params};
use crate::catalog::CheckDef;
use crate::context::Ctx;

type R = Result<(), String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TagParams {
    forbidden: Vec<String>,
}

pub(crate) fn image_tag(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: TagParams = params(check)?;
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            hits.container(
                &c,
                "image",
                format!("container {} has no image", c.container.name),
            );
            continue;
        };
        match ImageRef::parse(image) {
            Err(e) => hits.container(&c, "image", format!("container {}: {e}", c.container.name)),
            Ok(r) if r.digest.is_some() => {}
            Ok(r) => match &r.tag {
                None => hits.container(
                    &c,
                    "image",
                    format!(
                        "container {} image {image} has no tag, so latest is pulled",
                        c.container.name
                    ),
                ),
                Some(t) if p.forbidden.iter().any(|f| f == t) => hits.container(
                    &c,
                    "image",
                    format!(
                        "container {} image {image} uses the mutable tag {t}",
                        c.container.name
                    ),
                ),
                Some(_) => {}
            },
        }
    }
    Ok(())
}

pub(crate) fn image_digest(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        if let Ok(r) = ImageRef::parse(image)
            && !r.is_pinned()
        {
            hits.container(
                &c,
                "image",
                format!(
                    "container {} image {image} is not pinned by digest",
                    c.container.name
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn image_pull_policy(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        let Ok(r) = ImageRef::parse(image) else {
            continue;
        };
        // Default per the API: Always for :latest or no tag, IfNotPresent otherwise.
        let default = if r.digest.is_none() && r.effective_tag() == Some("latest") {
            "Always"
        } else {
            "IfNotPresent"
        };
        let policy = c.container.image_pull_policy.as_deref().unwrap_or(default);
        if policy != "Always" && !r.is_pinned() {
            hits.container(
                &c,
                "imagePullPolicy",
                format!(
                    "container {} uses imagePullPolicy {policy} with the mutable reference {image}: nodes may run a stale or different image",
                    c.container.name
                ),
            );
        }
    }
    Ok(())
}
