//! The local receiver recognising a signature it received before: after a restart, from an
//! earlier run (found through the log's replay index, not a scan), and from a log written before
//! that index existed. Real loopback HTTP and a real SQLite file.

mod support;

use pitchbar_core::receiver::VerifyWith;
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::verify::VerdictCode;
use pitchbar_core::Core;
use support::now_secs as now;
use support::receiver::{config, newest, post, recorded, reopened, signed, started, BODY, SECRET};

#[tokio::test]
async fn a_replay_after_a_restart_is_still_recognised() {
    let (dir, core, base) = started(VerifyWith::Secret(Secret::new(SECRET))).await;
    let header = signed(SECRET, now(), BODY.as_bytes());
    post(&base, "/a", Some(&header), BODY.as_bytes()).await;
    recorded(&core, 1).await;
    core.receiver().stop().await;
    drop(core);
    let (core, base) = reopened(dir.path(), VerifyWith::Secret(Secret::new(SECRET)));
    post(&base, "/b", Some(&header), BODY.as_bytes()).await;
    assert_eq!(newest(&core, 2).await.verdict.code, VerdictCode::Replayed);
    // An old signature sent again: too old first, and the replay is said too.
    let old = signed(SECRET, now() - 1_000, BODY.as_bytes());
    post(&base, "/c", Some(&old), BODY.as_bytes()).await;
    recorded(&core, 3).await;
    core.receiver().stop().await;
    let addr = core
        .receiver()
        .start(config(VerifyWith::Secret(Secret::new(SECRET))))
        .unwrap();
    post(&format!("http://{addr}"), "/d", Some(&old), BODY.as_bytes()).await;
    let d = newest(&core, 4).await;
    assert_eq!(d.verdict.code, VerdictCode::TimestampTooOld);
    assert!(
        d.verdict.detail.contains("received before"),
        "{}",
        d.verdict.detail
    );
    core.receiver().stop().await;
}

/// Pushes every logged request an hour into the past, as if received in an earlier run: the
/// in-memory replay set loaded at start leaves them out, so only the log's index knows them.
fn age_the_log(core: &Core) {
    core.store()
        .write(|tx| {
            tx.execute(
                "UPDATE receiver_request SET received_at = received_at - 3600000",
                [],
            )?;
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn an_old_signature_received_in_an_earlier_run_is_found_in_the_log() {
    let (dir, core, base) = started(VerifyWith::Secret(Secret::new(SECRET))).await;
    let old = signed(SECRET, now() - 1_000, BODY.as_bytes());
    let other = signed(SECRET, now() - 1_001, BODY.as_bytes());
    post(&base, "/first", Some(&old), BODY.as_bytes()).await;
    recorded(&core, 1).await;
    core.receiver().stop().await;
    age_the_log(&core);
    drop(core);

    let (core, base) = reopened(dir.path(), VerifyWith::Secret(Secret::new(SECRET)));
    post(&base, "/other", Some(&other), BODY.as_bytes()).await;
    let fresh = newest(&core, 2).await;
    assert_eq!(fresh.verdict.code, VerdictCode::TimestampTooOld);
    assert!(
        !fresh.verdict.detail.contains("received before"),
        "{}",
        fresh.verdict.detail
    );
    post(&base, "/again", Some(&old), BODY.as_bytes()).await;
    let again = newest(&core, 3).await;
    assert_eq!(again.summary.path, "/again");
    assert!(
        again.verdict.detail.contains("received before"),
        "{}",
        again.verdict.detail
    );
    // The lookup, and the load at start, seek the replay index and read nothing else: not a
    // scan of the log, not its rows.
    let plan = |sql: &str| -> String {
        core.store()
            .conn()
            .query_row(&format!("EXPLAIN QUERY PLAN {sql}"), [], |r| r.get(3))
            .unwrap()
    };
    assert_eq!(
        plan("SELECT 1 FROM receiver_request WHERE signed_at = 1 AND signature = x'00' LIMIT 1"),
        "SEARCH receiver_request USING COVERING INDEX receiver_request_replay (signed_at=?)"
    );
    assert_eq!(
        plan(
            "SELECT signed_at, signature FROM receiver_request
             WHERE signature IS NOT NULL AND signed_at >= 1"
        ),
        "SEARCH receiver_request USING COVERING INDEX receiver_request_replay (signed_at>?)"
    );
    core.receiver().stop().await;
}

#[tokio::test]
async fn requests_logged_before_the_replay_index_are_still_known_after_the_upgrade() {
    // A log written by a build before migration 0008: no signed_at column, the signed
    // timestamp only inside the verdict's JSON, received an hour ago (outside the window
    // loaded into memory at start).
    let dir = tempfile::tempdir().unwrap();
    pitchbar_core::store::create_at_version(dir.path(), 7).unwrap();
    let t = now() - 1_000;
    let old = signed(SECRET, t, BODY.as_bytes());
    let sig = pitchbar_core::webhooks::signing::parse_signature_header(&old)
        .unwrap()
        .v1[0];
    let conn = rusqlite::Connection::open(dir.path().join("pitchbar.db")).unwrap();
    conn.execute(
        "INSERT INTO receiver_request (received_at, method, path, body_size, valid, verdict_code,
             verdict_title, response_status, response_closed, response_delay_ms, signature,
             verdict, headers, body)
         VALUES (?1, 'POST', '/first', ?2, 0, 'timestamp_too_old', 'Timestamp too old', 200, 0,
             0, ?3, ?4, '[]', ?5)",
        rusqlite::params![
            (now() - 3_600) * 1000,
            BODY.len() as i64,
            &sig[..],
            // The whole verdict, as rows were written then.
            format!(
                r#"{{"valid":false,"code":"timestamp_too_old","title":"Timestamp too old","detail":"Made 16 min ago.","matched":"the secret you entered","timestamp":{t},"skew_secs":-700,"signatures_in_header":1}}"#
            ),
            BODY.as_bytes(),
        ],
    )
    .unwrap();
    drop(conn);

    let (core, base) = reopened(dir.path(), VerifyWith::Secret(Secret::new(SECRET)));
    // The old row still reads as it was written.
    let first = core.receiver_log().get(1).unwrap();
    assert_eq!(
        (first.verdict.code, first.verdict.title.as_str()),
        (VerdictCode::TimestampTooOld, "Timestamp too old")
    );
    assert_eq!(first.verdict.detail, "Made 16 min ago.");
    assert_eq!(
        first.verdict.matched.as_deref(),
        Some("the secret you entered")
    );
    assert_eq!(
        (first.verdict.timestamp, first.verdict.skew_secs),
        (Some(t), Some(-700))
    );
    post(&base, "/again", Some(&old), BODY.as_bytes()).await;
    let again = newest(&core, 2).await;
    assert_eq!(again.summary.path, "/again");
    assert_eq!(again.verdict.code, VerdictCode::TimestampTooOld);
    assert!(
        again.verdict.detail.contains("received before"),
        "{}",
        again.verdict.detail
    );
    core.receiver().stop().await;
}
