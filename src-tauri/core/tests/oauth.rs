//! OAuth against a real OAuth server (oidc-provider over TLS with a test CA) and a real
//! keychain: run through scripts/with-keychain.sh. Each test starts its own server.

mod support;

use std::time::Duration;

use pitchbar_core::catalog::RedirectStyle;
use pitchbar_core::connections::{self, ConnectionStatus};
use pitchbar_core::oauth::{OAuthEvent, Outcome};
use pitchbar_core::Error;
use support::oauth::*;

/// Runs one sign-in to the end, as the user and the OS would, and returns the connection.
async fn connect(w: &World, core: &pitchbar_core::Core, provider: &str) -> connections::Connection {
    let oauth = core.oauth();
    let auth = oauth.begin(&actor(core), provider).await.unwrap();
    assert!(
        auth.url.starts_with(&w.server.url("/auth?")),
        "{}",
        auth.url
    );
    assert!(
        auth.url.contains("code_challenge_method=S256"),
        "{}",
        auth.url
    );
    // Google issues a refresh token only when asked for offline access (the catalog says so).
    assert_eq!(
        provider == "google-docs",
        auth.url.contains("access_type=offline"),
        "{}",
        auth.url
    );
    let browser = browser(&w.ca);
    let redirect = authorize(&browser, &auth.url, "alice", false).await;
    match auth.redirect_style {
        RedirectStyle::DeepLink => {
            assert!(
                redirect.starts_with("pitchbar://oauth/callback?"),
                "{redirect}"
            );
            let connection = oauth.complete(&redirect).await.unwrap();
            assert_eq!(oauth.wait(&auth.id).await.unwrap(), connection);
            connection
        }
        RedirectStyle::Loopback => {
            assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
            // The browser follows the redirect to the app's loopback listener.
            let page = browser.get(&redirect).send().await.unwrap();
            assert_eq!(page.status(), 200);
            assert!(page
                .text()
                .await
                .unwrap()
                .contains("You can close this tab"));
            oauth.wait(&auth.id).await.unwrap()
        }
    }
}

async fn full_cycle(provider: &str, style: RedirectStyle) {
    let w = world();
    let core = w.core();
    let oauth = core.oauth();
    let mut events = core.subscribe_oauth();
    let mut seen_tokens = Vec::new();

    let connection = connect(&w, &core, provider).await;
    assert_eq!(
        pitchbar_core::catalog::get(provider).map(|i| match &i.connection {
            pitchbar_core::catalog::ConnectionKind::Oauth(o) => o.redirect,
            _ => unreachable!(),
        }),
        Some(style)
    );
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_eq!(
        connection.account_label.as_deref(),
        Some("alice@example.test")
    );
    assert_eq!(connection.connected_by.as_deref(), Some("Ada Owner"));
    // (The providers file's secret was moved to the keychain first, with a notice.)
    let mut first = events.recv().await.unwrap();
    while matches!(first, OAuthEvent::Notice { .. }) {
        first = events.recv().await.unwrap();
    }
    assert!(matches!(
        first,
        OAuthEvent::Finished {
            outcome: Outcome::Connected { .. },
            ..
        }
    ));

    // The token works at the provider's API.
    let browser = browser(&w.ca);
    let userinfo = |token: String| {
        let browser = browser.clone();
        let url = w.server.url("/me");
        async move {
            browser
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let first = oauth.access_token(&connection.id).await.unwrap();
    assert_eq!(userinfo(first.expose().to_string()).await, 200);
    // Not expiring: the same token again.
    assert_eq!(
        oauth.access_token(&connection.id).await.unwrap().expose(),
        first.expose()
    );
    seen_tokens.push(first.expose().to_string());
    seen_tokens.push(
        stored_tokens(&core, &connection.id).unwrap()["refresh_token"]
            .as_str()
            .unwrap()
            .to_string(),
    );

    // An hour later the token is about to expire: it is refreshed on use (and the refresh
    // token rotated).
    w.clock.advance(Duration::from_secs(3600));
    let second = oauth.access_token(&connection.id).await.unwrap();
    assert_ne!(second.expose(), first.expose());
    assert_eq!(userinfo(second.expose().to_string()).await, 200);
    let refresh = stored_tokens(&core, &connection.id).unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!seen_tokens.contains(&refresh), "the refresh token rotated");
    seen_tokens.push(second.expose().to_string());
    seen_tokens.push(refresh.clone());

    // Disconnect: revoked at the provider, gone from the keychain, inactive here.
    let gone = oauth
        .disconnect(&actor(&core), &connection.id)
        .await
        .unwrap();
    assert_eq!(gone.status, ConnectionStatus::Inactive);
    assert!(stored_tokens(&core, &connection.id).is_none());
    assert!(connections::list(core.store()).unwrap().is_empty());
    assert!(
        !refresh_works(&w.ca, &w.server, &refresh).await,
        "the server still honours the refresh token"
    );
    assert_eq!(userinfo(second.expose().to_string()).await, 401);
    assert!(matches!(
        oauth.access_token(&connection.id).await,
        Err(Error::NotFound(_))
    ));

    // Reconnect: the same connection id, so its configuration and sources stay bound.
    let again = connect(&w, &core, provider).await;
    assert_eq!(again.id, connection.id);
    assert_eq!(again.status, ConnectionStatus::Active);
    seen_tokens.push(
        oauth
            .access_token(&again.id)
            .await
            .unwrap()
            .expose()
            .to_string(),
    );

    // The audit trail: who connected, disconnected (revoked at the provider) and reconnected.
    let trail = support::audit::entries(
        &core,
        &pitchbar_core::audit::AuditQuery {
            area: Some(pitchbar_core::audit::Area::Connections),
            ..Default::default()
        },
    );
    let acts: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        acts,
        [
            "connection.connected",
            "connection.disconnected",
            "connection.connected"
        ]
    );
    assert_eq!(trail[0].member_name, actor(&core).member().name);
    assert!(
        trail[1].summary.contains("revoked at the provider"),
        "{}",
        trail[1].summary
    );

    // No token anywhere in the data dir (database, WAL, anything else).
    drop(core);
    for (path, bytes) in all_bytes(w.data.path()) {
        let text = String::from_utf8_lossy(&bytes);
        for token in &seen_tokens {
            assert!(
                !text.contains(token.as_str()),
                "a token is in {}",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn full_cycle_with_a_deep_link_provider() {
    full_cycle("notion", RedirectStyle::DeepLink).await;
}

#[tokio::test]
async fn full_cycle_with_a_loopback_provider() {
    full_cycle("google-docs", RedirectStyle::Loopback).await;
}

#[tokio::test]
async fn hostile_deep_links_are_refused_and_store_nothing() {
    let w = world();
    let core = w.core();
    let oauth = core.oauth();
    let auth = oauth.begin(&actor(&core), "notion").await.unwrap();
    let real = authorize(&browser(&w.ca), &auth.url, "alice", false).await;
    let query = real.split_once('?').unwrap().1.to_string();
    let state = query
        .split('&')
        .find_map(|p| p.strip_prefix("state="))
        .unwrap()
        .to_string();
    let code = query
        .split('&')
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_string();
    let hostile = [
        format!("https://oauth/callback?{query}"),
        format!("pitchbar://evil/callback?{query}"),
        format!("pitchbar://oauth/elsewhere?{query}"),
        format!("pitchbar://oauth/callback?code={code}"),
        format!("pitchbar://oauth/callback?state={state}"),
        format!("pitchbar://oauth/callback?{query}&state={state}"),
        format!("pitchbar://oauth/callback?{query}&code=other"),
        format!("pitchbar://oauth/callback?state=not-the-state&code={code}"),
        format!("pitchbar://oauth/callback?{query}&pad={}", "x".repeat(5000)),
        "javascript:alert(1)".to_string(),
    ];
    for link in &hostile {
        let err = oauth.complete(link).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{link}: {err:?}");
    }
    assert!(connections::latest_for_provider(core.store(), "notion")
        .unwrap()
        .is_none());

    // The real one still works, once.
    oauth.complete(&real).await.unwrap();
    let err = oauth.complete(&real).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert_eq!(connections::list(core.store()).unwrap().len(), 1);
}

#[tokio::test]
async fn an_expired_sign_in_is_refused() {
    let w = world();
    let core = w.core();
    let oauth = core.oauth();
    let auth = oauth.begin(&actor(&core), "notion").await.unwrap();
    let redirect = authorize(&browser(&w.ca), &auth.url, "alice", false).await;
    w.clock.advance(Duration::from_secs(11 * 60));
    let err = oauth.complete(&redirect).await.unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(oauth
        .wait(&auth.id)
        .await
        .unwrap_err()
        .to_string()
        .contains("expired"));
    assert!(connections::latest_for_provider(core.store(), "notion")
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn access_denied_at_the_provider_is_said_plainly() {
    let w = world();
    let core = w.core();
    let oauth = core.oauth();
    let auth = oauth.begin(&actor(&core), "notion").await.unwrap();
    let redirect = authorize(&browser(&w.ca), &auth.url, "alice", true).await;
    assert!(redirect.contains("error=access_denied"), "{redirect}");
    let err = oauth.complete(&redirect).await.unwrap_err();
    assert!(
        matches!(&err, Error::Upstream(m) if m.contains("not granted at Notion")),
        "{err:?}"
    );
    assert_eq!(oauth.wait(&auth.id).await.unwrap_err(), err);
    assert!(connections::latest_for_provider(core.store(), "notion")
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_cancelled_loopback_sign_in_stops_listening() {
    let w = world();
    let core = w.core();
    let oauth = core.oauth();
    let auth = oauth.begin(&actor(&core), "google-docs").await.unwrap();
    let redirect = authorize(&browser(&w.ca), &auth.url, "alice", false).await;
    oauth.cancel(&auth.id).unwrap();
    assert!(oauth
        .wait(&auth.id)
        .await
        .unwrap_err()
        .to_string()
        .contains("cancelled"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        reqwest::get(&redirect).await.is_err(),
        "the listener still answers"
    );
    assert!(
        connections::latest_for_provider(core.store(), "google-docs")
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_member_cannot_connect_or_disconnect() {
    let w = world();
    let core = w.core();
    let member = support::workspace::add_member(&core, &actor(&core));
    let connection = connect(&w, &core, "notion").await;
    core.workspaces().switch_to(&member.id).unwrap();
    let as_member = actor(&core);
    assert!(matches!(
        core.oauth().begin(&as_member, "google-docs").await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        core.oauth().disconnect(&as_member, &connection.id).await,
        Err(Error::Forbidden(_))
    ));
}

#[tokio::test]
async fn a_revocation_the_provider_missed_is_retried_after_a_restart() {
    let mut w = world();
    let core = w.core();
    let connection = connect(&w, &core, "google-docs").await;
    let refresh = stored_tokens(&core, &connection.id).unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    // The provider is down: the local disconnect completes; the revocation is owed.
    w.server.stop();
    let pending = core
        .oauth()
        .disconnect(&actor(&core), &connection.id)
        .await
        .unwrap();
    assert_eq!(pending.status, ConnectionStatus::RevocationPending);
    assert!(pending.status_detail.unwrap().contains("keeps trying"));
    // The bell (and the OS) say so once.
    let told = core.notices().list().unwrap();
    assert_eq!(told.unread, 1);
    assert_eq!(
        told.notices[0].kind,
        pitchbar_core::notices::NoticeKind::RevocationPending
    );
    assert!(
        told.notices[0]
            .title
            .contains("has not confirmed the disconnection"),
        "{:?}",
        told.notices[0]
    );
    assert!(stored_tokens(&core, &connection.id).is_none());
    let owed: String = core
        .store()
        .conn()
        .query_row("SELECT id FROM oauth_revocation", [], |r| r.get(0))
        .unwrap();
    let kept = pitchbar_core::vault::VaultKey::pending_revocation(
        &workspace_id(&core),
        &connection.id,
        &owed,
    )
    .unwrap();
    assert!(core.vault().get(&kept).unwrap().is_some());
    drop(core);

    // The app restarts, the provider comes back: the retrier revokes.
    w.server.restart();
    let core = w.core();
    let mut events = core.subscribe_oauth();
    core.start_oauth();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while connections::get(core.store(), &connection.id)
        .unwrap()
        .status
        != ConnectionStatus::Inactive
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the revocation was not retried"
        );
        let _ = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
    }
    core.stop_oauth().await;
    assert!(core.vault().get(&kept).unwrap().is_none());
    assert!(
        !refresh_works(&w.ca, &w.server, &refresh).await,
        "the server still honours the refresh token"
    );
    let left: i64 = core
        .store()
        .conn()
        .query_row("SELECT count(*) FROM oauth_revocation", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}
