//! `palisade image verify` and `palisade image sign`: cosign signatures (issue #7).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use palisade_checks::Catalog;
use palisade_model::SignatureStatus;
use palisade_trust::remote::{self, BundleKind, RemoteError};
use palisade_trust::verify::{Layout, Requirements, Verification};
use palisade_trust::{PublicKey, SigningKey, Verifier};
use serde::Serialize;

use crate::exit;

/// Output format of `image verify` / `image sign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable summary.
    #[value(alias = "text", alias = "txt")]
    Table,
    /// JSON document.
    Json,
}

/// Arguments of `image verify`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Keys: --key FILE (repeatable), or the keys of the first images.signatures entry of --config whose glob matches registry/repository. With --config, images.allowed_registries is enforced too.\n\nKeyless: --certificate-identity ID (or --certificate-identity-regexp RE) with --certificate-oidc-issuer ISS, or the keyless: entry of the matching images.signatures entry, accept a keyless signature (a Sigstore bundle, or cosign's classic layout with certificate and Rekor bundle annotations) whose Fulcio certificate carries that identity, verified offline against the built-in public-good trusted root (or --trusted-root FILE).\n\nBoth cosign layouts are checked: the classic sha256-<hex>.sig tag and Sigstore bundles attached through the OCI referrers API (or its sha256-<hex> tag fallback). Key fingerprints are SHA256:<hex of SHA-256 over the DER public key>.\n\nExamples:\n  palisade image verify registry.example/team/app:1.4 --key cosign.pub\n  palisade image verify registry.example/team/app@sha256:… --config palisade.yaml --format json\n\nExit status: 0 verified; 1 not verified (unsigned, invalid signature, or refused by policy); 2 usage error; 3 the registry could not be reached or refused access."
)]
pub struct VerifyArgs {
    /// Image reference (`registry/repo:tag` or `@sha256:…`).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Public key PEM file (cosign.pub); repeatable.
    #[arg(long = "key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,
    /// Palisade configuration: its `images:` policy and signature keys apply.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keyless (Sigstore bundle with a Fulcio certificate) signer.
    #[command(flatten)]
    pub identity: crate::cmd::sigstore::IdentityArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Registry access.
    #[command(flatten)]
    pub registry: crate::registry_args::RegistryArgs,
}

/// Arguments of `image sign`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "The private key is cosign's encrypted format (ENCRYPTED SIGSTORE / COSIGN PRIVATE KEY, password from $COSIGN_PASSWORD, empty when unset) or an unencrypted PKCS #8 PEM.\n\nBy default the signature is written in cosign's classic layout (payload layer and annotation in the manifest under the sha256-<hex>.sig tag, appended to existing signatures). With --bundle a Sigstore bundle (DSSE, in-toto statement) is attached as an OCI referrer instead.\n\nExit status: 0 signed; 2 usage or key error; 3 the registry could not be reached or refused the push."
)]
pub struct SignArgs {
    /// Image reference (`registry/repo:tag` or `@sha256:…`).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Private key file (cosign.key).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Attach a Sigstore bundle through the referrers API instead of the classic layout.
    #[arg(long)]
    pub bundle: bool,
    /// Annotation `KEY=VALUE` for the payload's `optional` section (classic layout; repeatable).
    #[arg(long = "annotation", short = 'a', value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Registry access.
    #[command(flatten)]
    pub registry: crate::registry_args::RegistryArgs,
}

/// The JSON document of `image verify`.
#[derive(Serialize)]
struct VerifyReport<'a> {
    reference: &'a str,
    repository: &'a str,
    verified: bool,
    /// Policy refusals (registry not allowed, no signature requirement).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policy: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a Verification>,
}

fn usage(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln_safe!("palisade: error: {message}");
    Ok(exit::code(exit::USAGE))
}

/// Runs `palisade image verify`.
pub fn run_verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let (name, _) = match palisade_registry::artifacts::parse_reference(&args.reference) {
        Ok(parsed) => parsed,
        Err(e) => return usage(e),
    };
    let mut policy = Vec::new();
    let mut keys: Vec<PublicKey> = Vec::new();
    let mut keyless = Vec::new();
    if args.identity.given() {
        match args.identity.policy() {
            Ok(p) => keyless.push(p),
            Err(e) => return usage(e),
        }
    }
    for path in &args.keys {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return usage(format!("{}: {e}", path.display())),
        };
        match PublicKey::from_pem(&bytes, &path.display().to_string()) {
            Ok(k) => keys.push(k),
            Err(e) => return usage(e),
        }
    }
    if let Some(path) = &args.config {
        let config = match crate::config_file::load_config(Some(path), &Catalog::builtin()) {
            Ok(c) => c,
            Err(e) => return usage(crate::output::error_chain(&e)),
        };
        let images = &config.images;
        if !images.allowed_registries.is_empty()
            && !images
                .allowed_registries
                .iter()
                .any(|g| palisade_checks::glob_match(g, &name))
        {
            policy.push(format!(
                "{name} is not in images.allowed_registries ({})",
                images.allowed_registries.join(", ")
            ));
        }
        if args.keys.is_empty() && !args.identity.given() {
            match images.signature_requirement(&name) {
                Some(req) => {
                    let base = path.parent().unwrap_or(Path::new("."));
                    match PublicKey::from_entries(&req.keys, base, std::fs::read) {
                        Ok(k) => keys = k,
                        Err(e) => return usage(format!("images.signatures ({}): {e}", req.images)),
                    }
                    if let Some(k) = &req.keyless {
                        match crate::cmd::sigstore::keyless_policy(k) {
                            Ok(p) => keyless.push(p),
                            Err(e) => {
                                return usage(format!("images.signatures ({}): {e}", req.images));
                            }
                        }
                    }
                }
                None => policy.push(format!(
                    "no images.signatures entry in {} matches {name}, so no key can vouch for it",
                    path.display()
                )),
            }
        }
    } else if keys.is_empty() && keyless.is_empty() {
        return usage(
            "give at least one --key FILE, --certificate-identity with --certificate-oidc-issuer, or --config FILE with images.signatures",
        );
    }
    let root = match crate::cmd::sigstore::trusted_root(args.identity.trusted_root.as_deref()) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    let requirements = Requirements {
        keys,
        keyless,
        root,
    };

    let verification = if policy.is_empty() {
        let verifier = Verifier::new(args.registry.pull_options(None)?);
        match verifier.verify_with(&args.reference, &requirements) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln_safe!("palisade: error: {e}");
                return Ok(exit::code(exit::INPUT_ERRORS));
            }
        }
    } else {
        None
    };
    let verified = policy.is_empty()
        && verification
            .as_ref()
            .is_some_and(|v| matches!(v.status, SignatureStatus::Verified { .. }));
    let report = VerifyReport {
        reference: &args.reference,
        repository: &name,
        verified,
        policy,
        verification: verification.as_ref(),
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Table => verify_table(&report),
    };
    crate::output::emit_for(&text, args.output.as_ref(), args.format == Format::Table)?;
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        exit::code(exit::FINDINGS)
    })
}

fn verify_table(r: &VerifyReport<'_>) -> String {
    let mut out = String::new();
    out.push_str(&format!("image:   {}\n", r.reference));
    let Some(v) = r.verification else {
        out.push_str("verdict: REFUSED by policy\n");
        for p in &r.policy {
            out.push_str(&format!("  - {p}\n"));
        }
        return out;
    };
    out.push_str(&format!("digest:  {}\n", v.digest));
    match &v.status {
        SignatureStatus::Verified { key_fingerprint } => {
            out.push_str("verdict: VERIFIED\n");
            out.push_str(&format!("signer:  {key_fingerprint}\n"));
        }
        SignatureStatus::Unsigned => {
            out.push_str("verdict: UNSIGNED\n");
            out.push_str(&format!("  - no signature for {}\n", v.digest));
        }
        SignatureStatus::Invalid { reasons } => {
            out.push_str("verdict: INVALID\n");
            for reason in reasons {
                out.push_str(&format!("  - {reason}\n"));
            }
        }
    }
    out.push_str(&format!("keys:    {}\n", v.keys.join(", ")));
    if !v.checks.is_empty() {
        out.push_str("signatures:\n");
        for c in &v.checks {
            let layout = match c.layout {
                Layout::Classic => "classic",
                Layout::Bundle => "bundle",
            };
            let outcome = match (&c.verified_by, &c.reason) {
                (Some(fp), _) => format!("ok ({fp})"),
                (None, Some(reason)) => format!("failed: {reason}"),
                (None, None) => String::new(),
            };
            out.push_str(&format!("  {layout:<8} {}  {outcome}\n", c.location));
        }
    }
    out
}

/// Runs `palisade image sign`.
pub fn run_sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    let password = std::env::var("COSIGN_PASSWORD").unwrap_or_default();
    let bytes = match std::fs::read(&args.key) {
        Ok(b) => b,
        Err(e) => return usage(format!("{}: {e}", args.key.display())),
    };
    let key =
        match SigningKey::from_pem(&bytes, password.as_bytes(), &args.key.display().to_string()) {
            Ok(k) => k,
            Err(e) => return usage(e),
        };
    let mut annotations = serde_json::Map::new();
    for a in &args.annotations {
        let Some((k, v)) = a.split_once('=') else {
            return usage(format!("--annotation {a:?}: expected KEY=VALUE"));
        };
        annotations.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    if args.bundle && !annotations.is_empty() {
        return usage("--annotation applies to the classic layout only, not with --bundle");
    }
    let options = args.registry.pull_options(None)?;
    let result = if args.bundle {
        remote::attach_bundle(&args.reference, &key, &options, BundleKind::Dsse)
    } else {
        remote::sign_classic(
            &args.reference,
            &key,
            &options,
            (!annotations.is_empty()).then_some(&annotations),
        )
    };
    let outcome = match result {
        Ok(o) => o,
        Err(RemoteError::Trust(e)) => return usage(e),
        Err(e) => {
            eprintln_safe!("palisade: error: {e}");
            return Ok(exit::code(exit::INPUT_ERRORS));
        }
    };
    match args.format {
        Format::Json => crate::output::emit(
            &(serde_json::to_string_pretty(&outcome)? + "\n"),
            args.output.as_ref(),
        )?,
        Format::Table => crate::output::emit_text(
            &format!(
                "signed {}@{} with key {} ({})\n",
                outcome.repository, outcome.digest, outcome.key_fingerprint, outcome.location
            ),
            args.output.as_ref(),
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
