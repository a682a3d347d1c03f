//! A fixed amount of the dispatch benchmark's load, for deterministic measures that wall-clock
//! figures on a shared machine cannot give (instructions and CPU time per delivery):
//!
//!     cargo build --release -p pitchbar-core --example dispatch_count
//!     scripts/with-keychain.sh valgrind --tool=callgrind target/release/examples/dispatch_count deliveries 20000
//!     target/release/examples/dispatch_count plain 20000
//!
//! `deliveries N [E]` fires N events to E (default 1) endpoints on the loopback receiver, as the
//! benchmark does (`fire_many` in batches), and waits until every attempt is logged; `plain N
//! [E]` sends the same bodies as N plain POSTs to the same kind of receiver instead. Subtract a
//! run of N from one of 2N to cancel start-up costs. Prints the process's CPU time from /proc
//! (Linux).

use std::time::Duration;

#[path = "../benches/support/dispatch_load.rs"]
mod dispatch_load;

use dispatch_load::{plain_posts, receiver, run};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "deliveries".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let endpoints: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let receiver = receiver().await;
    match mode.as_str() {
        "plain" => {
            plain_posts(&receiver.0, endpoints, n * endpoints).await;
        }
        _ => {
            run(&receiver, endpoints, n, None).await;
        }
    }
    // Let the receiver's connections wind down before the process's counters are read.
    tokio::time::sleep(Duration::from_millis(20)).await;
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
        if let (Some(u), Some(s)) = (fields.get(11), fields.get(12)) {
            eprintln!("utime {u} stime {s}");
        }
    }
}
