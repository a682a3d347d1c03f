//! The receiver and the local API against hostile clients: a web page in the user's browser
//! (`Origin`, `Sec-Fetch-Site`), DNS rebinding (a foreign `Host`), a huge signature header, and
//! a thousand connections that never finish their headers.

mod support;

use std::time::{Duration, Instant};

use pitchbar_core::api::ApiConfig;
use pitchbar_core::loopback::Limits;
use pitchbar_core::receiver::{ReceiverConfig, VerifyWith};
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::verify::VerdictCode;
use pitchbar_core::Core;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::receiver::{http, recorded, started, BODY, SECRET};

/// Sends `request` as raw bytes and returns the answer's status (None: closed without one) and
/// how long the answer took from the first byte sent.
async fn raw(addr: &str, request: &[u8]) -> (Option<u16>, Duration) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    // The server may answer (and close) before it has read everything: a failed write is fine.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let status = std::str::from_utf8(&answer)
        .ok()
        .and_then(|a| a.split(' ').nth(1))
        .and_then(|s| s.parse().ok());
    (status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_pages_and_foreign_hosts_are_refused_and_shown_refused() {
    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    let port = base.rsplit(':').next().unwrap().to_owned();
    let big = vec![b'x'; 4 * 1024 * 1024];
    let cases: [(&str, &str, &[u8], &str); 4] = [
        // What `fetch(…, {mode: "no-cors", method: "POST"})` from any page sends.
        (
            "origin",
            "https://example.com",
            &big,
            "Origin: https://example.com",
        ),
        (
            "sec-fetch-site",
            "cross-site",
            BODY.as_bytes(),
            "Sec-Fetch-Site",
        ),
        (
            "sec-fetch-site",
            "same-site",
            BODY.as_bytes(),
            "Sec-Fetch-Site",
        ),
        ("host", "attacker.test", BODY.as_bytes(), "attacker.test"),
    ];
    for (name, value, body, said) in cases {
        let value = if name == "host" {
            format!("{value}:{port}")
        } else {
            value.to_owned()
        };
        let res = http()
            .post(format!("{base}/webhooks"))
            .header(name, &value)
            .header("content-type", "text/plain")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{name}: {value}");
        let text = res.text().await.unwrap();
        assert!(text.contains(said), "{name}: {text}");
    }
    // The user typing the address in a browser, and a real sender: answered as configured.
    for headers in [vec![("sec-fetch-site", "none")], vec![]] {
        let mut req = http().post(format!("{base}/webhooks")).body(BODY);
        for (n, v) in headers {
            req = req.header(n, v);
        }
        assert_eq!(req.send().await.unwrap().status(), 200);
    }
    let log = recorded(&core, 6).await;
    let refused: Vec<_> = log
        .iter()
        .filter(|r| r.verdict_code == VerdictCode::Refused)
        .collect();
    assert_eq!(refused.len(), 4, "{log:#?}");
    for r in &refused {
        assert!(!r.valid);
        assert_eq!(r.response_status, Some(403));
        // Nothing of a refused body is kept (a page's 4 MiB included).
        assert_eq!(r.body_size, 0);
        assert!(
            r.verdict_title.starts_with("Refused"),
            "{}",
            r.verdict_title
        );
    }
    let details: Vec<String> = refused
        .iter()
        .map(|r| core.receiver_log().get(r.id).unwrap().verdict.detail)
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("Origin: https://example.com") && d.contains("web page")),
        "{details:#?}"
    );

    // The local API: the same Host rule, before the key is looked at.
    let addr = core.start_api(ApiConfig::on_port(0)).unwrap();
    let api = format!("http://{addr}/v1/leads");
    let foreign = http()
        .get(&api)
        .header("host", format!("rebound.attacker.test:{}", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let body: serde_json::Value = foreign.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden_host", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("rebound.attacker.test"));
    for host in ["127.0.0.1", "localhost"] {
        let res = http()
            .get(&api)
            .header("host", format!("{host}:{}", addr.port()))
            .send()
            .await
            .unwrap();
        // Past the Host rule: now the key is asked for.
        assert_eq!(res.status(), 401, "{host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_signature_header_is_answered_at_once() {
    let secret = Secret::new(SECRET);
    let (_dir, core, base) = started(VerifyWith::Secret(secret)).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let request = |parts: usize| {
        let header: String = (0..parts).map(|i| format!("k{i:05}=1,")).collect();
        format!(
            "POST /webhooks HTTP/1.1\r\nHost: {addr}\r\nX-Pitchbar-Signature: t=1,{header}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
            BODY.len()
        )
        .into_bytes()
    };
    // 60,000 parts, 480 KB: over the 64 KB header limit, refused before anything parses it.
    let huge = request(60_000);
    assert!(huge.len() > 480_000);
    // 6,000 parts, 48 KB: within it, so the signature parser sees it (and refuses its size).
    let large = request(6_000);
    for (request, status) in [(&huge, 431), (&large, 200)] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let (answered, took) = raw(&addr, request).await;
            assert_eq!(answered, Some(status));
            times.push(took);
        }
        times.sort();
        let median = times[2];
        assert!(
            median < Duration::from_millis(50),
            "{} KB header answered in {median:?} (median of 5)",
            request.len() / 1000
        );
    }
    let log = recorded(&core, 5).await;
    assert!(log
        .iter()
        .all(|r| r.verdict_code == VerdictCode::HeaderMalformed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_are_closed_and_the_api_keeps_answering() {
    let limits = Limits {
        header_read: Duration::from_secs(1),
        ..Limits::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let receiver = core
        .receiver()
        .start(ReceiverConfig {
            port: 0,
            limits,
            ..ReceiverConfig::default()
        })
        .unwrap()
        .to_string();
    let api = core.start_api(ApiConfig { port: 0, limits }).unwrap();

    // A thousand clients start a request to the receiver and never finish its headers, and a
    // hundred do the same to the API.
    let slow = |addr: String| async move {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(format!("POST / HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").as_bytes())
            .await
            .unwrap();
        let opened = Instant::now();
        let mut buf = [0u8; 512];
        // Closed by the server: end of stream or a reset, with no answer.
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "a slow connection was not closed: {read:?}"
        );
        opened.elapsed()
    };
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        clients.spawn(slow(receiver.clone()));
    }
    for _ in 0..100 {
        clients.spawn(slow(api.to_string()));
    }
    // Meanwhile the API answers at once, every time.
    let client = http();
    for _ in 0..10 {
        let asked = Instant::now();
        let res = client
            .get(format!("http://{api}/v1/leads"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut longest = Duration::ZERO;
    while let Some(took) = clients.join_next().await {
        longest = longest.max(took.unwrap());
    }
    // 1,000 connections, 256 at a time, a second each: all closed within a few seconds.
    assert!(longest < Duration::from_secs(15), "{longest:?}");
    // And the receiver answers again.
    let res = http()
        .post(format!("http://{receiver}/webhooks"))
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
