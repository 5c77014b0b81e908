//! What the token may do: its scopes, read from HubSpot's token introspection, so that a
//! command can name a missing scope before it writes anything rather than after half of
//! its writes.
//!
//! A private app's token is introspected with `POST /oauth/v2/private-apps/get/access-token-info`
//! (`{"tokenKey": …}` → `{userId, hubId, appId, scopes}`). The token travels in that body,
//! which is never logged. OAuth tokens are not introspected: HubSpot's endpoint for them
//! (`GET /oauth/v1/access-tokens/{token}`) puts the token in the path, and paths are logged
//! with every call.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::transport::{Client, Endpoint};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenKey<'a> {
    token_key: &'a str,
}

#[derive(Deserialize)]
struct TokenInfo {
    #[serde(default)]
    scopes: Vec<String>,
}

impl Client {
    /// The scopes of the client's token, when HubSpot can tell: `Some` for a private app's
    /// token, `None` for OAuth credentials or a token HubSpot does not know as a private
    /// app's (such as a developer test token), whose scopes show only as 403s.
    ///
    /// # Errors
    /// Authentication, rate-limit and transport errors, as for any call.
    pub async fn token_scopes(&self) -> Result<Option<BTreeSet<String>>> {
        let Some(token) = self.auth().private_app_token() else {
            return Ok(None);
        };
        let ep = Endpoint::post(
            "/oauth/v2/private-apps/get/access-token-info".to_owned(),
            "oauth.private_apps.access_token_info",
        )
        .idempotent();
        let body = TokenKey {
            token_key: token.expose(),
        };
        match self.json::<_, TokenInfo>(&ep, &[], Some(&body)).await {
            Ok(info) => Ok(Some(info.scopes.into_iter().collect())),
            Err(Error::Api {
                status: 400 | 404, ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
