//! `palisade vercmp ECOSYSTEM A B`: version ordering by an ecosystem's rules.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::bail;
use palisade_model::Ecosystem;

use crate::exit;

/// The examples of `vercmp --help`, after the list of ecosystems.
const CMP_EXAMPLES: &str = "Examples:\n  palisade vercmp Debian 1:1.2-1 1.3-1        # >\n  palisade vercmp PyPI 2.7 2.7.0              # =\n  printf '1.0~rc1 1.0\\n1.0 1.0-0\\n' | palisade vercmp Debian --batch\n\nWith --batch, each input line holds `A B`; each output line is `<`, `=`, `>`, or `?` for a line that could not be compared (the error goes to stderr and the exit status is 2).";

/// `palisade vercmp`: compare two versions; prints `<`, `=` or `>`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = format!("Ecosystems (OSV names): {}.\n\n{CMP_EXAMPLES}", names().join(", "))
)]
pub struct CmpArgs {
    /// Ecosystem whose ordering applies (OSV name, case-insensitive).
    #[arg(value_name = "ECOSYSTEM")]
    pub ecosystem: String,
    /// First version.
    #[arg(
        value_name = "A",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    pub a: Option<String>,
    /// Second version.
    #[arg(
        value_name = "B",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    pub b: Option<String>,
    /// Read `A B` pairs from stdin, one per line, and print one answer per line.
    #[arg(long)]
    pub batch: bool,
}

/// The ecosystems `vercmp` accepts (those with a version ordering), by OSV name.
fn names() -> Vec<&'static str> {
    palisade_model::ECOSYSTEMS
        .iter()
        .map(|(_, i)| i.osv)
        .collect()
}

fn ecosystem(name: &str) -> anyhow::Result<Ecosystem> {
    let names = names();
    match names.iter().find(|n| n.eq_ignore_ascii_case(name)) {
        Some(n) => Ok(Ecosystem::parse(n)),
        None => bail!(
            "unknown ecosystem {name:?} (expected one of: {})",
            names.join(", ")
        ),
    }
}

fn symbol(o: std::cmp::Ordering) -> &'static str {
    match o {
        std::cmp::Ordering::Less => "<",
        std::cmp::Ordering::Equal => "=",
        std::cmp::Ordering::Greater => ">",
    }
}

/// Runs `palisade vercmp …`.
pub fn run(args: CmpArgs) -> anyhow::Result<ExitCode> {
    let eco = ecosystem(&args.ecosystem)?;
    if !args.batch {
        let (Some(a), Some(b)) = (args.a, args.b) else {
            bail!("two versions are needed (or --batch)");
        };
        let order = palisade_version::compare(&eco, &a, &b)?;
        println!("{}", symbol(order));
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let answer = match fields.as_slice() {
            [a, b] => palisade_version::compare(&eco, a, b)
                .map(symbol)
                .map_err(|e| e.to_string()),
            _ => Err(format!("expected two versions, found {}", fields.len())),
        };
        match answer {
            Ok(s) => writeln!(out, "{s}")?,
            Err(e) => {
                writeln!(out, "?")?;
                eprintln_safe!("palisade: error: stdin line {}: {e}", n + 1);
                failed = true;
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        exit::code(exit::USAGE)
    } else {
        ExitCode::SUCCESS
    })
}
