//! Outbound HTTP for every caller (webhook deliveries, receiver forwarding, OAuth, Slack, Teams,
//! Discord, knowledge sources): the one client builder, the extra trusted CA certificates under
//! one policy, what a failed request was (`classify`), capped body reads and `Retry-After`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, Result};

/// The `User-Agent` of calls to providers (OAuth, notifications, knowledge sources).
pub const USER_AGENT: &str = concat!("PitchbarAdmin/", env!("CARGO_PKG_VERSION"));

/// Response bodies are kept up to this many bytes; the rest is cut and the caller says so.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// The largest CA certificate file read (a bundle of every public CA is about 200 KiB).
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// An extra CA certificate to trust (corporate TLS, a test CA), checked when it is read: a file
/// that is not a PEM certificate is refused naming the file, for every caller alike.
#[derive(Clone)]
pub struct CaCertificate {
    name: String,
    certs: Vec<reqwest::Certificate>,
    ders: Vec<rustls_pki_types::CertificateDer<'static>>,
}

impl std::fmt::Debug for CaCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaCertificate")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CaCertificate {
    /// Reads the PEM file at `path`; the error names it.
    /// Read up to [`MAX_CA_FILE_BYTES`]: a path naming a device (`/dev/zero`) or a huge file is
    /// refused instead of read forever.
    pub fn read(path: &Path) -> Result<Self> {
        use std::io::Read as _;
        let cannot = |err: &dyn std::fmt::Display| {
            Error::invalid(format!(
                "The CA certificate {} cannot be read ({err}).",
                path.display()
            ))
        };
        let mut pem = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
            .map_err(|err| cannot(&err))?;
        if pem.len() as u64 > MAX_CA_FILE_BYTES {
            return Err(cannot(
                &"it is larger than 1 MiB, more than any certificate bundle",
            ));
        }
        Self::from_pem(&path.display().to_string(), &pem)
    }

    /// A certificate (or bundle) in PEM, `name` saying where it came from in errors.
    pub fn from_pem(name: &str, pem: &[u8]) -> Result<Self> {
        use rustls_pki_types::pem::PemObject;
        let not_pem = || {
            Error::invalid(format!(
                "{name} is not a PEM certificate (-----BEGIN CERTIFICATE-----)."
            ))
        };
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| not_pem())?;
        let ders: Vec<_> = rustls_pki_types::CertificateDer::pem_slice_iter(pem)
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| not_pem())?;
        if certs.is_empty() || ders.is_empty() {
            return Err(not_pem());
        }
        Ok(Self {
            name: name.to_owned(),
            certs,
            ders,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a client is for; every outbound client is built from one of these.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// Named in the log if the client cannot be built.
    pub purpose: &'static str,
    pub user_agent: &'static str,
    /// The whole request's limit; `None` leaves it to each request (deliveries set their own).
    pub timeout: Option<Duration>,
    /// Redirects are never followed unless a caller asks: a redirect could carry signed lead
    /// data or our credentials wherever it points.
    pub follow_redirects: bool,
}

impl ClientSpec {
    pub fn new(purpose: &'static str) -> Self {
        Self {
            purpose,
            user_agent: USER_AGENT,
            timeout: None,
            follow_redirects: false,
        }
    }

    pub fn user_agent(mut self, user_agent: &'static str) -> Self {
        self.user_agent = user_agent;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// rustls, explicit timeouts, no redirects, and the extra CAs trusted beside the system's
    /// own roots (they add to them, never replace them).
    pub fn build(&self, extra_cas: &[CaCertificate]) -> Result<reqwest::Client> {
        install_crypto();
        let mut builder = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .redirect(if self.follow_redirects {
                reqwest::redirect::Policy::limited(5)
            } else {
                reqwest::redirect::Policy::none()
            })
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true);
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        for ca in extra_cas {
            builder = builder.tls_certs_merge(ca.certs.iter().cloned());
        }
        builder.build().map_err(|err| {
            tracing::error!(error = %err, purpose = self.purpose, "cannot build an HTTP client");
            Error::Internal(format!(
                "The HTTP client for {} could not start.",
                self.purpose
            ))
        })
    }
}

/// TLS settings for connections reqwest does not make (Slack's Socket Mode WebSocket), under
/// the same policy: the system's roots plus the extra CAs.
pub fn rustls_config(extra_cas: &[CaCertificate]) -> Result<Arc<rustls::ClientConfig>> {
    install_crypto();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    for ca in extra_cas {
        for der in &ca.ders {
            roots.add(der.clone()).map_err(|_| {
                Error::invalid(format!(
                    "{} holds a certificate TLS cannot use as a trusted CA.",
                    ca.name
                ))
            })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|_| Error::Internal("TLS could not be set up.".into()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

fn install_crypto() {
    // Whoever installed a provider first wins; ring is ours when no one did.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Header pairs as a map; a pair that is not a valid header is left out.
pub fn header_map(headers: &[(&str, String)]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.insert(n, v);
        }
    }
    map
}

/// Up to [`MAX_RESPONSE_BODY`] bytes of the answer, whether more was cut, and why reading
/// stopped early if it failed.
pub async fn read_capped(resp: &mut reqwest::Response) -> (Vec<u8>, bool, Option<String>) {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BODY - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    return (body, true, None);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return (body, false, None),
            Err(err) => {
                let message = format!(
                    "Reading the response body failed: {}",
                    describe(&err.without_url())
                );
                return (body, false, Some(message));
            }
        }
    }
}

/// The answer's `Retry-After`, if it has a valid one.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// `Retry-After`: delay-seconds or an HTTP-date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// What went wrong with a request that got no answer: a class for the log (`timeout`,
/// `connection_refused`, `tls`, `dns`, `other`) and a sentence with the cause. The request's
/// URL is left out: it may carry a token (HubSpot's revocation, a Discord webhook, a query's
/// API secret), and the sentence lands in logs and on screens.
pub fn classify(err: reqwest::Error, timeout: Duration) -> (&'static str, String) {
    let err = err.without_url();
    let err = &err;
    if err.is_timeout() {
        return (
            "timeout",
            format!(
                "No answer within the endpoint's {} ms timeout.",
                timeout.as_millis()
            ),
        );
    }
    let chain = describe(err);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return ("connection_refused", format!("The connection was refused: nothing listens at that address and port. ({chain})"));
            }
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            return ("tls", format!("The TLS handshake failed: {chain}"));
        }
        source = e.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        (
            "dns",
            format!("The host name could not be resolved: {chain}"),
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ("tls", format!("The TLS handshake failed: {chain}"))
    } else if lower.contains("connection refused") {
        (
            "connection_refused",
            format!("The connection was refused: {chain}"),
        )
    } else {
        ("other", format!("The request failed: {chain}"))
    }
}

/// An error with its causes, for a log row or a message. A `reqwest::Error` prints its URL:
/// strip it first (`reqwest::Error::without_url`, as [`classify`] does).
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn a_ca_path_naming_an_endless_device_is_refused() {
        let err = super::CaCertificate::read(std::path::Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
    }

    use super::*;

    #[test]
    fn a_file_that_is_not_pem_is_refused_naming_it() {
        let err = CaCertificate::from_pem("corp-ca.pem", b"not a certificate").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("corp-ca.pem"), "{message}");
        assert!(message.contains("is not a PEM certificate"), "{message}");
        let missing = CaCertificate::read(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(missing
            .to_string()
            .contains("/nonexistent/ca.pem cannot be read"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
