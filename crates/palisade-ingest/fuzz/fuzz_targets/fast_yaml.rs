//! Fuzz target: on any text, the fast YAML path either declines or builds exactly the value,
//! root line and List item lines the general parser builds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(
            palisade_ingest::fast_yaml_agrees(text),
            "fast YAML path disagrees with the general parser on {text:?}"
        );
    }
});
