//! Questions asked of an [`RbacIndex`]: who can do something, can someone do something, and
//! what can someone do.

use palisade_model::api::Subject;
use serde::Serialize;

use crate::index::{Identity, RbacIndex, Scope, Via};
use crate::matching::rule_allows;
use crate::principal::Principal;
use crate::request::Request;

/// One subject that is granted a request, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The binding subject (ServiceAccount namespaces filled in).
    pub subject: Subject,
    /// Where the binding grants.
    pub scope: Scope,
    /// Binding, role and the first rule of the role that allows the request.
    pub via: Via,
}

/// Why a request was allowed or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// At least one binding grants it.
    Rbac,
    /// The principal is in `system:masters`, which the API server allows before asking RBAC.
    PrivilegedGroup,
    /// No binding grants it (RBAC only adds permissions; there are no deny rules).
    NoMatchingRule,
}

/// The answer to "can this principal do this?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// Every binding that grants it (one entry per binding subject matching the principal).
    pub grants: Vec<Access>,
}

/// One rule a principal holds, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The binding subject through which the principal holds it.
    pub subject: Subject,
    /// Where it applies.
    pub scope: Scope,
    /// Binding, role and rule.
    pub via: Via,
}

impl RbacIndex {
    /// Every subject the request is granted to, with the binding, role and first allowing rule
    /// of each binding. Only bindings the authorizer consults for the request's namespace count:
    /// ClusterRoleBindings always, RoleBindings only when the request is in their namespace
    /// (a request without a namespace, and every non-resource request, is cluster-wide).
    ///
    /// Sorted by subject, then scope, then binding.
    pub fn who_can(&self, request: &Request) -> Vec<Access> {
        let ns = request.namespace();
        let mut out = Vec::new();
        // Many bindings share a role: find each role's first allowing rule once.
        let mut first_allowing: Vec<Option<Option<usize>>> = vec![None; self.roles.len()];
        for b in &self.bindings {
            if b.subjects.is_empty() || !b.applies_in(ns) {
                continue;
            }
            let Some(role_id) = b.role else {
                continue;
            };
            let role = &self.roles[role_id];
            let hit = *first_allowing[role_id].get_or_insert_with(|| {
                role.rules
                    .iter()
                    .position(|r| rule_allows(&r.rule, request))
            });
            let Some(rule) = hit.map(|i| &role.rules[i]) else {
                continue;
            };
            let scope = b.scope();
            for s in &b.subjects {
                out.push(Access {
                    subject: s.clone(),
                    scope: scope.clone(),
                    via: Via {
                        binding: b.info.clone(),
                        role: role.info.clone(),
                        rule: rule.clone(),
                    },
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.subject, &a.scope, &a.via.binding).cmp(&(&b.subject, &b.scope, &b.via.binding))
        });
        out
    }

    /// Whether `principal` may make `request`, with every binding that grants it.
    pub fn can(&self, principal: &Principal, request: &Request) -> Verdict {
        let ns = request.namespace();
        let mut grants: Vec<Access> = Vec::new();
        for (bi, si) in self.binding_hits(principal) {
            let b = &self.bindings[bi];
            if !b.applies_in(ns) {
                continue;
            }
            let Some(role) = b.role.map(|r| &self.roles[r]) else {
                continue;
            };
            // The authorizer stops at the first allowing rule of a binding.
            if let Some(rule) = role.rules.iter().find(|r| rule_allows(&r.rule, request)) {
                grants.push(Access {
                    subject: b.subjects[si].clone(),
                    scope: b.scope(),
                    via: Via {
                        binding: b.info.clone(),
                        role: role.info.clone(),
                        rule: rule.clone(),
                    },
                });
            }
        }
        let (allowed, reason) = if !grants.is_empty() {
            (true, Reason::Rbac)
        } else if principal.is_privileged_group_member() {
            (true, Reason::PrivilegedGroup)
        } else {
            (false, Reason::NoMatchingRule)
        };
        Verdict {
            allowed,
            reason,
            grants,
        }
    }

    /// Every rule `principal` holds, through every binding whose subjects include it (by user
    /// name, by one of its groups, or as a ServiceAccount), in binding order.
    pub fn permissions(&self, principal: &Principal) -> Vec<Grant> {
        self.grants_of(principal).collect()
    }

    /// (binding, subject) index pairs whose subject applies to `principal`, in binding order.
    pub(crate) fn binding_hits(&self, principal: &Principal) -> Vec<(usize, usize)> {
        let mut hits: Vec<(usize, usize)> = Vec::new();
        let mut lookup = |id: Identity| {
            if let Some(v) = self.by_identity.get(&id) {
                hits.extend_from_slice(v);
            }
        };
        if let Some(u) = &principal.user {
            lookup(Identity::User(u.clone()));
        }
        for g in &principal.groups {
            lookup(Identity::Group(g.clone()));
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    pub(crate) fn grants_of<'a>(
        &'a self,
        principal: &'a Principal,
    ) -> impl Iterator<Item = Grant> + 'a {
        let hits = self.binding_hits(principal);
        hits.into_iter().flat_map(move |(bi, si)| {
            let b = &self.bindings[bi];
            let subject = b.subjects[si].clone();
            let scope = b.scope();
            let role = b.role.map(|r| &self.roles[r]);
            role.into_iter().flat_map(move |role| {
                let subject = subject.clone();
                let scope = scope.clone();
                role.rules.iter().map(move |rule| Grant {
                    subject: subject.clone(),
                    scope: scope.clone(),
                    via: Via {
                        binding: b.info.clone(),
                        role: role.info.clone(),
                        rule: rule.clone(),
                    },
                })
            })
        })
    }
}
