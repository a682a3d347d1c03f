//! Webhook endpoints' signing secrets on a real SQLite file and a real Secret Service (run
//! through `scripts/with-keychain.sh`): only ever in the keychain, with the database keeping
//! references; removed with their endpoint; rotated with an overlap, retired and kept (at most
//! five); and moved out of the database where an older version left them.

mod support;

use std::thread::sleep;
use std::time::Duration;

use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::endpoints::{KnownSecret, SecretState, MAX_RETIRED};
use pitchbar_core::Core;
use support::endpoints::{
    assert_not_in_database, in_keychain, input, keychain_refs, known, make_legacy, now_ms, reveal,
    set_up, LEGACY, LEGACY_PREVIOUS,
};
use support::files::{contains, data_dir_bytes};

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
