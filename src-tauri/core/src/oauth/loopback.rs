//! The loopback redirect (RFC 8252 §7.3) for providers that refuse custom schemes: a one-shot
//! listener on `127.0.0.1:<ephemeral>` that takes the browser's callback, finishes the sign-in,
//! answers with a page the user can close, and stops (also on cancel or expiry).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};

use super::hub::OAuth;
use super::pending::Stop;
use crate::error::{Error, Result};

#[derive(Clone)]
struct Ctx {
    oauth: OAuth,
    authorization_id: String,
    /// Rings once the sign-in has ended through this listener.
    done: Arc<Notify>,
}

/// Listens on loopback for sign-in `authorization_id`, on `port` (the provider matches it
/// exactly) or an ephemeral one; returns the port.
pub(super) async fn start(
    oauth: OAuth,
    authorization_id: String,
    port: Option<u16>,
) -> Result<(u16, Stop)> {
    // 127.0.0.1, not `localhost`: RFC 8252 §8.3, and no other interface can reach it.
    let listener = TcpListener::bind(("127.0.0.1", port.unwrap_or(0)))
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "cannot bind the OAuth loopback listener");
            match port {
                Some(port) => Error::Conflict(format!(
                    "The app could not listen on port {port}, which the provider sends the sign-in back to: another program (or another sign-in) uses it. Close it and try again, or choose another port in Settings → OAuth apps (and register the new redirect URI)."
                )),
                None => Error::Internal(
                    "The app could not open a local port to receive the sign-in. Try again.".into(),
                ),
            }
        })?;
    let port = listener
        .local_addr()
        .map_err(|_| Error::Internal("The local sign-in port is unusable.".into()))?
        .port();
    let done = Arc::new(Notify::new());
    let ctx = Ctx {
        oauth,
        authorization_id,
        done: done.clone(),
    };
    let app = Router::new()
        .route("/oauth/callback", get(callback))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found") })
        .with_state(ctx);
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let shutdown = async move {
            tokio::select! {
                _ = rx => {}
                _ = done.notified() => {}
            }
        };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %err, "OAuth loopback listener failed");
        }
    });
    Ok((port, Stop(Some(tx))))
}

async fn callback(State(ctx): State<Ctx>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let result = ctx
        .oauth
        .complete_loopback(&ctx.authorization_id, &query)
        .await;
    let (status, title, text) = match &result {
        Ok(connection) => (
            StatusCode::OK,
            "Connected",
            format!(
                "{} is connected to Pitchbar Admin. You can close this tab.",
                crate::catalog::get(&connection.provider)
                    .map_or("The integration", |i| i.name.as_str())
            ),
        ),
        Err(err) => (
            StatusCode::BAD_REQUEST,
            "Not connected",
            format!("{err} You can close this tab."),
        ),
    };
    // Only a request that ended this sign-in stops the listener: a stray request to the port
    // (wrong state) must not take the real callback's place.
    if result.is_ok() || !ctx.oauth.hub.pending().contains_key(&ctx.authorization_id) {
        ctx.done.notify_one();
    }
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} — Pitchbar Admin</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto\">\
         <h1>{title}</h1><p>{}</p></body></html>",
        escape(&text)
    );
    (status, [(header::CONNECTION, "close")], Html(page)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
