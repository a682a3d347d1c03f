//! The one world every core test binary shares: `mod support;` at the top of a test file, then
//! `support::…`. Nothing here is a test; each part is set-up that more than one file needs.
//!
//! - [`require`]: the programs and the keychain a test needs, or a failure naming them.
//! - [`workspace`]: the Owner set-up — a Core in a temp dir with its workspace and Owner, and a
//!   Member to refuse.
//! - [`test_receiver`]: the one HTTP receiver that records requests and answers as scripted.
//! - [`dispatch`]: the dispatcher's one fast `test_config`, endpoints, events and their log rows.
//! - [`endpoints`]: webhook endpoints and where their secrets are.
//! - [`receiver`]: Pitchbar's own receiver, started, sent requests and its log read back.
//! - [`api`]: the local API with its key, the dispatcher and a test receiver.
//! - [`fixture`]: the one starter of the Node fake servers of tests/fixtures.
//! - [`oauth`]: the test CA, the real OAuth server and a browser that signs in.
//! - [`apikeys`]: the API-key provider fakes, a providers file for them, the logs kept.
//! - [`destinations`]: every destination's fake, signed in or connected, a Core sending to them.
//! - [`slack`]: the fake Slack / Teams / Discord, and the notification tests' world.
//! - [`knowledge`]: the fake Notion / Google APIs, signed in through the OAuth server.
//! - [`spec_snippets`]: the spec's Node verification snippets, run as printed.
//! - [`files`]: what a data dir holds, byte for byte.
//! - [`logs`]: everything the code logs, at every level, captured to scan for secrets.
//! - [`child`]: a test run again in a child process with an environment of its own.
//! - [`audit`]: the audit trail's entries and actions, oldest first.
//! - [`cli`]: the command line run in-process.

// Each test binary uses some of these helpers, never all of them.
#![allow(dead_code)]

pub mod api;
pub mod apikeys;
pub mod audit;
pub mod child;
pub mod cli;
pub mod destinations;
pub mod dispatch;
pub mod endpoints;
pub mod files;
pub mod fixture;
pub mod knowledge;
pub mod logs;
pub mod oauth;
pub mod receiver;
pub mod require;
pub mod slack;
pub mod spec_snippets;
pub mod test_receiver;
pub mod workspace;

use std::net::{Ipv4Addr, TcpListener};

/// A port nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Makes ring rustls's crypto provider (reqwest is built without one); once is enough.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A plain HTTP client, for the fixtures' control APIs.
pub fn client() -> reqwest::Client {
    install_crypto();
    reqwest::Client::new()
}

/// Now, in Unix seconds.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
