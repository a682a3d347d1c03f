//! The core's background work in the app: the webhook dispatcher and the local API, started
//! with the window, and the receiver when the user starts it; all stopped cleanly on exit. Core
//! notifications are forwarded to the window as typed events (`crate::events`), so the UI
//! refetches, never polls.

use tauri::AppHandle;
use tauri_specta::Event;
use tokio::sync::broadcast::{self, error::RecvError};

use pitchbar_core::oauth::OAuthEvent;
use pitchbar_core::{Core, Error};

use crate::events::{
    ConnectionsChangedEvent, DeliveriesChangedEvent, DestinationsChangedEvent, NotifyChangedEvent,
    OAuthFinishedEvent, OAuthNoticeEvent, ReceiverChangedEvent, SourcesChangedEvent,
};

/// Starts the dispatcher and the local API (on the port chosen in the app, else
/// `PITCHBAR_API_PORT`, else 4787) and forwards what the core announces. A failure of one does not stop the other:
/// the error is returned for the window to show.
pub fn start(app: &AppHandle, core: &Core) -> Result<(), Error> {
    let (dispatcher, api) = tauri::async_runtime::block_on(async {
        // Revocations still owed to providers resume (with backoff) after every start.
        core.start_oauth();
        // Sources queued or being read when the app quit are read again.
        if let Err(err) = core.start_sources(Default::default()) {
            tracing::error!(error = %err, "the knowledge ingestion worker did not start");
        }
        // Notifications owed, and a daily summary missed while closed, go out now.
        core.start_notifier(Default::default());
        // Leads and conversations queued for CRMs and helpdesks before a restart go out now.
        core.start_destinations(Default::default());
        (
            core.start_dispatcher(Default::default()),
            core.settings().api_config().and_then(|c| core.start_api(c)),
        )
    });
    if let Err(err) = &dispatcher {
        tracing::error!(error = %err, "the webhook dispatcher did not start");
    }
    match &api {
        Ok(addr) => tracing::info!(%addr, "local API listening"),
        Err(err) => tracing::error!(error = %err, "the local API did not start"),
    }

    forward(app, core.subscribe_deliveries(), DeliveriesChangedEvent);
    forward(app, core.subscribe_receiver(), ReceiverChangedEvent);
    forward(app, core.subscribe_sources(), SourcesChangedEvent);
    forward(app, core.subscribe_notify(), NotifyChangedEvent);
    forward(app, core.subscribe_destinations(), DestinationsChangedEvent);
    forward_oauth(app, core.subscribe_oauth());
    dispatcher.and(api.map(|_| ()))
}

/// Emits each core notice to the window as the event `event` makes of it, until the core closes
/// the channel.
fn forward<T, E>(app: &AppHandle, mut notices: broadcast::Receiver<T>, event: fn(T) -> E)
where
    T: Clone + Send + 'static,
    E: Event + serde::Serialize + Clone,
{
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(notice) => {
                    let _ = event(notice).emit(&app);
                    crate::tray::changed(&app);
                }
                // The window refetches anyway: a skipped notice loses nothing.
                Err(RecvError::Lagged(_)) => crate::tray::changed(&app),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// OAuth's announcements, each to its own window event.
fn forward_oauth(app: &AppHandle, mut notices: broadcast::Receiver<OAuthEvent>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let notice = notices.recv().await;
            crate::tray::changed(&app);
            match notice {
                Ok(OAuthEvent::Finished {
                    authorization_id,
                    outcome,
                }) => {
                    // A sign-in ended (in the browser, by a link): the person comes back to
                    // see how. Links that matched no sign-in are notices and focus nothing.
                    crate::deep_link::focus_main_window(&app);
                    let _ = OAuthFinishedEvent {
                        authorization_id,
                        outcome,
                    }
                    .emit(&app);
                }
                Ok(OAuthEvent::Notice { message }) => {
                    let _ = OAuthNoticeEvent { message }.emit(&app);
                }
                Ok(OAuthEvent::ConnectionsChanged) => {
                    let _ = ConnectionsChangedEvent.emit(&app);
                }
                Err(RecvError::Lagged(_)) => {
                    // A missed outcome stays with the waiting dialog; the list refetches.
                    let _ = ConnectionsChangedEvent.emit(&app);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Lets attempts in flight finish and be logged, and requests in flight be answered.
pub fn stop(core: &Core) {
    tauri::async_runtime::block_on(async {
        core.stop_api().await;
        core.receiver().stop().await;
        core.stop_oauth().await;
        core.stop_sources().await;
        core.stop_notifier().await;
        core.stop_destinations().await;
        core.stop_dispatcher().await;
    });
}
