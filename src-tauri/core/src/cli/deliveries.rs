//! `pitchbar-admin deliveries`: the delivery log (attempts, newest first; one attempt with
//! every byte), redelivering one delivery, and replaying every failed one since a time.

use std::io::Write;

use serde::Serialize;

use super::workspace::{finish, print, table, Common};
use crate::webhooks::log::{AttemptDetail, AttemptSummary, LogQuery, StatusClass, MAX_PAGE};
use crate::{Core, Error, Result};

const EXIT_CODES: &str = "Exit codes:\n  \
     0  done (for redeliver and replay: queued)\n  \
     1  failed: refused (a Member may only view), not found, a time not in RFC 3339, the data \
     cannot be used, …\n  \
     2  usage error";

#[derive(clap::Args)]
#[command(
    about = "List the delivery log, show an attempt, redeliver or replay deliveries",
    long_about = "The webhook delivery log, as on the Deliveries page: every attempt, newest \
                  first. Redelivering and replaying are done as this computer's user, who must \
                  be an Owner or Admin, and are recorded in the audit trail. They are queued \
                  here and sent by the dispatcher: the open app, or `pitchbar-admin serve`.",
    after_help = EXIT_CODES
)]
pub(super) struct DeliveriesArgs {
    #[command(subcommand)]
    command: DeliveriesCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Subcommand)]
enum DeliveriesCommand {
    /// List attempts, newest first.
    #[command(after_help = EXIT_CODES)]
    List {
        /// Only attempts to this endpoint (its ID).
        #[arg(long, value_name = "ID")]
        endpoint: Option<String>,
        /// Only successful (2xx) or failed attempts.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Only attempts at or after this time (RFC 3339, like 2026-05-07T12:00:00Z).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// At most this many (1–500).
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u32,
    },
    /// Show one attempt with its request and answer: by attempt number (as listed), or the
    /// newest attempt of a delivery ID.
    #[command(after_help = EXIT_CODES)]
    Show {
        /// An attempt number, or a delivery ID.
        id: String,
    },
    /// Send a finished delivery again: same delivery ID and payload, a fresh signature.
    #[command(after_help = EXIT_CODES)]
    Redeliver {
        /// The delivery ID, as `deliveries list` shows it.
        id: String,
    },
    /// Send again every delivery that failed since a time, to endpoints that are on.
    #[command(after_help = EXIT_CODES)]
    Replay {
        /// RFC 3339, like 2026-05-07T12:00:00Z.
        #[arg(long, value_name = "TIME")]
        since: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StatusArg {
    Ok,
    Failed,
}

/// What `--json` prints after redeliver or replay.
#[derive(Serialize)]
struct Queued {
    delivery_ids: Vec<String>,
    queued: u64,
}

pub(super) fn run(args: DeliveriesArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let json = args.common.json;
    let done = args.common.open_as_device_user().and_then(|(core, actor)| {
        match args.command {
            DeliveriesCommand::List {
                endpoint,
                status,
                since,
                limit,
            } => {
                if let Some(id) = &endpoint {
                    core.webhook_endpoints().get(id).map_err(|e| match e {
                        Error::NotFound(_) => Error::NotFound(format!(
                            "There is no webhook endpoint with the ID “{}”. `pitchbar-admin endpoints list` shows their IDs.",
                            id.chars().take(40).collect::<String>()
                        )),
                        other => other,
                    })?;
                }
                let page = core.delivery_log().list(&LogQuery {
                    endpoint_id: endpoint,
                    status: status.map(|s| match s {
                        StatusArg::Ok => StatusClass::Ok,
                        StatusArg::Failed => StatusClass::Failed,
                    }),
                    since,
                    limit: Some(limit),
                    ..LogQuery::default()
                })?;
                print(out, json, &page.attempts, |text| {
                    list_text(text, &page.attempts)
                })
            }
            DeliveriesCommand::Show { id } => {
                let detail = find(&core, &id)?;
                print(out, json, &detail, |text| detail_text(text, &detail))
            }
            DeliveriesCommand::Redeliver { id } => {
                core.webhook_deliveries().redeliver(&actor, &id)?;
                let queued = Queued {
                    delivery_ids: vec![id],
                    queued: 1,
                };
                print(out, json, &queued, |text| {
                    text.push_str(&format!(
                        "Queued delivery {} again (same delivery ID); the open app or `pitchbar-admin serve` sends it.\n",
                        queued.delivery_ids[0]
                    ));
                })
            }
            DeliveriesCommand::Replay { since } => {
                let n = core.webhook_deliveries().replay_failed_since(&actor, &since)?;
                let queued = Queued {
                    delivery_ids: Vec::new(),
                    queued: n,
                };
                print(out, json, &queued, |text| {
                    text.push_str(&format!(
                        "Queued {n} failed deliveries since {since} again; the open app or `pitchbar-admin serve` sends them.\n"
                    ));
                })
            }
        }
    });
    finish(err, done)
}

/// An attempt by its number, or the newest attempt of the delivery with that ID.
fn find(core: &Core, id: &str) -> Result<AttemptDetail> {
    let log = core.delivery_log();
    if let Ok(n) = id.parse::<i64>() {
        return log.get(n);
    }
    let mut query = LogQuery {
        limit: Some(MAX_PAGE),
        ..LogQuery::default()
    };
    loop {
        let page = log.list(&query)?;
        if let Some(a) = page.attempts.iter().find(|a| a.delivery_id == id) {
            return log.get(a.id);
        }
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => {
                return Err(Error::NotFound(format!(
                    "No attempt of a delivery “{}” is in the log. `pitchbar-admin deliveries list` shows them.",
                    id.chars().take(40).collect::<String>()
                )))
            }
        }
    }
}

fn outcome(a: &AttemptSummary) -> String {
    match (a.response_status, &a.error_class) {
        (Some(status), _) => status.to_string(),
        (None, Some(class)) => class.clone(),
        (None, None) => "-".into(),
    }
}

fn list_text(text: &mut String, attempts: &[AttemptSummary]) {
    if attempts.is_empty() {
        text.push_str("No attempts match.\n");
        return;
    }
    let mut rows = vec![[
        "ATTEMPT", "AT", "DELIVERY", "EVENT", "TRIGGER", "TRY", "RESULT", "MS", "URL",
    ]
    .map(String::from)
    .to_vec()];
    rows.extend(attempts.iter().map(|a| {
        vec![
            a.id.to_string(),
            a.attempted_at.clone(),
            a.delivery_id.clone(),
            a.event_type.clone(),
            a.trigger.as_str().into(),
            a.attempt_no.to_string(),
            format!("{} {}", if a.ok { "ok" } else { "failed" }, outcome(a)),
            (a.duration_us / 1000).to_string(),
            a.url.clone(),
        ]
    }));
    table(text, &rows);
}

fn detail_text(text: &mut String, d: &AttemptDetail) {
    let a = &d.summary;
    let mut rows = vec![
        vec!["attempt".into(), a.id.to_string()],
        vec!["delivery".into(), a.delivery_id.clone()],
        vec!["endpoint".into(), a.endpoint_id.clone()],
        vec!["event".into(), a.event_type.clone()],
        vec![
            "trigger".into(),
            format!("{} (try {})", a.trigger.as_str(), a.attempt_no),
        ],
        vec!["at".into(), a.attempted_at.clone()],
        vec!["url".into(), a.url.clone()],
        vec![
            "result".into(),
            format!(
                "{} {} in {} ms",
                if a.ok { "ok" } else { "failed" },
                outcome(a),
                a.duration_us / 1000
            ),
        ],
    ];
    if let Some(message) = &d.error_message {
        rows.push(vec!["error".into(), message.clone()]);
    }
    if let Some(next) = &a.next_attempt_at {
        rows.push(vec!["next attempt".into(), next.clone()]);
    }
    table(text, &rows);
    text.push_str("\nRequest:\n");
    for h in &d.request_headers {
        text.push_str(&format!("  {}: {}\n", h.name, h.value));
    }
    text.push_str(&format!("\n{}\n", d.request_body_text()));
    if let Some(body) = d.response_body_text() {
        text.push_str("\nAnswer:\n");
        for h in &d.response_headers {
            text.push_str(&format!("  {}: {}\n", h.name, h.value));
        }
        text.push_str(&format!(
            "\n{body}{}\n",
            if d.response_truncated {
                " …(truncated)"
            } else {
                ""
            }
        ));
    }
}
