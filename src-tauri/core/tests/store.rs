//! The store on real SQLite files: creation, WAL, reopening, and the files it must refuse untouched.

use pitchbar_core::store::{schema_version, Store, DB_FILE};
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
