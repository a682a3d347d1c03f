//! What OAuth tells the window: a sign-in as shown, how it ended, and the events announced.

use serde::Serialize;
use specta::Type;

use crate::catalog::RedirectStyle;
use crate::connections::Connection;
use crate::error::Error;

/// A sign-in in progress, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Authorization {
    pub id: String,
    pub provider: String,
    /// The link to open in the system browser (shown too, for opening by hand).
    pub url: String,
    pub redirect_style: RedirectStyle,
    /// RFC 3339; after it the sign-in must be started again.
    pub expires_at: String,
}

/// How a sign-in ended.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Connected {
        connection: Connection,
    },
    /// Declined, refused by the provider, expired or cancelled: the message says which.
    Failed {
        error: Error,
    },
}

/// What OAuth announces; the shell forwards each as a window event.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OAuthEvent {
    /// A sign-in ended (either redirect style): the connect dialog shows the outcome.
    Finished {
        authorization_id: String,
        outcome: Outcome,
    },
    /// Something the person should know that belongs to no dialog: a callback link that
    /// matched no sign-in (ignored), secrets moved out of the providers file, a sign-in
    /// completed by a link that started the app.
    Notice { message: String },
    /// A connection's status or label changed (refresh failure, revocation done): refetch
    /// the Connected tab.
    ConnectionsChanged,
}
