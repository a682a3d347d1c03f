//! OAuth apps entered in the window, against the real OAuth server and a real keychain (run
//! through scripts/with-keychain.sh): connecting with one, bad input that changes nothing, a
//! wrong secret, the providers file's secrets moved to the keychain, removing an app, and the
//! account's API base kept from the sign-in.

mod support;

use pitchbar_core::catalog::RedirectStyle;
use pitchbar_core::connections::{self, ConnectionStatus};
use pitchbar_core::oauth::{AppSource, OAuthAppInput, OAuthEvent};
use pitchbar_core::vault::VaultKey;
use pitchbar_core::Error;
use support::oauth::*;
use support::test_receiver::{Answer, TestReceiver};

fn secret_entry(core: &pitchbar_core::Core, provider: &str) -> Option<String> {
    let key = VaultKey::new(
        &workspace_id(core),
        &format!("oauth-app/{provider}/client-secret"),
    )
    .unwrap();
    core.vault()
        .get(&key)
        .unwrap()
        .map(|s| s.expose().to_string())
}

#[tokio::test]
async fn an_app_entered_in_the_window_connects_and_its_secret_is_only_in_the_keychain() {
    support::logs::capture();
    let w = world_with(false);
    let core = w.core();
    let oauth = core.oauth();

    let before = oauth.app("notion").await.unwrap();
    assert_eq!(before.source, AppSource::None);
    assert_eq!(before.redirect_uri, "pitchbar://oauth/callback");
    assert!(before.console_url.unwrap().starts_with("https://"));
    assert!(!before.setup_steps.is_empty());
    let err = oauth.begin(&actor(&core), "notion").await.unwrap_err();
    assert!(err.to_string().contains("Settings → OAuth apps"), "{err}");

    let saved = oauth
        .save_app(&actor(&core), app_input("notion"))
        .await
        .unwrap();
    assert_eq!(saved.source, AppSource::Window);
    assert_eq!(saved.client_id.as_deref(), Some(CLIENT_ID));
    assert!(saved.has_secret);
    assert_eq!(
        secret_entry(&core, "notion").as_deref(),
        Some(CLIENT_SECRET)
    );

    // Google's loopback takes any port: the URI to register has none.
    let docs = oauth
        .save_app(&actor(&core), app_input("google-docs"))
        .await
        .unwrap();
    assert_eq!(docs.redirect_uri, "http://127.0.0.1/oauth/callback");

    let connection = sign_in(&core, &w.ca, "notion").await;
    assert_eq!(connection.status, ConnectionStatus::Active);
    let loopback = sign_in(&core, &w.ca, "google-docs").await;
    let tokens = [
        stored_tokens(&core, &connection.id).unwrap(),
        stored_tokens(&core, &loopback.id).unwrap(),
    ];

    // Editing without a secret keeps the saved one.
    let mut edit = app_input("notion");
    edit.client_secret = Some("  ".into());
    oauth.save_app(&actor(&core), edit).await.unwrap();
    assert_eq!(
        secret_entry(&core, "notion").as_deref(),
        Some(CLIENT_SECRET)
    );

    drop(oauth);
    drop(core);
    let mut needles = vec![CLIENT_SECRET.to_string()];
    for t in &tokens {
        needles.push(t["access_token"].as_str().unwrap().to_string());
        needles.push(t["refresh_token"].as_str().unwrap().to_string());
    }
    scan(&w, &needles.iter().map(String::as_str).collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_input_is_refused_plainly_and_changes_nothing() {
    let w = world_with(false);
    let core = w.core();
    let oauth = core.oauth();
    let owner = actor(&core);
    // Zendesk's subdomain is checked at Zendesk: here a fake that knows only "acme".
    let zendesk = TestReceiver::answering(|hit| {
        if hit.path.starts_with("/acme/") {
            Answer::ok(r#"{"locales":[]}"#)
        } else {
            Answer::status(404)
        }
    })
    .await;
    let silent = support::free_port();
    let with_zendesk_base = |base: String| {
        let mut file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&w.providers).unwrap()).unwrap();
        file["providers"]["zendesk"] = serde_json::json!({ "api_base_url": base });
        std::fs::write(&w.providers, serde_json::to_vec(&file).unwrap()).unwrap();
    };
    with_zendesk_base(format!("{}/{{subdomain}}", zendesk.url("")));

    let input = |f: &dyn Fn(&mut OAuthAppInput)| {
        let mut i = app_input("notion");
        f(&mut i);
        i
    };
    let zendesk_app = |sub: &str| {
        let mut i = app_input("zendesk");
        i.subdomain = Some(sub.into());
        i
    };
    let cases: Vec<(OAuthAppInput, &str)> = vec![
        (input(&|i| i.client_id = "".into()), "Enter the client ID"),
        (
            input(&|i| i.client_id = "   ".into()),
            "Enter the client ID",
        ),
        (
            input(&|i| i.client_id = "abc def".into()),
            "does not look like",
        ),
        (
            input(&|i| i.client_id = "https://www.notion.so/my-integrations".into()),
            "does not look like",
        ),
        (
            input(&|i| i.client_secret = None),
            "Enter the client secret",
        ),
        (
            input(&|i| i.client_secret = Some("two words".into())),
            "does not look like",
        ),
        (input(&|i| i.loopback_port = Some(80)), "1024 to 65535"),
        (
            {
                let mut i = app_input("hubspot");
                i.redirect = Some(RedirectStyle::DeepLink);
                i
            },
            "accepts only the loopback",
        ),
        (zendesk_app(""), "Enter your Zendesk subdomain"),
        (
            zendesk_app("not a subdomain!"),
            "is not a Zendesk subdomain",
        ),
        (
            zendesk_app("nobody-here"),
            "There is no Zendesk account at nobody-here.zendesk.com",
        ),
        (
            {
                let mut i = app_input("salesforce");
                i.login_host = Some("login.evil.example".into());
                i
            },
            "ends with .my.salesforce.com",
        ),
        (
            {
                let mut i = app_input("nope");
                i.provider = "nope".into();
                i
            },
            "no integration",
        ),
    ];
    for (case, expected) in cases {
        let provider = case.provider.clone();
        let err = oauth.save_app(&owner, case).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{provider}: {err}");
    }

    // A Zendesk that does not answer: said so, nothing saved.
    with_zendesk_base(format!("http://127.0.0.1:{silent}/{{subdomain}}"));
    let err = oauth
        .save_app(&owner, zendesk_app("acme"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Upstream(m) if m.contains("did not answer")),
        "{err:?}"
    );

    for app in oauth.list_apps().await.unwrap() {
        assert_eq!(app.source, AppSource::None, "{}", app.provider);
        assert!(
            secret_entry(&core, &app.provider).is_none(),
            "{}",
            app.provider
        );
    }

    // The subdomain that exists is accepted, and filled into Zendesk's URLs.
    with_zendesk_base(format!("{}/{{subdomain}}", zendesk.url("")));
    let saved = oauth
        .save_app(&owner, zendesk_app("https://ACME.zendesk.com/agent"))
        .await
        .unwrap();
    assert_eq!(saved.subdomain.as_deref(), Some("acme"));
    assert_eq!(saved.redirect_uri, "http://127.0.0.1:47822/oauth/callback");
    let (_, provider) = oauth.provider("zendesk").await.unwrap();
    assert_eq!(
        provider.authorize_url.as_str(),
        "https://acme.zendesk.com/oauth/authorizations/new"
    );

    // A Member changes nothing.
    let member = support::workspace::member_actor(&core, &owner);
    let err = oauth
        .save_app(&member, app_input("notion"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let err = oauth.remove_app(&member, "zendesk").await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
}

#[tokio::test]
async fn a_wrong_client_secret_shows_the_token_endpoints_refusal_and_stores_nothing() {
    let w = world_with(false);
    let core = w.core();
    let oauth = core.oauth();
    let mut wrong = app_input("notion");
    wrong.client_secret = Some("not-the-secret".into());
    oauth.save_app(&actor(&core), wrong).await.unwrap();
    let auth = oauth.begin(&actor(&core), "notion").await.unwrap();
    let redirect = authorize(&browser(&w.ca), &auth.url, "alice", false).await;
    let err = oauth.complete(&redirect).await.unwrap_err();
    assert!(
        matches!(&err, Error::Upstream(m) if m.contains("Notion refused finishing the sign-in (invalid_client)")),
        "{err:?}"
    );
    assert!(connections::list(core.store()).unwrap().is_empty());
}

#[tokio::test]
async fn secrets_in_the_providers_file_move_to_the_keychain_with_a_notice() {
    support::logs::capture();
    let w = world();
    let core = w.core();
    let oauth = core.oauth();
    let mut events = core.subscribe_oauth();

    let apps = oauth.list_apps().await.unwrap();
    let notion = apps.iter().find(|a| a.provider == "notion").unwrap();
    assert_eq!(notion.source, AppSource::Window);
    assert_eq!(
        secret_entry(&core, "notion").as_deref(),
        Some(CLIENT_SECRET)
    );
    let file = std::fs::read_to_string(&w.providers).unwrap();
    assert!(!file.contains(CLIENT_SECRET), "{file}");
    assert!(
        file.contains("authorize_url"),
        "the overrides are kept: {file}"
    );
    match events.try_recv() {
        Ok(OAuthEvent::Notice { message }) => {
            assert!(message.contains("moved to the keychain"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // And the moved client still signs in.
    let connection = sign_in(&core, &w.ca, "notion").await;
    assert_eq!(connection.status, ConnectionStatus::Active);
    drop(oauth);
    drop(core);
    scan(&w, &[CLIENT_SECRET]);
}

#[tokio::test]
async fn removing_an_app_says_what_it_does_then_its_connections_must_reconnect() {
    let w = world_with(false);
    let core = w.core();
    let oauth = core.oauth();
    oauth
        .save_app(&actor(&core), app_input("notion"))
        .await
        .unwrap();
    let impact = oauth.remove_app_impact("notion").unwrap();
    assert!(impact.contains("deleted from this computer"), "{impact}");
    let connection = sign_in(&core, &w.ca, "notion").await;

    // Connected: it keeps working until its client is removed.
    assert!(oauth.access_token(&connection.id).await.is_ok());
    let impact = oauth.remove_app_impact("notion").unwrap();
    assert!(impact.contains("1 connection of Notion stop"), "{impact}");
    oauth.remove_app(&actor(&core), "notion").await.unwrap();
    assert!(secret_entry(&core, "notion").is_none());
    let after = connections::get(core.store(), &connection.id).unwrap();
    assert_eq!(after.status, ConnectionStatus::NeedsReauth);
    assert!(after
        .status_detail
        .unwrap()
        .contains("OAuth app was removed"));
    assert_eq!(oauth.app("notion").await.unwrap().source, AppSource::None);
}

#[tokio::test]
async fn the_accounts_api_base_is_kept_from_the_sign_in() {
    let w = world_with(false);
    let core = w.core();
    core.oauth()
        .save_app(&actor(&core), app_input("mailchimp"))
        .await
        .unwrap();
    // Mailchimp's data center, from its metadata endpoint.
    let connection = sign_in(&core, &w.ca, "mailchimp").await;
    assert_eq!(
        connection.api_base.as_deref(),
        Some("https://us6.api.mailchimp.com")
    );
}
