//! Webhook endpoints as their tests set them up: an Owner and a Member over a given keychain,
//! an endpoint's input, every webhook row (to show nothing was written), and where each of an
//! endpoint's secrets is: its keychain references, the keychain, the database.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use pitchbar_core::secret::Secret;
use pitchbar_core::store::DB_FILE;
use pitchbar_core::vault::{Vault, VaultKey};
use pitchbar_core::webhooks::endpoints::{EndpointInput, EndpointView, SecretState};
use pitchbar_core::workspace::Actor;
use pitchbar_core::{Core, Error};

use super::files::{contains, data_dir_bytes};

pub fn set_up() -> (tempfile::TempDir, Core, Actor, Actor) {
    set_up_with(Vault::os())
}

pub fn set_up_with(vault: Vault) -> (tempfile::TempDir, Core, Actor, Actor) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with_vault(dir.path(), vault).unwrap();
    let owner = super::workspace::set_up_owner(&core);
    let member = super::workspace::member_actor(&core, &owner);
    (dir, core, owner, member)
}

pub fn input(url: &str) -> EndpointInput {
    EndpointInput {
        url: url.into(),
        description: "CRM".into(),
        events: vec!["lead.captured".into(), "conversation.closed".into()],
        active: true,
        ..EndpointInput::default()
    }
}

/// Every webhook row, to show a refused change wrote nothing.
pub fn snapshot(core: &Core) -> String {
    let conn = core.store().conn();
    let mut out = String::new();
    for sql in [
        "SELECT id || url || description || events || active || policy || max_attempts || timeout_ms || standard_webhooks || coalesce(disabled_reason, '') || updated_at FROM webhook_endpoint ORDER BY id",
        "SELECT endpoint_id || coalesce(plaintext_secret, '') || coalesce(keychain_ref, '') || coalesce(expires_at, '') FROM webhook_endpoint_secret ORDER BY id",
        "SELECT id FROM webhook_event ORDER BY id",
        "SELECT id || status FROM webhook_delivery ORDER BY id",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        for row in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
    }
    out
}

pub fn message(err: &Error) -> String {
    serde_json::to_value(err).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Neither the data dir's files nor any column of the secrets table hold `secret`, and no
/// row keeps a plaintext secret.
pub fn assert_not_in_database(dir: &Path, core: &Core, secret: &Secret, when: &str) {
    let bytes = data_dir_bytes(dir);
    assert!(!bytes.is_empty());
    assert!(
        std::fs::metadata(dir.join(format!("{DB_FILE}-wal"))).is_ok(),
        "{when}: the WAL is there to be checked"
    );
    let random = &secret.expose()["whsec_".len()..];
    assert!(
        !contains(&bytes, random),
        "{when}: a secret is in the data dir"
    );
    let (plaintext, matching): (i64, i64) = core
        .store()
        .conn()
        .query_row(
            "SELECT count(plaintext_secret), count(*) FILTER (
                 WHERE instr(coalesce(plaintext_secret, '') || coalesce(keychain_ref, ''), ?1) > 0)
             FROM webhook_endpoint_secret",
            [random],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((plaintext, matching), (0, 0), "{when}");
}

/// The endpoint's keychain references, newest row first.
pub fn keychain_refs(core: &Core, endpoint_id: &str) -> Vec<Option<String>> {
    let conn = core.store().conn();
    let mut stmt = conn
        .prepare("SELECT keychain_ref FROM webhook_endpoint_secret WHERE endpoint_id = ?1 ORDER BY id DESC")
        .unwrap();
    let rows = stmt.query_map([endpoint_id], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

pub fn in_keychain(core: &Core, keychain_ref: &str) -> Option<String> {
    core.vault()
        .get(&VaultKey::from_account(keychain_ref).unwrap())
        .unwrap()
        .map(|s| s.expose().to_owned())
}

/// The endpoint's known secrets as (secret, state), in the order given.
pub fn known(core: &Core, endpoint_id: &str) -> Vec<(String, SecretState)> {
    core.webhook_endpoints()
        .known_secrets()
        .unwrap()
        .into_iter()
        .filter(|k| k.endpoint_id == endpoint_id)
        .map(|k| (k.secret.expose().to_owned(), k.state))
        .collect()
}

pub fn reveal(core: &Core, owner: &Actor, ep: &EndpointView) -> Secret {
    core.webhook_endpoints()
        .reveal_secret(owner, &ep.id)
        .unwrap()
}

/// Makes the endpoint's secret rows look as an older version left them: the secret in the
/// database, no keychain reference. Done on the file with the core closed, as an upgrade finds it.
pub fn make_legacy(dir: &Path, endpoint_id: &str, current: &str, previous: Option<&str>) {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    conn.execute(
        "DELETE FROM webhook_endpoint_secret WHERE endpoint_id = ?1",
        [endpoint_id],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO webhook_endpoint_secret (endpoint_id, plaintext_secret, expires_at, created_at)
         VALUES (?1, ?2, NULL, 1)",
        [endpoint_id, current],
    )
    .unwrap();
    if let Some(previous) = previous {
        conn.execute(
            "INSERT INTO webhook_endpoint_secret (endpoint_id, plaintext_secret, expires_at, created_at)
             VALUES (?1, ?2, ?3, 1)",
            rusqlite::params![endpoint_id, previous, now_ms() + 3_600_000],
        )
        .unwrap();
    }
}

pub const LEGACY: &str = "whsec_LegacyCurrentSecretFromTheDatabase0";
pub const LEGACY_PREVIOUS: &str = "whsec_LegacyPreviousSecretFromTheDatabase";
