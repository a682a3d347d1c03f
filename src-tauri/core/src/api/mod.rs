//! The local HTTP API on 127.0.0.1: the widget backend, scripts and the Playground submit leads
//! and conversations here (each write fires its webhook), and pull leads and deliveries.

mod contract;
mod errors;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::loopback::{self, Limits, OnStop};
use crate::outbox::Hub;
use crate::store::Store;

pub use contract::DESCRIPTION;
pub use errors::ApiError;
pub use routes::{router, ApiState, ROUTES};

/// The port the app uses unless configured otherwise.
pub const DEFAULT_PORT: u16 = 4787;
/// How long a stop waits for requests in flight before cutting them off.
const STOP_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiConfig {
    /// The port on 127.0.0.1; 0 picks any free port (the bound address says which).
    pub port: u16,
    /// Connections, header size and timeouts.
    pub limits: Limits,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self::on_port(DEFAULT_PORT)
    }
}

/// Names the local API's port for the app and `pitchbar-admin serve` alike.
pub const PORT_ENV: &str = "PITCHBAR_API_PORT";

impl ApiConfig {
    /// On `port`, with the default limits.
    pub fn on_port(port: u16) -> Self {
        Self {
            port,
            limits: Limits::default(),
        }
    }

    /// The port from `PITCHBAR_API_PORT` (0 picks any free one), else [`DEFAULT_PORT`].
    pub fn from_env() -> Result<Self> {
        match std::env::var(PORT_ENV) {
            Err(_) => Ok(Self::default()),
            Ok(port) => port.trim().parse().map(Self::on_port).map_err(|_| {
                Error::InvalidInput(format!(
                    "{PORT_ENV} is “{port}”, not a port number. Set it to 1–65535 (or 0 for any free port) and restart."
                ))
            }),
        }
    }
}

/// The handle of a running API server, owned by `Core`. Dropping it asks the server to stop.
pub struct Running {
    addr: SocketAddr,
    shutdown: Option<watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl crate::service::Service for Running {
    const NAME: &'static str = "local API";

    /// Takes no new connections, lets requests in flight finish (up to a few seconds), then
    /// returns: the port is free again.
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}

/// Binds 127.0.0.1:`config.port` and serves the API on the current tokio runtime.
pub(crate) fn start(store: Arc<Store>, hub: Arc<Hub>, config: ApiConfig) -> Result<Running> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        Error::Internal("The local API must be started inside the app's runtime.".into())
    })?;
    let listener = loopback::listen(&runtime, config.port, "the local API")?;
    let addr = listener.local_addr().map_err(io_error)?;
    let port = addr.port();
    let app = router(ApiState::new(store, hub)).layer(middleware::from_fn(move |req, next| {
        only_local(port, req, next)
    }));
    let (tx, rx) = watch::channel(false);
    let task = runtime.spawn(loopback::serve(
        listener,
        config.limits,
        OnStop::Finish,
        rx,
        move || TowerToHyperService::new(app.clone()),
    ));
    tracing::info!(%addr, "local API listening");
    Ok(Running {
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Refuses a request whose `Host` is not this machine's loopback port (a web page reaching
/// 127.0.0.1 through a name of its own), before the key is even looked at.
async fn only_local(port: u16, req: Request, next: Next) -> Response {
    if loopback::host_is_local(req.headers(), port) {
        return next.run(req).await;
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_host",
        loopback::host_refusal(req.headers(), port),
    )
    .into_response()
}

fn io_error(err: std::io::Error) -> Error {
    tracing::error!(error = %err, "local API socket error");
    Error::Internal("The local API could not set up its socket. Try another port.".into())
}
