//! End-to-end inventory of OCI layouts built from real files of this machine (dpkg database,
//! os-release, Python dist-info, npm packages, a Debian-built Go binary, Cargo.lock), a real
//! rpm database made by rpmbuild + rpm, docker archives written by skopeo, and a debootstrap
//! root filesystem. Expectations come from independent tools (dpkg-query, rpm, dpkg
//! Built-Using) or from the files' own names.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use palisade_image::builder::{ImageSpec, LayerBuilder, OciLayoutWriter};
use palisade_image::source::NoProgress;
use palisade_image::{ImageScan, Limits, scan_archive, scan_oci_layout, scan_rootfs};
use palisade_model::{Ecosystem, Package};
use palisade_testkit::cache;
use serde_json::json;

fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn find<'a>(scan: &'a ImageScan, eco: Ecosystem, name: &str) -> &'a Package {
    scan.packages
        .iter()
        .find(|p| p.ecosystem == eco && p.name == name)
        .unwrap_or_else(|| panic!("{eco} {name} not found"))
}

/// Halves a dpkg status file at a paragraph boundary.
fn first_half_of_status(status: &str) -> String {
    let paras: Vec<&str> = status.split("\n\n").collect();
    paras[..paras.len() / 2].join("\n\n") + "\n"
}

/// `package.json` of semver as npm installed it (scripts/setup/20-registry.sh).
fn semver_package_json() -> PathBuf {
    cache::npm_package("semver").join("package.json")
}

fn build_host_image(dir: &Path, zstd_app_layer: bool) -> (String, String) {
    let status = String::from_utf8(host_file("/var/lib/dpkg/status")).unwrap();
    let os_release = host_file("/usr/lib/os-release");
    let registry_bin = host_file("/usr/bin/docker-registry");
    let site = cache::sbom_venv().site_packages();
    let click = std::fs::read_dir(&site)
        .expect("python venv from scripts/setup/20-registry.sh")
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name().to_string_lossy().starts_with("click-")
                && e.file_name().to_string_lossy().ends_with(".dist-info")
        })
        .expect("click dist-info in the venv");
    let click_meta = std::fs::read(click.path().join("METADATA")).unwrap();
    let semver_json = std::fs::read(semver_package_json()).unwrap();
    let cargo_lock =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
    let inner_jar = jar(&[(
        "META-INF/maven/org.yaml/snakeyaml/pom.properties",
        b"groupId=org.yaml\nartifactId=snakeyaml\nversion=1.33\n",
    )]);
    let app_jar = jar(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nImplementation-Version: 2.0\r\n\r\n",
        ),
        (
            "META-INF/maven/com.example/app/pom.properties",
            b"#x\ngroupId=com.example\nartifactId=app\nversion=2.0.1\n",
        ),
        ("BOOT-INF/lib/snakeyaml-1.33.jar", &inner_jar),
    ]);
    let key = run(Command::new("openssl").args(["genpkey", "-algorithm", "ed25519"]));

    let base = LayerBuilder::new()
        .file("usr/lib/os-release", 0o644, &os_release)
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file(
            "var/lib/dpkg/status",
            0o644,
            first_half_of_status(&status).as_bytes(),
        )
        .file(
            "usr/bin/busybox",
            0o755,
            b"#!not really busybox but a file\n",
        )
        .symlink("bin/sh", "/usr/bin/busybox")
        .file("usr/bin/curl", 0o755, b"curl")
        .gzip();
    let app = LayerBuilder::new()
        .file("var/lib/dpkg/status", 0o644, status.as_bytes())
        .file("usr/local/bin/registry", 0o755, &registry_bin)
        .file(
            &format!(
                "usr/lib/python3/dist-packages/{}/METADATA",
                click.file_name().to_string_lossy()
            ),
            0o644,
            &click_meta,
        )
        .file("app/node_modules/semver/package.json", 0o644, &semver_json)
        .file("app/Cargo.lock", 0o644, &cargo_lock)
        .file("opt/app.jar", 0o644, &app_jar)
        .file("root/.ssh/id_ed25519", 0o600, key.as_bytes());
    let app = if zstd_app_layer {
        app.zstd()
    } else {
        app.gzip()
    };
    let cleanup = LayerBuilder::new().whiteout("usr/bin/curl").gzip();
    let mut spec = ImageSpec::new(vec![base, app, cleanup]);
    spec.runtime = json!({
        "User": "app",
        "Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter2"],
        "ExposedPorts": {"8080/tcp": {}},
        "Entrypoint": ["/usr/local/bin/registry"],
        "Labels": {"org.opencontainers.image.source": "https://example.invalid/app"}
    });
    spec.history = vec![
        "/bin/sh -c #(nop) ADD file:1234 in / ".into(),
        "RUN /bin/sh -c curl -fsSL https://example.invalid/install.sh | sh # buildkit".into(),
        "COPY app /app # buildkit".into(),
    ];
    let w = OciLayoutWriter::create(dir).unwrap();
    let desc = w.image(&spec).unwrap();
    let layer_digests = {
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                dir.join("blobs/sha256")
                    .join(desc.digest.trim_start_matches("sha256:")),
            )
            .unwrap(),
        )
        .unwrap();
        (
            m["layers"][0]["digest"].as_str().unwrap().to_string(),
            m["layers"][1]["digest"].as_str().unwrap().to_string(),
        )
    };
    w.finish(vec![(desc, Some("app:1.0"))]).unwrap();
    layer_digests
}

fn assert_host_image(scan: &ImageScan, base_layer: &str, app_layer: &str) {
    let os = scan.os.as_ref().expect("os detected");
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("debian", Some("12"))
    );

    // dpkg: exactly what dpkg-query says is installed on this machine.
    let expected = dpkg_query_installed("/var/lib/dpkg");
    let got: BTreeSet<(String, String)> = scan
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Debian)
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(got, expected);
    // Packages already in the base layer's database are attributed to it, the others to the
    // layer that added them.
    let status = String::from_utf8(host_file("/var/lib/dpkg/status")).unwrap();
    let first = first_half_of_status(&status);
    let first_pkg = first
        .lines()
        .find_map(|l| l.strip_prefix("Package: "))
        .unwrap();
    let last_pkg = status
        .lines()
        .filter_map(|l| l.strip_prefix("Package: "))
        .next_back()
        .unwrap();
    let layer_of = |name: &str| {
        scan.packages
            .iter()
            .find(|p| p.ecosystem == Ecosystem::Debian && p.name == name)
            .and_then(|p| p.layer.clone())
    };
    if expected.iter().any(|(n, _)| n == first_pkg) {
        assert_eq!(layer_of(first_pkg).as_deref(), Some(base_layer));
    }
    if expected.iter().any(|(n, _)| n == last_pkg) {
        assert_eq!(layer_of(last_pkg).as_deref(), Some(app_layer));
    }
    let libc = find(scan, Ecosystem::Debian, "libc6");
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    assert_eq!(libc.distro_release.as_deref(), Some("12"));
    assert!(
        libc.purl
            .as_deref()
            .unwrap()
            .starts_with("pkg:deb/debian/libc6@")
    );

    // Go: the toolchain Debian built docker-registry with (dpkg's Built-Using field).
    let built_using =
        run(Command::new("dpkg-query").args(["-W", "-f=${Built-Using}", "docker-registry"]));
    let go = built_using
        .split(", ")
        .find(|s| s.starts_with("golang-1."))
        .unwrap();
    let go_version = go.split("(= ").nth(1).unwrap().split('-').next().unwrap();
    let stdlib = find(scan, Ecosystem::Go, "stdlib");
    assert_eq!(stdlib.version, go_version);
    assert_eq!(stdlib.path.as_deref(), Some("/usr/local/bin/registry"));
    assert_eq!(stdlib.layer.as_deref(), Some(app_layer));

    let click = scan
        .packages
        .iter()
        .find(|p| p.ecosystem == Ecosystem::PyPI)
        .expect("python package");
    assert_eq!(click.name, "click");
    assert!(
        click
            .path
            .as_deref()
            .unwrap()
            .contains(&format!("click-{}.dist-info", click.version))
    );
    let semver_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(semver_package_json()).unwrap()).unwrap();
    assert_eq!(
        find(scan, Ecosystem::Npm, "semver").version,
        semver_json["version"].as_str().unwrap()
    );
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
    let registry_crates = lock.lines().filter(|l| l.starts_with("source = ")).count();
    let crates = scan
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::CratesIo)
        .count();
    assert_eq!(crates, registry_crates);
    assert_eq!(
        find(scan, Ecosystem::Maven, "com.example:app").version,
        "2.0.1"
    );
    let yaml = find(scan, Ecosystem::Maven, "org.yaml:snakeyaml");
    assert_eq!(
        yaml.path.as_deref(),
        Some("/opt/app.jar!BOOT-INF/lib/snakeyaml-1.33.jar")
    );
    assert_eq!(
        yaml.purl.as_deref(),
        Some("pkg:maven/org.yaml/snakeyaml@1.33")
    );
    assert!(
        scan.packages.iter().all(|p| p.purl.is_some()),
        "every package has a purl"
    );

    // Facts.
    let f = &scan.facts;
    assert_eq!(f.user.as_deref(), Some("app"));
    assert!(!f.runs_as_root);
    assert_eq!(f.exposed_ports, ["8080/tcp"]);
    let pw = f.env.iter().find(|e| e.name == "DB_PASSWORD").unwrap();
    assert!(pw.secret.is_some() && pw.value.is_none());
    assert!(
        !serde_json::to_string(scan).unwrap().contains("hunter2"),
        "secret values never leave the scan"
    );
    assert!(f.history[1].download_piped_to_shell);
    assert_eq!(
        f.history[2].instruction,
        palisade_image::facts::Instruction::Copy
    );
    assert_eq!(f.secret_files.len(), 1);
    assert_eq!(f.secret_files[0].path, "/root/.ssh/id_ed25519");
    assert_eq!(f.secret_files[0].layer.as_deref(), Some(app_layer));
    let tools: Vec<&str> = f.tools.iter().map(|t| t.name.as_str()).collect();
    assert!(
        tools.contains(&"sh") && tools.contains(&"busybox"),
        "{tools:?}"
    );
    assert!(!tools.contains(&"curl"), "curl was whited out: {tools:?}");
    assert_eq!(f.created_unix, Some(1_705_314_600));
}

#[test]
fn oci_layout_of_real_files_is_inventoried() {
    let dir = tempfile::tempdir().unwrap();
    let (base, app) = build_host_image(dir.path(), true);
    let scan = scan_oci_layout(
        dir.path(),
        Some("app:1.0"),
        None,
        Limits::default(),
        &NoProgress,
    )
    .unwrap();
    assert_host_image(&scan, &base, &app);
    assert_eq!(scan.layers.len(), 3);
}

#[test]
fn docker_archives_written_by_skopeo_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    // Docker image manifests cannot carry zstd layers, so this image uses gzip only.
    build_host_image(&layout, false);
    // Legacy docker-save layout, written by an independent implementation.
    let legacy = dir.path().join("legacy.tar");
    run(Command::new("skopeo").args([
        "copy",
        "--quiet",
        &format!("oci:{}:app:1.0", layout.display()),
        &format!(
            "docker-archive:{}:example.invalid/app:1.0",
            legacy.display()
        ),
    ]));
    let scan = scan_archive(&legacy, None, None, Limits::default(), &NoProgress).unwrap();
    // skopeo stores layers uncompressed, so layer digests differ; compare the inventory.
    let layers: Vec<String> = scan.layers.iter().map(|l| l.digest.clone()).collect();
    assert_host_image(&scan, &layers[0], &layers[1]);
    let by_tag = scan_archive(
        &legacy,
        Some("example.invalid/app:1.0"),
        None,
        Limits::default(),
        &NoProgress,
    );
    assert!(by_tag.is_ok());
    assert!(
        scan_archive(
            &legacy,
            Some("other:tag"),
            None,
            Limits::default(),
            &NoProgress
        )
        .is_err()
    );

    // OCI-in-tar (the layout of newer `docker save`).
    let oci_tar = dir.path().join("oci.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&layout)
        .arg("-cf")
        .arg(&oci_tar)
        .arg("."));
    let scan2 = scan_archive(&oci_tar, None, None, Limits::default(), &NoProgress).unwrap();
    let layers: Vec<String> = scan2.layers.iter().map(|l| l.digest.clone()).collect();
    assert_host_image(&scan2, &layers[0], &layers[1]);
}

#[test]
fn debootstrap_rootfs_matches_dpkg_query() {
    let root = cache::debian_rootfs();
    let scan = scan_rootfs(&root, Limits::default()).unwrap();
    let expected = dpkg_query_installed(&root.join("var/lib/dpkg").display().to_string());
    let got: BTreeSet<(String, String)> = scan
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Debian)
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert!(expected.len() > 50);
    assert_eq!(got, expected);
    assert_eq!(
        scan.os.as_ref().unwrap().codename.as_deref(),
        Some("bookworm")
    );
    assert!(scan.facts.tools.iter().any(|t| t.name == "apt-get"));
    assert!(scan.facts.tools.iter().any(|t| t.name == "dpkg"));
}

#[test]
fn real_rpm_sqlite_database_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("build");
    for d in ["SPECS", "SOURCES", "BUILD", "RPMS", "SRPMS", "BUILDROOT"] {
        std::fs::create_dir_all(top.join(d)).unwrap();
    }
    let specs = [
        ("palisade-demo", "1.2.3", "4", "5", "MIT"),
        ("palisade-tool", "0.9", "1", "0", "Apache-2.0"),
    ];
    let dbpath = dir.path().join("db");
    std::fs::create_dir_all(&dbpath).unwrap();
    for (name, version, release, epoch, license) in specs {
        let spec = top.join(format!("SPECS/{name}.spec"));
        let epoch_line = if epoch == "0" {
            String::new()
        } else {
            format!("Epoch: {epoch}\n")
        };
        std::fs::write(
            &spec,
            format!("Name: {name}\nVersion: {version}\nRelease: {release}\n{epoch_line}Summary: test\nLicense: {license}\nBuildArch: noarch\n\n%description\ntest package\n\n%files\n"),
        )
        .unwrap();
        run(Command::new("rpmbuild")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .args(["--quiet", "-bb"])
            .arg(&spec));
        let rpm_file = top.join(format!("RPMS/noarch/{name}-{version}-{release}.noarch.rpm"));
        run(Command::new("rpm")
            .arg("--dbpath")
            .arg(&dbpath)
            .args(["-i", "--justdb", "--nodeps", "--noscripts"])
            .arg(&rpm_file));
    }
    // What rpm itself says is installed.
    let expected: BTreeSet<String> = run(Command::new("rpm").arg("--dbpath").arg(&dbpath).args([
        "-qa",
        "--qf",
        "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{LICENSE} %{SOURCERPM}\n",
    ]))
    .lines()
    .map(str::to_string)
    .collect();
    let db = std::fs::read(dbpath.join("rpmdb.sqlite")).expect("rpm's sqlite backend");
    let layout = dir.path().join("layout");
    let layer = LayerBuilder::new()
        .file(
            "etc/os-release",
            0o644,
            b"ID=\"rocky\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3\"\n",
        )
        .file("var/lib/rpm/rpmdb.sqlite", 0o644, &db)
        .gzip();
    let w = OciLayoutWriter::create(&layout).unwrap();
    let d = w.image(&ImageSpec::new(vec![layer])).unwrap();
    w.finish(vec![(d, None)]).unwrap();
    let scan = scan_oci_layout(&layout, None, None, Limits::default(), &NoProgress).unwrap();
    let got: BTreeSet<String> = scan
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Rpm)
        .map(|p| {
            format!(
                "{} {} {} {}-{}.src.rpm",
                p.name,
                p.version,
                p.licenses.join(","),
                p.source_name.clone().unwrap(),
                p.source_version.clone().unwrap_or_else(|| p
                    .version
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .to_string())
            )
        })
        .collect();
    assert_eq!(got, expected);
    let demo = find(&scan, Ecosystem::Rpm, "palisade-demo");
    assert_eq!(demo.version, "5:1.2.3-4");
    assert_eq!(
        demo.purl.as_deref(),
        Some(
            "pkg:rpm/rocky/palisade-demo@1.2.3-4?arch=noarch&distro=rocky-9.3&epoch=5&upstream=palisade-demo-1.2.3-4.src.rpm"
        )
    );
}

#[test]
fn platform_is_chosen_from_a_multi_arch_layout() {
    let dir = tempfile::tempdir().unwrap();
    let w = OciLayoutWriter::create(dir.path()).unwrap();
    let mut amd = ImageSpec::new(vec![
        LayerBuilder::new()
            .file("etc/alpine-release", 0o644, b"3.19.1\n")
            .file("arch", 0o644, b"amd64")
            .gzip(),
    ]);
    amd.runtime = json!({"User": "0"});
    let mut arm = ImageSpec::new(vec![
        LayerBuilder::new()
            .file("etc/alpine-release", 0o644, b"3.19.1\n")
            .file(
                "lib/apk/db/installed",
                0o644,
                b"P:musl\nV:1.2.4-r2\nA:aarch64\no:musl\nL:MIT\n\n",
            )
            .gzip(),
    ]);
    arm.platform = palisade_image::oci::Platform::parse("linux/arm64/v8").unwrap();
    let a = w.image(&amd).unwrap();
    let b = w.image(&arm).unwrap();
    let idx = w.index_blob(&[a, b]).unwrap();
    w.finish(vec![(idx, Some("multi"))]).unwrap();
    let want = palisade_image::oci::Platform::parse("linux/arm64").unwrap();
    let scan = scan_oci_layout(
        dir.path(),
        None,
        Some(&want),
        Limits::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(scan.platform.as_deref(), Some("linux/arm64/v8"));
    let musl = find(&scan, Ecosystem::Alpine, "musl");
    assert_eq!(musl.distro_release.as_deref(), Some("3.19"));
    let scan = scan_oci_layout(
        dir.path(),
        None,
        Some(&palisade_image::oci::Platform::parse("linux/amd64").unwrap()),
        Limits::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(scan.facts.runs_as_root);
    let err = scan_oci_layout(
        dir.path(),
        None,
        Some(&palisade_image::oci::Platform::parse("linux/s390x").unwrap()),
        Limits::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("linux/amd64, linux/arm64/v8"),
        "{err}"
    );
}
