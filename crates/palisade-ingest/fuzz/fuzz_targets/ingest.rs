//! Fuzz target: arbitrary bytes through ingestion and the check engine must never panic, and
//! every diagnostic must name a line inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_ingest::{Input, Limits, ingest};

thread_local! {
    /// Built once: building the catalog for every input cost more than the input (1 exec/s).
    static ENGINE: palisade_checks::Engine = palisade_checks::Engine::builtin();
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let result = ingest(
        &[Input::Bytes {
            name: "fuzz.yaml".into(),
            data: data.to_vec(),
        }],
        &limits,
    );
    // Lines as YAML counts them: a line break is LF, CR or CRLF (YAML 1.2, [24]–[28]), so a
    // file with lone CRs (old Mac endings) has as many lines as an editor shows.
    let breaks = data
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    let lines = breaks as u32 + 1;
    for d in &result.diagnostics {
        assert!(
            d.line() <= lines + 1,
            "diagnostic line {} beyond input ({lines} lines)",
            d.line()
        );
    }
    ENGINE.with(|engine| {
        let _ = engine.run(&result.inventory);
    });
});
