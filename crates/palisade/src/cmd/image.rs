//! `palisade image scan`: open an image (registry reference, OCI layout, docker archive or root
//! filesystem), inventory it, match its packages against the vulnerability database (feature
//! `vuln`) and print a table, JSON, SARIF 2.1.0, CycloneDX 1.6 or SPDX 2.3.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use palisade_image::oci::Platform;
use palisade_image::source::{NoProgress, Progress};
use palisade_image::{ImageScan, Limits};
use palisade_model::time::{Clock, SystemClock};
use palisade_registry::RemoteImage;

use crate::exit;
use crate::render::image::{Format, ImageReport};

/// `palisade image …`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Inventory an image's OS and language packages and report facts for policy.
    #[command(
        after_help = "Exactly one source: REF (pulled from its registry), --oci-layout DIR, --archive FILE (docker save) or --rootfs DIR.\n\nCredentials: --username with $PALISADE_REGISTRY_PASSWORD, else the docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json), else anonymous. Plain HTTP is used only for loopback registries and those given with --insecure-registry.\n\nExamples:\n  palisade image scan registry.example/team/app:1.4 --platform linux/arm64\n  palisade image scan --archive app.tar --format cyclonedx > app.cdx.json\n  palisade image scan --oci-layout ./layout --image app:1.0 --format spdx -o app.spdx.json\n  palisade image scan --rootfs /srv/chroot --format json\n\nVulnerabilities (table, json, sarif): packages are matched against the offline database (--db FILE, else $PALISADE_DB, else $XDG_DATA_HOME/palisade/vuln.db; fill it with `palisade db import` or `palisade db update`). Without a database the packages are still listed, with a warning. Go binaries are matched on their toolchain version (Go module `stdlib`). CycloneDX and SPDX output lists packages only.\n  palisade image scan --rootfs /srv/chroot --fail-on high --fixable-only\n  palisade image scan --archive app.tar --format sarif -o app.sarif\n\nExit status: 0 success; 1 --fail-on: a shown vulnerability at or above the severity, or a notorious one (Log4Shell, …); 2 usage error; 3 the image could not be read or was refused (unsafe layer, digest mismatch, size caps), or --fail-on was given and no database could be used."
    )]
    Scan(ScanArgs),
    #[cfg(feature = "trust")]
    /// Verify an image's cosign signatures against public keys.
    Verify(crate::cmd::image_trust::VerifyArgs),
    #[cfg(feature = "trust")]
    /// Sign an image with a cosign private key (cosign-compatible registry layout).
    Sign(crate::cmd::image_trust::SignArgs),
}

/// Arguments of `image scan`.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Image reference to pull (`registry/repo:tag` or `@sha256:…`).
    #[arg(value_name = "REF", conflicts_with_all = ["oci_layout", "archive", "rootfs"])]
    pub reference: Option<String>,
    /// OCI image layout directory.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["archive", "rootfs"])]
    pub oci_layout: Option<PathBuf>,
    /// `docker save` archive (legacy or OCI layout inside the tar).
    #[arg(long, value_name = "FILE", conflicts_with = "rootfs")]
    pub archive: Option<PathBuf>,
    /// Root filesystem directory.
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// Which image of a layout (ref.name annotation) or archive (repo tag) to scan.
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,
    /// Platform to choose from a multi-arch image (`os/arch[/variant]`).
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Registry access (for REF).
    #[command(flatten)]
    pub registry: crate::registry_args::RegistryArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Largest total uncompressed image size, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 16384)]
    pub max_size_mib: u64,
    /// Vulnerability matching options.
    #[cfg(feature = "vuln")]
    #[command(flatten)]
    pub vulns: VulnArgs,
}

/// Vulnerability options of `image scan` and `sbom scan`.
#[cfg(feature = "vuln")]
#[derive(clap::Args, Debug, Clone)]
pub struct VulnArgs {
    /// Vulnerability database file [default: $XDG_DATA_HOME/palisade/vuln.db].
    #[arg(long, value_name = "FILE", env = "PALISADE_DB")]
    pub db: Option<PathBuf>,
    /// Exit with status 1 when a shown vulnerability has this severity or higher, or is on the
    /// notorious list (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", env = "PALISADE_FAIL_ON")]
    pub fail_on: Option<palisade_model::Severity>,
    /// Show only vulnerabilities that have a fixed version (notorious ones are always shown).
    #[arg(long)]
    pub fixable_only: bool,
    /// Show only vulnerabilities of this severity or higher (notorious ones are always shown);
    /// those of unknown severity are hidden too.
    #[arg(long, value_name = "SEVERITY", env = "PALISADE_MIN_SEVERITY")]
    pub min_severity: Option<palisade_model::Severity>,
    /// Accepted vulnerabilities: a YAML file of entries with `id`, `reason`, `expires` and an
    /// optional `package`; expired entries stop applying and are reported.
    #[arg(long, value_name = "FILE", env = "PALISADE_IGNORE_FILE")]
    pub ignore_file: Option<PathBuf>,
    /// OpenVEX document (JSON); its `not_affected` and `fixed` statements suppress the
    /// vulnerabilities they name, with their justification shown. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// List packages only: do not match vulnerabilities.
    #[arg(long, conflicts_with_all = ["fail_on", "fixable_only", "min_severity", "ignore_file", "vex"])]
    pub no_vulns: bool,
}

/// The ignore file and VEX documents named by `args`, read and parsed.
#[cfg(feature = "vuln")]
pub fn suppressions(args: &VulnArgs) -> anyhow::Result<palisade_vuln::Suppressions> {
    use anyhow::Context;
    use palisade_vuln::suppress::{parse_ignore_file, parse_openvex};
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    let mut s = palisade_vuln::Suppressions::default();
    if let Some(path) = &args.ignore_file {
        s.ignores =
            parse_ignore_file(&read(path)?).with_context(|| format!("{}", path.display()))?;
    }
    for path in &args.vex {
        s.vex
            .extend(parse_openvex(&read(path)?).with_context(|| format!("{}", path.display()))?);
    }
    Ok(s)
}

/// Matches packages against the database under the options; `None` with `--no-vulns`. A
/// missing or unusable database gives an `unavailable` report and a warning on stderr.
#[cfg(feature = "vuln")]
pub fn vulnerability_report(
    args: &VulnArgs,
    suppressions: &palisade_vuln::Suppressions,
    packages: &[palisade_model::Package],
) -> Option<palisade_vuln::VulnReport> {
    use palisade_vuln::VulnReport;
    use palisade_vuln::report::ReportOptions;
    if args.no_vulns {
        return None;
    }
    let unavailable = |path: Option<&std::path::Path>, reason: String| {
        eprintln_safe!(
            "palisade: warning: {reason}; packages are listed without vulnerabilities{}",
            if args.fail_on.is_some() {
                " and --fail-on cannot pass"
            } else {
                ""
            }
        );
        VulnReport::unavailable(
            path.map(|p| p.display().to_string()),
            reason,
            args.fail_on,
            args.fixable_only,
        )
    };
    let (path, db) = match crate::vuln_db::open_for_matching(args.db.as_deref()) {
        Ok(opened) => opened,
        Err(e) => return Some(unavailable(e.path.as_deref(), e.reason)),
    };
    let options = ReportOptions {
        fail_on: args.fail_on,
        fixable_only: args.fixable_only,
        min_severity: args.min_severity,
        suppressions,
        today: SystemClock.today(),
    };
    let report = match db.match_packages(packages) {
        Ok(outcome) => VulnReport::matched(
            path.display().to_string(),
            &outcome.matches,
            outcome.stats,
            packages,
            &options,
        ),
        Err(e) => return Some(unavailable(Some(&path), e.to_string())),
    };
    for warning in report.stats.iter().flat_map(|s| &s.unparsed_versions) {
        eprintln_safe!("palisade: warning: {warning}");
    }
    for rule in &report.expired_ignores {
        eprintln_safe!(
            "palisade: warning: ignore entry for {} expired on {}; it no longer applies",
            rule.id,
            rule.expires
        );
    }
    Some(report)
}

/// The exit status after a vulnerability report: 1 when `--fail-on` fails, 3 when `--fail-on`
/// was given but nothing could be matched, else success. Explains a failure on stderr.
#[cfg(feature = "vuln")]
pub fn vulnerability_exit(report: Option<&palisade_vuln::VulnReport>) -> ExitCode {
    let Some(r) = report else {
        return ExitCode::SUCCESS;
    };
    if r.fail_on_unanswered() {
        return exit::code(exit::INPUT_ERRORS);
    }
    match crate::render::vuln::failure_message(r) {
        Some(msg) => {
            eprintln_safe!("palisade: --fail-on: {msg}");
            exit::code(exit::FINDINGS)
        }
        None => ExitCode::SUCCESS,
    }
}

/// An indicatif progress bar for layer pulls/unpacking, shown only on a terminal.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start_layer(&self, index: usize, count: usize, digest: &str, size: u64) {
        self.0.reset();
        self.0.set_length(size);
        let short = digest
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect::<String>();
        self.0
            .set_message(format!("layer {}/{count} {short}", index + 1));
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish_layer(&self) {}
}

fn progress() -> Box<dyn Progress> {
    if !std::io::stderr().is_terminal() {
        return Box::new(NoProgress);
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
    ) {
        bar.set_style(style);
    }
    Box::new(Bar(bar))
}

/// Runs `palisade image …`.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let args = match command {
        Command::Scan(args) => args,
        #[cfg(feature = "trust")]
        Command::Verify(args) => return crate::cmd::image_trust::run_verify(args),
        #[cfg(feature = "trust")]
        Command::Sign(args) => return crate::cmd::image_trust::run_sign(args),
    };
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    // Read before the image: a bad ignore file or VEX document is a usage error, found early.
    #[cfg(feature = "vuln")]
    let suppressions = suppressions(&args.vulns)?;
    let limits = Limits {
        max_total_uncompressed: args.max_size_mib.saturating_mul(1 << 20),
        ..Limits::default()
    };
    let progress = progress();
    let result: Result<ImageScan, String> = if let Some(dir) = &args.oci_layout {
        palisade_image::scan_oci_layout(
            dir,
            args.image.as_deref(),
            platform.as_ref(),
            limits,
            progress.as_ref(),
        )
        .map_err(|e| e.to_string())
    } else if let Some(file) = &args.archive {
        palisade_image::scan_archive(
            file,
            args.image.as_deref(),
            platform.as_ref(),
            limits,
            progress.as_ref(),
        )
        .map_err(|e| e.to_string())
    } else if let Some(dir) = &args.rootfs {
        palisade_image::scan_rootfs(dir, limits).map_err(|e| e.to_string())
    } else if let Some(reference) = &args.reference {
        let options = args.registry.pull_options(platform.clone())?;
        RemoteImage::open(reference, &options)
            .map_err(|e| e.to_string())
            .and_then(|image| {
                palisade_image::scan_resolved(&image, &image.resolved, limits, progress.as_ref())
                    .map(|mut scan| {
                        scan.source = image.reference();
                        scan
                    })
                    .map_err(|e| e.to_string())
            })
    } else {
        bail!("give an image: REF, --oci-layout DIR, --archive FILE or --rootfs DIR");
    };
    drop(progress);
    let scan = match result {
        Ok(scan) => scan,
        Err(e) => {
            eprintln_safe!("palisade: error: {e}");
            return Ok(exit::code(exit::INPUT_ERRORS));
        }
    };
    #[cfg(feature = "vuln")]
    let vulns = match args.format {
        Format::Cyclonedx | Format::Spdx => None,
        _ => vulnerability_report(&args.vulns, &suppressions, &scan.packages),
    };
    let created = SystemClock.now().rfc3339();
    let report = ImageReport {
        scan: &scan,
        #[cfg(feature = "vuln")]
        vulns: vulns.as_ref(),
        created: &created,
    };
    let text = crate::render::image::render(&report, args.format)?;
    crate::output::emit_for(&text, args.output.as_ref(), args.format.for_people())?;
    #[cfg(feature = "vuln")]
    return Ok(vulnerability_exit(vulns.as_ref()));
    #[cfg(not(feature = "vuln"))]
    Ok(ExitCode::SUCCESS)
}
