//! The inventory and ownership report: what runs, where from, who owns it, how it is exposed,
//! and the signs that it was deployed and forgotten.

use std::collections::BTreeMap;

use palisade_model::api::{Container, ContainerKind};
use palisade_model::{ImageRef, Inventory, SourceLocation, Workload, WorkloadId, WorkloadKind};
use serde::Serialize;

use crate::exposure::{Exposure, ExposureIndex};
use crate::facts::{ExternalFacts, image_key};
use crate::ownership::{Ownership, OwnershipGap};

/// One container image of a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageEntry {
    /// Container name.
    pub container: String,
    /// Which container list it is in.
    pub container_kind: ContainerKind,
    /// The reference as written (empty when the container has no image).
    pub reference: String,
    /// The parsed reference, when valid.
    pub parsed: Option<ImageRef>,
    /// Why it does not parse, when invalid or missing.
    pub error: Option<String>,
    /// Days since the image was built, when known.
    pub age_days: Option<u32>,
}

impl ImageEntry {
    /// Registry host, when parsed.
    pub fn registry(&self) -> Option<&str> {
        self.parsed.as_ref().map(|p| p.registry.as_str())
    }
}

/// A "deploy and forget" sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// The image has no tag and no digest, or the tag `latest`: what runs changes silently.
    LatestTag {
        /// Container.
        container: String,
        /// Reference as written.
        image: String,
    },
    /// The image has a tag but no digest: the tag can be moved.
    NotDigestPinned {
        /// Container.
        container: String,
        /// Reference as written.
        image: String,
    },
    /// The image reference is missing or invalid.
    InvalidImage {
        /// Container.
        container: String,
        /// Why.
        reason: String,
    },
    /// Neither liveness nor readiness probe (long-running kinds only).
    NoProbes {
        /// Container.
        container: String,
    },
    /// No memory or CPU limit.
    NoLimits {
        /// Container.
        container: String,
        /// The limits missing (`cpu`, `memory`).
        missing: Vec<String>,
    },
    /// No owner, team or contact named.
    NoOwner,
    /// The image is old.
    OldImage {
        /// Container.
        container: String,
        /// Age in days.
        age_days: u32,
    },
}

/// Images older than this many days raise [`Signal::OldImage`].
pub const OLD_IMAGE_DAYS: u32 = 180;

/// One workload in the inventory report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadEntry {
    /// Namespace, kind and name.
    #[serde(flatten)]
    pub id: WorkloadId,
    /// Where it was read from.
    pub source: SourceLocation,
    /// Its images, one per container.
    pub images: Vec<ImageEntry>,
    /// Its service account.
    pub service_account: String,
    /// How it can be reached.
    pub exposure: Exposure,
    /// Who owns it.
    pub ownership: Ownership,
    /// What ownership information is missing.
    pub ownership_gaps: Vec<OwnershipGap>,
    /// Deploy-and-forget signals.
    pub signals: Vec<Signal>,
}

/// Workloads of one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceCount {
    /// Namespace.
    pub namespace: String,
    /// Top-level workloads.
    pub workloads: usize,
    /// Containers of those workloads.
    pub containers: usize,
    /// Workloads exposed outside the cluster.
    pub externally_exposed: usize,
    /// Workloads without owner, team or contact.
    pub without_owner: usize,
}

/// Images of one registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryCount {
    /// Registry host (`docker.io`, `ghcr.io`, …); `(invalid)` for references that do not parse.
    pub registry: String,
    /// Distinct image references.
    pub images: usize,
    /// Containers using them.
    pub containers: usize,
    /// Workloads using them.
    pub workloads: usize,
}

/// The inventory report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryReport {
    /// Every top-level workload, by namespace, kind, name.
    pub workloads: Vec<WorkloadEntry>,
    /// Counts per namespace, by name.
    pub namespaces: Vec<NamespaceCount>,
    /// Counts per registry, most used first (then by name).
    pub registries: Vec<RegistryCount>,
}

fn image_entry(kind: ContainerKind, c: &Container, facts: &ExternalFacts) -> ImageEntry {
    let reference = c.image.clone().unwrap_or_default();
    let (parsed, error) = if reference.trim().is_empty() {
        (None, Some("container has no image".to_string()))
    } else {
        match ImageRef::parse(&reference) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    let age_days = facts
        .images
        .get(&image_key(&reference))
        .and_then(|f| f.age_days);
    ImageEntry {
        container: c.name.clone(),
        container_kind: kind,
        reference,
        parsed,
        error,
        age_days,
    }
}

fn long_running(w: &Workload) -> bool {
    let batch = matches!(
        WorkloadKind::from_kind(&w.kind),
        Some(WorkloadKind::Job | WorkloadKind::CronJob)
    );
    let one_shot_pod = w.kind == "Pod"
        && matches!(
            w.spec.pod.restart_policy.as_deref(),
            Some("Never" | "OnFailure")
        );
    !batch && !one_shot_pod
}

fn signals(w: &Workload, images: &[ImageEntry], ownership: &Ownership) -> Vec<Signal> {
    let mut out = Vec::new();
    for img in images {
        match (&img.parsed, &img.error) {
            (Some(p), _) if p.digest.is_none() && p.effective_tag() == Some("latest") => {
                out.push(Signal::LatestTag {
                    container: img.container.clone(),
                    image: img.reference.clone(),
                })
            }
            (Some(p), _) if p.digest.is_none() => out.push(Signal::NotDigestPinned {
                container: img.container.clone(),
                image: img.reference.clone(),
            }),
            (None, Some(e)) => out.push(Signal::InvalidImage {
                container: img.container.clone(),
                reason: e.clone(),
            }),
            _ => {}
        }
        if let Some(d) = img.age_days.filter(|d| *d > OLD_IMAGE_DAYS) {
            out.push(Signal::OldImage {
                container: img.container.clone(),
                age_days: d,
            });
        }
    }
    let check_probes = long_running(w);
    for (kind, c) in w.spec.pod.all_containers() {
        if kind == ContainerKind::Ephemeral {
            continue;
        }
        if check_probes
            && kind == ContainerKind::Regular
            && c.liveness_probe.is_none()
            && c.readiness_probe.is_none()
        {
            out.push(Signal::NoProbes {
                container: c.name.clone(),
            });
        }
        let limits = c.resources.as_ref().map(|r| &r.limits);
        let missing: Vec<String> = ["cpu", "memory"]
            .into_iter()
            .filter(|k| limits.is_none_or(|l| !l.contains_key(*k)))
            .map(str::to_string)
            .collect();
        if !missing.is_empty() {
            out.push(Signal::NoLimits {
                container: c.name.clone(),
                missing,
            });
        }
    }
    if !ownership.is_owned() {
        out.push(Signal::NoOwner);
    }
    out
}

/// Builds the inventory report. `facts.images` supplies image ages when known; the other facts
/// are not used here.
pub fn inventory_report(inventory: &Inventory, facts: &ExternalFacts) -> InventoryReport {
    let facts = facts.normalized();
    let exposure = ExposureIndex::build(inventory);
    let mut workloads: Vec<WorkloadEntry> = inventory
        .top_level_workloads()
        .into_iter()
        .map(|w| {
            let images: Vec<ImageEntry> = w
                .spec
                .pod
                .all_containers()
                .map(|(k, c)| image_entry(k, c, &facts))
                .collect();
            let ownership = Ownership::of(w);
            WorkloadEntry {
                id: WorkloadId::of(w),
                source: w.source.clone(),
                signals: signals(w, &images, &ownership),
                images,
                service_account: w.spec.pod.effective_service_account().to_string(),
                exposure: exposure.exposure_of(w),
                ownership_gaps: ownership.gaps(),
                ownership,
            }
        })
        .collect();
    workloads.sort_by(|a, b| a.id.cmp(&b.id));

    let mut namespaces: BTreeMap<String, NamespaceCount> = BTreeMap::new();
    struct Reg {
        images: std::collections::BTreeSet<String>,
        containers: usize,
        workloads: usize,
    }
    let mut registries: BTreeMap<String, Reg> = BTreeMap::new();
    for w in &workloads {
        let n = namespaces
            .entry(w.id.namespace.clone())
            .or_insert_with(|| NamespaceCount {
                namespace: w.id.namespace.clone(),
                workloads: 0,
                containers: 0,
                externally_exposed: 0,
                without_owner: 0,
            });
        n.workloads += 1;
        n.containers += w.images.len();
        n.externally_exposed += usize::from(w.exposure.level.is_external());
        n.without_owner += usize::from(w.ownership_gaps.contains(&OwnershipGap::NoOwner));
        let mut seen_in_workload = std::collections::BTreeSet::new();
        for img in &w.images {
            let reg = img.registry().unwrap_or("(invalid)").to_string();
            let r = registries.entry(reg.clone()).or_insert_with(|| Reg {
                images: Default::default(),
                containers: 0,
                workloads: 0,
            });
            r.images.insert(
                img.parsed
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| img.reference.clone()),
            );
            r.containers += 1;
            if seen_in_workload.insert(reg) {
                r.workloads += 1;
            }
        }
    }
    let mut registries: Vec<RegistryCount> = registries
        .into_iter()
        .map(|(registry, r)| RegistryCount {
            registry,
            images: r.images.len(),
            containers: r.containers,
            workloads: r.workloads,
        })
        .collect();
    registries.sort_by(|a, b| {
        b.containers
            .cmp(&a.containers)
            .then_with(|| a.registry.cmp(&b.registry))
    });
    InventoryReport {
        workloads,
        namespaces: namespaces.into_values().collect(),
        registries,
    }
}
