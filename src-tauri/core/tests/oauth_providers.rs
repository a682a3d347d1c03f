//! The providers file: overrides apply, and every mistake is named with the file and the key.

use std::path::{Path, PathBuf};

use pitchbar_core::catalog::{RedirectStyle, RevocationStyle};
use pitchbar_core::oauth::{AppSettings, Providers};
use pitchbar_core::Error;

fn write(dir: &Path, body: &str) -> PathBuf {
    let file = dir.join("providers.json");
    std::fs::write(&file, body).unwrap();
    file
}

fn message(err: Error) -> String {
    match err {
        Error::InvalidInput(m) => m,
        other => panic!("expected invalid_input, got {other:?}"),
    }
}

#[test]
fn overrides_apply_over_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        r#"{"providers": {"notion": {"client_id": "cid", "client_secret": "cs",
            "token_url": "https://notion.example/token", "userinfo_url": "https://notion.example/me",
            "revocation_url": "https://notion.example/revoke", "scopes": ["a"]}}}"#,
    );
    let providers = Providers::load(&file, true).unwrap();
    let notion = providers.provider("notion").unwrap();
    assert_eq!(notion.client_id, "cid");
    assert_eq!(notion.client_secret.as_ref().unwrap().expose(), "cs");
    assert!(
        !format!("{notion:?}").contains("\"cs\""),
        "the secret is not printed"
    );
    assert_eq!(notion.redirect, RedirectStyle::DeepLink);
    assert_eq!(
        notion.authorize_url.as_str(),
        "https://api.notion.com/v1/oauth/authorize"
    );
    assert_eq!(notion.token_url.as_str(), "https://notion.example/token");
    let (style, url) = notion.revocation.unwrap();
    assert_eq!(style, RevocationStyle::Notion);
    assert_eq!(url.as_str(), "https://notion.example/revoke");
    assert_eq!(notion.scopes, ["a"]);
}

#[test]
fn a_provider_without_a_client_says_where_to_set_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("providers.json");
    let providers = Providers::load(&missing, false).unwrap();
    let m = message(providers.provider("google-docs").unwrap_err());
    assert!(m.contains("Google Docs cannot be connected yet"), "{m}");
    assert!(m.contains("Settings → OAuth apps"), "{m}");
}

#[test]
fn the_app_entered_in_the_window_fills_in_the_account_details() {
    let dir = tempfile::tempdir().unwrap();
    let providers = Providers::load(&dir.path().join("providers.json"), false).unwrap();
    let app = |f: &dyn Fn(&mut AppSettings)| {
        let mut a = AppSettings {
            client_id: Some("cid".into()),
            ..AppSettings::default()
        };
        f(&mut a);
        a
    };
    // Zendesk: the subdomain in every URL, and the port Zendesk matches exactly.
    let m = message(providers.resolve("zendesk", &app(&|_| {})).unwrap_err());
    assert!(m.contains("needs your account's subdomain"), "{m}");
    let zendesk = providers
        .resolve("zendesk", &app(&|a| a.subdomain = Some("acme".into())))
        .unwrap();
    assert_eq!(
        zendesk.token_url.as_str(),
        "https://acme.zendesk.com/oauth/tokens"
    );
    assert_eq!(
        zendesk.revocation.unwrap().1.as_str(),
        "https://acme.zendesk.com/api/v2/oauth/tokens/current"
    );
    assert_eq!(zendesk.loopback_port, Some(47822));
    // Salesforce: a sandbox or My Domain login host in place of production's.
    let sandbox = providers
        .resolve(
            "salesforce",
            &app(&|a| a.login_host = Some("test.salesforce.com".into())),
        )
        .unwrap();
    assert_eq!(
        sandbox.authorize_url.as_str(),
        "https://test.salesforce.com/services/oauth2/authorize"
    );
    assert_eq!(sandbox.token_api_base.as_deref(), Some("instance_url"));
    // The redirect style the person chose, where the provider allows a choice.
    let notion = providers
        .resolve(
            "notion",
            &app(&|a| {
                a.redirect = Some(RedirectStyle::Loopback);
                a.loopback_port = Some(50123);
            }),
        )
        .unwrap();
    assert_eq!(notion.redirect, RedirectStyle::Loopback);
    assert_eq!(notion.loopback_port, Some(50123));
    assert_eq!(notion.client_id, "cid");
}

#[test]
fn mistakes_are_named_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-a-cert.pem"), "hello").unwrap();
    for (body, expected) in [
        ("{ not json", "is not valid"),
        (r#"{"provider": {}}"#, "unknown field"),
        (
            r#"{"providers": {"nope": {}}}"#,
            "\"nope\", which is not an integration id",
        ),
        (
            r#"{"providers": {"zapier": {}}}"#,
            "does not connect with OAuth",
        ),
        (
            r#"{"providers": {"notion": {"client_idd": "x"}}}"#,
            "unknown field",
        ),
        (r#"{"ca_certificates": ["missing.pem"]}"#, "cannot be read"),
        (
            r#"{"ca_certificates": ["not-a-cert.pem"]}"#,
            "is not a PEM certificate",
        ),
    ] {
        let file = write(dir.path(), body);
        let m = match Providers::load(&file, true) {
            Ok(_) => panic!("{body} was accepted"),
            Err(err) => message(err),
        };
        assert!(m.contains(&file.display().to_string()), "{m}");
        assert!(m.contains(expected), "{body}: {m}");
    }

    let file = write(
        dir.path(),
        r#"{"providers": {"notion": {"client_id": "x", "token_url": "http://plain.example/token"}}}"#,
    );
    let m = message(
        Providers::load(&file, true)
            .unwrap()
            .provider("notion")
            .unwrap_err(),
    );
    assert!(
        m.contains("providers.notion.token_url must be an https:// URL"),
        "{m}"
    );

    let m = message(
        Providers::load(&dir.path().join("absent.json"), true)
            .err()
            .unwrap(),
    );
    assert!(m.contains("does not exist"), "{m}");
}

#[test]
fn provider_urls_may_be_plain_http_only_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let base = |url: &str| {
        let file = write(
            dir.path(),
            &format!(
                r#"{{"providers": {{"notion": {{"client_id": "x", "api_base_url": "{url}"}}}}}}"#
            ),
        );
        Providers::load(&file, true).unwrap().provider("notion")
    };
    for ok in [
        "https://notion.example",
        "http://127.0.0.1:8080/notion",
        "http://localhost:1/x",
    ] {
        assert_eq!(
            base(ok)
                .unwrap()
                .api_base_url
                .unwrap()
                .as_str()
                .trim_end_matches('/'),
            ok
        );
    }
    let m = message(base("http://notion.example").unwrap_err());
    assert!(
        m.contains("providers.notion.api_base_url must be an https:// URL")
            && m.contains("http:// only to 127.0.0.1 or localhost"),
        "{m}"
    );
}
