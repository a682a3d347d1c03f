//! What the workspace commands (`init`, `api-key`, `endpoints`, `deliveries`, `members`,
//! `leads`) share: their `--data-dir` and `--json` options, opening the core and acting as the
//! workspace's device user, and printing one result as text or as one JSON value.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::output::{fail, EXIT_FAILED, EXIT_OK};
use crate::audit::Surface;
use crate::workspace::Actor;
use crate::{Core, Error, Result};

/// The options every workspace command takes, before or after its subcommand.
#[derive(clap::Args)]
pub(super) struct Common {
    /// Print one JSON value on stdout instead of text.
    #[arg(long, global = true)]
    pub(super) json: bool,
    /// The data folder. Default: PITCHBAR_DATA_DIR, else the OS app-data folder.
    #[arg(long, value_name = "DIR", global = true)]
    pub(super) data_dir: Option<PathBuf>,
}

impl Common {
    /// The core over the data folder.
    pub(super) fn open(&self) -> Result<Core> {
        self.data_dir
            .clone()
            .map_or_else(crate::data_dir, Ok)
            .and_then(|dir| Core::open(&dir))
    }

    /// The core, and the workspace's device user acting from the command line (never a
    /// preview): every change is checked against their role and recorded as made from `cli`.
    pub(super) fn open_as_device_user(&self) -> Result<(Core, Actor)> {
        let core = self.open()?;
        let actor = core
            .workspaces()
            .device_actor(Surface::Cli)
            .map_err(|e| match e {
                Error::Conflict(_) => Error::Conflict(
                    "No workspace is set up here yet. Run `pitchbar-admin init` or open the app first."
                        .into(),
                ),
                other => other,
            })?;
        Ok((core, actor))
    }
}

/// The exit-code text shared by the workspace commands' `--help`.
pub(super) const EXIT_CODES: &str = "Exit codes:\n  \
     0  done\n  \
     1  failed: refused (a Member may only view), not found, invalid input, the data or the \
     keychain cannot be used, …\n  \
     2  usage error";

/// Prints `value` as one line of JSON when `json`, else the text `human` writes.
pub(super) fn print<T: Serialize>(
    out: &mut dyn Write,
    json: bool,
    value: &T,
    human: impl FnOnce(&mut String),
) -> Result<()> {
    let text = if json {
        let mut text = serde_json::to_string(value)
            .map_err(|e| Error::Internal(format!("the output could not be written ({e})")))?;
        text.push('\n');
        text
    } else {
        let mut text = String::new();
        human(&mut text);
        text
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::Internal(format!("the output could not be written ({e})")))
}

/// The exit code of a command's outcome; an error is printed as `error: <the core's message>`.
pub(super) fn finish(err: &mut dyn Write, done: Result<()>) -> i32 {
    match done {
        Ok(()) => EXIT_OK,
        Err(e) => fail(err, EXIT_FAILED, &e.to_string()),
    }
}

/// Rows of cells as lines whose columns line up (the last column is left as it is).
pub(super) fn table(text: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
}
