//! Who may read the dashboard, its JSON API and the other read endpoints `serve` mounts
//! beside them: anyone on a loopback address, and only holders of the dashboard token on
//! any other. A browser asks for the token itself (HTTP Basic: any user name, the token
//! as the password); scripts and Prometheus send `Authorization: Bearer TOKEN`.
//!
//! It knows nothing of what it protects. The token never appears in an answer or a log.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use leadflow_core::Secret;
use sha2::{Digest, Sha256};

/// Refuses to serve the dashboard on an address other machines can reach without a
/// token.
///
/// # Errors
/// What to do instead, when `addr` is not loopback and there is no token.
pub fn check_exposure(addr: SocketAddr, token: Option<&Secret>) -> Result<(), String> {
    if addr.ip().is_loopback() || token.is_some() {
        return Ok(());
    }
    Err(format!(
        "{addr} can be reached from other machines, and the dashboard and its API show your pipeline: \
         set a token (LEADFLOW_DASHBOARD_TOKEN or --dashboard-token-file) or bind a loopback address such as 127.0.0.1"
    ))
}

/// Whether a request's `Authorization` header carries `token` (Bearer, or Basic with the
/// token as the password). Compared as SHA-256 digests in constant time.
fn carries(request: &Request, token: &Secret) -> bool {
    let Some(value) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let given = if let Some(t) = value.strip_prefix("Bearer ") {
        t.trim().as_bytes().to_vec()
    } else if let Some(b) = value.strip_prefix("Basic ") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b.trim()) else {
            return false;
        };
        match decoded.iter().position(|c| *c == b':') {
            Some(colon) => decoded[colon + 1..].to_vec(),
            None => return false,
        }
    } else {
        return false;
    };
    let (a, b) = (
        Sha256::digest(&given),
        Sha256::digest(token.expose().as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// `router` with every route behind `token`; a request without it gets 401 and a
/// `WWW-Authenticate` challenge, so a browser asks for it.
pub fn protect(router: Router, token: Secret) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let allowed = carries(&request, &token);
            async move {
                if allowed {
                    next.run(request).await
                } else {
                    unauthorized()
                }
            }
        },
    ))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"leadflow\"")],
        "the dashboard token is required: send it as the password (any user name), or as `Authorization: Bearer TOKEN`",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn status(router: &Router, authorization: Option<String>) -> (StatusCode, String) {
        let mut request = axum::http::Request::builder().uri("/x");
        if let Some(a) = authorization {
            request = request.header(header::AUTHORIZATION, a);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, challenge)
    }

    #[tokio::test]
    async fn only_requests_with_the_token_pass() {
        let router = protect(
            Router::new().route("/x", get(|| async { "pipeline" })),
            Secret::new("s3cret-token"),
        );
        let basic = |user_pass: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(user_pass)
            )
        };
        for ok in [
            "Bearer s3cret-token".to_owned(),
            basic("anyone:s3cret-token"),
            basic(":s3cret-token"),
        ] {
            assert_eq!(
                status(&router, Some(ok.clone())).await.0,
                StatusCode::OK,
                "{ok}"
            );
        }
        for refused in [
            None,
            Some("Bearer s3cret-toke".to_owned()),
            Some("Bearer s3cret-token-longer".to_owned()),
            Some(basic("s3cret-token")),
            Some(basic("user:wrong")),
            Some("Basic !!!".to_owned()),
            Some("s3cret-token".to_owned()),
        ] {
            let (s, challenge) = status(&router, refused.clone()).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{refused:?}");
            assert!(challenge.starts_with("Basic"), "{refused:?}");
        }
    }

    #[test]
    fn only_loopback_may_go_without_a_token() {
        let token = Secret::new("t");
        for open in ["127.0.0.1:8080", "[::1]:8080"] {
            assert!(
                check_exposure(open.parse().unwrap(), None).is_ok(),
                "{open}"
            );
        }
        for exposed in ["0.0.0.0:8080", "[::]:8080", "192.168.1.10:80"] {
            let addr: SocketAddr = exposed.parse().unwrap();
            let e = check_exposure(addr, None).unwrap_err();
            assert!(e.contains("LEADFLOW_DASHBOARD_TOKEN"), "{e}");
            assert!(check_exposure(addr, Some(&token)).is_ok());
        }
    }
}
