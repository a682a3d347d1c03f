//! Pausing webhook deliveries (the tray's and the API & Webhooks tab's Pause): events are
//! still accepted and wait, pending, across a restart, until a person resumes; only Owners and
//! Admins may; both are in the audit trail. And the background status the tray shows.

mod support;

use std::time::Duration;

use pitchbar_core::audit::{Area, AuditQuery};
use pitchbar_core::webhooks::endpoints::Policy;
use pitchbar_core::{Core, Error};
use support::dispatch::{endpoint, fire_lead, receiver_and_owner, settled, status_of, test_config};
use support::workspace::member_actor;

#[tokio::test]
async fn paused_deliveries_wait_across_a_restart_and_go_out_on_resume() {
    let (rx, dir, core, owner) = receiver_and_owner().await;
    core.webhook_endpoints()
        .create(&owner, endpoint(&rx.url("/ok"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let before = fire_lead(&core);
    assert_eq!(settled(&core, &before).await, "succeeded");

    // A Member may not pause; nothing changes and nothing is recorded.
    let member = member_actor(&core, &owner);
    assert!(matches!(
        core.pause_deliveries(&member).await,
        Err(Error::Forbidden(_))
    ));
    assert!(!core.background_status().unwrap().deliveries_paused);

    core.pause_deliveries(&owner).await.unwrap();
    core.pause_deliveries(&owner).await.unwrap(); // twice: still one entry
    let waiting = fire_lead(&core);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status_of(&core, &waiting), "pending");
    assert_eq!(rx.hits().len(), 1, "nothing is sent while paused");
    let status = core.background_status().unwrap();
    assert!(status.deliveries_paused);
    assert_eq!(status.pending_deliveries, 1);

    // The pause outlives the app: started again, the dispatcher does not send.
    core.stop_dispatcher().await;
    drop(core);
    let core = Core::open(dir.path()).unwrap();
    core.start_dispatcher(test_config()).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status_of(&core, &waiting), "pending");
    assert_eq!(rx.hits().len(), 1);

    core.resume_deliveries(&owner).unwrap();
    assert_eq!(settled(&core, &waiting).await, "succeeded");
    assert_eq!(rx.hits().len(), 2);
    let status = core.background_status().unwrap();
    assert!(!status.deliveries_paused);
    assert_eq!(status.pending_deliveries, 0);

    let trail = support::audit::entries(
        &core,
        &AuditQuery {
            area: Some(Area::Deliveries),
            ..Default::default()
        },
    );
    let actions: Vec<_> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["deliveries.paused", "deliveries.resumed"]);
    assert_eq!(trail[0].member_name, "Ada Owner");
    core.stop_dispatcher().await;
}

#[tokio::test]
async fn the_status_counts_failing_and_turned_off_endpoints_and_the_running_services() {
    let (rx, _dir, core, owner) = receiver_and_owner().await;
    let calm = core.background_status().unwrap();
    assert_eq!(
        (
            calm.failing_endpoints,
            calm.disabled_endpoints,
            calm.pending_deliveries
        ),
        (0, 0, 0)
    );
    assert_eq!(calm.receiver_addr, None);
    assert_eq!(calm.api_addr, None);

    // At least once, so the failing delivery stays pending between its retries.
    core.webhook_endpoints()
        .create(
            &owner,
            endpoint(&rx.url("/fail"), Policy::AtLeastOnce, Some(10)),
        )
        .unwrap();
    core.webhook_endpoints()
        .create(&owner, endpoint(&rx.url("/gone"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    fire_lead_to_all(&core);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        let s = core.background_status().unwrap();
        if s.failing_endpoints == 1 && s.disabled_endpoints == 1 {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "still {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.pending_deliveries >= 1, "{status:?}");

    let api = core
        .start_api(pitchbar_core::api::ApiConfig::on_port(0))
        .unwrap();
    let receiver = core
        .receiver()
        .start(pitchbar_core::receiver::ReceiverConfig {
            port: 0,
            ..Default::default()
        })
        .unwrap();
    let running = core.background_status().unwrap();
    assert_eq!(running.api_addr, Some(api.to_string()));
    assert_eq!(running.receiver_addr, Some(receiver.to_string()));
    core.receiver().stop().await;
    core.stop_api().await;
    core.stop_dispatcher().await;
}

fn fire_lead_to_all(core: &Core) {
    let fired = core.outbox().fire(&support::dispatch::lead()).unwrap();
    assert_eq!(fired.delivery_ids.len(), 2);
}
