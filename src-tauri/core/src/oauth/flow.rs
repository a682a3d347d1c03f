//! The connect flow: begin (PKCE S256, a one-time `state`, the redirect), the callback (deep
//! link or loopback), the code exchange, and saving: keychain first, then the connection row.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::broadcast::error::RecvError;

use super::callback::{self, Callback};
use super::client::{self, Http};
use super::config::DEEP_LINK_CALLBACK;
use super::events::{Authorization, OAuthEvent, Outcome};
use super::hub::{blocking, OAuth};
use super::kept::{Found, Kept};
use super::loopback;
use super::pending::Pending;
use super::tokens::TokenSet;
use crate::audit::By;
use crate::catalog::RedirectStyle;
use crate::clock::rfc3339_ms;
use crate::connections::{self, Connection, ConnectionStatus};
use crate::error::{Error, Result};
use crate::vault::VaultKey;
use crate::workspace::Actor;

fn hash(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

impl OAuth {
    /// Starts connecting `provider_id`: returns the link to open in the system browser. The
    /// sign-in ends through [`OAuth::complete`] (deep links), or by itself for loopback
    /// providers; either way an [`OAuthEvent::Finished`] is announced and [`OAuth::wait`] returns.
    pub async fn begin(&self, actor: &Actor, provider_id: &str) -> Result<Authorization> {
        actor.require_manage()?;
        let (_, provider) = self.provider(provider_id).await?;
        if let Some(c) = connections::latest_for_provider(&self.store, provider_id)? {
            if c.status == ConnectionStatus::Active {
                return Err(Error::Conflict(format!(
                    "{} is already connected{}. Disconnect it first to connect another account.",
                    provider.name,
                    c.account_label
                        .map(|l| format!(" as {l}"))
                        .unwrap_or_default()
                )));
            }
        }
        // Before the browser: a sign-in whose tokens could not be kept would be wasted.
        let probe = VaultKey::connection_tokens(&self.workspace_id()?, "probe")?;
        blocking(&self.vault, move |v| v.get(&probe).map(drop)).await?;

        let id = crate::ids::new_id();
        let (redirect_uri, listener) = match provider.redirect {
            RedirectStyle::DeepLink => (DEEP_LINK_CALLBACK.to_string(), None),
            RedirectStyle::Loopback => {
                let (port, stop) =
                    loopback::start(self.clone(), id.clone(), provider.loopback_port).await?;
                (
                    format!("http://127.0.0.1:{port}/oauth/callback"),
                    Some(stop),
                )
            }
        };
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let state = URL_SAFE_NO_PAD.encode(bytes);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let oauth_client = client::client(&provider, Some(&redirect_uri))?;
        let mut request = oauth_client
            .authorize_url(|| CsrfToken::new(state.clone()))
            .add_scopes(provider.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge);
        for (name, value) in &provider.authorize_params {
            request = request.add_extra_param(name, value);
        }
        let (url, _) = request.url();
        let ttl = self.hub.config.authorization_ttl;
        let expires_at_ms = self
            .hub
            .now_ms()
            .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let state_hash = hash(&state);
        // A deep link may start the app after it was closed: the sign-in is kept in the
        // keychain for its lifetime. A loopback sign-in ends with its listener, so it is not.
        if provider.redirect == RedirectStyle::DeepLink {
            let kept = Kept {
                authorization_id: id.clone(),
                provider_id: provider.id.clone(),
                verifier: verifier.secret().clone(),
                redirect_uri: redirect_uri.clone(),
                member_id: actor.member().id.clone(),
                expires_at_ms,
            };
            self.keep(&state_hash, &kept).await?;
        }
        self.hub.pending().insert(
            id.clone(),
            Pending {
                provider_id: provider.id.clone(),
                state_hash,
                verifier: Some(verifier),
                redirect_uri,
                by: actor.into(),
                expires_at_ms,
                listener,
            },
        );
        // The listener and the memory of this sign-in go when it expires, whoever forgets it.
        let this = self.clone();
        let expiring = id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ttl).await;
            this.end(&expiring, Err(expired()));
        });
        Ok(Authorization {
            id,
            provider: provider.id,
            url: url.to_string(),
            redirect_style: provider.redirect,
            expires_at: rfc3339_ms(expires_at_ms),
        })
    }

    /// Ends a deep-link sign-in with the `pitchbar://oauth/callback?…` URL the OS handed the
    /// app. Anything that is not exactly such a link, for a sign-in in progress, is refused and
    /// nothing is stored.
    ///
    /// A link that belongs to no sign-in (malformed, replayed, unknown, expired) is announced
    /// as an [`OAuthEvent::Notice`] and changes no sign-in in progress; one that belongs to a
    /// sign-in ends it, announced as [`OAuthEvent::Finished`]. A sign-in begun before the app
    /// was closed is found in the keychain.
    pub async fn complete(&self, callback_url: &str) -> Result<Connection> {
        let matched = match callback::parse_deep_link(callback_url) {
            Ok(callback) => self.take(&callback, None).await.map(|t| (t, callback)),
            Err(err) => Err(err),
        };
        let ((id, pending, restored), callback) = match matched {
            Ok(found) => found,
            Err(err) => {
                self.hub.publish(OAuthEvent::Notice {
                    message: format!("A sign-in link was ignored: {err}"),
                });
                return Err(err);
            }
        };
        let provider_id = pending.provider_id.clone();
        let result = self.finish(&id, pending, callback).await;
        if let (true, Ok(_)) = (restored, &result) {
            let name =
                crate::catalog::get(&provider_id).map_or(provider_id.as_str(), |i| i.name.as_str());
            self.hub.publish(OAuthEvent::Notice {
                message: format!("{name} is connected: the sign-in begun before the app was closed was completed."),
            });
        }
        result
    }

    /// The loopback listener's request for sign-in `id`.
    pub(super) async fn complete_loopback(&self, id: &str, query: &str) -> Result<Connection> {
        let callback = callback::parse_query(query)?;
        let (id, pending, _) = self.take(&callback, Some(id)).await?;
        self.finish(&id, pending, callback).await
    }

    /// Sign-ins started and not finished in the browser yet (nor expired).
    pub fn sign_ins_pending(&self) -> usize {
        let now = self.hub.now_ms();
        self.hub
            .pending()
            .values()
            .filter(|p| p.expires_at_ms > now)
            .count()
    }

    /// Abandons a sign-in (the dialog was closed): its link stops working, its listener stops.
    pub fn cancel(&self, authorization_id: &str) -> Result<()> {
        if !self.hub.pending().contains_key(authorization_id) {
            return Err(Error::NotFound("This sign-in has already ended.".into()));
        }
        self.end(
            authorization_id,
            Err(Error::Conflict(
                "The sign-in was cancelled. Nothing was connected.".into(),
            )),
        );
        Ok(())
    }

    /// Waits for sign-in `authorization_id` to end: the connection, or why it failed.
    pub async fn wait(&self, authorization_id: &str) -> Result<Connection> {
        let mut events = {
            let pending = self.hub.pending();
            if let Some((outcome, _)) = self.hub.finished().get(authorization_id) {
                return result_of(outcome.clone());
            }
            if !pending.contains_key(authorization_id) {
                return Err(Error::NotFound("There is no such sign-in.".into()));
            }
            // Subscribed under the lock that `end` takes to record the outcome: none is missed.
            self.hub.subscribe()
        };
        loop {
            match events.recv().await {
                Ok(OAuthEvent::Finished {
                    authorization_id: id,
                    outcome,
                }) if id == authorization_id => return result_of(outcome),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if let Some((outcome, _)) = self.hub.finished().get(authorization_id) {
                        return result_of(outcome.clone());
                    }
                }
                Err(RecvError::Closed) => {
                    return Err(Error::Internal(
                        "OAuth stopped before the sign-in ended.".into(),
                    ))
                }
            }
        }
    }

    /// The sign-in a callback's `state` belongs to, consumed: a replay finds nothing. In memory
    /// first; else one kept from before a restart (deep links only), which is then remembered
    /// as in progress so that it ends like any other. `true` with a restored one.
    async fn take(
        &self,
        callback: &Callback,
        listener_of: Option<&str>,
    ) -> Result<(String, Pending, bool)> {
        let wanted = hash(callback.state());
        let in_memory = {
            let mut pending = self.hub.pending();
            let found = pending
                .iter_mut()
                .find(|(_, p)| bool::from(p.state_hash.ct_eq(&wanted)))
                .filter(|(id, _)| listener_of.is_none_or(|l| l == id.as_str()));
            found.map(|(id, p)| (id.clone(), p.verifier.take(), p.expires_at_ms, p.copy()))
        };
        let (id, verifier, expires_at_ms, mut taken, restored) = match in_memory {
            Some((id, verifier, expires, taken)) => (id, verifier, expires, taken, false),
            None if listener_of.is_some() => return Err(not_in_progress()),
            None => match self.take_kept(&wanted).await? {
                Found::Unknown => return Err(not_in_progress()),
                Found::Expired => return Err(expired()),
                Found::Kept(kept) => {
                    let taken = Pending {
                        provider_id: kept.provider_id,
                        state_hash: wanted,
                        verifier: None,
                        redirect_uri: kept.redirect_uri,
                        by: By::member(&self.store, &kept.member_id)?,
                        expires_at_ms: kept.expires_at_ms,
                        listener: None,
                    };
                    // In progress again, so that `end` records and announces it.
                    self.hub
                        .pending()
                        .insert(kept.authorization_id.clone(), taken.copy());
                    let verifier = PkceCodeVerifier::new(kept.verifier);
                    (
                        kept.authorization_id,
                        Some(verifier),
                        kept.expires_at_ms,
                        taken,
                        true,
                    )
                }
            },
        };
        let Some(verifier) = verifier else {
            return Err(Error::invalid(
                "This sign-in link was used already. Nothing more was connected.",
            ));
        };
        if !restored {
            // Consumed: the kept copy goes too, so a restart cannot make the link work again.
            let this = self.clone();
            let _ = tokio::task::spawn_blocking(move || this.forget_kept(&wanted)).await;
        }
        if self.hub.now_ms() > expires_at_ms {
            self.end(&id, Err(expired()));
            return Err(expired());
        }
        taken.verifier = Some(verifier);
        Ok((id, taken, restored))
    }

    async fn finish(&self, id: &str, pending: Pending, callback: Callback) -> Result<Connection> {
        let result = self.exchange_and_save(pending, callback).await;
        self.end(id, result.clone());
        result
    }

    async fn exchange_and_save(
        &self,
        mut pending: Pending,
        callback: Callback,
    ) -> Result<Connection> {
        let (providers, provider) = self.provider(&pending.provider_id).await?;
        let code = match callback {
            Callback::Code { code, .. } => code,
            Callback::Denied {
                error, description, ..
            } => return Err(denied(&provider.name, &error, description.as_deref())),
        };
        let http = Http(providers.http_client(self.hub.config.request_timeout)?);
        let verifier = pending
            .verifier
            .take()
            .ok_or_else(|| Error::invalid("This sign-in link was used already."))?;
        let resp = client::client(&provider, Some(&pending.redirect_uri))?
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .map_err(|e| client::failure(&provider, "finishing the sign-in", e).error)?;
        let tokens = TokenSet::from_response(&resp, self.hub.now_ms(), None);
        let fields = &resp.extra_fields().fields;
        let label = super::account::account_label(&provider, &http.0, &tokens, fields).await;
        let api_base = super::account::api_base(&provider, &http.0, &tokens, fields).await?;

        let ws = self.workspace_id()?;
        let connection_id = connections::latest_for_provider(&self.store, &provider.id)?
            .map(|c| c.id)
            .unwrap_or_else(crate::ids::new_id);
        let key = VaultKey::connection_tokens(&ws, &connection_id)?;
        let secret = tokens.to_secret();
        let saved_key = key.clone();
        blocking(&self.vault, move |v| v.set(&saved_key, &secret)).await?;
        let now = crate::clock::now_rfc3339();
        let bound = self.store.write(|tx| {
            connections::bind(
                tx,
                &connection_id,
                &provider.id,
                label.as_deref(),
                api_base.as_deref(),
                &pending.by,
                &now,
            )
        });
        if let Err(err) = bound {
            // Nothing half-stored: the tokens go with the row that failed.
            let _ = blocking(&self.vault, move |v| v.delete(&key)).await;
            return Err(err);
        }
        tracing::info!(provider = %provider.id, connection = %connection_id, "connected");
        connections::get(&self.store, &connection_id)
    }

    /// Records how sign-in `id` ended, stops its listener and announces it. Only the first end
    /// of a sign-in counts.
    pub(super) fn end(&self, id: &str, result: Result<Connection>) {
        let outcome = match result {
            Ok(connection) => Outcome::Connected { connection },
            Err(error) => Outcome::Failed { error },
        };
        let now = self.hub.now_ms();
        let forget;
        {
            let mut pending = self.hub.pending();
            let Some(p) = pending.remove(id) else { return };
            if let Some(stop) = p.listener {
                stop.stop();
            }
            forget = p.state_hash;
            let mut finished = self.hub.finished();
            // Outcomes are kept a little while for late `wait` callers, then forgotten.
            finished.retain(|_, (_, at)| now.saturating_sub(*at) < 3_600_000);
            finished.insert(id.to_string(), (outcome.clone(), now));
        }
        // The kept copy (if any) goes with it; off the async workers when on them.
        let this = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(move || this.forget_kept(&forget))),
            Err(_) => this.forget_kept(&forget),
        }
        self.hub.publish(OAuthEvent::Finished {
            authorization_id: id.to_string(),
            outcome,
        });
        self.hub.publish(OAuthEvent::ConnectionsChanged);
    }
}

fn result_of(outcome: Outcome) -> Result<Connection> {
    match outcome {
        Outcome::Connected { connection } => Ok(connection),
        Outcome::Failed { error } => Err(error),
    }
}

fn not_in_progress() -> Error {
    Error::invalid(
        "This sign-in link is not for a sign-in in progress (it was used already, cancelled, or is from another attempt). Nothing was connected; start the connection again.",
    )
}

fn expired() -> Error {
    Error::invalid("This sign-in took too long and has expired. Nothing was connected; start the connection again.")
}

fn denied(name: &str, error: &str, description: Option<&str>) -> Error {
    if error == "access_denied" {
        return Error::Upstream(format!(
            "Access was not granted at {name}, so nothing was connected. Connect again when you're ready."
        ));
    }
    // The provider's words, kept short and printable: they arrived in a URL anyone can craft.
    let clean = |s: &str| {
        s.chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    };
    Error::Upstream(format!(
        "{name} refused the sign-in ({}{}). Nothing was connected; check the integration's settings and try again.",
        clean(error),
        description.map(|d| format!(": {}", clean(d))).unwrap_or_default()
    ))
}
