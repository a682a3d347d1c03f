//! Replies from Slack over Socket Mode: `apps.connections.open` (with the app-level token) gives
//! a WebSocket URL; Slack sends `hello`, then event envelopes that are acknowledged with their
//! `envelope_id`. A threaded reply under one of our conversation notifications becomes an
//! outbound message of that conversation (which fires `conversation.message`) — when it comes
//! from a member of the connected workspace (`auth.test`'s team), not a guest of another
//! organisation in a shared channel, and from a listed member when the settings list some.
//! No public URL is needed, which suits a desktop app. The socket is reopened when it drops or
//! Slack asks.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::{SinkExt, StreamExt};
use rusqlite::OptionalExtension;
use serde_json::json;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::context::{Ctx, SlackContext};
use super::frames::{ack, read_frame, FrameKind, ThreadReply};
use super::targets::targets;
use super::types::{SlackReplyStatus, SLACK};
use crate::conversations::{Conversations, MessageInput};
use crate::error::Error;
use crate::webhooks::events::Direction;

/// What the user must add for replies from Slack to work.
pub const MISSING_APP_TOKEN: &str = "Replies from Slack need the Slack app's app-level token (xapp-…, with the connections:write scope, and Socket Mode turned on for the app). Add it as providers.slack.app_token in the providers file, then save again.";

pub(crate) async fn run(ctx: Ctx, mut stopped: watch::Receiver<bool>) {
    let mut failures: usize = 0;
    loop {
        let wanted = targets(&ctx.store).ok().and_then(|all| {
            all.into_iter()
                .find(|t| t.provider == SLACK && t.reply_from_slack && t.usable(&ctx.store))
        });
        let Some(target) = wanted else {
            crate::lock(&ctx.hub.reply).remove(SLACK);
            if wait(&ctx, &mut stopped, ctx.config.tick_max).await {
                return;
            }
            continue;
        };
        let connection_id = target.connection_id.clone().unwrap_or_default();
        let outcome = session(&ctx, &connection_id, &mut stopped).await;
        match outcome {
            Session::Stopped => return,
            Session::NotWanted | Session::Reopen => {
                failures = 0;
                continue;
            }
            Session::Unavailable(message) => {
                ctx.hub
                    .set_reply(SLACK, SlackReplyStatus::Unavailable { message });
                // Waits for a change of settings (Save wakes it) or a while.
                if wait(&ctx, &mut stopped, ctx.config.tick_max).await {
                    return;
                }
            }
            Session::Failed(message) => {
                ctx.hub
                    .set_reply(SLACK, SlackReplyStatus::Retrying { message });
                let delay = ExponentialBuilder::default()
                    .with_min_delay(ctx.config.reconnect_min_delay)
                    .with_max_delay(ctx.config.reconnect_max_delay)
                    .with_jitter()
                    .without_max_times()
                    .build()
                    .nth(failures)
                    .unwrap_or(ctx.config.reconnect_max_delay);
                failures += 1;
                if wait(&ctx, &mut stopped, delay).await {
                    return;
                }
            }
        }
    }
}

/// Sleeps `d`, or less when settings change; true when the notifier is stopping.
async fn wait(ctx: &Ctx, stopped: &mut watch::Receiver<bool>, d: Duration) -> bool {
    let mut changes = ctx.hub.subscribe();
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = changes.recv() => false,
        _ = stopped.changed() => true,
    }
}

enum Session {
    Stopped,
    NotWanted,
    /// Slack asked us to reconnect (`disconnect`), or the socket closed cleanly.
    Reopen,
    Unavailable(String),
    Failed(String),
}

async fn session(ctx: &Ctx, connection_id: &str, stopped: &mut watch::Receiver<bool>) -> Session {
    let slack =
        match SlackContext::load(&ctx.oauth, connection_id, ctx.config.request_timeout).await {
            Ok(s) => s,
            Err(err @ (Error::Conflict(_) | Error::NotFound(_) | Error::InvalidInput(_))) => {
                return Session::Unavailable(err.to_string())
            }
            Err(err) => return Session::Failed(err.to_string()),
        };
    let Some(app_token) = slack.app_token.clone() else {
        return Session::Unavailable(MISSING_APP_TOKEN.into());
    };
    ctx.hub.set_reply(SLACK, SlackReplyStatus::Connecting);
    // Replies are taken only from the workspace the bot token belongs to.
    let team = match slack.api().team_id().await {
        Ok(team) => team,
        Err(err) => {
            return match err.needs_user() {
                Some(message) => Session::Unavailable(message),
                None => Session::Failed(err.describe()),
            }
        }
    };
    let url = match slack.api().open_socket(&app_token).await {
        Ok(url) => url,
        Err(err) => {
            return match err.needs_user() {
                Some(_) => Session::Unavailable(format!(
                    "Slack refused to open Socket Mode ({}). Check providers.slack.app_token: it must be the app-level token (xapp-…) with connections:write, with Socket Mode on.",
                    err.describe()
                )),
                None => Session::Failed(err.describe()),
            }
        }
    };
    let connector = match slack.providers.rustls_config() {
        Ok(config) => tokio_tungstenite::Connector::Rustls(config),
        Err(err) => return Session::Failed(err.to_string()),
    };
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        url.as_str(),
        None,
        false,
        Some(connector),
    );
    let (mut socket, _) = match tokio::time::timeout(ctx.config.request_timeout, connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(err)) => {
            return Session::Failed(format!("the Socket Mode connection failed ({err})"))
        }
        Err(_) => return Session::Failed("the Socket Mode connection timed out".into()),
    };
    let mut changes = ctx.hub.subscribe();
    loop {
        tokio::select! {
            _ = stopped.changed() => {
                let _ = socket.close(None).await;
                return Session::Stopped;
            }
            _ = changes.recv() => {
                let still = targets(&ctx.store).ok().is_some_and(|all| all.iter().any(|t| {
                    t.provider == SLACK && t.reply_from_slack && t.usable(&ctx.store)
                        && t.connection_id.as_deref() == Some(connection_id)
                }));
                if !still {
                    let _ = socket.close(None).await;
                    return Session::NotWanted;
                }
            }
            frame = socket.next() => {
                let text = match frame {
                    None => return Session::Failed("Slack closed the Socket Mode connection".into()),
                    Some(Err(err)) => return Session::Failed(format!("the Socket Mode connection dropped ({err})")),
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) => return Session::Reopen,
                    Some(Ok(_)) => continue,
                };
                let Some(frame) = read_frame(&text) else { continue };
                match frame.kind {
                    FrameKind::Hello => ctx.hub.set_reply(SLACK, SlackReplyStatus::Connected),
                    FrameKind::Disconnect => {
                        let _ = socket.close(None).await;
                        return Session::Reopen;
                    }
                    FrameKind::Events | FrameKind::Other => {}
                }
                if let Some(id) = &frame.envelope_id {
                    // Acknowledged first: Slack redelivers what is not acked within 3 s.
                    if socket.send(Message::text(ack(id))).await.is_err() {
                        return Session::Failed("the acknowledgement could not be sent".into());
                    }
                }
                if let Some(reply) = &frame.reply {
                    handle_reply(ctx, &slack, &team, reply).await;
                }
            }
        }
    }
}

/// A threaded reply under one of our conversation notifications → an outbound message, if
/// its author may answer visitors ([`may_reply`]).
async fn handle_reply(ctx: &Ctx, slack: &SlackContext, team: &str, reply: &ThreadReply) {
    let ThreadReply {
        channel,
        thread_ts,
        text,
        ..
    } = reply;
    let conversation_id: Option<String> = ctx
        .store
        .conn()
        .query_row(
            "SELECT conversation_id FROM notify_outbox
             WHERE provider = 'slack' AND slack_channel = ?1 AND slack_ts = ?2 AND conversation_id IS NOT NULL",
            [channel, thread_ts],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten();
    let Some(conversation_id) = conversation_id else {
        return;
    };
    let listed = targets(&ctx.store)
        .ok()
        .and_then(|all| all.into_iter().find(|t| t.provider == SLACK))
        .map(|t| t.reply_users)
        .unwrap_or_default();
    if let Err(why) = may_reply(reply, team, &listed) {
        // Who and why, never what they wrote.
        tracing::info!(
            user = reply.user.as_deref().unwrap_or("?"),
            team = reply.team.as_deref().unwrap_or("?"),
            conversation = %conversation_id,
            "a reply from Slack was not sent to the visitor: {why}"
        );
        return;
    }
    let store = Arc::clone(&ctx.store);
    let hub = Arc::clone(&ctx.outbox);
    let result = Conversations {
        store: &store,
        hub: &hub,
    }
    .add_message(
        &conversation_id,
        MessageInput {
            direction: Direction::Outbound,
            text: text.clone(),
        },
    );
    if let Err(err) = result {
        tracing::warn!(error = %err, "a reply from Slack was not delivered");
        // Said in the thread, so the person who replied knows.
        let note = json!({"text": format!("Not sent to the visitor: {err}")});
        let _ = slack
            .api()
            .post(channel, note, Some(thread_ts.as_str()))
            .await;
    }
}

/// Whether the author of a reply may answer a visitor: a member of the connected workspace
/// `team` (not a guest from another organisation in a shared channel; a reply that does not
/// say counts as foreign), and one of `listed` when the settings list members.
fn may_reply(reply: &ThreadReply, team: &str, listed: &[String]) -> Result<(), &'static str> {
    let from_here = reply.team.as_deref() == Some(team)
        && reply.source_team.as_deref().is_none_or(|t| t == team);
    if !from_here {
        return Err("its author is not a member of the connected Slack workspace");
    }
    let user = reply.user.as_deref().unwrap_or_default();
    if !listed.is_empty() && !listed.iter().any(|u| u == user) {
        return Err("its author is not one of the members allowed to reply");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::may_reply;
    use crate::notify::frames::{read_frame, ThreadReply};

    /// The reply a frame carrying `who` (user, team fields) is read as.
    fn reply(who: Value) -> ThreadReply {
        let mut event = json!({"type": "message", "channel": "C1", "thread_ts": "1.0",
            "ts": "2.0", "text": "hi"});
        for (k, v) in who.as_object().unwrap() {
            event[k] = v.clone();
        }
        let frame = json!({"type": "events_api", "payload": {"team_id": "T0", "event": event}});
        read_frame(&frame.to_string()).unwrap().reply.unwrap()
    }

    #[test]
    fn only_the_connected_workspace_and_the_listed_members_may_reply() {
        let ours = reply(json!({"user": "U1", "team": "T0"}));
        assert_eq!(may_reply(&ours, "T0", &[]), Ok(()));
        for foreign in [
            json!({"user": "U2", "team": "T9"}),
            json!({"user": "U2", "team": "T0", "user_team": "T9"}),
            json!({"user": "U2", "team": "T0", "source_team": "T9"}),
            json!({"user": "U2"}),
        ] {
            assert!(
                may_reply(&reply(foreign.clone()), "T0", &[]).is_err(),
                "{foreign}"
            );
        }
        let listed = ["U1".to_string()];
        assert_eq!(may_reply(&ours, "T0", &listed), Ok(()));
        assert!(may_reply(&reply(json!({"user": "U3", "team": "T0"})), "T0", &listed).is_err());
    }
}
