//! Pitchbar's own receiver as its tests drive it: started on a free port with a way to verify,
//! started again on the same data dir, sent requests signed or not, and its log read back once
//! the requests are recorded.

use std::time::{Duration, Instant};

use pitchbar_core::receiver::{
    ReceivedDetail, ReceivedSummary, ReceiverConfig, ReceiverQuery, VerifyWith,
};
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::sign;
use pitchbar_core::Core;

pub const SECRET: &str = "whsec_receiver_test_secret_0123456789";
pub const BODY: &str = r#"{"event":"lead.captured","occurred_at":"2027-01-15T08:00:00Z","data":{"lead_id":"01J","name":"Ada"}}"#;

pub fn signed(secret: &str, t: i64, body: &[u8]) -> String {
    sign(&[&Secret::new(secret)], t, body)
}

pub fn http() -> reqwest::Client {
    super::install_crypto();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub fn config(verify_with: VerifyWith) -> ReceiverConfig {
    ReceiverConfig {
        port: 0,
        verify_with,
        ..ReceiverConfig::default()
    }
}

pub async fn started(verify_with: VerifyWith) -> (tempfile::TempDir, Core, String) {
    let dir = tempfile::tempdir().unwrap();
    let (core, base) = reopened(dir.path(), verify_with);
    (dir, core, base)
}

/// The app started again on `dir`, its receiver running.
pub fn reopened(dir: &std::path::Path, verify_with: VerifyWith) -> (Core, String) {
    let core = Core::open(dir).unwrap();
    let addr = core.receiver().start(config(verify_with)).unwrap();
    (core, format!("http://{addr}"))
}

pub async fn post(
    base: &str,
    path: &str,
    signature: Option<&str>,
    body: &[u8],
) -> reqwest::Response {
    let mut req = http()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("X-Pitchbar-Signature", s);
    }
    req.send().await.unwrap()
}

/// Waits until `n` requests are recorded (records are committed just after the answer).
pub async fn recorded(core: &Core, n: usize) -> Vec<ReceivedSummary> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = core
            .receiver_log()
            .list(&ReceiverQuery {
                limit: Some(500),
                ..ReceiverQuery::default()
            })
            .unwrap();
        if page.requests.len() >= n {
            return page.requests;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} recorded",
            page.requests.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn newest(core: &Core, n: usize) -> ReceivedDetail {
    let id = recorded(core, n).await[0].id;
    core.receiver_log().get(id).unwrap()
}
