//! `palisade rbac`: who can do what, can a subject do something, and risky grants.
//!
//! SUBJECT is written `User:NAME`, `Group:NAME` or `ServiceAccount:NAMESPACE:NAME` (`SA:` for
//! short). RESOURCE is `RESOURCE[.GROUP][/SUBRESOURCE]` (`pods`, `pods/exec`,
//! `deployments.apps/scale`, `certificates.cert-manager.io`) or a non-resource URL starting with
//! `/` (`/metrics`). Bare names are accepted for built-in resources; others need `.GROUP`.
//! Without `-n`, the question is asked cluster-wide (cluster-scoped resources, or all namespaces
//! at once), which only ClusterRoleBindings answer — as `kubectl auth can-i --all-namespaces`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use palisade_rbac::{Principal, RbacIndex, Request};

use crate::exit::{self, finish};
use crate::input::load_inventory;
use crate::output;
use crate::output::with_newline;
use crate::render::rbac::{self as render, Format};

/// `palisade rbac`.
#[derive(Debug, Args)]
#[command(
    after_help = "SUBJECT: User:NAME, Group:NAME or ServiceAccount:NAMESPACE:NAME (SA:NAMESPACE:NAME).\nRESOURCE: RESOURCE[.GROUP][/SUBRESOURCE] (pods, pods/exec, deployments.apps/scale, certificates.cert-manager.io) or a non-resource /URL. Bare names only for built-in resources.\nWithout -n a request is cluster-wide (as kubectl auth can-i --all-namespaces): only ClusterRoleBindings grant it.\n\nExamples:\n  palisade rbac who-can create pods/exec -n shop examples/demo-cluster\n  palisade rbac can ServiceAccount:ci:deployer list secrets examples/demo-cluster\n  palisade rbac risky examples/demo-cluster --format json\n  palisade rbac who-can list secrets --cluster --context prod\n\nExit status: 0 success (for can: allowed); 1 can: denied; 2 usage error; 3 some input could not be read."
)]
pub struct RbacArgs {
    /// What to ask.
    #[command(subcommand)]
    pub command: RbacCommand,
}

/// The rbac questions.
#[derive(Debug, Subcommand)]
pub enum RbacCommand {
    /// List the subjects allowed to VERB RESOURCE, with the binding, role and rule that grant it.
    WhoCan(WhoCanArgs),
    /// Answer whether SUBJECT may VERB RESOURCE (exit code 0 = yes, 1 = no), with the granting
    /// bindings.
    Can(CanArgs),
    /// List dangerous grants (secrets, pod creation, exec, escalate/bind/impersonate, tokens,
    /// CSR approval, nodes, admission webhooks, wildcards) and the workloads that inherit them.
    Risky(RiskyArgs),
}

/// The request part shared by who-can and can.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Verb: get, list, watch, create, update, patch, delete, deletecollection, escalate, bind,
    /// impersonate, approve, use, … (for URLs: get, post, put, delete, …).
    pub verb: String,
    /// RESOURCE[.GROUP][/SUBRESOURCE] (e.g. pods/exec, deployments.apps) or a /URL.
    pub resource: String,
    /// Namespace of the request; without it the request is cluster-wide.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Name of one object (rules with resourceNames only grant named requests).
    #[arg(long)]
    pub name: Option<String>,
}

impl RequestArgs {
    fn request(&self) -> anyhow::Result<Request> {
        Request::parse(
            &self.verb,
            &self.resource,
            self.namespace.as_deref(),
            self.name.as_deref(),
        )
        .context("invalid request")
    }
}

/// `palisade rbac who-can`.
#[derive(Debug, Args)]
#[command(mut_arg("namespaces", |a| a.long("cluster-namespace").help(
    "With --cluster: read namespaced objects of this namespace only (repeatable; --namespace is the request's)"
)))]
pub struct WhoCanArgs {
    /// The request.
    #[command(flatten)]
    pub request: RequestArgs,
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` reads
    /// stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `palisade rbac can`.
#[derive(Debug, Args)]
#[command(mut_arg("namespaces", |a| a.long("cluster-namespace").help(
    "With --cluster: read namespaced objects of this namespace only (repeatable; --namespace is the request's)"
)))]
pub struct CanArgs {
    /// User:NAME, Group:NAME or ServiceAccount:NAMESPACE:NAME.
    pub subject: String,
    /// The request.
    #[command(flatten)]
    pub request: RequestArgs,
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` reads
    /// stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `palisade rbac risky`.
#[derive(Debug, Args)]
pub struct RiskyArgs {
    /// Files or directories to read (.yaml, .yml, .json; directories recursively); `-` reads
    /// stdin.
    #[arg(required_unless_present = "cluster", value_name = "PATH")]
    pub paths: Vec<String>,
    /// A live cluster instead of paths.
    #[command(flatten)]
    pub cluster: crate::cluster_args::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn print_rbac_diagnostics(idx: &RbacIndex) {
    for d in idx.diagnostics() {
        let object = d.object_ref().map(ToString::to_string).unwrap_or_default();
        let field = d.field().map(|f| format!(" {f}")).unwrap_or_default();
        eprintln_safe!(
            "{}:{}: {}: {object}{field}: {}",
            d.file(),
            d.line(),
            d.level,
            d.message
        );
    }
}

/// Runs `palisade rbac …`.
pub fn run(args: RbacArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        RbacCommand::WhoCan(a) => {
            let request = a.request.request()?;
            let (inv, input_errors) = load_inventory(&a.paths, &a.cluster)?;
            let idx = RbacIndex::build(&inv);
            print_rbac_diagnostics(&idx);
            let access = idx.who_can(&request);
            output::emit_for(
                &with_newline(render::who_can(&request, &access, &idx, a.format)?),
                a.output.as_ref(),
                a.format == Format::Table,
            )?;
            Ok(finish(input_errors, ExitCode::SUCCESS))
        }
        RbacCommand::Can(a) => {
            let principal: Principal = a.subject.parse()?;
            let request = a.request.request()?;
            let (inv, input_errors) = load_inventory(&a.paths, &a.cluster)?;
            let idx = RbacIndex::build(&inv);
            print_rbac_diagnostics(&idx);
            let verdict = idx.can(&principal, &request);
            output::emit_for(
                &with_newline(render::can(
                    &a.subject, &principal, &request, &verdict, &idx, a.format,
                )?),
                a.output.as_ref(),
                a.format == Format::Table,
            )?;
            let status = if verdict.allowed {
                ExitCode::SUCCESS
            } else {
                exit::code(CAN_DENIED)
            };
            Ok(finish(input_errors, status))
        }
        RbacCommand::Risky(a) => {
            let (inv, input_errors) = load_inventory(&a.paths, &a.cluster)?;
            let idx = RbacIndex::build(&inv);
            print_rbac_diagnostics(&idx);
            let risky = idx.risky(&inv);
            let text = with_newline(render::risky(&risky, &idx, a.format)?);
            output::emit_for(&text, a.output.as_ref(), a.format == Format::Table)?;
            Ok(finish(input_errors, ExitCode::SUCCESS))
        }
    }
}

/// Exit status of `rbac can` when the answer is no (as `kubectl auth can-i`).
pub const CAN_DENIED: u8 = 1;
