//! `pitchbar-admin init`: sets up the workspace with its first member as Owner, as the
//! window's first run does, without the window.

use std::io::Write;

use super::workspace::{finish, print, Common, EXIT_CODES};
use crate::audit::Surface;
use crate::workspace::{MemberInput, Role};
use crate::Error;

#[derive(clap::Args)]
#[command(
    about = "Set up the workspace with you as its Owner",
    long_about = "Set up the workspace, as the app's first run does: its name, and its first \
                  member, who becomes its Owner and this computer's user (whom the other \
                  commands act as). Refused when a workspace is already set up here.",
    after_help = EXIT_CODES
)]
pub(super) struct InitArgs {
    /// The workspace's name.
    #[arg(long, value_name = "NAME")]
    workspace: String,
    /// Your name (the Owner's).
    #[arg(long, value_name = "NAME")]
    name: String,
    /// Your email address.
    #[arg(long, value_name = "EMAIL")]
    email: String,
    #[command(flatten)]
    common: Common,
}

pub(super) fn run(args: InitArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let done = args.common.open().and_then(|core| {
        if let Some(session) = core.workspaces().session()? {
            return Err(Error::Conflict(format!(
                "A workspace is already set up here (“{}”, Owner: {}). `pitchbar-admin members` manages its members.",
                session.workspace.name, session.device_user.name
            )));
        }
        let session = core.workspaces().set_up_from(
            Surface::Cli,
            &args.workspace,
            MemberInput {
                name: args.name,
                email: args.email,
                role: Role::Owner,
            },
        )?;
        print(out, args.common.json, &session, |text| {
            text.push_str(&format!(
                "Set up the workspace “{}” ({}) with {} <{}> as its Owner and this computer's user.\n",
                session.workspace.name,
                session.workspace.id,
                session.device_user.name,
                session.device_user.email
            ));
        })
    });
    finish(err, done)
}
