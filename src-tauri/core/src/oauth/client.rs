//! The `oauth2` crate's client for one provider, run over our reqwest client (so the extra CAs
//! apply), and what its failures mean to a person.

use std::future::Future;
use std::pin::Pin;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AsyncHttpClient, AuthUrl, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, ErrorResponse, ExtraTokenFields, HttpRequest, HttpResponse, RedirectUrl,
    RequestTokenError, RevocationUrl, StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::providers::Provider;
use crate::error::Error;

/// Whatever else the token response carries (Notion's `workspace_name`, Slack's `team`): kept
/// to name the account, never stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Extra {
    #[serde(flatten)]
    pub(super) fields: serde_json::Map<String, serde_json::Value>,
}
impl ExtraTokenFields for Extra {}

pub(super) type TokenResponse = StandardTokenResponse<Extra, BasicTokenType>;

pub(super) type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointSet,
>;

pub(super) fn client(provider: &Provider, redirect_uri: Option<&str>) -> Result<Client, Error> {
    let bad = |_| {
        Error::Internal(format!(
            "{}'s OAuth endpoints are not usable URLs.",
            provider.name
        ))
    };
    let mut client = oauth2::Client::new(ClientId::new(provider.client_id.clone()))
        .set_auth_uri(AuthUrl::from_url(provider.authorize_url.clone()))
        .set_token_uri(TokenUrl::from_url(provider.token_url.clone()))
        .set_revocation_url_option(
            provider
                .revocation
                .as_ref()
                .map(|(_, url)| RevocationUrl::from_url(url.clone())),
        );
    if let Some(secret) = &provider.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    if let Some(uri) = redirect_uri {
        client = client.set_redirect_uri(RedirectUrl::new(uri.to_string()).map_err(bad)?);
    }
    Ok(client)
}

/// `oauth2`'s HTTP over a reqwest client.
pub(super) struct Http(pub(super) reqwest::Client);

/// Bodies larger than this are not token responses.
const MAX_BODY: usize = 256 * 1024;

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(HttpError::from)?;
            let mut out = oauth2::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                out = out.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(HttpError::from)? {
                if body.len() + chunk.len() > MAX_BODY {
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(out.body(body).unwrap_or_default())
        })
    }
}

/// A request's error, its URL left out: a token request's URL may carry a token.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct HttpError(reqwest::Error);

impl From<reqwest::Error> for HttpError {
    fn from(err: reqwest::Error) -> Self {
        Self(err.without_url())
    }
}

/// Why a provider call failed, in words, and whether trying again later may help.
pub(super) struct Failure {
    pub(super) error: Error,
    /// The provider refused the grant itself (`invalid_grant`): only a new sign-in helps.
    pub(super) grant_refused: bool,
}

pub(super) fn failure<T: ErrorResponse + 'static>(
    provider: &Provider,
    doing: &str,
    err: RequestTokenError<HttpError, T>,
) -> Failure {
    let name = &provider.name;
    match err {
        RequestTokenError::ServerResponse(resp) => {
            // The standard types print their bare code (`invalid_grant`).
            let code = serde_json::to_value(&resp)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "error".into());
            tracing::warn!(provider = %provider.id, code, doing, "provider refused");
            let grant_refused = code == "invalid_grant" || code == "invalid_token";
            Failure {
                error: Error::Upstream(format!(
                    "{name} refused {doing} ({code}). {}",
                    if grant_refused {
                        format!("Pitchbar's access was revoked or has expired: reconnect {name}.")
                    } else {
                        "Check its OAuth app (client ID and secret) in Settings → OAuth apps, then try again."
                            .into()
                    }
                )),
                grant_refused,
            }
        }
        RequestTokenError::Request(HttpError(e)) => Failure {
            error: unreachable(provider, doing, e),
            grant_refused: false,
        },
        RequestTokenError::Parse(_, body) => {
            // Slack answers errors with 200 and {"ok": false, "error": "invalid_code"}.
            if let Some(code) = slack_error(&body) {
                tracing::warn!(provider = %provider.id, code, doing, "provider refused");
                let grant_refused = matches!(
                    code.as_str(),
                    "invalid_code" | "invalid_refresh_token" | "token_revoked" | "invalid_grant"
                );
                return Failure {
                    error: Error::Upstream(format!(
                        "{name} refused {doing} ({code}). {}",
                        if grant_refused {
                            format!("Connect {name} again.")
                        } else {
                            "Check its OAuth app (client ID and secret) in Settings → OAuth apps, then try again."
                                .into()
                        }
                    )),
                    grant_refused,
                };
            }
            tracing::warn!(provider = %provider.id, doing, bytes = body.len(), "unreadable provider answer");
            Failure {
                error: Error::Upstream(format!(
                    "{name} answered {doing} with something that is not an OAuth response. Try again later."
                )),
                grant_refused: false,
            }
        }
        RequestTokenError::Other(what) => {
            tracing::warn!(provider = %provider.id, doing, what, "provider call failed");
            Failure {
                error: Error::Upstream(format!(
                    "{name} could not complete {doing}. Try again later."
                )),
                grant_refused: false,
            }
        }
    }
}

/// The `error` of a Slack-style `{"ok": false, "error": "…"}` answer.
fn slack_error(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if v.get("ok")? != &serde_json::Value::Bool(false) {
        return None;
    }
    v.get("error")?.as_str().map(str::to_owned)
}

/// A provider that could not be reached: said without URLs (HubSpot's revocation URL ends with
/// the refresh token) or bodies.
pub(super) fn unreachable(provider: &Provider, doing: &str, err: reqwest::Error) -> Error {
    let name = &provider.name;
    let err = err.without_url();
    tracing::warn!(provider = %provider.id, doing, error = %crate::net::describe(&err), "provider unreachable");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return Error::Upstream(format!(
                "{name}'s certificate is not trusted, so {doing} was not sent. If your network uses its own \
                 certificate authority, add it to ca_certificates in the providers file."
            ));
        }
        source = e.source();
    }
    let why = if err.is_timeout() {
        "did not answer in time"
    } else {
        "could not be reached"
    };
    Error::Upstream(format!(
        "{name} {why}, so {doing} did not happen. Check the internet connection and try again."
    ))
}

#[cfg(test)]
mod slack_tests {
    #[test]
    fn slack_errors_are_read_from_a_200_answer() {
        assert_eq!(
            super::slack_error(br#"{"ok":false,"error":"invalid_code"}"#).as_deref(),
            Some("invalid_code")
        );
        assert_eq!(
            super::slack_error(br#"{"ok":true,"access_token":"x"}"#),
            None
        );
        assert_eq!(super::slack_error(b"<html>"), None);
    }
}
