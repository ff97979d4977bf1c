//! SBOMs of a real root filesystem (the debootstrap tree built by scripts/setup) and of
//! packages of every ecosystem: validated against the official CycloneDX 1.6 JSON schema (as
//! shipped by cyclonedx-python-lib) with the `jsonschema` crate and with cyclonedx-python-lib's
//! own validator, against SPDX 2.3 with the SPDX reference tool `pyspdxtools`, and read back.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_model::{Ecosystem, Package};
use palisade_sbom::{SbomFormat, SbomInput, cyclonedx, read, spdx};
use palisade_testkit::{cache, tool};
use serde_json::Value;

fn schema_dir() -> PathBuf {
    cache::sbom_venv()
        .site_packages()
        .join("cyclonedx/schema/_res")
}

struct LocalSchemas(PathBuf);

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or("").to_string();
        let bytes = std::fs::read(self.0.join(&name))?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// What a validator that ran said about a document. A validator that cannot run (missing, or
/// crashing) fails the test instead: it is never taken for a rejection.
#[derive(Debug, PartialEq)]
enum Verdict {
    Valid,
    /// Rejected, with the validator's report.
    Invalid(String),
}

/// The official CycloneDX 1.6 JSON schema (as cyclonedx-python-lib ships it), checked with the
/// `jsonschema` crate; a rejection lists up to ten errors with their instance paths.
fn cyclonedx_schema_verdict(doc: &Value) -> Verdict {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(schema_dir().join("bom-1.6.SNAPSHOT.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .with_retriever(LocalSchemas(schema_dir()))
        .build(&schema)
        .expect("the CycloneDX 1.6 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    if errors.is_empty() {
        Verdict::Valid
    } else {
        Verdict::Invalid(format!("{errors:#?}"))
    }
}

/// The CycloneDX project's own validator (cyclonedx-python-lib's strict JSON validator). The
/// script exits 3 on a rejection, so a Python failure (exit 1) is not mistaken for one.
fn cyclonedx_lib_verdict(doc: &Value, dir: &Path) -> Verdict {
    let file = dir.join("bom.cdx.json");
    std::fs::write(&file, serde_json::to_vec(doc).unwrap()).unwrap();
    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nerr = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nprint(err or '')\nsys.exit(3 if err else 0)\n";
    let (status, text) = tool::report(
        Command::new(cache::sbom_venv().python())
            .arg("-c")
            .arg(script)
            .arg(&file),
    );
    match status.code() {
        Some(0) => Verdict::Valid,
        Some(3) => Verdict::Invalid(text),
        _ => panic!("cyclonedx-python-lib did not run: {text}"),
    }
}

/// The SPDX reference validator, `pyspdxtools`: exit 0 without errors is valid; exit 1 with
/// its "The document is invalid" report is a rejection; anything else is a failure to run.
fn pyspdxtools_verdict(doc: &Value, dir: &Path) -> Verdict {
    let file = dir.join("bom.spdx.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let (status, text) = tool::report(
        Command::new(cache::sbom_venv().bin("pyspdxtools"))
            .arg("-i")
            .arg(&file),
    );
    if status.success() && !text.contains("ERROR") && !text.contains("invalid") {
        Verdict::Valid
    } else if status.code() == Some(1) && text.contains("The document is invalid") {
        Verdict::Invalid(text)
    } else {
        panic!("pyspdxtools did not run to a verdict: {text}")
    }
}

fn validate_cyclonedx(doc: &Value, dir: &Path) {
    if let Verdict::Invalid(errors) = cyclonedx_schema_verdict(doc) {
        panic!("CycloneDX schema errors: {errors}");
    }
    if let Verdict::Invalid(report) = cyclonedx_lib_verdict(doc, dir) {
        panic!("cyclonedx-python-lib: {report}");
    }
}

fn validate_spdx(doc: &Value, dir: &Path) {
    if let Verdict::Invalid(report) = pyspdxtools_verdict(doc, dir) {
        panic!("pyspdxtools: {report}");
    }
}

fn every_ecosystem() -> Vec<Package> {
    let mut out = Vec::new();
    let mut add = |eco: Ecosystem,
                   name: &str,
                   version: &str,
                   purl: &str,
                   lic: &[&str],
                   src: Option<(&str, Option<&str>)>,
                   release: Option<&str>| {
        let mut p = Package::new(eco, name, version);
        p.purl = Some(purl.to_string());
        p.licenses = lic.iter().map(|s| s.to_string()).collect();
        if let Some((n, v)) = src {
            p.source_name = Some(n.to_string());
            p.source_version = v.map(str::to_string);
        }
        p.distro_release = release.map(str::to_string);
        p.path = Some("/var/lib/x".into());
        p.layer = Some(format!("sha256:{}", "a".repeat(64)));
        out.push(p);
    };
    add(
        Ecosystem::Debian,
        "bsdutils",
        "1:2.38.1-5+b1",
        "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5",
        &[],
        Some(("util-linux", Some("2.38.1-5"))),
        Some("12"),
    );
    add(
        Ecosystem::Alpine,
        "libcrypto3",
        "3.1.4-r5",
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl",
        &["Apache-2.0"],
        Some(("openssl", None)),
        Some("3.19"),
    );
    add(
        Ecosystem::Rpm,
        "openssl-libs",
        "1:3.0.7-25.el9",
        "pkg:rpm/redhat/openssl-libs@3.0.7-25.el9?arch=x86_64&epoch=1&upstream=openssl-3.0.7-25.el9.src.rpm",
        &["Apache-2.0"],
        Some(("openssl", None)),
        None,
    );
    add(
        Ecosystem::PyPI,
        "requests",
        "2.31.0",
        "pkg:pypi/requests@2.31.0",
        &["Apache 2.0 License"],
        None,
        None,
    );
    add(
        Ecosystem::Npm,
        "@babel/core",
        "7.23.0",
        "pkg:npm/%40babel/core@7.23.0",
        &["MIT"],
        None,
        None,
    );
    add(
        Ecosystem::CratesIo,
        "serde",
        "1.0.200",
        "pkg:cargo/serde@1.0.200",
        &["MIT OR Apache-2.0"],
        None,
        None,
    );
    add(
        Ecosystem::Go,
        "golang.org/x/net",
        "v0.17.0",
        "pkg:golang/golang.org/x/net@v0.17.0",
        &[],
        None,
        None,
    );
    add(
        Ecosystem::Go,
        "stdlib",
        "1.21.5",
        "pkg:golang/stdlib@1.21.5",
        &[],
        None,
        None,
    );
    add(
        Ecosystem::Maven,
        "org.yaml:snakeyaml",
        "1.33",
        "pkg:maven/org.yaml/snakeyaml@1.33",
        &[
            "Apache-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ],
        None,
        None,
    );
    out
}

fn input<'a>(packages: &'a [Package]) -> SbomInput<'a> {
    SbomInput {
        subject: "registry.example/team/app:1.0",
        subject_version: Some(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
        os: Some(("debian", "12")),
        packages,
        created: "2024-01-15T10:30:00Z",
        tool_name: "palisade",
        tool_version: "0.1.0",
    }
}

type Key = Vec<Option<String>>;

fn key(p: &Package) -> Key {
    vec![
        Some(p.ecosystem.to_string()),
        Some(p.name.clone()),
        Some(p.version.clone()),
        p.purl.clone(),
        p.source_name.clone(),
        p.source_version.clone(),
        p.distro_release.clone(),
        p.path.clone(),
        p.layer.clone(),
    ]
}

#[test]
fn every_ecosystem_validates_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let pkgs = every_ecosystem();
    let cdx = cyclonedx::write(&input(&pkgs));
    validate_cyclonedx(&cdx, dir.path());
    let back = read(&serde_json::to_vec(&cdx).unwrap(), "bom").unwrap();
    assert_eq!(back.format, SbomFormat::CycloneDx);
    assert_eq!(
        back.packages.iter().map(key).collect::<Vec<_>>(),
        pkgs.iter().map(key).collect::<Vec<_>>()
    );

    let doc = spdx::write(&input(&pkgs));
    validate_spdx(&doc, dir.path());
    let back = read(&serde_json::to_vec(&doc).unwrap(), "spdx").unwrap();
    assert_eq!(back.format, SbomFormat::Spdx);
    assert_eq!(
        back.packages.iter().map(key).collect::<Vec<_>>(),
        pkgs.iter().map(key).collect::<Vec<_>>()
    );
    // Same content, same identifiers.
    assert_eq!(
        cyclonedx::write(&input(&pkgs))["serialNumber"],
        cdx["serialNumber"]
    );
}

#[test]
fn debootstrap_rootfs_sbom_validates() {
    let root = cache::debian_rootfs();
    let scan = palisade_image::scan_rootfs(&root, palisade_image::Limits::default()).unwrap();
    assert!(scan.packages.len() > 50);
    let dir = tempfile::tempdir().unwrap();
    let cdx = cyclonedx::write(&input(&scan.packages));
    validate_cyclonedx(&cdx, dir.path());
    let doc = spdx::write(&input(&scan.packages));
    validate_spdx(&doc, dir.path());
    for d in [&cdx, &doc] {
        let back = read(&serde_json::to_vec(d).unwrap(), "bom").unwrap();
        assert_eq!(
            back.packages.iter().map(key).collect::<Vec<_>>(),
            scan.packages.iter().map(key).collect::<Vec<_>>()
        );
    }
}

#[test]
fn malformed_documents_are_clear_errors() {
    assert!(
        read(b"{", "x.json")
            .unwrap_err()
            .to_string()
            .contains("x.json")
    );
    let e = read(br#"{"hello": 1}"#, "y.json").unwrap_err().to_string();
    assert!(e.contains("neither a CycloneDX"), "{e}");
    assert!(read(br#"{"bomFormat":"CycloneDX","components":5}"#, "z").is_err());
}

#[test]
fn the_validators_reject_broken_documents() {
    let dir = tempfile::tempdir().unwrap();
    let pkgs = every_ecosystem();
    let mut cdx = cyclonedx::write(&input(&pkgs));
    cdx["components"][1]["type"] = serde_json::json!("not-a-component-type");
    // Each validator ran and rejected the document for what was broken.
    match cyclonedx_schema_verdict(&cdx) {
        Verdict::Invalid(errors) => assert!(
            errors.contains("not-a-component-type") && errors.contains("/components/1/type"),
            "{errors}"
        ),
        Verdict::Valid => panic!("schema validation must catch an invalid component type"),
    }
    match cyclonedx_lib_verdict(&cdx, dir.path()) {
        Verdict::Invalid(report) => assert!(report.contains("not-a-component-type"), "{report}"),
        Verdict::Valid => panic!("cyclonedx-python-lib must catch an invalid component type"),
    }
    let mut doc = spdx::write(&input(&pkgs));
    doc["packages"][2]["licenseDeclared"] = serde_json::json!("Bogus Licence Text");
    match pyspdxtools_verdict(&doc, dir.path()) {
        Verdict::Invalid(report) => assert!(report.contains("Bogus Licence Text"), "{report}"),
        Verdict::Valid => panic!("pyspdxtools must reject an invalid licence expression"),
    }
}
