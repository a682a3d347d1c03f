//! What the dispatcher is tuned with.

use std::time::Duration;

use crate::clock::Clock;
use crate::net::CaCertificate;

/// What the dispatcher is tuned with. The defaults suit the app; tests shorten the backoff.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Attempts in flight at once, over all endpoints.
    pub concurrency: usize,
    /// Attempts in flight at once to one endpoint.
    pub per_endpoint_concurrency: usize,
    /// The first retry's delay; each next one doubles, plus jitter of up to the delay itself.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this is cut to it, so one answer cannot park a delivery for days.
    pub retry_after_max: Duration,
    /// Log records written per transaction at most.
    pub log_batch: usize,
    /// Extra CA certificates to trust: corporate TLS, test CAs.
    pub extra_cas: Vec<CaCertificate>,
    /// What time attempts are made at, retries fall due and an endpoint has been failing for:
    /// tests move it forward rather than wait days.
    pub clock: Clock,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            concurrency: 128,
            per_endpoint_concurrency: 32,
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(15 * 60),
            retry_after_max: Duration::from_secs(3600),
            log_batch: 2048,
            extra_cas: Vec::new(),
            clock: Clock::system(),
        }
    }
}
