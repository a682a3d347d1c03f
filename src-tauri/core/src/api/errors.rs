//! The API's error shape, `{"error": {"code", "message"}}`, and extractors whose rejections
//! say in plain words what was wrong with a request.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::contract::{self, Refusal};
use crate::error::Error;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let (status, code) = match &err {
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::InvalidInput(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::Storage(_) => (StatusCode::SERVICE_UNAVAILABLE, "storage"),
            Error::Keychain(_) => (StatusCode::SERVICE_UNAVAILABLE, "keychain"),
            Error::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self::new(status, code, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        if self.status == StatusCode::UNAUTHORIZED {
            (self.status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response()
        } else {
            (self.status, body).into_response()
        }
    }
}

/// A JSON request body. An empty body is refused unless `T` has a default (see [`BodyOr`]).
pub struct Body<T>(pub T);

/// A JSON request body that may be left out (empty), meaning `T::default()`.
pub struct BodyOr<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (route, headers, bytes) = read(req, state).await?;
        if bytes.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "The request has no body. Send a JSON object with Content-Type: application/json.",
            ));
        }
        parse(&route, &headers, &bytes).map(Body)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for BodyOr<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (route, headers, bytes) = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(BodyOr(T::default()));
        }
        parse(&route, &headers, &bytes).map(BodyOr)
    }
}

/// The operation a request was routed to: its method and path as openapi.json writes them.
struct Route {
    method: Method,
    path: String,
}

impl Route {
    fn of(method: &Method, extensions: &axum::http::Extensions) -> Route {
        Route {
            method: method.clone(),
            path: extensions
                .get::<MatchedPath>()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

async fn read<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<(Route, HeaderMap, Bytes), ApiError> {
    let route = Route::of(req.method(), req.extensions());
    let headers = req.headers().clone();
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(bytes_rejection)?;
    Ok((route, headers, bytes))
}

/// A JSON body: parsed, checked against the route's schema in openapi.json, then read as `T`.
fn parse<T: DeserializeOwned>(
    route: &Route,
    headers: &HeaderMap,
    bytes: &Bytes,
) -> Result<T, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !(essence == "application/json"
        || essence.starts_with("application/") && essence.ends_with("+json"))
    {
        let shown = if essence.is_empty() {
            "none".to_owned()
        } else {
            format!("\"{essence}\"")
        };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("The body must be JSON, sent with Content-Type: application/json (the request said {shown})."),
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "The request body is not valid JSON: {err}. Check the quotes, commas and braces around there."
            ),
        )
    })?;
    contract::check_body(route.method.as_str(), &route.path, &value).map_err(refused)?;
    serde_json::from_value(value).map_err(|err| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("The request body does not have the expected fields: {err}. See openapi.json for this route's body."),
        )
    })
}

/// A request that does not fit openapi.json is the caller's to fix; a description that does
/// not cover its route is ours.
fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid(message) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
        }
        Refusal::Broken(defect) => {
            tracing::error!(%defect, "openapi.json does not cover a route");
            ApiError::from(Error::Internal(
                "The server could not check this request. Please report it.".into(),
            ))
        }
    }
}

fn bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "The request body is larger than {} KiB. Send less at once.",
                BODY_LIMIT / 1024
            ),
        )
    } else {
        ApiError::new(
            rejection.status(),
            "invalid_json",
            format!(
                "The request body could not be read: {}.",
                rejection.body_text()
            ),
        )
    }
}

/// Query parameters, checked against the route's parameters in openapi.json, then read as `T`;
/// refused as invalid input with what was wrong.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let route = Route::of(&parts.method, &parts.extensions);
        let object = contract::query_object(route.method.as_str(), &route.path, parts.uri.query())
            .map_err(refused)?;
        serde_json::from_value(object).map(Params).map_err(|err| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("The query parameters are not right: {err}."),
            )
        })
    }
}
