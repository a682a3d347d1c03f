//! A running receiver: binding the port, the accept loop and the log writer it starts, and
//! the handle that changes its answer and stops it.

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;
use specta::Type;
use tokio::sync::watch;

use super::hub::Hub;
use super::retention::Retention;
use super::settings::{self, ReceiverConfig, ResponseSpec, VerifyMode};
use super::{server, writer};
use crate::error::{Error, Result};
use crate::loopback;
use crate::store::Store;

/// Whether the receiver runs, where, and as what.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct ReceiverStatus {
    pub running: bool,
    /// `127.0.0.1:<port>` while running.
    pub addr: Option<String>,
    pub response: Option<ResponseSpec>,
    pub forward_to: Option<String>,
    pub verify: Option<VerifyMode>,
    /// Credential headers are recorded as sent (else masked), while running.
    pub keep_credentials: Option<bool>,
}

/// The handle of a running receiver, owned by `Core`. Dropping it stops the listener and its
/// connections; [`Running::stop`] also waits until every queued record is written.
pub struct Running {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: watch::Sender<bool>,
    accept: Option<tokio::task::JoinHandle<()>>,
    writer: Option<writer::WriterHandle>,
}

impl crate::service::Service for Running {
    const NAME: &'static str = "receiver";

    /// Closes the port and every connection (answers still held by a delay are cut), ends
    /// forwards in flight, then writes every queued record before returning.
    async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.accept.take() {
            let _ = task.await;
        }
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.stop()).await;
        }
    }
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn status(&self) -> ReceiverStatus {
        let live = self.shared.live();
        ReceiverStatus {
            running: true,
            addr: Some(self.addr.to_string()),
            response: Some(live.spec.clone()),
            forward_to: live.forward.as_ref().map(|u| u.to_string()),
            verify: Some(self.shared.verify.mode()),
            keep_credentials: Some(self.shared.keep_credentials),
        }
    }

    /// Changes the answer to the next requests; requests already held keep theirs.
    pub fn set_response(&self, spec: ResponseSpec) -> Result<()> {
        self.shared.update(|live| live.with_response(spec))
    }

    /// Starts, changes or (with `None`) ends forwarding for the next requests.
    pub fn set_forward(&self, forward_to: Option<String>) -> Result<()> {
        let port = self.addr.port();
        self.shared
            .update(|live| live.with_forward(forward_to.as_deref(), port))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.accept.take() {
            task.abort();
        }
    }
}

/// Binds 127.0.0.1:`config.port` and serves the receiver on the current tokio runtime.
pub(crate) fn start(store: Arc<Store>, hub: Arc<Hub>, config: ReceiverConfig) -> Result<Running> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        Error::Internal("The receiver must be started inside the app's runtime.".into())
    })?;
    // Checked before binding, so a bad setting never leaves a port taken.
    let live = settings::Live::new(config.response.clone())?;
    if let Some(url) = &config.forward_to {
        settings::check_forward(url, config.port)?;
    }
    let listener = loopback::listen(&runtime, config.port, "the receiver")?;
    let addr = listener.local_addr().map_err(io_error)?;
    let live = live.with_forward(config.forward_to.as_deref(), addr.port())?;
    hub.seen.load_recent(&store)?;
    hub.set_retention(Retention::load(&store)?);
    let writer = writer::WriterHandle::start(store.clone(), hub.clone())?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let shared = Arc::new(server::Shared::new(
        store,
        hub,
        &config,
        live,
        writer.sender(),
        shutdown_rx.clone(),
        addr.port(),
    )?);
    let accept = runtime.spawn(server::accept_loop(listener, shared.clone(), shutdown_rx));
    tracing::info!(%addr, "webhook receiver listening");
    Ok(Running {
        addr,
        shared,
        shutdown,
        accept: Some(accept),
        writer: Some(writer),
    })
}

fn io_error(err: std::io::Error) -> Error {
    tracing::error!(error = %err, "receiver socket error");
    Error::Internal("The receiver could not set up its socket. Try another port.".into())
}
