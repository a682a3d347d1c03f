//! A fixed amount of the receiver benchmark's load, for deterministic measures that wall-clock
//! figures on a shared machine cannot give (instructions and syscalls per request):
//!
//!     cargo build --release -p pitchbar-core --example receiver_count
//!     valgrind --tool=callgrind target/release/examples/receiver_count receiver 20000
//!     strace -c -f target/release/examples/receiver_count bare 20000
//!
//! `receiver N` sends N signed 1 KB POSTs over `BENCH_CONNS` (default 16) keep-alive
//! connections — the same requests as benches/receiver.rs, verified against the same 3
//! candidates — waits until all N are recorded, and stops the receiver. `bare N` sends them to
//! the benchmark's bare hyper server instead. Subtract a run of N from one of 2N to cancel
//! start-up costs. Prints the process's syscall counts and CPU time from /proc (Linux).

use std::time::Duration;

#[path = "../benches/support/receiver_load.rs"]
mod receiver_load;

use receiver_load::{bare_server, env_or, load, newest_id, runtime, start_receiver, Until};

async fn receiver(conns: usize, total: u64) {
    let (_dir, core, addr) = start_receiver();
    load(addr, conns, Until::Count(total)).await;
    while newest_id(&core) < total as i64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    core.receiver().stop().await;
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "receiver".into());
    let total: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let conns = env_or("BENCH_CONNS", 16);
    runtime().block_on(async {
        match mode.as_str() {
            "bare" => {
                load(bare_server().await, conns, Until::Count(total)).await;
            }
            _ => receiver(conns, total).await,
        }
    });
    // Linux only: the process's read/write syscall counts and bytes, and its CPU time (user,
    // system; clock ticks), for comparing runs without a tracer's slowdown.
    if let Ok(io) = std::fs::read_to_string("/proc/self/io") {
        eprintln!("{}", io.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
        if let (Some(u), Some(s)) = (fields.get(11), fields.get(12)) {
            eprintln!("utime {u} stime {s}");
        }
    }
}
