//! The store on real SQLite files: creation, WAL, reopening, and the files it must refuse untouched.

use pitchbar_core::store::{create_at_version, schema_version, Store, DB_FILE};
use pitchbar_core::{Core, Error};

#[test]
fn a_new_store_is_created_migrated_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/data")).unwrap();
    let conn = store.conn();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(page_size, 16384);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, schema_version());
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('workspace', 'member', 'setting', 'integration_connection')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 4);
}

#[test]
fn reopening_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let core = Core::open(dir.path()).unwrap();
        core.workspaces()
            .set_up("Acme", owner("Ada", "ada@acme.test"))
            .unwrap();
    }
    let core = Core::open(dir.path()).unwrap();
    let session = core.workspaces().session().unwrap().unwrap();
    assert_eq!(session.workspace.name, "Acme");
}

#[test]
fn an_existing_database_keeps_its_page_size() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch("PRAGMA page_size = 4096; CREATE TABLE before_us (x)")
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let page_size: i64 = store
        .conn()
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(page_size, 4096);
    let version: i64 = store
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        version as usize,
        schema_version(),
        "and is migrated as before"
    );
}

/// The statements every delivery runs, with values the CHECKs allow.
const DELIVERY_STATEMENTS: [&str; 3] = [
    "INSERT INTO webhook_delivery (id, event_id, endpoint_id, event_type, status, attempts, run_attempts,
         next_attempt_at, trigger, created_at, updated_at)
     VALUES ('d1', 'e1', 'ep1', 'lead.captured', 'pending', 0, 0, 1, 'event', 1, 1)",
    "UPDATE webhook_delivery SET status = 'succeeded', attempts = 1, updated_at = 2 WHERE id = 'd1'",
    "INSERT INTO webhook_attempt (delivery_id, endpoint_id, event_type, trigger, attempt_no, attempted_at,
         url, request_headers, request_body, duration_us, ok, error_class)
     VALUES ('d1', 'ep1', 'lead.captured', 'event', 1, 2, 'http://x.test', '[]', X'', 5, 0, 'non_2xx')",
];

/// The schema version before migration 0012 (the delivery tables' CHECKs as `=` chains).
const BEFORE_0012: usize = 11;

/// Whether `sql` builds a temporary b-tree when it runs.
fn builds_a_temporary_table(conn: &rusqlite::Connection, sql: &str) -> bool {
    let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
    let ops: Vec<String> = stmt
        .query_map([], |r| r.get(1))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    ops.iter().any(|op| op == "OpenEphemeral")
}

/// Migration 0012 rewrites the delivery tables' CHECKs (IN lists) as `=` chains, which SQLite
/// tests in place instead of building a temporary b-tree each time a delivery is written. The
/// rules stay the same, on a new database and on an upgraded one with rows in it, and a
/// connection open during the upgrade picks up the new definitions.
#[test]
fn delivery_checks_build_no_temporary_table_and_keep_their_rules() {
    for upgraded in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let older = upgraded.then(|| {
            create_at_version(dir.path(), BEFORE_0012).unwrap();
            let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
            assert!(builds_a_temporary_table(&conn, DELIVERY_STATEMENTS[0]));
            conn.execute_batch(DELIVERY_STATEMENTS[0]).unwrap();
            conn
        });
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        if let Some(older) = &older {
            // Its next statement finds the schema version raised and reloads the definitions.
            older
                .query_row("SELECT count(*) FROM webhook_delivery", [], |_| Ok(()))
                .unwrap();
        }
        for sql in DELIVERY_STATEMENTS {
            assert!(!builds_a_temporary_table(&conn, sql), "{sql}");
            if let Some(older) = &older {
                assert!(
                    !builds_a_temporary_table(older, sql),
                    "{sql} (connection open during the upgrade)"
                );
            }
        }
        if !upgraded {
            conn.execute_batch(DELIVERY_STATEMENTS[0]).unwrap();
        }
        conn.execute_batch(DELIVERY_STATEMENTS[1]).unwrap();
        conn.execute_batch(DELIVERY_STATEMENTS[2]).unwrap();
        for status in ["pending", "succeeded", "failed", "dead", "cancelled"] {
            conn.execute("UPDATE webhook_delivery SET status = ?1", [status])
                .unwrap();
        }
        for trigger in ["event", "test", "redeliver", "replay"] {
            conn.execute("UPDATE webhook_delivery SET trigger = ?1", [trigger])
                .unwrap();
        }
        let classes = [
            "timeout",
            "connection_refused",
            "dns",
            "tls",
            "redirect",
            "non_2xx",
            "other",
        ];
        for class in classes.map(Some).into_iter().chain([None]) {
            conn.execute("UPDATE webhook_attempt SET error_class = ?1", [class])
                .unwrap();
        }
        for (sql, value) in [
            ("UPDATE webhook_delivery SET status = ?1", "Pending"),
            ("UPDATE webhook_delivery SET trigger = ?1", "events"),
            ("UPDATE webhook_attempt SET error_class = ?1", "refused"),
        ] {
            let err = conn.execute(sql, [value]).unwrap_err();
            assert!(
                err.to_string().contains("CHECK constraint failed"),
                "{sql}: {err}"
            );
        }
    }
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let future = schema_version() + 3;
    {
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", future as i64)
            .unwrap();
    }
    let before = std::fs::read(dir.path().join(DB_FILE)).unwrap();

    let err = Store::open(dir.path())
        .err()
        .expect("a newer schema must be refused");
    let Error::Storage(message) = &err else {
        panic!("wrong error: {err:?}")
    };
    assert!(message.contains("newer version"), "{message}");
    assert!(message.contains(&format!("schema {future}")), "{message}");

    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, future);
    drop(conn);
    assert_eq!(std::fs::read(dir.path().join(DB_FILE)).unwrap(), before);
}

#[test]
fn a_damaged_file_is_reported_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join(DB_FILE), &garbage).unwrap();

    let err = Core::open(dir.path())
        .err()
        .expect("a damaged file must be refused");
    let Error::Storage(message) = &err else {
        panic!("wrong error: {err:?}")
    };
    assert!(message.contains("damaged"), "{message}");
    assert!(
        !message.contains(DB_FILE),
        "no paths in messages: {message}"
    );

    assert_eq!(std::fs::read(dir.path().join(DB_FILE)).unwrap(), garbage);
    assert!(!dir.path().join(format!("{DB_FILE}-wal")).exists());
}

#[test]
fn a_data_dir_that_cannot_be_created_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let err = Core::open(&file.join("data")).err().expect("must fail");
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
}

#[test]
fn errors_cross_to_the_ui_as_code_and_message() {
    let json = serde_json::to_value(Error::Forbidden("Ask an Owner.".into())).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "code": "forbidden", "message": "Ask an Owner." })
    );
}

fn owner(name: &str, email: &str) -> pitchbar_core::workspace::MemberInput {
    pitchbar_core::workspace::MemberInput {
        name: name.into(),
        email: email.into(),
        role: pitchbar_core::workspace::Role::Owner,
    }
}

/// Leads, logs and request bodies are the workspace's: the folder and the database (with its
/// WAL) are its owner's only, and a folder made before this is tightened at the next start.
#[cfg(unix)]
#[test]
fn the_data_folder_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let store = Store::open(&dir).unwrap();
    store
        .conn()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(store.path()), 0o600);
    let wal = dir.join(format!("{DB_FILE}-wal"));
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600);
    drop(store);

    // Made readable by others by an older version: tightened when opened again.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.join(DB_FILE), std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(store.path()), 0o600);
}
