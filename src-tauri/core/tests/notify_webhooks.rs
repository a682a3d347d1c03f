//! Teams and Discord notifications through incoming webhooks of the fake of
//! tests/fixtures/slack-fake: their formats, rate limits and deleted webhooks; their URLs only in
//! the keychain (a real one: run through scripts/with-keychain.sh); Members refused.

mod support;

use pitchbar_core::Error;
use serde_json::json;
use support::oauth::*;
use support::slack::world;
use support::slack::*;

#[tokio::test]
async fn teams_and_discord_get_the_same_notifications_in_their_formats() {
    let w = world(None);
    let core = w.core();
    core.start_notifier(w.notify_config());
    let n = core.notifications();
    let owner = actor(&core);
    // A URL of the wrong shape is refused with what was expected; nothing is kept.
    for (provider, bad) in [
        ("discord", "https://example.com/hook".to_string()),
        ("discord", w.fake.url("/discord/api/other/1/x")),
        ("microsoft-teams", "not a url".to_string()),
    ] {
        let err = n
            .configure_webhook(&owner, webhook(provider, Some(bad)))
            .await
            .unwrap_err();
        let Error::InvalidInput(message) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("should start with") || message.contains("not a URL"),
            "{message}"
        );
        assert!(n.get(provider).unwrap().is_none());
    }
    let discord_url = w
        .fake
        .url("/discord/api/webhooks/123456/tok_abcdefghijklmnopqrstuvwxyz");
    let t = n
        .configure_webhook(&owner, webhook("discord", Some(discord_url.clone())))
        .await
        .unwrap();
    assert!(
        !t.webhook_shown
            .unwrap()
            .contains("tok_abcdefghijklmnopqrstuvwxyz"),
        "the token is not shown"
    );
    n.configure_webhook(
        &owner,
        webhook("microsoft-teams", Some(w.fake.url("/teams/workflows/abc"))),
    )
    .await
    .unwrap();
    // The URL is in the keychain, not the database.
    let db = std::fs::read(core.store().path()).unwrap();
    assert!(!db.windows(10).any(|x| x == b"tok_abcdef"));

    lead(&core, "Ada Lovelace");
    let teams = eventually(10, "the Teams post", || async {
        let posts = w.fake.get("/_test/teams").await["posts"].clone();
        (!posts.as_array().unwrap().is_empty()).then_some(posts[0].clone())
    })
    .await;
    let card = &teams["body"]["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(card["content"].to_string().contains("ada@example.com"));
    let discord = eventually(10, "the Discord post", || async {
        let posts = w.fake.get("/_test/discord").await["posts"].clone();
        (!posts.as_array().unwrap().is_empty()).then_some(posts[0].clone())
    })
    .await;
    assert_eq!(
        discord["body"]["embeds"][0]["title"],
        "New lead: Ada Lovelace"
    );

    // Discord rate limits (retry_after in the body and header), then the webhook is deleted.
    w.fake
        .script(json!({"method": "discord", "status": 429, "retry_after": 1}))
        .await;
    lead(&core, "Second");
    eventually(10, "the second Discord post", || async {
        let posts = w.fake.get("/_test/discord").await["posts"].clone();
        (posts
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == 204)
            .count()
            >= 2)
            .then_some(())
    })
    .await;
    w.fake
        .post("/_test/discord/delete", json!({"id": "123456"}))
        .await;
    lead(&core, "Third");
    let t = error_on_card(&core, "discord", "the Discord error").await;
    assert!(
        t.last_error.unwrap().contains("paste its URL"),
        "deleted webhook"
    );
    assert_eq!(t.failed, 1);

    // Removing it takes the URL out of the keychain.
    n.remove(&owner, "discord").await.unwrap();
    assert!(n.get("discord").unwrap().is_none());
    // The audit trail names each change, never the URL's token.
    let trail = support::audit::entries(
        &core,
        &pitchbar_core::audit::AuditQuery {
            area: Some(pitchbar_core::audit::Area::Notifications),
            ..Default::default()
        },
    );
    let acts: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        acts,
        [
            "notifications.configured",
            "notifications.configured",
            "notifications.removed"
        ]
    );
    assert!(trail[0]
        .summary
        .contains("Connected Discord notifications with a new webhook URL"));
    assert!(trail
        .iter()
        .all(|e| !e.summary.contains("tok_abcdef") && !e.target.contains("tok_abcdef")));
    core.stop_notifier().await;
}

#[tokio::test]
async fn members_see_the_settings_but_cannot_change_them() {
    let w = world(None);
    let core = w.core();
    let owner = actor(&core);
    let mia = support::workspace::add_member(&core, &owner);
    core.workspaces().switch_to(&mia.id).unwrap();
    let err = core
        .notifications()
        .configure_webhook(
            &actor(&core),
            webhook("discord", Some(w.fake.url("/discord/api/webhooks/1/x"))),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));
    assert!(matches!(
        core.notifications()
            .retry(&actor(&core), "slack")
            .unwrap_err(),
        Error::Forbidden(_)
    ));
}

#[tokio::test]
async fn a_new_webhook_url_the_database_refuses_leaves_the_keychain_as_it_was() {
    let w = world(None);
    let core = w.core();
    let owner = actor(&core);
    let n = core.notifications();
    let key =
        pitchbar_core::vault::VaultKey::new(&workspace_id(&core), "notify/discord/webhook-url")
            .unwrap();
    let in_keychain = || {
        core.vault()
            .get(&key)
            .unwrap()
            .map(|s| s.expose().to_owned())
    };
    let first = w
        .fake
        .url("/discord/api/webhooks/1/first_token_abcdefghijklmnopqrstu");
    n.configure_webhook(&owner, webhook("discord", Some(first.clone())))
        .await
        .unwrap();
    // The database refuses every change of targets from now on.
    core.store()
        .conn()
        .execute_batch(
            "CREATE TRIGGER refuse_update BEFORE UPDATE ON notify_target
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;
             CREATE TRIGGER refuse_insert BEFORE INSERT ON notify_target
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let second = w
        .fake
        .url("/discord/api/webhooks/2/second_token_abcdefghijklmnopq");
    n.configure_webhook(&owner, webhook("discord", Some(second)))
        .await
        .unwrap_err();
    assert_eq!(in_keychain(), Some(first), "the URL in use stays");
    // Connecting Teams the same way leaves nothing behind in the keychain.
    let teams_key = pitchbar_core::vault::VaultKey::new(
        &workspace_id(&core),
        "notify/microsoft-teams/webhook-url",
    )
    .unwrap();
    n.configure_webhook(
        &owner,
        webhook("microsoft-teams", Some(w.fake.url("/teams/abc"))),
    )
    .await
    .unwrap_err();
    assert!(core.vault().get(&teams_key).unwrap().is_none());
}
