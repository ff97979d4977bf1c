//! One evaluation of the watched cluster: the watchers' objects → palisade-ingest's live
//! conversion → palisade-analysis's one pipeline → the snapshot central stores. The changed
//! kinds decide, through `palisade_analysis::affected_by`, whether the ranking (and its RBAC
//! and network analyses) must run again or the previous one still holds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use palisade_analysis::{Analyses, Inputs, Options, analyze_focused, analyze_with};
use palisade_api::{Delta, RawObject, RiskRecord, Snapshot};
use palisade_checks::Catalog;
use palisade_cluster::watch::{Listed, ObjectName, Watch};
use palisade_ingest::Limits;
use palisade_model::time::Timestamp;
use palisade_model::{Inventory, WorkloadId};
use palisade_report::pending::PendingSnapshot;
use palisade_report::snapshot::{SnapshotInput, snapshot};
use serde_json::Value;

use super::focused::{self, Held};
use palisade_report::delta::Acknowledged;

/// What stays between evaluations: the checks and the configuration, and what the last full
/// evaluation left for the focused ones.
pub struct Evaluator {
    catalog: Catalog,
    config: palisade_config::Config,
    held: Option<Held>,
}

/// How the sensor reads objects: with their raw JSON (central's snapshot carries them).
fn limits() -> Limits {
    Limits {
        keep_raw: true,
        ..Default::default()
    }
}

/// An object's key (kind, namespace, name).
type Key = (String, String, String);

/// An object's text as a snapshot carries it (a Secret scrubbed as ingest scrubs it), with its
/// kind, namespace and name.
fn object_text(v: &Value, stored: Option<&Arc<str>>) -> (Key, RawObject) {
    let text = |at: &str| {
        v.pointer(at)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let key = (
        text("/kind"),
        text("/metadata/namespace"),
        text("/metadata/name"),
    );
    let raw = if key.0 == "Secret" {
        let mut v = v.clone();
        palisade_ingest::scrub_secret(&mut v);
        palisade_report::snapshot::object_text(&v)
    } else {
        // The stored text is nearly always the one `object_text` would write (it is
        // serde_json's own output, parsed and written again): then it is shared, not copied,
        // as the snapshot's object.
        stored
            .filter(|text| writes_as(v, text))
            .and_then(|text| RawObject::shared(Arc::clone(text)).ok())
            .unwrap_or_else(|| palisade_report::snapshot::object_text(v))
    };
    (key, raw)
}

/// Whether `v` written as JSON (as [`RawObject::from_value`] writes it) is `text`, byte for
/// byte; compared as it is written, without building the text.
fn writes_as(v: &Value, text: &str) -> bool {
    struct Compare<'t> {
        rest: &'t [u8],
        same: bool,
    }
    impl std::io::Write for Compare<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.rest.strip_prefix(buf) {
                Some(rest) if self.same => self.rest = rest,
                _ => self.same = false,
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut compare = Compare {
        rest: text.as_bytes(),
        same: true,
    };
    serde_json::to_writer(&mut compare, v).is_ok() && compare.same && compare.rest.is_empty()
}

/// The conversion of the `listed` objects when no custom check reads raw objects: each object
/// is parsed right before its conversion, its snapshot text and selector keys are taken, and
/// its tree is freed once converted (typed objects keep no raw JSON; `others` keep theirs), so
/// no two objects' trees need be alive at once. Gives what the conversion with raw objects
/// kept gives, with the raw JSON of all but `others` dropped (`focused::drop_raw`).
fn without_trees(
    cluster: &str,
    listed: &Listed,
) -> (palisade_ingest::Ingested, Vec<RawObject>, HashSet<String>) {
    let texts: Vec<OnceLock<(Key, RawObject)>> =
        (0..listed.len()).map(|_| OnceLock::new()).collect();
    let keys = Mutex::new(HashSet::new());
    let ingested = palisade_ingest::ingest_live_with(
        cluster,
        listed.len(),
        |i| {
            let value = listed.parse(i)?;
            if selector_read(&value) {
                let found = focused::selector_keys_of([&value]);
                if !found.is_empty() {
                    keys.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .extend(found);
                }
            }
            // Each index is asked for once.
            let _ = texts[i].set(object_text(&value, listed.text(i)));
            Some(value)
        },
        &Limits {
            keep_raw: false,
            ..limits()
        },
    );
    let mut by_key: HashMap<Key, RawObject> =
        texts.into_iter().filter_map(OnceLock::into_inner).collect();
    let texts = palisade_report::snapshot::objects_with(&ingested.inventory, &mut |kind, meta| {
        let key = (
            kind.to_string(),
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone(),
        );
        by_key.remove(&key)
    });
    let keys = keys
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (ingested, texts, keys)
}

/// Whether [`focused::selector_keys`] reads this object's raw JSON: all but ServiceAccounts,
/// RBAC objects, Secrets and ConfigMaps (of their own API groups, as ingest types them).
fn selector_read(v: &Value) -> bool {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    !matches!(
        (group, kind),
        ("", "ServiceAccount" | "Secret" | "ConfigMap")
            | (
                "rbac.authorization.k8s.io",
                "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
            )
    )
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
        Evaluator {
            catalog,
            config,
            held: None,
        }
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
        &mut self,
        watch: &Watch,
        id: String,
        scanned_at: Timestamp,
        affected: Analyses,
        previous: Option<&Snapshot>,
    ) -> PendingSnapshot {
        self.evaluate_objects(
            watch.cluster(),
            watch.listed(),
            watch.diagnostics(),
            id,
            scanned_at,
            affected,
            previous,
        )
    }

    /// [`Evaluator::evaluate`] of `objects` (as [`Watch::listed`] gives them) with the
    /// watchers' `diagnostics`; keeps the converted inventory, the ranking and its inputs for
    /// [`Evaluator::focused`]. The snapshot keeps the analysis' findings, not their records
    /// (made as the snapshot is sent: `palisade_report::pending`).
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_objects(
        &mut self,
        cluster: &str,
        objects: Listed,
        mut diagnostics: Vec<palisade_model::Diagnostic>,
        id: String,
        scanned_at: Timestamp,
        affected: Analyses,
        previous: Option<&Snapshot>,
    ) -> PendingSnapshot {
        // What a full evaluation keeps of the last one: its ranking inputs and ranking (used
        // when the ranking is not run); the held inventory goes before the new one is made.
        let (known, kept_ranking) = match self.held.take() {
            Some(held) => (held.risk_inputs, held.ranking),
            None => (None, Vec::new()),
        };
        let mut options = self.options();
        // A custom check reads every raw object; the built-in checks and the ranking read
        // those of `others` alone.
        let raw_read = !options.engine.custom.is_empty();
        let (ingested, texts, selector_keys) = if raw_read {
            let ingested = palisade_ingest::ingest_live(cluster, objects.into_values(), &limits());
            let texts = palisade_report::snapshot::objects(&ingested.inventory);
            let keys = focused::selector_keys(&ingested.inventory);
            (ingested, texts, keys)
        } else {
            without_trees(cluster, &objects)
        };
        diagnostics.extend(ingested.diagnostics.iter().cloned());
        #[cfg(feature = "netpol")]
        diagnostics.extend(palisade_netpol::policy_diagnostics(&ingested.inventory));
        let keep_ranking = previous.filter(|_| !affected.contains(Analyses::RISK));
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
        let (mut analysis, risk_inputs) = analyze_with(&inputs, &options, &mut |_| {}, None);
        // Kept apart from the report: the snapshot holds them, not their records.
        let findings = std::mem::take(&mut analysis.findings);
        // The ranking was not run: the one kept is still the one of these objects.
        let risk_inputs = risk_inputs.or(known);
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
        out.objects = texts;
        let mut inventory = ingested.inventory;
        if raw_read {
            // Read by the custom checks; the held inventory does not keep them.
            focused::drop_raw(&mut inventory);
        }
        let ranking = match analysis.ranking {
            Some(r) => r,
            None => kept_ranking,
        };
        self.held = Some(Held::new(inventory, ranking, risk_inputs, selector_keys));
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
        PendingSnapshot::new(out, findings)
    }
}

impl Evaluator {
    /// The delta for the changed `objects` (kind, namespace and name) through the focused path
    /// (`super::focused`), against `previous` (the acknowledged state, which the last full
    /// evaluation's held state and the focused deltas since led to); `None` when a change needs
    /// a full evaluation. The held state keeps the changes either way only when `Some`.
    pub fn focused(
        &mut self,
        watch: &Watch,
        objects: &[(&str, ObjectName)],
        previous: &Acknowledged,
        id: String,
        scanned_at: Timestamp,
    ) -> Option<Delta> {
        let changed: Option<Vec<(&str, Value)>> = objects
            .iter()
            .map(|(kind, name)| watch.object(kind, name).map(|v| (*kind, v)))
            .collect();
        self.focused_objects(watch.cluster(), changed?, previous, id, scanned_at)
    }

    /// [`Evaluator::focused`] of the changed objects' current values (kind, object).
    pub fn focused_objects(
        &mut self,
        cluster: &str,
        changed: Vec<(&str, Value)>,
        previous: &Acknowledged,
        id: String,
        scanned_at: Timestamp,
    ) -> Option<Delta> {
        let options = self.options();
        let held = self.held.as_mut()?;
        let known = held.risk_inputs.clone()?;
        let limits = limits();
        let mut replacements = Vec::with_capacity(changed.len());
        for (kind, value) in changed {
            replacements.push(focused::replacement(held, cluster, kind, value, &limits)?);
        }
        let mut focus: Vec<WorkloadId> = Vec::with_capacity(replacements.len());
        let mut replaced = Vec::with_capacity(replacements.len());
        for r in replacements {
            replaced.push(r.index);
            let id = WorkloadId::of(&r.workload);
            if !focus.contains(&id) {
                focus.push(id);
            }
            held.inventory.workloads[r.index] = r.workload;
        }
        let inputs = Inputs {
            inventory: &held.inventory,
            diagnostics: &[],
            image_facts: None,
            runtime_policy: None,
        };
        let result = analyze_focused(&inputs, &focus, &options, known);
        // The changed workloads' raw objects were read; the held inventory does not keep them.
        for index in replaced {
            held.inventory.workloads[index].raw = Arc::new(Value::Null);
        }
        let scored = result.analysis.ranking.clone().unwrap_or_default();
        let moved = focused::rerank(&mut held.ranking, &scored);
        // The focused workloads alone, as the snapshot writes them.
        let only = Inventory {
            workloads: result
                .inventory
                .workloads
                .iter()
                .filter(|w| focus.contains(&WorkloadId::of(w)))
                .cloned()
                .collect(),
            ..Inventory::default()
        };
        let ingested = palisade_ingest::Ingested::default();
        let report =
            crate::cmd::scan::scan_report(&result.analysis, &[], &options.catalog, &ingested, None);
        let input = SnapshotInput {
            id: id.clone(),
            scanned_at,
            source: "cluster",
            inventory: &only,
            ranking: result.analysis.ranking.as_deref(),
        };
        let mut part = snapshot(&report, &input);
        for row in &mut part.workloads {
            if let Some(risk) = row.risk.as_mut() {
                risk.rank = focused::rank_of(&held.ranking, &row.id).unwrap_or(risk.rank);
            }
        }
        Some(focused::delta(
            previous,
            part.workloads,
            &part.findings,
            &moved,
            id,
            scanned_at,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conversion without trees gives the object texts, selector keys and inventory that
    /// the conversion with raw objects kept gives (Secrets scrubbed alike).
    #[test]
    fn conversion_without_trees_equals_the_one_with_raw_objects() {
        let list: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/cluster/objects.json"))
                .unwrap();
        let objects = list["items"].as_array().unwrap().clone();
        assert!(objects.iter().any(|o| o["kind"] == "Secret"));
        let kept = palisade_ingest::ingest_live("c", objects.clone(), &limits());
        let (ingested, texts, keys) = without_trees("c", &Listed::from_values(&objects));
        let expected = palisade_report::snapshot::objects(&kept.inventory);
        assert_eq!(texts.len(), objects.len());
        assert_eq!(texts, expected);
        assert_eq!(keys, focused::selector_keys(&kept.inventory));
        let mut inventory = kept.inventory;
        focused::drop_raw(&mut inventory);
        assert_eq!(
            format!("{:?}", ingested.inventory),
            format!("{inventory:?}")
        );
    }

    /// A stored text is shared only when the object written again is that text, byte for byte.
    #[test]
    fn writes_as_compares_the_whole_text() {
        let text = r#"{"kind":"Pod","metadata":{"name":"a","labels":{"z":"1","a":"2"}},"n":1.5}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        assert!(writes_as(&v, text));
        for other in [
            r#"{"kind":"Pod","metadata":{"name":"a","labels":{"a":"2","z":"1"}},"n":1.5}"#,
            r#"{"kind": "Pod","metadata":{"name":"a","labels":{"z":"1","a":"2"}},"n":1.5}"#,
            r#"{"kind":"Pod","metadata":{"name":"a","labels":{"z":"1","a":"2"}},"n":1.50}"#,
            r#"{"kind":"Pod","metadata":{"name":"a","labels":{"z":"1","a":"2"}},"n":1.5} "#,
            r#"{"kind":"Pod","metadata":{"name":"a","labels":{"z":"1","a":"2"}}"#,
            "",
        ] {
            assert!(!writes_as(&v, other), "{other}");
        }
    }
}
