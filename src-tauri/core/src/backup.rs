//! Backing up and restoring the workspace: the database copied with SQLite's online backup
//! while the app runs (writers go on: the copy is one read of a WAL snapshot), and restored from
//! a file that is checked first — a damaged file, one that is not a Pitchbar Admin database or
//! one from a newer version is refused, and the current data stays until the copy succeeded.
//!
//! Secrets are never in a backup: tokens, API keys, client secrets and signing secrets live in
//! the OS keychain, and the database holds only their names. Restored on the computer (and in
//! the workspace) it was made in, the keychain entries are still there; elsewhere, or for
//! secrets changed after the backup, the result says what to reconnect or rotate.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use specta::Type;

use crate::audit::{self, Area};
use crate::error::{Error, Result};
use crate::store::{schema_version, Store};
use crate::workspace::{Actor, Role};

/// How a backup file's name starts.
pub const BACKUP_PREFIX: &str = "pitchbar-backup-";

/// What a backup file holds, read before it is restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct BackupInfo {
    pub path: String,
    pub workspace_name: String,
    /// Whether it is a backup of this workspace (whose secrets this keychain holds).
    pub same_workspace: bool,
    pub members: u32,
    pub endpoints: u32,
    pub connections: u32,
    pub bytes: u64,
}

/// What a restore did, and what the person may still have to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Restored {
    pub info: BackupInfo,
    /// About the secrets: they stay in the keychain, or must be reconnected and rotated.
    pub secrets: String,
}

/// Backups of the workspace over the store.
pub struct Backups<'a> {
    pub(crate) store: &'a Store,
}

impl Backups<'_> {
    /// Writes a backup into `dir` (`pitchbar-backup-20261207-201500.db`) and returns its path.
    /// Owners and Admins: a backup holds the workspace's leads, conversations and logs.
    pub fn back_up(&self, actor: &Actor, dir: &Path) -> Result<PathBuf> {
        actor.require_manage()?;
        let path = crate::paths::write_new_file(dir, BACKUP_PREFIX, "db", |temp| {
            // A connection of its own: the store's stays free for the app's writes meanwhile.
            let source = Connection::open_with_flags(
                self.store.path(),
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            let mut dest = Connection::open(temp)?;
            let backup = rusqlite::backup::Backup::new(&source, &mut dest)?;
            copy_all(&backup)
                .map_err(|e| Error::Storage(format!("The backup could not be made: {e}.")))
        })?;
        audit::record_now(
            self.store,
            actor,
            Area::Workspace,
            "workspace.backed_up",
            &path.file_name().unwrap_or_default().to_string_lossy(),
            format!("Backed up the workspace to {}.", path.display()),
        )?;
        Ok(path)
    }

    /// Reads what `path` holds, refusing what cannot be restored: a file that is not a
    /// Pitchbar Admin backup, a damaged one, one from a newer version.
    pub fn inspect(&self, path: &Path) -> Result<BackupInfo> {
        let not_backup = || {
            Error::invalid(format!(
                "{} is not a Pitchbar Admin backup. Choose a file made with Back up (pitchbar-backup-….db).",
                path.display()
            ))
        };
        let bytes = std::fs::metadata(path)
            .map_err(|e| {
                Error::NotFound(format!(
                    "{} cannot be read ({e}). Check the path.",
                    path.display()
                ))
            })?
            .len();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|_| not_backup())?;
        if check != "ok" {
            return Err(Error::invalid(format!(
                "{} is damaged ({check}); nothing was restored. Choose another backup.",
                path.display()
            )));
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema_version() as i64 {
            return Err(Error::invalid(format!(
                "This backup was made by a newer version of Pitchbar Admin (schema {version}; this version knows up to {}). Install the newer version to restore it.",
                schema_version()
            )));
        }
        let workspace: Option<(String, String)> = conn
            .query_row("SELECT id, name FROM workspace", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|_| not_backup())?;
        let (id, workspace_name) = workspace.ok_or_else(not_backup)?;
        let count = |table: &str| -> u32 {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap_or(0)
        };
        let current = crate::workspace::workspace_id(&self.store.conn()).ok();
        Ok(BackupInfo {
            path: path.display().to_string(),
            workspace_name,
            same_workspace: current.as_deref() == Some(id.as_str()),
            members: count("member"),
            endpoints: count("webhook_endpoint"),
            connections: count("integration_connection"),
            bytes,
        })
    }

    /// Replaces the workspace's data with the backup's (an Owner's decision), then brings its
    /// schema up to this version. The current data stays until the copy succeeded. The
    /// services that keep data in memory (the dispatcher, the receiver, the notifier) must
    /// start again afterwards: the window restarts the app, the CLI refuses to run beside it.
    pub fn restore(&self, actor: &Actor, path: &Path) -> Result<Restored> {
        if actor.member().role != Role::Owner {
            return Err(Error::Forbidden(
                "Only an Owner can restore a backup: it replaces the whole workspace.".into(),
            ));
        }
        let info = self.inspect(path)?;
        let source = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        {
            let mut live = self.store.conn();
            copy_all(&rusqlite::backup::Backup::new(&source, &mut live)?).map_err(|e| {
                Error::Storage(format!(
                    "The backup could not be restored ({e}); the workspace is as it was."
                ))
            })?;
            crate::store::migrate(&mut live)?;
        }
        let secrets = if info.same_workspace {
            "Its tokens, keys and secrets are this computer's keychain entries, which stay as they were. Connections disconnected and endpoint secrets rotated since the backup was made need reconnecting or rotating again."
        } else {
            "It is another workspace's backup: its tokens, keys and signing secrets were in the keychain where it was made, not here. Reconnect its integrations, regenerate the API key and rotate each endpoint's signing secret."
        };
        audit::record_now(
            self.store,
            actor,
            Area::Workspace,
            "workspace.restored",
            &info.workspace_name,
            format!(
                "Restored the workspace “{}” from {}.",
                info.workspace_name, info.path
            ),
        )?;
        Ok(Restored {
            info,
            secrets: secrets.into(),
        })
    }
}

/// Copies every page in one step: the source is read as one snapshot, and the destination
/// changes in one go or not at all. A source busy for a moment (a checkpoint) is tried again.
fn copy_all(backup: &rusqlite::backup::Backup<'_, '_>) -> rusqlite::Result<()> {
    use rusqlite::backup::StepResult;
    for _ in 0..50 {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some("the database stayed busy for 5 seconds".into()),
    ))
}
