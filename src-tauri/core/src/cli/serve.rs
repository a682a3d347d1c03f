//! `pitchbar-admin serve`: the app's background work without a window (the webhook dispatcher,
//! the local API on 127.0.0.1, notifications, knowledge ingestion) over the same data dir,
//! until Ctrl-C or SIGTERM.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;

use super::output::{fail, EXIT_FAILED, EXIT_OK};
use crate::api::ApiConfig;
use crate::{Core, Startup};

#[derive(clap::Args)]
#[command(
    about = "Run the webhook dispatcher, the local API and notifications without a window",
    long_about = "Run the webhook dispatcher, the local API on 127.0.0.1, the Slack / Teams / \
                  Discord notifications and knowledge-source ingestion without a window, over \
                  the app's data (PITCHBAR_DATA_DIR, or the OS app-data folder). Pending \
                  deliveries, notifications and ingestions resume. Ctrl-C or SIGTERM stops it \
                  cleanly: requests in flight are answered and deliveries in flight are logged. \
                  Do not run it beside the open app on the same data.",
    after_help = "Exit codes:\n  \
                  0  stopped cleanly after Ctrl-C or SIGTERM\n  \
                  1  could not start (the data cannot be opened, the port is in use, …)\n  \
                  2  usage error"
)]
pub(super) struct ServeArgs {
    /// The local API's port on 127.0.0.1; 0 picks a free one. Default: the port chosen in the
    /// app, else PITCHBAR_API_PORT, else 4787.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// The data folder to serve. Default: PITCHBAR_DATA_DIR, else the OS app-data folder.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(super) async fn run(
    args: ServeArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> i32 {
    let started = args
        .data_dir
        .map_or_else(crate::data_dir, Ok)
        .and_then(|dir| Core::open(&dir))
        .and_then(|core| {
            let config = match args.port {
                Some(port) => ApiConfig::on_port(port),
                None => core.settings().api_config()?,
            };
            // The API first: a port in use (often the open app on the same data) then stops
            // us before a second dispatcher could send the same pending deliveries.
            let addr = core.start_api(config)?;
            core.start_dispatcher(Default::default())?;
            core.start_notifier(Default::default());
            core.start_destinations(Default::default());
            core.start_sources(Default::default())?;
            Ok((core, addr))
        });
    let (core, addr) = match started {
        Ok(started) => started,
        Err(e) => return fail(err, EXIT_FAILED, &e.to_string()),
    };
    let _ = writeln!(out, "Serving {}", core.data_dir().display());
    let _ = writeln!(out, "  local API: http://{addr}");
    let paused = core.settings().deliveries_paused().unwrap_or(false);
    let _ = writeln!(
        out,
        "  webhook dispatcher: {}",
        if paused {
            "paused (deliveries wait; resume them in the app)"
        } else {
            "running"
        }
    );
    let _ = writeln!(out, "  notifications and knowledge ingestion: running");
    if let Ok(Startup::NeedsSetup) = core.startup() {
        let _ = writeln!(
            out,
            "  no workspace here yet: run `pitchbar-admin init` or open the app to set it up (until then the API refuses every key)"
        );
    }
    let _ = writeln!(out, "Press Ctrl-C to stop.");
    let _ = out.flush();

    stop.await;
    let _ = writeln!(out, "Stopping…");
    let _ = out.flush();
    core.stop_api().await;
    core.stop_notifier().await;
    core.stop_destinations().await;
    core.stop_sources().await;
    core.stop_dispatcher().await;
    let _ = writeln!(out, "Stopped.");
    EXIT_OK
}
