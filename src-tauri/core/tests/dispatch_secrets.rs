//! The dispatcher's signing secrets against a real receiver on 127.0.0.1, a real SQLite file and a
//! real Secret Service: both secrets during a rotation's overlap, and nothing sent unsigned when
//! the keychain lost the secret.

mod support;

use std::time::Duration;

use pitchbar_core::secret::Secret;
use pitchbar_core::vault::{Vault, VaultKey};
use pitchbar_core::webhooks::endpoints::Policy;
use pitchbar_core::webhooks::verify;
use pitchbar_core::Core;
use support::dispatch::{
    endpoint, endpoint_with_secret, fire_lead, last_attempt, receiver_and_owner, settled,
    test_config,
};
use support::now_secs;
use support::test_receiver::header;

#[tokio::test]
async fn rotation_signs_with_both_secrets_during_the_overlap() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    let mut input = endpoint(&rx.url("/ok"), Policy::Single, None);
    input.standard_webhooks = true;
    let (ep, old) = endpoint_with_secret(&core, &actor, input);
    let view = core
        .webhook_endpoints()
        .rotate_secret(&actor, &ep.id, Duration::from_secs(3600))
        .unwrap();
    assert!(view.previous_secret_expires_at.is_some());
    let new = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    assert_ne!(old.expose(), new.expose());
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hit = rx.hits().pop().unwrap();
    let sig = header(&hit, "x-pitchbar-signature");
    assert_eq!(sig.matches("v1=").count(), 2, "{sig}");
    for secret in [&old, &new] {
        verify(
            Some(sig),
            &hit.body,
            &[secret],
            now_secs(),
            Duration::from_secs(300),
        )
        .unwrap();
    }
    let wrong = Secret::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert!(verify(
        Some(sig),
        &hit.body,
        &[&wrong],
        now_secs(),
        Duration::from_secs(300)
    )
    .is_err());
    assert_eq!(header(&hit, "webhook-id"), id);
    assert_eq!(header(&hit, "webhook-signature").matches("v1,").count(), 2);

    // With no overlap the old secret stops at once.
    core.webhook_endpoints()
        .rotate_secret(&actor, &ep.id, Duration::ZERO)
        .unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hit = rx.hits().pop().unwrap();
    assert_eq!(
        header(&hit, "x-pitchbar-signature").matches("v1=").count(),
        1
    );
}

#[tokio::test]
async fn a_secret_missing_from_the_keychain_sends_nothing_unsigned() {
    let (rx, dir, core, actor) = receiver_and_owner().await;
    let ep = core
        .webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/ok"), Policy::Single, None))
        .unwrap();
    let keychain_ref: String = core
        .store()
        .conn()
        .query_row(
            "SELECT keychain_ref FROM webhook_endpoint_secret WHERE endpoint_id = ?1",
            [&ep.id],
            |r| r.get(0),
        )
        .unwrap();
    // Removed by hand while the app was closed: the next start has nothing in memory.
    drop(core);
    Vault::os()
        .delete(&VaultKey::from_account(&keychain_ref).unwrap())
        .unwrap();
    let core = Core::open(dir.path()).unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "failed");
    assert!(rx.hits().is_empty(), "nothing went out");
    let detail = last_attempt(&core, &id);
    let message = detail.error_message.unwrap_or_default();
    assert!(
        message.contains("unsigned") && message.contains("Rotate"),
        "{message}"
    );

    // A new secret puts the endpoint back to work.
    let actor = core.workspaces().actor().unwrap();
    core.webhook_endpoints()
        .rotate_secret(&actor, &ep.id, Duration::ZERO)
        .unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hit = rx.hits().pop().unwrap();
    verify(
        Some(header(&hit, "x-pitchbar-signature")),
        &hit.body,
        &[&secret],
        now_secs(),
        Duration::from_secs(300),
    )
    .unwrap();
}
