//! HubSpot's webhook signatures over arbitrary secrets, methods, URIs, bodies,
//! timestamps and signature headers: verification answers yes or no, never panics; what
//! `sign_v3` signs verifies, and the same signature over another body does not.

#![no_main]

use leadflow_hubspot::webhooks::{sign_v3, verify_v1, verify_v2, verify_v3};
use libfuzzer_sys::fuzz_target;

/// Splits the input at 0xff bytes into at least `n` parts (missing ones empty).
fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |b| *b == 0xff).collect();
    out.resize(n, &[]);
    out
}

fuzz_target!(|data: &[u8]| {
    let p = parts(data, 6);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (secret, method, uri, body, ts, sig) = (
        text(p[0]),
        text(p[1]),
        text(p[2]),
        p[3],
        text(p[4]),
        text(p[5]),
    );
    let now = 1_764_000_000_000_i64;
    let _ = verify_v1(&secret, body, &sig);
    let _ = verify_v2(&secret, &method, &uri, body, &sig);
    let _ = verify_v3(&secret, &method, &uri, body, &ts, &sig, now);
    // Round trip: a fresh timestamp, a URI without escapes (v3 decodes them first).
    if !uri.contains('%') {
        let ts = now.to_string();
        let signed = sign_v3(&secret, &method, &uri, body, &ts);
        assert!(verify_v3(&secret, &method, &uri, body, &ts, &signed, now).is_ok());
        let mut other = body.to_vec();
        other.push(b'x');
        assert!(verify_v3(&secret, &method, &uri, &other, &ts, &signed, now).is_err());
    }
});
