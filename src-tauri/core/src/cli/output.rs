//! What every command shares: its exit codes, how it reports an error, and a secret argument.

use std::io::Write;

/// The command ran and did what it was asked (for `trigger`: the receiver answered 2xx).
pub const EXIT_OK: i32 = 0;
/// The command ran but failed (a non-2xx answer, a refused connection, a port in use, …).
pub const EXIT_FAILED: i32 = 1;
/// The command line itself was wrong; clap's message (or ours) says how.
pub const EXIT_USAGE: i32 = 2;

/// A signing secret from the command line or `PITCHBAR_WEBHOOK_SECRET`.
pub(super) fn secret_arg(raw: &str) -> Result<crate::secret::Secret, String> {
    if raw.trim().is_empty() {
        return Err("give the endpoint's signing secret (whsec_…)".into());
    }
    Ok(crate::secret::Secret::new(raw))
}

/// Prints `error: <message>` and returns `code`.
pub(super) fn fail(err: &mut dyn Write, code: i32, message: &str) -> i32 {
    let _ = writeln!(err, "error: {message}");
    code
}
