//! Endpoints that keep failing are turned off, as Stripe and Svix do: a real receiver on
//! 127.0.0.1 answering 500, a real SQLite file, and the dispatcher's clock moved forward by the
//! test instead of waiting days.

mod support;

use std::time::{Duration, Instant};

use pitchbar_core::clock::{parse_time, rfc3339_ms};
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{DisabledFor, EndpointView, Policy};
use pitchbar_core::Core;
use pitchbar_core::Error;
use support::dispatch::{
    attempts_of, endpoint, fire_lead, lead, receiver_and_owner, settled, status_of, test_config,
};
use support::oauth::TestClock;
use support::test_receiver::Answer;
use support::workspace::member_actor;

const HOUR: Duration = Duration::from_secs(3600);

fn view(core: &Core, id: &str) -> EndpointView {
    core.webhook_endpoints().get(id).unwrap()
}

/// Waits (up to 15 s) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The attempted_at of the delivery's first logged attempt, in unix ms.
fn first_attempt_at(core: &Core, delivery_id: &str) -> i64 {
    core.store()
        .conn()
        .query_row(
            "SELECT min(attempted_at) FROM webhook_attempt WHERE delivery_id = ?1",
            [delivery_id],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn an_endpoint_failing_for_the_period_is_disabled_its_deliveries_held_then_sent_on_reenabling(
) {
    let (rx, _dir, core, owner) = receiver_and_owner().await;
    let failing = || Answer::status(500).body("down for maintenance");
    rx.answer_with(move |_| failing());
    let clock = TestClock::default();
    // Retries an hour apart: a failed delivery stays pending, as it would in the app.
    let config = DispatcherConfig {
        backoff_base: HOUR,
        backoff_max: HOUR,
        clock: clock.clock(),
        ..test_config()
    };
    assert_eq!(
        core.webhook_endpoints().disable_after().unwrap().hours,
        120,
        "five days unless the workspace chose otherwise"
    );
    core.webhook_endpoints()
        .set_disable_after(&owner, 48)
        .unwrap();
    let ep = core
        .webhook_endpoints()
        .create(
            &owner,
            endpoint(&rx.url("/hook"), Policy::AtLeastOnce, Some(10)),
        )
        .unwrap();
    assert_eq!(ep.failing_since, None);
    core.start_dispatcher(config.clone()).unwrap();

    // The first failure starts the run; the card counts down from it.
    let a = fire_lead(&core);
    until("a's first attempt logged", || attempts_of(&core, &a) == 1).await;
    let t0 = first_attempt_at(&core, &a);
    let v = view(&core, &ep.id);
    assert_eq!(v.failing_since.as_deref(), Some(rfc3339_ms(t0).as_str()));
    assert_eq!(
        v.disables_at.as_deref(),
        Some(rfc3339_ms(t0 + 48 * 3_600_000).as_str())
    );
    assert!(v.active);

    // Three hours on, another failure: the run still started at the first one.
    clock.advance(3 * HOUR);
    let b = fire_lead(&core);
    until("b's attempt and a's retry logged", || {
        attempts_of(&core, &b) == 1 && attempts_of(&core, &a) == 2
    })
    .await;
    assert_eq!(
        view(&core, &ep.id).failing_since.as_deref(),
        Some(rfc3339_ms(t0).as_str())
    );

    // A success mid-way resets the run: no countdown any more.
    rx.answer_with(|_| Answer::ok("thanks"));
    clock.advance(HOUR);
    let c = fire_lead(&core);
    assert_eq!(settled(&core, &c).await, "succeeded");
    let v = view(&core, &ep.id);
    assert_eq!(v.failing_since, None);
    assert_eq!(v.disables_at, None);

    // Failing again: a new run, from its own first failure.
    rx.answer_with(move |_| failing());
    clock.advance(3 * HOUR);
    let d = fire_lead(&core);
    until("d's first attempt logged", || attempts_of(&core, &d) == 1).await;
    let t1 = first_attempt_at(&core, &d);
    assert_eq!(
        view(&core, &ep.id).failing_since.as_deref(),
        Some(rfc3339_ms(t1).as_str())
    );

    // Just short of the period: still on.
    clock.advance(47 * HOUR);
    let e = fire_lead(&core);
    until("e's attempt logged", || attempts_of(&core, &e) >= 1).await;
    assert!(view(&core, &ep.id).active, "47 hours of failures is not 48");

    // Past it: the next failure turns the endpoint off, and says why and when.
    clock.advance(HOUR + Duration::from_secs(60));
    let f = fire_lead(&core);
    until("the endpoint turned off", || !view(&core, &ep.id).active).await;
    let v = view(&core, &ep.id);
    assert_eq!(v.disabled_for, Some(DisabledFor::Failing));
    let reason = v.disabled_reason.clone().unwrap();
    assert!(reason.contains("after failing for 2 days"), "{reason}");
    assert!(
        reason.contains("500 Internal Server Error"),
        "the last error is named: {reason}"
    );
    let disabled_at = parse_time(v.disabled_at.as_deref().unwrap()).unwrap();
    assert!(disabled_at >= t1 + 48 * 3_600_000, "{disabled_at} vs {t1}");
    assert_eq!(v.disables_at, None, "no countdown once it is off");
    // The audit trail says the app did it, and why.
    let trail = support::audit::entries(&core, &Default::default());
    let off = trail.last().unwrap();
    assert_eq!(off.action, "endpoint.disabled");
    assert_eq!(off.surface, pitchbar_core::audit::Surface::App);
    assert_eq!(
        (off.member_id.as_deref(), off.member_name.as_str()),
        (None, "Pitchbar Admin")
    );
    assert!(
        off.summary.contains("after failing for 2 days"),
        "{}",
        off.summary
    );

    // Its pending deliveries are held, not cancelled, also across a restart of the dispatcher.
    // (a and b may have succeeded while the receiver answered; d, e and f are waiting.)
    // Their retries fall due (the restart hands every pending one to the scheduler again).
    clock.advance(3 * HOUR);
    core.stop_dispatcher().await;
    core.start_dispatcher(config.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held: Vec<String> = [&a, &b, &d, &e, &f]
        .into_iter()
        .filter(|id| status_of(&core, id) == "pending")
        .cloned()
        .collect();
    for id in [&d, &e, &f] {
        assert!(held.contains(id), "delivery {id} is held");
    }
    for id in [&a, &b] {
        assert!(
            held.contains(id) || status_of(&core, id) == "succeeded",
            "delivery {id} is neither held nor sent"
        );
    }
    assert_eq!(view(&core, &ep.id).held_deliveries as usize, held.len());
    let hits_while_off = rx.hits().len();
    // Off: new events are not queued for it (as for an endpoint turned off by hand).
    assert!(core.outbox().fire(&lead()).unwrap().delivery_ids.is_empty());

    // A Member cannot turn it back on; nothing changes.
    let member = member_actor(&core, &owner);
    let err = core
        .webhook_endpoints()
        .enable(&member, &ep.id)
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(!view(&core, &ep.id).active);

    // One click by an Owner: on again, the run forgotten, the held deliveries sent.
    rx.answer_with(|_| Answer::ok("thanks"));
    let v = core.webhook_endpoints().enable(&owner, &ep.id).unwrap();
    assert!(v.active);
    assert_eq!(
        (
            v.disabled_reason,
            v.disabled_for,
            v.disabled_at,
            v.failing_since
        ),
        (None, None, None, None)
    );
    assert_eq!(v.held_deliveries, 0);
    for id in &held {
        assert_eq!(settled(&core, id).await, "succeeded", "delivery {id}");
    }
    assert!(rx.hits().len() >= hits_while_off + held.len());
    core.stop_dispatcher().await;
}

#[tokio::test]
async fn the_period_is_a_setting_owners_and_admins_change_within_bounds() {
    let (_rx, _dir, core, owner) = receiver_and_owner().await;
    let endpoints = core.webhook_endpoints();
    let member = member_actor(&core, &owner);
    let err = endpoints.set_disable_after(&member, 24).unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    for bad in [0, 721] {
        let err = endpoints.set_disable_after(&owner, bad).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(
            err.to_string().contains("Choose from 1 hour to 30 days"),
            "{err}"
        );
    }
    assert_eq!(endpoints.disable_after().unwrap().hours, 120);
    assert_eq!(endpoints.set_disable_after(&owner, 1).unwrap().hours, 1);
    assert_eq!(endpoints.disable_after().unwrap().hours, 1);
}
