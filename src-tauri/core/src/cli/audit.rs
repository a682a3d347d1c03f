//! `pitchbar-admin audit`: the workspace's audit trail — who changed what, when, and from
//! where — printed, or written as CSV or JSON, for support staff without the window.

use std::io::Write;
use std::path::PathBuf;

use super::output::{fail, EXIT_FAILED, EXIT_OK};
use crate::audit::{Area, AuditQuery, ExportFormat};
use crate::Core;

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

#[derive(clap::Args)]
#[command(
    about = "Print the audit trail: who changed what, when, and from where",
    long_about = "Print the workspace's audit trail: every change to connections, OAuth apps, \
                  endpoints, secrets, the API key, members, settings and the receiver, newest \
                  last, with who made it (and from where: the window, the command line, or the \
                  app itself). Secret values are never recorded.",
    after_help = "Exit codes:\n  \
                  0  printed\n  \
                  1  failed (the data cannot be opened, a time is not RFC 3339, …)\n  \
                  2  usage error"
)]
pub(super) struct AuditArgs {
    /// Only changes at or after this time (RFC 3339, like 2026-05-07T12:00:00Z).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only changes before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only changes to one area.
    #[arg(long, value_parser = parse_area, value_name = "AREA")]
    area: Option<Area>,
    /// Only changes by one member (their ID), or `app` for what the app did by itself.
    #[arg(long, value_name = "MEMBER_ID")]
    who: Option<String>,
    /// Only changes whose action, target, summary or member name contain these words.
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The data folder. Default: PITCHBAR_DATA_DIR, else the OS app-data folder.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

fn parse_area(s: &str) -> Result<Area, String> {
    Area::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Area::ALL.iter().map(|a| a.name()).collect();
        format!("choose one of {}", names.join(", "))
    })
}

pub(super) fn run(args: AuditArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let query = AuditQuery {
        who: args.who,
        area: args.area,
        since: args.since,
        until: args.until,
        text: args.search,
        ..AuditQuery::default()
    };
    let printed = args
        .data_dir
        .map_or_else(crate::data_dir, Ok)
        .and_then(|dir| Core::open(&dir))
        .and_then(|core| {
            let bytes = match args.format {
                Format::Csv => core.audit().export(&query, ExportFormat::Csv)?,
                Format::Json => core.audit().export(&query, ExportFormat::Json)?,
                Format::Table => table(&core, &query)?,
            };
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(|e| {
                    crate::Error::Internal(format!("the output could not be written ({e})"))
                })
        });
    match printed {
        Ok(()) => EXIT_OK,
        Err(e) => fail(err, EXIT_FAILED, &e.to_string()),
    }
}

/// One line per change, oldest first: time, who (role, where), area, summary.
fn table(core: &Core, query: &AuditQuery) -> crate::Result<Vec<u8>> {
    let json = core.audit().export(query, ExportFormat::Json)?;
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&json).unwrap_or_default();
    let mut text = String::new();
    for e in &entries {
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
        let role = e["member_role"]
            .as_str()
            .map(|r| format!("{r}, "))
            .unwrap_or_default();
        let preview = e["previewed_by"]
            .as_str()
            .map(|p| format!(", previewed by {p}"))
            .unwrap_or_default();
        text.push_str(&format!(
            "{}  {} ({role}{}{preview})  {}  {}\n",
            s("at"),
            s("member_name"),
            s("surface"),
            s("area"),
            s("summary")
        ));
    }
    if entries.is_empty() {
        text.push_str("No changes match.\n");
    }
    Ok(text.into_bytes())
}
