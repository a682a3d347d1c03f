//! The local HTTP API on 127.0.0.1: the widget backend, scripts and the Playground submit leads
//! and conversations here (each write fires its webhook), and pull leads and deliveries.

mod errors;
mod routes;

use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::outbox::Hub;
use crate::store::Store;

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
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self { port: DEFAULT_PORT }
    }
}

/// Names the local API's port for the app and `pitchbar-admin serve` alike.
pub const PORT_ENV: &str = "PITCHBAR_API_PORT";

impl ApiConfig {
    /// The port from `PITCHBAR_API_PORT` (0 picks any free one), else [`DEFAULT_PORT`].
    pub fn from_env() -> Result<Self> {
        match std::env::var(PORT_ENV) {
            Err(_) => Ok(Self::default()),
            Ok(port) => port.trim().parse().map(|port| Self { port }).map_err(|_| {
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
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl crate::service::Service for Running {
    const NAME: &'static str = "local API";

    /// Takes no new connections, lets requests in flight finish (up to a few seconds), then
    /// returns: the port is free again.
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
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
            let _ = tx.send(());
        }
    }
}

/// Binds 127.0.0.1:`config.port` and serves the API on the current tokio runtime.
pub(crate) fn start(store: Arc<Store>, hub: Arc<Hub>, config: ApiConfig) -> Result<Running> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        Error::Internal("The local API must be started inside the app's runtime.".into())
    })?;
    let listener = StdListener::bind((Ipv4Addr::LOCALHOST, config.port)).map_err(|err| {
        tracing::warn!(error = %err, port = config.port, "cannot bind the local API");
        if err.kind() == std::io::ErrorKind::AddrInUse {
            Error::Conflict(format!(
                "Port {} on 127.0.0.1 is used by another program. Choose another port for the local API, or 0 for any free port.",
                config.port
            ))
        } else {
            Error::Internal(format!(
                "The local API could not listen on 127.0.0.1:{}. Choose another port, or 0 for any free port.",
                config.port
            ))
        }
    })?;
    let addr = listener.local_addr().map_err(io_error)?;
    listener.set_nonblocking(true).map_err(io_error)?;
    let listener = {
        let _guard = runtime.enter();
        tokio::net::TcpListener::from_std(listener).map_err(io_error)?
    };
    let app = router(ApiState::new(store, hub));
    let (tx, rx) = oneshot::channel::<()>();
    let task = runtime.spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "the local API stopped");
        }
    });
    tracing::info!(%addr, "local API listening");
    Ok(Running {
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

fn io_error(err: std::io::Error) -> Error {
    tracing::error!(error = %err, "local API socket error");
    Error::Internal("The local API could not set up its socket. Try another port.".into())
}
