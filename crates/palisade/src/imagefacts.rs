//! Registry access for `palisade scan` and the admission webhook: image references become
//! [`RegistryFacts`] — the digest they resolve to, the signature verdict when a signature policy
//! (`images.signatures`) covers them, and a vulnerability summary when a vulnerability database
//! exists. The check engine then decides on those facts like on any other input
//! (PAL-094 signatures, PAL-095 fixable vulnerabilities, PAL-096 notorious ones).
//!
//! This is edge code (network, database). Each reference is looked up once per collector;
//! signature verdicts are also cached by digest (palisade-trust), vulnerability summaries by
//! digest here, so two tags of one image cost one scan.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use palisade_config::ImagesSection;
use palisade_image::source::NoProgress;
use palisade_model::{ImageRef, RegistryFacts, RegistryFactsTable, VulnerabilityFacts};
use palisade_registry::{PullOptions, RemoteImage};
use palisade_trust::verify::Requirements;
use palisade_trust::{PublicKey, Verifier};
use palisade_vulndb::VulnDb;

use crate::registry_args::RegistryArgs;

/// A signature requirement with its keys and keyless identity loaded.
struct Requirement {
    images: String,
    requirements: Requirements,
}

/// Gathers image facts; safe to share between threads (the webhook calls it concurrently).
pub struct Collector {
    pull: PullOptions,
    requirements: Vec<Requirement>,
    verifier: Verifier,
    db: Option<Mutex<VulnDb>>,
    by_reference: Mutex<HashMap<String, RegistryFacts>>,
    vulns_by_digest: Mutex<HashMap<String, VulnerabilityFacts>>,
}

impl Collector {
    /// A collector for the `images:` policy (key paths relative to `config_dir`), reaching
    /// registries as `access` says, matching vulnerabilities in `db` when given.
    pub fn new(
        policy: &ImagesSection,
        config_dir: &Path,
        access: &RegistryArgs,
        db: Option<VulnDb>,
    ) -> anyhow::Result<Collector> {
        let mut requirements = Vec::new();
        let root = crate::cmd::sigstore::trusted_root(
            policy
                .trusted_root
                .as_ref()
                .map(|p| config_dir.join(p))
                .as_deref(),
        )
        .map_err(|e| anyhow::anyhow!("images.trusted_root: {e}"))?;
        for (i, r) in policy.signatures.iter().enumerate() {
            let keys = PublicKey::from_entries(&r.keys, config_dir, std::fs::read)
                .map_err(|e| anyhow::anyhow!("images.signatures[{i}]: {e}"))?;
            let keyless = r
                .keyless
                .as_ref()
                .map(crate::cmd::sigstore::keyless_policy)
                .transpose()
                .map_err(|e| anyhow::anyhow!("images.signatures[{i}].keyless: {e}"))?;
            requirements.push(Requirement {
                images: r.images.clone(),
                requirements: Requirements {
                    keys,
                    keyless: keyless.into_iter().collect(),
                    root: root.clone(),
                },
            });
        }
        let pull = access.pull_options(None)?;
        Ok(Collector {
            verifier: Verifier::new(pull.clone()),
            pull,
            requirements,
            db: db.map(Mutex::new),
            by_reference: Mutex::new(HashMap::new()),
            vulns_by_digest: Mutex::new(HashMap::new()),
        })
    }

    /// Facts for each reference (as written in pod specs), looked up once each.
    pub fn collect(&self, references: &[String]) -> RegistryFactsTable {
        let mut table = RegistryFactsTable::new();
        for reference in references {
            if table.contains_key(reference) {
                continue;
            }
            let cached = lock(&self.by_reference).get(reference).cloned();
            let facts = match cached {
                Some(f) => f,
                None => {
                    let f = self.look_up(reference);
                    lock(&self.by_reference).insert(reference.clone(), f.clone());
                    f
                }
            };
            table.insert(reference.clone(), facts);
        }
        table
    }

    fn look_up(&self, reference: &str) -> RegistryFacts {
        let mut facts = RegistryFacts::default();
        let name = match ImageRef::parse(reference) {
            Ok(r) => r.name(),
            Err(e) => {
                facts.errors.push(e.to_string());
                return facts;
            }
        };
        if let Some(req) = self
            .requirements
            .iter()
            .find(|r| palisade_checks::glob_match(&r.images, &name))
        {
            match self.verifier.verify_with(reference, &req.requirements) {
                Ok(v) => {
                    facts.digest = Some(v.digest.clone());
                    facts.signature = Some(v.status);
                }
                Err(e) => facts.errors.push(format!("signature check: {e}")),
            }
        }
        if self.db.is_some() {
            match self.vulnerabilities(reference) {
                Ok((digest, v)) => {
                    facts.digest.get_or_insert(digest);
                    facts.vulnerabilities = Some(v);
                }
                Err(e) => facts.errors.push(format!("vulnerability scan: {e}")),
            }
        }
        facts
    }

    /// Pulls and inventories the image, then matches its packages (cached by digest).
    fn vulnerabilities(&self, reference: &str) -> Result<(String, VulnerabilityFacts), String> {
        let image = RemoteImage::open(reference, &self.pull).map_err(|e| e.to_string())?;
        let digest = image
            .resolved
            .manifest_digest
            .clone()
            .unwrap_or_else(|| image.resolved.config_digest.clone());
        if let Some(hit) = lock(&self.vulns_by_digest).get(&digest) {
            return Ok((digest, hit.clone()));
        }
        let scan = palisade_image::scan_resolved(
            &image,
            &image.resolved,
            palisade_image::Limits::default(),
            &NoProgress,
        )
        .map_err(|e| e.to_string())?;
        let Some(db) = &self.db else {
            return Err("no vulnerability database".into());
        };
        let facts = palisade_vulndb::vulnerability_facts(&lock(db), &scan.packages, &[])
            .map_err(|e| e.to_string())?;
        lock(&self.vulns_by_digest).insert(digest.clone(), facts.clone());
        Ok((digest, facts))
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the caches stay
/// consistent: entries are inserted whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every image reference of the inventory's containers, in order, without duplicates.
pub fn image_references(inv: &palisade_model::Inventory) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for w in &inv.workloads {
        for (_, c) in w.spec.pod.all_containers() {
            if let Some(image) = &c.image
                && seen.insert(image.clone())
            {
                out.push(image.clone());
            }
        }
    }
    out
}

#[cfg(feature = "admission")]
impl palisade_admission::RegistryFactsSource for Collector {
    fn facts(&self, images: &[String]) -> RegistryFactsTable {
        self.collect(images)
    }
}
