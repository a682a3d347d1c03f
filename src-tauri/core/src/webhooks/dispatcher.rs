//! The webhook dispatcher: the background service that attempts the outbox's deliveries
//! (`run`: scheduling, lanes per endpoint, retries; `attempt`: one signed POST and what follows;
//! `writer`: the delivery log in batches), and deliveries started by hand (`manual`).

mod attempt;
mod config;
mod manual;
mod run;
mod writer;

pub use config::DispatcherConfig;
pub use manual::Dispatcher;
pub(crate) use run::start;
pub use run::Running;
