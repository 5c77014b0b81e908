//! The client's error type, classified where it arises.
//!
//! Every variant names the endpoint that failed. HubSpot's error body is parsed into
//! [`ApiErrorBody`] with every field optional, as HubSpot's own docs advise. No variant
//! ever holds a token: requests are described by method and path only.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// The result type of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// HubSpot's error body (`status`, `message`, `correlationId`, `category`, `errors[]`, `context`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiErrorBody {
    /// Usually `"error"`.
    pub status: Option<String>,
    /// The human-readable message.
    pub message: Option<String>,
    /// HubSpot's id for the failed request; quote it to HubSpot support.
    pub correlation_id: Option<String>,
    /// The error class, such as `VALIDATION_ERROR`, `CONFLICT` or `RATE_LIMITS`.
    pub category: Option<String>,
    /// A finer class, such as `ALREADY_ENROLLED`.
    pub sub_category: Option<serde_json::Value>,
    /// Older bodies' class, such as `RATE_LIMIT`.
    pub error_type: Option<String>,
    /// Which rate limit was hit: `TEN_SECONDLY_ROLLING`, `SECONDLY` or `DAILY`.
    pub policy_name: Option<String>,
    /// Extra facts, such as the missing scopes.
    pub context: BTreeMap<String, Vec<String>>,
    /// One entry per problem.
    pub errors: Vec<ApiErrorDetail>,
}

/// One problem in an [`ApiErrorBody`].
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiErrorDetail {
    /// The problem.
    pub message: Option<String>,
    /// A machine-readable code, such as `INVALID_OPTION`.
    pub code: Option<String>,
    /// Where it is, such as `{"propertyName": ["icp_type"]}`.
    pub context: BTreeMap<String, serde_json::Value>,
}

impl ApiErrorBody {
    /// Parses a body, keeping what can be read. Never fails: a body that is not HubSpot's
    /// shape becomes a message holding its first bytes.
    pub fn parse(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes).unwrap_or_else(|_| Self {
            message: Some(snippet(bytes)),
            ..Self::default()
        })
    }

    /// The category, or `UNKNOWN`.
    pub fn category(&self) -> &str {
        self.category
            .as_deref()
            .or(self.error_type.as_deref())
            .unwrap_or("UNKNOWN")
    }

    /// The message, or an empty string.
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }

    /// The correlation id, or `-`.
    pub fn correlation_id(&self) -> &str {
        self.correlation_id.as_deref().unwrap_or("-")
    }

    /// The scopes HubSpot says would satisfy the request (403 `MISSING_SCOPES`).
    pub fn required_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self
            .context
            .get("requiredGranularScopes")
            .cloned()
            .unwrap_or_default();
        for e in &self.errors {
            if let Some(serde_json::Value::Array(list)) = e.context.get("requiredGranularScopes") {
                scopes.extend(list.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
        }
        scopes.sort();
        scopes.dedup();
        scopes
    }
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.message(), self.category())?;
        if let Some(sub) = &self.sub_category {
            match sub {
                serde_json::Value::String(s) => write!(f, "/{s}")?,
                other => write!(f, "/{other}")?,
            }
        }
        write!(f, ", correlation id {})", self.correlation_id())?;
        for e in &self.errors {
            if let Some(m) = e
                .message
                .as_ref()
                .filter(|m| Some(*m) != self.message.as_ref())
            {
                write!(f, "; {m}")?;
            }
        }
        Ok(())
    }
}

/// Which rolling limit a 429 named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatePolicy {
    /// The per-app rolling window.
    TenSecondly,
    /// The search API's per-second limit.
    Secondly,
}

/// Everything that can go wrong calling HubSpot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HubSpot refused the credentials (401).
    #[error("authentication failed calling {endpoint}: {body}")]
    Authentication {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// HubSpot's answer.
        body: Box<ApiErrorBody>,
    },
    /// The token lacks a scope the call needs (403 `MISSING_SCOPES`).
    #[error("the token lacks a scope calling {endpoint}: needs {}; {body}. Add the scope to the private app (or OAuth app) and use the new token", display_scopes(.scopes))]
    MissingScopes {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// The scopes that would satisfy the call.
        scopes: Vec<String>,
        /// HubSpot's answer.
        body: Box<ApiErrorBody>,
    },
    /// The rolling-window or search limit kept answering 429 until the retries ran out.
    #[error("rate limited calling {endpoint} ({policy:?}) after {attempts} attempts")]
    RateLimited {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// Which limit.
        policy: RatePolicy,
        /// Attempts made.
        attempts: u32,
    },
    /// The account's daily budget is spent; nothing more is sent until it resets.
    #[error("the HubSpot daily API budget is spent (calling {endpoint}); it resets at {resets_at}")]
    DailyLimitExhausted {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// Midnight in the account's time zone.
        resets_at: Box<jiff::Zoned>,
    },
    /// HubSpot answered with an error status that retrying does not fix, or that the
    /// retries did not fix.
    #[error("HubSpot answered {status} to {endpoint}: {body}")]
    Api {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// HubSpot's answer.
        body: Box<ApiErrorBody>,
        /// Attempts made.
        attempts: u32,
    },
    /// A success answer whose body could not be read as the expected JSON.
    #[error(
        "could not decode HubSpot's answer to {endpoint} (status {status}): {source}; body starts {snippet:?}"
    )]
    Decode {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// What serde said.
        source: serde_json::Error,
        /// The body's first bytes.
        snippet: String,
    },
    /// The request did not get an answer: connection refused or reset, timeout.
    #[error("no answer from HubSpot calling {endpoint} after {attempts} attempts: {message}")]
    Transport {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// What failed, with its cause chain.
        message: String,
        /// Whether the failure was a timeout.
        timeout: bool,
        /// Attempts made.
        attempts: u32,
    },
    /// OAuth token refresh failed.
    #[error("refreshing the OAuth access token failed: {0}")]
    TokenRefresh(String),
    /// The client was configured wrongly.
    #[error("invalid HubSpot client configuration: {0}")]
    Config(String),
}

fn display_scopes(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "an unnamed scope".to_owned()
    } else {
        scopes.join(" or ")
    }
}

impl Error {
    /// The HTTP status HubSpot answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Authentication { .. } => Some(401),
            Self::MissingScopes { .. } => Some(403),
            Self::RateLimited { .. } | Self::DailyLimitExhausted { .. } => Some(429),
            Self::Api { status, .. } | Self::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// HubSpot's error body, when there is one.
    pub fn body(&self) -> Option<&ApiErrorBody> {
        match self {
            Self::Authentication { body, .. }
            | Self::MissingScopes { body, .. }
            | Self::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether trying the same call later may succeed (a worker would re-queue it),
    /// as opposed to a call that is wrong and fails the same way every time.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Transport { .. } => true,
            Self::Api { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }
}

/// Statuses that say "not now" rather than "never": 423, 429, 477, 5xx.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(
        status,
        423 | 429 | 477 | 500 | 502 | 503 | 504 | 521 | 523 | 524
    )
}

pub(crate) fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    s.into_owned()
}

/// How long HubSpot asked us to wait, from `Retry-After` (seconds).
pub(crate) fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hubspot_error_body_and_tolerates_garbage() {
        let body = ApiErrorBody::parse(br#"{"status":"error","message":"Property values were not valid","correlationId":"a43683b0","category":"VALIDATION_ERROR","errors":[{"message":"discount was not a valid number","code":"INVALID_INTEGER","context":{"propertyName":["discount"]}}]}"#);
        assert_eq!(body.category(), "VALIDATION_ERROR");
        assert_eq!(body.errors[0].code.as_deref(), Some("INVALID_INTEGER"));
        let shown = body.to_string();
        assert!(shown.contains("discount was not a valid number"), "{shown}");
        assert!(shown.contains("a43683b0"));

        let garbage = ApiErrorBody::parse(b"<html>bad gateway</html>");
        assert_eq!(garbage.category(), "UNKNOWN");
        assert!(garbage.message().contains("bad gateway"));
    }

    #[test]
    fn missing_scopes_are_read_from_either_place() {
        let body = ApiErrorBody::parse(br#"{"message":"no","category":"MISSING_SCOPES","errors":[{"message":"x","context":{"requiredGranularScopes":["crm.schemas.contacts.write"]}}]}"#);
        assert_eq!(
            body.required_scopes(),
            vec!["crm.schemas.contacts.write".to_owned()]
        );
    }

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(Some("soon")), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
