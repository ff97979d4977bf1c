//! Exceptions scoped to an image glob (`image:` in palisade.yaml's `exceptions`): they cover the
//! findings on containers whose image matches and no others, whether the engine checks the
//! inventory on the calling thread (a few objects) or on the pool (many), and whether or not
//! another exception in force is scoped to images.

use palisade_checks::{Engine, EngineOptions, Exception};

const PRIVILEGED: &str = "PAL-001";

/// One Deployment with two privileged containers, `trusted` and `other`, plus `padding` empty
/// ConfigMaps (enough of them make the engine use the pool).
fn inventory(padding: usize) -> palisade_model::Inventory {
    let mut yaml = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n\
         spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    \
         metadata: {labels: {app: web}}\n    spec:\n      containers:\n      \
         - name: trusted\n        image: registry.example/vetted/agent:1.0\n        \
         securityContext: {privileged: true}\n      \
         - name: other\n        image: docker.io/library/busybox:1.36\n        \
         securityContext: {privileged: true}\n",
    );
    for i in 0..padding {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: shop}}\n"
        ));
    }
    let ingested = palisade_ingest::ingest_str("in.yaml", &yaml);
    assert!(
        ingested.diagnostics.is_empty(),
        "{:?}",
        ingested.diagnostics
    );
    ingested.inventory
}

fn exception(image: Option<&str>, name: Option<&str>) -> Exception {
    Exception {
        checks: vec![PRIVILEGED.into()],
        namespace: None,
        name: name.map(str::to_string),
        kind: None,
        image: image.map(str::to_string),
        reason: "reviewed".into(),
        expires: None,
    }
}

/// The containers with a PAL-001 finding, and those with a suppressed one.
fn privileged(padding: usize, exceptions: Vec<Exception>) -> (Vec<String>, Vec<String>) {
    let engine = Engine::new(
        palisade_checks::Catalog::builtin(),
        EngineOptions {
            exceptions,
            only: vec![PRIVILEGED.into()],
            ..EngineOptions::default()
        },
    );
    let outcome = engine.run(&inventory(padding));
    let containers = |findings: Vec<&palisade_model::Finding>| -> Vec<String> {
        let mut names: Vec<String> = findings
            .into_iter()
            .map(|f| {
                f.container
                    .as_deref()
                    .expect("a container finding")
                    .to_string()
            })
            .collect();
        names.sort();
        names
    };
    (
        containers(outcome.findings.iter().collect()),
        containers(outcome.suppressed.iter().map(|s| &s.finding).collect()),
    )
}

#[test]
fn an_image_scoped_exception_covers_only_the_matching_container() {
    for padding in [0, 100] {
        assert_eq!(
            privileged(padding, vec![]),
            (vec!["other".into(), "trusted".into()], vec![]),
            "padding {padding}"
        );
        assert_eq!(
            privileged(
                padding,
                vec![exception(Some("registry.example/vetted/*"), None)]
            ),
            (vec!["other".into()], vec!["trusted".into()]),
            "padding {padding}"
        );
        // An exception without an image scope beside it: both still judged by their own scope.
        assert_eq!(
            privileged(
                padding,
                vec![
                    exception(None, Some("not-web")),
                    exception(Some("docker.io/library/*"), None),
                ]
            ),
            (vec!["trusted".into()], vec!["other".into()]),
            "padding {padding}"
        );
        // No exception in force reads images: one scoped by name alone covers both.
        assert_eq!(
            privileged(padding, vec![exception(None, Some("web"))]),
            (vec![], vec!["other".into(), "trusted".into()]),
            "padding {padding}"
        );
    }
}
