//! The routes, bearer authentication, and the handlers (each a thin call into the core).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Map, Value};

use super::errors::{ApiError, Body, BodyOr, Params, BODY_LIMIT};
use crate::api_key::{ApiKeys, KEY_PREFIX};
use crate::conversations::{ConversationInput, Conversations, MessageInput, ReasonInput};
use crate::error::{Error, Result};
use crate::leads::{LeadInput, LeadQuery, Leads};
use crate::outbox::Hub;
use crate::store::Store;
use crate::vault::Vault;
use crate::webhooks::log::{DeliveryLog, LogQuery};

/// Every route the server answers, as (method, path in OpenAPI form). The OpenAPI test checks
/// this list and the description against each other.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/leads"),
    ("GET", "/v1/leads"),
    ("PATCH", "/v1/leads/{id}"),
    ("POST", "/v1/conversations"),
    ("POST", "/v1/conversations/{id}/messages"),
    ("POST", "/v1/conversations/{id}/route"),
    ("POST", "/v1/conversations/{id}/close"),
    ("GET", "/v1/deliveries"),
];

/// What the handlers share: the store and the webhook outbox.
#[derive(Clone)]
pub struct ApiState(Arc<Inner>);

struct Inner {
    store: Arc<Store>,
    hub: Arc<Hub>,
    /// Never read by the API: `authenticate` checks only the stored hash.
    vault: Vault,
}

impl ApiState {
    pub(crate) fn new(store: Arc<Store>, hub: Arc<Hub>) -> Self {
        Self(Arc::new(Inner {
            store,
            hub,
            vault: Vault::os(),
        }))
    }

    /// Runs a short unit of store work off the async threads.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.0.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|_| {
                ApiError::from(Error::Internal(
                    "The request could not be completed; try again.".into(),
                ))
            })?
            .map_err(ApiError::from)
    }
}

impl Inner {
    fn leads(&self) -> Leads<'_> {
        Leads {
            store: &self.store,
            hub: &self.hub,
        }
    }

    fn conversations(&self) -> Conversations<'_> {
        Conversations {
            store: &self.store,
            hub: &self.hub,
        }
    }
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/leads", post(create_lead).get(list_leads))
        .route("/v1/leads/{id}", patch(update_lead))
        .route("/v1/conversations", post(start_conversation))
        .route("/v1/conversations/{id}/messages", post(add_message))
        .route("/v1/conversations/{id}/route", post(route_conversation))
        .route("/v1/conversations/{id}/close", post(close_conversation))
        .route("/v1/deliveries", axum::routing::get(list_deliveries))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// `Authorization: Bearer sk_live_…`, checked against the stored hash. The key is never logged.
async fn authenticate(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    let Some(presented) = presented.filter(|t| !t.is_empty()) else {
        return ApiError::unauthorized(format!(
            "Send the workspace API key as Authorization: Bearer {KEY_PREFIX}… (find it under API & Webhooks › API Access)."
        ))
        .into_response();
    };
    let ok = state
        .run(move |s| {
            ApiKeys {
                store: &s.store,
                vault: &s.vault,
            }
            .authenticate(&presented)
        })
        .await;
    match ok {
        Ok(true) => next.run(req).await,
        Ok(false) => ApiError::unauthorized(
            "This API key is not the workspace's key (it may have been regenerated). Copy the current key from API & Webhooks › API Access.",
        )
        .into_response(),
        Err(err) => err.into_response(),
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "There is no route {method} {}. The routes are listed in openapi.json.",
            uri.path().chars().take(200).collect::<String>()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method}. The routes and their methods are listed in openapi.json.",
            uri.path().chars().take(200).collect::<String>()
        ),
    )
}

fn created<T: Serialize>(value: T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

async fn create_lead(
    State(state): State<ApiState>,
    Body(input): Body<LeadInput>,
) -> Result<Response, ApiError> {
    let lead = state.run(move |s| s.leads().capture(input)).await?;
    Ok(created(lead))
}

async fn list_leads(
    State(state): State<ApiState>,
    Params(query): Params<LeadQuery>,
) -> Result<Response, ApiError> {
    let page = state.run(move |s| s.leads().list(&query)).await?;
    Ok(Json(page).into_response())
}

async fn update_lead(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Body(patch): Body<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let lead = state.run(move |s| s.leads().update(&id, patch)).await?;
    Ok(Json(lead).into_response())
}

async fn start_conversation(
    State(state): State<ApiState>,
    BodyOr(input): BodyOr<ConversationInput>,
) -> Result<Response, ApiError> {
    let conversation = state.run(move |s| s.conversations().start(input)).await?;
    Ok(created(conversation))
}

async fn add_message(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Body(input): Body<MessageInput>,
) -> Result<Response, ApiError> {
    let message = state
        .run(move |s| s.conversations().add_message(&id, input))
        .await?;
    Ok(created(message))
}

async fn route_conversation(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    BodyOr(input): BodyOr<ReasonInput>,
) -> Result<Response, ApiError> {
    let conversation = state
        .run(move |s| s.conversations().route(&id, input))
        .await?;
    Ok(Json(conversation).into_response())
}

async fn close_conversation(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    BodyOr(input): BodyOr<ReasonInput>,
) -> Result<Response, ApiError> {
    let conversation = state
        .run(move |s| s.conversations().close(&id, input))
        .await?;
    Ok(Json(conversation).into_response())
}

async fn list_deliveries(
    State(state): State<ApiState>,
    Params(query): Params<LogQuery>,
) -> Result<Response, ApiError> {
    let page = state
        .run(move |s| DeliveryLog { store: &s.store }.list(&query))
        .await?;
    Ok(Json(page).into_response())
}
