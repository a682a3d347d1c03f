//! The notifier: a background task that follows the webhook events (a cursor per target over
//! `webhook_event`), writes the notifications each target wants into `notify_outbox` (see
//! `enqueue`), queues the daily summary, and sends what is due. Everything is written before it is sent, so nothing
//! is lost across restarts; a failure that needs the user pauses the target until Retry.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use tokio::sync::watch;

use super::context::{Ctx, SlackContext};
use super::enqueue::enqueue_events;
use super::format::{self, Notice};
use super::slack::{self, SlackError};
use super::socket;
use super::summary;
use super::targets::{targets, TargetRow};
use super::types::{DISCORD, SLACK, TEAMS};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::VaultKey;

/// Notifications sent per pass (then the next pass picks up new events first).
const SEND_BATCH: i64 = 64;

/// The running notifier (and its Socket Mode client), owned by `Core`.
pub struct Running {
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl crate::service::Service for Running {
    const NAME: &'static str = "notifier";

    /// Lets a send in flight finish, then stops.
    async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

pub(crate) fn start(ctx: Ctx) -> Running {
    ctx.hub.set_clock(ctx.config.clock.clone());
    let (shutdown, stopped) = watch::channel(false);
    let notifier = {
        let ctx = ctx.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            loop {
                let next = match pass(&ctx).await {
                    Ok(next) => next,
                    Err(err) => {
                        tracing::warn!(error = %err, "notifier pass failed");
                        None
                    }
                };
                let now = ctx.hub.now_ms();
                let wait = next
                    .map(|at| Duration::from_millis(u64::try_from(at - now).unwrap_or(0)))
                    .unwrap_or(ctx.config.tick_max)
                    .min(ctx.config.tick_max);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = ctx.hub.wake.notified() => {}
                    _ = ctx.outbox.accepted.notified() => {}
                    _ = stopped.changed() => return,
                }
            }
        })
    };
    let socket = tokio::spawn(socket::run(ctx, stopped));
    Running {
        shutdown,
        tasks: vec![notifier, socket],
    }
}

/// One pass: new events into the outbox, the summary if due, then what is due is sent.
/// Returns when the next thing is due.
async fn pass(ctx: &Ctx) -> Result<Option<i64>> {
    let now = ctx.hub.now_ms();
    let mut next: Option<i64> = None;
    for target in targets(&ctx.store)? {
        if !target.usable(&ctx.store) {
            continue;
        }
        let more = ctx.store.write(|tx| enqueue_events(tx, &target, now))?;
        if more {
            next = Some(now);
        }
        if target.toggles.daily_summary {
            let at = ctx
                .store
                .write(|tx| summary::enqueue_due(tx, &target, now, &ctx.config.time_zone))?;
            next = earliest(next, Some(at));
        }
        if !target.paused {
            let due = send_due(ctx, &target).await?;
            next = earliest(next, due);
        }
    }
    Ok(next)
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How one send failed.
pub(crate) enum SendError {
    /// Rate limited: try again after this.
    Wait(Duration),
    /// Only the user can fix it: the card says what to do; the target pauses.
    User(String),
    /// Network, 5xx: retried with backoff.
    Transient(String),
}

impl From<SlackError> for SendError {
    fn from(err: SlackError) -> Self {
        match err.needs_user() {
            Some(message) => SendError::User(message),
            None => match err {
                SlackError::RateLimited(wait) => SendError::Wait(wait),
                other => SendError::Transient(other.describe()),
            },
        }
    }
}

struct Due {
    id: String,
    notice: String,
    attempts: u32,
}

/// Sends the target's notifications in the order they were written, until one fails or the
/// oldest is not due yet (a rate limit or a backoff holds back the ones after it too, so the
/// wait is honoured and the channel reads in order). Returns when the next one is due.
async fn send_due(ctx: &Ctx, target: &TargetRow) -> Result<Option<i64>> {
    let now = ctx.hub.now_ms();
    let due: Vec<Due> = {
        let conn = ctx.store.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, notice, attempts, next_attempt_at FROM notify_outbox
             WHERE provider = ?1 AND status = 'pending'
             ORDER BY rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![target.provider, SEND_BATCH], |r| {
            Ok((
                Due {
                    id: r.get(0)?,
                    notice: r.get(1)?,
                    attempts: r.get(2)?,
                },
                r.get::<_, i64>(3)?,
            ))
        })?;
        let rows: Vec<(Due, i64)> = rows.collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .take_while(|(_, at)| *at <= now)
            .map(|(d, _)| d)
            .collect()
    };
    if due.is_empty() {
        return next_due(&ctx.store, &target.provider);
    }
    let mut sender = match Sender::open(ctx, target).await {
        Ok(sender) => sender,
        Err(err) => {
            record_failure(ctx, target, &due[0], err)?;
            return next_due(&ctx.store, &target.provider);
        }
    };
    for item in &due {
        let Ok(notice) = serde_json::from_str::<Notice>(&item.notice) else {
            fail_row(ctx, &item.id, "This notification could not be read.")?;
            continue;
        };
        match sender.send(&notice).await {
            Ok(posted) => {
                let sent_at = ctx.hub.now_ms();
                ctx.store.write(|tx| {
                    tx.execute(
                        "UPDATE notify_outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                             last_error = NULL, slack_channel = ?3, slack_ts = ?4 WHERE id = ?1",
                        params![
                            item.id,
                            sent_at,
                            posted.as_ref().map(|p| &p.channel),
                            posted.as_ref().map(|p| &p.ts)
                        ],
                    )?;
                    Ok(())
                })?;
                ctx.hub.changed(&target.provider);
            }
            Err(err) => {
                record_failure(ctx, target, item, err)?;
                break;
            }
        }
    }
    next_due(&ctx.store, &target.provider)
}

/// When the oldest waiting notification is due (the ones after it wait for it).
fn next_due(store: &Store, provider: &str) -> Result<Option<i64>> {
    Ok(store
        .conn()
        .query_row(
            "SELECT next_attempt_at FROM notify_outbox WHERE provider = ?1 AND status = 'pending'
             ORDER BY rowid LIMIT 1",
            [provider],
            |r| r.get(0),
        )
        .optional()?)
}

fn fail_row(ctx: &Ctx, id: &str, message: &str) -> Result<()> {
    ctx.store.write(|tx| {
        tx.execute(
            "UPDATE notify_outbox SET status = 'failed', last_error = ?2 WHERE id = ?1",
            params![id, message],
        )?;
        Ok(())
    })
}

fn record_failure(ctx: &Ctx, target: &TargetRow, item: &Due, err: SendError) -> Result<()> {
    let now = ctx.hub.now_ms();
    let attempts = item.attempts + 1;
    let pause = |message: &str| {
        ctx.store.write(|tx| {
            tx.execute(
                "UPDATE notify_outbox SET status = 'failed', attempts = ?2, last_error = ?3 WHERE id = ?1",
                params![item.id, attempts, message],
            )?;
            tx.execute(
                "UPDATE notify_target SET last_error = ?2, last_error_at = ?3 WHERE provider = ?1",
                params![target.provider, message, now],
            )?;
            Ok(())
        })
    };
    match err {
        SendError::Wait(wait) => {
            tracing::info!(provider = %target.provider, secs = wait.as_secs(), "rate limited; waiting");
            let at = now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
            ctx.store.write(|tx| {
                tx.execute(
                    "UPDATE notify_outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                    params![
                        item.id,
                        at,
                        format!("Rate limited: waiting {} s.", wait.as_secs())
                    ],
                )?;
                Ok(())
            })?;
        }
        SendError::User(message) => {
            tracing::warn!(provider = %target.provider, "notification refused: {message}");
            pause(&message)?;
        }
        SendError::Transient(why) if attempts >= ctx.config.max_attempts => {
            let name =
                crate::catalog::get(&target.provider).map_or("The service", |i| i.name.as_str());
            pause(&format!(
                "{name} could not be reached after {attempts} tries ({why}). Check the connection, then press Retry."
            ))?;
        }
        SendError::Transient(why) => {
            let delay = ExponentialBuilder::default()
                .with_min_delay(ctx.config.retry_min_delay)
                .with_max_delay(ctx.config.retry_max_delay)
                .with_jitter()
                .without_max_times()
                .build()
                .nth(usize::try_from(item.attempts).unwrap_or(usize::MAX))
                .unwrap_or(ctx.config.retry_max_delay);
            let at = now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
            ctx.store.write(|tx| {
                tx.execute(
                    "UPDATE notify_outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?1",
                    params![item.id, attempts, at, why],
                )?;
                Ok(())
            })?;
        }
    }
    ctx.hub.changed(&target.provider);
    Ok(())
}

/// Where and how one target's notifications go.
enum Sender {
    Slack {
        ctx: Box<SlackContext>,
        channel: String,
    },
    Webhook {
        http: reqwest::Client,
        url: Secret,
        provider: String,
    },
}

impl Sender {
    async fn open(ctx: &Ctx, target: &TargetRow) -> Result<Self, SendError> {
        let user = |e: Error| SendError::User(e.to_string());
        if target.provider == SLACK {
            let (Some(connection_id), Some(channel)) = (&target.connection_id, &target.channel_id)
            else {
                return Err(SendError::User(
                    "No Slack channel is chosen. Open Configure and pick one.".into(),
                ));
            };
            let slack = SlackContext::load(&ctx.oauth, connection_id, ctx.config.request_timeout)
                .await
                .map_err(|e| match e {
                    Error::Conflict(_) | Error::NotFound(_) | Error::InvalidInput(_) => user(e),
                    other => SendError::Transient(other.to_string()),
                })?;
            return Ok(Sender::Slack {
                ctx: Box::new(slack),
                channel: channel.clone(),
            });
        }
        let Some(account) = &target.webhook_ref else {
            return Err(SendError::User(
                "No webhook URL is saved. Open Configure and paste it again.".into(),
            ));
        };
        let key = VaultKey::from_account(account).map_err(user)?;
        let url = crate::oauth::blocking(&ctx.vault, move |v| v.get(&key))
            .await
            .map_err(|e| SendError::Transient(e.to_string()))?
            .ok_or_else(|| {
                SendError::User(
                    "The webhook URL is missing from the keychain. Open Configure and paste it again."
                        .into(),
                )
            })?;
        let http = ctx
            .oauth
            .providers()
            .and_then(|p| p.http_client(ctx.config.request_timeout))
            .map_err(user)?;
        Ok(Sender::Webhook {
            http,
            url,
            provider: target.provider.clone(),
        })
    }

    async fn send(&mut self, notice: &Notice) -> Result<Option<slack::Posted>, SendError> {
        match self {
            Sender::Slack { ctx, channel } => Ok(Some(
                ctx.api().post(channel, format::slack(notice), None).await?,
            )),
            Sender::Webhook {
                http,
                url,
                provider,
            } => {
                let body = if provider == TEAMS {
                    format::teams(notice)
                } else {
                    format::discord(notice)
                };
                post_webhook(http, url, provider, &body).await?;
                Ok(None)
            }
        }
    }
}

/// POSTs to a Teams or Discord incoming webhook and reads its answer as those services mean it.
async fn post_webhook(
    http: &reqwest::Client,
    url: &Secret,
    provider: &str,
    body: &Value,
) -> Result<(), SendError> {
    let name = if provider == DISCORD {
        "Discord"
    } else {
        "Teams"
    };
    let resp = http
        .post(url.expose())
        .json(body)
        .send()
        .await
        .map_err(|e| SendError::Transient(slack::short_error(&e)))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let header_wait = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok());
    let text = resp.text().await.unwrap_or_default();
    match status.as_u16() {
        429 => {
            // Discord puts the wait (seconds, fractional) in the body too.
            let body_wait = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["retry_after"].as_f64());
            let secs = header_wait.or(body_wait).unwrap_or(30.0).clamp(0.05, 3600.0);
            Err(SendError::Wait(Duration::from_secs_f64(secs)))
        }
        401 | 403 | 404 | 410 => Err(SendError::User(format!(
            "{name} says this webhook no longer exists or is not allowed (HTTP {}). Create a new webhook in {name}, then paste its URL in Configure.",
            status.as_u16()
        ))),
        400..=499 => Err(SendError::User(format!(
            "{name} refused the notification (HTTP {}). Press Retry; if it happens again, paste a new webhook URL in Configure.",
            status.as_u16()
        ))),
        _ => Err(SendError::Transient(format!("{name} answered HTTP {}", status.as_u16()))),
    }
}
