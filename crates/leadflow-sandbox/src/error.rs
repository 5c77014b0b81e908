//! HubSpot's error body, and the JSON body extractor that turns malformed input into
//! HubSpot's 400 `VALIDATION_ERROR` instead of a framework error.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// An error answered in HubSpot's shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) category: &'static str,
    pub(crate) message: String,
    pub(crate) errors: Vec<Value>,
    pub(crate) sub_category: Option<String>,
    pub(crate) extra: Vec<(&'static str, Value)>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        category: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            category,
            message: message.into(),
            errors: Vec::new(),
            sub_category: None,
            extra: Vec::new(),
        }
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
    }

    pub(crate) fn conflict(category: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, category, message)
    }

    pub(crate) fn with_errors(mut self, errors: Vec<Value>) -> Self {
        self.errors = errors;
        self
    }

    pub(crate) fn sub(mut self, sub: &str) -> Self {
        self.sub_category = Some(sub.to_owned());
        self
    }

    pub(crate) fn body(&self) -> Value {
        let mut body = json!({
            "status": "error",
            "message": self.message,
            "correlationId": uuid::Uuid::new_v4().to_string(),
            "category": self.category,
        });
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(self.errors.clone());
        }
        if let Some(s) = &self.sub_category {
            body["subCategory"] = json!(s);
        }
        for (k, v) in &self.extra {
            body[*k] = v.clone();
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// A detail entry of a validation error.
pub(crate) fn detail(message: impl Into<String>, code: &str, property: &str) -> Value {
    json!({ "message": message.into(), "code": code, "context": { "propertyName": [property] } })
}

/// Parses a JSON body, answering HubSpot's 400 when it is not what the endpoint takes.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::validation(format!(
            "Invalid input JSON on line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
        .with_errors(vec![
            json!({ "message": e.to_string(), "code": "INVALID_JSON" }),
        ])
    })
}

pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;
