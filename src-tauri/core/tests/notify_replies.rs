//! Replying from Slack: a human's reply in the thread of a routed conversation reaches it over
//! Socket Mode (the fake Slack of tests/fixtures/slack-fake), through reconnects; bots, edits
//! and late replies do not. Real OAuth server and keychain: run through scripts/with-keychain.sh.

mod support;

use std::time::Duration;

use pitchbar_core::conversations::{ConversationInput, MessageInput, ReasonInput, VisitorInput};
use pitchbar_core::notify::NotifyToggles;
use pitchbar_core::webhooks::events::Direction;
use serde_json::json;
use support::slack::*;

#[tokio::test]
async fn a_reply_in_the_thread_of_a_routed_conversation_reaches_it() {
    let w = world(Some("xapp-1-A0PITCHBAR-test"));
    let toggles = NotifyToggles {
        escalations: true,
        ..leads_only()
    };
    let core = w.slack_ready(toggles, true).await;
    let conversations = core.conversations();
    let c = conversations
        .start(ConversationInput {
            agent_id: None,
            visitor: Some(VisitorInput {
                name: Some("Grace".into()),
                ..Default::default()
            }),
        })
        .unwrap();
    conversations
        .add_message(
            &c.id,
            MessageInput {
                direction: Direction::Inbound,
                text: "Can I get a refund?".into(),
            },
        )
        .unwrap();
    conversations
        .route(
            &c.id,
            ReasonInput {
                reason: Some("no answer about refunds".into()),
            },
        )
        .unwrap();
    let posts = bot_posts(&w, 1).await;
    let parent = &posts[0];
    assert_eq!(parent["text"], "Grace needs a human");
    let blocks = parent["blocks"].to_string();
    assert!(blocks.contains("no answer about refunds") && blocks.contains("Can I get a refund?"));
    eventually(10, "the Socket Mode connection", || async {
        let t = target(&core, "slack");
        (t.reply == pitchbar_core::notify::SlackReplyStatus::Connected).then_some(())
    })
    .await;

    let reply = |text: &'static str| {
        let ts = parent["ts"].clone();
        let fake = &w.fake;
        async move {
            let r = fake
                .post(
                    "/_test/reply",
                    json!({"channel": "C0SUPPORT", "thread_ts": ts, "text": text}),
                )
                .await;
            assert_eq!(r["ok"], true, "{r}");
        }
    };
    reply("Yes, within 30 days.").await;
    let outbound = |n: usize| {
        let store = core.store();
        let id = c.id.clone();
        async move {
            let count: i64 = store
                .conn()
                .query_row(
                    "SELECT count(*) FROM message WHERE conversation_id = ?1 AND direction = 'outbound'",
                    [&id],
                    |r| r.get(0),
                )
                .unwrap();
            (count as usize >= n).then_some(())
        }
    };
    eventually(10, "the reply in the conversation", || outbound(1)).await;
    let text: String = core
        .store()
        .conn()
        .query_row(
            "SELECT text FROM message WHERE conversation_id = ?1 AND direction = 'outbound'",
            [&c.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(text, "Yes, within 30 days.");
    // It fired conversation.message, outbound.
    let fired: i64 = core
        .store()
        .conn()
        .query_row(
            "SELECT count(*) FROM webhook_event WHERE type = 'conversation.message'
             AND json_extract(payload, '$.data.direction') = 'outbound'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fired, 1);
    // Acknowledged (so Slack does not send it again).
    eventually(5, "the acknowledgement", || async {
        let envelopes = w.fake.get("/_test/envelopes").await["envelopes"].clone();
        envelopes
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["acked"] == true)
            .then_some(())
    })
    .await;

    // Slack asks to reconnect, then the socket drops without a word: both reconnect.
    w.fake
        .post(
            "/_test/sockets/disconnect",
            json!({"reason": "refresh_requested"}),
        )
        .await;
    reply("Second answer.").await;
    eventually(10, "the reply after a reconnect", || outbound(2)).await;
    w.fake
        .post("/_test/sockets/disconnect", json!({"abrupt": true}))
        .await;
    reply("Third answer.").await;
    eventually(15, "the reply after a dropped socket", || outbound(3)).await;
    let sockets = w.fake.get("/_test/sockets").await["sockets"].clone();
    assert!(sockets.as_array().unwrap().len() >= 3, "{sockets}");
    core.stop_notifier().await;
}

#[tokio::test]
async fn reply_from_slack_without_an_app_token_says_what_is_missing() {
    let w = world(None);
    let core = w.slack_ready(leads_only(), true).await;
    let t = eventually(10, "the reply status", || async {
        let t = target(&core, "slack");
        matches!(
            t.reply,
            pitchbar_core::notify::SlackReplyStatus::Unavailable { .. }
        )
        .then_some(t)
    })
    .await;
    let pitchbar_core::notify::SlackReplyStatus::Unavailable { message } = t.reply else {
        unreachable!()
    };
    assert!(
        message.contains("app_token") && message.contains("xapp-"),
        "{message}"
    );
    core.stop_notifier().await;
}

#[tokio::test]
async fn only_human_replies_in_a_thread_count_and_a_closed_conversation_says_so() {
    let w = world(Some("xapp-1-A0PITCHBAR-test"));
    let toggles = NotifyToggles {
        escalations: true,
        ..leads_only()
    };
    let core = w.slack_ready(toggles, true).await;
    let c = core
        .conversations()
        .start(ConversationInput::default())
        .unwrap();
    core.conversations()
        .route(&c.id, ReasonInput { reason: None })
        .unwrap();
    let parent = bot_posts(&w, 1).await[0].clone();
    eventually(10, "the Socket Mode connection", || async {
        (target(&core, "slack").reply == pitchbar_core::notify::SlackReplyStatus::Connected)
            .then_some(())
    })
    .await;
    let outbound = || -> i64 {
        core.store()
            .conn()
            .query_row(
                "SELECT count(*) FROM message WHERE conversation_id = ?1 AND direction = 'outbound'",
                [&c.id],
                |r| r.get(0),
            )
            .unwrap()
    };
    // A bot's message in the thread, a top-level message, an edit: none is a reply.
    for event in [
        json!({"type": "message", "channel": "C0SUPPORT", "thread_ts": parent["ts"], "text": "bot", "bot_id": "B0OTHER"}),
        json!({"type": "message", "channel": "C0SUPPORT", "text": "top level", "user": "U0HUMAN"}),
        json!({"type": "message", "subtype": "message_changed", "channel": "C0SUPPORT", "thread_ts": parent["ts"], "text": "edit"}),
    ] {
        w.fake.post("/_test/event", json!({"event": event})).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(outbound(), 0);

    core.conversations()
        .close(&c.id, ReasonInput { reason: None })
        .unwrap();
    w.fake
        .post(
            "/_test/reply",
            json!({"channel": "C0SUPPORT", "thread_ts": parent["ts"], "text": "too late"}),
        )
        .await;
    let note = eventually(10, "the note in the thread", || async {
        w.fake
            .messages("C0SUPPORT")
            .await
            .into_iter()
            .find(|m| m["thread_ts"] == parent["ts"] && m["bot_id"].is_string())
    })
    .await;
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .contains("Not sent to the visitor"),
        "{note}"
    );
    assert_eq!(outbound(), 0);
    core.stop_notifier().await;
}
