//! Serving HTTP on 127.0.0.1, as the receiver and the local API both do: the connection cap,
//! the header-read timeout (which also ends idle keep-alive connections), the header size cap,
//! and the two rules that keep web pages out — the `Host` must name this machine's loopback
//! port (DNS rebinding), and a request a browser made for a page is recognised by `Origin` and
//! `Sec-Fetch-Site`.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::header::{HeaderMap, HOST, ORIGIN};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// What one server allows each client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request's headers must arrive whole within this, counted from the first byte awaited:
    /// a connection idle between requests is closed after it too.
    pub header_read: Duration,
    /// Connections open at once; further ones wait in the kernel's queue until one closes.
    pub max_connections: usize,
    /// The request line and headers together, at most (larger: 431).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            max_connections: 256,
            max_header_bytes: 64 * 1024,
        }
    }
}

/// What happens to connections when the server stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnStop {
    /// Cut at once, answers held back included (the receiver: a stop is a stop).
    Cut,
    /// Requests in flight finish, then each connection closes; [`serve`] returns after.
    Finish,
}

/// Whether `Host` names this server as a local client would: `127.0.0.1:<port>` or
/// `localhost:<port>`. A page on another name that resolves to 127.0.0.1 (DNS rebinding)
/// sends its own name, and is refused.
pub fn host_is_local(headers: &HeaderMap, port: u16) -> bool {
    let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    p.parse::<u16>() == Ok(port) && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

/// Why a request looks sent by a web page in a browser (`None` when it does not). Webhook
/// senders, scripts and the CLI send neither header; a browser sends `Origin` with every POST a
/// page makes (even `no-cors`) and `Sec-Fetch-Site` with every request, `none` only when the
/// user typed the address.
pub fn from_web_page(headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        return Some(format!("it carries Origin: {origin}"));
    }
    let site = headers.get("sec-fetch-site")?.to_str().ok()?;
    matches!(site, "cross-site" | "same-site").then(|| format!("it carries Sec-Fetch-Site: {site}"))
}

/// What to tell a client whose `Host` is not this server's.
pub fn host_refusal(headers: &HeaderMap, port: u16) -> String {
    let host = headers
        .get(HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    match host {
        Some(host) => format!(
            "Host “{host}” is not this machine: only Host 127.0.0.1:{port} or localhost:{port} is answered (a web page reaching 127.0.0.1 through another name is refused). Send the request to http://127.0.0.1:{port}/."
        ),
        None => format!(
            "The request has no Host header. Send it to http://127.0.0.1:{port}/ with Host 127.0.0.1:{port}."
        ),
    }
}

/// Connections the kernel completes and queues while every slot is taken.
const BACKLOG: u32 = 1024;

/// Listens on 127.0.0.1:`port` (0: any free port) for `what` ("the receiver", "the local
/// API"), on `runtime`; a port in use or refused says so in the user's terms.
pub(crate) fn listen(
    runtime: &tokio::runtime::Handle,
    port: u16,
    what: &str,
) -> crate::error::Result<TcpListener> {
    use crate::error::Error;
    let _guard = runtime.enter();
    let bound = tokio::net::TcpSocket::new_v4().and_then(|socket| {
        // As std's bind does on Unix: a port just freed can be taken again at once.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind((std::net::Ipv4Addr::LOCALHOST, port).into())?;
        socket.listen(BACKLOG)
    });
    bound.map_err(|err| {
        tracing::warn!(error = %err, port, "cannot listen for {what}");
        if err.kind() == std::io::ErrorKind::AddrInUse {
            Error::Conflict(format!(
                "Port {port} on 127.0.0.1 is used by another program. Choose another port for {what}, or 0 for any free port."
            ))
        } else {
            Error::Internal(format!(
                "{} could not listen on 127.0.0.1:{port}. Choose another port, or 0 for any free port.",
                capitalized(what)
            ))
        }
    })
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Accepts connections on `listener` until `shutdown` turns true, serving each with a service
/// from `make_service`, within `limits`.
pub(crate) async fn serve<S, B, M>(
    listener: TcpListener,
    limits: Limits,
    on_stop: OnStop,
    mut shutdown: watch::Receiver<bool>,
    make_service: M,
) where
    M: Fn() -> S,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_header_size(limits.max_header_bytes);
    let builder = Arc::new(builder);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => tokio::select! {
                    _ = shutdown.changed() => break,
                    accepted = listener.accept() => accepted.map(|(stream, _)| (stream, slot)),
                },
                Err(_) => break,
            },
        };
        let (stream, slot) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: pause rather than spin.
                tracing::warn!(error = %err, "could not accept a connection on 127.0.0.1");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (builder, mut stop, service) = (builder.clone(), shutdown.clone(), make_service());
        tokio::spawn(async move {
            let _slot = slot;
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.changed() => {}
            }
            if on_stop == OnStop::Finish {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        });
    }
    drop(listener);
    if on_stop == OnStop::Finish {
        // Every connection gives its slot back as it ends.
        let _ = slots.acquire_many(limits.max_connections as u32).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (n, v) in pairs {
            map.append(
                hyper::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn only_this_port_on_loopback_names_is_local() {
        for ok in ["127.0.0.1:4788", "localhost:4788", "LocalHost:4788"] {
            assert!(host_is_local(&headers(&[("host", ok)]), 4788), "{ok}");
        }
        for bad in [
            "127.0.0.1:4787",
            "attacker.test:4788",
            "127.0.0.1",
            "localhost",
            "127.0.0.1.attacker.test:4788",
            "[::1]:4788",
            "127.0.0.1:04788x",
        ] {
            assert!(!host_is_local(&headers(&[("host", bad)]), 4788), "{bad}");
        }
        assert!(!host_is_local(&HeaderMap::new(), 4788));
        assert!(host_refusal(&headers(&[("host", "attacker.test:1")]), 1).contains("attacker.test"));
        assert!(host_refusal(&HeaderMap::new(), 1).contains("no Host"));
    }

    #[test]
    fn browsers_are_recognised_by_origin_and_fetch_site() {
        assert!(from_web_page(&headers(&[("origin", "https://example.com")])).is_some());
        assert!(from_web_page(&headers(&[("origin", "null")])).is_some());
        assert!(from_web_page(&headers(&[("sec-fetch-site", "cross-site")])).is_some());
        assert!(from_web_page(&headers(&[("sec-fetch-site", "same-site")])).is_some());
        // The user typed the address: a person looking, not a page.
        assert!(from_web_page(&headers(&[("sec-fetch-site", "none")])).is_none());
        assert!(from_web_page(&headers(&[("user-agent", "Stripe/1.0")])).is_none());
    }
}
