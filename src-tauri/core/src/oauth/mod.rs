//! OAuth connections of catalog integrations: the connect flow (RFC 8252: code + PKCE in the
//! system browser, back through a deep link or a loopback listener), tokens in the keychain and
//! their refresh on use, and disconnecting with upstream revocation (retried until it succeeds).

mod account;
mod app_input;
mod apps;
mod callback;
mod client;
mod config;
mod events;
mod flow;
mod hub;
mod kept;
mod loopback;
mod pending;
pub mod providers;
mod retrier;
mod revoke;
mod tokens;

pub use apps::{redirect_uri, AppSource, OAuthAppInput, OAuthAppView};
pub use callback::is_callback_link;
/// The callback readers themselves, for the fuzz targets (fuzz/); the app goes through `OAuth`.
#[doc(hidden)]
pub use callback::{parse_deep_link, parse_query, Callback};
pub use config::{Clock, OAuthConfig, DEEP_LINK_CALLBACK};
pub use events::{Authorization, OAuthEvent, Outcome};
pub(crate) use hub::blocking;
pub use hub::{Hub, OAuth};
pub use providers::{AppSettings, Provider, Providers, PROVIDERS_FILE_ENV};
pub use retrier::Retrier;
