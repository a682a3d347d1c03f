//! What a notification says ([`Notice`]) and how each target shows it: Slack Block Kit,
//! a Teams Adaptive Card, a Discord embed. The content is decided once ([`Notice::card`]);
//! only the wire format differs.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How many of a routed conversation's last messages go with it.
pub const LAST_MESSAGES: usize = 5;

/// Longest text of one field or message in a notification (Slack's section text allows 3000).
const MAX_TEXT: usize = 1500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Said {
    /// `inbound` (the visitor) or `outbound` (the agent or a person).
    pub direction: String,
    pub text: String,
}

/// One notification's content, stored in the outbox as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    Lead {
        lead_id: String,
        conversation_id: Option<String>,
        agent: String,
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        /// Custom fields, by label, in the agent's order; empty ones left out.
        fields: Vec<(String, String)>,
    },
    Started {
        conversation_id: String,
        agent: String,
        visitor: String,
    },
    Routed {
        conversation_id: String,
        agent: String,
        visitor: String,
        reason: Option<String>,
        last_messages: Vec<Said>,
    },
    Message {
        conversation_id: String,
        visitor: String,
        said: Said,
    },
    Summary {
        /// The local day it covers, `2026-11-23`.
        day: String,
        conversations: u64,
        leads: u64,
        routed: u64,
        /// Why conversations were routed (each a gap in what the agent can answer), newest first.
        gaps: Vec<String>,
    },
}

/// The target-independent form: a title, labelled facts, free lines, a footer.
pub struct Card {
    pub title: String,
    pub facts: Vec<(String, String)>,
    pub lines: Vec<String>,
    pub footer: Option<String>,
    /// Discord's embed colour and Slack's fallback text's lead.
    pub accent: u32,
}

impl Notice {
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Lead { .. } => "lead",
            Notice::Started { .. } => "started",
            Notice::Routed { .. } => "routed",
            Notice::Message { .. } => "message",
            Notice::Summary { .. } => "summary",
        }
    }

    pub fn conversation_id(&self) -> Option<&str> {
        match self {
            Notice::Lead {
                conversation_id, ..
            } => conversation_id.as_deref(),
            Notice::Started {
                conversation_id, ..
            }
            | Notice::Routed {
                conversation_id, ..
            }
            | Notice::Message {
                conversation_id, ..
            } => Some(conversation_id),
            Notice::Summary { .. } => None,
        }
    }

    pub fn card(&self) -> Card {
        let fact = |k: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| (k.to_owned(), clip(v)))
                .into_iter()
                .collect::<Vec<_>>()
        };
        match self {
            Notice::Lead {
                agent,
                name,
                email,
                phone,
                fields,
                conversation_id,
                ..
            } => {
                let who = name
                    .clone()
                    .or_else(|| email.clone())
                    .unwrap_or_else(|| phone.clone().unwrap_or_else(|| "A visitor".to_owned()));
                let mut facts = fact("Name", name);
                facts.extend(fact("Email", email));
                facts.extend(fact("Phone", phone));
                facts.extend(fields.iter().map(|(k, v)| (k.clone(), clip(v))));
                Card {
                    title: format!("New lead: {}", clip(&who)),
                    facts,
                    lines: Vec::new(),
                    footer: Some(match conversation_id {
                        Some(c) => format!("Agent {agent} · conversation {c}"),
                        None => format!("Agent {agent} · lead form"),
                    }),
                    accent: 0x2e_b6_7d,
                }
            }
            Notice::Started {
                conversation_id,
                agent,
                visitor,
            } => Card {
                title: format!("New conversation with {}", clip(visitor)),
                facts: vec![("Agent".into(), agent.clone())],
                lines: Vec::new(),
                footer: Some(format!("Conversation {conversation_id}")),
                accent: 0x36_c5_f0,
            },
            Notice::Routed {
                conversation_id,
                agent,
                visitor,
                reason,
                last_messages,
            } => Card {
                title: format!("{} needs a human", clip(visitor)),
                facts: {
                    let mut f = vec![(
                        "Why".to_owned(),
                        reason
                            .as_deref()
                            .map(clip)
                            .unwrap_or_else(|| "No reason was given.".into()),
                    )];
                    f.push(("Agent".into(), agent.clone()));
                    f
                },
                lines: last_messages
                    .iter()
                    .map(|s| said_line(visitor, s))
                    .collect(),
                footer: Some(format!("Conversation {conversation_id}")),
                accent: 0xe0_1e_5a,
            },
            Notice::Message {
                conversation_id,
                visitor,
                said,
            } => Card {
                title: match said.direction.as_str() {
                    "outbound" => format!("Reply to {}", clip(visitor)),
                    _ => format!("Message from {}", clip(visitor)),
                },
                facts: Vec::new(),
                lines: vec![clip(&said.text)],
                footer: Some(format!("Conversation {conversation_id}")),
                accent: 0x9b_9b_9b,
            },
            Notice::Summary {
                day,
                conversations,
                leads,
                routed,
                gaps,
            } => Card {
                title: format!("Daily summary for {day}"),
                facts: vec![
                    ("Conversations".into(), conversations.to_string()),
                    ("Leads".into(), leads.to_string()),
                    ("Routed to a human".into(), routed.to_string()),
                ],
                lines: if gaps.is_empty() {
                    vec!["No new gaps: the agent answered everything it was asked.".into()]
                } else {
                    std::iter::once(format!("New gaps ({}):", gaps.len()))
                        .chain(gaps.iter().take(10).map(|g| format!("• {}", clip(g))))
                        .collect()
                },
                footer: None,
                accent: 0xec_b2_2e,
            },
        }
    }
}

fn said_line(visitor: &str, s: &Said) -> String {
    let who = if s.direction == "outbound" {
        "Agent"
    } else {
        visitor
    };
    format!("{}: {}", clip(who), clip(&s.text))
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_TEXT - 1).collect();
    out.push('…');
    out
}

/// Slack's mrkdwn needs only these three escaped; everything else a visitor typed is shown as is.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `chat.postMessage`'s `text` (notifications, screen readers) and `blocks`.
pub fn slack(notice: &Notice) -> Value {
    let card = notice.card();
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": card.title.chars().take(150).collect::<String>(), "emoji": true}
    })];
    if !card.facts.is_empty() {
        // A section holds at most 10 fields.
        for chunk in card.facts.chunks(10) {
            let fields: Vec<Value> = chunk
                .iter()
                .map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{}*\n{}", slack_escape(k), slack_escape(v))}))
                .collect();
            blocks.push(json!({"type": "section", "fields": fields}));
        }
    }
    if !card.lines.is_empty() {
        let text: Vec<String> = card
            .lines
            .iter()
            .map(|l| format!("> {}", slack_escape(l).replace('\n', "\n> ")))
            .collect();
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(&text.join("\n"))}}),
        );
    }
    if let Some(footer) = &card.footer {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(footer)}]}));
    }
    // `text` is mrkdwn too (it is what notifications show): escaped like the blocks, so a visitor
    // named `<!channel>` pings no one.
    json!({"text": slack_escape(&card.title), "blocks": blocks, "unfurl_links": false, "unfurl_media": false})
}

/// A Teams Workflows / incoming-webhook message carrying one Adaptive Card. What visitors typed
/// goes in `TextRun`s, which Teams shows as plain text: a `TextBlock` or a `FactSet` would render
/// their Markdown (links, emphasis) as if it were ours.
pub fn teams(notice: &Notice) -> Value {
    let card = notice.card();
    let plain = |text: &str, style: Value| {
        let mut run = json!({"type": "TextRun", "text": text});
        if let (Value::Object(run), Value::Object(style)) = (&mut run, style) {
            run.extend(style);
        }
        run
    };
    let block = |inlines: Vec<Value>| json!({"type": "RichTextBlock", "inlines": inlines});
    let mut body = vec![block(vec![plain(
        &card.title,
        json!({"weight": "Bolder", "size": "Medium"}),
    )])];
    for (k, v) in &card.facts {
        body.push(block(vec![
            plain(&format!("{k}: "), json!({"weight": "Bolder"})),
            plain(v, json!({})),
        ]));
    }
    for line in &card.lines {
        body.push(block(vec![plain(line, json!({}))]));
    }
    if let Some(footer) = &card.footer {
        body.push(block(vec![plain(
            footer,
            json!({"isSubtle": true, "size": "Small"}),
        )]));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body
            }
        }]
    })
}

/// Discord Markdown's special characters, backslash-escaped: a visitor's `[text](url)` or
/// `**bold**` shows as typed, not as a link or emphasis.
fn discord_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '[' | ']' | '(' | ')' | '#' | '-'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Discord webhook message with one embed; no mentions are ever pinged.
pub fn discord(notice: &Notice) -> Value {
    let card = notice.card();
    // Discord: up to 25 fields, names ≤ 256, values ≤ 1024, description ≤ 4096.
    let fields: Vec<Value> = card
        .facts
        .iter()
        .take(25)
        .map(|(k, v)| {
            json!({
                "name": k.chars().take(256).collect::<String>(),
                "value": discord_escape(v).chars().take(1024).collect::<String>(),
                "inline": v.chars().count() <= 40
            })
        })
        .collect();
    let mut embed = json!({
        "title": card.title.chars().take(256).collect::<String>(),
        "color": card.accent,
        "fields": fields,
    });
    if !card.lines.is_empty() {
        let lines: Vec<String> = card.lines.iter().map(|l| discord_escape(l)).collect();
        embed["description"] = json!(lines.join("\n").chars().take(4096).collect::<String>());
    }
    if let Some(footer) = &card.footer {
        embed["footer"] = json!({"text": footer});
    }
    json!({
        "username": "Pitchbar",
        "content": discord_escape(&card.title),
        "embeds": [embed],
        "allowed_mentions": {"parse": []}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> Notice {
        Notice::Lead {
            lead_id: "01L".into(),
            conversation_id: None,
            agent: "Support".into(),
            name: Some("Ada <script>".into()),
            email: Some("ada@example.com".into()),
            phone: None,
            fields: vec![("Company".into(), "Analytical & Co".into())],
        }
    }

    #[test]
    fn slack_blocks_carry_the_lead_escaped() {
        let v = slack(&lead());
        assert_eq!(v["text"], "New lead: Ada &lt;script&gt;");
        let text = v["blocks"].to_string();
        assert!(text.contains("Ada &lt;script&gt;"), "{text}");
        assert!(text.contains("Analytical &amp; Co"));
        assert!(text.contains("ada@example.com"));
        assert!(!text.contains("Phone"), "empty values are left out");
    }

    #[test]
    fn a_visitor_cannot_mention_the_channel_in_slack() {
        let n = Notice::Started {
            conversation_id: "01C".into(),
            agent: "Support".into(),
            visitor: "<!channel> <@U0ADMIN>".into(),
        };
        // Only the header is plain text (never parsed); `text` and the mrkdwn parts are.
        let v = slack(&n);
        assert_eq!(v["blocks"][0]["text"]["type"], "plain_text");
        let mut parsed = vec![v["text"].to_string()];
        parsed.extend(
            v["blocks"].as_array().unwrap()[1..]
                .iter()
                .map(Value::to_string),
        );
        for text in parsed {
            assert!(
                !text.contains("<!channel>") && !text.contains("<@U0ADMIN>"),
                "{text}"
            );
        }
    }

    #[test]
    fn teams_is_an_adaptive_card_and_discord_an_embed() {
        let t = teams(&lead());
        assert_eq!(
            t["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(t["attachments"][0]["content"]["type"], "AdaptiveCard");
        let d = discord(&lead());
        assert_eq!(d["embeds"][0]["fields"][0]["name"], "Name");
        assert_eq!(d["allowed_mentions"]["parse"], json!([]));
    }

    #[test]
    fn what_a_visitor_typed_is_never_markdown_in_teams_or_discord() {
        let typed = "[win](https://evil.example) **now**";
        let n = Notice::Message {
            conversation_id: "01C".into(),
            visitor: "Grace".into(),
            said: Said {
                direction: "inbound".into(),
                text: typed.into(),
            },
        };
        // Teams: only plain TextRuns, no TextBlock or FactSet (both render Markdown).
        let t = teams(&n);
        let body = t["attachments"][0]["content"]["body"].as_array().unwrap();
        assert!(body.iter().all(|b| b["type"] == "RichTextBlock"), "{t}");
        let runs: Vec<&Value> = t["attachments"][0]["content"]["body"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|b| b["inlines"].as_array().unwrap())
            .collect();
        assert!(runs.iter().all(|r| r["type"] == "TextRun"));
        assert!(runs.iter().any(|r| r["text"] == typed));
        // Discord: backslash-escaped, so it shows as typed.
        let d = discord(&n);
        assert_eq!(
            d["embeds"][0]["description"],
            r"\[win\]\(https://evil.example\) \*\*now\*\*"
        );
    }

    #[test]
    fn a_routed_conversation_shows_why_and_the_last_messages() {
        let n = Notice::Routed {
            conversation_id: "01C".into(),
            agent: "Support".into(),
            visitor: "Grace".into(),
            reason: Some("no answer about refunds".into()),
            last_messages: vec![Said {
                direction: "inbound".into(),
                text: "Can I get a refund?".into(),
            }],
        };
        let s = slack(&n).to_string();
        assert!(s.contains("Grace needs a human"));
        assert!(s.contains("no answer about refunds"));
        assert!(s.contains("Grace: Can I get a refund?"));
    }
}
