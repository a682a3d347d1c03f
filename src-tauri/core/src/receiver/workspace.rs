//! The receiver inside the workspace: started by an Owner or Admin, verifying with every
//! endpoint's secrets, and "Send test events here" — an endpoint pointing at it (created once,
//! then reused) and a signed test event, so a first delivery is verified in one click. Also the
//! verify tool for a pasted header, body and secret. That endpoint receives test events only
//! (never subscribed to real ones) and is turned off when the receiver stops.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use specta::Type;

use super::{
    start, CandidatesFn, Hub, ReceiverConfig, ReceiverStatus, ResponseSpec, Retention, Running,
    VerifyWith, TOLERANCE_SECS,
};
use crate::audit::{self, Area};
use crate::clock::unix_ms;
use crate::error::{Error, Result};
use crate::outbox;
use crate::secret::Secret;
use crate::service::{Slot, Started};
use crate::store::Store;
use crate::sync::lock;
use crate::webhooks::deliveries::Deliveries;
use crate::webhooks::endpoints::{EndpointInput, Endpoints, Policy, SecretState};
use crate::webhooks::secrets::SigningSecrets;
use crate::webhooks::verify::{diagnose, Candidate, CandidateState, Verdict};
use crate::webhooks::EventType;
use crate::workspace::Actor;

/// What the receiver checks signatures with, as the start form offers it.
#[derive(Debug, Clone, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VerifyChoice {
    /// Every endpoint's current, previous and retired secrets.
    Endpoints,
    /// One secret the user pasted.
    Secret {
        secret: String,
    },
    Nothing,
}

/// The receiver's start form.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct ReceiverStart {
    /// 0 picks any free port.
    pub port: u16,
    pub verify: VerifyChoice,
    #[serde(default)]
    pub response: ResponseSpec,
    #[serde(default)]
    pub forward_to: Option<String>,
    /// Record credential headers as sent instead of masked.
    #[serde(default)]
    pub keep_credentials: bool,
}

/// What "Send test events here" did.
#[derive(Debug, Clone, Serialize, Type)]
pub struct SentHere {
    pub endpoint_id: String,
    /// A new endpoint was made for the receiver (else an earlier one was reused).
    pub created: bool,
    pub event_type: EventType,
    pub delivery_id: String,
}

/// The verify tool's form.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct VerifyInput {
    pub header: Option<String>,
    pub body: String,
    /// Empty: every endpoint's secrets.
    pub secret: Option<String>,
}

/// The description that marks the endpoint "Send test events here" made.
const RECEIVER_ENDPOINT: &str = "Pitchbar Admin's local receiver";

/// The local receiver in the workspace: its slot, and what it checks signatures with.
pub struct Receiver<'a> {
    pub(crate) store: &'a Arc<Store>,
    pub(crate) hub: &'a Arc<Hub>,
    pub(crate) slot: &'a Slot<Running>,
    pub(crate) endpoints: Endpoints<'a>,
    pub(crate) deliveries: Deliveries<'a>,
    pub(crate) candidates: CandidateSource,
}

/// Where every endpoint's secrets are read from, for verifying.
pub struct CandidateSource {
    pub(crate) store: Arc<Store>,
    pub(crate) outbox: Arc<outbox::Hub>,
    pub(crate) secrets: Arc<SigningSecrets>,
}

impl Receiver<'_> {
    /// Starts the local webhook receiver on 127.0.0.1 (inside a tokio runtime) and returns
    /// where it listens. Refused while it runs: stop it first to change its port or secrets
    /// (the answer and forwarding change while it runs).
    pub fn start(&self, config: ReceiverConfig) -> Result<SocketAddr> {
        let run = || start(self.store.clone(), self.hub.clone(), config);
        match self.slot.start(run, Running::addr)? {
            Started::Now(addr) => Ok(addr),
            Started::Already(addr) => Err(Error::Conflict(format!(
                "The receiver already listens on {addr}. Stop it first to start it with other settings."
            ))),
        }
    }

    /// Stops the receiver: the port is free and every answered request is written when this
    /// returns. The endpoint "Send test events here" made is turned off with it.
    pub async fn stop(&self) {
        self.slot.stop().await;
        if let Err(err) = self.endpoints.deactivate_test_only() {
            tracing::warn!(error = %err, "the receiver's test endpoint could not be turned off");
        }
    }

    pub fn status(&self) -> ReceiverStatus {
        self.slot.with(|running| {
            running.map_or(
                ReceiverStatus {
                    running: false,
                    addr: None,
                    response: None,
                    forward_to: None,
                    verify: None,
                    keep_credentials: None,
                },
                Running::status,
            )
        })
    }

    /// Changes how the running receiver answers the next requests.
    pub fn set_response(&self, spec: ResponseSpec) -> Result<()> {
        self.with_running(|r| r.set_response(spec))
    }

    /// Starts, changes or (with `None`) ends the running receiver's forwarding.
    pub fn set_forward(&self, forward_to: Option<String>) -> Result<()> {
        self.with_running(|r| r.set_forward(forward_to))
    }

    fn with_running(&self, f: impl FnOnce(&Running) -> Result<()>) -> Result<()> {
        self.slot.with(|running| match running {
            Some(running) => f(running),
            None => Err(Error::Conflict(
                "The receiver is not running. Start it, then change its answer.".into(),
            )),
        })
    }

    pub fn start_as(&self, actor: &Actor, start: ReceiverStart) -> Result<SocketAddr> {
        actor.require_manage()?;
        let verify_with = match start.verify {
            VerifyChoice::Nothing => VerifyWith::Nothing,
            VerifyChoice::Endpoints => VerifyWith::Candidates(self.endpoint_candidates()),
            VerifyChoice::Secret { secret } => VerifyWith::Secret(pasted_secret(&secret)?),
        };
        let verifying = match &verify_with {
            VerifyWith::Nothing => "verifying nothing",
            VerifyWith::Candidates(_) => "verifying with the endpoints' secrets",
            VerifyWith::Secret(_) => "verifying with a pasted secret",
        };
        let forward_to = start.forward_to.filter(|u| !u.trim().is_empty());
        let summary = format!(
            "Started the receiver, {verifying}; it {}{}{}.",
            start.response.describe(),
            forward_to
                .as_deref()
                .map(|u| format!("; forwarding to {}", audit::url_label(u)))
                .unwrap_or_default(),
            if start.keep_credentials {
                "; credential headers kept unmasked"
            } else {
                ""
            }
        );
        let addr = self.start(ReceiverConfig {
            port: start.port,
            verify_with,
            response: start.response,
            forward_to,
            keep_credentials: start.keep_credentials,
            limits: Default::default(),
        })?;
        audit::record_now(
            self.store,
            actor,
            Area::Receiver,
            "receiver.started",
            &format!("Receiver on {addr}"),
            summary,
        )?;
        Ok(addr)
    }

    /// [`Receiver::stop`] by a person: Owners and Admins only.
    pub async fn stop_as(&self, actor: &Actor) -> Result<()> {
        actor.require_manage()?;
        let running = self.status().addr;
        self.stop().await;
        match running {
            Some(addr) => audit::record_now(
                self.store,
                actor,
                Area::Receiver,
                "receiver.stopped",
                &format!("Receiver on {addr}"),
                "Stopped the receiver; its test endpoint was turned off.",
            ),
            None => Ok(()),
        }
    }

    /// [`Receiver::set_response`] by a person: Owners and Admins only.
    pub fn set_response_as(&self, actor: &Actor, spec: ResponseSpec) -> Result<()> {
        actor.require_manage()?;
        let summary = format!("The receiver now {}.", spec.describe());
        self.set_response(spec)?;
        audit::record_now(
            self.store,
            actor,
            Area::Receiver,
            "receiver.response_changed",
            "Receiver",
            summary,
        )
    }

    /// [`Receiver::set_forward`] by a person: Owners and Admins only.
    pub fn set_forward_as(&self, actor: &Actor, forward_to: Option<String>) -> Result<()> {
        actor.require_manage()?;
        let summary = match forward_to.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => format!("The receiver now forwards to {}.", audit::url_label(url)),
            None => "The receiver stopped forwarding.".into(),
        };
        self.set_forward(forward_to)?;
        audit::record_now(
            self.store,
            actor,
            Area::Receiver,
            "receiver.forward_changed",
            "Receiver",
            summary,
        )
    }

    /// What the log keeps.
    pub fn retention(&self) -> Result<Retention> {
        Retention::load(self.store)
    }

    /// Changes what the log keeps, pruning it at once (running or not); returns how many
    /// requests were deleted.
    pub fn set_retention(&self, actor: &Actor, retention: Retention) -> Result<u64> {
        actor.require_manage()?;
        let retention = retention.check()?;
        let deleted = retention.save(self.store)?;
        audit::record_now(
            self.store,
            actor,
            Area::Receiver,
            "receiver.retention_changed",
            "Receiver log",
            format!(
                "The receiver's log now keeps the newest {} requests, {} MB at most ({deleted} deleted to fit).",
                retention.max_requests, retention.max_megabytes
            ),
        )?;
        self.hub.set_retention(retention);
        if deleted > 0 {
            self.hub.notify(Vec::new());
        }
        Ok(deleted)
    }

    /// Points an endpoint at the running receiver (reusing the one made before) and sends it a
    /// signed `lead.captured` test event.
    pub fn send_test_events_here(&self, actor: &Actor) -> Result<SentHere> {
        actor.require_manage()?;
        let Some(addr) = self.status().addr else {
            return Err(Error::Conflict(
                "The receiver is not running. Start it, then send test events to it.".into(),
            ));
        };
        let url = format!("http://{addr}/webhooks");
        let endpoints = &self.endpoints;
        // Only an endpoint made here is reused: one the user made for this URL stays theirs.
        let existing = endpoints
            .list()?
            .into_iter()
            .find(|e| e.url == url && e.test_only);
        let (endpoint_id, created) = match existing {
            Some(e) if e.active => (e.id, false),
            Some(e) => {
                // Turned off when the receiver stopped (or by a 410 it was told to answer): on
                // again.
                let input = EndpointInput {
                    url: e.url,
                    description: e.description,
                    events: e.events.iter().map(|t| t.as_str().to_owned()).collect(),
                    active: true,
                    policy: e.policy,
                    max_attempts: Some(e.max_attempts),
                    timeout_ms: Some(e.timeout_ms),
                    standard_webhooks: e.standard_webhooks,
                };
                (endpoints.update(actor, &e.id, input)?.id, false)
            }
            None => {
                let input = EndpointInput {
                    url,
                    description: RECEIVER_ENDPOINT.into(),
                    events: EventType::ALL.map(|t| t.as_str().to_owned()).to_vec(),
                    active: true,
                    policy: Policy::Single,
                    max_attempts: None,
                    timeout_ms: None,
                    standard_webhooks: false,
                };
                let id = endpoints.create(actor, input)?.id;
                endpoints.set_test_only(&id)?;
                (id, true)
            }
        };
        let event_type = EventType::LeadCaptured;
        let delivery_id = self
            .deliveries
            .send_test(actor, &endpoint_id, event_type, None)?;
        Ok(SentHere {
            endpoint_id,
            created,
            event_type,
            delivery_id,
        })
    }

    /// The verify tool: a pasted header and body against a pasted secret, or against every
    /// endpoint's secrets. Nothing is recorded, so a repeat is not called a replay.
    pub fn verify_pasted(&self, input: &VerifyInput) -> Result<Verdict> {
        let candidates = match input.secret.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => vec![Candidate {
                label: "the secret you entered".into(),
                secret: pasted_secret(s)?,
                state: CandidateState::Current,
            }],
            _ => Arc::unwrap_or_clone((self.endpoint_candidates())()?),
        };
        Ok(diagnose(
            input
                .header
                .as_deref()
                .map(str::trim)
                .filter(|h| !h.is_empty()),
            input.body.as_bytes(),
            &candidates,
            time::OffsetDateTime::now_utc().unix_timestamp(),
            TOLERANCE_SECS,
            false,
        ))
    }

    /// Every endpoint's secrets (current, previous, retired) as verification candidates,
    /// labelled with the endpoint's URL. Kept until an endpoint or secret changes (the hub's
    /// generation) or a previous secret's overlap ends, so each request costs one lock.
    pub fn endpoint_candidates(&self) -> CandidatesFn {
        let CandidateSource {
            store,
            outbox: hub,
            secrets,
        } = &self.candidates;
        let (store, hub, secrets) = (store.clone(), hub.clone(), secrets.clone());
        type Cached = (u64, i64, Arc<Vec<Candidate>>);
        let cache: Mutex<Option<Cached>> = Mutex::new(None);
        Arc::new(move || {
            let (generation, now) = (hub.generation(), unix_ms());
            if let Some((g, until, list)) = &*lock(&cache) {
                if *g == generation && now < *until {
                    return Ok(list.clone());
                }
            }
            let endpoints = Endpoints {
                store: &store,
                hub: &hub,
                secrets: &secrets,
            };
            let mut until = i64::MAX;
            let list: Vec<Candidate> = endpoints
                .known_secrets()?
                .into_iter()
                .map(|k| {
                    if let SecretState::Previous { expires_at_ms } = k.state {
                        until = until.min(expires_at_ms);
                    }
                    Candidate {
                        label: k.endpoint_url,
                        secret: k.secret,
                        state: k.state,
                    }
                })
                .collect();
            let list = Arc::new(list);
            *lock(&cache) = Some((generation, until, list.clone()));
            Ok(list)
        })
    }
}

fn pasted_secret(secret: &str) -> Result<Secret> {
    let secret = secret.trim();
    if !secret.starts_with("whsec_") || secret.len() < 12 {
        return Err(Error::invalid(
            "That is not a signing secret: copy the endpoint's secret (it starts with whsec_) from its card.",
        ));
    }
    Ok(Secret::new(secret.to_owned()))
}
