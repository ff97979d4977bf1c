//! `palisade db import` against hostile or unlucky input, as a user runs it: a zip bomb of
//! overlapping entries, a truncated zip, a file that is not a database, and an import killed
//! with SIGKILL half-way (which must change nothing).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn vulndata() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

#[test]
fn a_truncated_zip_is_unreadable_input_exit_3_and_a_non_database_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let zip = dir.path().join("osv.zip");
    std::fs::write(&zip, b"PK\x03\x04 cut short").unwrap();
    let out = palisade(&[
        "db",
        "import",
        "--db",
        db.to_str().unwrap(),
        zip.to_str().unwrap(),
    ]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("osv.zip: invalid zip archive"), "{err}");

    let not_db = dir.path().join("notes.db");
    std::fs::write(&not_db, "these are notes, not SQLite\n".repeat(100)).unwrap();
    let out = palisade(&["db", "status", "--db", not_db.to_str().unwrap()]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.matches("file is not a database").count(),
        1,
        "the cause is said once: {err}"
    );
}

#[test]
fn a_killed_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let db_arg = db.to_str().unwrap().to_string();
    let alpine = vulndata().join("alpine");
    let out = palisade(&["db", "import", "--db", &db_arg, alpine.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let status = || {
        let out = palisade(&["db", "status", "--db", &db_arg, "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out).1);
        text(&out).0
    };
    let before = status();

    // The OSV import takes seconds; SQLite keeps a rollback journal beside the file while a
    // write transaction is open. Kill the import while its journal exists, well after it began
    // writing (batches of 2,000 records: an import that committed per batch would have
    // committed some by then).
    let journal = dir.path().join("v.db-journal");
    let osv = vulndata().join("osv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["db", "import", "--db", &db_arg, osv.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !journal.exists() {
        assert!(
            Instant::now() < deadline,
            "the import never started writing"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended early"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let began = Instant::now();
    // Half-way through: 5,000 of the 8,158 records are parsed after about this long here; the
    // journal check below proves the import was still in its transaction when killed.
    while began.elapsed() < Duration::from_millis(1200) && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        journal.exists() && child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed; give it more data"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(status(), before, "a killed import changed the database");
    // The database is intact: the same import now runs to the end.
    let out = palisade(&["db", "import", "--db", &db_arg, osv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(status().contains("\"osv\": 8158"), "{}", status());
}
