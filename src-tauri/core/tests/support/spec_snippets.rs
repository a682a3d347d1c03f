//! The spec's Node verification snippets (002/003 and 004) of tests/fixtures/spec-snippets, run
//! with `node` exactly as printed through their harness.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use pitchbar_core::secret::Secret;

pub const SNIPPETS: [&str; 3] = [
    "spec-002-verify.js",
    "spec-003-verify.js",
    "spec-004-verify.js",
];

fn snippet_dir() -> PathBuf {
    super::fixture::fixture_dir("spec-snippets")
}

/// Runs one snippet, unmodified, through the harness: `true` accepted, `false` rejected; panics
/// if the snippet threw, the harness failed or Node is not installed.
pub fn run_snippet(snippet: &str, header: &str, body: &[u8], secret: &Secret) -> bool {
    super::require::node();
    let dir = snippet_dir();
    let mut child = Command::new("node")
        .arg(dir.join("run-verify.js"))
        .arg(dir.join(snippet))
        .arg(header)
        .env("PB_SECRET", secret.expose())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting node");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body)
        .expect("writing the body to node");
    let out = child.wait_with_output().expect("node ran");
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!(
            "{snippet} exited {other:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
