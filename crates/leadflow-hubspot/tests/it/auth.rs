//! OAuth: the access token is refreshed before it expires, not on a 401.

use std::time::Duration;

use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, Credentials, OAuthCredentials};
use leadflow_sandbox::OAuthClient;

use crate::helpers::{config, empty_config, sandbox};

fn oauth_sandbox_config() -> leadflow_sandbox::SandboxConfig {
    let mut cfg = empty_config();
    cfg.oauth = Some(OAuthClient {
        client_id: "app".into(),
        client_secret: "shh".into(),
        refresh_token: "refresh-me".into(),
    });
    cfg.oauth_access_token_ttl = Duration::from_secs(1800);
    cfg
}

#[tokio::test]
async fn one_refresh_serves_calls_until_the_margin() {
    let sb = sandbox(oauth_sandbox_config()).await;
    let ids = sb.state().seed_contacts(2, 1);
    let mut c = config(&sb.url(), "unused");
    c.credentials = Credentials::OAuth(OAuthCredentials::new(
        "app",
        Secret::new("shh"),
        Secret::new("refresh-me"),
    ));
    let client = Client::new(c).unwrap();
    for _ in 0..3 {
        assert!(
            client
                .objects(ObjectType::Contacts)
                .get(&ids[0], &[])
                .await
                .unwrap()
                .is_some()
        );
    }
    assert_eq!(sb.state().stats().oauth_refreshes, 1);
}

#[tokio::test]
async fn a_token_inside_the_margin_is_refreshed_before_use() {
    let sb = sandbox(oauth_sandbox_config()).await;
    let ids = sb.state().seed_contacts(2, 1);
    let mut oauth = OAuthCredentials::new("app", Secret::new("shh"), Secret::new("refresh-me"));
    // A margin longer than the token's life: every call finds it about to expire.
    oauth.refresh_margin = Duration::from_secs(3600);
    let mut c = config(&sb.url(), "unused");
    c.credentials = Credentials::OAuth(oauth);
    let client = Client::new(c).unwrap();
    for _ in 0..3 {
        assert!(
            client
                .objects(ObjectType::Contacts)
                .get(&ids[0], &[])
                .await
                .unwrap()
                .is_some()
        );
    }
    assert_eq!(sb.state().stats().oauth_refreshes, 3);
}

#[tokio::test]
async fn a_wrong_client_secret_fails_the_refresh_without_showing_it() {
    let sb = sandbox(oauth_sandbox_config()).await;
    let mut c = config(&sb.url(), "unused");
    c.credentials = Credentials::OAuth(OAuthCredentials::new(
        "app",
        Secret::new("wrong-secret-xyz"),
        Secret::new("refresh-me"),
    ));
    let client = Client::new(c).unwrap();
    let err = client
        .objects(ObjectType::Contacts)
        .get("1", &[])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("refreshing the OAuth access token failed"),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-secret-xyz"));
    assert!(!format!("{err:?}").contains("wrong-secret-xyz"));
}
