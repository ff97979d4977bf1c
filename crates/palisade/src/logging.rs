//! Diagnostic logs: the binary's one `tracing` subscriber, writing to stderr (stdout carries
//! reports).
//!
//! Levels: Palisade's own crates log at `warn` (`info` for the long-running servers, `admission
//! serve`, `agent run` and `central serve`), other crates one level quieter; each `-v` raises both by one, each
//! `-q` lowers them. `RUST_LOG` (an `EnvFilter` directive list) replaces that computation.
//! Format: JSON lines for the servers (log collectors parse them), text otherwise;
//! `--log-format` overrides. Timestamps come from `palisade_model::time`, RFC 3339 in UTC with
//! milliseconds, like every other timestamp Palisade writes.

use std::io::IsTerminal;

use clap::{ArgAction, ValueEnum};
use palisade_model::time::{Clock, SystemClock};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The global logging flags.
#[derive(clap::Args, Debug, Clone)]
pub struct LogArgs {
    /// More log detail on stderr, one level per -v (error, warn, info, debug, trace; the
    /// default is warn, info for the servers). RUST_LOG, when set, decides instead.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// Less log detail on stderr, one level per -q (down to none).
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "verbose")]
    quiet: u8,
    /// Format of the logs on stderr [default: json for `admission serve`, `agent run` and
    /// `central serve`, text otherwise].
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
}

impl LogArgs {
    /// Whether `-v` was given at least once.
    pub fn verbose(&self) -> bool {
        self.verbose > 0
    }
}

/// How log events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `message`, fields, `target`).
    Json,
}

/// Level names, from quietest to most detailed.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// The default directives: Palisade's crates at `warn` (`info` for a server), moved by
/// `-v`/`-q`; other crates one level quieter.
fn default_directives(args: &LogArgs, server: bool) -> String {
    let base: i32 = if server { 3 } else { 2 };
    let own = (base + i32::from(args.verbose) - i32::from(args.quiet)).clamp(0, 5);
    let level = |i: i32| LEVELS[i.clamp(0, 5) as usize];
    format!("{},palisade={}", level(own - 1), level(own))
}

/// RFC 3339 timestamps from the workspace clock.
struct LogTime;

impl FormatTime for LogTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        w.write_str(&SystemClock.now().rfc3339_ms())
    }
}

/// Installs the subscriber; `server` selects the servers' defaults (info level, JSON).
pub fn init(args: &LogArgs, server: bool) {
    let defaults = default_directives(args, server);
    let env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (filter, bad_env) = match env.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (EnvFilter::new(&defaults), Some(e)),
        None => (EnvFilter::new(&defaults), None),
    };
    let format = args.log_format.unwrap_or(if server {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_timer(LogTime);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .try_init(),
    };
    if installed.is_ok()
        && let Some(e) = bad_env
    {
        tracing::warn!("ignoring RUST_LOG ({e}); using {defaults}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(verbose: u8, quiet: u8) -> LogArgs {
        LogArgs {
            verbose,
            quiet,
            log_format: None,
        }
    }

    #[test]
    fn levels_follow_the_flags() {
        assert_eq!(
            default_directives(&args(0, 0), false),
            "error,palisade=warn"
        );
        assert_eq!(default_directives(&args(0, 0), true), "warn,palisade=info");
        assert_eq!(default_directives(&args(1, 0), false), "warn,palisade=info");
        assert_eq!(
            default_directives(&args(9, 0), true),
            "debug,palisade=trace"
        );
        assert_eq!(default_directives(&args(0, 1), false), "off,palisade=error");
        assert_eq!(default_directives(&args(0, 5), true), "off,palisade=off");
    }
}
