//! The providers file (`oauth::Providers`): any text is read or refused with a message naming
//! the file. Checked on what is accepted: every OAuth provider of the catalog resolves or is
//! refused as the user's input (never an internal error); the secrets it holds are non-empty;
//! and moving them out (`rewrite_without_secrets`, as the app does) leaves a file that is read
//! again the same, minus its secrets.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pitchbar_core::catalog::{self, ConnectionKind};
use pitchbar_core::error::Error;
use pitchbar_core::oauth::{AppSettings, Provider, Providers};

/// A folder of its own with a real CA certificate (`ca.pem`) the seeds name.
fn folder() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), include_bytes!("../data/ca.pem")).unwrap();
        let path = dir.path().to_path_buf();
        (dir, path)
    })
    .1
}

/// Everything of a provider but its secrets.
fn public(p: &Provider) -> String {
    format!(
        "{} {} {:?} {:?} {:?} {:?} {:?} {} {:?}",
        p.authorize_url,
        p.token_url,
        p.revocation,
        p.userinfo_url,
        p.api_base_url,
        p.scopes,
        p.metadata_url,
        p.client_id,
        p.loopback_port
    )
}

fn resolve_all(providers: &Providers) -> Vec<String> {
    let app = AppSettings {
        client_id: Some("fuzz-client".into()),
        subdomain: Some("acme".into()),
        login_host: Some("login.salesforce.com".into()),
        ..AppSettings::default()
    };
    catalog::all()
        .iter()
        .filter(|i| matches!(i.connection, ConnectionKind::Oauth(_)))
        .map(|i| match providers.resolve(&i.id, &app) {
            Ok(p) => public(&p),
            Err(err @ (Error::InvalidInput(_) | Error::NotFound(_))) => {
                let message = err.to_string();
                assert!(!message.is_empty());
                message
            }
            Err(err) => panic!("{}: not the user's input: {err:?}", i.id),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = folder().join("providers.json");
    let providers = match Providers::parse(&file, text) {
        Ok(p) => p,
        Err(err) => {
            assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
            assert!(err.to_string().starts_with("The providers file"), "{err}");
            return;
        }
    };
    let before = resolve_all(&providers);
    for secret in providers.file_secrets() {
        assert!(!secret.value.expose().trim().is_empty());
    }
    // The app's path: the file on disk, read, its secrets moved out, read again.
    std::fs::write(&file, text).unwrap();
    let loaded = Providers::load(&file, true).expect("the same text loads from the file");
    loaded.rewrite_without_secrets().expect("rewritten");
    let after = Providers::load(&file, true).expect("the rewritten file loads");
    assert!(after.file_secrets().is_empty());
    assert_eq!(resolve_all(&after), before);
    for i in catalog::all() {
        assert_eq!(
            after.api_base_override(&i.id),
            providers.api_base_override(&i.id)
        );
        assert_eq!(
            after.incoming_webhook_prefix(&i.id),
            providers.incoming_webhook_prefix(&i.id)
        );
    }
});
