//! Slack Socket Mode frames (`notify::frames`). Checked: any text is read or ignored; a frame
//! built from fuzzed fields reads back exactly those fields (kind, envelope id, the reply and
//! who sent it, or no reply when it is a bot's, an edit, a thread's first message or blank);
//! an acknowledgement always carries the envelope id back intact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pitchbar_core::notify::frames::{ack, read_frame, FrameKind, ThreadReply};
use serde_json::{json, Value};

fn field(parts: &[&str], i: usize) -> String {
    parts.get(i).copied().unwrap_or("").to_owned()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // As Slack sent it.
    if let Some(frame) = read_frame(text) {
        if frame.kind != FrameKind::Events {
            assert_eq!(frame.reply, None);
        }
        if let Some(reply) = &frame.reply {
            assert!(!reply.text.trim().is_empty());
        }
        if let Some(id) = &frame.envelope_id {
            let acked: Value = serde_json::from_str(&ack(id)).expect("JSON");
            assert_eq!(acked["envelope_id"].as_str(), Some(id.as_str()));
        }
    }
    // As fields: type, envelope id, channel, thread_ts, ts, text, team, user, flags.
    let parts: Vec<&str> = text.split('\u{1f}').collect();
    let kind = field(&parts, 0);
    let flags = parts.get(8).and_then(|f| f.bytes().next()).unwrap_or(0);
    let (channel, thread_ts, ts, body) = (
        field(&parts, 2),
        field(&parts, 3),
        field(&parts, 4),
        field(&parts, 5),
    );
    let mut event = json!({"type": "message", "channel": channel, "thread_ts": thread_ts,
        "ts": ts, "text": body, "user": field(&parts, 7), "team": field(&parts, 6)});
    let bot = flags & 1 != 0;
    let edit = flags & 2 != 0;
    if bot {
        event["bot_id"] = json!("B1");
    }
    if edit {
        event["subtype"] = json!("message_changed");
    }
    let envelope = json!({"type": kind, "envelope_id": field(&parts, 1),
        "payload": {"team_id": field(&parts, 6), "event": event}});
    let frame = read_frame(&envelope.to_string()).expect("JSON is read");
    let expected_kind = match kind.as_str() {
        "hello" => FrameKind::Hello,
        "disconnect" => FrameKind::Disconnect,
        "events_api" => FrameKind::Events,
        _ => FrameKind::Other,
    };
    assert_eq!(frame.kind, expected_kind);
    assert_eq!(frame.envelope_id, Some(field(&parts, 1)));
    let is_reply = expected_kind == FrameKind::Events
        && !bot
        && !edit
        && ts != thread_ts
        && !body.trim().is_empty();
    let expected = is_reply.then(|| ThreadReply {
        channel,
        thread_ts,
        text: body,
        user: Some(field(&parts, 7)),
        team: Some(field(&parts, 6)).filter(|t| !t.is_empty()),
        source_team: None,
    });
    assert_eq!(frame.reply, expected);
});
