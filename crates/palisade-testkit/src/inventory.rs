//! Builds inventories from Kubernetes objects written as JSON, the way manifests declare them.
//! Stands in for palisade-ingest in the tests of analyzer crates (RBAC, risk, inventory): only
//! the fields those read are mapped, and a malformed fixture panics (it is a test bug).

use std::sync::Arc;

use palisade_model::api::{
    AggregationRule, IngressSpec, PodSpec, PodTemplateSpec, PolicyRule, RoleRef, ServiceSpec,
    Subject,
};
use palisade_model::inventory::{
    Resource, RoleBindingSpec, RoleSpec, ServiceAccountSpec, WorkloadSpec,
};
use palisade_model::{Inventory, ObjectMeta, SourceLocation, WorkloadKind};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn field<T: DeserializeOwned + Default>(v: &Value, key: &str) -> T {
    v.get(key)
        .cloned()
        .map(|x| serde_json::from_value(x).expect("test fixture field"))
        .unwrap_or_default()
}

fn resource<S>(doc: &Value, line: u32, spec: S) -> Resource<S> {
    Resource {
        api_version: field(doc, "apiVersion"),
        kind: field(doc, "kind"),
        meta: field::<ObjectMeta>(doc, "metadata"),
        source: SourceLocation::new("test.yaml", line),
        spec,
        raw: Arc::new(doc.clone()),
    }
}

/// An inventory holding `docs` (Roles, ClusterRoles, bindings, ServiceAccounts, workloads).
pub fn inventory(docs: Vec<Value>) -> Inventory {
    let mut inv = Inventory::default();
    for (i, doc) in docs.iter().enumerate() {
        let line = i as u32 * 10 + 1;
        let kind: String = field(doc, "kind");
        match kind.as_str() {
            "Role" | "ClusterRole" => inv.roles.push(resource(
                doc,
                line,
                RoleSpec {
                    rules: field::<Vec<PolicyRule>>(doc, "rules"),
                    aggregation_rule: doc
                        .get("aggregationRule")
                        .map(|a| serde_json::from_value::<AggregationRule>(a.clone()).unwrap()),
                },
            )),
            "RoleBinding" | "ClusterRoleBinding" => inv.role_bindings.push(resource(
                doc,
                line,
                RoleBindingSpec {
                    role_ref: field::<RoleRef>(doc, "roleRef"),
                    subjects: field::<Vec<Subject>>(doc, "subjects"),
                },
            )),
            "ServiceAccount" => inv.service_accounts.push(resource(
                doc,
                line,
                ServiceAccountSpec {
                    automount_token: doc
                        .get("automountServiceAccountToken")
                        .and_then(Value::as_bool),
                    image_pull_secrets: Vec::new(),
                },
            )),
            "Service" => inv
                .services
                .push(resource(doc, line, field::<ServiceSpec>(doc, "spec"))),
            "Ingress" => inv
                .ingresses
                .push(resource(doc, line, field::<IngressSpec>(doc, "spec"))),
            other => {
                let wk = WorkloadKind::from_kind(other).expect("fixture kind");
                let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
                let (pod_meta, pod): (ObjectMeta, PodSpec) = if wk == WorkloadKind::Pod {
                    (
                        field(doc, "metadata"),
                        serde_json::from_value(spec).unwrap(),
                    )
                } else {
                    let spec = if wk == WorkloadKind::CronJob {
                        spec["jobTemplate"]["spec"].clone()
                    } else {
                        spec
                    };
                    let t: PodTemplateSpec = field(&spec, "template");
                    (t.metadata, t.spec)
                };
                let spec = WorkloadSpec {
                    kind: wk,
                    pod_meta,
                    pod,
                    selector: None,
                    replicas: None,
                    controller: Default::default(),
                };
                inv.workloads.push(resource(doc, line, spec));
            }
        }
    }
    inv.finalize();
    inv
}
