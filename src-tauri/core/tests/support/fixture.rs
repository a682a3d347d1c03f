//! A Node fixture of tests/fixtures as a child process: started with its arguments, its stderr
//! kept in a log file (or dropped), and the port it printed as `{"port":N}` on its first line.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `tests/fixtures/<name>`.
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// Runs `node <script> <args…>` and returns the child with the port it listens on; `log`
/// receives its stderr (appended), to read when a test fails.
pub fn spawn_node<I, S>(script: &Path, args: I, log: Option<&Path>) -> (Child, u16)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let stderr = match log {
        Some(path) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap(),
        ),
        None => Stdio::null(),
    };
    super::require::node();
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("node starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let printed: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|_| panic!("{} did not start: {line:?}", script.display()));
    (child, printed["port"].as_u64().unwrap() as u16)
}
