//! A sign-in outlives the app (a callback link that starts it completes the connection), once;
//! expired and unknown links are refused with the reason; and a stray link is a notice that
//! leaves the sign-in in progress alone. Real OAuth server, real keychain.

mod support;

use std::time::Duration;

use pitchbar_core::connections::{self, ConnectionStatus};
use pitchbar_core::oauth::OAuthEvent;
use pitchbar_core::Error;
use support::oauth::*;

/// Rows of sign-ins kept for a restart.
fn kept(core: &pitchbar_core::Core) -> i64 {
    core.store()
        .conn()
        .query_row("SELECT count(*) FROM oauth_pending", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_callback_link_that_starts_the_app_completes_the_sign_in_once() {
    support::logs::capture();
    let w = world();
    let core = w.core();
    let auth = core.oauth().begin(&actor(&core), "notion").await.unwrap();
    assert_eq!(kept(&core), 1);
    drop(core); // The app is closed during the sign-in.

    let redirect = authorize(&browser(&w.ca), &auth.url, "alice", false).await;
    let core = w.core(); // Started again by the link.
    let mut events = core.subscribe_oauth();
    let connection = core.oauth().complete(&redirect).await.unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_eq!(core.oauth().wait(&auth.id).await.unwrap(), connection);
    assert_eq!(kept(&core), 0, "consumed");
    let mut notice = None;
    while let Ok(event) = events.try_recv() {
        if let OAuthEvent::Notice { message } = event {
            notice = Some(message);
        }
    }
    assert!(notice.unwrap().contains("Notion is connected"));

    // Once: the same link again, even after another restart, connects nothing more.
    drop(core);
    let core = w.core();
    let err = core.oauth().complete(&redirect).await.unwrap_err();
    assert!(
        err.to_string().contains("not for a sign-in in progress"),
        "{err}"
    );
    assert_eq!(connections::list(core.store()).unwrap().len(), 1);

    let tokens = stored_tokens(&core, &connection.id).unwrap();
    drop(core);
    scan(
        &w,
        &[
            CLIENT_SECRET,
            tokens["access_token"].as_str().unwrap(),
            tokens["refresh_token"].as_str().unwrap(),
        ],
    );
}

#[tokio::test]
async fn an_expired_kept_sign_in_is_refused_and_cleaned_up() {
    let w = world();
    let core = w.core();
    let auth = core.oauth().begin(&actor(&core), "notion").await.unwrap();
    let stale = core.oauth().begin(&actor(&core), "notion").await;
    // A second sign-in of one provider is allowed while none is connected.
    let stale = stale.unwrap();
    drop(core);
    let redirect = authorize(&browser(&w.ca), &auth.url, "alice", false).await;
    w.clock.advance(Duration::from_secs(11 * 60));

    let core = w.core();
    let err = core.oauth().complete(&redirect).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("expired")),
        "{err:?}"
    );
    assert!(connections::list(core.store()).unwrap().is_empty());
    // The other one, never used, goes when the app's OAuth service starts.
    assert_eq!(kept(&core), 1, "{}", stale.id);
    core.oauth().forget_expired_sign_ins().await.unwrap();
    assert_eq!(kept(&core), 0);
}

#[tokio::test]
async fn a_stray_link_is_a_notice_and_leaves_the_sign_in_in_progress_alone() {
    let w = world();
    let core = w.core();
    let oauth = core.oauth();
    let auth = oauth.begin(&actor(&core), "notion").await.unwrap();
    let redirect = authorize(&browser(&w.ca), &auth.url, "alice", false).await;
    // From here on (beginning moved the providers file's secret, with a notice of its own).
    let mut events = core.subscribe_oauth();

    for stray in [
        "pitchbar://oauth/callback?state=someone-elses&code=abc".to_string(),
        "pitchbar://oauth/callback?error=access_denied&state=forged".to_string(),
        "pitchbar://oauth/callback?code=no-state".to_string(),
    ] {
        let err = oauth.complete(&stray).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{stray}: {err:?}");
        match events.try_recv() {
            Ok(OAuthEvent::Notice { message }) => {
                assert!(
                    message.starts_with("A sign-in link was ignored"),
                    "{message}"
                )
            }
            other => panic!("{stray}: a notice, not {other:?}"),
        }
    }

    // The real sign-in was neither ended nor changed: it completes.
    let connection = oauth.complete(&redirect).await.unwrap();
    assert_eq!(oauth.wait(&auth.id).await.unwrap(), connection);
}
