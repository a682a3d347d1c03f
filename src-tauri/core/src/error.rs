//! The core's one error type. What crosses to the UI is `{ "code": …, "message": … }`.

use serde::Serialize;
use specta::Type;

/// Every error the core returns. The code tells the UI what it can do about it; the message
/// tells a person what was wrong and what to do. Messages never carry SQL, paths or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Type)]
#[serde(tag = "code", content = "message", rename_all = "snake_case")]
pub enum Error {
    /// The active member lacks the permission the change needs.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidInput(String),
    /// The change clashes with what exists (a duplicate email, the last Owner, a second setup).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be used as it is: unreadable, damaged, or from a newer version.
    #[error("{0}")]
    Storage(String),
    /// No OS keychain can be used (none running, locked and not unlocked, access refused). The
    /// window says so plainly and refuses: secrets are never kept anywhere else instead.
    #[error("{0}")]
    Keychain(String),
    /// A provider (OAuth, an integration's API) refused or could not be reached; the message
    /// names it and says whether to retry or reconnect.
    #[error("{0}")]
    Upstream(String),
    /// Anything else; the details went to the log.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        tracing::error!(error = %err, "database error");
        match err.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked) => Self::Internal(
                "The local database is busy (another Pitchbar Admin may be using it). Try again in a moment.".into(),
            ),
            Some(DiskFull) => Self::Storage(
                "The disk is full, so the change could not be saved. Free some space and try again.".into(),
            ),
            Some(ReadOnly | CannotOpen | PermissionDenied) => Self::Storage(
                "The local database cannot be written. Check that its folder is writable, then restart the app.".into(),
            ),
            Some(NotADatabase | DatabaseCorrupt) => Self::Storage(
                "The local database is damaged or is not a Pitchbar Admin database.".into(),
            ),
            _ => Self::Internal(
                "Something went wrong in the local database. The change was not saved; try again.".into(),
            ),
        }
    }
}
