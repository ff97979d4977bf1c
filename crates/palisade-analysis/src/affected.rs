//! Which analyses a change of one object touches: the map incremental re-evaluation (the
//! live-cluster sensor, central) starts from.
//!
//! Each analysis reads some kinds of objects; a changed object can only change the results of
//! the analyses that read its kind, and of those that read their results in turn. The reads are
//! (crate → inventory collections):
//!
//! | analysis | reads |
//! |---|---|
//! | object-local checks | the object itself (custom CEL checks may target any kind) |
//! | cluster-context checks (`palisade_checks::scope`) | other objects of any kind: the namespace's policies, the ServiceAccount a pod names, the Role a binding references, LimitRanges, HorizontalPodAutoscalers, … |
//! | network facts (`palisade_netpol`) | Namespaces (labels), workloads (pod labels, ports), Services, Ingresses, NetworkPolicies |
//! | network checks (`netpol_*` templates) | the network facts |
//! | RBAC index (`palisade_rbac`) | Roles, ClusterRoles, (Cluster)RoleBindings, ServiceAccounts |
//! | risk ranking (`palisade_risk`) | workloads, Services, Ingresses, ServiceAccounts, the findings on workloads, the RBAC index, the network facts |
//! | image facts (edge: registry, database) | the image references of workloads |

use bitflags::bitflags;
use palisade_model::WorkloadKind;

bitflags! {
    /// A set of analyses (see the module documentation for what each one reads).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Analyses: u8 {
        /// Checks that read only the object they report on.
        const OBJECT_CHECKS = 1;
        /// Checks that read other objects besides the one they report on
        /// (`palisade_checks::scope::CLUSTER_CONTEXT_TEMPLATES`).
        const CLUSTER_CHECKS = 1 << 1;
        /// NetworkPolicy reachability of every workload (isolation, reachable from, can reach).
        const NETWORK_FACTS = 1 << 2;
        /// The checks that read the network facts (`netpol_*` templates).
        const NETWORK_CHECKS = 1 << 3;
        /// Effective RBAC permissions of every subject.
        const RBAC = 1 << 4;
        /// The per-workload risk ranking and its top risks.
        const RISK = 1 << 5;
        /// Registry facts of the object's images (digest, signature, vulnerabilities): gathered
        /// at the edge, read by the image checks.
        const IMAGE_FACTS = 1 << 6;
    }
}

impl Analyses {
    /// The set with every analysis that reads the results of one in `self`, repeatedly: network
    /// facts feed the network checks and the risk ranking, the RBAC index feeds the ranking,
    /// image facts feed the object-local image checks.
    pub fn with_dependents(self) -> Analyses {
        let mut out = self;
        if out.contains(Analyses::NETWORK_FACTS) {
            out |= Analyses::NETWORK_CHECKS | Analyses::RISK;
        }
        if out.contains(Analyses::RBAC) {
            out |= Analyses::RISK;
        }
        if out.contains(Analyses::IMAGE_FACTS) {
            out |= Analyses::OBJECT_CHECKS;
        }
        out
    }
}

/// The analyses whose results may change when an object of `kind` (as in `ObjectRef::kind`:
/// `Deployment`, `NetworkPolicy`, …) is added, changed or removed, dependents included.
///
/// Every kind touches the object-local checks (custom checks may target it) and the
/// cluster-context checks (they may read it); beyond that:
///
/// - a workload (Pod, Deployment, …): network facts (its pods' labels and ports), the ranking
///   (it is ranked; its findings count) and its images' facts;
/// - Namespace (labels), Service, Ingress, NetworkPolicy: network facts, hence the network
///   checks and the ranking (Services and Ingresses also give the ranking's exposure);
/// - Role, ClusterRole, RoleBinding, ClusterRoleBinding, ServiceAccount: the RBAC index, hence the
///   ranking (which also reads a ServiceAccount's token automounting);
/// - Secret, ConfigMap, LimitRange, HorizontalPodAutoscaler, PodDisruptionBudget: nothing more;
/// - any other kind may hold a pod template (custom resources are analysed as workloads when
///   they do): what a workload touches.
pub fn affected_by(kind: &str) -> Analyses {
    let checks = Analyses::OBJECT_CHECKS | Analyses::CLUSTER_CHECKS;
    let workload = Analyses::NETWORK_FACTS | Analyses::RISK | Analyses::IMAGE_FACTS;
    let more = if WorkloadKind::from_kind(kind).is_some() {
        workload
    } else {
        match kind {
            // A Knative Service is a workload as well.
            "Service" => Analyses::NETWORK_FACTS | workload,
            "Namespace" | "Ingress" | "NetworkPolicy" => Analyses::NETWORK_FACTS,
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" | "ServiceAccount" => {
                Analyses::RBAC
            }
            "Secret"
            | "ConfigMap"
            | "LimitRange"
            | "HorizontalPodAutoscaler"
            | "PodDisruptionBudget"
            | "ResourceQuota"
            | "PriorityClass" => Analyses::empty(),
            _ => workload,
        }
    };
    (checks | more).with_dependents()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_touches_what_reads_it() {
        let checks = Analyses::OBJECT_CHECKS | Analyses::CLUSTER_CHECKS;
        let network = Analyses::NETWORK_FACTS | Analyses::NETWORK_CHECKS | Analyses::RISK;
        for kind in ["Pod", "Deployment", "StatefulSet", "DaemonSet", "CronJob"] {
            assert_eq!(
                affected_by(kind),
                checks | network | Analyses::IMAGE_FACTS,
                "{kind}"
            );
        }
        for kind in ["NetworkPolicy", "Namespace", "Ingress"] {
            assert_eq!(affected_by(kind), checks | network, "{kind}");
        }
        // Custom resources may embed pod templates (DeploymentConfig, Rollout, Knative Service).
        for kind in ["Service", "DeploymentConfig", "Rollout", "Foo"] {
            assert_eq!(
                affected_by(kind),
                checks | network | Analyses::IMAGE_FACTS,
                "{kind}"
            );
        }
        for kind in [
            "Role",
            "ClusterRole",
            "RoleBinding",
            "ClusterRoleBinding",
            "ServiceAccount",
        ] {
            assert_eq!(
                affected_by(kind),
                checks | Analyses::RBAC | Analyses::RISK,
                "{kind}"
            );
        }
        for kind in [
            "Secret",
            "ConfigMap",
            "LimitRange",
            "HorizontalPodAutoscaler",
        ] {
            assert_eq!(affected_by(kind), checks, "{kind}");
        }
    }

    #[test]
    fn dependents_are_closed() {
        assert_eq!(
            Analyses::RBAC.with_dependents(),
            Analyses::RBAC | Analyses::RISK
        );
        assert_eq!(
            Analyses::IMAGE_FACTS.with_dependents(),
            Analyses::IMAGE_FACTS | Analyses::OBJECT_CHECKS
        );
        for set in [
            Analyses::all(),
            Analyses::empty(),
            affected_by("Deployment"),
        ] {
            assert_eq!(set.with_dependents(), set);
        }
        assert!(!affected_by("Role").intersects(Analyses::NETWORK_FACTS));
        assert!(!affected_by("NetworkPolicy").intersects(Analyses::RBAC));
    }
}
