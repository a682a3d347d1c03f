//! `pitchbar-admin members`: the workspace's members: list, add, remove.

use std::io::Write;

use super::workspace::{finish, print, table, Common, EXIT_CODES};
use crate::workspace::{Member, MemberInput, Role};
use crate::{Error, Result};

#[derive(clap::Args)]
#[command(
    about = "List, add or remove the workspace's members",
    long_about = "The workspace's members and their roles, as in Workspace settings. Adding and \
                  removing are done as this computer's user, who must be an Owner or Admin \
                  (only an Owner grants or removes the Owner role), and are recorded in the \
                  audit trail.",
    after_help = EXIT_CODES
)]
pub(super) struct MembersArgs {
    #[command(subcommand)]
    command: MembersCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Subcommand)]
enum MembersCommand {
    /// List the members.
    #[command(after_help = EXIT_CODES)]
    List,
    /// Add a member.
    #[command(after_help = EXIT_CODES)]
    Add {
        #[arg(long, value_name = "NAME")]
        name: String,
        #[arg(long, value_name = "EMAIL")]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Remove a member (by ID, as listed).
    #[command(after_help = EXIT_CODES)]
    Remove {
        /// The member's ID, as `members list` shows it.
        id: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Owner,
    Admin,
    Member,
}

pub(super) fn run(args: MembersArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let json = args.common.json;
    let done = args.common.open_as_device_user().and_then(|(core, actor)| {
        let workspaces = core.workspaces();
        match args.command {
            MembersCommand::List => {
                let members = members(&core)?;
                let device = actor.member().id.clone();
                print(out, json, &members, |text| {
                    let mut rows = vec![["ID", "ROLE", "NAME", "EMAIL"].map(String::from).to_vec()];
                    rows.extend(members.iter().map(|m| {
                        vec![
                            m.id.clone(),
                            m.role.as_str().into(),
                            m.name.clone(),
                            format!(
                                "{}{}",
                                m.email,
                                if m.id == device {
                                    "  (this computer's user)"
                                } else {
                                    ""
                                }
                            ),
                        ]
                    }));
                    table(text, &rows);
                })
            }
            MembersCommand::Add { name, email, role } => {
                let role = match role {
                    RoleArg::Owner => Role::Owner,
                    RoleArg::Admin => Role::Admin,
                    RoleArg::Member => Role::Member,
                };
                let member = workspaces.add_member(&actor, MemberInput { name, email, role })?;
                print(out, json, &member, |text| {
                    text.push_str(&format!(
                        "Added {} <{}> as {} ({})\n",
                        member.name,
                        member.email,
                        member.role.as_str(),
                        member.id
                    ));
                })
            }
            MembersCommand::Remove { id } => {
                let Some(member) = members(&core)?.into_iter().find(|m| m.id == id) else {
                    return Err(Error::NotFound(format!(
                        "There is no member with the ID “{}”. `pitchbar-admin members list` shows their IDs.",
                        id.chars().take(40).collect::<String>()
                    )));
                };
                workspaces.remove_member(&actor, &id)?;
                print(out, json, &member, |text| {
                    text.push_str(&format!(
                        "Removed {} <{}> ({})\n",
                        member.name,
                        member.email,
                        member.role.as_str()
                    ));
                })
            }
        }
    });
    finish(err, done)
}

fn members(core: &crate::Core) -> Result<Vec<Member>> {
    Ok(core
        .workspaces()
        .session()?
        .map(|s| s.members)
        .unwrap_or_default())
}
