//! Slack Socket Mode frames read without any I/O: what kind each is, which envelope to
//! acknowledge, and the threaded human reply an `events_api` envelope may carry.

use serde_json::{json, Value};

/// What a frame asks of the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// The socket is open and Slack is listening.
    Hello,
    /// Slack asks for a new socket (it is about to close this one).
    Disconnect,
    /// An event envelope (`events_api`).
    Events,
    /// Anything else (`slash_commands`, `interactive`, types added later).
    Other,
}

/// A threaded reply by a person under a message in a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadReply {
    pub channel: String,
    /// The `ts` of the message replied under: which notification it answers.
    pub thread_ts: String,
    pub text: String,
    /// Who wrote it, and the workspace they belong to: Slack Connect events name it
    /// `user_team`, others `team` (the envelope's `team_id` may be the channel's host
    /// organisation, so it is not used).
    pub user: Option<String>,
    pub team: Option<String>,
    /// In a shared channel, the workspace the message was sent from.
    pub source_team: Option<String>,
}

/// One frame read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: FrameKind,
    /// To send back at once (Slack sends again what is not acknowledged within 3 s).
    pub envelope_id: Option<String>,
    /// Only for [`FrameKind::Events`]: the reply it carries, if it is one.
    pub reply: Option<ThreadReply>,
}

/// Reads a text frame; `None` when it is not JSON (ignored, as Slack never sends one).
pub fn read_frame(text: &str) -> Option<Frame> {
    let envelope: Value = serde_json::from_str(text).ok()?;
    let kind = match envelope["type"].as_str() {
        Some("hello") => FrameKind::Hello,
        Some("disconnect") => FrameKind::Disconnect,
        Some("events_api") => FrameKind::Events,
        _ => FrameKind::Other,
    };
    let reply = match kind {
        FrameKind::Events => thread_reply(&envelope["payload"]),
        _ => None,
    };
    Some(Frame {
        kind,
        envelope_id: envelope["envelope_id"].as_str().map(str::to_owned),
        reply,
    })
}

/// The acknowledgement of an envelope.
pub fn ack(envelope_id: &str) -> String {
    json!({ "envelope_id": envelope_id }).to_string()
}

/// A threaded, human, non-empty reply (not the thread's own first message, not a bot's, not an
/// edit or a join: those carry a `subtype`).
fn thread_reply(payload: &Value) -> Option<ThreadReply> {
    let event = &payload["event"];
    if event["type"] != "message"
        || event.get("bot_id").is_some_and(|b| !b.is_null())
        || event.get("subtype").is_some_and(|s| !s.is_null())
    {
        return None;
    }
    let channel = event["channel"].as_str()?;
    let thread_ts = event["thread_ts"].as_str()?;
    let text = event["text"].as_str()?;
    if event["ts"].as_str() == Some(thread_ts) || text.trim().is_empty() {
        return None;
    }
    Some(ThreadReply {
        channel: channel.to_owned(),
        thread_ts: thread_ts.to_owned(),
        text: text.to_owned(),
        user: event["user"].as_str().map(str::to_owned),
        team: event["user_team"]
            .as_str()
            .or_else(|| event["team"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        source_team: event["source_team"].as_str().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(event: Value) -> String {
        json!({"type": "events_api", "envelope_id": "e1",
               "payload": {"team_id": "T1", "event": event}})
        .to_string()
    }

    #[test]
    fn a_threaded_human_reply_is_read_whole() {
        let frame = read_frame(&envelope(json!({"type": "message", "channel": "C1",
            "thread_ts": "1.0", "ts": "2.0", "text": "hi", "user": "U1", "team": "T1"})))
        .unwrap();
        assert_eq!(frame.kind, FrameKind::Events);
        assert_eq!(frame.envelope_id.as_deref(), Some("e1"));
        assert_eq!(
            frame.reply,
            Some(ThreadReply {
                channel: "C1".into(),
                thread_ts: "1.0".into(),
                text: "hi".into(),
                user: Some("U1".into()),
                team: Some("T1".into()),
                source_team: None,
            })
        );
        assert_eq!(ack("e1"), r#"{"envelope_id":"e1"}"#);
    }

    #[test]
    fn other_frames_carry_no_reply() {
        let base = json!({"type": "message", "channel": "C1", "thread_ts": "1.0", "ts": "2.0", "text": "hi"});
        let with = |k: &str, v: Value| {
            let mut e = base.clone();
            e[k] = v;
            envelope(e)
        };
        for text in [
            with("bot_id", json!("B1")),
            with("subtype", json!("message_changed")),
            with("ts", json!("1.0")),
            with("text", json!("  ")),
            with("thread_ts", Value::Null),
            with("type", json!("reaction_added")),
        ] {
            assert_eq!(read_frame(&text).unwrap().reply, None, "{text}");
        }
        assert_eq!(
            read_frame(r#"{"type":"hello"}"#).unwrap().kind,
            FrameKind::Hello
        );
        assert_eq!(
            read_frame(r#"{"type":"disconnect","reason":"refresh_requested"}"#)
                .unwrap()
                .kind,
            FrameKind::Disconnect
        );
        assert_eq!(read_frame("not json"), None);
    }
}
