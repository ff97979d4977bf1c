//! Fuzz target: arbitrary bytes through `VulnDb::import_bytes` into a temporary database, as a
//! zip archive and as a single OSV JSON, OSV YAML / Alpine secdb or Debian tracker list file.
//! An import must never panic, and a failed one is an error value, never a crash. Run with
//! `-rss_limit_mb=2048`: memory stays bounded by the import's size and inflation caps.
//!
//! The first byte picks the file name (and so the format); the rest is the file. Databases are
//! reused for a few hundred inputs (creating one costs more than most imports) and then
//! replaced, so what earlier inputs stored cannot grow without bound.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::VulnDb;

/// File names that select each import path: a zip archive, then the single-file formats.
const NAMES: [&str; 4] = ["osv.zip", "GHSA-fuzz.json", "secdb.yaml", "DSA-list"];
/// Inputs imported into one database before it is replaced.
const REUSE: u32 = 256;

struct Db {
    _dir: tempfile::TempDir,
    db: VulnDb,
    uses: u32,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = VulnDb::open_or_create(&dir.path().join("vuln.db")).expect("new database");
        Db {
            _dir: dir,
            db,
            uses: 0,
        }
    }
}

thread_local! {
    static DB: RefCell<Option<Db>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    DB.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|d| d.uses >= REUSE) {
            *slot = None;
            *slot = Some(Db::new());
        }
        let db = slot.as_mut().expect("database just opened");
        db.uses += 1;
        // Errors (an unreadable archive, a record that does not parse) are fine; panics are not.
        let _ = db.db.import_bytes("fuzz", name, bytes);
    });
});
