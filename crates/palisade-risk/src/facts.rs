//! Facts from other analyzers and sources, given as plain values so the caller can feed them
//! from wherever they come (image scanner, registry, network engine) without this crate
//! depending on those crates.

use std::collections::BTreeMap;

use palisade_model::{ImageRef, RegistryFactsTable, Severity, VulnerabilityFacts, WorkloadId};
use serde::{Deserialize, Serialize};

/// Vulnerability counts of one image, by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VulnCounts {
    /// Critical.
    pub critical: u32,
    /// High.
    pub high: u32,
    /// Medium.
    pub medium: u32,
    /// Low.
    pub low: u32,
    /// On the notorious list (Log4Shell, …), whatever their severity.
    #[serde(default)]
    pub notorious: u32,
}

impl VulnCounts {
    /// The counts of an image's [`VulnerabilityFacts`] (the summary the edges compute for
    /// scan and admission). Vulnerabilities whose data names no severity are recorded there as
    /// `Info` and are not scored.
    pub fn from_facts(v: &VulnerabilityFacts) -> VulnCounts {
        let n = |s: Severity| {
            v.counts
                .get(&s)
                .copied()
                .unwrap_or(0)
                .min(u32::MAX as usize) as u32
        };
        VulnCounts {
            critical: n(Severity::Critical),
            high: n(Severity::High),
            medium: n(Severity::Medium),
            low: n(Severity::Low),
            notorious: v.notorious.len().min(u32::MAX as usize) as u32,
        }
    }
}

/// The image facts risk scoring reads (age, newer version), beyond its reference and its
/// vulnerability counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageRiskFacts {
    /// Days since the image was built (from its config `created`), when known. The caller
    /// computes it against its clock; this crate reads no clock.
    pub age_days: Option<u32>,
    /// Whether the registry has a newer version of the same repository, when known.
    pub newer_version_available: Option<bool>,
}

/// Network reachability of one workload, as the network engine computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NetworkFacts {
    /// No NetworkPolicy restricts traffic into its pods.
    pub ingress_unprotected: bool,
    /// No NetworkPolicy restricts traffic out of its pods.
    pub egress_unprotected: bool,
    /// How many other workloads can open connections to it.
    pub reachable_from: u32,
    /// How many other workloads it can open connections to (its blast radius).
    pub can_reach: u32,
}

/// External facts for a risk assessment. Every map may be empty: factors without data are
/// simply not scored.
#[derive(Debug, Clone, Default)]
pub struct ExternalFacts {
    /// Vulnerability counts by image reference (any form `ImageRef::parse` accepts; keys are
    /// normalized, so `nginx:1.25` and `docker.io/library/nginx:1.25` are the same image).
    pub vulnerabilities: BTreeMap<String, VulnCounts>,
    /// Image facts by image reference (normalized like `vulnerabilities`).
    pub images: BTreeMap<String, ImageRiskFacts>,
    /// Network facts by workload.
    pub network: BTreeMap<WorkloadId, NetworkFacts>,
}

/// The key used for image maps: the normalized reference, or the trimmed text when it does not
/// parse.
pub fn image_key(reference: &str) -> String {
    ImageRef::parse(reference)
        .map(|r| r.to_string())
        .unwrap_or_else(|_| reference.trim().to_string())
}

impl ExternalFacts {
    /// Adds the vulnerability counts of every image of `table` that has a vulnerability
    /// summary (images without one keep whatever `vulnerabilities` already holds).
    pub fn with_image_facts(mut self, table: &RegistryFactsTable) -> ExternalFacts {
        for (reference, facts) in table {
            if let Some(v) = &facts.vulnerabilities {
                self.vulnerabilities
                    .insert(reference.clone(), VulnCounts::from_facts(v));
            }
        }
        self
    }

    pub(crate) fn normalized(&self) -> ExternalFacts {
        ExternalFacts {
            vulnerabilities: self
                .vulnerabilities
                .iter()
                .map(|(k, v)| (image_key(k), *v))
                .collect(),
            images: self
                .images
                .iter()
                .map(|(k, v)| (image_key(k), *v))
                .collect(),
            network: self.network.clone(),
        }
    }
}
