//! One shape for every background service (the dispatcher, the local API, the receiver, the
//! notifier, the sources worker, the revocation retrier): a slot that starts it once, lets
//! callers look at it while it runs, and stops it cleanly — work in flight finishes first.

use std::future::Future;
use std::sync::Mutex;

use crate::error::Result;
use crate::sync::lock;

/// A running background service.
pub trait Service: Send + Sized + 'static {
    /// Named in the log when it starts and stops.
    const NAME: &'static str;

    /// Takes no new work, lets what is in flight finish (and be written), then returns.
    fn stop(self) -> impl Future<Output = ()> + Send;
}

/// What [`Slot::start`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started<R> {
    /// It was stopped and has been started.
    Now(R),
    /// It was already running; nothing was started.
    Already(R),
}

impl<R> Started<R> {
    pub fn into_inner(self) -> R {
        match self {
            Started::Now(r) | Started::Already(r) => r,
        }
    }
}

/// Where one service runs, or not. Swapped whole under its lock, so a panic elsewhere never
/// leaves it half-changed.
pub struct Slot<S> {
    running: Mutex<Option<S>>,
}

impl<S> Default for Slot<S> {
    fn default() -> Self {
        Self {
            running: Mutex::new(None),
        }
    }
}

impl<S: Service> Slot<S> {
    /// Starts the service with `start` unless it runs, and returns `view` of the one running.
    pub fn start<R>(
        &self,
        start: impl FnOnce() -> Result<S>,
        view: impl FnOnce(&S) -> R,
    ) -> Result<Started<R>> {
        let mut slot = lock(&self.running);
        if let Some(running) = slot.as_ref() {
            return Ok(Started::Already(view(running)));
        }
        let running = start()?;
        tracing::info!(service = S::NAME, "started");
        let seen = view(&running);
        *slot = Some(running);
        Ok(Started::Now(seen))
    }

    /// `f` of the running service, or of `None` while it is stopped.
    pub fn with<R>(&self, f: impl FnOnce(Option<&S>) -> R) -> R {
        f(lock(&self.running).as_ref())
    }

    /// Puts `next` in the slot and stops the one it replaces (cleanly, as [`Slot::stop`]).
    pub async fn replace(&self, next: S) {
        let old = lock(&self.running).replace(next);
        if let Some(old) = old {
            stop(old).await;
        }
        tracing::info!(service = S::NAME, "restarted");
    }

    /// Stops the service if it runs; returns when its work in flight is done.
    pub async fn stop(&self) {
        let running = lock(&self.running).take();
        if let Some(running) = running {
            stop(running).await;
        }
    }
}

async fn stop<S: Service>(running: S) {
    tracing::info!(service = S::NAME, "stopping");
    running.stop().await;
    tracing::info!(service = S::NAME, "stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Counted(Arc<AtomicUsize>);

    impl Service for Counted {
        const NAME: &'static str = "counted";
        async fn stop(self) {
            tokio::task::yield_now().await;
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn starts_once_and_stops_what_runs() {
        let stops = Arc::new(AtomicUsize::new(0));
        let slot = Slot::default();
        let first = slot.start(|| Ok(Counted(stops.clone())), |_| 1).unwrap();
        assert_eq!(first, Started::Now(1));
        let second = slot.start(|| panic!("started twice"), |_| 2).unwrap();
        assert_eq!(second, Started::Already(2));
        assert!(slot.with(|r| r.is_some()));
        slot.replace(Counted(stops.clone())).await;
        assert_eq!(stops.load(Ordering::SeqCst), 1, "the replaced one stopped");
        slot.stop().await;
        slot.stop().await;
        assert_eq!(stops.load(Ordering::SeqCst), 2);
        assert!(slot.with(|r| r.is_none()));
        let failed = slot.start(
            || Err(crate::error::Error::Internal("no".into())),
            |_: &Counted| (),
        );
        assert!(failed.is_err());
        assert!(
            slot.with(|r| r.is_none()),
            "a failed start leaves it stopped"
        );
    }
}
