//! `palisade sigstore verify-blob`: a Sigstore bundle verified offline for a file (issue #22),
//! with cosign verify-blob's flag names.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use palisade_trust::PublicKey;
use palisade_trust::sigstore::{
    Artifact, IdentityPolicy, Matcher, Signer, TrustedRoot, verify_bundle,
};

use crate::exit;

/// `palisade sigstore …`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Verify a Sigstore bundle for a file, offline, against the trusted root.
    VerifyBlob(VerifyBlobArgs),
}

/// Arguments of `sigstore verify-blob`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Checks the bundle (v0.1-v0.3, message signature or DSSE envelope) offline: the Fulcio certificate chains to a certificate authority of the trusted root valid at the signing time, the signing time (Rekor integrated time or RFC 3161 timestamp) lies inside the certificate's validity, the transparency-log entry matches the signature, certificate and file and is included in the log (Merkle proof to a signed checkpoint; the signed entry timestamp when present), and the certificate's identity and OIDC issuer match. With --key, the bundle must be signed with that key instead.\n\nThe Sigstore public-good trusted root is built in; --trusted-root replaces it.\n\nExamples:\n  palisade sigstore verify-blob app.tar --bundle app.sigstore.json --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com\n  palisade sigstore verify-blob app.tar --bundle app.sigstore.json --key cosign.pub\n\nExit status: 0 verified; 1 not verified (the reason on stderr); 2 usage error or unreadable input."
)]
pub struct VerifyBlobArgs {
    /// The signed file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The Sigstore bundle (JSON).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// Verify with this public key (PEM) instead of a certificate identity.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer", "certificate_oidc_issuer_regexp"])]
    pub key: Option<PathBuf>,
    /// The keyless signer.
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// The keyless signer flags (cosign's names), shared by `sigstore verify-blob` and
/// `image verify`.
#[derive(clap::Args, Debug, Default)]
pub struct IdentityArgs {
    /// The identity (SAN URI or email) the signing certificate must carry.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,
    /// A regular expression (whole value) the certificate identity must match.
    #[arg(long, value_name = "RE")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer the certificate must name.
    #[arg(long, value_name = "ISS")]
    pub certificate_oidc_issuer: Option<String>,
    /// A regular expression (whole value) the OIDC issuer must match (instead of
    /// --certificate-oidc-issuer).
    #[arg(long, value_name = "RE", conflicts_with = "certificate_oidc_issuer")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// A Sigstore trusted root (`trusted_root.json`) replacing the built-in public-good root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl IdentityArgs {
    /// Whether any identity flag is given.
    pub fn given(&self) -> bool {
        self.certificate_identity.is_some()
            || self.certificate_identity_regexp.is_some()
            || self.certificate_oidc_issuer.is_some()
            || self.certificate_oidc_issuer_regexp.is_some()
    }

    /// The identity policy the flags describe.
    pub fn policy(&self) -> anyhow::Result<IdentityPolicy> {
        Ok(IdentityPolicy {
            identity: matcher(
                self.certificate_identity.as_deref(),
                self.certificate_identity_regexp.as_deref(),
                "certificate-identity",
            )?,
            issuer: matcher(
                self.certificate_oidc_issuer.as_deref(),
                self.certificate_oidc_issuer_regexp.as_deref(),
                "certificate-oidc-issuer",
            )?,
        })
    }
}

/// The identity policy of a configuration's `keyless:` entry.
pub fn keyless_policy(k: &palisade_config::KeylessRequirement) -> anyhow::Result<IdentityPolicy> {
    Ok(IdentityPolicy {
        identity: matcher(
            k.identity.as_deref(),
            k.identity_regexp.as_deref(),
            "identity",
        )?,
        issuer: Matcher::Exact(k.issuer.clone()),
    })
}

/// Runs `palisade sigstore …`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::VerifyBlob(args) => verify_blob(args),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// An exact value or a regular expression from a pair of flags; `what` names the flag.
pub fn matcher(exact: Option<&str>, regexp: Option<&str>, what: &str) -> anyhow::Result<Matcher> {
    match (exact, regexp) {
        (Some(e), _) => Ok(Matcher::Exact(e.to_string())),
        (None, Some(re)) => Matcher::regex(re).map_err(|e| anyhow::anyhow!("{what}-regexp: {e}")),
        (None, None) => anyhow::bail!("--{what} or --{what}-regexp is required"),
    }
}

fn signer(args: &VerifyBlobArgs) -> anyhow::Result<Result<Signer, String>> {
    if let Some(key) = &args.key {
        let what = key.display().to_string();
        return Ok(PublicKey::from_pem(&read(key)?, &what)
            .map(Signer::Key)
            .map_err(|e| e.to_string()));
    }
    Ok(Ok(Signer::Identity(args.identity.policy()?)))
}

/// The trusted root from `path`, or the built-in one. Unreadable: `Err`; malformed: `Ok(Err)`.
fn root_file(path: Option<&Path>) -> anyhow::Result<Result<Arc<TrustedRoot>, String>> {
    Ok(match path {
        Some(p) => TrustedRoot::from_json(&read(p)?)
            .map(Arc::new)
            .map_err(|e| format!("{}: {e}", p.display())),
        None => Ok(TrustedRoot::production()),
    })
}

/// The trusted root from `path`, or the built-in one.
pub fn trusted_root(path: Option<&Path>) -> anyhow::Result<Arc<TrustedRoot>> {
    root_file(path)?.map_err(|e| anyhow::anyhow!(e))
}

fn verify_blob(args: VerifyBlobArgs) -> anyhow::Result<ExitCode> {
    // Usage errors and unreadable files exit 2; anything wrong with their contents (key,
    // trusted root, bundle) means "not verified".
    let signer = signer(&args)?;
    let root = root_file(args.identity.trusted_root.as_deref())?;
    let file = read(&args.file)?;
    let bundle = read(&args.bundle)?;
    let outcome = signer.and_then(|signer| {
        let root: Arc<TrustedRoot> = root?;
        verify_bundle(&bundle, Artifact::Bytes(&file), &signer, &root)
    });
    match outcome {
        Ok(v) => {
            let text = format!(
                "Verified OK: {} signed by {}{}\n",
                args.file.display(),
                v.signer,
                v.issuer
                    .map(|i| format!(" (issuer {i})"))
                    .unwrap_or_default()
            );
            crate::output::emit_text(&text, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(reason) => {
            eprintln_safe!("palisade: not verified: {reason}");
            Ok(exit::code(exit::FINDINGS))
        }
    }
}
