//! The `app_setting` table: one value per key, as the app's settings and the notices' switches
//! keep them. Over a connection or a transaction (which derefs to one).

use rusqlite::{params, Connection, OptionalExtension};

use crate::clock::now_rfc3339;
use crate::error::Result;

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM app_setting WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// A yes/no setting; `default` while unset or unreadable.
pub(crate) fn flag(conn: &Connection, key: &str, default: bool) -> Result<bool> {
    Ok(match get(conn, key)?.as_deref() {
        Some("1") => true,
        Some("0") => false,
        _ => default,
    })
}

pub(crate) fn put(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO app_setting (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![key, value, now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn put_flag(conn: &Connection, key: &str, on: bool) -> Result<()> {
    put(conn, key, if on { "1" } else { "0" })
}
