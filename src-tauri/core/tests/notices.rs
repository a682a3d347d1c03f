//! Notices (the bell and the OS notification centre) written by the dispatcher as it happens:
//! an endpoint that starts failing is told once while unread, one turned off (410 Gone) too;
//! they outlive a restart; each is handed to the OS once, only for the kinds switched on.

mod support;

use std::time::{Duration, Instant};

use pitchbar_core::notices::{NoticeKind, NoticeList};
use pitchbar_core::webhooks::endpoints::Policy;
use pitchbar_core::Core;
use support::dispatch::{endpoint, fire_lead, receiver_and_owner, settled, test_config};

async fn until_listed(core: &Core, what: impl Fn(&NoticeList) -> bool) -> NoticeList {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = core.notices().list().unwrap();
        if what(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "still {list:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_failing_endpoint_is_told_once_and_a_turned_off_one_too_across_a_restart() {
    let (rx, dir, core, owner) = receiver_and_owner().await;
    let failing = core
        .webhook_endpoints()
        .create(
            &owner,
            endpoint(&rx.url("/fail"), Policy::AtLeastOnce, Some(4)),
        )
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "dead");
    assert!(rx.hits().len() >= 4, "every attempt was made");

    let list = core.notices().list().unwrap();
    assert_eq!(list.unread, 1, "four failed attempts, one notice: {list:?}");
    let notice = &list.notices[0];
    assert_eq!(notice.kind, NoticeKind::EndpointFailing);
    assert_eq!(notice.link, format!("endpoint:{}", failing.id));
    assert!(notice.body.contains(&rx.url("/fail")), "{}", notice.body);
    assert!(!notice.read);

    // Handed to the OS once.
    let shown = core.notices().take_unshown().unwrap();
    assert_eq!(shown.len(), 1);
    assert!(core.notices().take_unshown().unwrap().is_empty());

    // Turned off for 410 Gone, with that kind switched off for the OS: listed, not shown.
    core.notices()
        .set_switch(NoticeKind::EndpointDisabled, false)
        .unwrap();
    core.webhook_endpoints()
        .delete(&owner, &failing.id)
        .unwrap();
    core.webhook_endpoints()
        .create(&owner, endpoint(&rx.url("/gone"), Policy::Single, None))
        .unwrap();
    fire_lead(&core);
    let list = until_listed(&core, |l| l.unread == 2).await;
    assert_eq!(list.notices[0].kind, NoticeKind::EndpointDisabled);
    assert!(
        list.notices[0].body.contains("410"),
        "{}",
        list.notices[0].body
    );
    assert!(core.notices().take_unshown().unwrap().is_empty());
    let switches = core.notices().switches().unwrap();
    assert_eq!(
        switches.iter().map(|s| (s.kind, s.os)).collect::<Vec<_>>(),
        [
            (NoticeKind::EndpointFailing, true),
            (NoticeKind::EndpointDisabled, false),
            (NoticeKind::DestinationFailing, true),
            (NoticeKind::RevocationPending, true),
            (NoticeKind::SourceFailing, true),
            (NoticeKind::LeadCaptured, false),
        ],
        "all on by default but new leads; the one switched off"
    );

    // Written before shown: they outlive the app; read state is kept.
    core.stop_dispatcher().await;
    drop(core);
    let core = Core::open(dir.path()).unwrap();
    let list = core.notices().list().unwrap();
    assert_eq!(list.unread, 2);
    let first = list.notices[1].id;
    let list = core.notices().mark_read(Some(vec![first])).unwrap();
    assert_eq!(list.unread, 1);
    assert!(list.notices[1].read && !list.notices[0].read);
    let list = core.notices().mark_read(None).unwrap();
    assert_eq!(list.unread, 0);
}

#[tokio::test]
async fn a_new_lead_is_a_notice_only_when_switched_on() {
    let (_rx, _dir, core, owner) = receiver_and_owner().await;
    let agent = core.agents().list().unwrap().remove(0);
    let lead = |name: &str| pitchbar_core::leads::LeadInput {
        agent_id: Some(agent.id.clone()),
        name: Some(name.into()),
        email: Some(format!("{}@example.com", name.to_lowercase())),
        ..Default::default()
    };
    core.leads().capture(lead("Quiet")).unwrap();
    assert!(
        core.notices().list().unwrap().notices.is_empty(),
        "off by default"
    );

    core.notices()
        .set_switch(NoticeKind::LeadCaptured, true)
        .unwrap();
    core.leads().capture(lead("Loud")).unwrap();
    let list = core.notices().list().unwrap();
    assert_eq!(list.notices.len(), 1);
    assert_eq!(list.notices[0].title, "New lead: Loud");
    assert_eq!(list.notices[0].body, "loud@example.com");
    assert_eq!(core.notices().take_unshown().unwrap().len(), 1);
    let _ = owner;
}
