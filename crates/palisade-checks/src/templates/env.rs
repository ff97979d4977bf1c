//! Environment-variable templates. Values are inspected but never reported.

use std::collections::BTreeMap;

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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LiteralParams {
    /// Lower-case substrings that make a variable name secret-like.
    name_markers: Vec<String>,
    /// Lower-case suffixes that make a name a pointer, not a secret (`_file`, `_path`).
    #[serde(default)]
    name_exclusions: Vec<String>,
}

/// Whether a value has the shape of a well-known credential format.
pub(crate) fn looks_like_credential(v: &str) -> Option<&'static str> {
    let v = v.trim();
    let alnum_upper = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    if v.len() == 20 && (v.starts_with("AKIA") || v.starts_with("ASIA")) && alnum_upper(&v[4..]) {
        return Some("an AWS access key ID");
    }
    for prefix in ["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"] {
        if v.starts_with(prefix) && v.len() >= prefix.len() + 30 {
            return Some("a GitHub token");
        }
    }
    for prefix in ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"] {
        if v.starts_with(prefix) && v.len() > 20 {
            return Some("a Slack token");
        }
    }
    if v.starts_with("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    if v.starts_with("AIza") && v.len() == 39 {
        return Some("a Google API key");
    }
    if (v.starts_with("sk_live_") || v.starts_with("rk_live_")) && v.len() > 20 {
        return Some("a Stripe live key");
    }
    if v.starts_with("glpat-") && v.len() >= 26 {
        return Some("a GitLab token");
    }
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() == 3
        && v.starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts[2].len() > 10
    {
        return Some("a JSON Web Token");
    }
    if url_with_password(v) {
        return Some("a URL with an embedded password");
    }
    None
}

fn url_with_password(v: &str) -> bool {
    let Some(idx) = v.find("://") else {
        return false;
    };
    let rest = &v[idx + 3..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo
            .split_once(':')
            .is_some_and(|(_, pw)| !pw.is_empty() && !pw.starts_with("$(")),
        None => false,
    }
}

/// Whether a literal value is a placeholder rather than a secret.
fn is_placeholder(v: &str) -> bool {
    let t = v.trim();
    t.is_empty()
        || t.starts_with("$(")
        || t.starts_with("${")
        || t.starts_with('/')
        || matches!(
            t.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "none" | "null" | "changeme"
        )
}

pub(crate) fn env_secret_literal(check: &CheckDef, ctx: &Ctx<'_>, hits: &mut Hits) -> R {
    let p: std::sync::Arc<LiteralParams> = params(check)?;
    for c in ctx.containers() {
        for (i, e) in c.container.env.iter().enumerate() {
            let Some(value) = e.value.as_deref() else {
                continue;
            };
            let lname = e.name.to_ascii_lowercase();
            let reason = if let Some(kind) = looks_like_credential(value) {
                Some(format!("its value has the form of {kind}"))
            } else if p.name_markers.iter().any(|m| lname.contains(m.as_str()))
                && !p
                    .name_exclusions
                    .iter()
                    .any(|x| lname.ends_with(x.as_str()))
                && !is_placeholder(value)
            {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_shapes() {
        assert!(looks_like_credential("AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(looks_like_credential("postgres://app:s3cr3t@db:5432/app").is_some());
        assert!(looks_like_credential("postgres://app@db:5432/app").is_none());
        assert!(looks_like_credential("http://$(USER):$(PASS)@x").is_none());
        assert!(looks_like_credential("hello world").is_none());
        assert!(looks_like_credential("-----BEGIN RSA PRIVATE KEY-----\nabc").is_some());
    }
}
