//! The API's error shape, `{"error": {"code", "message"}}`, and extractors whose rejections
//! say in plain words what was wrong with a request.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

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
        let (headers, bytes) = read(req, state).await?;
        if bytes.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "The request has no body. Send a JSON object with Content-Type: application/json.",
            ));
        }
        parse(&headers, &bytes).map(Body)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for BodyOr<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (headers, bytes) = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(BodyOr(T::default()));
        }
        parse(&headers, &bytes).map(BodyOr)
    }
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<(HeaderMap, Bytes), ApiError> {
    let headers = req.headers().clone();
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(bytes_rejection)?;
    Ok((headers, bytes))
}

fn parse<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, ApiError> {
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
    // serde also reads a struct from a JSON array, its fields in order (`[null, null]` was a
    // conversation): every body of this API is an object, so valid JSON of any other kind is
    // refused (invalid JSON still gets its syntax error below).
    let object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !object && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "The request body must be a JSON object ({…}), not an array or a single value. See openapi.json for this route's body.",
        ));
    }
    Json::<T>::from_bytes(bytes)
        .map(|Json(value)| value)
        .map_err(json_rejection)
}

/// axum's rejection text, said for people.
fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "The request body is not valid JSON: {}. Check the quotes, commas and braces around there.",
                strip(&text, "Failed to parse the request body as JSON: ")
            ),
        ),
        JsonRejection::JsonDataError(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!(
                "The request body does not have the expected fields: {}. See openapi.json for this route's body.",
                strip(&text, "Failed to deserialize the JSON body into the target type: ")
            ),
        ),
        JsonRejection::BytesRejection(inner) => bytes_rejection(inner),
        other => ApiError::new(other.status(), "invalid_json", text),
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

/// Query parameters, refused as invalid input with what was wrong.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Params(value))
            .map_err(|rejection: QueryRejection| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    format!(
                        "The query parameters are not right: {}.",
                        strip(
                            &rejection.body_text(),
                            "Failed to deserialize query string: "
                        )
                    ),
                )
            })
    }
}

fn strip<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.strip_prefix(prefix)
        .unwrap_or(text)
        .trim_end_matches('.')
}
