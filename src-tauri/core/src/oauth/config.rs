//! How OAuth is set up: the clock it reads, where the providers file is, time limits and
//! revocation retry delays, and the deep-link callback the app's scheme receives.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::providers::{self, PROVIDERS_FILE_ENV};

/// Where deep-link providers send the browser back: the app's registered scheme.
pub const DEEP_LINK_CALLBACK: &str = "pitchbar://oauth/callback";

pub use crate::clock::Clock;

/// How OAuth behaves; [`OAuthConfig::new`] gives the app's settings.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The providers file; it need not exist unless it was named by [`PROVIDERS_FILE_ENV`].
    pub providers_file: PathBuf,
    /// Whether the providers file was named explicitly (then a missing file is an error).
    pub providers_file_required: bool,
    /// How long a started sign-in may take (the `state` and the loopback listener live this long).
    pub authorization_ttl: Duration,
    pub clock: Clock,
    /// Revocation retries: first and longest delay (exponential with jitter in between).
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// Timeout of every request to a provider.
    pub request_timeout: Duration,
}

impl OAuthConfig {
    /// The app's settings: the providers file named by `PITCHBAR_PROVIDERS_FILE`, else
    /// `<data dir>/providers.json` if present; sign-ins expire after 10 minutes.
    pub fn new(data_dir: &Path) -> Self {
        let named = std::env::var_os(PROVIDERS_FILE_ENV).filter(|p| !p.is_empty());
        Self {
            providers_file_required: named.is_some(),
            providers_file: named
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join(providers::DEFAULT_FILE_NAME)),
            authorization_ttl: Duration::from_secs(10 * 60),
            clock: Clock::system(),
            retry_min_delay: Duration::from_secs(5),
            retry_max_delay: Duration::from_secs(60 * 60),
            request_timeout: Duration::from_secs(20),
        }
    }

    /// The same, with an explicit providers file that must exist.
    pub fn with_providers_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.providers_file = path.into();
        self.providers_file_required = true;
        self
    }
}
