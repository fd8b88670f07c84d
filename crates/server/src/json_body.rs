//! The API's request bodies (JSON, and multipart uploads): axum's `Json` extractor, with its refusals answered in the
//! API's own error shape (`{error, field}`) and statuses the OpenAPI document lists: 415 for a
//! body that is not `application/json`, 400 for JSON that does not parse, 422 for JSON of the
//! wrong shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::ServerError;
use crate::error::ApiError;

pub(crate) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Every body is a JSON object: serde would otherwise take an array for a struct.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(e) => return Err(ApiError(refusal(e))),
        };
        if !value.is_object() {
            return Err(ApiError(ServerError::Invalid {
                field: "body".into(),
                reason: "the body must be a JSON object".into(),
            }));
        }
        serde_json::from_value(value).map(JsonBody).map_err(|e| {
            ApiError(ServerError::Invalid {
                field: "body".into(),
                reason: e.to_string(),
            })
        })
    }
}

fn refusal(e: JsonRejection) -> ServerError {
    match e {
        JsonRejection::MissingJsonContentType(_) => {
            ServerError::UnsupportedMediaType("send the body as JSON (Content-Type: application/json)".into())
        }
        JsonRejection::JsonDataError(e) => ServerError::Invalid {
            field: "body".into(),
            reason: e.body_text(),
        },
        JsonRejection::BytesRejection(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ServerError::TooLarge("the limit for this address".into())
        }
        other => ServerError::Malformed {
            field: "body".into(),
            reason: other.body_text(),
        },
    }
}

/// A multipart upload for the API: a body that is not `multipart/form-data` is answered 415 in
/// the API's error shape, a broken one 400.
pub(crate) struct MultipartBody(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for MultipartBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        if !is_multipart {
            return Err(ApiError(ServerError::UnsupportedMediaType(
                "send the upload as multipart/form-data".into(),
            )));
        }
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(MultipartBody)
            .map_err(|e| {
                ApiError(ServerError::Malformed {
                    field: "body".into(),
                    reason: e.body_text(),
                })
            })
    }
}
