//! The entry point: one inventory (and what the edge learned about its images) in, one typed
//! [`Analysis`] out.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use palisade_checks::{Catalog, Engine, EngineOptions, Exception, Suppressed};
use palisade_model::{
    Diagnostic, DiagnosticLevel, Finding, Inventory, RegistryFactsTable, Severity,
};
use palisade_risk::{RiskContext, TopRisk, WorkloadRisk};
use palisade_runtime::policy::RuntimePolicy;

use crate::risk_inputs::RiskInputs;

/// What one analysis reads: the inventory and what the edges gathered for it.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The objects to analyse.
    pub inventory: &'a Inventory,
    /// Problems met while reading them (ingest); errors make [`Analysis::input_errors`] true.
    pub diagnostics: &'a [Diagnostic],
    /// Registry facts of the inventory's images (digest, signature, vulnerabilities), gathered
    /// at the edge; the image checks read them. `None`: registry access was off.
    pub image_facts: Option<&'a Arc<RegistryFactsTable>>,
    /// What the runtime agents observed (images that misbehaved, locked process allowlists),
    /// from a file or central; the runtime checks read it. `None`: no runtime policy given.
    pub runtime_policy: Option<&'a Arc<RuntimePolicy>>,
}

/// How to analyse: the checks and their options, which findings to keep, whether to rank.
#[derive(Debug, Clone)]
pub struct Options {
    /// The built-in checks (custom checks come with `engine.custom`).
    pub catalog: Catalog,
    /// Check selection, severities, exceptions and their date, custom checks, image policy.
    /// Image facts come from [`Inputs::image_facts`] instead of `engine.images.facts`, the
    /// runtime policy from [`Inputs::runtime_policy`] when it is given.
    pub engine: EngineOptions,
    /// Which findings to keep (before the ranking reads them).
    pub filters: Filters,
    /// Rank workloads by risk; `None`: no ranking (nor its RBAC and network analyses).
    pub risk: Option<RiskOptions>,
}

impl Options {
    /// The built-in catalog with default options, no filter, no ranking.
    pub fn builtin() -> Options {
        Options {
            catalog: Catalog::builtin(),
            engine: EngineOptions::default(),
            filters: Filters::default(),
            risk: None,
        }
    }
}

/// Which findings an analysis keeps.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Keep only findings of this severity or higher.
    pub min_severity: Option<Severity>,
    /// Drop findings whose fingerprint is in this set (an earlier report's findings).
    pub baseline: Option<HashSet<String>>,
}

impl Filters {
    /// Whether `finding` passes.
    pub fn keeps(&self, finding: &Finding) -> bool {
        self.min_severity.is_none_or(|min| finding.severity >= min)
            && self
                .baseline
                .as_ref()
                .is_none_or(|known| !known.contains(&finding.fingerprint()))
    }
}

/// How to rank workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskOptions {
    /// How many of the riskiest workloads [`Analysis::top_risks`] summarises (0: none).
    pub top: usize,
    /// Score network reachability (NetworkPolicy analysis) too.
    pub network: bool,
}

/// A stage of [`analyze_observed`] that has just finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The checks ran (and, beside them, the ranking's RBAC and network analyses).
    Checks,
    /// Findings are filtered and workloads ranked.
    Risk,
}

/// The result of one analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Findings that passed the filters, most severe first, then by object and check.
    pub findings: Vec<Finding>,
    /// Findings suppressed by exceptions (kept for audit).
    pub suppressed: Vec<Suppressed>,
    /// Configured exceptions past their expiry date.
    pub expired_exceptions: Vec<Exception>,
    /// Objects a custom check could not decide on, as messages.
    pub undecided: Vec<String>,
    /// Number of checks run.
    pub checks_run: usize,
    /// Every top-level workload, riskiest first (when ranking was asked for); scored on the
    /// filtered findings.
    pub ranking: Option<Vec<WorkloadRisk>>,
    /// The riskiest workloads summarised (when ranking was asked for with `top > 0`).
    pub top_risks: Option<Vec<TopRisk>>,
    /// Some input could not be read (an error-level diagnostic).
    pub input_errors: bool,
    /// Kinds of the input that no built-in check analyses (custom resources and other kinds
    /// Palisade does not model), with their object counts, by kind: never dropped silently.
    pub unanalysed_kinds: Vec<(String, usize)>,
}

impl Analysis {
    /// Finding counts per severity (every severity present, zero included).
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        Severity::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    self.findings.iter().filter(|f| f.severity == *s).count(),
                )
            })
            .collect()
    }

    /// Whether a finding has severity `threshold` or higher.
    pub fn has_finding_at_or_above(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}

/// Runs every analysis over the inputs: see [`analyze_observed`].
pub fn analyze(inputs: &Inputs<'_>, options: &Options) -> Analysis {
    analyze_observed(inputs, options, &mut |_| {})
}

/// Runs the checks and, beside them on the thread pool, the ranking's RBAC and network
/// analyses; keeps the findings that pass the filters; ranks workloads on them. `on_phase` is
/// called as each [`Phase`] ends (the CLI times them; this crate reads no clock).
pub fn analyze_observed(
    inputs: &Inputs<'_>,
    options: &Options,
    on_phase: &mut dyn FnMut(Phase),
) -> Analysis {
    analyze_with(inputs, options, on_phase, None).0
}

/// [`analyze_observed`], with the ranking's RBAC index and network facts given (`known`)
/// instead of derived from the inventory when they are, and returned with the analysis (a
/// caller that keeps an inventory between runs, the sensor, keeps them too).
pub fn analyze_with(
    inputs: &Inputs<'_>,
    options: &Options,
    on_phase: &mut dyn FnMut(Phase),
    known: Option<Arc<RiskInputs>>,
) -> (Analysis, Option<Arc<RiskInputs>>) {
    let inv = inputs.inventory;
    let mut engine_options = options.engine.clone();
    if let Some(facts) = inputs.image_facts {
        engine_options.images.facts = Arc::clone(facts);
    }
    if let Some(policy) = inputs.runtime_policy {
        engine_options.runtime = Some(Arc::clone(policy));
    }
    let engine = Engine::new(options.catalog.clone(), engine_options);
    // The ranking's own analyses (RBAC, network reachability) do not depend on the findings:
    // they share the cores with the checks instead of running after them, and the ranking's
    // reachability is read from the NetworkPolicy analysis the checks derive.
    let derive = options.risk.filter(|_| known.is_none());
    let (outcome, derived) = engine.run_beside(inv, derive.is_some_and(|r| r.network), |network| {
        derive.map(|r| Arc::new(RiskInputs::derive_with(inv, network.filter(|_| r.network))))
    });
    let risk_inputs = options.risk.and(known.or(derived));
    on_phase(Phase::Checks);
    let mut findings = outcome.findings;
    findings.retain(|f| options.filters.keeps(f));
    let ranking = risk_inputs.as_deref().map(|ri| {
        palisade_risk::assess(&RiskContext {
            inventory: inv,
            findings: &findings,
            rbac: &ri.rbac,
            facts: &ri.facts,
        })
    });
    let top_risks = options
        .risk
        .filter(|r| r.top > 0)
        .zip(ranking.as_deref())
        .map(|(r, ranked)| palisade_risk::top_risks(ranked, r.top));
    on_phase(Phase::Risk);
    let analysis = Analysis {
        findings,
        suppressed: outcome.suppressed,
        expired_exceptions: outcome.expired_exceptions,
        undecided: outcome.undecided,
        checks_run: outcome.checks_run,
        ranking,
        top_risks,
        input_errors: inputs
            .diagnostics
            .iter()
            .any(|d| d.level == DiagnosticLevel::Error),
        unanalysed_kinds: unanalysed_kinds(inv),
    };
    (analysis, risk_inputs)
}

/// The kinds among `inv.others` that no built-in check reads, with object counts, by kind.
fn unanalysed_kinds(inv: &Inventory) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &inv.others {
        if !palisade_checks::OTHER_KINDS_READ.contains(&o.kind.as_str()) {
            *counts.entry(o.kind.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect()
}
