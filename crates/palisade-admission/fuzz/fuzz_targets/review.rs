//! Fuzz target: arbitrary bytes as the body of a `POST /validate`, through the path the server
//! takes — `parse_review`, then `Admission::prepare` and `evaluate` (what `decide` does without
//! image facts) — must never panic. A body that is not a review is an error value (the server's
//! 400); every review gets a response echoing its uid.
//!
//! Two policies: the built-in one, and one that uses every part of the `admission:` section
//! (modes, namespace and label exemptions, break-glass groups and annotation).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_admission::{Admission, parse_review};
use palisade_checks::Catalog;
use palisade_config::Config;

const POLICY: &str = "\
checks:
  severity: {privileged-container: medium}
admission:
  modes: {PAL-035: enforce}
  severity_modes: {low: audit}
  exempt_namespaces: [kube-*]
  exempt_labels:
    matchLabels: {palisade.dev/exempt: \"true\"}
  break_glass_groups: [sre]
";

static POLICIES: LazyLock<[Admission; 2]> = LazyLock::new(|| {
    let catalog = Catalog::builtin();
    let config = Config::from_yaml(POLICY, &catalog).expect("the fuzz policy is valid");
    let configured = Admission::new(&config, catalog, None).expect("the fuzz policy builds");
    [Admission::builtin(), configured]
});

fuzz_target!(|data: &[u8]| {
    let Ok(request) = parse_review(data) else {
        return;
    };
    for policy in POLICIES.iter() {
        let uid = request.uid.clone();
        let decision = policy.decide(request.clone());
        assert_eq!(decision.response.uid, uid, "the response must echo the uid");
    }
});
