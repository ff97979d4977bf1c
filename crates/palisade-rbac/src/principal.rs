//! Who is asking: a user name and groups, as the authenticator would hand them to the
//! authorizer.

use std::fmt;
use std::str::FromStr;

use palisade_model::api::Subject;
use serde::Serialize;

/// The group of every authenticated identity.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group of anonymous requests.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// The user name of anonymous requests.
pub const ANONYMOUS: &str = "system:anonymous";
/// The group of every service account.
pub const ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
/// The group that bypasses authorization entirely (checked before RBAC by the API server).
pub const MASTERS: &str = "system:masters";
/// Prefix of service account user names (`system:serviceaccount:<ns>:<name>`).
pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// The group of the service accounts of one namespace.
pub fn namespace_service_accounts_group(namespace: &str) -> String {
    format!("{ALL_SERVICE_ACCOUNTS}:{namespace}")
}

/// The user name of a service account.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}")
}

/// An authenticated identity: a user name (absent when asking about a group as such) and groups.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Principal {
    /// User name (`alice`, `system:serviceaccount:shop:web`).
    pub user: Option<String>,
    /// Groups, including the implicit ones.
    pub groups: Vec<String>,
}

/// Why a subject string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid subject {0:?}: expected User:NAME, Group:NAME or ServiceAccount:NAMESPACE:NAME")]
pub struct SubjectParseError(pub String);

impl Principal {
    /// A user with the implicit `system:authenticated` group (or, for `system:anonymous`, the
    /// `system:unauthenticated` group). A user name of the form
    /// `system:serviceaccount:NS:NAME` is that service account.
    pub fn user(name: &str) -> Principal {
        if let Some((ns, sa)) = name
            .strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)
            .and_then(|rest| rest.split_once(':'))
        {
            return Principal::service_account(ns, sa);
        }
        let implicit = if name == ANONYMOUS {
            UNAUTHENTICATED
        } else {
            AUTHENTICATED
        };
        Principal {
            user: Some(name.to_string()),
            groups: vec![implicit.to_string()],
        }
    }

    /// A member of `group` (no user name), also in `system:authenticated` unless the group is
    /// `system:unauthenticated`.
    pub fn group(group: &str) -> Principal {
        let mut groups = vec![group.to_string()];
        if group != UNAUTHENTICATED && group != AUTHENTICATED {
            groups.push(AUTHENTICATED.to_string());
        }
        Principal { user: None, groups }
    }

    /// A service account: user `system:serviceaccount:NS:NAME`, groups `system:serviceaccounts`,
    /// `system:serviceaccounts:NS` and `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> Principal {
        Principal {
            user: Some(service_account_user(namespace, name)),
            groups: vec![
                ALL_SERVICE_ACCOUNTS.to_string(),
                namespace_service_accounts_group(namespace),
                AUTHENTICATED.to_string(),
            ],
        }
    }

    /// Whether the principal is in `system:masters`, which the API server authorizes for
    /// everything before RBAC is asked.
    pub fn is_privileged_group_member(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// Whether a binding subject applies to this principal. `binding_namespace` is the
    /// RoleBinding's namespace (`None` for ClusterRoleBindings): a ServiceAccount subject without
    /// a namespace defaults to it, as the authorizer does.
    pub fn matches(&self, subject: &Subject, binding_namespace: Option<&str>) -> bool {
        match subject.kind.as_str() {
            "User" => self.user.as_deref() == Some(subject.name.as_str()),
            "Group" => self.groups.contains(&subject.name),
            "ServiceAccount" => {
                let ns = subject
                    .namespace
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .or(binding_namespace.filter(|n| !n.is_empty()));
                match (ns, self.user.as_deref()) {
                    (Some(ns), Some(user)) => {
                        user.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)
                            .and_then(|rest| rest.split_once(':'))
                            == Some((ns, subject.name.as_str()))
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

impl FromStr for Principal {
    type Err = SubjectParseError;

    /// Parses `User:NAME`, `Group:NAME` or `ServiceAccount:NAMESPACE:NAME` (kinds are
    /// case-insensitive; `SA` is accepted for `ServiceAccount`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SubjectParseError(s.to_string());
        let (kind, rest) = s.split_once(':').ok_or_else(err)?;
        if rest.is_empty() {
            return Err(err());
        }
        match kind.to_ascii_lowercase().as_str() {
            "user" => Ok(Principal::user(rest)),
            "group" => Ok(Principal::group(rest)),
            "serviceaccount" | "sa" => {
                let (ns, name) = rest.split_once(':').ok_or_else(err)?;
                if ns.is_empty() || name.is_empty() || name.contains(':') {
                    return Err(err());
                }
                Ok(Principal::service_account(ns, name))
            }
            _ => Err(err()),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            Some(u) => write!(f, "user {u}")?,
            None => write!(f, "a member")?,
        }
        write!(f, " (groups: {})", self.groups.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(kind: &str, name: &str, ns: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(str::to_string),
            api_group: None,
        }
    }

    #[test]
    fn parse_subject_strings() {
        let p: Principal = "ServiceAccount:shop:web".parse().unwrap();
        assert_eq!(p.user.as_deref(), Some("system:serviceaccount:shop:web"));
        assert!(
            p.groups
                .contains(&"system:serviceaccounts:shop".to_string())
        );
        let p: Principal = "User:system:serviceaccount:a:b".parse().unwrap();
        assert_eq!(p, Principal::service_account("a", "b"));
        assert!("Robot:x".parse::<Principal>().is_err());
        assert!("User:".parse::<Principal>().is_err());
        assert!("ServiceAccount:onlyname".parse::<Principal>().is_err());
    }

    #[test]
    fn service_account_subject_namespace_defaults_to_binding() {
        let p = Principal::service_account("shop", "web");
        assert!(p.matches(&subject("ServiceAccount", "web", None), Some("shop")));
        assert!(!p.matches(&subject("ServiceAccount", "web", None), Some("other")));
        assert!(!p.matches(&subject("ServiceAccount", "web", None), None));
        assert!(p.matches(&subject("ServiceAccount", "web", Some("shop")), None));
        assert!(p.matches(
            &subject("User", "system:serviceaccount:shop:web", None),
            None
        ));
    }
}
