//! The resolved RBAC state of an inventory: roles with their effective rules (aggregation
//! applied, built-in roles added), bindings linked to their roles, and subject lookups.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use palisade_model::api::{AggregationRule, PolicyRule, Subject};
use palisade_model::{
    Diagnostic, DiagnosticLevel, Inventory, Labels, ObjectRef, RoleBinding, SourceLocation,
};
use serde::Serialize;

use crate::builtin::builtin_cluster_roles;

/// The API group of RBAC objects and of User/Group subjects.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// A Role or ClusterRole as a grant refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RoleInfo {
    /// `Role` or `ClusterRole`.
    pub kind: String,
    /// Namespace, for Roles.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// True for a built-in ClusterRole Palisade assumed because the inventory does not define it.
    pub builtin: bool,
    /// Where it was read from (`None` for built-ins).
    pub source: Option<SourceLocation>,
}

/// A RoleBinding or ClusterRoleBinding as a grant refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BindingInfo {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub kind: String,
    /// Namespace, for RoleBindings.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Where it was read from.
    pub source: SourceLocation,
}

/// A rule as it takes effect in a role, with the role it was written in (differs from the
/// bound role when the rule came in through aggregation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveRule {
    /// The rule.
    pub rule: PolicyRule,
    /// Name of the role whose manifest holds this rule.
    pub origin: String,
}

/// Where a grant comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "namespace", rename_all = "snake_case")]
pub enum Scope {
    /// Granted by a ClusterRoleBinding: every namespace and cluster-scoped objects.
    Cluster,
    /// Granted by a RoleBinding: only in this namespace.
    Namespace(String),
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Cluster => f.write_str("cluster-wide"),
            Scope::Namespace(ns) => write!(f, "namespace {ns}"),
        }
    }
}

/// The chain that grants something: binding, bound role, and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Via {
    /// The binding.
    pub binding: Arc<BindingInfo>,
    /// The role it binds.
    pub role: Arc<RoleInfo>,
    /// The rule of that role.
    pub rule: Arc<EffectiveRule>,
}

pub(crate) struct RoleEntry {
    pub(crate) info: Arc<RoleInfo>,
    pub(crate) labels: Labels,
    pub(crate) aggregation: Option<AggregationRule>,
    pub(crate) own_rules: Vec<PolicyRule>,
    pub(crate) object: Option<ObjectRef>,
    pub(crate) rules: Vec<Arc<EffectiveRule>>,
}

pub(crate) struct BindingEntry {
    pub(crate) info: Arc<BindingInfo>,
    pub(crate) role: Option<usize>,
    /// Valid subjects, ServiceAccount namespaces filled in.
    pub(crate) subjects: Vec<Subject>,
}

impl BindingEntry {
    pub(crate) fn scope(&self) -> Scope {
        match &self.info.namespace {
            Some(ns) if self.info.kind == "RoleBinding" => Scope::Namespace(ns.clone()),
            _ => Scope::Cluster,
        }
    }

    /// Whether the binding's rules are consulted for a request in `namespace` (the authorizer
    /// consults ClusterRoleBindings always and RoleBindings only for their own namespace).
    pub(crate) fn applies_in(&self, namespace: Option<&str>) -> bool {
        match (&self.info.namespace, self.info.kind.as_str()) {
            (Some(ns), "RoleBinding") => namespace == Some(ns.as_str()),
            _ => true,
        }
    }
}

/// How a principal is looked up among binding subjects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Identity {
    User(String),
    Group(String),
}

/// The resolved RBAC state. Build it once per inventory with [`RbacIndex::build`].
pub struct RbacIndex {
    pub(crate) roles: Vec<RoleEntry>,
    pub(crate) bindings: Vec<BindingEntry>,
    pub(crate) by_identity: HashMap<Identity, Vec<(usize, usize)>>,
    diagnostics: Vec<Diagnostic>,
}

/// Hashes a rule by value so identical rules from different roles collapse during aggregation,
/// as the aggregation controller does.
struct RuleKey<'a>(&'a PolicyRule);

impl PartialEq for RuleKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for RuleKey<'_> {}
impl Hash for RuleKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.api_groups.hash(state);
        self.0.resources.hash(state);
        self.0.verbs.hash(state);
        self.0.resource_names.hash(state);
        self.0.non_resource_urls.hash(state);
    }
}

impl RbacIndex {
    /// Resolves the inventory's Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.
    /// Never fails: problems become [`Diagnostic`]s and the objects concerned grant what the API
    /// server would let them grant (or nothing when it would reject them).
    pub fn build(inventory: &Inventory) -> RbacIndex {
        let mut idx = RbacIndex {
            roles: Vec::new(),
            bindings: Vec::new(),
            by_identity: HashMap::new(),
            diagnostics: Vec::new(),
        };
        let (cluster_roles, ns_roles) = idx.add_roles(inventory);
        idx.aggregate(&cluster_roles);
        for b in &inventory.role_bindings {
            idx.add_binding(b, &cluster_roles, &ns_roles);
        }
        idx
    }

    /// Problems found while resolving, in input order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Number of roles (including assumed built-ins).
    pub fn role_count(&self) -> usize {
        self.roles.len()
    }

    /// Number of bindings.
    pub fn binding_count(&self) -> usize {
        self.bindings.len()
    }

    /// The effective rules of a ClusterRole (aggregation applied), if known.
    pub fn cluster_role_rules(&self, name: &str) -> Option<Vec<EffectiveRule>> {
        self.roles
            .iter()
            .find(|r| r.info.kind == "ClusterRole" && r.info.name == name)
            .map(|r| r.rules.iter().map(|x| (**x).clone()).collect())
    }

    fn warn(
        &mut self,
        level: DiagnosticLevel,
        object: ObjectRef,
        field: Option<String>,
        message: String,
    ) {
        self.diagnostics
            .push(Diagnostic::object(level, object, field, message));
    }

    #[allow(clippy::type_complexity)]
    fn add_roles(
        &mut self,
        inventory: &Inventory,
    ) -> (HashMap<String, usize>, HashMap<(String, String), usize>) {
        let mut cluster_roles: HashMap<String, usize> = HashMap::new();
        let mut ns_roles: HashMap<(String, String), usize> = HashMap::new();
        for role in &inventory.roles {
            let is_cluster = role.is_cluster_role();
            if !is_cluster && role.kind != "Role" {
                continue;
            }
            let object = role.object_ref();
            self.check_rules(&object, is_cluster, &role.spec.rules);
            if !is_cluster && role.spec.aggregation_rule.is_some() {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    Some("aggregationRule".into()),
                    "aggregationRule is only valid on ClusterRoles; ignored".into(),
                );
            }
            let entry = RoleEntry {
                info: Arc::new(RoleInfo {
                    kind: role.kind.clone(),
                    namespace: role.namespace().map(str::to_string),
                    name: role.name(),
                    builtin: false,
                    source: Some(role.source.clone()),
                }),
                labels: role.meta.labels.clone(),
                aggregation: if is_cluster {
                    role.spec.aggregation_rule.clone()
                } else {
                    None
                },
                own_rules: role.spec.rules.clone(),
                object: Some(object.clone()),
                rules: Vec::new(),
            };
            let id = self.roles.len();
            let previous = if is_cluster {
                cluster_roles.insert(role.name(), id)
            } else {
                let ns = role.namespace().unwrap_or_default().to_string();
                ns_roles.insert((ns, role.name()), id)
            };
            if let Some(prev) = previous {
                let prev_src = self.roles[prev]
                    .info
                    .source
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                self.warn(
                    DiagnosticLevel::Warning,
                    object,
                    None,
                    format!(
                        "{} defined again (first at {prev_src}); the later definition is used, as a later apply would replace the earlier",
                        role.kind
                    ),
                );
            }
            self.roles.push(entry);
        }
        for b in builtin_cluster_roles() {
            if cluster_roles.contains_key(b.name) {
                continue;
            }
            cluster_roles.insert(b.name.to_string(), self.roles.len());
            self.roles.push(RoleEntry {
                info: Arc::new(RoleInfo {
                    kind: "ClusterRole".into(),
                    namespace: None,
                    name: b.name.to_string(),
                    builtin: true,
                    source: None,
                }),
                labels: b.labels,
                aggregation: b.aggregation_rule,
                own_rules: b.rules,
                object: None,
                rules: Vec::new(),
            });
        }
        (cluster_roles, ns_roles)
    }

    fn check_rules(&mut self, object: &ObjectRef, is_cluster: bool, rules: &[PolicyRule]) {
        for (i, r) in rules.iter().enumerate() {
            let field = Some(format!("rules[{i}]"));
            if r.verbs.is_empty() {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    field.clone(),
                    "rule has no verbs: the API server rejects it; it grants nothing".into(),
                );
            }
            let has_resources = !r.resources.is_empty();
            let has_urls = !r.non_resource_urls.is_empty();
            if has_resources && has_urls {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    field.clone(),
                    "rule names both resources and nonResourceURLs: the API server rejects it"
                        .into(),
                );
            }
            if has_urls && !is_cluster {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    field.clone(),
                    "nonResourceURLs are only valid in ClusterRoles: the API server rejects this Role".into(),
                );
            }
            if !has_urls && r.api_groups.is_empty() {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    field.clone(),
                    "resource rule without apiGroups: the API server rejects it; it matches nothing (use \"\" for the core group)".into(),
                );
            }
            if !has_urls && !has_resources {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    field,
                    "rule names neither resources nor nonResourceURLs: it grants nothing".into(),
                );
            }
        }
    }

    /// Applies aggregation rules until a fixed point: an aggregated ClusterRole's rules are the
    /// union (without duplicates, in selector order then role name order, as the aggregation
    /// controller writes them) of the effective rules of every other ClusterRole that one of its
    /// selectors matches. Rules written in an aggregated role's manifest are replaced, as the
    /// controller replaces them.
    fn aggregate(&mut self, cluster_roles: &HashMap<String, usize>) {
        // Non-aggregated roles: their own rules.
        for role in &mut self.roles {
            if role.aggregation.is_none() {
                let origin = role.info.name.clone();
                role.rules = role
                    .own_rules
                    .iter()
                    .map(|r| {
                        Arc::new(EffectiveRule {
                            rule: r.clone(),
                            origin: origin.clone(),
                        })
                    })
                    .collect();
            }
        }
        let mut by_name: Vec<(&String, &usize)> = cluster_roles.iter().collect();
        by_name.sort();
        let cluster_ids: Vec<usize> = by_name.into_iter().map(|(_, id)| *id).collect();
        // Which roles each aggregated role draws from.
        let mut sources: Vec<(usize, Vec<usize>)> = Vec::new();
        for &a in &cluster_ids {
            let Some(agg) = self.roles[a].aggregation.clone() else {
                continue;
            };
            let mut from = Vec::new();
            let mut seen = HashSet::new();
            for (si, sel) in agg.cluster_role_selectors.iter().enumerate() {
                if let Err(e) = sel.validate() {
                    if let Some(obj) = self.roles[a].object.clone() {
                        self.warn(
                            DiagnosticLevel::Warning,
                            obj,
                            Some(format!("aggregationRule.clusterRoleSelectors[{si}]")),
                            format!("invalid selector ({e}); it selects nothing"),
                        );
                    }
                    continue;
                }
                for &m in &cluster_ids {
                    if m != a
                        && sel.matches(&self.roles[m].labels).unwrap_or(false)
                        && seen.insert(m)
                    {
                        from.push(m);
                    }
                }
            }
            if !self.roles[a].own_rules.is_empty()
                && let Some(obj) = self.roles[a].object.clone()
            {
                self.warn(
                    DiagnosticLevel::Info,
                    obj,
                    Some("rules".into()),
                    "this ClusterRole has an aggregationRule: the controller replaces its rules with those of the ClusterRoles it selects".into(),
                );
            }
            sources.push((a, from));
        }
        // Fixed point: each pass can only add rules, so at most one pass per aggregated role
        // (plus one to notice nothing changed) is needed.
        for _ in 0..=sources.len() {
            let mut changed = false;
            for (a, from) in &sources {
                let mut seen: HashSet<RuleKey<'_>> = HashSet::new();
                let mut next: Vec<Arc<EffectiveRule>> = Vec::new();
                for &m in from {
                    for r in &self.roles[m].rules {
                        if seen.insert(RuleKey(&r.rule)) {
                            next.push(r.clone());
                        }
                    }
                }
                if next.len() != self.roles[*a].rules.len() {
                    changed = true;
                }
                drop(seen);
                self.roles[*a].rules = next;
            }
            if !changed {
                break;
            }
        }
    }

    fn add_binding(
        &mut self,
        b: &RoleBinding,
        cluster_roles: &HashMap<String, usize>,
        ns_roles: &HashMap<(String, String), usize>,
    ) {
        let is_cluster = b.is_cluster_binding();
        if !is_cluster && b.kind != "RoleBinding" {
            return;
        }
        let object = b.object_ref();
        let ns = if is_cluster {
            None
        } else {
            b.namespace().map(str::to_string)
        };
        let rr = &b.spec.role_ref;
        if rr.api_group != RBAC_GROUP {
            self.warn(
                DiagnosticLevel::Warning,
                object.clone(),
                Some("roleRef.apiGroup".into()),
                format!(
                    "roleRef.apiGroup is {:?}; the API server accepts only {RBAC_GROUP:?} (analysed as if it were)",
                    rr.api_group
                ),
            );
        }
        let role = match (rr.kind.as_str(), is_cluster) {
            ("ClusterRole", _) => cluster_roles.get(&rr.name).copied(),
            ("Role", false) => ns_roles
                .get(&(ns.clone().unwrap_or_default(), rr.name.clone()))
                .copied(),
            ("Role", true) => {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    Some("roleRef.kind".into()),
                    "a ClusterRoleBinding can only reference a ClusterRole: the API server rejects it; it grants nothing".into(),
                );
                return;
            }
            (other, _) => {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    Some("roleRef.kind".into()),
                    format!(
                        "roleRef.kind {other:?} is neither Role nor ClusterRole; it grants nothing"
                    ),
                );
                return;
            }
        };
        match role {
            None => self.warn(
                DiagnosticLevel::Warning,
                object.clone(),
                Some("roleRef.name".into()),
                format!(
                    "{} {:?}{} is not in the inventory (and not a built-in role Palisade knows); the binding grants nothing here",
                    rr.kind,
                    rr.name,
                    if rr.kind == "Role" {
                        format!(" in namespace {}", ns.as_deref().unwrap_or_default())
                    } else {
                        String::new()
                    }
                ),
            ),
            Some(id) if self.roles[id].info.builtin => self.warn(
                DiagnosticLevel::Info,
                object.clone(),
                Some("roleRef.name".into()),
                format!(
                    "ClusterRole {:?} is not in the inventory; the built-in definition is assumed",
                    rr.name
                ),
            ),
            Some(id) => {
                if !is_cluster
                    && self.roles[id]
                        .rules
                        .iter()
                        .any(|r| !r.rule.non_resource_urls.is_empty())
                {
                    self.warn(
                        DiagnosticLevel::Info,
                        object.clone(),
                        Some("roleRef".into()),
                        format!(
                            "ClusterRole {:?} has nonResourceURLs rules, which take effect only through ClusterRoleBindings",
                            rr.name
                        ),
                    );
                }
            }
        }
        let mut subjects = Vec::new();
        for (i, s) in b.spec.subjects.iter().enumerate() {
            if let Some(s) = self.normalize_subject(&object, i, s, ns.as_deref()) {
                subjects.push(s);
            }
        }
        let id = self.bindings.len();
        for (si, s) in subjects.iter().enumerate() {
            self.by_identity
                .entry(subject_identity(s))
                .or_default()
                .push((id, si));
        }
        self.bindings.push(BindingEntry {
            info: Arc::new(BindingInfo {
                kind: b.kind.clone(),
                namespace: ns,
                name: b.name(),
                source: b.source.clone(),
            }),
            role,
            subjects,
        });
    }

    fn normalize_subject(
        &mut self,
        object: &ObjectRef,
        i: usize,
        s: &Subject,
        binding_ns: Option<&str>,
    ) -> Option<Subject> {
        let field = |f: &str| Some(format!("subjects[{i}]{f}"));
        if s.name.is_empty() {
            self.warn(
                DiagnosticLevel::Warning,
                object.clone(),
                field(".name"),
                "subject without a name; ignored".into(),
            );
            return None;
        }
        match s.kind.as_str() {
            "User" | "Group" => Some(Subject {
                kind: s.kind.clone(),
                name: s.name.clone(),
                namespace: None,
                api_group: Some(RBAC_GROUP.to_string()),
            }),
            "ServiceAccount" => {
                let ns = s
                    .namespace
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .or(binding_ns);
                match ns {
                    Some(ns) => Some(Subject {
                        kind: s.kind.clone(),
                        name: s.name.clone(),
                        namespace: Some(ns.to_string()),
                        api_group: Some(String::new()),
                    }),
                    None => {
                        self.warn(
                            DiagnosticLevel::Warning,
                            object.clone(),
                            field(".namespace"),
                            format!(
                                "ServiceAccount subject {:?} has no namespace: the API server requires one in ClusterRoleBindings; it matches nobody",
                                s.name
                            ),
                        );
                        None
                    }
                }
            }
            other => {
                self.warn(
                    DiagnosticLevel::Warning,
                    object.clone(),
                    field(".kind"),
                    format!(
                        "subject kind {other:?} is not User, Group or ServiceAccount; it matches nobody"
                    ),
                );
                None
            }
        }
    }
}

/// The identity a (normalized) subject matches: ServiceAccounts match by their user name.
pub(crate) fn subject_identity(s: &Subject) -> Identity {
    match s.kind.as_str() {
        "Group" => Identity::Group(s.name.clone()),
        "ServiceAccount" => Identity::User(crate::principal::service_account_user(
            s.namespace.as_deref().unwrap_or_default(),
            &s.name,
        )),
        _ => Identity::User(s.name.clone()),
    }
}
