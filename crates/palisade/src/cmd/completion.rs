//! `palisade completion SHELL` and `palisade man`: generated from the clap definition of the
//! command line, so they always match the binary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

/// `palisade completion`
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  palisade completion bash > /etc/bash_completion.d/palisade\n  palisade completion zsh > \"${fpath[1]}/_palisade\"\n  palisade completion fish > ~/.config/fish/completions/palisade.fish"
)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `palisade man`
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  palisade man | man -l -\n  palisade man --dir /usr/local/share/man/man1"
)]
pub struct ManArgs {
    /// Write one page per command and subcommand (palisade.1, palisade-scan.1, …) into this
    /// directory instead of printing palisade(1).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell`.
pub fn completion(args: CompletionArgs) -> anyhow::Result<ExitCode> {
    let mut command = crate::Cli::command();
    // Generated in memory: clap_complete panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "palisade", &mut script);
    crate::output::emit(&String::from_utf8(script)?, None)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints palisade(1), or writes every page into `args.dir`.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let command = crate::Cli::command();
    match args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            crate::output::emit(&String::from_utf8(page)?, None)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("writing man pages into {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
