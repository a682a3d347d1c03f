//! Webhook endpoints on a real SQLite file: checks with clear messages, the Member refused
//! for every change with nothing written, secrets only ever shown redacted. Signing secrets live
//! in a real Secret Service: run through `scripts/with-keychain.sh`; keychain failures come
//! from a store that refuses everything and from keyring's mock store.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyring_core::api::CredentialStoreApi;
use keyring_core::{mock, CredentialStore, Entry, Error as KeyringError};
use pitchbar_core::secret::Secret;
use pitchbar_core::store::DB_FILE;
use pitchbar_core::vault::{Vault, VaultKey};
use pitchbar_core::webhooks::endpoints::{
    EndpointInput, EndpointView, KnownSecret, Policy, SecretState, MAX_RETIRED,
};
use pitchbar_core::workspace::{Actor, MemberInput, Role};
use pitchbar_core::{Core, Error};

fn set_up() -> (tempfile::TempDir, Core, Actor, Actor) {
    set_up_with(Vault::os())
}

fn set_up_with(vault: Vault) -> (tempfile::TempDir, Core, Actor, Actor) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with_vault(dir.path(), vault).unwrap();
    let owner = support::workspace::set_up_owner(&core);
    let m = core
        .workspaces()
        .add_member(
            &owner,
            MemberInput {
                name: "Mia Member".into(),
                email: "mia@acme.test".into(),
                role: Role::Member,
            },
        )
        .unwrap();
    core.workspaces().switch_to(&m.id).unwrap();
    let member = core.workspaces().actor().unwrap();
    core.workspaces().switch_to(&owner.member().id).unwrap();
    (dir, core, owner, member)
}

fn input(url: &str) -> EndpointInput {
    EndpointInput {
        url: url.into(),
        description: "CRM".into(),
        events: vec!["lead.captured".into(), "conversation.closed".into()],
        active: true,
        ..EndpointInput::default()
    }
}

/// Every webhook row, to show a refused change wrote nothing.
fn snapshot(core: &Core) -> String {
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

fn message(err: &Error) -> String {
    serde_json::to_value(err).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn create_sets_the_defaults_and_shows_the_secret_only_redacted() {
    let (_dir, core, owner, _) = set_up();
    let view = core
        .webhook_endpoints()
        .create(&owner, input("https://crm.example.com/hooks"))
        .unwrap();
    assert_eq!(view.policy, Policy::Single);
    assert_eq!(view.max_attempts, 1);
    assert_eq!(view.timeout_ms, 5_000);
    assert!(view.active);
    assert!(view.warning.is_none());
    assert_eq!(view.events.len(), 2);
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&owner, &view.id)
        .unwrap();
    assert!(secret.expose().starts_with("whsec_"));
    assert_eq!(view.secret_redacted, secret.redacted());
    let json = serde_json::to_string(&core.webhook_endpoints().list().unwrap()).unwrap();
    assert!(
        !json.contains(secret.expose()),
        "no view carries the secret"
    );

    let mut again = input("https://crm.example.com/hooks");
    again.policy = Policy::AtLeastOnce;
    let v = core.webhook_endpoints().create(&owner, again).unwrap();
    assert_eq!(v.max_attempts, 5, "at-least-once defaults to 5 attempts");
    let mut three = input("https://crm.example.com/hooks");
    three.policy = Policy::AtLeastOnce;
    three.max_attempts = Some(3);
    three.timeout_ms = Some(60_000);
    let v = core.webhook_endpoints().create(&owner, three).unwrap();
    assert_eq!((v.max_attempts, v.timeout_ms), (3, 60_000));
}

#[test]
fn plain_http_is_warned_about_unless_loopback() {
    let (_dir, core, owner, _) = set_up();
    let remote = core
        .webhook_endpoints()
        .create(&owner, input("http://crm.example.com/hooks"))
        .unwrap();
    assert!(remote.warning.unwrap().contains("plain http"));
    for local in [
        "http://127.0.0.1:8080/h",
        "http://localhost:3000/h",
        "http://[::1]:9/h",
    ] {
        let v = core
            .webhook_endpoints()
            .create(&owner, input(local))
            .unwrap();
        assert!(v.warning.is_none(), "{local}");
    }
}

#[test]
fn bad_urls_events_and_settings_are_refused_with_nothing_written() {
    let (_dir, core, owner, _) = set_up();
    let before = snapshot(&core);
    let long = format!("https://example.com/{}", "a".repeat(2100));
    let cases: Vec<(EndpointInput, &str)> = vec![
        (input(""), "Enter the URL"),
        (input("not a url"), "not a valid URL"),
        (input("ftp://example.com/x"), "https://"),
        (input("file:///etc/passwd"), "https://"),
        (
            input("https://user:pw@example.com/x"),
            "user name and password",
        ),
        (input(&long), "2048"),
        (
            EndpointInput {
                events: vec![],
                ..input("https://example.com")
            },
            "at least one event",
        ),
        (
            EndpointInput {
                events: vec!["lead.deleted".into()],
                ..input("https://example.com")
            },
            "Valid event types: lead.captured",
        ),
        (
            EndpointInput {
                events: vec!["message.received".into()],
                ..input("https://example.com")
            },
            "conversation.message",
        ),
        (
            EndpointInput {
                timeout_ms: Some(61_000),
                ..input("https://example.com")
            },
            "between 1 and 60 seconds",
        ),
        (
            EndpointInput {
                timeout_ms: Some(10),
                ..input("https://example.com")
            },
            "between 1 and 60 seconds",
        ),
        (
            EndpointInput {
                policy: Policy::AtLeastOnce,
                max_attempts: Some(11),
                ..input("https://example.com")
            },
            "between 1 and 10",
        ),
        (
            EndpointInput {
                max_attempts: Some(3),
                ..input("https://example.com")
            },
            "at-least-once",
        ),
    ];
    for (bad, expected) in cases {
        let err = core.webhook_endpoints().create(&owner, bad).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(
            message(&err).contains(expected),
            "{:?} lacks {expected}",
            message(&err)
        );
    }
    assert_eq!(snapshot(&core), before, "nothing written");

    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    let before = snapshot(&core);
    let err = core
        .webhook_endpoints()
        .update(&owner, &ep.id, input("gopher://x"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    let err = core
        .webhook_endpoints()
        .rotate_secret(&owner, &ep.id, Duration::from_secs(30 * 24 * 3600))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    assert_eq!(snapshot(&core), before);
}

#[test]
fn a_member_is_forbidden_every_change_and_nothing_is_written() {
    let (_dir, core, owner, member) = set_up();
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    let before = snapshot(&core);
    let eps = core.webhook_endpoints();
    let results = [
        eps.create(&member, input("https://example.com/x")).err(),
        eps.update(&member, &ep.id, input("https://example.com/y"))
            .err(),
        eps.delete(&member, &ep.id).err(),
        eps.rotate_secret(&member, &ep.id, Duration::from_secs(60))
            .err(),
        eps.reveal_secret(&member, &ep.id).err(),
    ];
    for err in results {
        let err = err.expect("refused");
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        assert!(message(&err).contains("Member"));
    }
    assert_eq!(snapshot(&core), before);
    // Members still see everything.
    assert_eq!(eps.list().unwrap().len(), 1);
}

#[test]
fn update_turning_on_clears_the_disabled_reason_and_delete_says_what_goes() {
    let (_dir, core, owner, _) = set_up();
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    core.store()
        .conn()
        .execute(
            "UPDATE webhook_endpoint SET active = 0, disabled_reason = '410' WHERE id = ?1",
            [&ep.id],
        )
        .unwrap();
    let mut changed = input("https://example.com/new");
    changed.description = "  new  ".into();
    let v = core
        .webhook_endpoints()
        .update(&owner, &ep.id, changed)
        .unwrap();
    assert!(v.active && v.disabled_reason.is_none());
    assert_eq!(v.url, "https://example.com/new");
    assert_eq!(v.description, "new");

    let impact = core.webhook_endpoints().delete_impact(&ep.id).unwrap();
    assert_eq!(impact.logged_attempts, 0);
    core.webhook_endpoints().delete(&owner, &ep.id).unwrap();
    assert!(matches!(
        core.webhook_endpoints().get(&ep.id).unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(matches!(
        core.webhook_endpoints().delete(&owner, &ep.id).unwrap_err(),
        Error::NotFound(_)
    ));
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Every byte of every file in the data dir (the database, its WAL and shared memory).
fn data_dir_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Neither the data dir's files nor any column of the secrets table hold `secret`, and no
/// row keeps a plaintext secret.
fn assert_not_in_database(dir: &Path, core: &Core, secret: &Secret, when: &str) {
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
fn keychain_refs(core: &Core, endpoint_id: &str) -> Vec<Option<String>> {
    let conn = core.store().conn();
    let mut stmt = conn
        .prepare("SELECT keychain_ref FROM webhook_endpoint_secret WHERE endpoint_id = ?1 ORDER BY id DESC")
        .unwrap();
    let rows = stmt.query_map([endpoint_id], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

fn in_keychain(core: &Core, keychain_ref: &str) -> Option<String> {
    core.vault()
        .get(&VaultKey::from_account(keychain_ref).unwrap())
        .unwrap()
        .map(|s| s.expose().to_owned())
}

/// The endpoint's known secrets as (secret, state), in the order given.
fn known(core: &Core, endpoint_id: &str) -> Vec<(String, SecretState)> {
    core.webhook_endpoints()
        .known_secrets()
        .unwrap()
        .into_iter()
        .filter(|k| k.endpoint_id == endpoint_id)
        .map(|k| (k.secret.expose().to_owned(), k.state))
        .collect()
}

fn reveal(core: &Core, owner: &Actor, ep: &EndpointView) -> Secret {
    core.webhook_endpoints()
        .reveal_secret(owner, &ep.id)
        .unwrap()
}

#[test]
fn secrets_live_in_the_keychain_and_the_database_keeps_only_references() {
    let (dir, core, owner, _) = set_up();
    let eps = core.webhook_endpoints();
    let ep = eps.create(&owner, input("https://example.com/h")).unwrap();
    let first = reveal(&core, &owner, &ep);
    assert_not_in_database(dir.path(), &core, &first, "after create");

    eps.rotate_secret(&owner, &ep.id, Duration::from_secs(3600))
        .unwrap();
    let second = reveal(&core, &owner, &ep);
    eps.rotate_secret(&owner, &ep.id, Duration::ZERO).unwrap();
    let third = reveal(&core, &owner, &ep);
    for secret in [&first, &second, &third] {
        assert_not_in_database(dir.path(), &core, secret, "after rotations");
    }

    // Each row names its own keychain entry, which holds its secret.
    let refs: Vec<String> = keychain_refs(&core, &ep.id)
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(refs.len(), 3);
    let workspace = core.workspaces().session().unwrap().unwrap().workspace.id;
    for (r, secret) in refs.iter().zip([&third, &second, &first]) {
        assert!(
            r.starts_with(&format!("{workspace}/webhook/{}/secret/", ep.id)),
            "{r}"
        );
        assert_eq!(in_keychain(&core, r).as_deref(), Some(secret.expose()));
    }

    // A fresh core (nothing in memory) reads the same secret from the keychain.
    drop(core);
    let core = Core::open(dir.path()).unwrap();
    let again = core
        .webhook_endpoints()
        .reveal_secret(&owner, &ep.id)
        .unwrap();
    assert_eq!(again.expose(), third.expose());
    assert_eq!(
        core.webhook_endpoints()
            .get(&ep.id)
            .unwrap()
            .secret_redacted,
        third.redacted()
    );
}

#[test]
fn delete_removes_the_keychain_entries() {
    let (_dir, core, owner, _) = set_up();
    let eps = core.webhook_endpoints();
    let ep = eps.create(&owner, input("https://example.com/h")).unwrap();
    let other = eps
        .create(&owner, input("https://example.com/other"))
        .unwrap();
    eps.rotate_secret(&owner, &ep.id, Duration::from_secs(3600))
        .unwrap();
    eps.rotate_secret(&owner, &ep.id, Duration::ZERO).unwrap();
    let refs = keychain_refs(&core, &ep.id);
    assert_eq!(refs.len(), 3);
    for r in refs.iter().flatten() {
        assert!(in_keychain(&core, r).is_some());
    }

    eps.delete(&owner, &ep.id).unwrap();
    assert!(keychain_refs(&core, &ep.id).is_empty());
    for r in refs.iter().flatten() {
        assert_eq!(in_keychain(&core, r), None, "{r} is gone");
    }
    // The other endpoint's secret is untouched.
    let other_ref = keychain_refs(&core, &other.id)[0].clone().unwrap();
    assert!(in_keychain(&core, &other_ref).is_some());
    assert_eq!(known(&core, &ep.id), vec![]);
}

#[test]
fn rotation_keeps_retired_secrets_with_their_state_and_never_signs_with_them() {
    let (_dir, core, owner, _) = set_up();
    let eps = core.webhook_endpoints();
    let ep = eps.create(&owner, input("https://example.com/h")).unwrap();
    let first = reveal(&core, &owner, &ep).expose().to_owned();
    assert_eq!(
        known(&core, &ep.id),
        vec![(first.clone(), SecretState::Current)]
    );

    let before = now_ms();
    let v = eps
        .rotate_secret(&owner, &ep.id, Duration::from_millis(400))
        .unwrap();
    let second = reveal(&core, &owner, &ep).expose().to_owned();
    let known_now = known(&core, &ep.id);
    assert_eq!(known_now[0], (second.clone(), SecretState::Current));
    let SecretState::Previous { expires_at_ms } = known_now[1].1 else {
        panic!("{known_now:?}")
    };
    assert_eq!(known_now[1].0, first);
    assert!((before + 400..=now_ms() + 400).contains(&expires_at_ms));
    assert!(v.previous_secret_expires_at.is_some());

    // The overlap ends: the first secret is retired when it expired, and kept.
    sleep(Duration::from_millis(500));
    assert_eq!(
        known(&core, &ep.id),
        vec![
            (second.clone(), SecretState::Current),
            (
                first.clone(),
                SecretState::Retired {
                    retired_at_ms: expires_at_ms
                }
            ),
        ]
    );
    assert_eq!(eps.get(&ep.id).unwrap().previous_secret_expires_at, None);

    // A zero-overlap rotation retires the current secret at the rotation.
    let before = now_ms();
    let v = eps.rotate_secret(&owner, &ep.id, Duration::ZERO).unwrap();
    let after = now_ms();
    assert_eq!(v.previous_secret_expires_at, None);
    let third = reveal(&core, &owner, &ep).expose().to_owned();
    let known_now = known(&core, &ep.id);
    assert_eq!(known_now.len(), 3);
    assert_eq!(known_now[0], (third.clone(), SecretState::Current));
    let SecretState::Retired { retired_at_ms } = known_now[1].1 else {
        panic!("{known_now:?}")
    };
    assert_eq!(known_now[1].0, second);
    assert!((before..=after).contains(&retired_at_ms));
    assert_eq!(known_now[2].0, first);

    // A rotation during an overlap retires the previous secret at once.
    eps.rotate_secret(&owner, &ep.id, Duration::from_secs(3600))
        .unwrap();
    let before = now_ms();
    eps.rotate_secret(&owner, &ep.id, Duration::from_secs(3600))
        .unwrap();
    let states: Vec<SecretState> = known(&core, &ep.id).into_iter().map(|k| k.1).collect();
    assert_eq!(states[0], SecretState::Current);
    assert!(matches!(states[1], SecretState::Previous { .. }));
    assert!(
        matches!(states[2], SecretState::Retired { retired_at_ms } if retired_at_ms >= before),
        "{states:?}"
    );
    assert_eq!(
        states
            .iter()
            .filter(|s| !matches!(s, SecretState::Retired { .. }))
            .count(),
        2,
        "one current, one previous: all others are retired"
    );
}

#[test]
fn known_secrets_name_their_endpoint() {
    let (_dir, core, owner, _) = set_up();
    let eps = core.webhook_endpoints();
    let a = eps
        .create(&owner, input("https://a.example.com/h"))
        .unwrap();
    let b = eps
        .create(&owner, input("https://b.example.com/h"))
        .unwrap();
    let all: Vec<KnownSecret> = eps.known_secrets().unwrap();
    assert_eq!(all.len(), 2);
    for (ep, url) in [
        (&a, "https://a.example.com/h"),
        (&b, "https://b.example.com/h"),
    ] {
        let k = all.iter().find(|k| k.endpoint_id == ep.id).unwrap();
        assert_eq!(k.endpoint_url, url);
        assert_eq!(k.secret.expose(), reveal(&core, &owner, ep).expose());
        assert_eq!(k.state, SecretState::Current);
    }
    // The state serializes as the other side of the bindings reads it.
    assert_eq!(
        serde_json::to_value(SecretState::Retired { retired_at_ms: 5 }).unwrap(),
        serde_json::json!({"state": "retired", "retired_at_ms": 5})
    );
}

#[test]
fn at_most_five_retired_secrets_are_kept_and_older_ones_leave_the_keychain() {
    let (_dir, core, owner, _) = set_up();
    let eps = core.webhook_endpoints();
    let ep = eps.create(&owner, input("https://example.com/h")).unwrap();
    let mut all_refs: Vec<String> = Vec::new();
    for _ in 0..MAX_RETIRED + 3 {
        all_refs.extend(keychain_refs(&core, &ep.id).into_iter().flatten());
        eps.rotate_secret(&owner, &ep.id, Duration::ZERO).unwrap();
    }
    all_refs.sort();
    all_refs.dedup();
    let kept = keychain_refs(&core, &ep.id);
    assert_eq!(
        kept.len(),
        1 + MAX_RETIRED,
        "the current one and five retired"
    );
    let states = known(&core, &ep.id);
    assert_eq!(states.len(), 1 + MAX_RETIRED);
    assert!(states[1..]
        .iter()
        .all(|(_, s)| matches!(s, SecretState::Retired { .. })));
    let kept: Vec<String> = kept.into_iter().flatten().collect();
    for r in &all_refs {
        let present = in_keychain(&core, r).is_some();
        assert_eq!(present, kept.contains(r), "{r}");
    }

    // With an overlap, the previous secret counts: it retires on its own later.
    eps.rotate_secret(&owner, &ep.id, Duration::from_secs(3600))
        .unwrap();
    let states: Vec<SecretState> = known(&core, &ep.id).into_iter().map(|k| k.1).collect();
    assert_eq!(states.len(), 1 + MAX_RETIRED);
    assert!(matches!(states[1], SecretState::Previous { .. }));
}

/// Makes the endpoint's secret rows look as an older version left them: the secret in the
/// database, no keychain reference. Done on the file with the core closed, as an upgrade finds it.
fn make_legacy(dir: &Path, endpoint_id: &str, current: &str, previous: Option<&str>) {
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

const LEGACY: &str = "whsec_LegacyCurrentSecretFromTheDatabase0";
const LEGACY_PREVIOUS: &str = "whsec_LegacyPreviousSecretFromTheDatabase";

#[test]
fn a_legacy_plaintext_secret_moves_to_the_keychain_on_first_use() {
    let (dir, core, owner, _) = set_up();
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    drop(core);
    make_legacy(dir.path(), &ep.id, LEGACY, Some(LEGACY_PREVIOUS));
    assert!(contains(&data_dir_bytes(dir.path()), LEGACY));

    // Opening touches nothing; the first read moves both.
    let core = Core::open(dir.path()).unwrap();
    let plaintext: i64 = core
        .store()
        .conn()
        .query_row(
            "SELECT count(plaintext_secret) FROM webhook_endpoint_secret",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(plaintext, 2, "Core::open left them as they were");
    let view = core.webhook_endpoints().get(&ep.id).unwrap();
    assert_eq!(view.secret_redacted, Secret::new(LEGACY).redacted());
    assert!(view.previous_secret_expires_at.is_some());
    for secret in [LEGACY, LEGACY_PREVIOUS] {
        assert_not_in_database(dir.path(), &core, &Secret::new(secret), "after the move");
    }
    let refs: Vec<String> = keychain_refs(&core, &ep.id)
        .into_iter()
        .map(|r| r.expect("a keychain reference"))
        .collect();
    assert_eq!(
        in_keychain(&core, &refs[0]).as_deref(),
        Some(LEGACY_PREVIOUS)
    );
    assert_eq!(in_keychain(&core, &refs[1]).as_deref(), Some(LEGACY));

    assert_eq!(
        core.webhook_endpoints()
            .reveal_secret(&owner, &ep.id)
            .unwrap()
            .expose(),
        LEGACY
    );
    let states: Vec<(String, SecretState)> = known(&core, &ep.id);
    assert_eq!(states[0], (LEGACY.to_owned(), SecretState::Current));
    assert_eq!(states[1].0, LEGACY_PREVIOUS);
}

/// A keychain that refuses everything, as a locked one does.
#[derive(Debug)]
struct Refusing;

impl CredentialStoreApi for Refusing {
    fn vendor(&self) -> String {
        "refusing".into()
    }
    fn id(&self) -> String {
        "refusing".into()
    }
    fn build(
        &self,
        _: &str,
        _: &str,
        _: Option<&HashMap<&str, &str>>,
    ) -> keyring_core::Result<Entry> {
        Err(KeyringError::NoStorageAccess("locked".to_string().into()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn refusing() -> Vault {
    let store: Arc<CredentialStore> = Arc::new(Refusing);
    Vault::with_store(store)
}

fn assert_keychain_error(err: Error) {
    assert!(
        matches!(&err, Error::Keychain(m) if m.contains("locked")),
        "{err:?}"
    );
}

#[test]
fn without_a_keychain_nothing_is_created_or_rotated_and_legacy_secrets_still_sign() {
    let (dir, core, owner, _) = set_up_with(refusing());
    let before = snapshot(&core);
    assert_keychain_error(
        core.webhook_endpoints()
            .create(&owner, input("https://example.com/h"))
            .unwrap_err(),
    );
    assert_eq!(snapshot(&core), before, "no endpoint row");

    // A database an older version wrote: the endpoint's secret still in it.
    core.store()
        .conn()
        .execute(
            "INSERT INTO webhook_endpoint (id, url, description, events, active, policy, max_attempts,
                 timeout_ms, standard_webhooks, created_at, updated_at)
             VALUES ('01LEGACY', 'https://example.com/h', '', '[\"lead.captured\"]', 1, 'single', 1,
                 5000, 0, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    drop(core);
    make_legacy(dir.path(), "01LEGACY", LEGACY, None);
    let core = Core::open_with_vault(dir.path(), refusing()).unwrap();
    let eps = core.webhook_endpoints();

    // The list opens and verifying still works, from the database copy, until the keychain does.
    assert_eq!(
        eps.get("01LEGACY").unwrap().secret_redacted,
        Secret::new(LEGACY).redacted()
    );
    assert_eq!(
        known(&core, "01LEGACY"),
        vec![(LEGACY.to_owned(), SecretState::Current)]
    );
    let before = snapshot(&core);
    assert_keychain_error(eps.reveal_secret(&owner, "01LEGACY").unwrap_err());
    assert_keychain_error(
        eps.rotate_secret(&owner, "01LEGACY", Duration::ZERO)
            .unwrap_err(),
    );
    assert_eq!(snapshot(&core), before, "nothing moved, nothing lost");
}

/// Every secret the mock keychain holds.
fn mock_entries(store: &mock::Store) -> Vec<String> {
    let creds = store.inner.lock().unwrap();
    let creds = creds.borrow();
    creds
        .iter()
        .filter_map(|c| c.inner.lock().unwrap().borrow().secret.clone())
        .map(|s| String::from_utf8(s).unwrap())
        .collect()
}

#[test]
fn a_database_failure_after_the_keychain_write_removes_the_entry() {
    let store = mock::Store::new().unwrap();
    let (_dir, core, owner, _) = set_up_with(Vault::with_store(store.clone()));
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    let secret = reveal(&core, &owner, &ep);
    assert_eq!(mock_entries(&store), vec![secret.expose().to_owned()]);

    core.store()
        .conn()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON webhook_endpoint_secret
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let before = snapshot(&core);
    let err = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/x"))
        .unwrap_err();
    assert!(!matches!(err, Error::Keychain(_)), "{err:?}");
    let err = core
        .webhook_endpoints()
        .rotate_secret(&owner, &ep.id, Duration::from_secs(60))
        .unwrap_err();
    assert!(!matches!(err, Error::Keychain(_)), "{err:?}");
    assert_eq!(snapshot(&core), before);
    assert_eq!(
        mock_entries(&store),
        vec![secret.expose().to_owned()],
        "only the endpoint's own secret is left in the keychain"
    );
    assert_eq!(reveal(&core, &owner, &ep).expose(), secret.expose());
}
