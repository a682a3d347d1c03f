//! Webhook endpoints on a real SQLite file: checks with clear messages, the Member refused
//! for every change with nothing written, update and delete. Their signing secrets are in
//! endpoint_secrets.rs and endpoint_secret_failures.rs.

mod support;

use std::time::Duration;

use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::Error;
use support::endpoints::{input, message, set_up, snapshot};

#[test]
fn create_sets_the_defaults_and_shows_the_secret_only_redacted() {
    let (_dir, core, owner, _) = set_up();
    let view = core
        .webhook_endpoints()
        .create(&owner, input("https://crm.example.com/hooks"))
        .unwrap();
    assert_eq!(view.policy, Policy::Single);
    assert_eq!(view.max_attempts, 1);
    assert_eq!(view.timeout_ms, 5_000);
    assert!(view.active);
    assert!(view.warning.is_none());
    assert_eq!(view.events.len(), 2);
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&owner, &view.id)
        .unwrap();
    assert!(secret.expose().starts_with("whsec_"));
    assert_eq!(view.secret_redacted, secret.redacted());
    let json = serde_json::to_string(&core.webhook_endpoints().list().unwrap()).unwrap();
    assert!(
        !json.contains(secret.expose()),
        "no view carries the secret"
    );

    let mut again = input("https://crm.example.com/hooks");
    again.policy = Policy::AtLeastOnce;
    let v = core.webhook_endpoints().create(&owner, again).unwrap();
    assert_eq!(v.max_attempts, 5, "at-least-once defaults to 5 attempts");
    let mut three = input("https://crm.example.com/hooks");
    three.policy = Policy::AtLeastOnce;
    three.max_attempts = Some(3);
    three.timeout_ms = Some(60_000);
    let v = core.webhook_endpoints().create(&owner, three).unwrap();
    assert_eq!((v.max_attempts, v.timeout_ms), (3, 60_000));
}

#[test]
fn plain_http_is_warned_about_unless_loopback() {
    let (_dir, core, owner, _) = set_up();
    let remote = core
        .webhook_endpoints()
        .create(&owner, input("http://crm.example.com/hooks"))
        .unwrap();
    assert!(remote.warning.unwrap().contains("plain http"));
    for local in [
        "http://127.0.0.1:8080/h",
        "http://localhost:3000/h",
        "http://[::1]:9/h",
    ] {
        let v = core
            .webhook_endpoints()
            .create(&owner, input(local))
            .unwrap();
        assert!(v.warning.is_none(), "{local}");
    }
}

#[test]
fn bad_urls_events_and_settings_are_refused_with_nothing_written() {
    let (_dir, core, owner, _) = set_up();
    let before = snapshot(&core);
    let long = format!("https://example.com/{}", "a".repeat(2100));
    let cases: Vec<(EndpointInput, &str)> = vec![
        (input(""), "Enter the URL"),
        (input("not a url"), "not a valid URL"),
        (input("ftp://example.com/x"), "https://"),
        (input("file:///etc/passwd"), "https://"),
        (
            input("https://user:pw@example.com/x"),
            "user name and password",
        ),
        (input(&long), "2048"),
        (
            EndpointInput {
                events: vec![],
                ..input("https://example.com")
            },
            "at least one event",
        ),
        (
            EndpointInput {
                events: vec!["lead.deleted".into()],
                ..input("https://example.com")
            },
            "Valid event types: lead.captured",
        ),
        (
            EndpointInput {
                events: vec!["message.received".into()],
                ..input("https://example.com")
            },
            "conversation.message",
        ),
        (
            EndpointInput {
                timeout_ms: Some(61_000),
                ..input("https://example.com")
            },
            "between 1 and 60 seconds",
        ),
        (
            EndpointInput {
                timeout_ms: Some(10),
                ..input("https://example.com")
            },
            "between 1 and 60 seconds",
        ),
        (
            EndpointInput {
                policy: Policy::AtLeastOnce,
                max_attempts: Some(11),
                ..input("https://example.com")
            },
            "between 1 and 10",
        ),
        (
            EndpointInput {
                max_attempts: Some(3),
                ..input("https://example.com")
            },
            "at-least-once",
        ),
    ];
    for (bad, expected) in cases {
        let err = core.webhook_endpoints().create(&owner, bad).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(
            message(&err).contains(expected),
            "{:?} lacks {expected}",
            message(&err)
        );
    }
    assert_eq!(snapshot(&core), before, "nothing written");

    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    let before = snapshot(&core);
    let err = core
        .webhook_endpoints()
        .update(&owner, &ep.id, input("gopher://x"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    let err = core
        .webhook_endpoints()
        .rotate_secret(&owner, &ep.id, Duration::from_secs(30 * 24 * 3600))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    assert_eq!(snapshot(&core), before);
}

#[test]
fn a_member_is_forbidden_every_change_and_nothing_is_written() {
    let (_dir, core, owner, member) = set_up();
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    let before = snapshot(&core);
    let eps = core.webhook_endpoints();
    let results = [
        eps.create(&member, input("https://example.com/x")).err(),
        eps.update(&member, &ep.id, input("https://example.com/y"))
            .err(),
        eps.delete(&member, &ep.id).err(),
        eps.rotate_secret(&member, &ep.id, Duration::from_secs(60))
            .err(),
        eps.reveal_secret(&member, &ep.id).err(),
    ];
    for err in results {
        let err = err.expect("refused");
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        assert!(message(&err).contains("Member"));
    }
    assert_eq!(snapshot(&core), before);
    // Members still see everything.
    assert_eq!(eps.list().unwrap().len(), 1);
}

#[test]
fn update_turning_on_clears_the_disabled_reason_and_delete_says_what_goes() {
    let (_dir, core, owner, _) = set_up();
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    core.store()
        .conn()
        .execute(
            "UPDATE webhook_endpoint SET active = 0, disabled_reason = '410' WHERE id = ?1",
            [&ep.id],
        )
        .unwrap();
    let mut changed = input("https://example.com/new");
    changed.description = "  new  ".into();
    let v = core
        .webhook_endpoints()
        .update(&owner, &ep.id, changed)
        .unwrap();
    assert!(v.active && v.disabled_reason.is_none());
    assert_eq!(v.url, "https://example.com/new");
    assert_eq!(v.description, "new");

    let impact = core.webhook_endpoints().delete_impact(&ep.id).unwrap();
    assert_eq!(impact.logged_attempts, 0);
    core.webhook_endpoints().delete(&owner, &ep.id).unwrap();
    assert!(matches!(
        core.webhook_endpoints().get(&ep.id).unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(matches!(
        core.webhook_endpoints().delete(&owner, &ep.id).unwrap_err(),
        Error::NotFound(_)
    ));
}
