//! The outbox: events accepted durably (each written with its deliveries in one transaction,
//! before any attempt), the jobs handed to whoever delivers them, and the announcements of
//! what changed. The webhook dispatcher, the notifier (Slack, Teams, Discord) and the local
//! API consume it; none of them reaches into another for it.

mod accept;
mod hub;
mod job;

pub use accept::Outbox;
pub(crate) use accept::{insert_delivery, insert_event};
pub use hub::{DeliveriesChanged, Hub};
pub(crate) use job::{load_job, Job};
pub use job::{Fired, Trigger};
