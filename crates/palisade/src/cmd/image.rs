//! `palisade image scan`: open an image (registry reference, OCI layout, docker archive or root
//! filesystem), inventory it and print a table, JSON, CycloneDX 1.6 or SPDX 2.3.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::ValueEnum;
use palisade_image::oci::Platform;
use palisade_image::source::{NoProgress, Progress};
use palisade_image::{ImageScan, Limits};
use palisade_registry::{AuthSource, PullOptions, RemoteImage};
use palisade_sbom::SbomInput;

use crate::exit;

/// Output format of `image scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable summary and package table.
    Table,
    /// The full scan as JSON (packages, facts, layers, diagnostics).
    Json,
    /// CycloneDX 1.6 JSON SBOM.
    Cyclonedx,
    /// SPDX 2.3 JSON SBOM.
    Spdx,
}

/// `palisade image …`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Inventory an image's OS and language packages and report facts for policy.
    #[command(
        after_help = "Exactly one source: REF (pulled from its registry), --oci-layout DIR, --archive FILE (docker save) or --rootfs DIR.\n\nCredentials: --username with $PALISADE_REGISTRY_PASSWORD, else the docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json), else anonymous. Plain HTTP is used only for loopback registries and those given with --insecure-registry.\n\nExamples:\n  palisade image scan registry.example/team/app:1.4 --platform linux/arm64\n  palisade image scan --archive app.tar --format cyclonedx > app.cdx.json\n  palisade image scan --oci-layout ./layout --image app:1.0 --format spdx -o app.spdx.json\n  palisade image scan --rootfs /srv/chroot --format json\n\nExit status: 0 success; 2 usage error; 3 the image could not be read or was refused (unsafe layer, digest mismatch, size caps)."
    )]
    Scan(ScanArgs),
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
    /// Registry (`host[:port]`) that may be reached over plain HTTP (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
    /// Registry username (password from $PALISADE_REGISTRY_PASSWORD).
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Largest total uncompressed image size, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 16384)]
    pub max_size_mib: u64,
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
    let Command::Scan(args) = command;
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
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
        let auth = match &args.username {
            Some(user) => AuthSource::Basic {
                username: user.clone(),
                password: std::env::var("PALISADE_REGISTRY_PASSWORD")
                    .context("--username needs the password in $PALISADE_REGISTRY_PASSWORD")?,
            },
            None => AuthSource::DockerConfig,
        };
        let options = PullOptions {
            platform: platform.clone(),
            insecure_registries: args.insecure_registries.clone(),
            auth,
        };
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
            eprintln!("palisade: error: {e}");
            return Ok(exit::code(exit::INPUT_ERRORS));
        }
    };
    let text = match args.format {
        Format::Table => crate::render::image::table(&scan),
        Format::Json => serde_json::to_string_pretty(&scan)? + "\n",
        Format::Cyclonedx | Format::Spdx => {
            let created = now_rfc3339();
            let os = scan.os.as_ref().map(|o| {
                (
                    o.id.clone(),
                    o.version_id
                        .clone()
                        .or(o.codename.clone())
                        .unwrap_or_default(),
                )
            });
            let input = SbomInput {
                subject: &scan.source,
                subject_version: scan.manifest_digest.as_deref(),
                os: os.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                packages: &scan.packages,
                created: &created,
                tool_name: "palisade",
                tool_version: env!("CARGO_PKG_VERSION"),
            };
            let doc = if args.format == Format::Cyclonedx {
                palisade_sbom::cyclonedx::write(&input)
            } else {
                palisade_sbom::spdx::write(&input)
            };
            serde_json::to_string_pretty(&doc)? + "\n"
        }
    };
    crate::output::emit(&text, args.output.as_ref())?;
    Ok(ExitCode::SUCCESS)
}

/// The current UTC time as `YYYY-MM-DDThh:mm:ssZ`.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = crate::cmd::today_utc();
    let rem = secs % 86_400;
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
