//! Every check of the built-in catalog has a pair of fixtures, written from the Kubernetes API
//! reference, under `tests/fixtures/<ID>/`:
//!
//! - `fires.yaml`: a manifest set on which the check must fire. Its first line is
//!   `# expect: N`, the exact number of findings of that check.
//! - `passes.yaml`: the closest correct variant (near-misses included), on which the check must
//!   not fire.
//!
//! - `images.json` (optional): the image policy and image facts both fixtures run with, for
//!   checks that read what the edges learn from registries (signatures, vulnerabilities):
//!   `{"allowed_registries": [globs], "block_fixable": [severities], "facts": {REF: RegistryFacts}}`.
//!
//! - `runtime-policy.yaml` (optional): the RuntimePolicy (what node agents observed) both
//!   fixtures run with, for the runtime checks.
//!
//! - `params.json` (optional): the check's template parameters for both fixtures, as
//!   palisade.yaml's `checks.params` would set them.
//!
//! Both must ingest without diagnostics: fixtures are valid manifests. A new check without
//! fixtures fails this test. Every broken check is reported in one failure message.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_checks::{Catalog, Engine, EngineOptions, ImagePolicy};
use palisade_ingest::{DiagnosticLevel, ingest_str};
use palisade_model::{RegistryFactsTable, Severity};
use palisade_runtime::policy::RuntimePolicy;

/// Fixtures that follow Kubernetes semantics where the check's template does not (yet), as
/// `ID/file`. Their failures are printed, not failed on; the check's other fixture is still
/// held to account. Once such a fixture passes, its entry must leave this list.
const KNOWN_BUGS: &[&str] = &[];

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Reads the `# expect: N` header of a fires fixture.
fn expected_count(text: &str) -> Result<usize, String> {
    let first = text.lines().next().unwrap_or("");
    let n = first
        .strip_prefix("# expect:")
        .ok_or_else(|| format!("first line must be `# expect: N`, found {first:?}"))?;
    n.trim()
        .parse()
        .map_err(|_| format!("`# expect:` needs a number, found {:?}", n.trim()))
}

/// The optional `images.json` of a fixture directory.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ImagesFixture {
    allowed_registries: Vec<String>,
    block_fixable: Option<Vec<Severity>>,
    facts: RegistryFactsTable,
}

fn image_policy(dir: &Path) -> Result<ImagePolicy, String> {
    let path = dir.join("images.json");
    if !path.exists() {
        return Ok(ImagePolicy::default());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let f: ImagesFixture =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let default = ImagePolicy::default();
    Ok(ImagePolicy {
        allowed_registries: f.allowed_registries,
        block_fixable: f.block_fixable.unwrap_or(default.block_fixable.clone()),
        facts: Arc::new(f.facts),
        ..default
    })
}

/// The optional `runtime-policy.yaml` of a fixture directory.
fn runtime_policy(dir: &Path) -> Result<Option<Arc<RuntimePolicy>>, String> {
    let path = dir.join("runtime-policy.yaml");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    RuntimePolicy::parse(&text)
        .map(|p| Some(Arc::new(p)))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The optional `params.json` of a fixture directory: the check's template parameters for
/// both fixtures (checks whose built-in parameters leave them silent until palisade.yaml
/// configures them, such as required labels).
fn check_params(dir: &Path) -> Result<Option<serde_json::Value>, String> {
    let path = dir.join("params.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Ingests one fixture and runs one check on it; returns the findings' messages.
fn findings_of(
    catalog: &Catalog,
    id: &str,
    path: &Path,
    text: &str,
    errors_only: bool,
) -> Result<Vec<String>, String> {
    let name = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string();
    let ingested = ingest_str(&name, text);
    let diagnostics: Vec<String> = ingested
        .diagnostics
        .iter()
        .filter(|d| !errors_only || d.level == DiagnosticLevel::Error)
        .map(|d| d.to_string())
        .collect();
    if !diagnostics.is_empty() {
        return Err(format!(
            "ingestion diagnostics (fixtures must be valid manifests): {}",
            diagnostics.join("; ")
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let images = image_policy(dir)?;
    let mut catalog = catalog.clone();
    if let Some(params) = check_params(dir)? {
        catalog
            .set_params(id, params)
            .map_err(|e| format!("{}: {e}", dir.join("params.json").display()))?;
    }
    let engine = Engine::new(
        catalog,
        EngineOptions {
            only: vec![id.to_string()],
            images,
            runtime: runtime_policy(dir)?,
            ..EngineOptions::default()
        },
    );
    let outcome = engine.run(&ingested.inventory);
    if outcome.checks_run != 1 {
        return Err(format!(
            "engine ran {} checks, expected 1",
            outcome.checks_run
        ));
    }
    Ok(outcome
        .findings
        .iter()
        .chain(outcome.suppressed.iter().map(|s| &s.finding))
        .filter(|f| *f.check_id == *id)
        .map(|f| format!("{}: {}", f.object, f.message))
        .collect())
}

/// Everything wrong with one check's fixtures, as `(fixture file, problem)` (empty: all good).
fn problems_of(catalog: &Catalog, id: &str) -> Vec<(&'static str, String)> {
    let dir = fixtures_root().join(id);
    if !dir.is_dir() {
        return vec![(
            "",
            format!(
                "no fixture directory {} (every check needs fires.yaml and passes.yaml)",
                dir.display()
            ),
        )];
    }
    let mut problems = Vec::new();
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read_to_string(&path)
            .map(|text| (path.clone(), text))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    };

    const FIRES: &str = "fires.yaml";
    const PASSES: &str = "passes.yaml";
    let listed = |got: &[String]| {
        got.iter()
            .map(|m| format!("\n      - {m}"))
            .collect::<String>()
    };

    match read(FIRES) {
        Err(e) => problems.push((FIRES, e)),
        Ok((path, text)) => match expected_count(&text) {
            Err(e) => problems.push((FIRES, e)),
            Ok(0) => problems.push((FIRES, "`# expect: 0` cannot show the check firing".into())),
            Ok(want) => match findings_of(catalog, id, &path, &text, true) {
                Err(e) => problems.push((FIRES, e)),
                Ok(got) if got.len() != want => problems.push((
                    FIRES,
                    format!(
                        "expected {want} finding(s), got {}:{}",
                        got.len(),
                        listed(&got)
                    ),
                )),
                Ok(_) => {}
            },
        },
    }

    match read(PASSES) {
        Err(e) => problems.push((PASSES, e)),
        Ok((path, text)) => match findings_of(catalog, id, &path, &text, false) {
            Err(e) => problems.push((PASSES, e)),
            Ok(got) if !got.is_empty() => problems.push((
                PASSES,
                format!("expected no finding, got {}:{}", got.len(), listed(&got)),
            )),
            Ok(_) => {}
        },
    }
    problems
}

#[test]
fn every_check_fires_and_passes_on_its_fixtures() {
    let catalog = Catalog::builtin();
    let ids: Vec<&str> = catalog.checks().iter().map(|c| c.id.as_str()).collect();
    let mut failures = String::new();
    let mut known = String::new();
    let mut known_seen: Vec<String> = Vec::new();

    for id in &ids {
        for (file, problem) in problems_of(&catalog, id) {
            let key = format!("{id}/{file}");
            let out = if KNOWN_BUGS.contains(&key.as_str()) {
                known_seen.push(key.clone());
                &mut known
            } else {
                &mut failures
            };
            let _ = writeln!(out, "  {key}: {problem}");
        }
    }

    for entry in KNOWN_BUGS {
        let id = entry.split('/').next().unwrap_or(entry);
        if !ids.contains(&id) {
            let _ = writeln!(
                failures,
                "  {entry}: listed in KNOWN_BUGS but not in the catalog"
            );
        } else if !known_seen.iter().any(|k| k == entry) {
            let _ = writeln!(
                failures,
                "  {entry}: listed in KNOWN_BUGS but now passes: remove it from the list"
            );
        }
    }

    // Fixture directories must belong to a check (a renamed or removed check leaves none behind).
    if let Ok(entries) = std::fs::read_dir(fixtures_root()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !ids.contains(&name.as_str()) {
                let _ = writeln!(
                    failures,
                    "  {name}: fixture directory for a check not in the catalog"
                );
            }
        }
    }

    if !known.is_empty() {
        eprintln!("known template bugs (not failing; see KNOWN_BUGS):\n{known}");
    }
    assert!(failures.is_empty(), "catalog fixtures failed:\n{failures}");
}

#[test]
fn expect_header_is_parsed_strictly() {
    assert_eq!(expected_count("# expect: 3\nkind: Pod\n"), Ok(3));
    assert_eq!(expected_count("# expect:12"), Ok(12));
    assert!(expected_count("kind: Pod\n# expect: 3").is_err());
    assert!(expected_count("# expect: three").is_err());
    assert!(expected_count("# expected: 3").is_err());
}
