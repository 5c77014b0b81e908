//! Webhooks: signature verification as pure functions over the raw request bytes, and the
//! management API (target URL and subscriptions).
//!
//! Verification follows HubSpot's request-validation docs (see `hubspot-facts.md` §11):
//! v1 is `hex(sha256(secret + body))`; v2 is `hex(sha256(secret + method + uri + body))`;
//! v3 is `base64(hmac_sha256(secret, method + uri + body + timestamp))` and is refused when
//! the timestamp is more than five minutes old. All comparisons are constant-time. The
//! functions take `now` as an argument, so they never read the clock.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::objects::segment;
use crate::transport::{Client, Endpoint};

/// How old a v3 signature may be: five minutes, in milliseconds.
pub const MAX_SIGNATURE_AGE_MS: i64 = 300_000;

/// Why a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature does not match the body.
    #[error("the webhook signature does not match the request")]
    Mismatch,
    /// The v3 timestamp is more than five minutes away from now.
    #[error(
        "the webhook timestamp is {age_ms} ms old; at most {MAX_SIGNATURE_AGE_MS} ms is accepted"
    )]
    Stale {
        /// How old, in milliseconds (negative: from the future).
        age_ms: i64,
    },
    /// The timestamp header is not a number.
    #[error("the X-HubSpot-Request-Timestamp header is not a millisecond timestamp")]
    BadTimestamp,
    /// The signature header is not hex (v1/v2) or base64 (v3).
    #[error("the signature header is not encoded as HubSpot encodes it")]
    BadEncoding,
}

type HmacSha256 = hmac::Hmac<Sha256>;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

/// Verifies a v1 signature (`X-HubSpot-Signature` with version `v1`).
///
/// # Errors
/// [`SignatureError::BadEncoding`] or [`SignatureError::Mismatch`].
pub fn verify_v1(
    client_secret: &str,
    body: &[u8],
    signature_hex: &str,
) -> Result<(), SignatureError> {
    let given = hex::decode(signature_hex.trim()).map_err(|_| SignatureError::BadEncoding)?;
    let expected = sha256(&[client_secret.as_bytes(), body]);
    if constant_time_eq(&given, &expected) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Verifies a v2 signature: the full request URI must be exactly what HubSpot called.
///
/// # Errors
/// [`SignatureError::BadEncoding`] or [`SignatureError::Mismatch`].
pub fn verify_v2(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    signature_hex: &str,
) -> Result<(), SignatureError> {
    let given = hex::decode(signature_hex.trim()).map_err(|_| SignatureError::BadEncoding)?;
    let expected = sha256(&[
        client_secret.as_bytes(),
        method.as_bytes(),
        uri.as_bytes(),
        body,
    ]);
    if constant_time_eq(&given, &expected) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Computes a v3 signature (what HubSpot sends in `X-HubSpot-Signature-v3`).
pub fn sign_v3(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp_ms: &str,
) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(client_secret.as_bytes()) else {
        unreachable!("HMAC-SHA256 takes keys of any length")
    };
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Decodes the percent-escapes HubSpot decodes before signing a v3 URI.
fn decode_uri(uri: &str) -> String {
    const ESCAPES: [(&str, &str); 13] = [
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
        ("%23", "#"),
    ];
    let mut out = uri.to_owned();
    for (from, to) in ESCAPES {
        out = out
            .replace(from, to)
            .replace(&from.to_ascii_lowercase(), to);
    }
    out
}

/// Verifies a v3 signature over the raw bytes, refusing timestamps more than five minutes
/// from `now_ms`. `uri` is the full URL HubSpot called (`https://host/path?query`).
///
/// # Errors
/// [`SignatureError`] saying why.
pub fn verify_v3(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp_ms: &str,
    signature_b64: &str,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp_ms
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let age_ms = now_ms - ts;
    if age_ms.abs() > MAX_SIGNATURE_AGE_MS {
        return Err(SignatureError::Stale { age_ms });
    }
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| SignatureError::BadEncoding)?;
    let decoded = decode_uri(uri);
    for candidate in [decoded.as_str(), uri] {
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(sign_v3(
            client_secret,
            method,
            candidate,
            body,
            timestamp_ms.trim(),
        )) else {
            continue;
        };
        if constant_time_eq(&given, &expected) {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// Where HubSpot sends an app's webhooks.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookSettings {
    /// The URL events are POSTed to.
    pub target_url: String,
    /// Concurrency limits.
    pub throttling: serde_json::Value,
}

/// A webhook subscription.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Subscription {
    /// Its id (HubSpot sends a number).
    pub id: serde_json::Value,
    /// Such as `contact.propertyChange`.
    pub event_type: String,
    /// For property changes: the property.
    pub property_name: Option<String>,
    /// Whether events are sent.
    pub active: bool,
}

#[derive(Deserialize)]
struct Results<T> {
    results: Vec<T>,
}

impl Client {
    /// Sets where the app's webhooks go.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn put_webhook_settings(
        &self,
        app_id: u64,
        target_url: &str,
        max_concurrent: u32,
    ) -> Result<WebhookSettings> {
        let ep = Endpoint::new(
            Method::PUT,
            format!("/webhooks/v3/{app_id}/settings"),
            "webhooks.settings.put",
        );
        let body = json!({ "targetUrl": target_url, "throttling": { "maxConcurrentRequests": max_concurrent, "period": "SECONDLY" } });
        self.json(&ep, &[], Some(&body)).await
    }

    /// The app's subscriptions.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn webhook_subscriptions(&self, app_id: u64) -> Result<Vec<Subscription>> {
        let ep = Endpoint::get(
            format!("/webhooks/v3/{app_id}/subscriptions"),
            "webhooks.subscriptions.list",
        );
        let r: Results<Subscription> = self.json::<(), _>(&ep, &[], None).await?;
        Ok(r.results)
    }

    /// Subscribes the app to an event type (active at once).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn subscribe_webhook(
        &self,
        app_id: u64,
        event_type: &str,
        property_name: Option<&str>,
    ) -> Result<Subscription> {
        let ep = Endpoint::post(
            format!("/webhooks/v3/{app_id}/subscriptions"),
            "webhooks.subscriptions.create",
        );
        let mut body = json!({ "eventType": event_type, "active": true });
        if let Some(p) = property_name {
            body["propertyName"] = json!(p);
        }
        self.json(&ep, &[], Some(&body)).await
    }

    /// Removes a subscription.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn unsubscribe_webhook(&self, app_id: u64, subscription_id: &str) -> Result<()> {
        let ep = Endpoint::new(
            Method::DELETE,
            format!(
                "/webhooks/v3/{app_id}/subscriptions/{}",
                segment(subscription_id)
            ),
            "webhooks.subscriptions.delete",
        );
        self.call::<()>(&ep, &[], None).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const V1_BODY: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;

    #[test]
    fn v1_matches_hubspots_published_vector() {
        let sig = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
        assert_eq!(verify_v1(SECRET, V1_BODY.as_bytes(), sig), Ok(()));
        assert_eq!(verify_v1(SECRET, b"[]", sig), Err(SignatureError::Mismatch));
        assert_eq!(
            verify_v1(SECRET, V1_BODY.as_bytes(), "zz"),
            Err(SignatureError::BadEncoding)
        );
    }

    #[test]
    fn v2_matches_hubspots_published_vector() {
        let sig = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
        assert_eq!(
            verify_v2(
                SECRET,
                "GET",
                "https://www.example.com/webhook_uri",
                b"",
                sig
            ),
            Ok(())
        );
        assert_eq!(
            verify_v2(
                SECRET,
                "POST",
                "https://www.example.com/webhook_uri",
                b"",
                sig
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn v3_accepts_fresh_and_refuses_stale_or_tampered() {
        let uri = "https://example.com/webhooks/hubspot?x=1";
        let ts = "1700000000000";
        let sig = sign_v3(SECRET, "POST", uri, V1_BODY.as_bytes(), ts);
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                uri,
                V1_BODY.as_bytes(),
                ts,
                &sig,
                1_700_000_100_000
            ),
            Ok(())
        );
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                uri,
                V1_BODY.as_bytes(),
                ts,
                &sig,
                1_700_000_300_001
            ),
            Err(SignatureError::Stale { age_ms: 300_001 })
        );
        assert_eq!(
            verify_v3(SECRET, "POST", uri, b"[]", ts, &sig, 1_700_000_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_v3(
                "other",
                "POST",
                uri,
                V1_BODY.as_bytes(),
                ts,
                &sig,
                1_700_000_000_000
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_v3(SECRET, "POST", uri, V1_BODY.as_bytes(), "soon", &sig, 0),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn v3_decodes_the_escapes_hubspot_decodes() {
        let ts = "1700000000000";
        let sig = sign_v3(
            SECRET,
            "POST",
            "https://example.com/hook?email=a@b.c",
            b"[]",
            ts,
        );
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                "https://example.com/hook?email=a%40b.c",
                b"[]",
                ts,
                &sig,
                1_700_000_000_000
            ),
            Ok(())
        );
    }

    #[test]
    fn v3_known_answer() {
        // Computed independently: printf 'POSThttps://example.com/h[]1700000000000' | openssl dgst -sha256 -hmac secret -binary | base64
        let sig = sign_v3(
            "secret",
            "POST",
            "https://example.com/h",
            b"[]",
            "1700000000000",
        );
        assert_eq!(sig, "cGTj1UqqZUuHrwyY9st+cM053mR4cRjwzSic6OsaGvI=");
        assert_eq!(
            verify_v3(
                "secret",
                "POST",
                "https://example.com/h",
                b"[]",
                "1700000000000",
                &sig,
                1_700_000_000_000
            ),
            Ok(())
        );
    }
}
