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
    try_spawn_node(script, args, log)
        .unwrap_or_else(|line| panic!("{} did not start: {line:?}", script.display()))
}

/// [`spawn_node`], or what the script printed instead of its port (it exited: a port taken,
/// say).
pub fn try_spawn_node<I, S>(
    script: &Path,
    args: I,
    log: Option<&Path>,
) -> Result<(Child, u16), String>
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
    match serde_json::from_str::<serde_json::Value>(&line) {
        Ok(printed) => Ok((child, printed["port"].as_u64().unwrap() as u16)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(line)
        }
    }
}
