//! Slack, Teams and Discord notifications against the fake Slack of tests/fixtures/slack-fake
//! (Slack's real response shapes, paging, rate limits, errors, Socket Mode) and the real OAuth
//! server, with a real keychain: run through scripts/with-keychain.sh.

mod support;

use std::time::Duration;

use pitchbar_core::conversations::{ConversationInput, MessageInput, ReasonInput, VisitorInput};
use pitchbar_core::leads::LeadInput;
use pitchbar_core::notify::{
    NotifyConfig, NotifyTarget, NotifyToggles, SlackSettings, WebhookSettings,
};
use pitchbar_core::webhooks::events::Direction;
use pitchbar_core::{Core, Error};
use serde_json::{json, Value};
use support::oauth::*;
use support::slack::*;

struct World {
    _server: OAuthServer,
    fake: SlackFake,
    data: tempfile::TempDir,
    clock: TestClock,
    providers: std::path::PathBuf,
    ca: TestCa,
}

fn world(app_token: Option<&str>) -> World {
    prerequisites();
    let ca = TestCa::new();
    let server = OAuthServer::start(&ca);
    let data = tempfile::tempdir().unwrap();
    let fake = SlackFake::start(ca.dir.path());
    let providers =
        support::slack::write_providers_file(ca.dir.path(), &ca, &server, &fake, app_token);
    World {
        _server: server,
        fake,
        data,
        clock: TestClock::default(),
        providers,
        ca,
    }
}

impl World {
    fn core(&self) -> Core {
        core(
            self.data.path(),
            config(self.data.path(), &self.providers, &self.clock),
        )
    }

    fn notify_config(&self) -> NotifyConfig {
        NotifyConfig {
            clock: self.clock.clock(),
            time_zone: jiff::tz::TimeZone::UTC,
            retry_min_delay: Duration::from_millis(100),
            retry_max_delay: Duration::from_millis(400),
            max_attempts: 3,
            reconnect_min_delay: Duration::from_millis(100),
            reconnect_max_delay: Duration::from_millis(500),
            request_timeout: Duration::from_secs(5),
            tick_max: Duration::from_millis(100),
        }
    }

    /// Connects Slack through the OAuth server, as the user would.
    async fn connect_slack(&self, core: &Core) -> String {
        sign_in(core, &self.ca, "slack").await.id
    }

    async fn slack_ready(&self, toggles: NotifyToggles, reply: bool) -> Core {
        let core = self.core();
        core.start_notifier(self.notify_config());
        self.connect_slack(&core).await;
        core.notifications()
            .configure_slack(
                &actor(&core),
                SlackSettings {
                    channel_id: "C0SUPPORT".into(),
                    toggles,
                    reply_from_slack: reply,
                    summary_time: "09:00".into(),
                },
            )
            .await
            .unwrap();
        core
    }
}

fn leads_only() -> NotifyToggles {
    NotifyToggles {
        new_leads: true,
        new_conversations: false,
        escalations: false,
        all_messages: false,
        daily_summary: false,
    }
}

fn lead(core: &Core, name: &str) {
    core.leads()
        .capture(LeadInput {
            name: Some(name.into()),
            email: Some("ada@example.com".into()),
            phone: Some("+44 20 7946 0000".into()),
            ..Default::default()
        })
        .unwrap();
}

fn target(core: &Core, provider: &str) -> NotifyTarget {
    core.notifications().get(provider).unwrap().unwrap()
}

async fn bot_posts(w: &World, n: usize) -> Vec<Value> {
    eventually(
        10,
        &format!("{n} bot message(s) in #support-alerts"),
        || async {
            let all: Vec<Value> = w
                .fake
                .messages("C0SUPPORT")
                .await
                .into_iter()
                .filter(|m| m["bot_id"].is_string())
                .collect();
            (all.len() >= n).then_some(all)
        },
    )
    .await
}

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
        let t = eventually(10, code, || async {
            let t = target(&core, "slack");
            t.last_error.is_some().then_some(t)
        })
        .await;
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

fn webhook(provider: &str, url: Option<String>) -> WebhookSettings {
    WebhookSettings {
        provider: provider.into(),
        url,
        toggles: leads_only(),
        summary_time: "09:00".into(),
    }
}

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
    let t = eventually(10, "the Discord error", || async {
        let t = target(&core, "discord");
        t.last_error.is_some().then_some(t)
    })
    .await;
    assert!(
        t.last_error.unwrap().contains("paste its URL"),
        "deleted webhook"
    );
    assert_eq!(t.failed, 1);

    // Removing it takes the URL out of the keychain.
    n.remove(&owner, "discord").await.unwrap();
    assert!(n.get("discord").unwrap().is_none());
    core.stop_notifier().await;
}

#[tokio::test]
async fn members_see_the_settings_but_cannot_change_them() {
    let w = world(None);
    let core = w.core();
    let owner = actor(&core);
    let mia = core
        .workspaces()
        .add_member(
            &owner,
            pitchbar_core::workspace::MemberInput {
                name: "Mia".into(),
                email: "mia@acme.test".into(),
                role: pitchbar_core::workspace::Role::Member,
            },
        )
        .unwrap();
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
    core.notifications()
        .configure_slack(
            &actor(&core),
            SlackSettings {
                channel_id: "C0SUPPORT".into(),
                toggles,
                reply_from_slack: false,
                summary_time: at.clone(),
            },
        )
        .await
        .unwrap();
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
    let t = eventually(10, "the outage on the card", || async {
        let t = target(&core, "slack");
        t.last_error.is_some().then_some(t)
    })
    .await;
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
