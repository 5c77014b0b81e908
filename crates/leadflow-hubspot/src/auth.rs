//! Credentials: a private-app token, or an OAuth access token refreshed before it expires.
//!
//! HubSpot says a 401 is not a refresh signal, so the OAuth token is refreshed on its
//! `expires_in`, a margin before expiry, never in reaction to a 401. Secrets stay in
//! [`Secret`] and are exposed only into the `Authorization` header, the token request and
//! the private-app token introspection (`scopes.rs`).

use std::time::Duration;

use leadflow_core::Secret;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::{ApiErrorBody, Error, Result};

/// How the client proves who it is.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A private app's access token (`pat-…`), or any static bearer token.
    Token(Secret),
    /// An OAuth app: the refresh token buys access tokens.
    OAuth(OAuthCredentials),
}

/// What an OAuth refresh needs.
#[derive(Clone, Debug)]
pub struct OAuthCredentials {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: Secret,
    /// The refresh token from the install.
    pub refresh_token: Secret,
    /// Refresh this long before the access token expires.
    pub refresh_margin: Duration,
}

impl OAuthCredentials {
    /// Credentials with a five-minute refresh margin.
    pub fn new(client_id: impl Into<String>, client_secret: Secret, refresh_token: Secret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            refresh_token,
            refresh_margin: Duration::from_secs(300),
        }
    }
}

#[derive(Debug)]
struct Access {
    token: Secret,
    expires_at: Instant,
}

/// The live credentials of one client.
#[derive(Debug)]
pub(crate) struct Auth {
    credentials: Credentials,
    access: Mutex<Option<Access>>,
    refresh_token: Mutex<Option<Secret>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: u64,
}

impl Auth {
    pub(crate) fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            access: Mutex::new(None),
            refresh_token: Mutex::new(None),
        }
    }

    /// The private app's (or static) token, when that is the credential.
    pub(crate) fn private_app_token(&self) -> Option<&Secret> {
        match &self.credentials {
            Credentials::Token(t) => Some(t),
            Credentials::OAuth(_) => None,
        }
    }

    /// The bearer token to send now, refreshing the OAuth token first when it is about to expire.
    pub(crate) async fn bearer(&self, http: &reqwest::Client, base_url: &str) -> Result<Secret> {
        let oauth = match &self.credentials {
            Credentials::Token(t) => return Ok(t.clone()),
            Credentials::OAuth(o) => o,
        };
        let mut access = self.access.lock().await;
        if let Some(a) = access
            .as_ref()
            .filter(|a| Instant::now() + oauth.refresh_margin < a.expires_at)
        {
            return Ok(a.token.clone());
        }
        let fresh = self.refresh(http, base_url, oauth).await?;
        let token = fresh.token.clone();
        *access = Some(fresh);
        Ok(token)
    }

    async fn refresh(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        oauth: &OAuthCredentials,
    ) -> Result<Access> {
        let mut stored = self.refresh_token.lock().await;
        let refresh_token = stored
            .clone()
            .unwrap_or_else(|| oauth.refresh_token.clone());
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", &oauth.client_id)
            .append_pair("client_secret", oauth.client_secret.expose())
            .append_pair("refresh_token", refresh_token.expose())
            .finish();
        let url = format!("{}/oauth/v1/token", base_url.trim_end_matches('/'));
        let response = http
            .post(&url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| {
                Error::TokenRefresh(format!(
                    "POST /oauth/v1/token: {}",
                    crate::transport::describe(&e)
                ))
            })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| {
            Error::TokenRefresh(format!(
                "reading the token answer: {}",
                crate::transport::describe(&e)
            ))
        })?;
        if status != 200 {
            return Err(Error::TokenRefresh(format!(
                "HubSpot answered {status}: {}",
                ApiErrorBody::parse(&bytes)
            )));
        }
        let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
            Error::TokenRefresh(format!("the token answer is not the expected JSON: {e}"))
        })?;
        if let Some(rt) = parsed.refresh_token {
            *stored = Some(Secret::new(rt));
        }
        tracing::info!(
            expires_in_s = parsed.expires_in,
            "refreshed the OAuth access token"
        );
        metrics::counter!("leadflow_hubspot_oauth_refreshes_total").increment(1);
        Ok(Access {
            token: Secret::new(parsed.access_token),
            expires_at: Instant::now() + Duration::from_secs(parsed.expires_in),
        })
    }
}
