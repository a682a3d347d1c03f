//! `pitchbar-admin leads`: the leads captured, newest first.

use std::io::Write;

use super::workspace::{finish, print, table, Common, EXIT_CODES};
use crate::leads::{Lead, LeadQuery};

#[derive(clap::Args)]
#[command(
    about = "List the leads captured, newest first",
    after_help = EXIT_CODES
)]
pub(super) struct LeadsArgs {
    #[command(subcommand)]
    command: LeadsCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Subcommand)]
enum LeadsCommand {
    /// List leads, newest first.
    #[command(after_help = EXIT_CODES)]
    List {
        /// Only leads captured at or after this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// At most this many (1–500).
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u32,
    },
}

pub(super) fn run(args: LeadsArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let json = args.common.json;
    let done = args
        .common
        .open_as_device_user()
        .and_then(|(core, _actor)| {
            let LeadsCommand::List { since, limit } = args.command;
            let page = core.leads().list(&LeadQuery {
                since,
                limit: Some(limit),
                cursor: None,
            })?;
            print(out, json, &page.leads, |text| list_text(text, &page.leads))
        });
    finish(err, done)
}

fn list_text(text: &mut String, leads: &[Lead]) {
    if leads.is_empty() {
        text.push_str("No leads.\n");
        return;
    }
    let mut rows = vec![["ID", "CAPTURED", "NAME", "EMAIL", "PHONE"]
        .map(String::from)
        .to_vec()];
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    rows.extend(leads.iter().map(|l| {
        vec![
            l.id.clone(),
            l.created_at.clone(),
            or_dash(&l.name),
            or_dash(&l.email),
            or_dash(&l.phone),
        ]
    }));
    table(text, &rows);
}
