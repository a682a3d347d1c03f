//! `pitchbar-admin trigger`: one signed event POSTed to a URL, exactly as the dispatcher sends a
//! delivery (same headers, same signature, no redirects followed), without touching the store.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::output::{fail, secret_arg, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::clock::unix_ms;
use crate::net::{classify, header_map, read_capped, ClientSpec};
use crate::secret::Secret;
use crate::webhooks::delivery_headers;
use crate::webhooks::endpoints::check_url;
use crate::webhooks::events::sample;
use crate::webhooks::EventType;

/// How much of the answer the human-readable output shows; `--json` carries all that was read.
const SHOWN_BODY_CHARS: usize = 1000;

#[derive(clap::Args)]
#[command(
    about = "Send one signed event to a URL, exactly as a webhook delivery",
    long_about = "Send one signed event to a URL, exactly as a webhook delivery: the same \
                  X-Pitchbar-Signature (t=…,v1=…), X-Pitchbar-Event, a new X-Pitchbar-Delivery, \
                  Content-Type and User-Agent. Redirects are not followed. Nothing is logged.",
    after_help = "Exit codes:\n  \
                  0  the receiver answered 2xx\n  \
                  1  it answered anything else, or could not be reached in time\n  \
                  2  usage error (bad arguments, unreadable or invalid --data file)"
)]
pub(super) struct TriggerArgs {
    /// The event type: lead.captured, lead.updated, conversation.started,
    /// conversation.message, conversation.routed or conversation.closed.
    event: EventType,
    /// Where to POST the event (http:// or https://).
    #[arg(long, value_name = "URL", value_parser = url_arg)]
    url: String,
    /// The signing secret (whsec_…), used whole as the HMAC key. Prefer the environment
    /// variable: a command line can be read by other users of this machine.
    #[arg(
        long,
        value_name = "S",
        env = "PITCHBAR_WEBHOOK_SECRET",
        hide_env_values = true,
        value_parser = secret_arg
    )]
    secret: Secret,
    /// Send this file's bytes as the body instead of the event's sample payload; it must be
    /// JSON. `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Print one JSON object with the outcome instead of text.
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds (the deliveries' default is 5).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = timeout_arg)]
    timeout: Duration,
}

fn url_arg(raw: &str) -> Result<String, String> {
    check_url(raw)
        .map(|(url, _)| url)
        .map_err(|e| e.to_string())
}

fn timeout_arg(raw: &str) -> Result<Duration, String> {
    match raw.trim().parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err("give a number of seconds above 0 and at most 3600, like 5 or 0.5".into()),
    }
}

/// What `--json` prints.
#[derive(Serialize)]
struct Outcome<'a> {
    event: &'a str,
    url: &'a str,
    delivery_id: &'a str,
    /// The `t=` of the signature, unix seconds.
    timestamp: i64,
    ok: bool,
    status: Option<u16>,
    duration_ms: f64,
    response_body: Option<String>,
    response_truncated: bool,
    error: Option<String>,
}

pub(super) async fn run(args: TriggerArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let body = match body(&args) {
        Ok(body) => body,
        Err(message) => return fail(err, EXIT_USAGE, &message),
    };
    if let Ok((_, Some(warning))) = check_url(&args.url) {
        let _ = writeln!(err, "warning: {warning}");
    }
    let client = match ClientSpec::new("pitchbar-admin trigger")
        .user_agent(crate::webhooks::USER_AGENT)
        .build(&[])
    {
        Ok(client) => client,
        Err(e) => return fail(err, EXIT_FAILED, &e.to_string()),
    };
    let delivery_id = crate::ids::new_id();
    let timestamp = unix_ms().div_euclid(1000);
    let headers = delivery_headers(
        args.event.as_str(),
        &delivery_id,
        &[&args.secret],
        timestamp,
        &body,
    );

    let started = Instant::now();
    let sent = client
        .post(&args.url)
        .headers(header_map(&headers))
        .timeout(args.timeout)
        .body(body)
        .send()
        .await;
    let mut outcome = Outcome {
        event: args.event.as_str(),
        url: &args.url,
        delivery_id: &delivery_id,
        timestamp,
        ok: false,
        status: None,
        duration_ms: 0.0,
        response_body: None,
        response_truncated: false,
        error: None,
    };
    let mut reason = None;
    match sent {
        Ok(mut resp) => {
            let status = resp.status();
            let (bytes, truncated, read_error) = read_capped(&mut resp).await;
            outcome.status = Some(status.as_u16());
            outcome.ok = status.is_success() && read_error.is_none();
            outcome.response_body = Some(String::from_utf8_lossy(&bytes).into_owned());
            outcome.response_truncated = truncated;
            outcome.error = read_error.or_else(|| {
                (!status.is_success()).then(|| {
                    let redirect = if status.is_redirection() {
                        " (a redirect: deliveries do not follow them, so set the final URL)"
                    } else {
                        ""
                    };
                    format!("The receiver answered {status}{redirect}.")
                })
            });
            reason = Some(status.to_string());
        }
        Err(e) => outcome.error = Some(classify(e, args.timeout).1),
    }
    outcome.duration_ms = started.elapsed().as_secs_f64() * 1000.0;

    let printed = if args.json {
        serde_json::to_string(&outcome)
            .map_err(std::io::Error::other)
            .and_then(|json| writeln!(out, "{json}"))
    } else {
        print_text(out, &outcome, reason.as_deref())
    };
    if let Err(e) = printed {
        return fail(
            err,
            EXIT_FAILED,
            &format!("the outcome could not be printed ({e})."),
        );
    }
    match &outcome.error {
        Some(message) => fail(err, EXIT_FAILED, message),
        None => EXIT_OK,
    }
}

/// The bytes to send: `--data`'s as given (checked to be JSON, and to be the event named if it
/// says which), else the event's sample payload. An error is a usage error's message.
fn body(args: &TriggerArgs) -> Result<Vec<u8>, String> {
    let Some(path) = &args.data else {
        return serde_json::to_vec(&sample(args.event))
            .map_err(|_| "the sample payload could not be written as JSON.".to_owned());
    };
    let shown = path.display();
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    read.map_err(|e| format!("cannot read --data {shown}: {e}."))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "--data {shown} is not valid JSON ({e}). Webhook bodies are JSON and are sent \
             byte for byte as given, so fix the file first."
        )
    })?;
    match value.get("event") {
        Some(serde_json::Value::String(e)) if e != args.event.as_str() => Err(format!(
            "--data {shown} says \"event\": \"{e}\" but the event given is {}. Make them match: \
             receivers route on both.",
            args.event
        )),
        _ => Ok(bytes),
    }
}

fn print_text(out: &mut dyn Write, o: &Outcome<'_>, reason: Option<&str>) -> std::io::Result<()> {
    writeln!(
        out,
        "POST {} ({}, delivery {})",
        o.url, o.event, o.delivery_id
    )?;
    let Some(reason) = reason else {
        return writeln!(out, "no answer after {:.1} ms", o.duration_ms);
    };
    writeln!(out, "{reason} in {:.1} ms", o.duration_ms)?;
    let body = o.response_body.as_deref().unwrap_or_default();
    if body.is_empty() {
        return writeln!(out, "(empty body)");
    }
    let shown: String = body.chars().take(SHOWN_BODY_CHARS).collect();
    write!(out, "{}", shown.trim_end())?;
    if shown.len() < body.len() || o.response_truncated {
        write!(out, "… (cut)")?;
    }
    writeln!(out)
}
