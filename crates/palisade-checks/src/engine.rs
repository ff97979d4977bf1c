//! Running the catalog over an inventory: evaluation, exceptions, ordering.

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_model::{Finding, Inventory, Severity};
use palisade_runtime::policy::RuntimePolicy;
use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::{Catalog, CheckDef};
use crate::context::Ctx;
use crate::custom::CustomCheck;
use crate::exceptions::{Exception, ExceptionStatus};
use crate::images::ImagePolicy;
use crate::templates::{self, Hits};

/// How the engine applies the catalog.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Honour `palisade.dev/ignore` annotations on objects (teams may forbid self-service
    /// exemptions by turning this off).
    pub annotation_exceptions: bool,
    /// Scoped exceptions from configuration.
    pub exceptions: Vec<Exception>,
    /// Today's date for exception expiry; the caller supplies it because the engine reads no
    /// clock. `None`: expiry dates are not enforced.
    pub today: Option<palisade_model::time::Date>,
    /// Run only these checks (IDs or names); empty = all.
    pub only: Vec<String>,
    /// Never run these checks (IDs or names).
    pub skip: Vec<String>,
    /// Severity overrides by check ID or name.
    pub severity_overrides: BTreeMap<String, Severity>,
    /// Custom checks (CEL from configuration).
    pub custom: Vec<CustomCheck>,
    /// Image policy and image facts for the image checks.
    pub images: ImagePolicy,
    /// What the runtime agents learned (images that misbehaved, locked process allowlists),
    /// for the runtime checks; `None`: those checks find nothing.
    pub runtime: Option<Arc<RuntimePolicy>>,
    /// Template parameters replacing the catalog's, by check ID or name (palisade.yaml
    /// `checks.params`; validate them first with [`Catalog::set_params`]: an entry the
    /// template refuses is not applied).
    pub params: BTreeMap<String, serde_json::Value>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            annotation_exceptions: true,
            exceptions: Vec::new(),
            today: None,
            only: Vec::new(),
            skip: Vec::new(),
            severity_overrides: BTreeMap::new(),
            custom: Vec::new(),
            images: ImagePolicy::default(),
            runtime: None,
            params: BTreeMap::new(),
        }
    }
}

/// A finding that an exception suppressed, kept for audit.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// `annotation` or `config`.
    pub by: &'static str,
    /// The stated reason.
    pub reason: String,
}

/// What a scan produced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanOutcome {
    /// Findings, most severe first, then by object and check.
    pub findings: Vec<Finding>,
    /// Findings suppressed by exceptions.
    pub suppressed: Vec<Suppressed>,
    /// Configured exceptions that have expired (they suppressed nothing).
    pub expired_exceptions: Vec<Exception>,
    /// Number of checks run.
    pub checks_run: usize,
    /// Objects a custom check could not decide on (evaluation errors), as messages.
    pub undecided: Vec<String>,
}

/// The check engine: a catalog plus options.
#[derive(Debug, Clone)]
pub struct Engine {
    catalog: Catalog,
    options: EngineOptions,
}

impl Engine {
    /// An engine over `catalog`.
    pub fn new(mut catalog: Catalog, options: EngineOptions) -> Engine {
        for (id, params) in &options.params {
            let _ = catalog.set_params(id, params.clone());
        }
        Engine { catalog, options }
    }

    /// The built-in catalog with default options.
    pub fn builtin() -> Engine {
        Engine::new(Catalog::builtin(), EngineOptions::default())
    }

    /// The catalog in use.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Runs every enabled check over `inv`. Checks are independent, so they run in parallel;
    /// the result does not depend on scheduling (findings are sorted, the rest kept in catalog
    /// order).
    pub fn run(&self, inv: &Inventory) -> ScanOutcome {
        self.run_beside(inv, false, |_| ()).0
    }

    /// [`Engine::run`], with `beside` run on the same pool while the checks that do not read
    /// the NetworkPolicy analysis run. `beside` gets that analysis when the checks derive it
    /// or `network` asks for it, so that a caller that needs it too (the risk ranking's
    /// reachability) shares the one the checks use instead of deriving its own; it is freed
    /// when `beside` returns, before the checks' findings pile up.
    pub fn run_beside<R: Send>(
        &self,
        inv: &Inventory,
        network: bool,
        beside: impl FnOnce(Option<&palisade_netpol::Analysis<'_>>) -> R + Send,
    ) -> (ScanOutcome, R) {
        let mut ctx = Ctx::with_images(inv, &self.options.images);
        ctx.runtime = self.options.runtime.as_deref();
        let mut outcome = ScanOutcome::default();
        let today = self.options.today;
        let (active, expired): (Vec<&Exception>, Vec<&Exception>) = self
            .options
            .exceptions
            .iter()
            .partition(|e| e.status(today) == ExceptionStatus::Active);
        outcome.expired_exceptions = expired.into_iter().cloned().collect();

        let custom_defs: Vec<&CheckDef> = self.options.custom.iter().map(|c| &c.def).collect();
        let selected: Vec<&CheckDef> = self
            .catalog
            .checks()
            .iter()
            .chain(custom_defs)
            .filter(|check| {
                let listed =
                    |list: &[String]| list.iter().any(|s| s == &check.id || s == &check.name);
                (self.options.only.is_empty() || listed(&self.options.only))
                    && !listed(&self.options.skip)
            })
            .collect();
        outcome.checks_run = selected.len();
        // A handful of objects (an admission review) is faster on the calling thread than
        // spread over the pool.
        let reads_network = selected
            .iter()
            .any(|check| templates::uses_network_facts(&check.template));
        // The NetworkPolicy analysis, when the checks or `beside` read it, then `beside`; the
        // checks read the analysis as facts, set here so that `Ctx::netpol` does not derive
        // them again.
        let network_and_beside = || {
            let analysis = (reads_network || network).then(|| {
                let analysis = palisade_netpol::Analysis::new(inv);
                if reads_network {
                    let _ = ctx.netpol.set(analysis.facts());
                }
                analysis
            });
            beside(analysis.as_ref())
        };
        let (per_check, beside_result): (Vec<CheckResult>, R) =
            if inv.object_count() < PARALLEL_FROM_OBJECTS {
                let beside_result = network_and_beside();
                let per_check = selected
                    .iter()
                    .map(|check| self.run_check(check, &ctx, &active))
                    .collect();
                (per_check, beside_result)
            } else {
                // The NetworkPolicy analysis takes longer to derive than most checks take to
                // run: it is derived (and `beside` run) while the other checks run, and the
                // checks that read it run after, rather than holding a worker idle while they
                // wait.
                let (network_checks, other): (Vec<_>, Vec<_>) = selected
                    .iter()
                    .enumerate()
                    .partition(|(_, check)| templates::uses_network_facts(&check.template));
                // One task per check: checks differ in cost by a thousand times, and a run of
                // them left to one worker kept the other idle for seconds at the end.
                let run = |list: &[(usize, &&CheckDef)]| -> Vec<(usize, CheckResult)> {
                    list.par_iter()
                        .with_max_len(1)
                        .map(|(i, check)| (*i, self.run_check(check, &ctx, &active)))
                        .collect()
                };
                let (beside_result, mut results) = rayon::join(network_and_beside, || run(&other));
                results.extend(run(&network_checks));
                results.sort_by_key(|(i, _)| *i);
                (results.into_iter().map(|(_, r)| r).collect(), beside_result)
            };
        let total = per_check.iter().map(|r| r.findings.len()).sum();
        let mut findings = Vec::with_capacity(total);
        for r in per_check {
            findings.extend(r.findings);
            outcome.suppressed.extend(r.suppressed);
            outcome.undecided.extend(r.undecided);
        }
        outcome.findings = sorted(findings);
        (outcome, beside_result)
    }

    /// Runs one check: its hits become findings, or suppressed findings when an exception
    /// covers them.
    fn run_check(&self, check: &CheckDef, ctx: &Ctx<'_>, active: &[&Exception]) -> CheckResult {
        let mut result = CheckResult::default();
        // A configured override wins over the severity a template gives one hit (the runtime
        // image check's deny/warn), which wins over the catalog's.
        let overridden = self
            .options
            .severity_overrides
            .get(&check.id)
            .or_else(|| self.options.severity_overrides.get(&check.name))
            .copied();
        let severity = overridden.unwrap_or(check.severity);
        let overridden = overridden.is_some();
        let mut hits = Hits::new(ctx);
        if active.iter().all(|e| e.image.is_none()) {
            hits = hits.without_images();
        }
        match self.options.custom.iter().find(|c| c.def.id == check.id) {
            Some(custom) => run_custom(custom, ctx, &mut hits, &mut result.undecided),
            None => templates::run(check, ctx, &mut hits),
        }
        // Shared by every finding of this check.
        let id: Arc<str> = Arc::from(check.id.as_str());
        let title: Arc<str> = Arc::from(check.title.as_str());
        let remediation: Arc<str> = Arc::from(check.remediation.as_str());
        let hits = hits.into_inner();
        result.findings.reserve_exact(hits.len());
        for hit in hits {
            let finding = Finding {
                check_id: Arc::clone(&id),
                severity: if overridden {
                    severity
                } else {
                    hit.severity.unwrap_or(severity)
                },
                title: Arc::clone(&title),
                message: hit.message,
                remediation: Arc::clone(&remediation),
                object: hit.object,
                container: hit.container,
                path: hit.path,
            };
            if self.options.annotation_exceptions
                && let Some((ids, reason)) = &hit.ignore
                && ids
                    .iter()
                    .any(|i| i == "*" || i == &check.id || i == &check.name)
            {
                result.suppressed.push(Suppressed {
                    finding,
                    by: "annotation",
                    reason: reason.clone(),
                });
                continue;
            }
            if let Some(e) = active
                .iter()
                .find(|e| e.covers(&finding, &check.name, hit.image.as_deref()))
            {
                result.suppressed.push(Suppressed {
                    finding,
                    by: "config",
                    reason: e.reason.clone(),
                });
                continue;
            }
            result.findings.push(finding);
        }
        result
    }
}

/// Inventories with at least this many objects are checked in parallel.
const PARALLEL_FROM_OBJECTS: usize = 64;

/// What one check produced.
#[derive(Default)]
struct CheckResult {
    findings: Vec<Finding>,
    suppressed: Vec<Suppressed>,
    undecided: Vec<String>,
}

/// Findings in report order (see [`crate::order`]; equal findings keep their order). Indices
/// are sorted (in parallel, on compact keys) rather than the large finding values, which
/// are then moved into place once.
fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    let order = crate::order::report_order(&findings);
    crate::order::permute(&mut findings, order);
    findings
}

/// Evaluates a custom check on every object of the kinds it names.
fn run_custom(check: &CustomCheck, ctx: &Ctx<'_>, hits: &mut Hits, undecided: &mut Vec<String>) {
    for (object, meta, raw) in ctx.all_objects() {
        if !check.kinds.is_empty() && !check.kinds.contains(&object.kind) {
            continue;
        }
        match check.predicate.holds(raw) {
            Ok(true) => {}
            Ok(false) => hits.push_ref(object, Some(meta), None, check.message.clone()),
            Err(e) => undecided.push(format!(
                "{}: {object} ({}): {e}",
                check.def.id, object.source
            )),
        }
    }
}

/// Most severe first; then by file, line, check and container for a stable order (what
/// [`crate::order`] computes faster; the tests hold it to this definition).
#[cfg(test)]
fn compare(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.object.source.cmp(&b.object.source))
        .then_with(|| a.object.kind.cmp(&b.object.kind))
        .then_with(|| a.object.name.cmp(&b.object.name))
        .then_with(|| a.check_id.cmp(&b.check_id))
        .then_with(|| a.container.cmp(&b.container))
        .then_with(|| a.path.cmp(&b.path))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_model::{Finding, ObjectRef, Severity, SourceLocation};

    use super::{compare, sorted};

    /// Findings over shared and repeated objects and checks, in a scrambled order: distinct
    /// objects that compare equal, equal check IDs in distinct allocations, several
    /// containers and paths per object and check, duplicates.
    fn scrambled_findings() -> Vec<Finding> {
        let files: Vec<Arc<str>> = ["b.yaml", "a.yaml", "c/d.yaml"].map(Arc::from).to_vec();
        let mut objects = Vec::new();
        for (i, file) in files.iter().enumerate() {
            for line in [1u32, 40, 7] {
                for (kind, name) in [("Deployment", "web"), ("Service", "web"), ("Job", "a")] {
                    let object = ObjectRef {
                        api_version: "v1".into(),
                        kind: kind.into(),
                        namespace: Some(format!("ns{i}")),
                        name: name.into(),
                        source: SourceLocation {
                            file: Arc::clone(file),
                            line,
                            live: None,
                        },
                    };
                    // Two allocations of equal objects: ranked alike.
                    objects.push(Arc::new(object.clone()));
                    objects.push(Arc::new(object));
                }
            }
        }
        let checks: Vec<Arc<str>> = ["PAL-010", "PAL-002", "PAL-010", "PAL-100"]
            .map(Arc::from)
            .to_vec();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        (0..3_000)
            .map(|i| Finding {
                check_id: Arc::clone(&checks[next(checks.len())]),
                severity: Severity::ALL[next(Severity::ALL.len())],
                title: Arc::from("t"),
                message: format!("finding {i}"),
                remediation: Arc::from("r"),
                object: Arc::clone(&objects[next(objects.len())]),
                container: [None, Some("app"), Some("sidecar")][next(3)].map(Arc::from),
                path: [None, Some("spec"), Some("metadata")][next(3)].map(Arc::from),
            })
            .collect()
    }

    #[test]
    fn findings_are_sorted_as_compare_orders_them_equal_ones_in_input_order() {
        let findings = scrambled_findings();
        let mut expected = findings.clone();
        expected.sort_by(compare);
        let got = sorted(findings);
        // Messages are unique: the same findings in the same places, ties in input order.
        let messages = |v: &[Finding]| v.iter().map(|f| f.message.clone()).collect::<Vec<_>>();
        assert_eq!(messages(&got), messages(&expected));
    }
}
