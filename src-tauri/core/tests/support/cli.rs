//! The command line run in-process, as the app binary runs it.

use std::ffi::OsString;

/// The program name, then `list`, as the OS passes them.
pub fn args(list: &[&str]) -> Vec<OsString> {
    std::iter::once("pitchbar-admin")
        .chain(list.iter().copied())
        .map(OsString::from)
        .collect()
}

/// Runs a command; returns its exit code, stdout and stderr.
pub fn run(list: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = pitchbar_core::cli::run(args(list), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// Now in unix seconds, as signatures carry it.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
