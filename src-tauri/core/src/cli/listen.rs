//! `pitchbar-admin listen`: the app's local receiver without a window. Every request is
//! recorded in the data folder (the app shows them too), verified, and printed as it arrives.

use std::collections::HashSet;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use super::output::{fail, secret_arg, EXIT_FAILED, EXIT_OK};
use crate::receiver::{ReceivedDetail, ReceiverConfig, ResponseSpec, VerifyWith, DEFAULT_PORT};
use crate::secret::Secret;
use crate::webhooks::verify::Verdict;
use crate::Core;

#[derive(clap::Args)]
#[command(
    about = "Run a local webhook receiver that records, verifies and explains every request",
    long_about = "Run a local webhook receiver on 127.0.0.1 that records every request in the \
                  data folder, verifies its X-Pitchbar-Signature (with --secret, else with every \
                  endpoint's secrets in the data folder) and prints each with its verdict. \
                  With --forward-to, each request is also sent, bytes unchanged, to that URL.",
    after_help = "Exit codes:\n  \
                  0  stopped with Ctrl-C (or SIGTERM)\n  \
                  1  could not start (port in use, data folder unusable, bad --forward-to)\n  \
                  2  usage error"
)]
pub(super) struct ListenArgs {
    /// The port on 127.0.0.1; 0 picks a free one (printed at start).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Verify with this secret (whsec_…) only. Without it: every endpoint's current,
    /// previous and retired secrets.
    #[arg(
        long,
        value_name = "S",
        env = "PITCHBAR_WEBHOOK_SECRET",
        hide_env_values = true,
        value_parser = secret_arg
    )]
    secret: Option<Secret>,
    /// Also send each request, bytes unchanged, to this URL (like `stripe listen --forward-to`).
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,
    /// Record Authorization, Cookie and Set-Cookie as sent (by default they are masked).
    #[arg(long)]
    keep_credentials: bool,
    /// Print one JSON object per request (and the start line on stderr).
    #[arg(long)]
    json: bool,
    /// The data folder. Default: PITCHBAR_DATA_DIR, else the OS app-data folder.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// What `--json` prints for each request.
#[derive(Serialize)]
struct Line<'a> {
    id: i64,
    received_at: &'a str,
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    delivery_id: Option<&'a str>,
    event: Option<&'a str>,
    answered: Option<u16>,
    verdict: &'a Verdict,
}

pub(super) async fn run(
    args: ListenArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> i32 {
    let started = args
        .data_dir
        .map_or_else(crate::data_dir, Ok)
        .and_then(|dir| Core::open(&dir))
        .and_then(|core| {
            let verify_with = match args.secret {
                Some(secret) => VerifyWith::Secret(secret),
                None => VerifyWith::Candidates(core.receiver().endpoint_candidates()),
            };
            let addr = core.receiver().start(ReceiverConfig {
                port: args.port,
                verify_with,
                response: ResponseSpec::default(),
                forward_to: args.forward_to,
                keep_credentials: args.keep_credentials,
                limits: Default::default(),
            })?;
            Ok((core, addr))
        });
    let (core, addr) = match started {
        Ok(started) => started,
        Err(e) => return fail(err, EXIT_FAILED, &e.to_string()),
    };
    let start_line = format!("Listening on http://{addr}/ — press Ctrl-C to stop.");
    let _ = if args.json {
        writeln!(err, "{start_line}").and_then(|_| err.flush())
    } else {
        writeln!(out, "{start_line}").and_then(|_| out.flush())
    };

    let mut changes = core.subscribe_receiver();
    let mut printed = HashSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            change = changes.recv() => match change {
                // A forward's answer announces a request again: each is printed once.
                Ok(change) => {
                    for id in change.request_ids {
                        if printed.insert(id) {
                            if let Ok(detail) = core.receiver_log().get(id) {
                                print(out, &detail, args.json);
                            }
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
        }
    }
    core.receiver().stop().await;
    EXIT_OK
}

fn print(out: &mut dyn Write, d: &ReceivedDetail, json: bool) {
    let s = &d.summary;
    let v = &d.verdict;
    let _ = if json {
        let line = Line {
            id: s.id,
            received_at: &s.received_at,
            method: &s.method,
            path: &s.path,
            query: s.query.as_deref(),
            delivery_id: d.header("x-pitchbar-delivery"),
            event: d.header("x-pitchbar-event"),
            answered: s.response_status,
            verdict: v,
        };
        serde_json::to_string(&line)
            .map_err(std::io::Error::other)
            .and_then(|l| writeln!(out, "{l}"))
    } else {
        let mark = if v.valid { "valid  " } else { "INVALID" };
        let answered = s
            .response_status
            .map_or("closed".to_owned(), |c| c.to_string());
        writeln!(
            out,
            "{} {} {} → {answered}  {mark} {}",
            s.received_at, s.method, s.path, v.title
        )
        .and_then(|_| {
            if v.valid {
                Ok(())
            } else {
                writeln!(out, "    {}", v.detail)
            }
        })
    };
    let _ = out.flush();
}
