//! The OAuth tests' world: a test CA, the real OAuth server of tests/fixtures/oauth-server
//! (Node, oidc-provider) on loopback TLS, a providers file pointing catalog providers at it, a
//! Core in a temp dir with the owner as actor, and a "browser" that logs in and consents.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pitchbar_core::catalog::RedirectStyle;
use pitchbar_core::connections::Connection;
use pitchbar_core::oauth::{Clock, OAuthAppInput, OAuthConfig};
use pitchbar_core::vault::VaultKey;
use pitchbar_core::workspace::Actor;
use pitchbar_core::Core;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use super::fixture::{self, try_spawn_node};

pub const CLIENT_ID: &str = "pitchbar-admin-test";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";

fn fixture_dir() -> PathBuf {
    fixture::fixture_dir("oauth-server")
}

/// What the OAuth server needs: Node, the fixture's packages and a real keychain. A missing
/// one fails the test with what to install.
pub fn prerequisites() {
    super::require::node();
    assert!(
        fixture_dir().join("node_modules/oidc-provider").exists(),
        "The OAuth test server's packages are missing: run scripts/setup.sh --test \
         (or npm --prefix tests/fixtures/oauth-server ci)."
    );
    super::require::keychain();
}

/// A CA made for this test, and a certificate for 127.0.0.1 signed by it.
pub struct TestCa {
    pub dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Pitchbar OAuth test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let leaf_cert = leaf
            .signed_by(&leaf_key, &Issuer::from_params(&ca, &ca_key))
            .unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("leaf.pem"), leaf_cert.pem()).unwrap();
        std::fs::write(dir.path().join("leaf.key"), leaf_key.serialize_pem()).unwrap();
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.path("ca.pem")).unwrap()
    }
}

/// The Node OAuth server; killed when dropped. Its state file outlives restarts.
pub struct OAuthServer {
    child: Option<Child>,
    pub port: u16,
    cert: PathBuf,
    key: PathBuf,
    state: PathBuf,
}

impl OAuthServer {
    pub fn start(ca: &TestCa) -> Self {
        let mut server = Self {
            child: None,
            port: 0,
            cert: ca.path("leaf.pem"),
            key: ca.path("leaf.key"),
            state: ca.path("oauth-state.json"),
        };
        server.run(0);
        server
    }

    fn run(&mut self, port: u16) {
        let port = port.to_string();
        let args = [
            "--cert".as_ref(),
            self.cert.as_os_str(),
            "--key".as_ref(),
            self.key.as_os_str(),
            "--state".as_ref(),
            self.state.as_os_str(),
            "--port".as_ref(),
            port.as_ref(),
        ];
        // Its warnings and errors, to read when a test fails: <CA dir>/oauth-server.log.
        let log = self.state.with_file_name("oauth-server.log");
        let script = fixture_dir().join("server.mjs");
        // The same port again (a restart) may be held for a moment by a connection the OS
        // gave it to: a few tries.
        let mut tries = 0;
        let (child, port) = loop {
            match try_spawn_node(&script, args, Some(&log)) {
                Ok(started) => break started,
                Err(line) if tries < 10 && port != "0" => {
                    tries += 1;
                    eprintln!("the OAuth server did not start on port {port} ({line:?}); again");
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                Err(line) => panic!("{} did not start: {line:?}", script.display()),
            }
        };
        self.port = port;
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with the tokens it knew.
    pub fn restart(&mut self) {
        self.stop();
        self.run(self.port);
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A providers file pointing `notion` (deep link, Notion-style revoke) and `google-docs`
/// (loopback, RFC 7009) at the test server, trusting the test CA; with the test client in it.
pub fn write_providers_file(dir: &Path, ca: &TestCa, server: &OAuthServer) -> PathBuf {
    providers_file(dir, ca, server, true)
}

/// The same, with or without the client (`client_id` and `client_secret`): without, the client
/// is entered as an OAuth app, as in the window. Mailchimp is pointed at the server too, its
/// metadata endpoint at `/mailchimp/metadata`.
pub fn providers_file(dir: &Path, ca: &TestCa, server: &OAuthServer, client: bool) -> PathBuf {
    let provider = |revocation: &str| {
        let mut p = serde_json::json!({
            "authorize_url": server.url("/auth"),
            "token_url": server.url("/token"),
            "revocation_url": server.url(revocation),
            "userinfo_url": server.url("/me"),
            "scopes": ["openid", "email", "profile"],
        });
        if client {
            p["client_id"] = CLIENT_ID.into();
            p["client_secret"] = CLIENT_SECRET.into();
        }
        p
    };
    let mut mailchimp = provider("/token/revocation");
    mailchimp["metadata_url"] = server.url("/mailchimp/metadata").into();
    let file = dir.join("providers.json");
    let body = serde_json::json!({
        "ca_certificates": [ca.path("ca.pem")],
        "providers": {
            "notion": provider("/notion/v1/oauth/revoke"),
            "google-docs": provider("/token/revocation"),
            "mailchimp": mailchimp,
        }
    });
    std::fs::write(&file, serde_json::to_vec_pretty(&body).unwrap()).unwrap();
    file
}

/// One OAuth test's world: the CA, its own OAuth server, a data dir, the providers file and a
/// clock to move.
pub struct World {
    pub ca: TestCa,
    pub server: OAuthServer,
    pub data: tempfile::TempDir,
    pub providers: PathBuf,
    pub clock: TestClock,
}

/// A world whose providers file holds the test client.
pub fn world() -> World {
    world_with(true)
}

/// `client`: whether the providers file holds the client; without, it is entered as an app.
pub fn world_with(client: bool) -> World {
    prerequisites();
    let ca = TestCa::new();
    let server = OAuthServer::start(&ca);
    let data = tempfile::tempdir().unwrap();
    let providers = providers_file(ca.dir.path(), &ca, &server, client);
    World {
        ca,
        server,
        data,
        providers,
        clock: TestClock::default(),
    }
}

impl World {
    /// A Core on the world's data dir (opened again after a drop: a restart).
    pub fn core(&self) -> Core {
        core(
            self.data.path(),
            config(self.data.path(), &self.providers, &self.clock),
        )
    }
}

/// The test client as an OAuth app entered in the window for `provider`.
pub fn app_input(provider: &str) -> OAuthAppInput {
    OAuthAppInput {
        provider: provider.into(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect: None,
        loopback_port: None,
        subdomain: None,
        login_host: None,
    }
}

/// Asserts that none of `needles` is in the data dir (database, WAL, anything), the providers
/// file or the captured log.
pub fn scan(w: &World, needles: &[&str]) {
    let mut places = all_bytes(w.data.path());
    places.push((w.providers.clone(), std::fs::read(&w.providers).unwrap()));
    places.push(("the log".into(), super::logs::captured().into_bytes()));
    for (path, bytes) in places {
        for needle in needles {
            assert!(
                !super::files::contains(&bytes, needle),
                "a secret is in {}",
                path.display()
            );
        }
    }
}

/// A clock the test can move forward.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    pub fn clock(&self) -> Clock {
        let offset = self.0.clone();
        Clock::new(move || pitchbar_core::clock::unix_ms() + offset.load(Ordering::SeqCst))
    }
}

pub fn config(data_dir: &Path, providers: &Path, clock: &TestClock) -> OAuthConfig {
    let mut config = OAuthConfig::new(data_dir).with_providers_file(providers);
    config.clock = clock.clock();
    config.retry_min_delay = Duration::from_millis(200);
    config.retry_max_delay = Duration::from_secs(1);
    config
}

/// A Core with a workspace whose owner is `Ada Owner` (made the first time only).
pub fn core(data_dir: &Path, config: OAuthConfig) -> Core {
    let core = Core::open_with(data_dir, config).unwrap();
    if core.workspaces().session().unwrap().is_none() {
        super::workspace::set_up_owner(&core);
    }
    core
}

pub fn actor(core: &Core) -> Actor {
    core.workspaces().actor().unwrap()
}

pub fn workspace_id(core: &Core) -> String {
    core.workspaces().session().unwrap().unwrap().workspace.id
}

/// The system browser, as far as the tests need one: trusts the test CA, keeps the server's
/// cookies, follows nothing by itself.
pub fn browser(ca: &TestCa) -> reqwest::Client {
    super::install_crypto();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_merge([reqwest::Certificate::from_pem(&ca.ca_pem()).unwrap()])
        .build()
        .unwrap()
}

/// Opens the authorization URL, logs in as `user` and consents (or denies), and returns the
/// redirect to the app (`pitchbar://…` or `http://127.0.0.1:…/oauth/callback?…`) unvisited.
pub async fn authorize(browser: &reqwest::Client, url: &str, user: &str, deny: bool) -> String {
    let mut next = reqwest::Url::parse(url).unwrap();
    let mut post = false;
    for _ in 0..12 {
        let request = if post {
            let form: &[(&str, &str)] = if deny {
                &[("decision", "deny")]
            } else {
                &[("login", user)]
            };
            browser.post(next.clone()).form(form)
        } else {
            browser.get(next.clone())
        };
        let resp = request.send().await.unwrap();
        assert!(
            resp.status().is_redirection(),
            "{} answered {}: {}",
            next,
            resp.status(),
            resp.text().await.unwrap_or_default()
        );
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        if location.starts_with("pitchbar:") || location.starts_with("http://127.0.0.1") {
            return location;
        }
        next = next.join(&location).unwrap();
        post = next.path().starts_with("/interaction/");
    }
    panic!("the OAuth server never redirected back to the app");
}

/// Connects `provider` as the user and the OS would: alice consents in the browser, and the
/// redirect reaches the app (a deep link, or the browser visiting the loopback listener).
pub async fn sign_in(core: &Core, ca: &TestCa, provider: &str) -> Connection {
    let oauth = core.oauth();
    let auth = oauth.begin(&actor(core), provider).await.unwrap();
    let browser = browser(ca);
    let redirect = authorize(&browser, &auth.url, "alice", false).await;
    match auth.redirect_style {
        RedirectStyle::DeepLink => oauth.complete(&redirect).await.unwrap(),
        RedirectStyle::Loopback => {
            assert_eq!(browser.get(&redirect).send().await.unwrap().status(), 200);
            oauth.wait(&auth.id).await.unwrap()
        }
    }
}

/// The refresh token in the connection's keychain entry (to check at the server later).
pub fn stored_tokens(core: &Core, connection_id: &str) -> Option<serde_json::Value> {
    let key = VaultKey::connection_tokens(&workspace_id(core), connection_id).unwrap();
    core.vault()
        .get(&key)
        .unwrap()
        .map(|s| serde_json::from_str(s.expose()).unwrap())
}

/// Whether the server still honours `refresh_token` (a refresh_token grant, as the app would).
pub async fn refresh_works(ca: &TestCa, server: &OAuthServer, refresh_token: &str) -> bool {
    let resp = browser(ca)
        .post(server.url("/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    resp.status().is_success()
}

/// Every file under `dir`, for greps.
pub fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}
