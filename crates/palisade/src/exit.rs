//! Exit statuses, documented in `--help`.

use std::process::ExitCode;

/// Findings at or above `--fail-on`.
pub const FINDINGS: u8 = 1;
/// Usage or configuration error.
pub const USAGE: u8 = 2;
/// Some input could not be read (results are incomplete).
pub const INPUT_ERRORS: u8 = 3;

/// The exit code for a status.
pub fn code(status: u8) -> ExitCode {
    ExitCode::from(status)
}

/// The exit status once results are printed: [`INPUT_ERRORS`] when some input could not be
/// read, else `status`.
pub fn finish(input_errors: bool, status: ExitCode) -> ExitCode {
    if input_errors {
        code(INPUT_ERRORS)
    } else {
        status
    }
}
