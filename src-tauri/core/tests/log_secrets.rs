//! No secret in any log: every line the core logs (every level, every thread, TRACE included)
//! is captured while the OAuth paths (code exchange, refresh, revocation — each succeeding,
//! refused and unreachable), the API-key checks, the destinations' calls, the Slack / Discord
//! notifier and webhook deliveries fail in every way, and then scanned for the bytes of every
//! token, secret and code involved, raw and URL-encoded. Real OAuth server, provider fakes, fake
//! Slack and keychain: run through scripts/with-keychain.sh.

mod support;

use pitchbar_core::connections::{self, ConnectionStatus};
use pitchbar_core::destinations::{DestinationOptions, ItemStatus};
use pitchbar_core::webhooks::endpoints::Policy;
use pitchbar_core::webhooks::EventType::LeadCaptured;
use pitchbar_core::Error;
use serde_json::{json, Value};
use support::destinations::{self as dest, World};
use support::oauth::{authorize, browser, stored_tokens, CLIENT_ID, CLIENT_SECRET};
use support::test_receiver::{Answer, TestReceiver};
use support::{free_port, logs};

/// A secret and what it is, for the failure message.
type Secrets = Vec<(&'static str, String)>;

/// Fails naming the kind of secret and the log line that holds it, raw or URL-encoded.
fn assert_not_logged(secrets: &Secrets) {
    let log = logs::captured();
    for (kind, secret) in secrets {
        assert!(secret.len() >= 6, "the {kind} is too short to look for");
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let percent: String = secret
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        for line in log.lines() {
            for needle in [secret, &form, &percent, &percent.to_lowercase()] {
                assert!(
                    !line.contains(needle.as_str()),
                    "a {kind} is in the log: {line}"
                );
            }
        }
    }
}

/// Fails unless the log shows `what` (the path was driven, and logged).
fn assert_logged(what: &str) {
    assert!(
        logs::captured().contains(what),
        "nothing like {what:?} was logged"
    );
}

/// The access and refresh tokens of a connection, as kept in the keychain now.
fn tokens(w: &World, connection_id: &str, into: &mut Secrets) {
    let t = stored_tokens(&w.core, connection_id).expect("tokens kept");
    into.push(("access token", t["access_token"].as_str().unwrap().into()));
    if let Some(r) = t["refresh_token"].as_str() {
        into.push(("refresh token", r.into()));
    }
}

/// Rewrites one provider's entry of the providers file (read on each use).
fn set_provider(w: &World, provider: &str, key: &str, value: Value) {
    let mut file: Value = serde_json::from_slice(&std::fs::read(&w.providers).unwrap()).unwrap();
    file["providers"][provider][key] = value;
    std::fs::write(&w.providers, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
}

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn oauth_exchange_refresh_and_revocation_log_no_secret() {
    logs::capture();
    let mut w = dest::world();
    let oauth = w.core.oauth();
    let mut secrets: Secrets = vec![("client secret", CLIENT_SECRET.into())];

    // Code exchange refused: a code presented with another sign-in's state, so its PKCE
    // verifier does not match and the provider says invalid_grant.
    let a = oauth.begin(&w.owner, "notion").await.unwrap();
    let to_a = authorize(&browser(&w.ca), &a.url, "alice", false).await;
    let b = oauth.begin(&w.owner, "notion").await.unwrap();
    let to_b = authorize(&browser(&w.ca), &b.url, "alice", false).await;
    let code_a = query_param(&to_a, "code");
    secrets.push(("authorization code", code_a.clone()));
    secrets.push(("authorization code", query_param(&to_b, "code")));
    let crossed = format!(
        "pitchbar://oauth/callback?code={code_a}&state={}",
        query_param(&to_b, "state")
    );
    let err = oauth.complete(&crossed).await.unwrap_err();
    assert!(matches!(err, Error::Upstream(_)), "{err:?}");
    assert_logged("provider refused");

    // Code exchange unreachable: the provider is down when the code comes back.
    let c = oauth.begin(&w.owner, "notion").await.unwrap();
    let to_c = authorize(&browser(&w.ca), &c.url, "alice", false).await;
    secrets.push(("authorization code", query_param(&to_c, "code")));
    w.oauth.stop();
    let err = oauth.complete(&to_c).await.unwrap_err();
    assert!(matches!(err, Error::Upstream(_)), "{err:?}");
    assert_logged("provider unreachable");
    w.oauth.restart();

    // Code exchange succeeds (Notion: deep link; HubSpot and Pipedrive: loopback).
    let notion = w.connect("notion").await;
    let hubspot = w.connect("hubspot").await;
    let pipedrive = w.connect("pipedrive").await;
    for c in [&notion, &hubspot, &pipedrive] {
        tokens(&w, &c.id, &mut secrets);
    }

    // Refresh succeeds, then fails (the provider is down).
    oauth.renewed_token(&hubspot.id).await.unwrap();
    tokens(&w, &hubspot.id, &mut secrets);
    w.oauth.stop();
    assert!(oauth.renewed_token(&hubspot.id).await.is_err());
    w.oauth.restart();

    // Refresh refused: Notion's refresh token was revoked at the provider.
    let refresh = stored_tokens(&w.core, &notion.id).unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = browser(&w.ca)
        .post(w.oauth.url("/token/revocation"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    assert!(oauth.renewed_token(&notion.id).await.is_err());
    assert_eq!(
        connections::get(w.core.store(), &notion.id).unwrap().status,
        ConnectionStatus::NeedsReauth
    );

    // Revocation answered 500 with a body (Notion's style), and refused with an OAuth error
    // (RFC 7009, Pipedrive: the server knows no such route).
    let down = TestReceiver::answering(|_| Answer::status(500).body("revocation is down")).await;
    set_provider(
        &w,
        "notion",
        "revocation_url",
        json!(down.url("/v1/oauth/revoke")),
    );
    set_provider(
        &w,
        "pipedrive",
        "revocation_url",
        json!(w.oauth.url("/no-revocation-here")),
    );
    for id in [&notion.id, &pipedrive.id] {
        let gone = oauth.disconnect(&w.owner, id).await.unwrap();
        assert_eq!(gone.status, ConnectionStatus::RevocationPending, "{gone:?}");
    }
    assert_eq!(down.hits().len(), 1);
    assert_logged("revocation not confirmed");

    // Revocation unreachable, where the URL carries the token: HubSpot's refresh token is the
    // last segment of its revocation URL.
    let closed = format!("http://127.0.0.1:{}/oauth/v1/refresh-tokens", free_port());
    set_provider(&w, "hubspot", "revocation_url", json!(closed));
    let gone = oauth.disconnect(&w.owner, &hubspot.id).await.unwrap();
    assert_eq!(gone.status, ConnectionStatus::RevocationPending, "{gone:?}");

    // Revocation succeeds (RFC 7009 at the server).
    let google = w.connect("google-docs").await;
    tokens(&w, &google.id, &mut secrets);
    let gone = oauth.disconnect(&w.owner, &google.id).await.unwrap();
    assert_eq!(gone.status, ConnectionStatus::Inactive, "{gone:?}");

    assert_not_logged(&secrets);
}

#[tokio::test]
async fn api_key_checks_and_destination_calls_log_no_secret() {
    logs::capture();
    let mut w = dest::world();
    let mut secrets: Secrets = vec![("client secret", CLIENT_SECRET.into())];

    // An API-key provider refuses the credentials.
    for (provider, values) in [
        (
            "freshdesk",
            vec![("subdomain", "acme"), ("api_key", "fd-wrong-key-log-7777")],
        ),
        ("segment", vec![("write_key", "segWrongKeyLog7777")]),
    ] {
        secrets.push(("API key", values.last().unwrap().1.to_owned()));
        let values = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let err = w
            .core
            .api_key_connections()
            .connect(&w.owner, provider, values)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Upstream(_) | Error::InvalidInput(_)),
            "{provider}: {err:?}"
        );
    }
    assert_logged("credential check answered");

    // HubSpot answers 500 (with a body), then 400: retried, then failed.
    let hubspot = w.connect("hubspot").await;
    tokens(&w, &hubspot.id, &mut secrets);
    w.configure(
        "hubspot",
        &[LeadCaptured],
        &[("email", "email")],
        DestinationOptions::default(),
    )
    .await
    .unwrap();
    let upsert = "^/hubspot/crm/v3/objects/contacts/batch/upsert$";
    w.fakes
        .control("POST", "script", json!({"path": upsert, "times": 1, "status": 500, "body": {"status": "error", "message": "Internal error"}}))
        .await;
    w.fakes
        .control("POST", "script", json!({"path": upsert, "times": 1, "status": 400, "body": {"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"}}))
        .await;
    w.lead("Grace Hopper", "grace@navy.example", json!({}));
    let items = w.settled("hubspot").await;
    assert_eq!(items[0].status, ItemStatus::Failed, "{items:#?}");

    // No answer at all: HubSpot's API at a closed port.
    let base = stored_base(&w);
    set_provider(
        &w,
        "hubspot",
        "api_base_url",
        json!(format!("http://127.0.0.1:{}/hubspot", free_port())),
    );
    w.lead("Ada Lovelace", "ada@example.test", json!({}));
    let items = w.settled("hubspot").await;
    assert!(
        items.iter().all(|i| i.status != ItemStatus::Pending),
        "{items:#?}"
    );
    set_provider(&w, "hubspot", "api_base_url", base);

    // 401: the token is refused and cannot be renewed (the provider is down).
    let token = stored_tokens(&w.core, &hubspot.id).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    w.fakes
        .control("POST", "refuse-token", json!({"token": token}))
        .await;
    w.oauth.stop();
    w.lead("Grace Hopper", "grace2@navy.example", json!({}));
    support::slack::eventually(20, "the connection marked for reconnecting", || async {
        let c = connections::get(w.core.store(), &hubspot.id).unwrap();
        (c.status == ConnectionStatus::NeedsReauth).then_some(())
    })
    .await;

    assert_not_logged(&secrets);
}

/// HubSpot's `api_base_url` in the providers file now.
fn stored_base(w: &World) -> Value {
    let file: Value = serde_json::from_slice(&std::fs::read(&w.providers).unwrap()).unwrap();
    file["providers"]["hubspot"]["api_base_url"].clone()
}

#[tokio::test]
async fn notifier_and_webhook_delivery_errors_log_no_secret() {
    use support::slack::*;
    logs::capture();
    let app_token = "xapp-1-A0PITCHBAR-log-secrets-0123456789";
    let w = world(Some(app_token));
    let core = w.slack_ready(leads_only(), true).await;
    let owner = support::oauth::actor(&core);
    let slack = connections::latest_for_provider(core.store(), "slack")
        .unwrap()
        .unwrap();
    let t = stored_tokens(&core, &slack.id).unwrap();
    let mut secrets: Secrets = vec![
        ("client secret", CLIENT_SECRET.into()),
        ("Slack app token", app_token.into()),
        (
            "Slack bot token",
            t["access_token"].as_str().unwrap().into(),
        ),
    ];

    // Slack answers 500, then refuses the token.
    w.fake
        .script(json!({"method": "chat.postMessage", "status": 500}))
        .await;
    w.fake
        .script(json!({"method": "chat.postMessage", "error": "invalid_auth"}))
        .await;
    lead(&core, "Ada");
    error_on_card(&core, "slack", "Slack's refusal").await;
    assert_logged("notification refused");

    // Discord: a webhook URL with its token, answering 500, then deleted (404).
    let discord_token = "log_secret_token_abcdefghijklmnopqrstuvw";
    secrets.push(("Discord webhook token", discord_token.into()));
    core.notifications()
        .configure_webhook(
            &owner,
            webhook(
                "discord",
                Some(
                    w.fake
                        .url(&format!("/discord/api/webhooks/424242/{discord_token}")),
                ),
            ),
        )
        .await
        .unwrap();
    w.fake
        .script(json!({"method": "discord", "status": 500}))
        .await;
    w.fake
        .post("/_test/discord/delete", json!({"id": "424242"}))
        .await;
    lead(&core, "Grace");
    error_on_card(&core, "discord", "Discord's refusal").await;

    // Webhook deliveries: an endpoint answering 500 with a body, and one at a closed port,
    // each with a token in its URL.
    core.start_dispatcher(support::dispatch::test_config())
        .unwrap();
    let rx = TestReceiver::answering(|_| Answer::status(500).body("endpoint exploded")).await;
    let url_token = "endpoint-url-token-0123456789";
    secrets.push(("endpoint URL token", url_token.into()));
    for url in [
        rx.url(&format!("/hook?token={url_token}")),
        format!("http://127.0.0.1:{}/hook?token={url_token}", free_port()),
    ] {
        let (_, secret) = support::dispatch::endpoint_with_secret(
            &core,
            &owner,
            support::dispatch::endpoint(&url, Policy::AtLeastOnce, Some(2)),
        );
        secrets.push(("webhook signing secret", secret.expose().to_owned()));
    }
    let fired = core.outbox().fire(&support::dispatch::lead()).unwrap();
    assert_eq!(fired.delivery_ids.len(), 2);
    for id in &fired.delivery_ids {
        assert_eq!(support::dispatch::settled(&core, id).await, "dead");
    }
    core.stop_dispatcher().await;
    core.stop_notifier().await;

    assert_not_logged(&secrets);
}
