//! The local webhook receiver: a listener on 127.0.0.1 that records every request, verifies
//! its signature with a diagnosis, answers as told (status, body, delay, or no answer at all)
//! and optionally forwards it, like `stripe listen --forward-to`.
//!
//! Two decisions shape it:
//! - **Answer before commit.** A request's record is queued to a group-commit writer thread
//!   (writer.rs) before the answer goes out, and committed in a batch a moment later. A stop
//!   flushes the queue, so every answered request is recorded; only a crash can lose the last
//!   few milliseconds. This is a test tool's log, not an outbox: the rate matters more, and the
//!   sender keeps its own record of what it sent.
//! - **Forwarding does not hold the answer.** As the Stripe CLI does, the sender gets the
//!   receiver's own answer at once; the forward runs beside it and its result is written to
//!   the same record when it arrives (announced again).

mod forward;
mod hub;
mod json;
mod log;
mod retention;
mod running;
mod seen;
mod server;
mod settings;
mod workspace;
mod writer;

pub use hub::{Hub, ReceiverChanged};
pub use log::{
    ForwardView, ReceivedDetail, ReceivedPage, ReceivedSummary, ReceiverLog, ReceiverQuery,
};
pub use retention::Retention;
pub(crate) use running::start;
pub use running::{ReceiverStatus, Running};
pub use settings::{
    CandidatesFn, ReceiverConfig, ResponseSpec, VerifyMode, VerifyWith, DEFAULT_PORT, MAX_DELAY_MS,
    STATUS_PRESETS, TOLERANCE_SECS,
};
pub use workspace::{
    CandidateSource, Receiver, ReceiverStart, SentHere, VerifyChoice, VerifyInput,
};
