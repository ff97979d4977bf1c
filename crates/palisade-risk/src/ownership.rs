//! Who owns a workload, read from its labels and annotations.
//!
//! Owner, team and contact come from keys whose last path segment (after any `prefix/`) is,
//! case-insensitively, `owner`; `team`; or `contact`, `email`, `maintainer`, `oncall`
//! (`owner`, `example.com/team`, `a8r.io/owner` all count). The recommended
//! `app.kubernetes.io/*` labels are reported as they are. The workload's own metadata is read
//! first, then its pod template's; labels before annotations.

use palisade_model::{Labels, Workload};
use serde::Serialize;

/// A value and the key it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribution {
    /// The value.
    pub value: String,
    /// Where: `label owner`, `annotation example.com/team`, `pod label team`, ….
    pub source: String,
}

/// Ownership facts of one workload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Ownership {
    /// Owner (a person or group).
    pub owner: Option<Attribution>,
    /// Team.
    pub team: Option<Attribution>,
    /// How to reach the owner.
    pub contact: Option<Attribution>,
    /// `app.kubernetes.io/name`.
    pub app_name: Option<String>,
    /// `app.kubernetes.io/instance`.
    pub app_instance: Option<String>,
    /// `app.kubernetes.io/version`.
    pub app_version: Option<String>,
    /// `app.kubernetes.io/component`.
    pub component: Option<String>,
    /// `app.kubernetes.io/part-of`.
    pub part_of: Option<String>,
    /// `app.kubernetes.io/managed-by` (the deploying tool, e.g. Helm).
    pub managed_by: Option<String>,
}

/// Something a workload lacks for anyone to know who answers for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnershipGap {
    /// No owner, team or contact is named: nobody answers for the workload.
    NoOwner,
    /// An owner or team is named but no contact (email, on-call, …).
    NoContact,
    /// No `app.kubernetes.io/name` label.
    NoAppName,
}

impl OwnershipGap {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnershipGap::NoOwner => "no_owner",
            OwnershipGap::NoContact => "no_contact",
            OwnershipGap::NoAppName => "no_app_name",
        }
    }
}

#[derive(Clone, Copy)]
enum Role {
    Owner,
    Team,
    Contact,
}

fn role_of(key: &str) -> Option<Role> {
    let last = key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase();
    match last.as_str() {
        "owner" | "owned-by" | "owned_by" => Some(Role::Owner),
        "team" | "owner-team" | "team-name" => Some(Role::Team),
        "contact" | "email" | "maintainer" | "maintainers" | "oncall" | "on-call" => {
            Some(Role::Contact)
        }
        _ => None,
    }
}

impl Ownership {
    /// Reads the ownership facts of `w`.
    pub fn of(w: &Workload) -> Ownership {
        let sources: [(&str, &Labels); 4] = [
            ("label", &w.meta.labels),
            ("annotation", &w.meta.annotations),
            ("pod label", &w.spec.pod_meta.labels),
            ("pod annotation", &w.spec.pod_meta.annotations),
        ];
        let mut o = Ownership::default();
        for (where_, map) in sources {
            for (k, v) in map {
                if v.trim().is_empty() {
                    continue;
                }
                let slot = match role_of(k) {
                    Some(Role::Owner) => &mut o.owner,
                    Some(Role::Team) => &mut o.team,
                    Some(Role::Contact) => &mut o.contact,
                    None => continue,
                };
                if slot.is_none() {
                    *slot = Some(Attribution {
                        value: v.clone(),
                        source: format!("{where_} {k}"),
                    });
                }
            }
        }
        let app = |key: &str| {
            w.meta
                .labels
                .get(key)
                .or_else(|| w.spec.pod_meta.labels.get(key))
                .filter(|v| !v.is_empty())
                .cloned()
        };
        o.app_name = app("app.kubernetes.io/name");
        o.app_instance = app("app.kubernetes.io/instance");
        o.app_version = app("app.kubernetes.io/version");
        o.component = app("app.kubernetes.io/component");
        o.part_of = app("app.kubernetes.io/part-of");
        o.managed_by = app("app.kubernetes.io/managed-by");
        o
    }

    /// Whether anyone is named (owner, team or contact): the same keys
    /// `palisade_model::ownership::OWNER_KEYS` lists count here.
    pub fn is_owned(&self) -> bool {
        self.owner.is_some() || self.team.is_some() || self.contact.is_some()
    }

    /// What is missing.
    pub fn gaps(&self) -> Vec<OwnershipGap> {
        let mut g = Vec::new();
        let named = self.owner.is_some() || self.team.is_some();
        if !named && self.contact.is_none() {
            g.push(OwnershipGap::NoOwner);
        } else if self.contact.is_none() {
            g.push(OwnershipGap::NoContact);
        }
        if self.app_name.is_none() {
            g.push(OwnershipGap::NoAppName);
        }
        g
    }
}
