//! A sign-in in progress as the hub keeps it (PKCE verifier, hashed `state`, redirect, expiry),
//! and the handle that stops its loopback listener. Here rather than in flow.rs and loopback.rs,
//! which use the hub: the hub holds these, so they sit below it.

use oauth2::PkceCodeVerifier;

use crate::audit::By;
use tokio::sync::oneshot;

/// A sign-in in progress, in memory (a deep-link one is also kept in the keychain, see
/// `kept.rs`, so that a link that starts the app can end it).
pub(super) struct Pending {
    pub(super) provider_id: String,
    /// SHA-256 of the `state`: the value itself is not kept once the link is made.
    pub(super) state_hash: [u8; 32],
    /// Taken by the first callback that names this sign-in's state: a state works once.
    pub(super) verifier: Option<PkceCodeVerifier>,
    pub(super) redirect_uri: String,
    /// Who started it: the connection is theirs, and the audit trail names them.
    pub(super) by: By,
    pub(super) expires_at_ms: i64,
    pub(super) listener: Option<Stop>,
}

impl Pending {
    /// Everything but the verifier and the listener, which are not copied.
    pub(super) fn copy(&self) -> Pending {
        Pending {
            provider_id: self.provider_id.clone(),
            state_hash: self.state_hash,
            verifier: None,
            redirect_uri: self.redirect_uri.clone(),
            by: self.by.clone(),
            expires_at_ms: self.expires_at_ms,
            listener: None,
        }
    }
}

/// Stops a listener; dropping it does too.
pub(super) struct Stop(pub(super) Option<oneshot::Sender<()>>);

impl Stop {
    pub(super) fn stop(mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}
