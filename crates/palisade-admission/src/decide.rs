//! The decision: AdmissionRequest → object → inventory → the one check engine → modes,
//! exemptions and break-glass → AdmissionResponse. Pure: no I/O, no clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use palisade_checks::{Catalog, Engine, EngineOptions, ScanOutcome, cluster_context_checks};
use palisade_config::Config;
use palisade_config::admission::{AdmissionSection, Mode};
use palisade_model::time::Date;
use palisade_model::{Finding, Inventory, Labels, ObjectRef, RegistryFactsTable};
use palisade_runtime::policy::RuntimePolicy;
use serde::Serialize;
use serde_json::Value;

use crate::audit::{AuditRecord, Subject};
use crate::message;
use crate::review::{AdmissionRequest, AdmissionResponse, Operation, Status};

/// Source name given to admitted objects in the inventory.
const SOURCE: &str = "admission-request";

/// What the webhook decided, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Evaluated; nothing enforced or warned.
    Allowed,
    /// Allowed with warnings.
    Warned,
    /// Denied: at least one enforced violation.
    Denied,
    /// Allowed without evaluation: exempt namespace or labels.
    Exempt,
    /// Allowed despite enforced violations because of the break-glass annotation.
    BreakGlass,
    /// Allowed without evaluation: operation, subresource or deletion the webhook does not judge.
    NotEvaluated,
    /// Refused: the request lacks an object the webhook can read.
    Invalid,
}

impl Outcome {
    /// Every outcome, for metrics.
    pub const ALL: [Outcome; 7] = [
        Outcome::Allowed,
        Outcome::Warned,
        Outcome::Denied,
        Outcome::Exempt,
        Outcome::BreakGlass,
        Outcome::NotEvaluated,
        Outcome::Invalid,
    ];

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Warned => "warned",
            Outcome::Denied => "denied",
            Outcome::Exempt => "exempt",
            Outcome::BreakGlass => "break_glass",
            Outcome::NotEvaluated => "not_evaluated",
            Outcome::Invalid => "invalid",
        }
    }
}

/// Findings on the admitted object per mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModeCounts {
    /// Enforced violations.
    pub enforce: usize,
    /// Warned findings.
    pub warn: usize,
    /// Audited findings.
    pub audit: usize,
}

/// The decision on one request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The response to send.
    pub response: AdmissionResponse,
    /// What was decided.
    pub outcome: Outcome,
    /// Whether the request was a dry run (no side effects).
    pub dry_run: bool,
    /// Findings per mode.
    pub counts: ModeCounts,
    /// The audit record, for notable decisions.
    pub record: Option<AuditRecord>,
}

/// The break-glass state of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BreakGlass {
    Absent,
    /// Honoured, with the stated reason.
    Granted(String),
    /// Present but not honoured, and why.
    Refused(String),
}

/// A request that passed the pre-checks and whose object is in an inventory, ready for the
/// engine. Obtain with [`Admission::prepare`], finish with [`Admission::evaluate`].
#[derive(Debug)]
pub struct Evaluation {
    uid: String,
    operation: Operation,
    user: String,
    dry_run: bool,
    display: String,
    object: ObjectRef,
    other_kind: bool,
    break_glass: BreakGlass,
    inventory: Inventory,
    images: Vec<String>,
}

impl Evaluation {
    /// Image references of the admitted object's containers (for an image-facts source).
    pub fn images(&self) -> &[String] {
        &self.images
    }
}

/// The result of [`Admission::prepare`].
#[derive(Debug)]
pub enum Prepared {
    /// Decided without the engine (exempt, not evaluated, invalid).
    Done(Box<Decision>),
    /// The engine must run.
    Evaluate(Box<Evaluation>),
}

/// Why an admission policy could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

/// The admission policy: the engine (built once, object-local checks only) plus modes,
/// exemptions and break-glass from the `admission:` section.
#[derive(Debug, Clone)]
pub struct Admission {
    catalog: Catalog,
    options: EngineOptions,
    engine: Engine,
    policy: AdmissionSection,
    exempt_namespaces: GlobSet,
    check_names: HashMap<String, String>,
}

impl Admission {
    /// Builds the policy from a validated configuration, exactly as `palisade scan` builds its
    /// engine, minus the checks that need cluster context (see
    /// [`palisade_checks::needs_cluster_context`]). `today` enforces exception expiry.
    pub fn new(
        config: &Config,
        catalog: Catalog,
        today: Option<Date>,
    ) -> Result<Admission, PolicyError> {
        let mut options = config.engine_options(today);
        options.skip.extend(cluster_context_checks(&catalog));
        let mut globs = GlobSetBuilder::new();
        for (i, ns) in config.admission.exempt_namespaces.iter().enumerate() {
            let glob = Glob::new(ns).map_err(|e| {
                PolicyError(format!("admission.exempt_namespaces[{i}]: {ns:?}: {e}"))
            })?;
            globs.add(glob);
        }
        let exempt_namespaces = globs
            .build()
            .map_err(|e| PolicyError(format!("admission.exempt_namespaces: {e}")))?;
        if let Some(sel) = &config.admission.exempt_labels {
            sel.validate()
                .map_err(|e| PolicyError(format!("admission.exempt_labels: {e}")))?;
        }
        let check_names = catalog
            .checks()
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .chain(
                options
                    .custom
                    .iter()
                    .map(|c| (c.def.id.clone(), c.def.name.clone())),
            )
            .collect();
        let engine = Engine::new(catalog.clone(), options.clone());
        Ok(Admission {
            catalog,
            options,
            engine,
            policy: config.admission.clone(),
            exempt_namespaces,
            check_names,
        })
    }

    /// The same policy with what the runtime agents observed (the runtime checks, PAL-097 and
    /// PAL-098, then decide; their findings take the mode of their severity or check, so a
    /// `deny` image is enforced and a `warn` image warned under the default modes).
    pub fn with_runtime_policy(mut self, policy: Option<Arc<RuntimePolicy>>) -> Admission {
        self.options.runtime = policy;
        self.engine = Engine::new(self.catalog.clone(), self.options.clone());
        self
    }

    /// The default policy (no configuration): high and critical enforced, medium and low
    /// warned, info audited.
    pub fn builtin() -> Admission {
        Admission::new(&Config::default(), Catalog::builtin(), None)
            .expect("the default configuration is valid")
    }

    /// IDs of the checks this policy runs on admitted objects.
    pub fn active_checks(&self) -> Vec<&str> {
        let selected =
            |list: &[String], id: &str, name: &str| list.iter().any(|s| s == id || s == name);
        self.catalog
            .checks()
            .iter()
            .map(|c| (&c.id, &c.name))
            .chain(self.options.custom.iter().map(|c| (&c.def.id, &c.def.name)))
            .filter(|(id, name)| {
                (self.options.only.is_empty() || selected(&self.options.only, id, name))
                    && !selected(&self.options.skip, id, name)
            })
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// Decides a request without image facts.
    pub fn decide(&self, request: AdmissionRequest) -> Decision {
        match self.prepare(request) {
            Prepared::Done(d) => *d,
            Prepared::Evaluate(e) => self.evaluate(*e, None),
        }
    }

    /// Pre-checks a request (operation, subresource, exemptions, deletion) and reads its object
    /// into an inventory.
    pub fn prepare(&self, mut req: AdmissionRequest) -> Prepared {
        let dry_run = req.is_dry_run();
        let done = |req: &AdmissionRequest, outcome: Outcome, reason: String| {
            Prepared::Done(Box::new(Decision {
                response: AdmissionResponse {
                    uid: req.uid.clone(),
                    allowed: true,
                    status: None,
                    warnings: Vec::new(),
                    audit_annotations: BTreeMap::from([
                        ("decision".to_string(), outcome.as_str().to_string()),
                        ("reason".to_string(), message::truncate(&reason, 256)),
                    ]),
                },
                outcome,
                dry_run,
                counts: ModeCounts::default(),
                record: None,
            }))
        };
        if !matches!(req.operation, Operation::Create | Operation::Update) {
            return done(
                &req,
                Outcome::NotEvaluated,
                format!("operation {} is not evaluated", req.operation.as_str()),
            );
        }
        // Ephemeral containers arrive as an update of the Pod's subresource: judge the Pod.
        if let Some(sub) = req.sub_resource.as_deref().filter(|s| !s.is_empty())
            && sub != "ephemeralcontainers"
        {
            return done(
                &req,
                Outcome::NotEvaluated,
                format!("subresource {sub} is not evaluated"),
            );
        }
        let Some(mut object) = req.object.take() else {
            return self.invalid(
                &req,
                format!(
                    "request.object is missing for {} (nothing to evaluate)",
                    req.operation.as_str()
                ),
            );
        };
        let Some(map) = object.as_object_mut() else {
            return self.invalid(&req, "request.object is not a JSON object".into());
        };
        fill_identity(map, &req);
        let meta = map.get("metadata");
        let namespace = req
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| str_at(meta, "namespace").map(str::to_string));
        if let Some(ns) = &namespace
            && self.exempt_namespaces.is_match(ns)
        {
            return done(&req, Outcome::Exempt, format!("namespace {ns} is exempt"));
        }
        if let Some(selector) = &self.policy.exempt_labels {
            let labels = string_map(meta.and_then(|m| m.get("labels")));
            // The selector was validated when the policy was built.
            if selector.matches(&labels).unwrap_or(false) {
                return done(
                    &req,
                    Outcome::Exempt,
                    "object labels match admission.exempt_labels".into(),
                );
            }
        }
        if str_at(meta, "deletionTimestamp").is_some() {
            return done(
                &req,
                Outcome::NotEvaluated,
                "object is being deleted (finalizer updates are not judged)".into(),
            );
        }
        let break_glass = self.break_glass(meta, &req);
        let ingested = palisade_ingest::ingest_value(SOURCE, object);
        if let Some(d) = ingested
            .diagnostics
            .iter()
            .find(|d| d.level == palisade_model::DiagnosticLevel::Error)
        {
            return self.invalid(
                &req,
                format!("palisade could not read the object: {}", d.message),
            );
        }
        let Some((object_ref, other_kind)) = admitted_object(&ingested.inventory) else {
            return self.invalid(&req, "request.object holds no Kubernetes object".into());
        };
        let images = ingested
            .inventory
            .workloads
            .iter()
            .flat_map(|w| w.spec.pod.all_containers())
            .filter_map(|(_, c)| c.image.clone())
            .collect();
        let display = match &object_ref.namespace {
            Some(ns) => format!("{} {ns}/{}", object_ref.kind, object_ref.name),
            None => format!("{} {}", object_ref.kind, object_ref.name),
        };
        Prepared::Evaluate(Box::new(Evaluation {
            uid: req.uid,
            operation: req.operation,
            user: req.user_info.username,
            dry_run,
            display,
            object: object_ref,
            other_kind,
            break_glass,
            inventory: ingested.inventory,
            images,
        }))
    }

    /// Runs the engine on a prepared request (with image facts, when a source supplied any)
    /// and turns the findings on the admitted object into a decision.
    pub fn evaluate(&self, ev: Evaluation, facts: Option<Arc<RegistryFactsTable>>) -> Decision {
        let outcome = match facts.filter(|f| !f.is_empty()) {
            Some(facts) => {
                let mut options = self.options.clone();
                options.images.facts = facts;
                Engine::new(self.catalog.clone(), options).run(&ev.inventory)
            }
            None => self.engine.run(&ev.inventory),
        };
        self.judge(ev, &outcome)
    }

    fn judge(&self, ev: Evaluation, outcome: &ScanOutcome) -> Decision {
        let on_object = |f: &&Finding| same_object(&f.object, &ev.object);
        let mut enforce = Vec::new();
        let mut warn = Vec::new();
        let mut audit = Vec::new();
        for f in outcome.findings.iter().filter(on_object) {
            let name = self
                .check_names
                .get(&*f.check_id)
                .map(String::as_str)
                .unwrap_or("");
            match self.policy.mode_for(&f.check_id, name, f.severity) {
                Mode::Enforce => enforce.push(f),
                Mode::Warn => warn.push(f),
                Mode::Audit => audit.push(f),
            }
        }
        let suppressed: Vec<String> = outcome
            .suppressed
            .iter()
            .filter(|s| same_object(&s.finding.object, &ev.object))
            .map(|s| format!("{}:{}", s.finding.check_id, s.by))
            .collect();
        let counts = ModeCounts {
            enforce: enforce.len(),
            warn: warn.len(),
            audit: audit.len(),
        };

        let mut warnings = Vec::new();
        let mut annotations = BTreeMap::new();
        let mut status = None;
        let mut granted = None;
        let result = if enforce.is_empty() {
            if !warn.is_empty() {
                Outcome::Warned
            } else {
                Outcome::Allowed
            }
        } else {
            match &ev.break_glass {
                BreakGlass::Granted(reason) => {
                    warnings.push(message::truncate(
                        &format!(
                            "break-glass ({}): admitted despite {} enforced violation{}; this is recorded (reason: {reason})",
                            self.policy.break_glass_annotation,
                            enforce.len(),
                            if enforce.len() == 1 { "" } else { "s" }
                        ),
                        message::MAX_WARNING_BYTES,
                    ));
                    message::warnings("[break-glass] ", &enforce, &mut warnings);
                    annotations.insert(
                        "break-glass".to_string(),
                        message::truncate(reason, message::MAX_ANNOTATION_BYTES),
                    );
                    granted = Some(reason.clone());
                    Outcome::BreakGlass
                }
                other => {
                    let mut text = message::denial_message(&ev.display, &enforce);
                    if let BreakGlass::Refused(why) = other {
                        text.push_str(&message::truncate(
                            &format!("\n(break-glass not honoured: {why})"),
                            256,
                        ));
                    }
                    status = Some(Status {
                        status: "Failure",
                        message: text,
                        reason: "Forbidden",
                        code: 403,
                    });
                    Outcome::Denied
                }
            }
        };
        if let BreakGlass::Refused(why) = &ev.break_glass
            && enforce.is_empty()
        {
            warnings.push(message::truncate(
                &format!("break-glass annotation ignored: {why}"),
                message::MAX_WARNING_BYTES,
            ));
        }
        message::warnings("", &warn, &mut warnings);
        for u in &outcome.undecided {
            if warnings.len() < message::MAX_WARNINGS {
                warnings.push(message::truncate(
                    &format!("custom check could not decide: {u}"),
                    message::MAX_WARNING_BYTES,
                ));
            }
        }

        annotations.insert("decision".into(), result.as_str().into());
        let ids = |list: &[&Finding]| message::id_list(list.iter().map(|f| &*f.check_id));
        for (key, list) in [
            ("enforced", &enforce),
            ("warned", &warn),
            ("audited", &audit),
        ] {
            if !list.is_empty() {
                annotations.insert(key.into(), ids(list));
            }
        }
        if !suppressed.is_empty() {
            annotations.insert(
                "suppressed".into(),
                message::id_list(suppressed.iter().map(String::as_str)),
            );
        }
        if !outcome.undecided.is_empty() {
            annotations.insert(
                "undecided".into(),
                message::truncate(&outcome.undecided.join("; "), message::MAX_ANNOTATION_BYTES),
            );
        }
        if ev.other_kind {
            annotations.insert(
                "evaluated".into(),
                message::truncate(
                    &format!(
                        "kind {} ({}) is not modelled: only API-version and custom checks apply",
                        ev.object.kind, ev.object.api_version
                    ),
                    256,
                ),
            );
        }

        let notable = matches!(result, Outcome::Denied | Outcome::BreakGlass) || !audit.is_empty();
        let record = notable.then(|| {
            AuditRecord::new(
                Subject {
                    uid: &ev.uid,
                    operation: ev.operation.as_str(),
                    object: &ev.display,
                    user: &ev.user,
                    dry_run: ev.dry_run,
                },
                result,
            )
            .with_break_glass(granted)
            .with_findings(&enforce, &warn, &audit, &suppressed)
        });
        Decision {
            response: AdmissionResponse {
                uid: ev.uid,
                allowed: status.is_none(),
                status,
                warnings,
                audit_annotations: annotations,
            },
            outcome: result,
            dry_run: ev.dry_run,
            counts,
            record,
        }
    }

    fn invalid(&self, req: &AdmissionRequest, error: String) -> Prepared {
        let error = message::truncate(&error, message::MAX_MESSAGE_BYTES);
        let object = format!(
            "{} {}/{}",
            req.kind.kind,
            req.namespace.as_deref().unwrap_or(""),
            req.name.as_deref().unwrap_or("")
        );
        Prepared::Done(Box::new(Decision {
            response: AdmissionResponse {
                uid: req.uid.clone(),
                allowed: false,
                status: Some(Status {
                    status: "Failure",
                    message: error.clone(),
                    reason: "BadRequest",
                    code: 400,
                }),
                warnings: Vec::new(),
                audit_annotations: BTreeMap::from([(
                    "decision".to_string(),
                    Outcome::Invalid.as_str().to_string(),
                )]),
            },
            outcome: Outcome::Invalid,
            dry_run: req.is_dry_run(),
            counts: ModeCounts::default(),
            record: Some(
                AuditRecord::new(
                    Subject {
                        uid: &req.uid,
                        operation: req.operation.as_str(),
                        object: &object,
                        user: &req.user_info.username,
                        dry_run: req.is_dry_run(),
                    },
                    Outcome::Invalid,
                )
                .with_error(&error),
            ),
        }))
    }

    fn break_glass(&self, meta: Option<&Value>, req: &AdmissionRequest) -> BreakGlass {
        let key = self.policy.break_glass_annotation.as_str();
        let Some(value) = meta
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(key))
        else {
            return BreakGlass::Absent;
        };
        let reason = value.as_str().unwrap_or("").trim();
        if !self.policy.allow_break_glass {
            return BreakGlass::Refused("break-glass is disabled by policy".into());
        }
        if reason.is_empty() {
            return BreakGlass::Refused(format!(
                "annotation {key} must state a reason as its value"
            ));
        }
        if !self.policy.break_glass_groups.is_empty()
            && !req
                .user_info
                .groups
                .iter()
                .any(|g| self.policy.break_glass_groups.contains(g))
        {
            return BreakGlass::Refused(format!(
                "user {:?} is in none of the break-glass groups",
                req.user_info.username
            ));
        }
        BreakGlass::Granted(reason.to_string())
    }
}

/// Gives the object the identity the request states when the object omits it: `apiVersion`
/// and `kind` from `request.kind`, `metadata.namespace` and `metadata.name` from the request.
fn fill_identity(map: &mut serde_json::Map<String, Value>, req: &AdmissionRequest) {
    if map
        .get("kind")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && !req.kind.kind.is_empty()
    {
        map.insert("kind".into(), Value::String(req.kind.kind.clone()));
    }
    if map
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && !req.kind.version.is_empty()
    {
        map.insert("apiVersion".into(), Value::String(req.kind.api_version()));
    }
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(meta) = meta.as_object_mut() {
        for (field, value) in [("namespace", &req.namespace), ("name", &req.name)] {
            if let Some(v) = value.as_ref().filter(|v| !v.is_empty())
                && meta
                    .get(field)
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                meta.insert(field.into(), Value::String(v.clone()));
            }
        }
    }
}

fn str_at<'a>(meta: Option<&'a Value>, field: &str) -> Option<&'a str> {
    meta.and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn string_map(v: Option<&Value>) -> Labels {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The one object an admission inventory holds (implicit namespaces aside), and whether it is
/// of a kind without built-in checks.
fn admitted_object(inv: &Inventory) -> Option<(ObjectRef, bool)> {
    let declared_namespace = inv
        .namespaces
        .iter()
        .find(|n| !n.spec.implicit)
        .map(|n| n.object_ref());
    inv.workloads
        .first()
        .map(|o| o.object_ref())
        .or_else(|| inv.services.first().map(|o| o.object_ref()))
        .or_else(|| inv.ingresses.first().map(|o| o.object_ref()))
        .or_else(|| inv.network_policies.first().map(|o| o.object_ref()))
        .or_else(|| inv.service_accounts.first().map(|o| o.object_ref()))
        .or_else(|| inv.roles.first().map(|o| o.object_ref()))
        .or_else(|| inv.role_bindings.first().map(|o| o.object_ref()))
        .or_else(|| inv.secrets.first().map(|o| o.object_ref()))
        .or_else(|| inv.config_maps.first().map(|o| o.object_ref()))
        .or(declared_namespace)
        .map(|r| (r, false))
        .or_else(|| inv.others.first().map(|o| (o.object_ref(), true)))
}

fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind == b.kind && a.name == b.name && a.namespace == b.namespace
}
