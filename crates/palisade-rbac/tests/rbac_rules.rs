//! One test per RBAC rule, with fixtures and expectations taken from the Kubernetes RBAC
//! documentation ("Using RBAC Authorization"): each asserts what is granted and what is not.

use palisade_rbac::{Principal, RbacIndex, Reason, Request, Scope};
use palisade_testkit::inventory;
use serde_json::json;

fn req(verb: &str, target: &str, ns: Option<&str>) -> Request {
    Request::parse(verb, target, ns, None).unwrap()
}

fn named(verb: &str, target: &str, ns: Option<&str>, name: &str) -> Request {
    Request::parse(verb, target, ns, Some(name)).unwrap()
}

fn user(name: &str) -> Principal {
    Principal::user(name)
}

fn allowed(idx: &RbacIndex, p: &Principal, r: &Request) -> bool {
    idx.can(p, r).allowed
}

// --- namespaced vs cluster bindings ------------------------------------------------------

fn docs_bindings() -> RbacIndex {
    RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"namespace": "default", "name": "pod-reader"},
               "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "secret-reader"},
               "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "watch", "list"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "read-pods", "namespace": "default"},
               "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "read-secrets", "namespace": "development"},
               "subjects": [{"kind": "User", "name": "dave", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "secret-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "read-secrets-global"},
               "subjects": [{"kind": "Group", "name": "manager", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "secret-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        // A RoleBinding in "staging" naming Role pod-reader: the Role lives in "default", and a
        // RoleBinding can only reference a Role in its own namespace.
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "read-pods", "namespace": "staging"},
               "subjects": [{"kind": "User", "name": "stan", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]))
}

#[test]
fn role_binding_grants_only_in_its_namespace() {
    let idx = docs_bindings();
    let jane = user("jane");
    assert!(allowed(&idx, &jane, &req("get", "pods", Some("default"))));
    assert!(allowed(&idx, &jane, &req("list", "pods", Some("default"))));
    assert!(!allowed(
        &idx,
        &jane,
        &req("get", "pods", Some("kube-system"))
    ));
    assert!(
        !allowed(&idx, &jane, &req("list", "pods", None)),
        "not across all namespaces"
    );
    assert!(!allowed(
        &idx,
        &jane,
        &req("delete", "pods", Some("default"))
    ));
    assert!(!allowed(
        &idx,
        &jane,
        &req("get", "secrets", Some("default"))
    ));
}

#[test]
fn role_binding_to_cluster_role_grants_only_in_the_binding_namespace() {
    let idx = docs_bindings();
    let dave = user("dave");
    let v = idx.can(&dave, &req("get", "secrets", Some("development")));
    assert!(v.allowed);
    assert_eq!(v.reason, Reason::Rbac);
    assert_eq!(v.grants.len(), 1);
    assert_eq!(v.grants[0].via.binding.name, "read-secrets");
    assert_eq!(v.grants[0].via.role.name, "secret-reader");
    assert_eq!(v.grants[0].scope, Scope::Namespace("development".into()));
    assert!(!allowed(
        &idx,
        &dave,
        &req("get", "secrets", Some("default"))
    ));
    assert!(!allowed(&idx, &dave, &req("list", "secrets", None)));
}

#[test]
fn cluster_role_binding_grants_in_every_namespace_and_cluster_wide() {
    let idx = docs_bindings();
    let manager = Principal::group("manager");
    assert!(allowed(
        &idx,
        &manager,
        &req("get", "secrets", Some("default"))
    ));
    assert!(allowed(
        &idx,
        &manager,
        &req("list", "secrets", Some("anything"))
    ));
    assert!(allowed(&idx, &manager, &req("watch", "secrets", None)));
    assert!(!allowed(
        &idx,
        &manager,
        &req("create", "secrets", Some("default"))
    ));
    // who-can in "development": the group (cluster-wide) and dave (namespace), not jane.
    let who = idx.who_can(&req("get", "secrets", Some("development")));
    let names: Vec<(&str, &str)> = who
        .iter()
        .map(|a| (a.subject.kind.as_str(), a.subject.name.as_str()))
        .collect();
    assert_eq!(names, vec![("Group", "manager"), ("User", "dave")]);
    // Cluster-wide: only the ClusterRoleBinding counts.
    let who = idx.who_can(&req("get", "secrets", None));
    assert_eq!(who.len(), 1);
    assert_eq!(who[0].scope, Scope::Cluster);
}

#[test]
fn role_binding_cannot_reach_a_role_of_another_namespace() {
    let idx = docs_bindings();
    assert!(!allowed(
        &idx,
        &user("stan"),
        &req("get", "pods", Some("staging"))
    ));
    assert!(!allowed(
        &idx,
        &user("stan"),
        &req("get", "pods", Some("default"))
    ));
    assert!(
        idx.diagnostics()
            .iter()
            .any(|d| d.object_ref().unwrap().name == "read-pods"
                && d.object_ref().unwrap().namespace.as_deref() == Some("staging")
                && d.field() == Some("roleRef.name"))
    );
}

// --- aggregation --------------------------------------------------------------------------

#[test]
fn aggregated_cluster_role_unions_matching_roles() {
    let idx = RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "monitoring"},
               "aggregationRule": {"clusterRoleSelectors": [
                   {"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]},
               "rules": []}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "monitoring-endpoints",
                            "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
               "rules": [{"apiGroups": [""], "resources": ["services", "endpointslices", "pods"],
                          "verbs": ["get", "list", "watch"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "monitoring-nodes",
                            "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
               "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "unrelated", "labels": {"rbac.example.com/aggregate-to-monitoring": "false"}},
               "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "monitoring"},
               "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "mon"}],
               "roleRef": {"kind": "ClusterRole", "name": "monitoring", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]));
    let prom = Principal::service_account("mon", "prometheus");
    let v = idx.can(&prom, &req("list", "services", Some("shop")));
    assert!(v.allowed);
    assert_eq!(v.grants[0].via.role.name, "monitoring");
    assert_eq!(v.grants[0].via.rule.origin, "monitoring-endpoints");
    assert!(allowed(&idx, &prom, &req("get", "nodes", None)));
    assert!(!allowed(&idx, &prom, &req("list", "nodes", None)));
    assert!(
        !allowed(&idx, &prom, &req("get", "secrets", Some("shop"))),
        "label value false does not match"
    );
    assert!(!allowed(&idx, &prom, &req("delete", "pods", Some("shop"))));
    assert_eq!(idx.cluster_role_rules("monitoring").unwrap().len(), 2);
}

#[test]
fn builtin_view_edit_admin_aggregate_custom_roles() {
    // The documented pattern: a CRD's ClusterRole labelled aggregate-to-view extends view, and
    // through view (labelled aggregate-to-edit) and edit (aggregate-to-admin) also edit and admin.
    let idx = RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "aggregate-cron-tabs-view",
                            "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
               "rules": [{"apiGroups": ["stable.example.com"], "resources": ["crontabs"],
                          "verbs": ["get", "list", "watch"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "viewers", "namespace": "apps"},
               "subjects": [{"kind": "User", "name": "vic", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "view", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "editors", "namespace": "apps"},
               "subjects": [{"kind": "User", "name": "eve", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "edit", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "admins", "namespace": "apps"},
               "subjects": [{"kind": "User", "name": "ada", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "admin", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]));
    let (vic, eve, ada) = (user("vic"), user("eve"), user("ada"));
    let crontabs = req("list", "crontabs.stable.example.com", Some("apps"));
    assert!(allowed(&idx, &vic, &crontabs));
    assert!(allowed(&idx, &eve, &crontabs));
    assert!(allowed(&idx, &ada, &crontabs));
    // view: no secrets, no writes, no roles.
    assert!(allowed(
        &idx,
        &vic,
        &req("list", "deployments", Some("apps"))
    ));
    assert!(!allowed(&idx, &vic, &req("get", "secrets", Some("apps"))));
    assert!(!allowed(
        &idx,
        &vic,
        &req("create", "deployments", Some("apps"))
    ));
    // edit: secrets and writes, exec, but no roles.
    assert!(allowed(&idx, &eve, &req("get", "secrets", Some("apps"))));
    assert!(allowed(
        &idx,
        &eve,
        &req("create", "pods/exec", Some("apps"))
    ));
    assert!(!allowed(
        &idx,
        &eve,
        &req("create", "rolebindings", Some("apps"))
    ));
    // admin: roles and rolebindings in the namespace.
    assert!(allowed(
        &idx,
        &ada,
        &req("create", "rolebindings", Some("apps"))
    ));
    assert!(!allowed(
        &idx,
        &ada,
        &req("create", "rolebindings", Some("other"))
    ));
    assert!(!allowed(
        &idx,
        &ada,
        &req("create", "clusterrolebindings", None)
    ));
}

#[test]
fn cluster_admin_is_known_when_not_defined() {
    let idx = RbacIndex::build(&inventory(vec![json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "ops-admin"},
        "subjects": [{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin", "apiGroup": "rbac.authorization.k8s.io"}})]));
    let ops = Principal::group("ops");
    assert!(allowed(&idx, &ops, &req("delete", "nodes", None)));
    assert!(allowed(&idx, &ops, &req("escalate", "clusterroles", None)));
    assert!(allowed(&idx, &ops, &req("get", "/metrics", None)));
    assert!(!allowed(
        &idx,
        &user("someone"),
        &req("get", "pods", Some("default"))
    ));
    let v = idx.can(&ops, &req("get", "pods", Some("x")));
    assert!(v.grants[0].via.role.builtin);
}

// --- resourceNames ------------------------------------------------------------------------

#[test]
fn resource_names_restrict_to_named_objects_and_never_grant_collections() {
    let idx = RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"namespace": "default", "name": "configmap-updater"},
               "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                          "resourceNames": ["my-configmap"], "verbs": ["update", "get", "list", "create"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "cm", "namespace": "default"},
               "subjects": [{"kind": "User", "name": "ursula", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "Role", "name": "configmap-updater", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]));
    let u = user("ursula");
    assert!(allowed(
        &idx,
        &u,
        &named("get", "configmaps", Some("default"), "my-configmap")
    ));
    assert!(allowed(
        &idx,
        &u,
        &named("update", "configmaps", Some("default"), "my-configmap")
    ));
    assert!(!allowed(
        &idx,
        &u,
        &named("get", "configmaps", Some("default"), "other")
    ));
    assert!(!allowed(
        &idx,
        &u,
        &named("delete", "configmaps", Some("default"), "my-configmap")
    ));
    // Requests on the collection carry no name: list and create are not granted even though the
    // rule lists those verbs.
    assert!(!allowed(
        &idx,
        &u,
        &req("list", "configmaps", Some("default"))
    ));
    assert!(!allowed(
        &idx,
        &u,
        &req("create", "configmaps", Some("default"))
    ));
    assert!(
        idx.who_can(&req("list", "configmaps", Some("default")))
            .is_empty()
    );
    assert_eq!(
        idx.who_can(&named("get", "configmaps", Some("default"), "my-configmap"))
            .len(),
        1
    );
}

// --- subresources -------------------------------------------------------------------------

#[test]
fn subresources_must_be_named_or_matched_by_star_slash() {
    let idx = RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"namespace": "default", "name": "pod-and-pod-logs-reader"},
               "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"namespace": "default", "name": "scaler"},
               "rules": [{"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "logs", "namespace": "default"},
               "subjects": [{"kind": "User", "name": "lou", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "Role", "name": "pod-and-pod-logs-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "scale", "namespace": "default"},
               "subjects": [{"kind": "User", "name": "sam", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "Role", "name": "scaler", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]));
    let (lou, sam) = (user("lou"), user("sam"));
    assert!(allowed(
        &idx,
        &lou,
        &req("get", "pods/log", Some("default"))
    ));
    assert!(allowed(&idx, &lou, &req("get", "pods", Some("default"))));
    assert!(
        !allowed(&idx, &lou, &req("get", "pods/exec", Some("default"))),
        "pods does not cover pods/exec"
    );
    assert!(!allowed(
        &idx,
        &lou,
        &req("create", "pods/exec", Some("default"))
    ));
    assert!(allowed(
        &idx,
        &sam,
        &req("update", "deployments/scale", Some("default"))
    ));
    assert!(allowed(
        &idx,
        &sam,
        &req("update", "statefulsets.apps/scale", Some("default"))
    ));
    assert!(
        !allowed(&idx, &sam, &req("update", "deployments", Some("default"))),
        "*/scale does not cover the resource itself"
    );
    assert!(!allowed(
        &idx,
        &sam,
        &req("update", "deployments/status", Some("default"))
    ));
    assert!(
        !allowed(&idx, &sam, &req("update", "pods/scale", Some("default"))),
        "apiGroup apps only"
    );
    let who = idx.who_can(&req("get", "pods/log", Some("default")));
    assert_eq!(who.len(), 1);
    assert_eq!(who[0].subject.name, "lou");
}

// --- non-resource URLs --------------------------------------------------------------------

#[test]
fn non_resource_urls_match_exactly_or_by_trailing_star_and_only_cluster_wide() {
    let idx = RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "healthz-reader"},
               "rules": [{"nonResourceURLs": ["/healthz", "/healthz/*"], "verbs": ["get", "post"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "healthz"},
               "subjects": [{"kind": "User", "name": "probe", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "healthz-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "healthz", "namespace": "default"},
               "subjects": [{"kind": "User", "name": "local", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "healthz-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]));
    let probe = user("probe");
    assert!(allowed(&idx, &probe, &req("get", "/healthz", None)));
    assert!(allowed(&idx, &probe, &req("post", "/healthz/ready", None)));
    assert!(allowed(&idx, &probe, &req("get", "/healthz/", None)));
    assert!(!allowed(&idx, &probe, &req("get", "/healthzx", None)));
    assert!(!allowed(&idx, &probe, &req("get", "/metrics", None)));
    assert!(!allowed(&idx, &probe, &req("delete", "/healthz", None)));
    // A RoleBinding never grants non-resource URLs.
    assert!(!allowed(
        &idx,
        &user("local"),
        &req("get", "/healthz", None)
    ));
    let who = idx.who_can(&req("get", "/healthz/ready", None));
    assert_eq!(who.len(), 1);
    assert_eq!(who[0].subject.name, "probe");
}

// --- group and service account subjects ---------------------------------------------------

#[test]
fn group_subjects_and_service_account_groups() {
    let idx = RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "cm-reader"},
               "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "ns-reader"},
               "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "svc-reader"},
               "rules": [{"apiGroups": [""], "resources": ["services"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "ep-reader"},
               "rules": [{"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get"]}]}),
        // every service account in namespace qa
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "qa-sas"},
               "subjects": [{"kind": "Group", "name": "system:serviceaccounts:qa", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "cm-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        // every service account in any namespace
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "all-sas"},
               "subjects": [{"kind": "Group", "name": "system:serviceaccounts", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "ns-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        // every authenticated user
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "authn"},
               "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "svc-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        // a named group
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "frontend", "namespace": "web"},
               "subjects": [{"kind": "Group", "name": "frontend-admins", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "ep-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
        // a ServiceAccount subject without namespace in a RoleBinding: the binding's namespace
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "local-sa", "namespace": "web"},
               "subjects": [{"kind": "ServiceAccount", "name": "builder"}],
               "roleRef": {"kind": "ClusterRole", "name": "cm-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]));
    let qa_sa = Principal::service_account("qa", "tester");
    let dev_sa = Principal::service_account("dev", "tester");
    let cm = req("get", "configmaps", Some("anywhere"));
    assert!(allowed(&idx, &qa_sa, &cm));
    assert!(!allowed(&idx, &dev_sa, &cm));
    let ns = req("get", "namespaces", None);
    assert!(allowed(&idx, &qa_sa, &ns));
    assert!(allowed(&idx, &dev_sa, &ns));
    assert!(
        !allowed(&idx, &user("alice"), &ns),
        "users are not in system:serviceaccounts"
    );
    let svc = req("get", "services", Some("x"));
    assert!(allowed(&idx, &user("alice"), &svc));
    assert!(allowed(&idx, &dev_sa, &svc));
    assert!(!allowed(&idx, &user("system:anonymous"), &svc));
    let ep = req("get", "endpoints", Some("web"));
    assert!(allowed(&idx, &Principal::group("frontend-admins"), &ep));
    assert!(
        !allowed(&idx, &user("frontend-admins"), &ep),
        "a user is not a group"
    );
    assert!(!allowed(
        &idx,
        &Principal::group("frontend-admins"),
        &req("get", "endpoints", Some("api"))
    ));
    let web_cm = req("get", "configmaps", Some("web"));
    assert!(allowed(
        &idx,
        &Principal::service_account("web", "builder"),
        &web_cm
    ));
    assert!(!allowed(
        &idx,
        &Principal::service_account("other", "builder"),
        &web_cm
    ));
    let who = idx.who_can(&web_cm);
    assert!(who.iter().any(|a| a.subject.kind == "ServiceAccount"
        && a.subject.name == "builder"
        && a.subject.namespace.as_deref() == Some("web")));
}

#[test]
fn system_masters_bypass_rbac() {
    let idx = RbacIndex::build(&inventory(vec![]));
    let v = idx.can(
        &Principal::group("system:masters"),
        &req("delete", "nodes", None),
    );
    assert!(v.allowed);
    assert_eq!(v.reason, Reason::PrivilegedGroup);
    assert!(v.grants.is_empty());
}

// --- invalid objects become diagnostics ---------------------------------------------------

#[test]
fn invalid_bindings_are_diagnosed_and_grant_nothing() {
    let idx = RbacIndex::build(&inventory(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"namespace": "a", "name": "r"},
               "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "crb-to-role"},
               "subjects": [{"kind": "User", "name": "x", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "sa-no-ns"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer"}],
               "roleRef": {"kind": "ClusterRole", "name": "cluster-admin", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "missing"},
               "subjects": [{"kind": "User", "name": "y", "apiGroup": "rbac.authorization.k8s.io"}],
               "roleRef": {"kind": "ClusterRole", "name": "does-not-exist", "apiGroup": "rbac.authorization.k8s.io"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "odd-subject"},
               "subjects": [{"kind": "Robot", "name": "z"}],
               "roleRef": {"kind": "ClusterRole", "name": "cluster-admin", "apiGroup": "rbac.authorization.k8s.io"}}),
    ]));
    assert!(!allowed(&idx, &user("x"), &req("get", "pods", Some("a"))));
    assert!(!allowed(
        &idx,
        &Principal::service_account("default", "deployer"),
        &req("get", "pods", Some("a"))
    ));
    assert!(!allowed(&idx, &user("y"), &req("get", "pods", Some("a"))));
    assert!(idx.who_can(&req("get", "pods", Some("a"))).is_empty());
    let fields: Vec<(&str, Option<&str>)> = idx
        .diagnostics()
        .iter()
        .map(|d| (d.object_ref().unwrap().name.as_str(), d.field()))
        .collect();
    assert!(fields.contains(&("crb-to-role", Some("roleRef.kind"))));
    assert!(fields.contains(&("sa-no-ns", Some("subjects[0].namespace"))));
    assert!(fields.contains(&("missing", Some("roleRef.name"))));
    assert!(fields.contains(&("odd-subject", Some("subjects[0].kind"))));
}
