//! `pitchbar-admin endpoints`: the webhook endpoints, as the Webhooks page has them: list,
//! add, update, rotate a signing secret, disable, enable, delete.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::workspace::{finish, print, table, Common, EXIT_CODES};
use crate::webhooks::endpoints::{EndpointInput, EndpointView, Policy};
use crate::workspace::Actor;
use crate::{Core, Error, Result};

#[derive(clap::Args)]
#[command(
    about = "List, add, change, rotate, disable or delete webhook endpoints",
    long_about = "The workspace's webhook endpoints, as on the Webhooks page. Changes are made \
                  as this computer's user, who must be an Owner or Admin, and are recorded in \
                  the audit trail. Signing secrets are printed only with --print-secret.",
    after_help = EXIT_CODES
)]
pub(super) struct EndpointsArgs {
    #[command(subcommand)]
    command: EndpointsCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Subcommand)]
enum EndpointsCommand {
    /// List the endpoints.
    #[command(after_help = EXIT_CODES)]
    List,
    /// Add an endpoint; a signing secret is made for it.
    #[command(after_help = EXIT_CODES)]
    Add {
        /// Where deliveries are POSTed (https://, or http:// to this computer).
        #[arg(long, value_name = "URL")]
        url: String,
        /// The events it receives, comma-separated (like lead.captured,lead.updated).
        #[arg(long, value_name = "E,…", value_delimiter = ',', required = true)]
        events: Vec<String>,
        #[command(flatten)]
        settings: Settings,
        /// Print the new signing secret (whsec_…).
        #[arg(long)]
        print_secret: bool,
    },
    /// Change an endpoint: only the options given change.
    #[command(after_help = EXIT_CODES)]
    Update {
        /// The endpoint's ID, as `endpoints list` shows it.
        id: String,
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// The events it receives, comma-separated; replaces the current list.
        #[arg(long, value_name = "E,…", value_delimiter = ',')]
        events: Option<Vec<String>>,
        #[command(flatten)]
        settings: Settings,
        /// Print the endpoint's signing secret (whsec_…).
        #[arg(long)]
        print_secret: bool,
    },
    /// Make a new signing secret; the old one keeps signing during the overlap.
    #[command(after_help = EXIT_CODES)]
    Rotate {
        /// The endpoint's ID, as `endpoints list` shows it.
        id: String,
        /// How long the old secret stays valid beside the new one (0–168).
        #[arg(long, value_name = "N", default_value_t = 24)]
        overlap_hours: u64,
        /// Print the new signing secret (whsec_…).
        #[arg(long)]
        print_secret: bool,
    },
    /// Pause an endpoint: nothing is sent to it until it is enabled.
    #[command(after_help = EXIT_CODES)]
    Disable {
        /// The endpoint's ID, as `endpoints list` shows it.
        id: String,
    },
    /// Turn an endpoint back on; deliveries held while the app had it off are sent.
    #[command(after_help = EXIT_CODES)]
    Enable {
        /// The endpoint's ID, as `endpoints list` shows it.
        id: String,
    },
    /// Delete an endpoint, its signing secrets, its pending deliveries and its log.
    #[command(after_help = EXIT_CODES)]
    Delete {
        /// The endpoint's ID, as `endpoints list` shows it.
        id: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PolicyArg {
    /// One attempt, no retry.
    Single,
    /// Retries with backoff until a 2xx or the last attempt.
    AtLeastOnce,
}

/// The settings `add` and `update` share.
#[derive(clap::Args)]
struct Settings {
    /// A note for people: what the endpoint is for.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// How its deliveries are attempted.
    #[arg(long, value_enum)]
    policy: Option<PolicyArg>,
    /// Total attempts for at-least-once (1–10).
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// How long an attempt may take (1000–60000 ms).
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u32>,
    /// Also send the Standard Webhooks headers (webhook-id, webhook-timestamp,
    /// webhook-signature); `--standard-webhooks=false` stops them.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    standard_webhooks: Option<bool>,
}

impl Settings {
    /// `input` with the options given applied.
    fn apply(self, mut input: EndpointInput) -> EndpointInput {
        if let Some(description) = self.description {
            input.description = description;
        }
        if let Some(policy) = self.policy {
            input.policy = match policy {
                PolicyArg::Single => Policy::Single,
                PolicyArg::AtLeastOnce => Policy::AtLeastOnce,
            };
            // A new policy without --max-attempts takes that policy's default number.
            input.max_attempts = None;
        }
        if self.max_attempts.is_some() {
            input.max_attempts = self.max_attempts;
        }
        if self.timeout_ms.is_some() {
            input.timeout_ms = self.timeout_ms;
        }
        if let Some(on) = self.standard_webhooks {
            input.standard_webhooks = on;
        }
        input
    }
}

/// What `--json` prints for one endpoint: its view, and its secret only when asked for.
#[derive(Serialize)]
struct EndpointOut {
    #[serde(flatten)]
    view: EndpointView,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

pub(super) fn run(args: EndpointsArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let json = args.common.json;
    let done = args.common.open_as_device_user().and_then(|(core, actor)| {
        let endpoints = core.webhook_endpoints();
        match args.command {
            EndpointsCommand::List => {
                let list = endpoints.list()?;
                print(out, json, &list, |text| list_text(text, &list))
            }
            EndpointsCommand::Add {
                url,
                events,
                settings,
                print_secret,
            } => {
                let input = settings.apply(EndpointInput {
                    url,
                    events,
                    active: true,
                    ..EndpointInput::default()
                });
                let view = endpoints.create(&actor, input)?;
                one(out, json, &core, &actor, view, print_secret, "Added")
            }
            EndpointsCommand::Update {
                id,
                url,
                events,
                settings,
                print_secret,
            } => {
                let mut input = input_of(&existing(&core, &id)?);
                if let Some(url) = url {
                    input.url = url;
                }
                if let Some(events) = events {
                    input.events = events;
                }
                let input = settings.apply(input);
                let view = endpoints.update(&actor, &id, input)?;
                one(out, json, &core, &actor, view, print_secret, "Updated")
            }
            EndpointsCommand::Rotate {
                id,
                overlap_hours,
                print_secret,
            } => {
                existing(&core, &id)?;
                let overlap = Duration::from_secs(overlap_hours.saturating_mul(3600));
                let view = endpoints.rotate_secret(&actor, &id, overlap)?;
                one(
                    out,
                    json,
                    &core,
                    &actor,
                    view,
                    print_secret,
                    "Rotated the signing secret of",
                )
            }
            EndpointsCommand::Disable { id } => {
                let current = existing(&core, &id)?;
                let view = endpoints.update(
                    &actor,
                    &id,
                    EndpointInput {
                        active: false,
                        ..input_of(&current)
                    },
                )?;
                one(out, json, &core, &actor, view, false, "Disabled")
            }
            EndpointsCommand::Enable { id } => {
                existing(&core, &id)?;
                let view = endpoints.enable(&actor, &id)?;
                one(out, json, &core, &actor, view, false, "Enabled")
            }
            EndpointsCommand::Delete { id } => {
                let current = existing(&core, &id)?;
                let impact = endpoints.delete(&actor, &id)?;
                print(out, json, &impact, |text| {
                    text.push_str(&format!(
                        "Deleted {}  {}  ({} logged attempts, {} pending deliveries removed)\n",
                        current.id, current.url, impact.logged_attempts, impact.pending_deliveries
                    ));
                })
            }
        }
    });
    finish(err, done)
}

/// The endpoint `id`, or a message naming the ID and where to find the right one.
fn existing(core: &Core, id: &str) -> Result<EndpointView> {
    core.webhook_endpoints().get(id).map_err(|e| match e {
        Error::NotFound(_) => Error::NotFound(format!(
            "There is no webhook endpoint with the ID “{}”. `pitchbar-admin endpoints list` shows their IDs.",
            id.chars().take(40).collect::<String>()
        )),
        other => other,
    })
}

/// The form as it stands for `view`: what `update` starts from.
fn input_of(view: &EndpointView) -> EndpointInput {
    EndpointInput {
        url: view.url.clone(),
        description: view.description.clone(),
        events: view.events.iter().map(|e| e.as_str().to_owned()).collect(),
        active: view.active,
        policy: view.policy,
        max_attempts: Some(view.max_attempts),
        timeout_ms: Some(view.timeout_ms),
        standard_webhooks: view.standard_webhooks,
    }
}

/// Prints one endpoint after a change, with its secret when asked for (revealing it is
/// checked and recorded like the window's Reveal).
fn one(
    out: &mut dyn Write,
    json: bool,
    core: &Core,
    actor: &Actor,
    view: EndpointView,
    print_secret: bool,
    done: &str,
) -> Result<()> {
    let secret = if print_secret {
        Some(
            core.webhook_endpoints()
                .reveal_secret(actor, &view.id)?
                .expose()
                .to_owned(),
        )
    } else {
        None
    };
    let shown = EndpointOut { view, secret };
    print(out, json, &shown, |text| {
        text.push_str(&format!("{done} {}\n", shown.view.id));
        let v = &shown.view;
        let mut rows = vec![
            vec!["url".into(), v.url.clone()],
            vec!["events".into(), events_text(v)],
            vec!["status".into(), status(v)],
            vec![
                "policy".into(),
                format!(
                    "{}, {} attempt(s), {} ms timeout{}",
                    v.policy.as_str(),
                    v.max_attempts,
                    v.timeout_ms,
                    if v.standard_webhooks {
                        ", Standard Webhooks headers"
                    } else {
                        ""
                    }
                ),
            ],
            vec![
                "secret".into(),
                shown
                    .secret
                    .clone()
                    .unwrap_or_else(|| v.secret_redacted.clone()),
            ],
        ];
        if let Some(until) = &v.previous_secret_expires_at {
            rows.push(vec!["old secret valid until".into(), until.clone()]);
        }
        if let Some(warning) = &v.warning {
            rows.push(vec!["warning".into(), warning.clone()]);
        }
        let mut lines = String::new();
        table(&mut lines, &rows);
        for line in lines.lines() {
            text.push_str("  ");
            text.push_str(line);
            text.push('\n');
        }
    })
}

fn list_text(text: &mut String, list: &[EndpointView]) {
    if list.is_empty() {
        text.push_str(
            "No endpoints. `pitchbar-admin endpoints add --url URL --events E,…` adds one.\n",
        );
        return;
    }
    let mut rows = vec![vec![
        "ID".into(),
        "STATUS".into(),
        "URL".into(),
        "EVENTS".into(),
    ]];
    rows.extend(
        list.iter()
            .map(|v| vec![v.id.clone(), status(v), v.url.clone(), events_text(v)]),
    );
    table(text, &rows);
}

fn events_text(v: &EndpointView) -> String {
    v.events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn status(v: &EndpointView) -> String {
    match (v.active, &v.disabled_reason) {
        (true, _) if v.failing_since.is_some() => "failing".into(),
        (true, _) => "on".into(),
        (false, Some(_)) => "off".into(),
        (false, None) => "paused".into(),
    }
}
