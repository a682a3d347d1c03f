//! `pitchbar-admin verify`: a header, a body and a secret → the verdict and its diagnosis, as
//! the app's verify tool gives it.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::output::{fail, secret_arg, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::receiver::TOLERANCE_SECS;
use crate::secret::Secret;
use crate::webhooks::verify::{diagnose, Candidate, CandidateState};

#[derive(clap::Args)]
#[command(
    about = "Check an X-Pitchbar-Signature header against a body and a secret, and say why it fails",
    after_help = "Exit codes:\n  \
                  0  the signature is valid\n  \
                  1  it is not (the diagnosis says why: body altered or re-serialized, timestamp \
                  too old or in the future, malformed header, …)\n  \
                  2  usage error (missing argument, unreadable --body-file)"
)]
pub(super) struct VerifyArgs {
    /// The endpoint's signing secret (whsec_…). Prefer the environment variable: a command
    /// line can be read by other users of this machine.
    #[arg(
        long,
        value_name = "S",
        env = "PITCHBAR_WEBHOOK_SECRET",
        hide_env_values = true,
        value_parser = secret_arg
    )]
    secret: Secret,
    /// The X-Pitchbar-Signature header's value, like t=1700000000,v1=5257a869….
    #[arg(long, value_name = "H")]
    header: String,
    /// The raw body exactly as received; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    body_file: PathBuf,
    /// Print the verdict as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: VerifyArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut body = Vec::new();
    let read = if args.body_file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut body).map(|_| ())
    } else {
        std::fs::read(&args.body_file).map(|b| body = b)
    };
    if let Err(e) = read {
        let shown = args.body_file.display();
        return fail(
            err,
            EXIT_USAGE,
            &format!("cannot read the body file {shown}: {e}."),
        );
    }
    let candidates = [Candidate {
        label: "the secret given".into(),
        secret: args.secret,
        state: CandidateState::Current,
    }];
    let verdict = diagnose(
        Some(args.header.trim()),
        &body,
        &candidates,
        time::OffsetDateTime::now_utc().unix_timestamp(),
        TOLERANCE_SECS,
        false,
    );
    let written = if args.json {
        serde_json::to_string(&verdict)
            .map_err(std::io::Error::other)
            .and_then(|line| writeln!(out, "{line}"))
    } else {
        let mark = if verdict.valid { "valid" } else { "invalid" };
        writeln!(out, "{mark}: {}\n{}", verdict.title, verdict.detail)
    };
    if written.is_err() {
        return EXIT_FAILED;
    }
    if verdict.valid {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
