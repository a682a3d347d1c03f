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

/// A routed conversation notified in #support-alerts with replies on: the notification's ts,
/// once the socket is connected; and the texts of the conversation's outbound messages.
async fn routed_thread<'a>(
    w: &World,
    core: &'a pitchbar_core::Core,
) -> (String, impl Fn() -> Vec<String> + 'a) {
    let c = core
        .conversations()
        .start(ConversationInput::default())
        .unwrap();
    core.conversations()
        .route(&c.id, ReasonInput { reason: None })
        .unwrap();
    let parent = bot_posts(w, 1).await[0]["ts"].as_str().unwrap().to_owned();
    eventually(10, "the Socket Mode connection", || async {
        (target(core, "slack").reply == pitchbar_core::notify::SlackReplyStatus::Connected)
            .then_some(())
    })
    .await;
    let sent = move || -> Vec<String> {
        let conn = core.store().conn();
        let mut stmt = conn
            .prepare("SELECT text FROM message WHERE conversation_id = ?1 AND direction = 'outbound' ORDER BY rowid")
            .unwrap();
        let texts = stmt
            .query_map([&c.id], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        texts
    };
    (parent, sent)
}

/// A human's reply in the thread, as `user` of `team` (with Slack Connect's `user_team`).
async fn reply_as(w: &World, thread_ts: &str, user: &str, team: Option<&str>, text: &str) {
    let mut body =
        json!({"channel": "C0SUPPORT", "thread_ts": thread_ts, "text": text, "user": user});
    if let Some(team) = team {
        body["team"] = json!(team);
        body["user_team"] = json!(team);
    }
    let r = w.fake.post("/_test/reply", body).await;
    assert_eq!(r["ok"], true, "{r}");
}

#[tokio::test]
async fn replies_from_another_organisation_in_a_shared_channel_are_not_relayed() {
    support::logs::capture();
    let w = world(Some("xapp-1-A0PITCHBAR-test"));
    let toggles = NotifyToggles {
        escalations: true,
        ..leads_only()
    };
    let core = w.slack_ready(toggles, true).await;
    let (thread, sent) = routed_thread(&w, &core).await;

    // A guest of another organisation (a Slack Connect channel): the event names their team.
    reply_as(&w, &thread, "U0GUEST", Some("T0OTHERORG"), "I am not staff").await;
    // The connected workspace's own member, after it: once theirs arrives, the guest's was
    // handled (events are handled in order) and dropped.
    reply_as(&w, &thread, "U0HUMAN", None, "Staff answer").await;
    eventually(10, "the member's reply", || async {
        (!sent().is_empty()).then_some(())
    })
    .await;
    assert_eq!(sent(), vec!["Staff answer"]);
    // Said in the log, who and why, never the text.
    let log = support::logs::captured();
    let line = log
        .lines()
        .find(|l| l.contains("not sent to the visitor") && l.contains("U0GUEST"))
        .unwrap_or_else(|| panic!("the ignored reply is not logged:\n{log}"));
    assert!(line.contains("T0OTHERORG"), "{line}");
    let ours: Vec<_> = log
        .lines()
        .filter(|l| l.contains("pitchbar_core") && l.contains("I am not staff"))
        .collect();
    assert!(ours.is_empty(), "{ours:#?}");
    // Nothing was said in the thread either (no "Not sent" note to a stranger).
    let notes: Vec<_> = w
        .fake
        .messages("C0SUPPORT")
        .await
        .into_iter()
        .filter(|m| m["thread_ts"] == thread.as_str() && m["bot_id"].is_string())
        .collect();
    assert!(notes.is_empty(), "{notes:?}");
    core.stop_notifier().await;
}

#[tokio::test]
async fn with_a_member_list_only_the_listed_members_replies_are_relayed() {
    let w = world(Some("xapp-1-A0PITCHBAR-test"));
    let toggles = NotifyToggles {
        escalations: true,
        ..leads_only()
    };
    let core = w.slack_ready(toggles, true).await;
    // A typo in the list is refused naming it, and nothing changes.
    let err = configure_replies(&core, toggles, true, "09:00", &["U0LEAD", "bob"])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("“bob” is not a Slack member ID"),
        "{err}"
    );
    assert!(target(&core, "slack").reply_users.is_empty());
    let saved = configure_replies(&core, toggles, true, "09:00", &[" u0lead "])
        .await
        .unwrap();
    assert_eq!(saved.reply_users, vec!["U0LEAD"]);
    let (thread, sent) = routed_thread(&w, &core).await;

    // A member of the workspace, but not listed; then the listed one.
    reply_as(&w, &thread, "U0HUMAN", None, "Unlisted answer").await;
    reply_as(&w, &thread, "U0LEAD", None, "Listed answer").await;
    eventually(10, "the listed member's reply", || async {
        (!sent().is_empty()).then_some(())
    })
    .await;
    assert_eq!(sent(), vec!["Listed answer"]);

    // Emptied again: anyone of the workspace may reply.
    configure_replies(&core, toggles, true, "09:00", &[])
        .await
        .unwrap();
    reply_as(&w, &thread, "U0HUMAN", None, "Anyone now").await;
    eventually(10, "the unlisted member's reply", || async {
        (sent().len() == 2).then_some(())
    })
    .await;
    assert_eq!(sent(), vec!["Listed answer", "Anyone now"]);
    core.stop_notifier().await;
}
