//! The local receiver's request handling: a real receiver (`Core::receiver().start`, as the
//! tests start it) on 127.0.0.1 over a real SQLite file, sent fuzzed requests over loopback TCP.
//! Input: byte 0 picks the mode, the rest is
//! - mode 0: raw bytes written to a fresh connection (then its write side is closed);
//! - mode 1, 2: a request as text, `METHOD path` on the first line, `Name: value` header lines,
//!   a blank line, the body; it is sent well-formed (framing headers are ours), and in mode 2
//!   signed with the receiver's secret.
//!
//! Checked beyond "no panic": every connection is answered with an HTTP/1.x status line or
//! closed, within seconds, never with a 5xx (505 aside: hyper's answer to an HTTP version it
//! does not speak); a well-formed request is answered 200 (the receiver's default answer) unless
//! it came from a web page (`Origin`, `Sec-Fetch-Site`), which may be refused with a 4xx; a
//! signed one is recorded with its method, path and body exactly, and found valid (or a replay,
//! when the same body was signed in the same second before); the receiver still answers a
//! known-good request every 1,000 inputs.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use pitchbar_core::receiver::{ReceiverConfig, ReceiverQuery, VerifyWith};
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::sign;
use pitchbar_core::webhooks::verify::VerdictCode;
use pitchbar_core::workspace::{Actor, MemberInput, Role};
use pitchbar_core::Core;
use socket2::{Domain, Protocol, Socket, Type};

const SECRET: &str = "whsec_receiver_fuzz_secret_0123456789";
const WAIT: Duration = Duration::from_secs(5);

struct World {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    core: Core,
    /// The workspace's Owner, who may clear the log.
    owner: Actor,
    addr: SocketAddr,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let core = Core::open(dir.path()).unwrap();
        let owner_input = MemberInput {
            name: "Fuzz Owner".into(),
            email: "owner@fuzz.test".into(),
            role: Role::Owner,
        };
        core.workspaces().set_up("Fuzz", owner_input).unwrap();
        let owner = core.workspaces().actor().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let addr = {
            let _in = rt.enter();
            core.receiver()
                .start(ReceiverConfig {
                    port: 0,
                    verify_with: VerifyWith::Secret(Secret::new(SECRET)),
                    ..ReceiverConfig::default()
                })
                .unwrap()
        };
        World {
            _dir: dir,
            rt,
            core,
            owner,
            addr,
        }
    })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A fresh connection from the next of 250 loopback source addresses: the receiver closes each
/// connection first, so its side keeps each (address, port) pair in TIME_WAIT for a minute, and
/// thousands of connections a second from one address would soon reuse a port still waiting.
fn connect(addr: SocketAddr) -> TcpStream {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 250;
    let from = SocketAddr::from(([127, 0, 0, 1 + n as u8], 0));
    // Retried on EINTR (libFuzzer's timer signal interrupts a blocking connect).
    for _ in 0..100 {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        socket
            .bind(&from.into())
            .expect("a loopback source address");
        match socket.connect_timeout(&addr.into(), WAIT) {
            Ok(()) => return socket.into(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("the receiver refused a connection: {e}"),
        }
    }
    panic!("connecting to the receiver was interrupted 100 times")
}

/// Sends `bytes` on a fresh connection and reads until the receiver closes: what it answered
/// (empty: it closed without an answer). `close_write`: the client then closes its write side,
/// which ends a request that was cut short (the receiver does not support half-closed
/// connections, so it may then close without answering even a complete request).
fn exchange(addr: SocketAddr, bytes: &[u8], close_write: bool) -> Vec<u8> {
    let mut conn = connect(addr);
    conn.set_read_timeout(Some(WAIT)).unwrap();
    conn.set_nodelay(true).unwrap();
    // The receiver may close first (a request it refuses): a failed write is an answer too.
    let _ = conn.write_all(bytes);
    if close_write {
        let _ = conn.shutdown(Shutdown::Write);
    }
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!(
                    "the receiver neither answered nor closed within {WAIT:?} ({} bytes so far)",
                    answer.len()
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break, // reset: closed
        }
        assert!(started.elapsed() < WAIT * 2, "the answer never ends");
    }
    answer
}

/// The final status of an answer (interim 1xx skipped), if it has one.
fn status(answer: &[u8]) -> Option<u16> {
    let mut rest = answer;
    loop {
        if rest.is_empty() {
            return None;
        }
        assert!(
            rest.starts_with(b"HTTP/1.1 ") || rest.starts_with(b"HTTP/1.0 "),
            "not an HTTP/1.x answer: {:?}",
            String::from_utf8_lossy(&rest[..rest.len().min(200)])
        );
        let code: u16 = std::str::from_utf8(&rest[9..12])
            .ok()
            .and_then(|c| c.parse().ok())
            .expect("a status code");
        if !(100..200).contains(&code) {
            return Some(code);
        }
        let end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an interim answer ends");
        rest = &rest[end + 4..];
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Headers the framing of the request is made of: ours to set, so the request stays well-formed.
const FRAMING: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "upgrade",
    "te",
    "keep-alive",
    "x-pitchbar-signature",
];

struct Built {
    bytes: Vec<u8>,
    method: String,
    path: String,
    body: Vec<u8>,
    from_a_page: bool,
}

fn build(text: &[u8], id: u64, port: u16, signed: bool) -> Built {
    let (head, body) = match text.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => (text, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or(&[]);
    let (m, p) = match first.iter().position(|&b| b == b' ') {
        Some(i) => (&first[..i], &first[i + 1..]),
        None => (first, &[][..]),
    };
    let mut method: String = m
        .iter()
        .filter(|&&b| is_tchar(b))
        .map(|&b| char::from(b))
        .collect();
    if method.is_empty() || method.eq_ignore_ascii_case("CONNECT") || method.len() > 32 {
        method = "POST".into();
    }
    let mut path = format!("/fz/{id}/");
    for &b in p.iter().take(512) {
        match b {
            b'#' | b' ' | b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^' => {
                path.push_str(&format!("%{b:02X}"))
            }
            0x21..=0x7e => path.push(char::from(b)),
            _ => path.push_str(&format!("%{b:02X}")),
        }
    }
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n").into_bytes();
    let mut from_a_page = false;
    for line in lines.take(64) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            continue;
        }
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        if FRAMING.contains(&lower.as_str()) {
            continue;
        }
        from_a_page |= lower == "origin" || lower == "sec-fetch-site";
        let value: Vec<u8> = line[colon + 1..]
            .iter()
            .copied()
            .filter(|&b| b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
            .collect();
        request.extend_from_slice(name);
        request.extend_from_slice(b": ");
        request.extend_from_slice(&value);
        request.extend_from_slice(b"\r\n");
    }
    if signed {
        let signature = sign(&[&Secret::new(SECRET)], now(), body);
        request.extend_from_slice(format!("X-Pitchbar-Signature: {signature}\r\n").as_bytes());
    }
    request.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    request.extend_from_slice(body);
    let recorded_path = path.split('?').next().unwrap_or("").to_owned();
    Built {
        bytes: request,
        method,
        path: recorded_path,
        body: body.to_vec(),
        from_a_page,
    }
}

/// Waits until the newest recorded request is the one sent to `path`, and checks it.
fn check_recorded(w: &World, built: &Built) {
    let deadline = Instant::now() + WAIT;
    loop {
        let page = w
            .core
            .receiver_log()
            .list(&ReceiverQuery {
                limit: Some(1),
                ..ReceiverQuery::default()
            })
            .unwrap();
        if let Some(newest) = page.requests.first().filter(|r| r.path == built.path) {
            let detail = w.core.receiver_log().get(newest.id).unwrap();
            assert_eq!(detail.summary.method, built.method);
            assert_eq!(detail.body, built.body);
            assert!(
                matches!(
                    detail.verdict.code,
                    VerdictCode::Valid | VerdictCode::Replayed
                ),
                "a signed request was found {:?}: {}",
                detail.verdict.code,
                detail.verdict.detail
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the request to {} was never recorded",
            built.path
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fuzz_target!(|data: &[u8]| {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let w = world();
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    if n % 1000 == 999 {
        // Still alive, still verifying; and the log kept small.
        let known = build(
            b"POST /alive\n\n{\"event\":\"lead.captured\"}",
            n,
            w.addr.port(),
            true,
        );
        assert_eq!(status(&exchange(w.addr, &known.bytes, false)), Some(200));
        check_recorded(w, &known);
        w.core.receiver_log().clear(&w.owner).unwrap();
    }
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Some(code) = status(&exchange(w.addr, rest, true)) {
                assert!(code < 500 || code == 505, "answered {code}");
            }
        }
        m => {
            let built = build(rest, n, w.addr.port(), m == 2);
            let code = status(&exchange(w.addr, &built.bytes, false));
            if built.from_a_page {
                assert!(
                    matches!(code, Some(200..=299 | 400..=499)),
                    "answered {code:?}"
                );
            } else {
                assert_eq!(
                    code,
                    Some(200),
                    "{:?}",
                    String::from_utf8_lossy(&built.bytes)
                );
                if m == 2 {
                    check_recorded(w, &built);
                }
            }
        }
    }
    let _ = &w.rt;
});
