//! `pitchbar-admin api-key`: the workspace's local API key, shown redacted (or in full with
//! `--reveal`), or regenerated.

use std::io::Write;

use serde::Serialize;

use super::workspace::{finish, print, Common, EXIT_CODES};
use crate::api_key::ApiKeyView;

#[derive(clap::Args)]
#[command(
    about = "Show or regenerate the local API key",
    long_about = "Show the workspace's local API key (sk_live_…), redacted unless --reveal is \
                  given, or regenerate it: the old key stops working at once. Revealing and \
                  regenerating need an Owner or Admin as this computer's user.",
    after_help = EXIT_CODES
)]
pub(super) struct ApiKeyArgs {
    #[command(subcommand)]
    command: ApiKeyCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Subcommand)]
enum ApiKeyCommand {
    /// Show the key, redacted; with --reveal, in full.
    #[command(after_help = EXIT_CODES)]
    Show {
        /// Print the key itself (recorded in the audit trail).
        #[arg(long)]
        reveal: bool,
    },
    /// Replace the key; the old one stops working at once. Prints the new key redacted.
    #[command(after_help = EXIT_CODES)]
    Regenerate {
        /// Print the new key itself.
        #[arg(long)]
        reveal: bool,
    },
}

/// What `--json` prints: the view, and the key itself only when revealed.
#[derive(Serialize)]
struct KeyOut {
    #[serde(flatten)]
    view: ApiKeyView,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

pub(super) fn run(args: ApiKeyArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let done = args.common.open_as_device_user().and_then(|(core, actor)| {
        let (view, reveal) = match args.command {
            ApiKeyCommand::Show { reveal } => (core.api_keys().view()?, reveal),
            ApiKeyCommand::Regenerate { reveal } => (core.api_keys().regenerate(&actor)?, reveal),
        };
        let key = if reveal {
            Some(core.api_keys().reveal(&actor)?.expose().to_owned())
        } else {
            None
        };
        let shown = KeyOut { view, key };
        print(out, args.common.json, &shown, |text| {
            text.push_str(&format!(
                "API key  {}\ncreated  {}\n",
                shown.key.as_deref().unwrap_or(&shown.view.redacted),
                shown.view.created_at
            ));
        })
    });
    finish(err, done)
}
