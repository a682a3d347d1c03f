//! The one world every core test binary shares: `mod support;` at the top of a test file, then
//! `support::…`. Nothing here is a test; each part is set-up that more than one file needs.
//!
//! - [`require`]: the programs and the keychain a test needs, or a failure naming them.
//! - [`fixture`]: the Node fake servers of tests/fixtures, started as child processes.
//! - [`workspace`]: a Core in a temp dir with its workspace and Owner, and a Member to refuse.
//! - [`oauth`]: the test CA, the real OAuth server and a browser that signs in.
//! - [`slack`]: the fake Slack / Teams / Discord and its providers file.
//! - [`spec_snippets`]: the spec's Node verification snippets, run as printed.
//! - [`knowledge`]: the fake Notion / Google APIs, signed in through the OAuth server.

// Each test binary uses some of these helpers, never all of them.
#![allow(dead_code)]

pub mod fixture;
pub mod knowledge;
pub mod oauth;
pub mod require;
pub mod slack;
pub mod spec_snippets;
pub mod workspace;
