//! Feedback into CI/CD: runtime findings and locked baselines turned into a policy document
//! that build-time scans and admission control consume.
//!
//! The agent keeps a [`FindingsSummary`] (alerts counted per image and rule) beside its
//! baselines. `palisade agent export-policy` calls [`export_policy`] to produce a
//! [`RuntimePolicy`]:
//!
//! ```yaml
//! apiVersion: palisade.dev/v1alpha1
//! kind: RuntimePolicy
//! generated: "2026-11-29T10:00:00.000Z"
//! images:
//!   - image: docker.io/library/nginx:1.27
//!     verdict: deny                 # deny | warn
//!     reasons:
//!       - rule: shell-in-container
//!         severity: high
//!         tags: [shell]
//!         count: 3
//!         firstSeen: "…"
//!         lastSeen: "…"
//!         example: "sh -c id"
//! processAllowlists:
//!   - key: k8s/shop/Deployment/web/nginx
//!     namespace: shop
//!     workload: Deployment/web
//!     container: nginx
//!     image: docker.io/library/nginx:1.27
//!     lockedAt: "…"
//!     processes:
//!       - {name: nginx, exe: /usr/sbin/nginx}
//! ```
//!
//! Consumers: [`RuntimePolicy::image_policy`] answers "did this image misbehave at runtime?"
//! (references are compared after normalization, so `nginx` matches
//! `docker.io/library/nginx:latest`) and [`RuntimePolicy::allowlist_for`] finds a container's
//! locked allowlist. The check engine (palisade-checks, checks PAL-097 and PAL-098) reads the
//! policy through them, so `palisade scan`, admission and central see runtime facts as
//! findings of the one engine. The agent itself seeds locked baselines from
//! `processAllowlists` ([`ProcessAllowlist::to_locked_baseline`]) so the next deployment
//! starts enforced.

use std::collections::{BTreeMap, BTreeSet};

use palisade_model::{ImageRef, Severity};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::baseline::{Baseline, BaselineProcess, BaselineStore, Phase};
use palisade_model::time::Timestamp;

/// `apiVersion` of runtime policy documents.
pub const POLICY_API_VERSION: &str = "palisade.dev/v1alpha1";
/// `kind` of runtime policy documents.
pub const POLICY_KIND: &str = "RuntimePolicy";

/// Most images a summary holds.
pub const MAX_SUMMARY_IMAGES: usize = 10_000;
/// Most container IDs remembered per (image, rule).
const MAX_CONTAINERS_PER_TALLY: usize = 20;

/// Counts of one rule's alerts for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTally {
    /// Highest severity seen.
    pub severity: Severity,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// Alerts counted.
    pub count: u64,
    /// First alert (ms since the epoch).
    pub first_seen_ms: u64,
    /// Last alert (ms since the epoch).
    pub last_seen_ms: u64,
    /// Some containers it happened in.
    pub containers: BTreeSet<String>,
    /// The command line of the first alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// Runtime alerts aggregated per image and rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FindingsSummary {
    /// Image reference -> rule ID -> tally.
    pub images: BTreeMap<String, BTreeMap<String, RuleTally>>,
    /// Alerts not counted: host processes, unknown image, or the image cap reached.
    pub uncounted: u64,
}

impl FindingsSummary {
    /// Counts one alert at `time_ms`.
    pub fn record(&mut self, alert: &Alert, time_ms: u64) {
        let Some(image) = alert.container.as_ref().and_then(|c| c.image.clone()) else {
            self.uncounted += 1;
            return;
        };
        if !self.images.contains_key(&image) && self.images.len() >= MAX_SUMMARY_IMAGES {
            self.uncounted += 1;
            return;
        }
        let rules = self.images.entry(image).or_default();
        let tally = rules
            .entry(alert.rule.clone())
            .or_insert_with(|| RuleTally {
                severity: alert.severity,
                tags: alert.tags.clone(),
                count: 0,
                first_seen_ms: time_ms,
                last_seen_ms: time_ms,
                containers: BTreeSet::new(),
                example: alert.process.as_ref().map(|p| p.cmdline()),
            });
        tally.count += 1;
        tally.severity = tally.severity.max(alert.severity);
        tally.first_seen_ms = tally.first_seen_ms.min(time_ms);
        tally.last_seen_ms = tally.last_seen_ms.max(time_ms);
        if let Some(c) = &alert.container
            && tally.containers.len() < MAX_CONTAINERS_PER_TALLY
        {
            tally.containers.insert(c.id.clone());
        }
    }

    /// Counts an alert read back from a JSON-lines file, using its own `time`.
    pub fn record_logged(&mut self, alert: &Alert) {
        let t = parse_ms(&alert.time).unwrap_or(0);
        self.record(alert, t);
    }
}

/// Milliseconds since the epoch of an RFC 3339 time (`None` if unreadable or before 1970).
fn parse_ms(text: &str) -> Option<u64> {
    Timestamp::parse_rfc3339(text).ok()?.unix_ms_unsigned()
}

/// Whether an image is to be blocked or only reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Report.
    Warn,
    /// Block at scan and admission.
    Deny,
}

/// Why an image is in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageReason {
    /// Rule ID.
    pub rule: String,
    /// Highest severity seen.
    pub severity: Severity,
    /// Rule tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Alerts counted.
    pub count: u64,
    /// First alert (RFC 3339).
    pub first_seen: String,
    /// Last alert (RFC 3339).
    pub last_seen: String,
    /// A command line that triggered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// An image with runtime findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePolicy {
    /// Image reference as the runtime reported it.
    pub image: String,
    /// Deny or warn.
    pub verdict: Verdict,
    /// The rules it triggered.
    pub reasons: Vec<ImageReason>,
}

/// A program allowed by a locked baseline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AllowedProcess {
    /// Command name (`comm`).
    pub name: String,
    /// Executable path inside the container.
    pub exe: String,
}

/// A locked baseline as an allowlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessAllowlist {
    /// Baseline key.
    pub key: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Workload (`Kind/name`) or pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// Container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Image last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// When the baseline was locked (RFC 3339).
    pub locked_at: String,
    /// Allowed programs.
    pub processes: Vec<AllowedProcess>,
}

impl ProcessAllowlist {
    /// A locked baseline with these programs (counts zero), for seeding the agent.
    pub fn to_locked_baseline(&self, now_ms: u64) -> Baseline {
        let mut processes: Vec<BaselineProcess> = self
            .processes
            .iter()
            .map(|p| BaselineProcess {
                name: p.name.clone(),
                exe: p.exe.clone(),
                count: 0,
                first_seen_ms: now_ms,
                last_seen_ms: now_ms,
            })
            .collect();
        processes.sort_by(|a, b| (&a.name, &a.exe).cmp(&(&b.name, &b.exe)));
        processes.dedup_by(|a, b| a.name == b.name && a.exe == b.exe);
        Baseline {
            key: self.key.clone(),
            namespace: self.namespace.clone(),
            workload: self.workload.clone(),
            container: self.container.clone(),
            image: self.image.clone(),
            phase: Phase::Locked {
                since_ms: parse_ms(&self.locked_at).unwrap_or(now_ms),
            },
            created_ms: now_ms,
            processes,
            anomalies: Vec::new(),
            overflow: 0,
        }
    }

    /// Whether a program (by command name, or by executable path or its base name) is allowed.
    pub fn allows_command(&self, command: &str) -> bool {
        let base = command.rsplit('/').next().unwrap_or(command);
        self.processes
            .iter()
            .any(|p| p.exe == command || p.name == base || p.exe.rsplit('/').next() == Some(base))
    }
}

/// The exported policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimePolicy {
    /// [`POLICY_API_VERSION`].
    pub api_version: String,
    /// [`POLICY_KIND`].
    pub kind: String,
    /// When it was generated (RFC 3339).
    pub generated: String,
    /// Images with runtime findings, sorted by reference.
    #[serde(default)]
    pub images: Vec<ImagePolicy>,
    /// Locked baselines as allowlists, sorted by key.
    #[serde(default)]
    pub process_allowlists: Vec<ProcessAllowlist>,
}

/// What decides an image's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// A reason with one of these tags and at least `deny_min_severity` makes the image
    /// `deny`; every other image with findings is `warn`.
    pub deny_tags: Vec<String>,
    /// See `deny_tags`.
    pub deny_min_severity: Severity,
    /// Include baselines that are still learning as allowlists.
    pub include_learning: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            deny_tags: [
                "shell",
                "package-manager",
                "miner",
                "reverse-shell",
                "privilege",
            ]
            .map(String::from)
            .to_vec(),
            deny_min_severity: Severity::High,
            include_learning: false,
        }
    }
}

/// Builds the policy document from the findings summary and the baselines.
pub fn export_policy(
    findings: &FindingsSummary,
    baselines: &BaselineStore,
    options: &ExportOptions,
    now_ms: u64,
) -> RuntimePolicy {
    let images = findings
        .images
        .iter()
        .filter(|(_, rules)| !rules.is_empty())
        .map(|(image, rules)| {
            let reasons: Vec<ImageReason> = rules
                .iter()
                .map(|(rule, t)| ImageReason {
                    rule: rule.clone(),
                    severity: t.severity,
                    tags: t.tags.clone(),
                    count: t.count,
                    first_seen: Timestamp::from_unix_ms(t.first_seen_ms).rfc3339_ms(),
                    last_seen: Timestamp::from_unix_ms(t.last_seen_ms).rfc3339_ms(),
                    example: t.example.clone(),
                })
                .collect();
            let deny = reasons.iter().any(|r| {
                r.severity >= options.deny_min_severity
                    && r.tags.iter().any(|t| options.deny_tags.contains(t))
            });
            ImagePolicy {
                image: image.clone(),
                verdict: if deny { Verdict::Deny } else { Verdict::Warn },
                reasons,
            }
        })
        .collect();
    let process_allowlists = baselines
        .baselines
        .values()
        .filter(|b| options.include_learning || b.is_locked())
        .map(|b| ProcessAllowlist {
            key: b.key.clone(),
            namespace: b.namespace.clone(),
            workload: b.workload.clone(),
            container: b.container.clone(),
            image: b.image.clone(),
            locked_at: match b.phase {
                Phase::Locked { since_ms } => Timestamp::from_unix_ms(since_ms).rfc3339_ms(),
                Phase::Learning { .. } => String::new(),
            },
            processes: b
                .processes
                .iter()
                .map(|p| AllowedProcess {
                    name: p.name.clone(),
                    exe: p.exe.clone(),
                })
                .collect(),
        })
        .collect();
    RuntimePolicy {
        api_version: POLICY_API_VERSION.into(),
        kind: POLICY_KIND.into(),
        generated: Timestamp::from_unix_ms(now_ms).rfc3339_ms(),
        images,
        process_allowlists,
    }
}

/// A policy document that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("runtime policy: {0}")]
pub struct PolicyError(pub String);

fn same_image(a: &str, b: &str) -> bool {
    match (ImageRef::parse(a), ImageRef::parse(b)) {
        (Ok(x), Ok(y)) => {
            x.name() == y.name()
                && match (&x.digest, &y.digest) {
                    (Some(dx), Some(dy)) => dx == dy,
                    _ => x.effective_tag() == y.effective_tag(),
                }
        }
        _ => a == b,
    }
}

impl RuntimePolicy {
    /// Parses a policy document (YAML or JSON) and checks its `apiVersion` and `kind`.
    pub fn parse(text: &str) -> Result<RuntimePolicy, PolicyError> {
        let p: RuntimePolicy =
            serde_saphyr::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
        if p.api_version != POLICY_API_VERSION || p.kind != POLICY_KIND {
            return Err(PolicyError(format!(
                "expected apiVersion {POLICY_API_VERSION} and kind {POLICY_KIND}, found {} {}",
                p.api_version, p.kind
            )));
        }
        Ok(p)
    }

    /// The entry for an image reference, if the image had runtime findings.
    pub fn image_policy(&self, image: &str) -> Option<&ImagePolicy> {
        self.images.iter().find(|p| same_image(&p.image, image))
    }

    /// The allowlist for a Kubernetes container (`namespace`, `Kind/name`, container name).
    pub fn allowlist_for(
        &self,
        namespace: &str,
        workload: &str,
        container: &str,
    ) -> Option<&ProcessAllowlist> {
        let key = format!("k8s/{namespace}/{workload}/{container}");
        self.process_allowlists.iter().find(|a| a.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{BaselineSettings, Selector};
    use crate::event::{ContainerInfo, ContainerRuntime, Event, ProcessInfo};
    use crate::rules::RuleSet;

    const ID: &str = "d481261a4b5cf2b51de4c15910d8858157f9e4b84815999696612abe2b740cb8";

    fn shell_alert(image: &str, t: u64) -> Alert {
        let rules = RuleSet::builtin().unwrap();
        let mut c = ContainerInfo::bare(ContainerRuntime::Containerd, ID);
        c.image = Some(image.into());
        let e = Event::exec(
            t,
            ProcessInfo {
                name: "sh".into(),
                args: vec!["sh".into(), "-c".into(), "id".into()],
                ..Default::default()
            },
            None,
            Some(c),
        );
        Alert::for_rule(rules.get("shell-in-container").unwrap(), &e)
    }

    #[test]
    fn summary_counts_per_image_and_rule() {
        let mut s = FindingsSummary::default();
        s.record(&shell_alert("nginx:1.27", 5000), 5000);
        s.record(&shell_alert("nginx:1.27", 9000), 9000);
        let mut host = shell_alert("nginx:1.27", 1);
        host.container = None;
        s.record(&host, 1);
        let t = &s.images["nginx:1.27"]["shell-in-container"];
        assert_eq!(t.count, 2);
        assert_eq!((t.first_seen_ms, t.last_seen_ms), (5000, 9000));
        assert_eq!(t.example.as_deref(), Some("sh -c id"));
        assert_eq!(s.uncounted, 1);
    }

    #[test]
    fn export_denies_shell_images_and_lists_locked_baselines() {
        let mut s = FindingsSummary::default();
        s.record(&shell_alert("nginx:1.27", 5000), 5000);
        let mut warn = shell_alert("busybox:1", 5000);
        warn.rule = "network-tool-in-container".into();
        warn.tags = vec!["network-tool".into()];
        warn.severity = Severity::Medium;
        s.record(&warn, 5000);

        let mut store = BaselineStore::new();
        let settings = BaselineSettings::default();
        let mut c = ContainerInfo::bare(ContainerRuntime::Containerd, ID);
        c.namespace = Some("shop".into());
        c.workload = Some("Deployment/web".into());
        c.name = Some("nginx".into());
        c.image = Some("nginx:1.27".into());
        let e = Event::exec(
            0,
            ProcessInfo {
                name: "nginx".into(),
                exe: "/usr/sbin/nginx".into(),
                ..Default::default()
            },
            None,
            Some(c.clone()),
        );
        store.observe(&settings, &e, 0);
        c.name = Some("sidecar".into());
        store.observe(
            &settings,
            &Event {
                container: Some(c),
                ..e.clone()
            },
            0,
        );
        store.lock(&Selector::Key("k8s/shop/Deployment/web/nginx".into()), 1000);

        let p = export_policy(&s, &store, &ExportOptions::default(), 2000);
        assert_eq!(p.images.len(), 2);
        assert_eq!(p.images[0].image, "busybox:1");
        assert_eq!(p.images[0].verdict, Verdict::Warn);
        assert_eq!(p.images[1].verdict, Verdict::Deny);
        assert_eq!(
            p.process_allowlists.len(),
            1,
            "learning baselines are left out"
        );
        let a = &p.process_allowlists[0];
        assert_eq!(a.key, "k8s/shop/Deployment/web/nginx");
        assert_eq!(a.locked_at, "1970-01-01T00:00:01.000Z");
        assert_eq!(
            a.processes,
            vec![AllowedProcess {
                name: "nginx".into(),
                exe: "/usr/sbin/nginx".into()
            }]
        );

        // The document round-trips through YAML and JSON.
        let yaml = serde_saphyr::to_string(&p).unwrap();
        assert!(yaml.contains("apiVersion: palisade.dev/v1alpha1"), "{yaml}");
        assert!(yaml.contains("processAllowlists:"), "{yaml}");
        assert_eq!(RuntimePolicy::parse(&yaml).unwrap(), p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(RuntimePolicy::parse(&json).unwrap(), p);

        // Image lookups normalize references.
        assert!(p.image_policy("docker.io/library/nginx:1.27").is_some());
        assert!(p.image_policy("nginx:1.28").is_none());
        assert!(
            p.image_policy("index.docker.io/library/busybox:1")
                .is_some()
        );

        // Seeding the agent from the allowlist gives a locked baseline.
        let b = a.to_locked_baseline(5000);
        assert!(b.is_locked());
        assert!(b.knows("nginx", "/usr/sbin/nginx"));
        assert!(a.allows_command("nginx"));
        assert!(a.allows_command("/usr/sbin/nginx"));
        assert!(!a.allows_command("/bin/sh"));
    }

    #[test]
    fn parse_rejects_other_documents() {
        let e = RuntimePolicy::parse("apiVersion: v1\nkind: Pod\ngenerated: x\n").unwrap_err();
        assert!(e.0.contains("expected apiVersion"), "{e}");
        assert!(RuntimePolicy::parse("[1, 2").is_err());
    }
}
