//! The server's one error type and how each kind is answered: bad input as 400/422 naming the
//! field, what the caller may not see as 404, everything else as a 500 with a reference id
//! (the detail goes to the log, never to the client).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use evident_store::{EvidenceError, StoreError, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("not found")]
    NotFound,
    /// Well-formed input a rule refuses (422).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// Input that cannot be read as what it should be: a number that is not one, JSON that
    /// does not parse (400).
    #[error("{field}: {reason}")]
    Malformed { field: String, reason: String },
    /// A body in a media type the route does not take (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    #[error("too many attempts; wait a few minutes")]
    RateLimited,
    #[error("sign in first")]
    Unauthenticated,
    #[error("the request body is larger than {0}")]
    TooLarge(String),
    #[error("{0}")]
    Bind(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
    Internal(String),
}

impl ServerError {
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> ServerError {
        ServerError::Invalid {
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}

impl From<StoreError> for ServerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Field { field, reason } => ServerError::invalid(field, reason),
            other => ServerError::Store(other),
        }
    }
}

impl ServerError {
    /// A store refusal of bad input, attributed to the field it came from; other errors as they are.
    pub fn store_as(field: &'static str) -> impl FnOnce(StoreError) -> ServerError {
        move |e| match e {
            StoreError::Invalid(reason) => ServerError::invalid(field, reason),
            other => other.into(),
        }
    }
}

impl From<EvidenceError> for ServerError {
    fn from(e: EvidenceError) -> Self {
        match e {
            EvidenceError::Store(s) => s.into(),
            EvidenceError::Vault(v @ (VaultError::TooLarge { .. } | VaultError::Read { .. })) => {
                ServerError::invalid("file", v)
            }
            EvidenceError::Vault(v) => ServerError::Internal(v.to_string()),
        }
    }
}

impl From<askama::Error> for ServerError {
    fn from(e: askama::Error) -> Self {
        ServerError::Internal(format!("template: {e}"))
    }
}

/// What the client is told, and with which status.
pub(crate) fn classify(e: &ServerError) -> (StatusCode, Option<String>) {
    match e {
        ServerError::NotFound => (StatusCode::NOT_FOUND, Some("not found".into())),
        ServerError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string())),
        ServerError::Conflict(m) => (StatusCode::CONFLICT, Some(m.clone())),
        ServerError::Malformed { .. } => (StatusCode::BAD_REQUEST, Some(e.to_string())),
        ServerError::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some(m.clone())),
        ServerError::Csrf => (StatusCode::FORBIDDEN, Some(e.to_string())),
        ServerError::RateLimited => (StatusCode::TOO_MANY_REQUESTS, Some(e.to_string())),
        ServerError::Unauthenticated => (StatusCode::UNAUTHORIZED, Some(e.to_string())),
        ServerError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, Some(e.to_string())),
        ServerError::Store(StoreError::NotFound { .. }) => (StatusCode::NOT_FOUND, Some("not found".into())),
        ServerError::Store(s @ (StoreError::Invalid(_) | StoreError::NoScope)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some(s.to_string()))
        }
        ServerError::Store(StoreError::Conflict(m)) => (StatusCode::CONFLICT, Some(m.clone())),
        // A role refused a step inside an area it reaches (an auditor may read evidence but not
        // produce populations).
        ServerError::Store(StoreError::Forbidden(m)) => (StatusCode::FORBIDDEN, Some(m.clone())),
        // The configured time-stamping authority failed: the outside service, named.
        ServerError::Store(s @ StoreError::Timestamp { .. }) => (StatusCode::BAD_GATEWAY, Some(s.to_string())),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, None),
    }
}

/// A 5xx: logged with a reference the person can quote; the page shows only the reference.
pub(crate) fn log_internal(e: &ServerError) -> String {
    let reference = ulid::Ulid::new().to_string();
    tracing::error!(reference = %reference, error = %e, "request failed");
    reference
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, message) = classify(&self);
        let message = match message {
            Some(m) => m,
            None => {
                let reference = log_internal(&self);
                let page = crate::web::html::error_page(&reference);
                return (status, Html(page)).into_response();
            }
        };
        let body = crate::web::html::message_page(status.as_u16(), status.canonical_reason().unwrap_or(""), &message);
        (status, Html(body)).into_response()
    }
}

/// The API's answers: the same kinds as JSON `{error, field?, reference?}`.
pub(crate) struct ApiError(pub ServerError);

impl<E: Into<ServerError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = classify(&self.0);
        let body = match (&self.0, message) {
            (ServerError::Invalid { field, reason } | ServerError::Malformed { field, reason }, _) => {
                serde_json::json!({"error": reason, "field": field})
            }
            (_, Some(m)) => serde_json::json!({"error": m}),
            (e, None) => serde_json::json!({"error": "internal error", "reference": log_internal(e)}),
        };
        (status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: Response) -> (StatusCode, String) {
        let status = r.status();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(axum::body::to_bytes(r.into_body(), 1 << 20)).unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn a_failure_shows_a_reference_and_nothing_from_inside() {
        let (status, page) = body(ServerError::Internal("disk /secret/path full".into()).into_response());
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(page.contains("Something went wrong") && page.contains("class=\"ref\""));
        assert!(!page.contains("/secret/path"), "{page}");
        let (status, json) = body(ApiError(ServerError::Internal("password=hunter2".into())).into_response());
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["error"], "internal error");
        assert_eq!(v["reference"].as_str().unwrap().len(), 26, "a ULID reference");
        assert!(!json.contains("hunter2"));
    }

    #[test]
    fn bad_input_names_the_field_and_hidden_things_are_404() {
        let (status, json) = body(ApiError(ServerError::invalid("likelihood", "'9' is not 1 to 5")).into_response());
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(json.contains("\"field\":\"likelihood\""));
        let (status, _) = body(
            ServerError::Store(StoreError::NotFound {
                kind: "user",
                id: "x".into(),
            })
            .into_response(),
        );
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
