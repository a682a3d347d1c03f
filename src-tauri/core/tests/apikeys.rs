//! API-key connections against the provider fakes: checked with the provider before anything is
//! kept, refused in the provider's words with nothing kept, bad input refused before any call,
//! kept in the keychain only, and forgotten on disconnect.

mod support;

use pitchbar_core::connections::ConnectionStatus;
use pitchbar_core::Error;
use serde_json::json;
use support::apikeys::*;
use support::files::{contains, data_dir_bytes};

/// A provider, form values, and the secret among them (or what a refusal says).
type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

/// Each provider, with the values its fake accepts, and the secret among them.
fn accepted() -> Vec<Case> {
    vec![
        (
            "freshdesk",
            vec![("subdomain", "acme"), ("api_key", FRESHDESK_KEY)],
            FRESHDESK_KEY,
        ),
        (
            "shopify",
            vec![
                ("shop", "acme-store.myshopify.com"),
                ("access_token", SHOPIFY_TOKEN),
            ],
            SHOPIFY_TOKEN,
        ),
        (
            "woocommerce",
            vec![
                ("store_url", "https://shop.example.com/"),
                ("consumer_key", WOO_KEY),
                ("consumer_secret", WOO_SECRET),
            ],
            WOO_SECRET,
        ),
        (
            "activecampaign",
            vec![
                ("api_url", "https://acme.api-us1.com"),
                ("api_key", AC_TOKEN),
            ],
            AC_TOKEN,
        ),
        (
            "whatsapp-business",
            vec![
                ("phone_number_id", WHATSAPP_PHONE),
                ("access_token", WHATSAPP_TOKEN),
            ],
            WHATSAPP_TOKEN,
        ),
        ("segment", vec![("write_key", SEGMENT_KEY)], SEGMENT_KEY),
        (
            "google-analytics",
            vec![("measurement_id", GA_ID), ("api_secret", "ga-secret-0001")],
            "ga-secret-0001",
        ),
    ]
}

#[tokio::test]
async fn every_provider_connects_with_good_credentials_and_disconnects_without_a_trace() {
    let w = World::new();
    for (provider, values, secret) in accepted() {
        let connection = w
            .connect(provider, &values)
            .await
            .unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert_eq!(connection.status, ConnectionStatus::Active, "{provider}");
        assert_eq!(connection.connected_by.as_deref(), Some("Ada Owner"));
        let stored = w
            .stored(&connection.id)
            .expect("credentials in the keychain");
        assert!(stored.to_string().contains(secret), "{provider}: {stored}");
        assert!(w.listed().iter().any(|c| c.id == connection.id));

        let gone = w.core.disconnect(&w.owner, &connection.id).await.unwrap();
        assert_eq!(gone.status, ConnectionStatus::Inactive);
        assert_eq!(
            w.stored(&connection.id),
            None,
            "{provider}: keychain entry left behind"
        );
        assert!(!w.listed().iter().any(|c| c.id == connection.id));
        // The audit trail names the provider and who, never the credentials.
        let trail = support::audit::entries(&w.core, &Default::default());
        let last = &trail[trail.len() - 2..];
        assert_eq!(last[0].action, "connection.connected", "{provider}");
        assert_eq!(last[1].action, "connection.disconnected", "{provider}");
        assert!(last.iter().all(|e| e.member_name == "Ada Owner"));
        assert!(
            last[1].summary.contains("deleted from the keychain"),
            "{}",
            last[1].summary
        );
        for e in &trail {
            assert!(!e.summary.contains(secret) && !e.target.contains(secret));
        }
    }
}

#[tokio::test]
async fn the_card_names_the_account_from_the_answer_or_the_values() {
    let w = World::new();
    let fd = w
        .connect(
            "freshdesk",
            &[
                ("subdomain", "https://ACME.freshdesk.com/"),
                ("api_key", FRESHDESK_KEY),
            ],
        )
        .await
        .unwrap();
    assert_eq!(fd.account_label.as_deref(), Some("ada@acme.example"));
    let shop = w
        .connect(
            "shopify",
            &[("shop", "acme-store"), ("access_token", SHOPIFY_TOKEN)],
        )
        .await
        .unwrap();
    assert_eq!(shop.account_label.as_deref(), Some("Acme Store"));
    let woo = w
        .connect(
            "woocommerce",
            &[
                ("store_url", "shop.example.com"),
                ("consumer_key", WOO_KEY),
                ("consumer_secret", WOO_SECRET),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        woo.account_label.as_deref(),
        Some("https://shop.example.com")
    );
    let wa = w
        .connect(
            "whatsapp-business",
            &[
                ("phone_number_id", WHATSAPP_PHONE),
                ("access_token", WHATSAPP_TOKEN),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        wa.account_label.as_deref(),
        Some("+1 555-010-0000 · Acme Support")
    );
    // The request carried the provider's auth scheme.
    let calls = w.fakes.calls().await;
    let fd_call = calls.iter().find(|c| c["provider"] == "freshdesk").unwrap();
    assert_eq!(fd_call["path"], "/acme/api/v2/agents/me");
    assert!(fd_call["headers"]["authorization"]
        .as_str()
        .unwrap()
        .starts_with("Basic "));
}

#[tokio::test]
async fn a_wrong_key_is_refused_in_the_providers_words_and_nothing_is_kept() {
    let w = World::new();
    let cases = [
        (
            "freshdesk",
            vec![("subdomain", "acme"), ("api_key", "wrong")],
            "You have to be logged in to perform this action.",
        ),
        (
            "shopify",
            vec![("shop", "acme-store"), ("access_token", "shpat_wrong")],
            "[API] Invalid API key or access token",
        ),
        (
            "woocommerce",
            vec![
                ("store_url", "https://shop.example.com"),
                ("consumer_key", "ck_wrong"),
                ("consumer_secret", WOO_SECRET),
            ],
            "Consumer key is invalid.",
        ),
        (
            "woocommerce",
            vec![
                ("store_url", "https://shop.example.com"),
                ("consumer_key", WOO_KEY),
                ("consumer_secret", "cs_wrong"),
            ],
            "Consumer secret is invalid.",
        ),
        (
            "activecampaign",
            vec![
                ("api_url", "https://acme.api-us1.com"),
                ("api_key", "wrong"),
            ],
            "No Result found for Subscriber with id 0",
        ),
        (
            "whatsapp-business",
            vec![
                ("phone_number_id", WHATSAPP_PHONE),
                ("access_token", "EAAwrong"),
            ],
            "Invalid OAuth access token",
        ),
        (
            "whatsapp-business",
            vec![("phone_number_id", "999"), ("access_token", WHATSAPP_TOKEN)],
            "Object with ID '999' does not exist",
        ),
        (
            "google-analytics",
            vec![("measurement_id", "G-NOPE"), ("api_secret", "s")],
            "Unable to find a stream with measurement ID G-NOPE",
        ),
    ];
    for (provider, values, words) in cases {
        let err = w.connect(provider, &values).await.unwrap_err();
        assert!(matches!(err, Error::Upstream(_)), "{provider}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(words), "{provider}: {message}");
        assert!(message.contains("Nothing was saved"), "{message}");
    }
    assert!(w.listed().is_empty());
}

#[tokio::test]
async fn an_unknown_account_is_named_and_nothing_is_kept() {
    let w = World::new();
    let err = w
        .connect(
            "freshdesk",
            &[("subdomain", "nobody"), ("api_key", FRESHDESK_KEY)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("There is no Freshdesk helpdesk at nobody.freshdesk.com"),
        "{err}"
    );
    let err = w
        .connect("segment", &[("write_key", "not-a-key")])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Segment knows no source with this write key"),
        "{err}"
    );
    assert!(w.listed().is_empty());
}

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let w = World::new();
    let cases: [Case; 6] = [
        (
            "woocommerce",
            vec![
                ("store_url", "http://shop.example.com"),
                ("consumer_key", WOO_KEY),
                ("consumer_secret", WOO_SECRET),
            ],
            "Store URL must be an https:// address",
        ),
        (
            "activecampaign",
            vec![
                ("api_url", "http://acme.api-us1.com"),
                ("api_key", AC_TOKEN),
            ],
            "API URL must be an https:// address",
        ),
        (
            "shopify",
            vec![("shop", "acme store"), ("access_token", SHOPIFY_TOKEN)],
            "Store domain must be the name before .myshopify.com",
        ),
        (
            "freshdesk",
            vec![
                ("subdomain", "acme.example.com"),
                ("api_key", FRESHDESK_KEY),
            ],
            "Helpdesk subdomain must be the name before .freshdesk.com",
        ),
        (
            "freshdesk",
            vec![("subdomain", "acme"), ("api_key", "  ")],
            "API key is required",
        ),
        (
            "google-analytics",
            vec![("measurement_id", "UA-1-1"), ("api_secret", "s")],
            "Measurement ID must look like G-",
        ),
    ];
    for (provider, values, words) in cases {
        let err = w.connect(provider, &values).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{provider}: {err:?}");
        assert!(err.to_string().contains(words), "{provider}: {err}");
    }
    assert!(
        w.fakes.calls().await.is_empty(),
        "a call was made for bad input"
    );
    assert!(w.listed().is_empty());
}

#[tokio::test]
async fn a_provider_that_does_not_answer_or_limits_changes_nothing() {
    let w = World::new();
    w.fakes
        .control(
            "POST",
            "script",
            json!({"path": "^/freshdesk/", "status": 429, "retry_after": 7}),
        )
        .await;
    let err = w
        .connect(
            "freshdesk",
            &[("subdomain", "acme"), ("api_key", FRESHDESK_KEY)],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("limiting requests") && err.to_string().contains("7 seconds"),
        "{err}"
    );
    w.fakes
        .control(
            "POST",
            "script",
            json!({"path": "^/shopify/", "status": 503, "body": {"errors": "Service Unavailable"}}),
        )
        .await;
    let err = w
        .connect(
            "shopify",
            &[("shop", "acme-store"), ("access_token", SHOPIFY_TOKEN)],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("answered 503 (“Service Unavailable”)"),
        "{err}"
    );

    // Nothing listens where the providers file points WooCommerce.
    let dead = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let providers = providers_file(dead.path(), port);
    let config = pitchbar_core::oauth::OAuthConfig::new(dead.path()).with_providers_file(providers);
    let core = support::oauth::core(dead.path(), config);
    let owner = support::oauth::actor(&core);
    let values = [
        ("store_url", "https://shop.example.com"),
        ("consumer_key", WOO_KEY),
        ("consumer_secret", WOO_SECRET),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let err = core
        .api_key_connections()
        .connect(&owner, "woocommerce", values)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Upstream(_)), "{err:?}");
    assert!(
        err.to_string().contains("WooCommerce did not answer"),
        "{err}"
    );
    assert!(!err.to_string().contains(WOO_SECRET));
    assert!(pitchbar_core::connections::list(core.store())
        .unwrap()
        .is_empty());
    assert!(w.listed().is_empty());
}

#[tokio::test]
async fn a_member_cannot_connect_and_a_second_connection_is_refused() {
    let w = World::new();
    let member = support::workspace::member_actor(&w.core, &w.owner);
    let values = [("write_key", SEGMENT_KEY)]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let err = w
        .core
        .api_key_connections()
        .connect(&member, "segment", values)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(w.fakes.calls().await.is_empty());

    w.connect("segment", &[("write_key", SEGMENT_KEY)])
        .await
        .unwrap();
    let err = w
        .connect("segment", &[("write_key", SEGMENT_KEY)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let err = w.connect("notion", &[("api_key", "x")]).await.unwrap_err();
    assert!(
        err.to_string().contains("does not connect with an API key"),
        "{err}"
    );
}

/// No key or secret the tests used is in the
/// database, its WAL, or any log line.
#[tokio::test]
async fn no_secret_is_in_the_database_its_wal_or_the_logs() {
    let w = World::new();
    for (provider, values, _) in accepted() {
        w.connect(provider, &values).await.unwrap();
    }
    let _ = w
        .connect(
            "freshdesk",
            &[("subdomain", "acme"), ("api_key", "fd-wrong-key-7777")],
        )
        .await;
    let bytes = data_dir_bytes(w.data.path());
    assert!(
        contains(&bytes, "Acme Store"),
        "the scan reads the database"
    );
    let logs = logs();
    assert!(
        logs.contains("connected with an API key"),
        "the scan reads the logs"
    );
    let secrets = [
        FRESHDESK_KEY,
        SHOPIFY_TOKEN,
        WOO_KEY,
        WOO_SECRET,
        AC_TOKEN,
        WHATSAPP_TOKEN,
        SEGMENT_KEY,
        "ga-secret-0001",
        "fd-wrong-key-7777",
    ];
    for secret in secrets {
        assert!(!contains(&bytes, secret), "{secret} is in the data dir");
        assert!(!logs.contains(secret), "{secret} is in the logs");
    }
}
