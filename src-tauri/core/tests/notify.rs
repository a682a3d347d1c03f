//! Slack notifications against the fake Slack of tests/fixtures/slack-fake (Slack's real
//! response shapes, paging, rate limits, errors) and the real OAuth server, with a real keychain:
//! run through scripts/with-keychain.sh. Replies from Slack are in notify_replies.rs, Teams and
//! Discord in notify_webhooks.rs.

mod support;

use std::time::Duration;

use pitchbar_core::conversations::{ConversationInput, ReasonInput};
use pitchbar_core::notify::{NotifyToggles, SlackSettings};
use pitchbar_core::Error;
use serde_json::{json, Value};
use support::oauth::*;
use support::slack::*;
use support::slack::{world, World};

#[tokio::test]
async fn the_channel_picker_lists_every_page_of_channels_the_bot_can_post_to() {
    let w = world(None);
    let core = w.core();
    w.connect_slack(&core).await;
    let channels = core.notifications().slack_channels().await.unwrap();
    let all = w.fake.get("/_test/channels").await["channels"]
        .as_array()
        .unwrap()
        .clone();
    let expected: Vec<&Value> = all
        .iter()
        .filter(|c| c["is_archived"] != true && (c["is_private"] != true || c["is_member"] == true))
        .collect();
    assert_eq!(channels.len(), expected.len());
    let ids: Vec<&str> = channels.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&"C0SUPPORT") && ids.contains(&"G0PRIVIN"));
    assert!(
        !ids.contains(&"G0PRIVOUT"),
        "a private channel without the bot"
    );
    assert!(!ids.contains(&"C0ARCHIVE"), "archived");
    // 450 channels at 200 a page: three pages, each asked with the last one's cursor.
    let calls = w.fake.calls("conversations.list").await;
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls[1]["body"]["cursor"].is_string());
    assert_eq!(calls[0]["body"]["types"], "public_channel,private_channel");

    // A channel the bot cannot post to is refused and nothing is saved.
    let err = core
        .notifications()
        .configure_slack(
            &actor(&core),
            SlackSettings {
                channel_id: "G0PRIVOUT".into(),
                toggles: leads_only(),
                reply_from_slack: false,
                reply_users: vec![],
                summary_time: "09:00".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(core.notifications().get("slack").unwrap().is_none());
}

#[tokio::test]
async fn a_new_lead_is_posted_as_the_bot_with_its_details() {
    let w = world(None);
    let core = w.slack_ready(leads_only(), false).await;
    // A conversation is not wanted by these toggles: nothing is posted for it.
    core.conversations()
        .start(ConversationInput::default())
        .unwrap();
    lead(&core, "Ada Lovelace");
    let posts = bot_posts(&w, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.fake.messages("C0SUPPORT").await.len(), 1, "only the lead");
    let m = &posts[0];
    assert_eq!(m["text"], "New lead: Ada Lovelace");
    let blocks = m["blocks"].to_string();
    assert!(
        blocks.contains("ada@example.com") && blocks.contains("+44 20 7946 0000"),
        "{blocks}"
    );
    assert_eq!(m["bot_id"], "B0BOT", "posted as the bot, never as a user");
    let t = target(&core, "slack");
    assert_eq!(t.channel_name.as_deref(), Some("support-alerts"));
    assert!(t.last_sent_at.is_some());
    assert_eq!((t.failed, t.pending), (0, 0));
    core.stop_notifier().await;
}

#[tokio::test]
async fn ratelimited_waits_for_retry_after() {
    let w = world(None);
    let core = w.slack_ready(leads_only(), false).await;
    w.fake
        .script(json!({"method": "chat.postMessage", "status": 429, "retry_after": 2}))
        .await;
    let started = std::time::Instant::now();
    lead(&core, "Grace Hopper");
    lead(&core, "Katherine Johnson");
    let posts = bot_posts(&w, 2).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2), "sent after {waited:?}");
    // The one behind waited too, and the channel reads in order.
    assert_eq!(posts[0]["text"], "New lead: Grace Hopper");
    assert_eq!(posts[1]["text"], "New lead: Katherine Johnson");
    let calls = w.fake.calls("chat.postMessage").await;
    assert_eq!(calls.len(), 3, "one refused, two sent: {calls:?}");
    assert!(target(&core, "slack").last_error.is_none());
    core.stop_notifier().await;
}

#[tokio::test]
async fn errors_that_need_the_user_show_on_the_card_and_retry_sends_them() {
    let w = world(None);
    let core = w.slack_ready(leads_only(), false).await;
    let cases = [
        ("channel_not_found", "pick another channel"),
        ("not_in_channel", "/invite"),
        ("invalid_auth", "connect it again"),
        ("token_revoked", "Connect Slack again"),
    ];
    for (i, (code, advice)) in cases.iter().enumerate() {
        w.fake
            .script(json!({"method": "chat.postMessage", "error": code}))
            .await;
        lead(&core, &format!("Lead {i}"));
        let t = error_on_card(&core, "slack", code).await;
        let message = t.last_error.unwrap();
        assert!(
            message.contains(code) && message.contains(advice),
            "{message}"
        );
        assert_eq!(t.failed, 1);
        // Paused: later notifications wait for the user.
        lead(&core, &format!("Lead {i} bis"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(target(&core, "slack").pending, 1);
        let retried = core.notifications().retry(&actor(&core), "slack").unwrap();
        assert!(retried.last_error.is_none());
        bot_posts(&w, 2 * (i + 1)).await;
    }
    let t = target(&core, "slack");
    assert_eq!((t.failed, t.pending), (0, 0));
    // Members see it but cannot retry.
    core.stop_notifier().await;
}

#[tokio::test]
async fn notifications_owed_survive_a_restart() {
    let w = world(None);
    let core = w.slack_ready(leads_only(), false).await;
    core.stop_notifier().await;
    lead(&core, "Written while stopped");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(w.fake.messages("C0SUPPORT").await.is_empty());
    drop(core);
    let core = w.core();
    core.start_notifier(w.notify_config());
    let posts = bot_posts(&w, 1).await;
    assert_eq!(posts[0]["text"], "New lead: Written while stopped");
    core.stop_notifier().await;
}

#[tokio::test]
async fn disconnecting_slack_deletes_its_channel_configuration() {
    let w = world(None);
    let core = w.slack_ready(leads_only(), false).await;
    let slack = core
        .notifications()
        .get("slack")
        .unwrap()
        .expect("configured");
    core.disconnect(&actor(&core), &slack.connection_id.unwrap())
        .await
        .unwrap();
    let rows: i64 = core
        .store()
        .conn()
        .query_row("SELECT count(*) FROM notify_target", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "the channel configuration is deleted, not hidden");
    // Connected again: Configure starts afresh.
    w.connect_slack(&core).await;
    assert!(core.notifications().get("slack").unwrap().is_none());
    core.stop_notifier().await;
}

/// `HH:MM` (UTC: the tests' time zone) of now plus `ahead`.
fn hh_mm(clock: &TestClock, ahead: Duration) -> String {
    let now = clock.clock().now_ms() + ahead.as_millis() as i64;
    let t = jiff::Timestamp::from_millisecond(now)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

async fn summaries(w: &World) -> Vec<Value> {
    w.fake
        .messages("C0SUPPORT")
        .await
        .into_iter()
        .filter(|m| {
            m["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("Daily summary"))
        })
        .collect()
}

#[tokio::test]
async fn the_daily_summary_goes_out_on_time_once_and_after_a_missed_day() {
    let w = world(None);
    let core = w.core();
    core.start_notifier(w.notify_config());
    w.connect_slack(&core).await;
    let toggles = NotifyToggles {
        new_leads: false,
        daily_summary: true,
        ..leads_only()
    };
    // Due in two minutes (clock time).
    let at = hh_mm(&w.clock, Duration::from_secs(120));
    configure_slack(&core, toggles, false, &at).await;
    // Something to count: a lead, a conversation routed because the agent had no answer.
    lead(&core, "Counted");
    let c = core
        .conversations()
        .start(ConversationInput::default())
        .unwrap();
    core.conversations()
        .route(
            &c.id,
            ReasonInput {
                reason: Some("no answer about pricing".into()),
            },
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(summaries(&w).await.is_empty(), "not before its time");

    w.clock.advance(Duration::from_secs(180));
    let sent = eventually(10, "the summary", || async {
        let s = summaries(&w).await;
        (!s.is_empty()).then_some(s)
    })
    .await;
    let blocks = sent[0]["blocks"].to_string();
    assert!(
        blocks.contains("*Leads*\\n1") && blocks.contains("*Conversations*\\n1"),
        "{blocks}"
    );
    assert!(blocks.contains("no answer about pricing"), "{blocks}");

    // A restart the same day sends nothing more.
    core.stop_notifier().await;
    drop(core);
    let core = w.core();
    core.start_notifier(w.notify_config());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(summaries(&w).await.len(), 1, "once per day");

    // Closed over the next summary time: sent at the next start, once.
    core.stop_notifier().await;
    drop(core);
    w.clock.advance(Duration::from_secs(24 * 3600));
    let core = w.core();
    core.start_notifier(w.notify_config());
    eventually(10, "the missed summary", || async {
        (summaries(&w).await.len() == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(summaries(&w).await.len(), 2);
    core.stop_notifier().await;
}

#[tokio::test]
async fn slack_outages_are_retried_with_backoff_then_shown_on_the_card() {
    let w = world(None);
    let core = w.slack_ready(leads_only(), false).await;
    // Two 500s, then it answers: sent, nothing shown.
    w.fake
        .script(json!({"method": "chat.postMessage", "status": 500, "times": 2}))
        .await;
    lead(&core, "After an outage");
    bot_posts(&w, 1).await;
    assert_eq!(w.fake.calls("chat.postMessage").await.len(), 3);
    assert!(target(&core, "slack").last_error.is_none());

    // Down for longer than the tries allowed (3 here): the card says so; Retry sends it.
    w.fake
        .script(json!({"method": "chat.postMessage", "status": 500, "times": 3}))
        .await;
    lead(&core, "Long outage");
    let t = error_on_card(&core, "slack", "the outage on the card").await;
    assert!(
        t.last_error.as_deref().unwrap().contains("after 3 tries"),
        "{:?}",
        t.last_error
    );
    core.notifications().retry(&actor(&core), "slack").unwrap();
    bot_posts(&w, 2).await;
    core.stop_notifier().await;
}

#[tokio::test]
async fn a_rate_limited_channel_page_is_waited_for() {
    let w = world(None);
    let core = w.core();
    w.connect_slack(&core).await;
    w.fake
        .script(json!({"method": "conversations.list", "status": 429, "retry_after": 1}))
        .await;
    let channels = core.notifications().slack_channels().await.unwrap();
    assert!(channels.iter().any(|c| c.id == "C0SUPPORT"));
    assert_eq!(
        w.fake.calls("conversations.list").await.len(),
        4,
        "one page asked twice"
    );
}
