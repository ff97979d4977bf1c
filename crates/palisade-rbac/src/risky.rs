//! Dangerous permissions: which subjects hold them, through which bindings, and which workloads
//! run as those subjects (a compromised pod inherits its service account's power).

use std::collections::BTreeMap;
use std::fmt;

use palisade_model::api::{PolicyRule, Subject};
use palisade_model::{Inventory, Severity, Workload, WorkloadId};
use serde::Serialize;

use crate::index::{RbacIndex, Scope, Via};
use crate::matching::{ALL, api_group_matches, resource_matches, verb_matches};
use crate::principal::{
    ALL_SERVICE_ACCOUNTS, AUTHENTICATED, Principal, SERVICE_ACCOUNT_USER_PREFIX,
};

/// A dangerous capability a rule can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// `*` verbs or resources: everything in reach, present and future.
    Wildcard,
    /// `escalate` / `bind` on roles, or `impersonate` users, groups, service accounts: a way
    /// past RBAC's own escalation checks.
    EscalateBindImpersonate,
    /// `get` / `list` / `watch` on Secrets (list and watch return values).
    ReadSecrets,
    /// `create` pods or workload controllers, or `update`/`patch` controllers: run any image as
    /// any service account of the namespace, mount its secrets.
    CreateWorkloads,
    /// `create` on `serviceaccounts/token`: mint tokens for other service accounts.
    CreateServiceAccountTokens,
    /// `get` / `create` on `nodes/proxy`: the kubelet API, including exec in every pod of a node.
    NodesProxy,
    /// Change admission webhooks or policies: intercept or silence every write.
    ModifyAdmission,
    /// Approve CertificateSigningRequests (`update` on `certificatesigningrequests/approval` or
    /// `approve` on `signers`): issue client certificates.
    ApproveCsrs,
    /// `patch` / `update` on nodes or `nodes/status`: relabel or taint nodes to attract pods.
    PatchNodes,
    /// `create` / `get` on `pods/exec`, `pods/attach`, `pods/portforward`, or `patch` on
    /// `pods/ephemeralcontainers`: run commands in or reach into running pods.
    ExecAttachPortForward,
}

impl Capability {
    /// Every capability, most dangerous first.
    pub const ALL: [Capability; 10] = [
        Capability::Wildcard,
        Capability::EscalateBindImpersonate,
        Capability::ReadSecrets,
        Capability::CreateWorkloads,
        Capability::CreateServiceAccountTokens,
        Capability::NodesProxy,
        Capability::ModifyAdmission,
        Capability::ApproveCsrs,
        Capability::PatchNodes,
        Capability::ExecAttachPortForward,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Wildcard => "wildcard",
            Capability::EscalateBindImpersonate => "escalate_bind_impersonate",
            Capability::ReadSecrets => "read_secrets",
            Capability::CreateWorkloads => "create_workloads",
            Capability::CreateServiceAccountTokens => "create_service_account_tokens",
            Capability::NodesProxy => "nodes_proxy",
            Capability::ModifyAdmission => "modify_admission",
            Capability::ApproveCsrs => "approve_csrs",
            Capability::PatchNodes => "patch_nodes",
            Capability::ExecAttachPortForward => "exec_attach_portforward",
        }
    }

    /// A short human description.
    pub fn description(self) -> &'static str {
        match self {
            Capability::Wildcard => "wildcard verbs or resources",
            Capability::EscalateBindImpersonate => "escalate, bind or impersonate",
            Capability::ReadSecrets => "read secrets",
            Capability::CreateWorkloads => "create pods or workloads",
            Capability::CreateServiceAccountTokens => "create service account tokens",
            Capability::NodesProxy => "use nodes/proxy (kubelet API)",
            Capability::ModifyAdmission => "modify admission webhooks or policies",
            Capability::ApproveCsrs => "approve certificate signing requests",
            Capability::PatchNodes => "patch nodes",
            Capability::ExecAttachPortForward => "exec, attach or port-forward into pods",
        }
    }

    /// Severity of holding the capability at `scope`. Namespace-scoped grants are one step
    /// lower than cluster-wide ones; grants limited to named objects another step lower.
    pub fn severity(self, scope: &Scope, restricted_to_names: bool) -> Severity {
        let cluster = match self {
            Capability::Wildcard
            | Capability::EscalateBindImpersonate
            | Capability::ReadSecrets
            | Capability::CreateWorkloads
            | Capability::CreateServiceAccountTokens
            | Capability::NodesProxy
            | Capability::ModifyAdmission => Severity::Critical,
            Capability::ApproveCsrs
            | Capability::PatchNodes
            | Capability::ExecAttachPortForward => Severity::High,
        };
        let mut s = cluster;
        if matches!(scope, Scope::Namespace(_)) {
            s = lower(s);
        }
        if restricted_to_names {
            s = lower(s);
        }
        s
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Low,
    }
}

/// A verb set on resources of one API group; a rule grants the probe when it allows any verb on
/// any of the resources (whatever the object name).
struct Probe {
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [(&'static str, Option<&'static str>)],
}

fn probes(c: Capability) -> &'static [Probe] {
    const WORKLOAD_WRITE: &[&str] = &["create", "update", "patch"];
    match c {
        Capability::Wildcard => &[],
        Capability::ReadSecrets => &[Probe {
            verbs: &["get", "list", "watch"],
            group: "",
            resources: &[("secrets", None)],
        }],
        Capability::CreateWorkloads => &[
            Probe {
                verbs: &["create"],
                group: "",
                resources: &[("pods", None)],
            },
            Probe {
                verbs: WORKLOAD_WRITE,
                group: "",
                resources: &[("replicationcontrollers", None)],
            },
            Probe {
                verbs: WORKLOAD_WRITE,
                group: "apps",
                resources: &[
                    ("deployments", None),
                    ("daemonsets", None),
                    ("statefulsets", None),
                    ("replicasets", None),
                ],
            },
            Probe {
                verbs: WORKLOAD_WRITE,
                group: "batch",
                resources: &[("jobs", None), ("cronjobs", None)],
            },
        ],
        Capability::ExecAttachPortForward => &[
            Probe {
                verbs: &["create", "get"],
                group: "",
                resources: &[
                    ("pods", Some("exec")),
                    ("pods", Some("attach")),
                    ("pods", Some("portforward")),
                ],
            },
            Probe {
                verbs: &["update", "patch"],
                group: "",
                resources: &[("pods", Some("ephemeralcontainers"))],
            },
        ],
        Capability::EscalateBindImpersonate => &[
            Probe {
                verbs: &["escalate", "bind"],
                group: "rbac.authorization.k8s.io",
                resources: &[("roles", None), ("clusterroles", None)],
            },
            Probe {
                verbs: &["impersonate"],
                group: "",
                resources: &[("users", None), ("groups", None), ("serviceaccounts", None)],
            },
            Probe {
                verbs: &["impersonate"],
                group: "authentication.k8s.io",
                resources: &[("uids", None), ("userextras", None)],
            },
        ],
        Capability::CreateServiceAccountTokens => &[Probe {
            verbs: &["create"],
            group: "",
            resources: &[("serviceaccounts", Some("token"))],
        }],
        Capability::ApproveCsrs => &[
            Probe {
                verbs: &["update", "patch"],
                group: "certificates.k8s.io",
                resources: &[("certificatesigningrequests", Some("approval"))],
            },
            Probe {
                verbs: &["approve"],
                group: "certificates.k8s.io",
                resources: &[("signers", None)],
            },
        ],
        Capability::PatchNodes => &[Probe {
            verbs: &["patch", "update"],
            group: "",
            resources: &[("nodes", None), ("nodes", Some("status"))],
        }],
        Capability::NodesProxy => &[Probe {
            verbs: &["get", "create"],
            group: "",
            resources: &[("nodes", Some("proxy"))],
        }],
        Capability::ModifyAdmission => &[Probe {
            verbs: &["create", "update", "patch", "delete"],
            group: "admissionregistration.k8s.io",
            resources: &[
                ("validatingwebhookconfigurations", None),
                ("mutatingwebhookconfigurations", None),
                ("validatingadmissionpolicies", None),
                ("validatingadmissionpolicybindings", None),
                ("mutatingadmissionpolicies", None),
                ("mutatingadmissionpolicybindings", None),
            ],
        }],
    }
}

/// The dangerous capabilities one rule grants.
pub fn rule_capabilities(rule: &PolicyRule) -> Vec<Capability> {
    if rule.resources.is_empty() || rule.api_groups.is_empty() || rule.verbs.is_empty() {
        return Vec::new();
    }
    Capability::ALL
        .into_iter()
        .filter(|&c| match c {
            Capability::Wildcard => {
                rule.verbs.iter().any(|v| v == ALL) || rule.resources.iter().any(|r| r == ALL)
            }
            _ => probes(c).iter().any(|p| {
                api_group_matches(rule, p.group)
                    && p.verbs.iter().any(|v| verb_matches(rule, v))
                    && p.resources
                        .iter()
                        .any(|(r, sub)| resource_matches(rule, r, *sub))
            }),
        })
        .collect()
}

/// A workload and the service account its pods run as, as risky-grant reports list it.
/// Serializes flat: `namespace`, `kind`, `name`, `service_account`, `token_automounted`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkloadAccount {
    /// The workload.
    #[serde(flatten)]
    pub workload: WorkloadId,
    /// Its service account.
    pub service_account: String,
    /// Whether the service account token is mounted into its pods (pod
    /// `automountServiceAccountToken`, else the ServiceAccount's, else true).
    pub token_automounted: bool,
}

/// A dangerous capability held by one subject at one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskyGrant {
    /// The binding subject.
    pub subject: Subject,
    /// What it can do.
    pub capability: Capability,
    /// Where.
    pub scope: Scope,
    /// How bad (see [`Capability::severity`]).
    pub severity: Severity,
    /// True when every granting rule is limited by `resourceNames`.
    pub restricted_to_names: bool,
    /// Every binding/role/rule that grants it.
    pub via: Vec<Via>,
    /// Workloads running as this subject (as a ServiceAccount, or as a member of a service
    /// account group such as `system:serviceaccounts:<ns>`).
    pub workloads: Vec<WorkloadAccount>,
}

/// A dangerous capability held by one principal at one scope (all subjects merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapabilityGrant {
    /// What it can do.
    pub capability: Capability,
    /// Where.
    pub scope: Scope,
    /// How bad.
    pub severity: Severity,
    /// True when every granting rule is limited by `resourceNames`.
    pub restricted_to_names: bool,
    /// The binding subjects through which it is held.
    pub subjects: Vec<Subject>,
    /// Every binding/role/rule that grants it.
    pub via: Vec<Via>,
}

struct Acc {
    restricted: bool,
    via: Vec<Via>,
    subjects: Vec<Subject>,
}

impl Acc {
    fn new() -> Acc {
        Acc {
            restricted: true,
            via: Vec::new(),
            subjects: Vec::new(),
        }
    }
    fn add(&mut self, via: &Via, subject: &Subject) {
        self.restricted &= !via.rule.rule.resource_names.is_empty();
        if !self.via.contains(via) {
            self.via.push(via.clone());
        }
        if !self.subjects.contains(subject) {
            self.subjects.push(subject.clone());
        }
    }
}

impl RbacIndex {
    /// Every dangerous capability held by any binding subject, with the workloads that run as
    /// that subject. Sorted by severity (worst first), then subject, capability and scope.
    pub fn risky(&self, inventory: &Inventory) -> Vec<RiskyGrant> {
        let mut acc: BTreeMap<(Subject, Capability, Scope), Acc> = BTreeMap::new();
        // Capabilities of each role's rules, computed once per role rather than per binding.
        let mut role_caps: Vec<Option<Vec<Vec<Capability>>>> = vec![None; self.roles.len()];
        for b in &self.bindings {
            let Some(role_id) = b.role else {
                continue;
            };
            if b.subjects.is_empty() {
                continue;
            }
            let role = &self.roles[role_id];
            let caps_by_rule = role_caps[role_id].get_or_insert_with(|| {
                role.rules
                    .iter()
                    .map(|r| rule_capabilities(&r.rule))
                    .collect()
            });
            let scope = b.scope();
            for (rule, caps) in role.rules.iter().zip(caps_by_rule.iter()) {
                if caps.is_empty() {
                    continue;
                }
                let via = Via {
                    binding: b.info.clone(),
                    role: role.info.clone(),
                    rule: rule.clone(),
                };
                for s in &b.subjects {
                    for &c in caps {
                        acc.entry((s.clone(), c, scope.clone()))
                            .or_insert_with(Acc::new)
                            .add(&via, s);
                    }
                }
            }
        }
        let workloads = workload_accounts(inventory);
        let mut out: Vec<RiskyGrant> = acc
            .into_iter()
            .map(|((subject, capability, scope), a)| {
                let runs_as: Vec<WorkloadAccount> = workloads
                    .iter()
                    .filter(|w| subject_covers_workload(&subject, w))
                    .cloned()
                    .collect();
                RiskyGrant {
                    severity: capability.severity(&scope, a.restricted),
                    restricted_to_names: a.restricted,
                    subject,
                    capability,
                    scope,
                    via: a.via,
                    workloads: runs_as,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.subject.cmp(&b.subject))
                .then_with(|| a.capability.cmp(&b.capability))
                .then_with(|| a.scope.cmp(&b.scope))
        });
        out
    }

    /// The dangerous capabilities `principal` holds, merged per capability and scope, worst
    /// first.
    pub fn capabilities_of(&self, principal: &Principal) -> Vec<CapabilityGrant> {
        let mut acc: BTreeMap<(Capability, Scope), Acc> = BTreeMap::new();
        for g in self.grants_of(principal) {
            for c in rule_capabilities(&g.via.rule.rule) {
                acc.entry((c, g.scope.clone()))
                    .or_insert_with(Acc::new)
                    .add(&g.via, &g.subject);
            }
        }
        let mut out: Vec<CapabilityGrant> = acc
            .into_iter()
            .map(|((capability, scope), a)| CapabilityGrant {
                severity: capability.severity(&scope, a.restricted),
                restricted_to_names: a.restricted,
                capability,
                scope,
                subjects: a.subjects,
                via: a.via,
            })
            .collect();
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.capability.cmp(&b.capability))
                .then_with(|| a.scope.cmp(&b.scope))
        });
        out
    }
}

/// Whether a workload's token is mounted: pod setting, else its ServiceAccount's, else true.
/// For many workloads, build an [`AutomountIndex`] once instead.
pub fn token_automounted(inventory: &Inventory, w: &Workload) -> bool {
    AutomountIndex::build(inventory).token_automounted(w)
}

/// `automountServiceAccountToken` of every ServiceAccount, by namespace and name.
#[derive(Debug, Default)]
pub struct AutomountIndex<'a> {
    by_account: std::collections::HashMap<(&'a str, &'a str), Option<bool>>,
}

impl<'a> AutomountIndex<'a> {
    /// Indexes the inventory's ServiceAccounts (the first of duplicates wins).
    pub fn build(inventory: &'a Inventory) -> AutomountIndex<'a> {
        let mut by_account = std::collections::HashMap::new();
        for sa in &inventory.service_accounts {
            if let Some(ns) = sa.namespace() {
                by_account
                    .entry((ns, sa.meta.name.as_str()))
                    .or_insert(sa.spec.automount_token);
            }
        }
        AutomountIndex { by_account }
    }

    /// Whether `w`'s token is mounted: pod setting, else its ServiceAccount's, else true.
    pub fn token_automounted(&self, w: &Workload) -> bool {
        let ns = w.namespace().unwrap_or_default();
        let sa_name = w.spec.pod.effective_service_account();
        w.spec
            .pod
            .automount_service_account_token
            .unwrap_or_else(|| {
                self.by_account
                    .get(&(ns, sa_name))
                    .copied()
                    .flatten()
                    .unwrap_or(true)
            })
    }
}

/// Top-level workloads (those not owned by another listed workload) with their service accounts.
pub fn workload_accounts(inventory: &Inventory) -> Vec<WorkloadAccount> {
    let automount = AutomountIndex::build(inventory);
    let mut out: Vec<WorkloadAccount> = inventory
        .top_level_workloads()
        .into_iter()
        .map(|w| WorkloadAccount {
            workload: WorkloadId::of(w),
            service_account: w.spec.pod.effective_service_account().to_string(),
            token_automounted: automount.token_automounted(w),
        })
        .collect();
    out.sort();
    out
}

/// Whether pods of `w` authenticate as (or as a member of) `subject`.
pub fn subject_covers_workload(subject: &Subject, w: &WorkloadAccount) -> bool {
    match subject.kind.as_str() {
        "ServiceAccount" => {
            subject.namespace.as_deref() == Some(w.workload.namespace.as_str())
                && subject.name == w.service_account
        }
        "User" => {
            subject
                .name
                .strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)
                .and_then(|r| r.split_once(':'))
                == Some((w.workload.namespace.as_str(), w.service_account.as_str()))
        }
        "Group" => {
            subject.name == ALL_SERVICE_ACCOUNTS
                || subject.name == AUTHENTICATED
                || subject
                    .name
                    .strip_prefix(ALL_SERVICE_ACCOUNTS)
                    .and_then(|r| r.strip_prefix(':'))
                    == Some(w.workload.namespace.as_str())
        }
        _ => false,
    }
}
