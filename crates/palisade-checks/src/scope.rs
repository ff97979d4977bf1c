//! Which checks can decide on a single object, and which need the rest of the cluster.
//!
//! An admission request carries one object. A check that reads other objects (the namespace's
//! NetworkPolicies, the ServiceAccount a pod names, the workloads a Service selects, …) cannot
//! decide there: "no NetworkPolicy selects this Deployment" is true of every Deployment seen
//! alone. Such checks must not run in single-object contexts; [`needs_cluster_context`] names
//! them, by template, so that every check of a template is classified the same way.
//!
//! Classification (template → why):
//!
//! | template | needs cluster context because |
//! |---|---|
//! | `namespace_without_netpol` | counts the NetworkPolicies of the namespace |
//! | `dangling_netpol` | looks for pods a NetworkPolicy selects |
//! | `netpol_no_default_deny` | looks for a default-deny policy among the namespace's policies |
//! | `netpol_unprotected` | looks for policies that select the workload |
//! | `dangling_service` | looks for workloads a Service selects |
//! | `service_port_mismatch` | compares a Service's target ports with the selected pods' ports |
//! | `dangling_ingress` | looks for the Services an Ingress routes to |
//! | `missing_service_account` | looks for the ServiceAccount the pod names |
//! | `automount_token` | the ServiceAccount's `automountServiceAccountToken` decides when the pod leaves it unset |
//! | `rbac_binding_missing_role` | looks for the Role a binding references |
//! | `single_replica` | a HorizontalPodAutoscaler elsewhere may manage the replica count |
//! | `missing_owner` | the owner label may sit on the Namespace instead of the object |
//! | `resource_missing` | a LimitRange of the namespace may default requests and limits (it mutates Pods only after the workload is admitted) |
//! | `control_plane_etcd_unique_ca` | compares etcd's trusted CA with the kube-apiserver Pods' client CA |
//! | `pdb_missing` | looks for a PodDisruptionBudget selecting the workload (and an HPA's minimum) |
//! | `pdb_zero_disruptions` | compares minAvailable with the replicas of the workloads the PDB selects |
//! | `pdb_above_hpa_minimum` | compares minAvailable with the minReplicas of the HPA scaling the selected workload |
//! | `priority_class_unset` | a global default PriorityClass elsewhere gives pods without a name their priority |
//! | `dangling_hpa` | looks for the workload an HPA targets |
//! | `dangling_netpol_peer` | looks for pods a NetworkPolicy peer selects |
//! | `env_ref_missing` | looks for the ConfigMap or Secret (and key) an env var names |
//! | `dangling_servicemonitor` | looks for the Services a ServiceMonitor selects |
//! | `binding_grants`, `binding_wildcard` | read the rules of the role a binding refers to |
//! | `route_cross_namespace_backend` | looks for a ReferenceGrant in the backend's namespace |
//! | `dangling_route_backend` | looks for the Services a route sends traffic to |
//! | `gateway_cross_namespace_certificate` | looks for a ReferenceGrant in the certificate's namespace |
//!
//! Every other built-in template reads only the object it reports on (its pod template, its
//! own rules, ports, annotations or images, plus image facts handed to the engine), and so do
//! custom CEL checks (`object` is the one object). `netpol_broad` inspects the rules of the
//! policy itself. The classification is the `scope` column of the one template table
//! (`templates::TEMPLATES`): a new template cannot be added without deciding it.

use crate::catalog::{Catalog, CheckDef};
use crate::templates::{Scope, TEMPLATES, template};

/// Names of the templates whose checks read objects other than the one they report on, in
/// table order.
pub fn cluster_context_templates() -> impl Iterator<Item = &'static str> {
    TEMPLATES
        .iter()
        .filter(|t| t.scope == Scope::Cluster)
        .map(|t| t.name)
}

/// Whether `check` needs objects other than the one it reports on to decide (so it must not
/// run on a single admitted object).
pub fn needs_cluster_context(check: &CheckDef) -> bool {
    template(&check.template).is_some_and(|t| t.scope == Scope::Cluster)
}

/// IDs of the checks of `catalog` that need cluster context, in catalog order; pass them to
/// [`crate::EngineOptions::skip`] to evaluate a single object.
pub fn cluster_context_checks(catalog: &Catalog) -> Vec<String> {
    catalog
        .checks()
        .iter()
        .filter(|c| needs_cluster_context(c))
        .map(|c| c.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, EngineOptions};

    /// The templates that need cluster context, pinned: moving one changes what the
    /// admission webhook enforces, so it must be a visible decision here too.
    #[test]
    fn the_cluster_context_templates_are_the_documented_ones() {
        let mut cluster: Vec<&str> = cluster_context_templates().collect();
        cluster.sort_unstable();
        let mut documented = [
            "namespace_without_netpol",
            "dangling_netpol",
            "netpol_no_default_deny",
            "netpol_unprotected",
            "dangling_service",
            "service_port_mismatch",
            "dangling_ingress",
            "missing_service_account",
            "automount_token",
            "rbac_binding_missing_role",
            "single_replica",
            "missing_owner",
            "resource_missing",
            "control_plane_etcd_unique_ca",
            "pdb_missing",
            "pdb_zero_disruptions",
            "pdb_above_hpa_minimum",
            "priority_class_unset",
            "dangling_hpa",
            "dangling_netpol_peer",
            "env_ref_missing",
            "dangling_servicemonitor",
            "binding_grants",
            "binding_wildcard",
            "route_cross_namespace_backend",
            "dangling_route_backend",
            "gateway_cross_namespace_certificate",
        ];
        documented.sort_unstable();
        assert_eq!(cluster, documented);
        for check in Catalog::builtin().checks() {
            assert!(
                template(&check.template).is_some(),
                "{} uses template {:?}, which is not in the table",
                check.id,
                check.template
            );
        }
    }

    fn single_object_findings(yaml: &str) -> Vec<String> {
        let catalog = Catalog::builtin();
        let options = EngineOptions {
            skip: cluster_context_checks(&catalog),
            ..EngineOptions::default()
        };
        let inv = palisade_ingest::ingest_str("object.yaml", yaml).inventory;
        let mut ids: Vec<String> = Engine::new(catalog, options)
            .run(&inv)
            .findings
            .into_iter()
            .map(|f| f.check_id.to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    fn id_of(name: &str) -> String {
        Catalog::builtin()
            .get(name)
            .map(|c| c.id.clone())
            .unwrap_or_else(|| panic!("no check {name}"))
    }

    #[test]
    fn a_lone_deployment_gets_object_findings_but_no_cluster_ones() {
        let ids = single_object_findings(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web-sa
      containers:
      - name: web
        image: nginx:1.27
        securityContext: {privileged: true}
"#,
        );
        assert!(ids.contains(&id_of("privileged-container")), "{ids:?}");
        for cluster_only in [
            "namespace-without-networkpolicy",
            "namespace-without-default-deny-ingress",
            "workload-not-isolated-ingress",
            "workload-not-isolated-egress",
            "missing-service-account",
            "service-account-token-mounted",
            "single-replica",
            "missing-owner",
            "memory-limit-missing",
        ] {
            assert!(
                !ids.contains(&id_of(cluster_only)),
                "{cluster_only} fired: {ids:?}"
            );
        }
    }

    #[test]
    fn a_lone_service_or_binding_is_not_dangling() {
        let ids = single_object_findings(
            r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}
subjects: [{kind: Group, name: "system:anonymous", apiGroup: rbac.authorization.k8s.io}]
"#,
        );
        assert!(ids.contains(&id_of("nodeport-service")), "{ids:?}");
        assert!(ids.contains(&id_of("binding-to-anonymous")), "{ids:?}");
        assert!(!ids.contains(&id_of("dangling-service")), "{ids:?}");
        assert!(
            !ids.contains(&id_of("service-target-port-unknown")),
            "{ids:?}"
        );
        assert!(!ids.contains(&id_of("binding-missing-role")), "{ids:?}");
    }

    #[test]
    fn a_broad_network_policy_is_judged_alone() {
        let ids = single_object_findings(
            r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
"#,
        );
        assert!(ids.contains(&id_of("netpol-allows-any-address")), "{ids:?}");
        assert!(!ids.contains(&id_of("dangling-networkpolicy")), "{ids:?}");
    }
}
