//! Every call records a latency histogram, a request counter by endpoint and status, the
//! budget gauges and a log event; no log line ever holds the token, even at `TRACE`.

use leadflow_core::ObjectType;
use leadflow_hubspot::{Client, Error};
use leadflow_sandbox::TokenGrant;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};

use crate::capture::Logs;
use crate::helpers::{config, empty_config, sandbox};

const TOKEN: &str = "pat-na1-observe-secret-0123456789";

fn labels(key: &CompositeKey) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = key
        .key()
        .labels()
        .map(|l| (l.key().to_owned(), l.value().to_owned()))
        .collect();
    l.sort();
    l
}

fn find<'a>(
    snapshot: &'a [(
        CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )],
    kind: MetricKind,
    name: &str,
    want: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    want.sort();
    snapshot
        .iter()
        .find(|(k, _, _, _)| k.kind() == kind && k.key().name() == name && labels(k) == want)
        .map(|(_, _, _, v)| v)
}

#[tokio::test]
async fn every_call_records_latency_status_and_budget_without_the_token() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _metrics = metrics::set_default_local_recorder(&recorder);
    let (logs, _logs) = Logs::capture();

    let mut cfg = empty_config();
    cfg.tokens = vec![TokenGrant {
        token: TOKEN.into(),
        scopes: None,
    }];
    let sb = sandbox(cfg).await;
    let ids = sb.state().seed_contacts(1, 1);
    let client = Client::new(config(&sb.url(), TOKEN)).unwrap();
    let contacts = client.objects(ObjectType::Contacts);
    assert!(contacts.get(&ids[0], &[]).await.unwrap().is_some());
    assert!(contacts.get("424242", &[]).await.unwrap().is_none());

    // A wrong token: a 401 that is logged and counted, without either token.
    let wrong = "pat-na1-wrong-secret-9876543210";
    let bad = Client::new(config(&sb.url(), wrong)).unwrap();
    let err = bad
        .objects(ObjectType::Contacts)
        .get(&ids[0], &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");

    let snapshot = snapshotter.snapshot().into_vec();
    let get = "crm.objects.get";
    for status in ["200", "404", "401"] {
        let labels = [("endpoint", get), ("status", status)];
        assert_eq!(
            find(
                &snapshot,
                MetricKind::Counter,
                "leadflow_hubspot_requests_total",
                &labels
            ),
            Some(&DebugValue::Counter(1)),
            "one {status} counted: {snapshot:?}"
        );
        match find(
            &snapshot,
            MetricKind::Histogram,
            "leadflow_hubspot_request_duration_seconds",
            &labels,
        ) {
            Some(DebugValue::Histogram(latencies)) => {
                assert_eq!(latencies.len(), 1, "one latency for {status}");
                assert!(latencies[0].into_inner() >= 0.0);
            }
            other => panic!("no latency histogram for {status}: {other:?}"),
        }
    }
    for gauge in [
        "leadflow_hubspot_rate_remaining",
        "leadflow_hubspot_daily_remaining",
    ] {
        match find(&snapshot, MetricKind::Gauge, gauge, &[]) {
            Some(DebugValue::Gauge(v)) => assert!(v.into_inner() > 0.0, "{gauge} = {v}"),
            other => panic!("no {gauge} gauge: {other:?}"),
        }
    }

    let calls = logs.events("hubspot call");
    assert_eq!(calls.len(), 3, "one event per call");
    for (event, status) in calls.iter().zip([200, 404, 401]) {
        assert_eq!(event["endpoint"], get);
        assert_eq!(event["status"], status);
        assert!(event["latency_ms"].as_f64().is_some(), "{event}");
        assert!(event["correlation_id"].is_string(), "{event}");
    }
    assert!(
        calls[0]["rate_remaining"].as_u64().is_some()
            && calls[0]["daily_remaining"].as_u64().is_some(),
        "remaining budget is logged: {}",
        calls[0]
    );
    let text = logs.text();
    assert!(
        text.contains("\"level\":\"TRACE\""),
        "trace-level events (of the HTTP stack) were captured too"
    );
    for secret in [TOKEN, wrong, "observe-secret", "wrong-secret"] {
        assert!(!text.contains(secret), "a log line holds {secret:?}");
    }
    assert!(!err.to_string().contains("wrong-secret"));
    assert!(!format!("{err:?}").contains("wrong-secret"));
}
