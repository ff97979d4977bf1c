//! Image reference templates.

use palisade_model::{ImageRef, RegistryFacts, SignatureStatus, VulnerabilityRef};
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
    let p: std::sync::Arc<TagParams> = params(check)?;
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
                Some(t)
                    if p.forbidden.iter().any(|f| f == t)
                        || ctx.images.forbidden_tags.iter().any(|f| f == t) =>
                {
                    hits.container(
                        &c,
                        "image",
                        format!(
                            "container {} image {image} uses the mutable tag {t}",
                            c.container.name
                        ),
                    )
                }
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
        let problem = match ImageRef::parse(image) {
            Ok(r) if !r.is_pinned() => "is not pinned by digest",
            Ok(_) => continue,
            // An unreadable reference with an `@` holds a digest that is not one
            // (`sha256:` and 64 lower-case hex digits): it pins nothing. PAL-035 says why the
            // reference is invalid; this check says the image is not pinned.
            Err(_) if image.contains('@') => "is not pinned: its digest is malformed",
            Err(_) => continue,
        };
        hits.container(
            &c,
            "image",
            format!("container {} image {image} {problem}", c.container.name),
        );
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

/// The facts the edges gathered for a container's image, if any.
fn facts_of<'c>(ctx: &'c Ctx<'_>, image: &str) -> Option<&'c RegistryFacts> {
    ctx.images.facts.get(image)
}

pub(crate) fn image_registry(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let allowed = &ctx.images.allowed_registries;
    if allowed.is_empty() {
        return Ok(());
    }
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        let Ok(r) = ImageRef::parse(image) else {
            continue;
        };
        let name = r.name();
        if !allowed.iter().any(|g| crate::glob_match(g, &name)) {
            hits.container(
                &c,
                "image",
                format!(
                    "container {} image {name} is not from an allowed registry ({})",
                    c.container.name,
                    allowed.join(", ")
                ),
            );
        }
    }
    Ok(())
}

pub(crate) fn image_signature(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        let Some(facts) = facts_of(ctx, image) else {
            continue;
        };
        let digest = facts.digest.as_deref().unwrap_or("its digest");
        let message = match &facts.signature {
            None | Some(SignatureStatus::Verified { .. }) => continue,
            Some(SignatureStatus::Unsigned) => format!(
                "container {} image {image}: no signature found for {digest}",
                c.container.name
            ),
            Some(SignatureStatus::Invalid { reasons }) => format!(
                "container {} image {image}: no signature verifies ({})",
                c.container.name,
                reasons.join("; ")
            ),
        };
        hits.container(&c, "image", message);
    }
    Ok(())
}

/// At most this many vulnerability IDs are named in one message.
const LISTED: usize = 5;

fn describe(vulns: &[&VulnerabilityRef]) -> String {
    let mut parts: Vec<String> = vulns
        .iter()
        .take(LISTED)
        .map(|v| match &v.fixed {
            Some(fixed) => format!(
                "{} ({}, {} {} -> {fixed})",
                v.id, v.severity, v.package, v.installed
            ),
            None => format!("{} ({}, {} {})", v.id, v.severity, v.package, v.installed),
        })
        .collect();
    if vulns.len() > LISTED {
        parts.push(format!("and {} more", vulns.len() - LISTED));
    }
    parts.join(", ")
}

pub(crate) fn image_vulnerabilities(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    let blocking = &ctx.images.block_fixable;
    if blocking.is_empty() {
        return Ok(());
    }
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        let Some(vulns) = facts_of(ctx, image).and_then(|f| f.vulnerabilities.as_ref()) else {
            continue;
        };
        let mut fixable: Vec<&VulnerabilityRef> = vulns
            .fixable
            .iter()
            .filter(|v| blocking.contains(&v.severity))
            .collect();
        if fixable.is_empty() {
            continue;
        }
        fixable.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        hits.container(
            &c,
            "image",
            format!(
                "container {} image {image} has {} fixable vulnerabilities at blocking severity: {}",
                c.container.name,
                fixable.len(),
                describe(&fixable)
            ),
        );
    }
    Ok(())
}

pub(crate) fn image_notorious(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    params::<serde_json::Value>(check)?;
    if !ctx.images.notorious {
        return Ok(());
    }
    for c in ctx.containers() {
        let Some(image) = c.container.image.as_deref() else {
            continue;
        };
        let Some(vulns) = facts_of(ctx, image).and_then(|f| f.vulnerabilities.as_ref()) else {
            continue;
        };
        if vulns.notorious.is_empty() {
            continue;
        }
        let listed: Vec<&VulnerabilityRef> = vulns.notorious.iter().collect();
        hits.container(
            &c,
            "image",
            format!(
                "container {} image {image} carries notorious vulnerabilities: {}",
                c.container.name,
                describe(&listed)
            ),
        );
    }
    Ok(())
}
