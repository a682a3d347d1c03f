//! The SQLite store: opening the file, WAL, busy timeout, and the embedded migrations.

pub(crate) mod app_setting;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{MigrationDefinitionError, Migrations, M};

use crate::error::{Error, Result};

pub const DB_FILE: &str = "pitchbar.db";

/// The migrations, in order; their count is the schema version this build writes.
fn migration_list() -> Vec<M<'static>> {
    vec![
        M::up(include_str!("../../migrations/0001_foundation.sql")),
        M::up(include_str!("../../migrations/0002_webhooks.sql")),
        M::up(include_str!("../../migrations/0003_leads.sql")),
        M::up(include_str!("../../migrations/0004_receiver.sql")),
        M::up(include_str!("../../migrations/0005_settings.sql")),
        M::up(include_str!("../../migrations/0006_oauth.sql")),
        M::up(include_str!("../../migrations/0007_dispatch_perf.sql")),
        M::up(include_str!(
            "../../migrations/0008_receiver_replay_index.sql"
        )),
        M::up(include_str!("../../migrations/0009_notify.sql")),
        M::up(include_str!("../../migrations/0010_knowledge.sql")),
        M::up(include_str!(
            "../../migrations/0011_receiver_replay_append.sql"
        )),
        M::up_with_hook(
            include_str!("../../migrations/0012_dispatch_checks.sql"),
            schema_edited,
        ),
        M::up(include_str!("../../migrations/0013_oauth_apps.sql")),
        M::up(include_str!("../../migrations/0014_destinations.sql")),
        M::up(include_str!("../../migrations/0015_endpoint_failing.sql")),
        M::up(include_str!(
            "../../migrations/0016_receiver_test_endpoint.sql"
        )),
        M::up(include_str!("../../migrations/0017_slack_reply_users.sql")),
        M::up(include_str!("../../migrations/0018_audit.sql")),
        M::up(include_str!("../../migrations/0019_notices.sql")),
    ]
}

/// The data folder readable by its owner only (`0700`) and the database file too (`0600`; SQLite
/// gives its -wal and -shm files the database's mode): leads, logs and request bodies are the
/// workspace's. Created that way, and tightened on every start for folders made before. A
/// folder that cannot be changed (not ours) is used as it is, with a warning.
fn owner_only(dir: &Path, db: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let tighten = |path: &Path, mode: u32| {
            if let Err(err) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            {
                tracing::warn!(error = %err, path = %path.display(), "cannot make it private");
            }
        };
        tighten(dir, 0o700);
        if !db.exists() {
            // Created 0600 before SQLite opens it, so it is never readable by others.
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(db);
        }
        tighten(db, 0o600);
        for suffix in ["-wal", "-shm"] {
            let side = db.with_file_name(format!("{DB_FILE}{suffix}"));
            if side.exists() {
                tighten(&side, 0o600);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, db);
}

fn migrations() -> Migrations<'static> {
    Migrations::new(migration_list())
}

/// After a migration that edits stored definitions (`writable_schema`): raises the schema
/// version, so that other connections reload the definitions before their next statement, and
/// closes the schema to edits again with `RESET`, which reloads them on this connection (a raised
/// version alone does not: this connection wrote it).
fn schema_edited(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.execute_batch(&format!(
        "PRAGMA schema_version = {}; PRAGMA writable_schema = RESET;",
        version + 1
    ))?;
    Ok(())
}

/// The one connection to the workspace database. Writes are short, so one guarded
/// connection is enough; SQLite's WAL lets other processes (the CLI) read meanwhile.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the database in `dir` and brings its schema up to date in one
    /// transaction. A damaged file or one from a newer version is refused and left as it is.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|err| {
            tracing::error!(error = %err, "cannot create the data directory");
            Error::Storage(
                "The data folder cannot be created. Check that its parent folder exists and is writable, then restart the app."
                    .into(),
            )
        })?;
        let path = dir.join(DB_FILE);
        owner_only(dir, &path);
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // The first read of the header is where a file that is not a database shows itself.
        conn.query_row("PRAGMA schema_version", [], |_| Ok(()))
            .map_err(not_a_database)?;
        // 16 KB pages for a new database (an existing one keeps its size: changing it means
        // rewriting the whole file). The logs' rows are 1–2 KB: a 4 KB page holds two of them
        // with a fifth of it unused, and every page costs a WAL frame (two writes) and a
        // checkpoint copy (a read and a write). Measured on the receiver's log: −4 % CPU per
        // request recorded.
        conn.execute_batch("PRAGMA page_size = 16384")?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "the database did not switch to WAL");
        }
        // A 16 MB page cache (the default is 2 MB): the delivery log's and the receiver's
        // indexes stay in memory while a burst is written. Memory only; durability is as set
        // above.
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;",
        )?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for one short unit of work.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (it rolls back
        // open transactions), so a poisoned lock is still safe to use.
        crate::sync::lock(&self.conn)
    }

    /// Runs `f` in a transaction: all of it is saved, or none of it.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

/// The schema version this build knows.
pub fn schema_version() -> usize {
    migration_list().len()
}

/// Creates the database in `dir` with the schema of the first `version` migrations only, as an
/// older build left it: for upgrade tests.
#[doc(hidden)]
pub fn create_at_version(dir: &Path, version: usize) -> Result<()> {
    let mut conn = Connection::open(dir.join(DB_FILE))?;
    migrations()
        .to_version(&mut conn, version)
        .map_err(|err| Error::Internal(format!("cannot build schema {version}: {err}")))
}

pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    match migrations().to_latest(conn) {
        Ok(()) => Ok(()),
        Err(rusqlite_migration::Error::MigrationDefinition(
            MigrationDefinitionError::DatabaseTooFarAhead,
        )) => {
            let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Err(Error::Storage(format!(
                "This database was written by a newer version of Pitchbar Admin (schema {found}; this version knows up to {}). \
                 Install the newer version to open it. Nothing in it was changed.",
                schema_version()
            )))
        }
        Err(rusqlite_migration::Error::RusqliteError { err, .. }) => Err(not_a_database(err)),
        Err(err) => {
            tracing::error!(error = %err, "migration failed");
            Err(Error::Storage(
                "The database could not be upgraded to this version. Nothing in it was changed; restore a backup or contact support.".into(),
            ))
        }
    }
}

fn not_a_database(err: rusqlite::Error) -> Error {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            tracing::error!(error = %err, "the database file is damaged");
            Error::Storage(
                "The database file is damaged or is not a Pitchbar Admin database. It was left untouched: \
                 move it aside (or restore a backup) and restart the app to begin afresh."
                    .into(),
            )
        }
        _ => err.into(),
    }
}
