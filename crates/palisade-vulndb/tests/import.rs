//! Importing the real shared data into a real SQLite file, status, and matching through it.

mod common;

use std::sync::OnceLock;

use common::{first_files, vulndata, zip_of};
use palisade_model::{Ecosystem, Package, Severity};
use palisade_vulndb::{DbError, VulnDb};

/// One database with all shared data, built once for the read-only tests of this file.
fn full_db() -> &'static (
    tempfile::TempDir,
    std::path::PathBuf,
    palisade_vulndb::ImportReport,
) {
    static DB: OnceLock<(
        tempfile::TempDir,
        std::path::PathBuf,
        palisade_vulndb::ImportReport,
    )> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/vuln.db");
        let db = VulnDb::open_or_create(&path).unwrap();
        let report = db.import_paths(&[vulndata()]).unwrap();
        (dir, path, report)
    })
}

#[test]
fn imports_all_shared_data_into_one_file() {
    let (dir, path, report) = full_db();
    assert_eq!(report.error_count, 0, "{:?}", report.errors);
    assert_eq!(report.by_source_kind["osv"], 1206 + 4291 + 2661);
    assert_eq!(report.by_source_kind["debian-tracker"], 5406 + 3534);
    assert!(report.by_source_kind["alpine-secdb"] > 4000);
    // The README is not vulnerability data.
    assert!(report.skipped_files >= 1);
    let db = VulnDb::open_existing(path).unwrap();
    let status = db.status().unwrap();
    assert_eq!(status.schema_version, 1);
    assert_eq!(status.by_source_kind["osv"], 1206 + 4291 + 2661);
    assert_eq!(status.by_source_kind["debian-tracker"], 5406 + 3534);
    // Alpine advisories are merged per CVE across branches and packages.
    assert!(status.by_source_kind["alpine-secdb"] < report.by_source_kind["alpine-secdb"]);
    assert_eq!(
        status.advisories,
        status.by_source_kind.values().sum::<u64>()
    );
    assert_eq!(status.by_ecosystem["crates.io"], 1206);
    assert_eq!(status.by_ecosystem["PyPI"], 2661);
    assert!(
        status.by_ecosystem["Go"] >= 4200,
        "{:?}",
        status.by_ecosystem
    );
    assert!(
        status.by_ecosystem.contains_key("Debian") && status.by_ecosystem.contains_key("Alpine")
    );
    assert_eq!(status.sources.len(), 1);
    assert!(status.created_at.is_some() && status.last_import_at.is_some());
    assert!(status.file_size > 1_000_000);
    // A single self-contained file: no journal or WAL files left beside it.
    let siblings: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(siblings, ["vuln.db"], "in {}", dir.path().display());
}

#[test]
fn matches_through_the_database() {
    let (_, path, _) = full_db();
    let db = VulnDb::open_existing(path).unwrap();
    let mut xorg = Package::new(
        Ecosystem::Debian,
        "xserver-xorg-core",
        "2:1.20.11-1+deb11u5",
    );
    xorg.source_name = Some("xorg-server".into());
    xorg.distro_release = Some("11".into());
    let pkgs = vec![
        Package::new(Ecosystem::CratesIo, "openssl", "0.8.3"),
        Package::new(Ecosystem::CratesIo, "openssl", "0.10.60"),
        palisade_vuln::matching::go_stdlib_package("go1.20.4", None),
        Package::new(Ecosystem::PyPI, "Distributed", "2021.9.1"),
        xorg,
        Package::new(Ecosystem::Npm, "left-pad", "1.0.0"),
    ];
    let outcome = db.match_packages(&pkgs).unwrap();
    let find = |pkg: &str, ver: &str, id: &str| {
        outcome
            .matches
            .iter()
            .find(|m| m.package == pkg && m.installed_version == ver && m.id == id)
            .unwrap_or_else(|| panic!("{pkg} {ver} {id} not matched"))
    };
    let rustsec = find("openssl", "0.8.3", "CVE-2016-10931");
    assert_eq!(rustsec.advisories, ["RUSTSEC-2016-0001"]);
    assert_eq!(rustsec.severity, Some(Severity::High));
    assert!(
        !outcome
            .matches
            .iter()
            .any(|m| m.installed_version == "0.10.60" && m.id == "CVE-2016-10931")
    );
    assert_eq!(
        find("stdlib", "go1.20.4", "CVE-2023-29403")
            .fixed_version
            .as_deref(),
        Some("1.20.5")
    );
    assert_eq!(
        find("Distributed", "2021.9.1", "CVE-2021-42343").advisories,
        ["PYSEC-2021-871", "PYSEC-2021-872"]
    );
    assert_eq!(
        find("xserver-xorg-core", "2:1.20.11-1+deb11u5", "CVE-2023-1393").advisories,
        ["DSA-5380-1"]
    );
    assert!(!outcome.matches.iter().any(|m| m.package == "left-pad"));
    // The library entry point the scanners call.
    assert_eq!(
        palisade_vulndb::match_packages(&db, &pkgs).unwrap(),
        outcome.matches
    );
}

#[test]
fn reimport_is_idempotent_and_zip_entries_are_imported_with_errors_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    let db = VulnDb::open_or_create(&path).unwrap();
    let files = first_files(&vulndata().join("osv/crates.io"), 50);
    let zip = zip_of(
        &files,
        "crates.io",
        &[("crates.io/BROKEN-1.json", b"{\"id\": ")],
    );
    let zip_path = dir.path().join("all.zip");
    std::fs::write(&zip_path, &zip).unwrap();
    let first = db.import_paths(std::slice::from_ref(&zip_path)).unwrap();
    assert_eq!(first.records, 50);
    assert_eq!(first.error_count, 1);
    assert!(
        first.errors[0].contains("all.zip!crates.io/BROKEN-1.json"),
        "{:?}",
        first.errors
    );
    let again = db.import_paths(&[zip_path]).unwrap();
    assert_eq!(again.records, 50);
    assert_eq!(db.status().unwrap().advisories, 50);
    // Alpine: importing the same secdb twice does not duplicate affected entries.
    let secdb = vulndata().join("alpine/v3.11/main.yaml");
    db.import_paths(std::slice::from_ref(&secdb)).unwrap();
    let count = db.status().unwrap().advisories;
    db.import_paths(&[secdb]).unwrap();
    assert_eq!(db.status().unwrap().advisories, count);
    let mut apache = Package::new(Ecosystem::Alpine, "apache2", "2.4.39-r0");
    apache.distro_release = Some("v3.11".into());
    let m = db.match_packages(&[apache]).unwrap().matches;
    assert_eq!(m.iter().filter(|m| m.id == "CVE-2019-9517").count(), 1);
}

#[test]
fn clear_errors_for_missing_corrupt_and_newer_databases() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    let err = VulnDb::open_existing(&missing).unwrap_err();
    assert!(matches!(err, DbError::Missing(_)));
    assert!(err.to_string().contains("palisade db import"), "{err}");
    assert!(!missing.exists(), "reading never creates a database");

    let not_sqlite = dir.path().join("text.db");
    std::fs::write(
        &not_sqlite,
        "this is not a database, just text that is long enough to matter",
    )
    .unwrap();
    let err = VulnDb::open_existing(&not_sqlite).unwrap_err().to_string();
    assert!(err.contains("text.db"), "{err}");

    let newer = dir.path().join("newer.db");
    VulnDb::open_or_create(&newer).unwrap();
    // Simulate a file written by a future schema with the sqlite3 CLI-free route: sqlx itself.
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::ConnectOptions;
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&newer)
                .connect()
                .await
                .unwrap();
            sqlx::query("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
                .execute(&mut conn)
                .await
                .unwrap();
        });
    }
    let err = VulnDb::open_existing(&newer).unwrap_err();
    assert!(
        matches!(err, DbError::NewerSchema { found: 99, .. }),
        "{err}"
    );

    let db = VulnDb::open_or_create(&dir.path().join("x.db")).unwrap();
    let err = db
        .import_paths(&[dir.path().join("does-not-exist")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("does-not-exist"), "{err}");
    let bad_zip = dir.path().join("bad.zip");
    std::fs::write(&bad_zip, b"PK\x03\x04 truncated").unwrap();
    // A broken archive is a failed input of the report (the CLI exits 3, input unreadable),
    // like a data file that does not parse, not an error that ends the import.
    let report = db.import_paths(&[bad_zip]).unwrap();
    assert_eq!(report.error_count, 1);
    let err = &report.errors[0];
    assert!(err.contains("bad.zip") && err.contains("zip"), "{err}");
}

/// A zip whose central directory lists the same compressed member many times (entries
/// overlapping in the archive) inflates far more than its size; the import stops at the
/// archive's inflation budget and says so instead of inflating gigabytes.
#[test]
fn overlapping_zip_entries_stop_at_the_inflation_budget() {
    let bomb = common::overlapping_zip(8 << 20, 200);
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("v.db")).unwrap();
    let started = std::time::Instant::now();
    let report = db.import_bytes("bomb.zip", "bomb.zip", &bomb).unwrap();
    let message = report
        .errors
        .iter()
        .find(|e| e.contains("inflates to more than 268435456 bytes"))
        .unwrap_or_else(|| panic!("no budget error: {:?}", report.errors));
    assert!(message.starts_with("bomb.zip: "), "{message}");
    // 200 entries × 8 MiB = 1.6 GiB; the budget (256 MiB) is reached after 33 of them.
    assert!(message.contains("of 200 entries"), "{message}");
    assert_eq!(report.records, 0);
    eprintln!("stopped after {:?}", started.elapsed());
}

/// The same bomb with a wrong checksum: every member fails only after it was inflated whole,
/// and those bytes count toward the budget too (they once did not, so such an archive inflated
/// without bound). Read from a file, as `db import` reads it.
#[test]
fn overlapping_entries_with_a_wrong_checksum_still_stop_at_the_inflation_budget() {
    let bomb = common::overlapping_zip_with(8 << 20, 200, true);
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.zip");
    std::fs::write(&path, &bomb).unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("v.db")).unwrap();
    let report = db.import_paths(&[path]).unwrap();
    let checksum_errors = report
        .errors
        .iter()
        .filter(|e| e.contains("checksum"))
        .count();
    // Each member was read to its end (so the checksum was checked) until the budget.
    assert!(checksum_errors >= 30, "{:?}", report.errors);
    let message = report
        .errors
        .iter()
        .find(|e| e.contains("inflates to more than 268435456 bytes"))
        .unwrap_or_else(|| panic!("no budget error: {:?}", report.errors));
    assert!(message.contains("of 200 entries"), "{message}");
    assert!(
        checksum_errors < 40,
        "{checksum_errors} members read past the budget"
    );
    assert_eq!(report.records, 0);
}

#[test]
fn demo_extract_imports_and_matches() {
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open_or_create(&dir.path().join("demo.db")).unwrap();
    let demo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo-data");
    let report = db.import_paths(&[demo]).unwrap();
    assert_eq!(report.error_count, 0, "{:?}", report.errors);
    assert!(report.records > 300, "{report:?}");
    // GO-2023-1840 (CVE-2023-29403) is in the extract: stdlib before 1.20.5.
    let m = db
        .match_packages(&[palisade_vuln::matching::go_stdlib_package("1.20.4", None)])
        .unwrap()
        .matches;
    assert!(
        m.iter()
            .any(|m| m.id == "CVE-2023-29403" && m.fixed_version.as_deref() == Some("1.20.5"))
    );
}

/// A FIFO in an imported directory (named like data, as a zip, or reached through a symlink)
/// is reported and not opened for reading: `open()` on a FIFO blocks until a writer comes, so
/// reading it would hang the import. The regular files beside it are still imported.
#[test]
fn fifos_in_an_imported_directory_are_reported_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for f in first_files(&vulndata().join("osv/crates.io"), 3) {
        std::fs::copy(&f, data.join(f.file_name().unwrap())).unwrap();
    }
    for name in ["pipe.json", "pipe.zip", "DSA-list-pipe"] {
        let status = std::process::Command::new("mkfifo")
            .arg(data.join(name))
            .status()
            .unwrap();
        assert!(status.success(), "mkfifo {name}");
    }
    std::os::unix::fs::symlink(data.join("pipe.json"), data.join("link.json")).unwrap();
    let db_path = dir.path().join("v.db");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let db = VulnDb::open_or_create(&db_path).unwrap();
        let _ = tx.send(db.import_paths(&[data]).unwrap());
    });
    let report = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the import blocked on a FIFO");
    assert_eq!(report.records, 3, "{report:?}");
    // A name that is not data is reported too (it is not opened to sniff its head).
    for name in ["pipe.json", "pipe.zip", "link.json", "DSA-list-pipe"] {
        assert!(
            report.errors.iter().any(|e| e.ends_with(&format!(
                "data/{name}: not a regular file (a FIFO); not read"
            ))),
            "{name}: {:?}",
            report.errors
        );
    }
    assert_eq!(report.error_count, 4, "{:?}", report.errors);
}
