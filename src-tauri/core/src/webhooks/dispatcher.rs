//! The webhook dispatcher: the background service that attempts the outbox's deliveries
//! (`run`: scheduling, lanes per endpoint, retries; `attempt`: one signed POST and what follows;
//! `writer`: the delivery log in batches).

mod attempt;
mod config;
mod endpoint;
mod run;
mod writer;

pub use config::DispatcherConfig;
pub(crate) use run::start;
pub use run::Running;
