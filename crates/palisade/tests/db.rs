//! `palisade db import|status|update` end to end with the real binary and real data, and
//! against hostile or unlucky input: a truncated zip, a file that is not a database, and an
//! import killed with SIGKILL half-way (which must change nothing).
#![cfg(feature = "vuln")]

#[path = "../../palisade-vulndb/tests/common/server.rs"]
mod server;

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod support;

use support::cli::{Palisade, palisade};

fn vulndata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

/// Palisade with a controlled environment (no PALISADE_DB/XDG/HOME leaking in).
fn isolated(args: &[&str]) -> Palisade {
    palisade(args)
        .env_remove("PALISADE_DB")
        .env_remove("XDG_DATA_HOME")
        .env_remove("HOME")
}

#[test]
fn import_then_status_with_db_flag_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let db_s = db.to_str().unwrap();
    let crates = vulndata().join("osv/crates.io");
    let dsa = vulndata().join("debian/DSA-list");
    let (code, out, err) = isolated(&[
        "db",
        "import",
        "--db",
        db_s,
        crates.to_str().unwrap(),
        dsa.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 6612 advisories"), "{out}");
    assert!(
        out.contains("osv 1206") && out.contains("debian-tracker 5406"),
        "{out}"
    );

    // The same file through PALISADE_DB, as JSON.
    let (code, out, err) = isolated(&["db", "status", "--format", "json"])
        .env("PALISADE_DB", &db)
        .run();
    assert_eq!(code, 0, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["advisories"], 6612);
    assert_eq!(status["schema_version"], 1);
    assert_eq!(status["by_ecosystem"]["crates.io"], 1206);
    assert_eq!(status["sources"].as_array().unwrap().len(), 2);

    let (code, out, _) = isolated(&["db", "status", "--db", db_s]).run();
    assert_eq!(code, 0);
    assert!(
        out.contains("Advisories:   6612") && out.contains("schema 1"),
        "{out}"
    );
}

#[test]
fn default_path_is_in_the_xdg_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let xdg = dir.path().join("xdg");
    let alpine = vulndata().join("alpine/v3.11/main.yaml");
    let (code, out, err) = isolated(&["db", "import", alpine.to_str().unwrap()])
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &xdg)
        .run();
    assert_eq!(code, 0, "{err}");
    assert!(xdg.join("palisade/vuln.db").is_file(), "{out}");
    let (code, _, err) = isolated(&["db", "import", alpine.to_str().unwrap()])
        .env("HOME", &home)
        .run();
    assert_eq!(code, 0, "{err}");
    assert!(home.join(".local/share/palisade/vuln.db").is_file());
    let (code, _, err) = isolated(&["db", "status"])
        .env("HOME", dir.path().join("empty-home"))
        .run();
    assert_eq!(code, 2);
    assert!(
        err.contains("does not exist") && err.contains("palisade db import"),
        "{err}"
    );
}

#[test]
fn partial_import_reports_bad_files_with_status_3() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(
        vulndata().join("osv/crates.io/RUSTSEC-2016-0001.json"),
        data.join("RUSTSEC-2016-0001.json"),
    )
    .unwrap();
    std::fs::write(data.join("broken.json"), "{\"id\": \"X\", \"affected\": 3}").unwrap();
    let db = dir.path().join("v.db");
    let (code, out, err) = isolated(&[
        "db",
        "import",
        "--db",
        db.to_str().unwrap(),
        data.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("imported 1 advisories"), "{out}");
    assert!(
        err.contains("broken.json") && err.contains("invalid OSV JSON"),
        "{err}"
    );
}

#[test]
fn update_over_https_with_ca_cert() {
    let mut zip_bytes = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut zip_bytes);
        let opts = zip::write::SimpleFileOptions::default();
        for id in [
            "RUSTSEC-2016-0001",
            "RUSTSEC-2016-0002",
            "RUSTSEC-2016-0003",
        ] {
            w.start_file(format!("{id}.json"), opts).unwrap();
            w.write_all(
                &std::fs::read(vulndata().join(format!("osv/crates.io/{id}.json"))).unwrap(),
            )
            .unwrap();
        }
        w.finish().unwrap();
    }
    let (pem, cert, key) = server::self_signed();
    let https = server::TestServer::start(zip_bytes.into_inner(), Some((cert, key)));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let db = dir.path().join("v.db");
    let url = format!("https://127.0.0.1:{}/all.zip", https.port);
    // `db update` of this database from `url`, with `extra` arguments.
    let update = |url: &str, extra: &[&str]| {
        let mut args = vec!["db", "update", "--db", db.to_str().unwrap(), "--url", url];
        args.extend_from_slice(extra);
        isolated(&args).run()
    };
    let (code, out, err) = update(&url, &["--ca-cert", ca.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 3 advisories"), "{out}");
    let (code, _, err) = update(&url, &[]);
    assert_eq!(code, 2);
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    let (code, _, err) = update("http://example.invalid/all.zip", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("refusing"), "{err}");

    // Without --url: every default ecosystem's all.zip under the mirror (osv.dev's layout),
    // or the ecosystems asked for.
    let mirror = format!("https://127.0.0.1:{}", https.port);
    https.paths.lock().unwrap().clear();
    let (code, out, err) = isolated(&[
        "db",
        "update",
        "--db",
        db.to_str().unwrap(),
        "--mirror",
        &mirror,
        "--ca-cert",
        ca.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 33 advisories"), "{out}");
    let asked = std::mem::take(&mut *https.paths.lock().unwrap());
    assert_eq!(
        asked,
        [
            "Alpine",
            "Debian",
            "Ubuntu",
            "PyPI",
            "npm",
            "Go",
            "crates.io",
            "Maven",
            "RubyGems",
            "NuGet",
            "Packagist"
        ]
        .map(|e| format!("/{e}/all.zip"))
    );
    let (code, _, err) = isolated(&["db", "update", "--db", db.to_str().unwrap()])
        .args(["--ecosystem", "crates.io", "--ecosystem", "Rocky Linux"])
        .args(["--ca-cert", ca.to_str().unwrap()])
        .env("PALISADE_DB_MIRROR", &mirror)
        .run();
    assert_eq!(code, 0, "{err}");
    let asked = std::mem::take(&mut *https.paths.lock().unwrap());
    assert_eq!(asked, ["/crates.io/all.zip", "/Rocky%20Linux/all.zip"]);
}

#[test]
fn a_truncated_zip_is_unreadable_input_exit_3_and_a_non_database_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let zip = dir.path().join("osv.zip");
    std::fs::write(&zip, b"PK\x03\x04 cut short").unwrap();
    let (code, _, err) = isolated(&[
        "db",
        "import",
        "--db",
        db.to_str().unwrap(),
        zip.to_str().unwrap(),
    ])
    .run();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("osv.zip: invalid zip archive"), "{err}");

    let not_db = dir.path().join("notes.db");
    std::fs::write(&not_db, "these are notes, not SQLite\n".repeat(100)).unwrap();
    let (code, _, err) = palisade(&["db", "status", "--db", not_db.to_str().unwrap()]).run();
    assert_eq!(code, 2, "{err}");
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
    let (code, _, err) =
        palisade(&["db", "import", "--db", &db_arg, alpine.to_str().unwrap()]).run();
    assert_eq!(code, 0, "{err}");
    let status = || {
        let (code, out, err) =
            palisade(&["db", "status", "--db", &db_arg, "--format", "json"]).run();
        assert_eq!(code, 0, "{err}");
        out
    };
    let before = status();

    // SQLite keeps a rollback journal beside the file while a write transaction is open; it
    // grows in steps as later batches (2,000 records each) touch more pages. Kill the import
    // once one journal has grown twice (batches after the first are in its transaction),
    // while the import runs: progress, not time, decides. Short transactions before the
    // import's (opening the database) come and go; a journal that vanishes starts the count
    // again. An import that committed per batch would then have committed some batches, which
    // the comparison below would see.
    let journal = dir.path().join("v.db-journal");
    let osv = vulndata().join("osv");
    let mut child = palisade(&["db", "import", "--db", &db_arg, osv.to_str().unwrap()])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let size = || std::fs::metadata(&journal).map(|m| m.len()).ok();
    let (mut last, mut growths) = (None::<u64>, 0);
    while growths < 2 {
        assert!(Instant::now() < deadline, "the import never progressed");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before its journal grew twice; give it more data"
        );
        let now = size();
        match (last, now) {
            (Some(l), Some(n)) if n > l => growths += 1,
            (_, None) => growths = 0,
            _ => {}
        }
        last = now;
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(status(), before, "a killed import changed the database");
    // The database is intact: the same import now runs to the end.
    let (code, _, err) = palisade(&["db", "import", "--db", &db_arg, osv.to_str().unwrap()]).run();
    assert_eq!(code, 0, "{err}");
    assert!(status().contains("\"osv\": 8158"), "{}", status());
}
