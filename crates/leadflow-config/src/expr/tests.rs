use leadflow_core::ObjectType;

use super::*;
use crate::node::Loc;
use crate::properties::PropertySpec;

fn schema() -> PropertySchema {
    let p = |name: &str, label: &str, kind| PropertySpec {
        object: ObjectType::Contacts,
        name: name.into(),
        label: label.into(),
        kind,
        description: String::new(),
        existing: false,
        unique: false,
        loc: Loc::default(),
    };
    PropertySchema {
        properties: vec![
            p(
                "icp_fit_score",
                "ICP Fit Score",
                PropertyKind::Number {
                    min: Some(1.0),
                    max: Some(10.0),
                },
            ),
            p(
                "response_status",
                "Response Status",
                PropertyKind::dropdown([
                    "No Response",
                    "Interested",
                    "Not Interested",
                    "Meeting Scheduled",
                ]),
            ),
            p(
                "last_outreach_date",
                "Last Outreach Date",
                PropertyKind::Date,
            ),
            p("campaign_tag", "Campaign Tag", PropertyKind::Text),
        ],
    }
}

#[test]
fn translates_the_specs_conditions() {
    let s = schema();
    assert_eq!(
        translate_condition("ICP Fit Score >= 7", &s),
        "icp_fit_score >= 7"
    );
    assert_eq!(
        translate_condition("response_status == 'Meeting Scheduled' AND deal exists", &s),
        "response_status == 'Meeting Scheduled' and deal is defined"
    );
    assert_eq!(
        translate_condition("last_outreach_date < {{ current_date - 3 days }}", &s),
        "last_outreach_date < ( add_days(current_date, -3) )"
    );
    assert_eq!(
        translate_condition("NOT (Response Status == 'Interested')", &s),
        "not (response_status == 'Interested')"
    );
    // Labels inside quoted strings stay as they are.
    assert_eq!(
        translate_condition("campaign_tag == 'ICP Fit Score'", &s),
        "campaign_tag == 'ICP Fit Score'"
    );
    assert_eq!(
        translate_template("{{ current_date + 1 day }}"),
        "{{ add_days(current_date, 1) }}"
    );
    assert_eq!(
        translate_template("{{ current_date + 2 weeks }}"),
        "{{ add_days(current_date, 14) }}"
    );
}

#[test]
fn the_specs_conditions_check_clean() {
    let s = schema();
    for c in [
        "ICP Fit Score >= 7",
        "response_status == 'Interested'",
        "response_status == 'Meeting Scheduled' AND deal exists",
        "response_status == 'No Response'",
        "last_outreach_date < {{ current_date - 3 days }}",
        "response_status in ['Interested', 'Meeting Scheduled'] OR icp_fit_score > 8",
    ] {
        assert_eq!(check_condition(c, &s), vec![], "{c}");
    }
    for t in [
        "{{ contact.firstname }} {{ contact.lastname }} - {{ contact.company }}",
        "{{ current_date }}",
        "{{ current_date + 1 day }}",
    ] {
        assert_eq!(check_template(t, &s), vec![], "{t}");
    }
}

#[test]
fn problems_are_found_and_explained() {
    let s = schema();
    let p = check_condition("response_status == 'Intrested'", &s);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].hint
            .as_deref()
            .unwrap()
            .starts_with("did you mean \"Interested\""),
        "{p:?}"
    );

    let p = check_condition("ICP Fit Scor >= 7", &s);
    assert!(!p.is_empty());
    let p = check_condition("icp_fit_scor >= 7", &s);
    assert!(
        p[0].message
            .contains("unknown contact property \"icp_fit_scor\""),
        "{p:?}"
    );
    assert_eq!(
        p[0].hint.as_deref(),
        Some("did you mean \"icp_fit_score\"?")
    );

    let p = check_condition("ICP Fit Score >= '7'", &s);
    assert!(
        p[0].message
            .contains("is a number, compared with the string"),
        "{p:?}"
    );
    let p = check_condition("response_status in ['Interested', 'Maybe']", &s);
    assert_eq!(p.len(), 1, "{p:?}");
    let p = check_condition("ICP Fit Score >= ", &s);
    assert!(p[0].message.contains("does not parse"), "{p:?}");
    let p = check_template("{{ contact.frstname }}", &s);
    assert!(p[0].message.contains("frstname"), "{p:?}");
    let p = check_template("{{ contact.firstname ", &s);
    assert!(!p.is_empty());
}
