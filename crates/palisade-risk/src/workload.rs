//! Pod-spec facts several reports share.

use std::collections::BTreeSet;

use palisade_model::api::PodSpec;

/// Names of the Secrets a pod reads: environment variables (`secretKeyRef`, `envFrom`),
/// `secret` volumes and projected secret sources. Image pull secrets are not included (the
/// kubelet uses them; the pod cannot read them).
pub fn secrets_used(pod: &PodSpec) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, c) in pod.all_containers() {
        for e in &c.env {
            if let Some(r) = e
                .value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
            {
                out.insert(r.name.clone());
            }
        }
        for e in &c.env_from {
            if let Some(r) = &e.secret_ref {
                out.insert(r.name.clone());
            }
        }
    }
    for v in &pod.volumes {
        if let Some(name) = v.secret.as_ref().and_then(|s| s.secret_name.as_ref()) {
            out.insert(name.clone());
        }
        if let Some(p) = &v.projected {
            for s in p.sources.iter().filter_map(|s| s.secret.as_ref()) {
                out.insert(s.name.clone());
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out
}
