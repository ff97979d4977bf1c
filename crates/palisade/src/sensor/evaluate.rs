//! One evaluation of the watched cluster: the watchers' objects → palisade-ingest's live
//! conversion → palisade-analysis's one pipeline → the snapshot central stores. The changed
//! kinds decide, through `palisade_analysis::affected_by`, whether the ranking (and its RBAC
//! and network analyses) must run again or the previous one still holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_analysis::{Analyses, Inputs, Options, analyze};
use palisade_api::{RiskRecord, Snapshot};
use palisade_checks::Catalog;
use palisade_cluster::watch::Watch;
use palisade_ingest::Limits;
use palisade_model::WorkloadId;
use palisade_model::time::Timestamp;
use palisade_report::snapshot::{SnapshotInput, snapshot};

/// What stays the same between evaluations: the checks and the configuration.
pub struct Evaluator {
    catalog: Catalog,
    config: palisade_config::Config,
}

/// The analyses whose results may change when objects of `kinds` changed (`None`: unknown,
/// everything).
pub fn affected(kinds: Option<&[&str]>) -> Analyses {
    match kinds {
        None => Analyses::all(),
        Some(kinds) => kinds.iter().fold(Analyses::empty(), |a, k| {
            a | palisade_analysis::affected_by(k)
        }),
    }
}

impl Evaluator {
    /// The checks of `catalog` with `config`'s options (palisade.yaml).
    pub fn new(catalog: Catalog, config: palisade_config::Config) -> Evaluator {
        Evaluator { catalog, config }
    }

    /// The analysis options for today (exceptions expire against the day of the evaluation),
    /// ranking with network facts.
    fn options(&self) -> Options {
        Options {
            catalog: self.catalog.clone(),
            engine: self.config.engine_options(Some(crate::cmd::today_or(None))),
            filters: Default::default(),
            risk: Some(palisade_analysis::RiskOptions {
                top: 0,
                network: cfg!(feature = "netpol"),
            }),
        }
    }

    /// Evaluates the cluster as the watchers hold it now. `affected` is what the changes since
    /// `previous` can move: when it does not include the ranking, the ranking is not run and
    /// `previous`'s risk records are kept.
    pub fn evaluate(
        &self,
        watch: &Watch,
        id: String,
        scanned_at: Timestamp,
        affected: Analyses,
        previous: Option<&Snapshot>,
    ) -> Snapshot {
        let (objects, _controlled) = watch.objects();
        let limits = Limits {
            keep_raw: true,
            ..Default::default()
        };
        let ingested = palisade_ingest::ingest_live(watch.cluster(), objects, &limits);
        let mut diagnostics = watch.diagnostics();
        diagnostics.extend(ingested.diagnostics.iter().cloned());
        #[cfg(feature = "netpol")]
        diagnostics.extend(palisade_netpol::policy_diagnostics(&ingested.inventory));
        let keep_ranking = previous.filter(|_| !affected.contains(Analyses::RISK));
        let mut options = self.options();
        if keep_ranking.is_some() {
            options.risk = None;
        }
        let inputs = Inputs {
            inventory: &ingested.inventory,
            diagnostics: &diagnostics,
            image_facts: None::<&Arc<_>>,
            // Not yet read by the sensor (docs/clusters.md): `scan --runtime-policy` is.
            runtime_policy: None,
        };
        let analysis = analyze(&inputs, &options);
        let report = crate::cmd::scan::scan_report(
            &analysis,
            &diagnostics,
            &options.catalog,
            &ingested,
            None,
        );
        let input = SnapshotInput {
            id,
            scanned_at,
            source: "cluster",
            inventory: &ingested.inventory,
            ranking: analysis.ranking.as_deref(),
        };
        let mut out = snapshot(&report, &input);
        if let Some(previous) = keep_ranking {
            let risks: BTreeMap<&WorkloadId, &RiskRecord> = previous
                .workloads
                .iter()
                .filter_map(|w| w.risk.as_ref().map(|r| (&w.id, r)))
                .collect();
            for w in &mut out.workloads {
                w.risk = risks.get(&w.id).map(|r| (*r).clone());
            }
        }
        out
    }
}
