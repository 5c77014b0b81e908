use super::*;

fn schema() -> PropertySchema {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    leadflow_config::load(dir.path()).0.properties
}

fn check(query: &[(&str, &str)]) -> Result<Filters, String> {
    let pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Filters::from_query(&pairs, &schema()).map_err(|e| e.to_string())
}

#[test]
fn filters_are_read_and_bad_ones_say_what_is_wrong() {
    let f = check(&[("since", "2w"), ("campaign", " Q4 "), ("icp", "ICP-A")]).unwrap();
    assert_eq!(f.period().unwrap(), Some(Since::Days(14)));
    assert_eq!(
        f.contacts(),
        leadflow_reports::Filters {
            campaign: Some("Q4".to_owned()),
            icp_type: Some("ICP-A".to_owned()),
        }
    );
    // An empty form field is no filter.
    assert_eq!(
        check(&[("since", ""), ("campaign", ""), ("icp", "")]).unwrap(),
        Filters::default()
    );
    let e = check(&[("since", "soon")]).unwrap_err();
    assert!(e.contains("since") && e.contains("30d"), "{e}");
    let e = check(&[("icp", "ICP-Z")]).unwrap_err();
    assert!(e.contains("ICP-A, ICP-B, ICP-C"), "{e}");
    let e = check(&[("campaing", "x")]).unwrap_err();
    assert!(
        e.contains("\"campaing\"") && e.contains("since, campaign, icp"),
        "{e}"
    );
    let e = check(&[("icp", "ICP-A"), ("icp", "ICP-B")]).unwrap_err();
    assert!(e.contains("twice"), "{e}");
    let long = "x".repeat(501);
    assert!(check(&[("campaign", &long)]).unwrap_err().contains("501"));
}
