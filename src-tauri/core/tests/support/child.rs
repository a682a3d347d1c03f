//! A test run again in a child process of its own test binary, with an environment the parent
//! cannot have (no keychain on the bus, a D-Bus session of its own): the child runs that one
//! test, which must pass.

use std::path::Path;
use std::process::{Command, Output};

/// The arguments that make this test binary run only the test `name`, its output shown.
pub fn only(name: &str) -> [&str; 4] {
    ["--exact", name, "--nocapture", "--test-threads=1"]
}

/// This test binary, to run only the test `name`.
pub fn this_test(name: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(only(name));
    cmd
}

/// Points `cmd` at a D-Bus session bus that is not there (a path in `dir`): no keychain.
pub fn without_bus<'a>(cmd: &'a mut Command, dir: &Path) -> &'a mut Command {
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", dir.join("no-bus").display()),
    )
}

/// Fails unless the child ran its one test and it passed.
pub fn assert_passed(out: &Output) {
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{output}");
    assert!(output.contains("1 passed"), "{output}");
}
