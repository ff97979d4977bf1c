//! Turning one parsed object (a JSON value) into a typed inventory entry.

use std::sync::Arc;

use palisade_model::api::{
    AggregationRule, ControllerFields, IngressSpec, LocalObjectReference, NetworkPolicySpec,
    PodSpec, PodTemplateSpec, PolicyRule, RoleRef, ServiceSpec, Subject, nullable,
};
use palisade_model::inventory::{
    ConfigMapSpec, NamespaceSpec, Resource, RoleBindingSpec, RoleSpec, SecretSpec,
    ServiceAccountSpec, WorkloadSpec,
};
use palisade_model::{Inventory, LabelSelector, ObjectMeta, SourceLocation, WorkloadKind};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::documents::Document;
use crate::parse::{self, Item, Segment};
use crate::redact::{scrub_secret, scrub_serde_message};
use crate::{Diagnostic, DiagnosticLevel, Limits};

/// A field that could not be read, with its path from the object root.
struct FieldError {
    path: Vec<Segment>,
    message: String,
}

fn path_string(path: &[Segment]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Deserializes the value at `prefix` inside `root` (absent → default), reporting the full
/// field path of any error.
fn typed_at<T: DeserializeOwned + Default>(root: &Value, prefix: &[&str]) -> Result<T, FieldError> {
    let mut v = root;
    for key in prefix {
        match v.get(key) {
            Some(next) if !next.is_null() => v = next,
            _ => return Ok(T::default()),
        }
    }
    // Fast path: well-formed objects (nearly all) deserialize without tracking the path, which
    // costs an allocation per field; only a failure is replayed to learn where it happened.
    if let Ok(typed) = T::deserialize(v) {
        return Ok(typed);
    }
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
        let mut path: Vec<Segment> = prefix.iter().map(|k| Segment::Key(k.to_string())).collect();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => path.push(Segment::Index(*index)),
                serde_path_to_error::Segment::Map { key } => path.push(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Enum { variant } => {
                    path.push(Segment::Key(variant.clone()))
                }
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        FieldError {
            path,
            message: scrub_serde_message(&e.into_inner().to_string()),
        }
    })
}

/// Adds one object, read from `source` (a file's line or a live object), to the inventory, or a
/// diagnostic explaining why it could not be.
pub(crate) fn add_object(
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
    file: &Arc<str>,
    doc: &Document<'_>,
    item: Item,
    limits: &Limits,
    source: SourceLocation,
) {
    let error = |line: u32, column: u32, message: String| {
        Diagnostic::input(DiagnosticLevel::Error, file.clone(), line, column, message)
    };
    let mut value = item.value;
    match &value {
        Value::Null => return,
        Value::Object(_) => {}
        other => {
            diags.push(error(
                item.line,
                0,
                format!(
                    "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                    json_type(other)
                ),
            ));
            return;
        }
    }
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if kind.is_empty() && api_version.is_empty() {
        // Configuration files that share the .yaml extension (CI pipelines, compose files,
        // tool settings): not an input error, but never dropped without a word.
        diags.push(Diagnostic::input(
            DiagnosticLevel::Info,
            file.clone(),
            item.line,
            0,
            "not a Kubernetes object (no apiVersion or kind); skipped",
        ));
        return;
    }
    if kind.is_empty() || api_version.is_empty() {
        let missing = if kind.is_empty() {
            "kind"
        } else {
            "apiVersion"
        };
        diags.push(error(
            item.line,
            0,
            format!("object has no {missing}: not a Kubernetes manifest"),
        ));
        return;
    }
    if kind == "Secret" {
        scrub_secret(&mut value);
    }
    let raw = Arc::new(value);
    let workloads_before = inv.workloads.len();
    let result = build(inv, &kind, &api_version, &raw, source, limits.keep_raw);
    if inv.workloads.len() > workloads_before
        && inv.workloads[workloads_before].spec.kind == WorkloadKind::PodTemplate
    {
        diags.push(Diagnostic::input(
            DiagnosticLevel::Info,
            file.clone(),
            item.line,
            0,
            format!(
                "{kind} ({api_version}) is not a kind Palisade knows; its spec.template is a pod template, so it is analysed as a workload"
            ),
        ));
    }
    let value = &*raw;
    if let Err(e) = result {
        let mut full_path = Vec::new();
        if let Some(i) = item.list_index {
            full_path.push(Segment::Key("items".into()));
            full_path.push(Segment::Index(i));
        }
        full_path.extend(e.path.iter().cloned());
        let (line, column) = if doc.json {
            (item.line, 0)
        } else {
            parse::locate(doc, &full_path, limits).unwrap_or((item.line, 0))
        };
        let name = value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        diags.push(error(
            line,
            column,
            format!(
                "{kind} {name}: field {}: {}",
                path_string(&e.path),
                e.message
            ),
        ));
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

fn build(
    inv: &mut Inventory,
    kind: &str,
    api_version: &str,
    raw: &Arc<Value>,
    source: SourceLocation,
    keep_raw: bool,
) -> Result<(), FieldError> {
    let value: &Value = raw;
    let meta: ObjectMeta = typed_at(value, &["metadata"])?;
    let header = Header {
        api_version,
        kind,
        meta: &meta,
        source: &source,
        raw,
        keep_raw,
    };
    let workload_kind = WorkloadKind::from_type(api_version, kind)
        .or_else(|| WorkloadKind::from_custom_type(api_version, kind));
    if let Some(wk) = workload_kind {
        let spec = workload_spec(wk, value, &meta)?;
        inv.workloads.push(header.make(spec));
        return Ok(());
    }
    // Built-in kinds are read as such only in their own API group: a Calico `NetworkPolicy`
    // (projectcalico.org) or a CRD named `Service` has other semantics.
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = match (group, kind) {
        ("", "Namespace" | "Service" | "ServiceAccount" | "Secret" | "ConfigMap")
        | ("networking.k8s.io" | "extensions", "Ingress")
        | ("networking.k8s.io" | "extensions", "NetworkPolicy")
        | (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => kind,
        _ if has_pod_template(value) => {
            let spec = workload_spec(WorkloadKind::PodTemplate, value, &meta)?;
            inv.workloads.push(header.make(spec));
            return Ok(());
        }
        _ => "",
    };
    match kind {
        "Namespace" => inv
            .namespaces
            .push(header.make(NamespaceSpec { implicit: false })),
        "Service" => {
            let spec: ServiceSpec = typed_at(value, &["spec"])?;
            inv.services.push(header.make(spec));
        }
        "Ingress" => {
            let spec: IngressSpec = typed_at(value, &["spec"])?;
            inv.ingresses.push(header.make(spec));
        }
        "NetworkPolicy" => {
            let spec: NetworkPolicySpec = typed_at(value, &["spec"])?;
            inv.network_policies.push(header.make(spec));
        }
        "Role" | "ClusterRole" => {
            let rules: Vec<PolicyRule> = typed_at(value, &["rules"])?;
            let aggregation_rule: Option<AggregationRule> = typed_at(value, &["aggregationRule"])?;
            inv.roles.push(header.make(RoleSpec {
                rules,
                aggregation_rule,
            }));
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let role_ref: RoleRef = typed_at(value, &["roleRef"])?;
            let subjects: Vec<Subject> = typed_at(value, &["subjects"])?;
            inv.role_bindings
                .push(header.make(RoleBindingSpec { role_ref, subjects }));
        }
        "ServiceAccount" => {
            #[derive(Deserialize, Default)]
            #[serde(rename_all = "camelCase", default)]
            struct Sa {
                automount_service_account_token: Option<bool>,
                #[serde(deserialize_with = "nullable")]
                image_pull_secrets: Vec<LocalObjectReference>,
            }
            let sa: Sa = typed_at(value, &[])?;
            inv.service_accounts.push(header.make(ServiceAccountSpec {
                automount_token: sa.automount_service_account_token,
                image_pull_secrets: sa.image_pull_secrets,
            }));
        }
        "Secret" => {
            let type_ = value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("Opaque")
                .to_string();
            let keys = keys_of(value, &["data", "stringData"]);
            inv.secrets.push(header.make(SecretSpec { type_, keys }));
        }
        "ConfigMap" => {
            let keys = keys_of(value, &["data", "binaryData"]);
            let credential_values = value
                .get("data")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    let kind = palisade_model::secrets::credential_value_kind(v.as_str()?)?;
                    Some((k.clone(), kind.to_string()))
                })
                .collect();
            inv.config_maps.push(header.make(ConfigMapSpec {
                keys,
                credential_values,
            }));
        }
        // Analyses of other kinds read their raw fields (LimitRange, HPA, CRDs): always kept.
        _ => inv.others.push(
            Header {
                keep_raw: true,
                ..header
            }
            .make(()),
        ),
    }
    Ok(())
}

/// The identity shared by every typed entry built from one object.
struct Header<'a> {
    api_version: &'a str,
    kind: &'a str,
    meta: &'a ObjectMeta,
    source: &'a SourceLocation,
    raw: &'a Arc<Value>,
    /// Whether the entry keeps the raw object (else `Value::Null`, see [`crate::Limits::keep_raw`]).
    keep_raw: bool,
}

impl Header<'_> {
    fn make<S>(&self, spec: S) -> Resource<S> {
        Resource {
            api_version: self.api_version.to_string(),
            kind: self.kind.to_string(),
            meta: self.meta.clone(),
            source: self.source.clone(),
            spec,
            raw: if self.keep_raw {
                self.raw.clone()
            } else {
                Arc::new(Value::Null)
            },
        }
    }
}

/// Whether `spec.template` of an object is a pod template (has a `spec.containers` list).
fn has_pod_template(value: &Value) -> bool {
    value
        .pointer("/spec/template/spec/containers")
        .is_some_and(Value::is_array)
}

fn keys_of(value: &Value, fields: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = fields
        .iter()
        .filter_map(|f| value.get(f).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ControllerSpec {
    template: Option<PodTemplateSpec>,
    selector: Option<Value>,
    replicas: Option<i64>,
    /// Deployment's; read leniently into [`ControllerFields`].
    strategy: Option<Value>,
    /// StatefulSet's and DaemonSet's; read leniently into [`ControllerFields`].
    update_strategy: Option<Value>,
    /// Job's (CronJob: its job template's); read leniently.
    ttl_seconds_after_finished: Option<Value>,
}

impl ControllerSpec {
    /// The controller-level fields the checks read. They were never validated at ingestion, so
    /// a value of the wrong shape is left out rather than reported.
    fn fields(&self) -> ControllerFields {
        let strategy = self
            .strategy
            .as_ref()
            .or(self.update_strategy.as_ref())
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        ControllerFields {
            strategy,
            ttl_seconds_after_finished: self
                .ttl_seconds_after_finished
                .as_ref()
                .and_then(Value::as_i64),
        }
    }
}

fn workload_spec(
    kind: WorkloadKind,
    value: &Value,
    meta: &ObjectMeta,
) -> Result<WorkloadSpec, FieldError> {
    if kind == WorkloadKind::Pod {
        let pod: PodSpec = typed_at(value, &["spec"])?;
        return Ok(WorkloadSpec {
            kind,
            pod_meta: meta.clone(),
            pod,
            selector: None,
            replicas: None,
            controller: ControllerFields::default(),
        });
    }
    let prefix: &[&str] = if kind == WorkloadKind::CronJob {
        &["spec", "jobTemplate", "spec"]
    } else {
        &["spec"]
    };
    let spec: ControllerSpec = typed_at(value, prefix)?;
    let controller = spec.fields();
    let template = spec.template.ok_or_else(|| FieldError {
        path: prefix
            .iter()
            .map(|k| Segment::Key(k.to_string()))
            .chain([Segment::Key("template".into())])
            .collect(),
        message: "missing pod template (required for this kind)".into(),
    })?;
    let selector = match spec.selector {
        None | Some(Value::Null) => None,
        Some(v) if kind == WorkloadKind::PodTemplate => {
            serde_json::from_value(v.clone()).ok().or_else(|| {
                serde_json::from_value(v)
                    .ok()
                    .map(LabelSelector::from_labels)
            })
        }
        Some(_) if kind == WorkloadKind::KnativeService => None,
        Some(v)
            if matches!(
                kind,
                WorkloadKind::ReplicationController | WorkloadKind::DeploymentConfig
            ) =>
        {
            // A ReplicationController's or DeploymentConfig's selector is a plain label map.
            let labels = serde_json::from_value(v).map_err(|e| FieldError {
                path: vec![Segment::Key("spec".into()), Segment::Key("selector".into())],
                message: scrub_serde_message(&e.to_string()),
            })?;
            Some(LabelSelector::from_labels(labels))
        }
        Some(v) => Some(serde_json::from_value(v).map_err(|e| {
            FieldError {
                path: prefix
                    .iter()
                    .map(|k| Segment::Key(k.to_string()))
                    .chain([Segment::Key("selector".into())])
                    .collect(),
                message: scrub_serde_message(&e.to_string()),
            }
        })?),
    };
    Ok(WorkloadSpec {
        kind,
        pod_meta: template.metadata,
        pod: template.spec,
        selector,
        replicas: spec.replicas,
        controller,
    })
}
