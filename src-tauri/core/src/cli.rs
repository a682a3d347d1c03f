//! The headless command line of `pitchbar-admin`: `listen`, `trigger`, `verify`, `serve`,
//! `audit`, `backup` and `restore`, and what the window does to a workspace: `init`, `api-key`,
//! `endpoints`, `deliveries`, `members` and `leads`, acting as the workspace's device user
//! (refused what that user may not do, recorded in the audit trail as made from the command
//! line).
//! The app binary hands its arguments here first; whatever is not a command (no arguments, a
//! `pitchbar://` deep link, …) goes on to the window.

mod api_key;
mod audit;
mod backup;
mod deliveries;
mod endpoints;
mod init;
mod leads;
mod listen;
mod members;
mod output;
mod serve;
mod trigger;
mod verify;
mod workspace;

use std::ffi::OsString;
use std::future::Future;
use std::io::Write;

use clap::{Parser, Subcommand};

use output::fail;
pub use output::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Parser)]
#[command(
    name = "pitchbar-admin",
    version,
    about = "Pitchbar Admin: integrations and signed webhooks for a Pitchbar workspace.",
    after_help = "Without a command, the app opens its window.\n\
                  Exit codes: 0 success, 1 failure, 2 usage error (each command's --help says more)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One variant per command: its `Args`, a module, and an arm in [`run_until`].
#[derive(Subcommand)]
enum Command {
    Listen(listen::ListenArgs),
    Trigger(trigger::TriggerArgs),
    Verify(verify::VerifyArgs),
    Serve(serve::ServeArgs),
    Audit(audit::AuditArgs),
    Backup(backup::BackupArgs),
    Restore(backup::RestoreArgs),
    Init(init::InitArgs),
    ApiKey(api_key::ApiKeyArgs),
    Endpoints(endpoints::EndpointsArgs),
    Deliveries(deliveries::DeliveriesArgs),
    Members(members::MembersArgs),
    Leads(leads::LeadsArgs),
}

/// Runs the command in `args` (as from [`std::env::args_os`], program name first) with the
/// process's stdout and stderr, and returns its exit code; `None` when `args` are the window's
/// (nothing, or a `pitchbar://` link), so the caller opens the window instead.
pub fn main_if_command(args: Vec<OsString>) -> Option<i32> {
    if opens_window(&args) {
        return None;
    }
    Some(run(args, &mut std::io::stdout(), &mut std::io::stderr()))
}

/// Whether `args` (program name first) are the window's: no argument, a `pitchbar://` link
/// (the OS passes one to open the app with it), or the process serial number an older macOS
/// adds. Anything else is the command line's, so a mistyped command is a usage error with a
/// suggestion, never a window.
pub fn opens_window(args: &[OsString]) -> bool {
    match args.get(1).map(|a| a.to_string_lossy()) {
        None => true,
        Some(first) => {
            first
                .get(..11)
                .is_some_and(|s| s.eq_ignore_ascii_case("pitchbar://"))
                || first.starts_with("-psn_")
        }
    }
}

/// A word that names no command: what was meant, if clap sees one close, and where the list is.
fn unknown_command(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::InvalidSubcommand {
        return None;
    }
    let word = match e.get(ContextKind::InvalidSubcommand) {
        Some(ContextValue::String(w)) => w.clone(),
        _ => return None,
    };
    let hint = match e.get(ContextKind::SuggestedSubcommand) {
        Some(ContextValue::String(s)) => format!(" Did you mean `{s}`?"),
        Some(ContextValue::Strings(s)) if !s.is_empty() => format!(" Did you mean `{}`?", s[0]),
        _ => String::new(),
    };
    Some(format!(
        "error: `{word}` is not a pitchbar-admin command.{hint}\n\
         Run `pitchbar-admin --help` for the commands; without a command the app opens its window.\n"
    ))
}

/// Runs a command; a long-running one (`serve`) runs until Ctrl-C or SIGTERM. Must not be
/// called from inside a tokio runtime: it builds its own.
pub fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    run_until(args, out, err, shutdown_signal())
}

/// [`run`], with `stop` ending a long-running command instead of a signal (tests, embedding).
pub fn run_until(
    args: Vec<OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version come this way too, to stdout with exit 0.
            let text = unknown_command(&e).unwrap_or_else(|| e.render().to_string());
            let _ = if e.use_stderr() {
                err.write_all(text.as_bytes())
            } else {
                out.write_all(text.as_bytes())
            };
            return e.exit_code();
        }
    };
    // The workspace commands are synchronous, like the window's: no runtime.
    let command = match cli.command {
        Command::Init(args) => return init::run(args, out, err),
        Command::ApiKey(args) => return api_key::run(args, out, err),
        Command::Endpoints(args) => return endpoints::run(args, out, err),
        Command::Deliveries(args) => return deliveries::run(args, out, err),
        Command::Members(args) => return members::run(args, out, err),
        Command::Leads(args) => return leads::run(args, out, err),
        command => command,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(
                err,
                EXIT_FAILED,
                &format!("the async runtime could not start ({e})."),
            )
        }
    };
    runtime.block_on(async {
        match command {
            Command::Listen(args) => listen::run(args, out, err, stop).await,
            Command::Trigger(args) => trigger::run(args, out, err).await,
            Command::Verify(args) => verify::run(args, out, err),
            Command::Serve(args) => serve::run(args, out, err, stop).await,
            Command::Audit(args) => audit::run(args, out, err),
            Command::Backup(args) => backup::backup(args, out, err),
            Command::Restore(args) => backup::restore(args, out, err),
            // Handled above, without a runtime.
            Command::Init(_)
            | Command::ApiKey(_)
            | Command::Endpoints(_)
            | Command::Deliveries(_)
            | Command::Members(_)
            | Command::Leads(_) => unreachable!("run without the runtime"),
        }
    })
}

/// Ctrl-C anywhere, SIGTERM on Unix (service managers and `kill` send it).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    // Without a Ctrl-C handler, wait for SIGTERM or a kill rather than stop at once.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_window_gets_no_arguments_or_a_link_and_everything_else_is_a_command() {
        assert!(opens_window(&args(&["pitchbar-admin"])));
        assert!(opens_window(&args(&[
            "pitchbar-admin",
            "pitchbar://oauth/callback?code=x&state=y"
        ])));
        assert!(opens_window(&args(&["pitchbar-admin", "PITCHBAR://x"])));
        assert!(opens_window(&args(&["pitchbar-admin", "-psn_0_12345"])));
        assert_eq!(main_if_command(args(&["pitchbar-admin"])), None);
        for word in [
            "listen",
            "trigger",
            "verify",
            "serve",
            "audit",
            "init",
            "api-key",
            "endpoints",
            "deliveries",
            "members",
            "leads",
            "backup",
            "restore",
            "help",
            "--help",
            "-V",
            "lisen",
            "triggers",
            "--window",
            "pitchbar:/x",
        ] {
            assert!(!opens_window(&args(&["pitchbar-admin", word])), "{word}");
        }
    }

    #[test]
    fn a_mistyped_command_is_a_usage_error_with_a_suggestion() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(args(&["pitchbar-admin", "lisen"]), &mut out, &mut err);
        let err = String::from_utf8(err).unwrap();
        assert_eq!(code, EXIT_USAGE);
        assert!(
            err.starts_with(
                "error: `lisen` is not a pitchbar-admin command. Did you mean `listen`?"
            ),
            "{err}"
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(args(&["pitchbar-admin", "xyzzy"]), &mut out, &mut err);
        let err = String::from_utf8(err).unwrap();
        assert_eq!(code, EXIT_USAGE);
        assert!(!err.contains("Did you mean"), "{err}");
        assert!(err.contains("pitchbar-admin --help"), "{err}");
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
