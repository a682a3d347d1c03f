//! `pitchbar-admin backup` and `restore`: the workspace's data to a file and back, as the
//! device user (restoring: an Owner). Secrets stay in the OS keychain, never in the file.

use std::io::Write;
use std::path::PathBuf;

use super::output::{fail, EXIT_FAILED, EXIT_OK};
use super::workspace::Common;
use crate::audit::Surface;

#[derive(clap::Args)]
#[command(
    about = "Back up the workspace's data to a file (secrets stay in the keychain)",
    after_help = "Exit codes:\n  0  written (its path printed)\n  1  failed (not allowed, the folder cannot be written, …)\n  2  usage error"
)]
pub(super) struct BackupArgs {
    /// The folder to write it in. Default: the current folder.
    #[arg(long, value_name = "DIR")]
    to: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
#[command(
    about = "Replace the workspace's data with a backup (quit the app first)",
    long_about = "Replace the workspace's data with a backup made by `backup` or the window. \
                  The file is checked first (a damaged file, one that is not a Pitchbar Admin \
                  backup or one from a newer version is refused) and the data stays as it was \
                  until the copy succeeded. Without --yes it only says what the backup holds. \
                  Quit the app (and `serve`) on this data first.",
    after_help = "Exit codes:\n  0  restored\n  1  not restored (refused, not an Owner, or --yes missing)\n  2  usage error"
)]
pub(super) struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// Restore it (without this, only say what it holds).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    common: Common,
}

pub(super) fn backup(args: BackupArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let written = args.common.open_as_device_user().and_then(|(core, actor)| {
        let dir = args.to.unwrap_or_else(|| PathBuf::from("."));
        core.backups().back_up(&actor, &dir)
    });
    match written {
        Ok(path) => {
            let _ = if args.common.json {
                writeln!(out, "{}", serde_json::json!({ "path": path }))
            } else {
                writeln!(
                    out,
                    "Backed up to {} (secrets stay in this computer's keychain).",
                    path.display()
                )
            };
            EXIT_OK
        }
        Err(e) => fail(err, EXIT_FAILED, &e.to_string()),
    }
}

pub(super) fn restore(args: RestoreArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let core = match args.common.open() {
        Ok(core) => core,
        Err(e) => return fail(err, EXIT_FAILED, &e.to_string()),
    };
    if !args.yes {
        return match core.backups().inspect(&args.file) {
            Ok(info) => {
                let _ = writeln!(
                    out,
                    "{} holds the workspace “{}” ({} members, {} endpoints, {} connections){}.",
                    info.path,
                    info.workspace_name,
                    info.members,
                    info.endpoints,
                    info.connections,
                    if info.same_workspace {
                        ""
                    } else {
                        ": another workspace than this one"
                    }
                );
                fail(
                    err,
                    EXIT_FAILED,
                    &format!(
                        "nothing was restored. Quit the app, then run again with --yes to replace the data in {} with it.",
                        core.data_dir().display()
                    ),
                )
            }
            Err(e) => fail(err, EXIT_FAILED, &e.to_string()),
        };
    }
    let restored = core
        .workspaces()
        .device_actor(Surface::Cli)
        .and_then(|actor| core.backups().restore(&actor, &args.file));
    match restored {
        Ok(r) => {
            let _ = if args.common.json {
                writeln!(out, "{}", serde_json::to_string(&r).unwrap_or_default())
            } else {
                writeln!(
                    out,
                    "Restored the workspace “{}” from {}.\n{}",
                    r.info.workspace_name, r.info.path, r.secrets
                )
            };
            EXIT_OK
        }
        Err(e) => fail(err, EXIT_FAILED, &e.to_string()),
    }
}
