//! Search: single pages, and streaming every match past HubSpot's 10,000-result cap.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::{Error, Filter, FilterGroup, Operator, SearchQuery, SearchRequest};

use crate::helpers::{client, empty_config, sandbox, strings};

#[tokio::test]
async fn search_all_streams_past_the_result_cap_by_id_windows() {
    let mut config = empty_config();
    config.limits.search_result_cap = 300;
    let sb = sandbox(config).await;
    let ids = sb.state().seed_contacts(1000, 5);
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);

    // Paging past the cap is refused, as HubSpot refuses past 10,000.
    let past = SearchRequest {
        limit: 100,
        after: Some("300".to_owned()),
        properties: strings(&["email"]),
        ..SearchRequest::default()
    };
    match contacts.search_page(&past).await.unwrap_err() {
        Error::Api { status: 400, .. } => {}
        other => panic!("expected a 400 past the cap, got {other:?}"),
    }

    // Every contact has an email, so this matches all 1,000: more than three caps' worth.
    let query = SearchQuery {
        filter_groups: vec![FilterGroup {
            filters: vec![Filter::presence("email", Operator::HasProperty)],
        }],
        properties: strings(&["email"]),
        page_size: 200,
        ..SearchQuery::default()
    };
    let found: Vec<_> = contacts.search_all(query).try_collect().await.unwrap();
    let numeric: Vec<u64> = found.iter().map(|r| r.id.parse().unwrap()).collect();
    assert!(
        numeric.windows(2).all(|w| w[0] < w[1]),
        "ids ascend without repeats"
    );
    assert_eq!(
        found.iter().map(|r| r.id.clone()).collect::<BTreeSet<_>>(),
        ids.into_iter().collect()
    );
}

#[tokio::test]
async fn search_filters_and_groups() {
    let sb = sandbox(empty_config()).await;
    sb.state().seed_contacts(300, 9);
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    let leads = SearchQuery {
        filter_groups: vec![FilterGroup {
            filters: vec![Filter::new("lifecyclestage", Operator::Eq, "lead")],
        }],
        properties: strings(&["lifecyclestage"]),
        ..SearchQuery::default()
    };
    let found: Vec<_> = contacts.search_all(leads).try_collect().await.unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|r| r.get("lifecyclestage") == Some("lead"))
    );

    let too_many = SearchQuery {
        filter_groups: vec![FilterGroup {
            filters: (0..6)
                .map(|_| Filter::presence("email", Operator::HasProperty))
                .collect(),
        }],
        ..SearchQuery::default()
    };
    // The first page needs no window filter; the second would need a seventh filter.
    let result: Result<Vec<_>, _> = contacts
        .search_all(SearchQuery {
            page_size: 10,
            ..too_many
        })
        .try_collect()
        .await;
    assert!(matches!(result, Err(Error::Config(m)) if m.contains("at most 5")));
}
