//! Loading projects: the spec's configuration is clean; every kind of bad input is reported
//! with file:line:column and a hint, all at once.

use std::path::Path;

use leadflow_config::workflows::{ActionKind, Trigger};
use leadflow_config::{Diagnostic, PropertyKind, init, load};

fn project_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), false).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// Replaces `from` with `to` in one of the spec's files.
fn edited(name: &str, from: &str, to: &str) -> (String, String) {
    let original = leadflow_config::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap()
        .1;
    assert!(original.contains(from), "{name} has no {from:?}");
    (name.to_owned(), original.replacen(from, to, 1))
}

fn diagnostics_for(name: &str, from: &str, to: &str) -> Vec<Diagnostic> {
    let (file, text) = edited(name, from, to);
    let dir = project_with(&[(&file, &text)]);
    load(dir.path()).1
}

fn line_of(name: &str, needle: &str) -> u32 {
    let text = leadflow_config::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap()
        .1;
    text.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1
}

#[test]
fn the_specs_configuration_loads_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (written, kept) = init(dir.path(), false).unwrap();
    assert_eq!(written.len(), 7);
    assert!(kept.is_empty());
    let (project, diags) = load(dir.path());
    assert_eq!(
        diags,
        vec![],
        "{}",
        diags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );

    let contact: Vec<_> = project
        .properties
        .of(leadflow_core::ObjectType::Contacts)
        .collect();
    assert_eq!(contact.len(), 12);
    assert_eq!(contact.iter().filter(|p| p.existing).count(), 1);
    let fit = project
        .properties
        .find(leadflow_core::ObjectType::Contacts, "ICP Fit Score")
        .unwrap();
    assert_eq!(
        fit.kind,
        PropertyKind::Number {
            min: Some(1.0),
            max: Some(10.0)
        }
    );
    assert_eq!(project.workflows.len(), 4);
    assert!(matches!(project.workflows[0].trigger, Trigger::Tagged(_)));
    assert!(
        matches!(&project.workflows[2].trigger, Trigger::PropertyChanged { property, .. } if property == "response_status")
    );
    assert!(
        matches!(&project.workflows[3].trigger, Trigger::ValueFor { days: 3, value, since, .. } if value == "No Response" && since == "last_outreach_date")
    );
    let deal = project.workflows[0]
        .actions
        .iter()
        .find(|a| matches!(a.kind, ActionKind::CreateDeal { .. }))
        .unwrap();
    assert_eq!(deal.condition.as_ref().unwrap().jinja, "icp_fit_score >= 7");
    assert_eq!(
        project
            .schedules
            .triggers
            .iter()
            .map(|t| t.cron.as_str())
            .collect::<Vec<_>>(),
        ["0 6 * * *", "0 9 * * MON", "0 10 1 * *"]
    );
    assert_eq!(project.reports.reports[0].metrics.len(), 5);
    assert_eq!(project.reports.dashboards[0].widgets.len(), 5);
    assert_eq!(project.settings.stages.len(), 2);

    // A second init keeps what is there.
    let (written, kept) = init(dir.path(), false).unwrap();
    assert!(written.is_empty());
    assert_eq!(kept.len(), 7);
}

#[test]
fn a_misspelt_option_gets_a_suggestion_at_its_place() {
    let d = diagnostics_for(
        "workflows.yaml",
        "response_status == 'Interested'",
        "response_status == 'Intrested'",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].file, Path::new("workflows.yaml"));
    assert_eq!(
        d[0].loc.line,
        line_of("workflows.yaml", "response_status == 'Interested'")
    );
    assert!(
        d[0].hint
            .as_deref()
            .unwrap()
            .starts_with("did you mean \"Interested\"?"),
        "{}",
        d[0]
    );
}

#[test]
fn unknown_keys_are_reported_with_a_suggestion() {
    let d = diagnostics_for(
        "properties.yaml",
        "    description: \"Ideal Customer Profile type\"",
        "    descripton: \"Ideal Customer Profile type\"",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("unknown key \"descripton\""),
        "{}",
        d[0]
    );
    assert!(
        d[0].hint
            .as_deref()
            .unwrap()
            .contains("did you mean \"description\"")
    );
    assert_eq!(d[0].loc.column, 5);
}

#[test]
fn ranges_dropdowns_types_cron_zones_and_templates_are_checked() {
    let cases = [
        (
            "properties.yaml",
            "range: \"1-10\"",
            "range: \"10-1\"",
            "minimum above its maximum",
        ),
        (
            "properties.yaml",
            "options: [\"ICP-A\", \"ICP-B\", \"ICP-C\"]",
            "options: []",
            "has no options",
        ),
        (
            "properties.yaml",
            "type: \"long_text\"",
            "type: \"longtext\"",
            "unknown property type",
        ),
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"ICP Fit Score >= 'seven'\"",
            "compared with the string",
        ),
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"ICP Fitness >= 7\"",
            "does not parse",
        ),
        (
            "workflows.yaml",
            "{{ contact.company }}",
            "{{ contact.compny }}",
            "unknown contact property \"compny\"",
        ),
        (
            "workflows.yaml",
            "{{ contact.company }}",
            "{{ contact.company ",
            "template",
        ),
        (
            "workflows.yaml",
            "value: \"Outbound\"",
            "value: \"Outbund\"",
            "is not allowed",
        ),
        (
            "workflows.yaml",
            "deal_stage: \"New Lead\"",
            "deal_stage: \"Nu Lead\"",
            "deal stage",
        ),
        (
            "workflows.yaml",
            "new_status: \"Qualified\"",
            "new_status: \"Qualifed\"",
            "not an option",
        ),
        (
            "workflows.yaml",
            "- set_property:",
            "- set_propety:",
            "unknown action",
        ),
        (
            "schedules.yaml",
            "cron: \"0 9 * * MON\"",
            "cron: \"0 25 * * MON\"",
            "invalid cron expression",
        ),
        (
            "schedules.yaml",
            "time_zone: \"UTC\"",
            "time_zone: \"Mars/Olympus\"",
            "unknown time zone",
        ),
        (
            "reports.yaml",
            "- \"Response Rate\"",
            "- \"Reply Rate\"",
            "unknown metric",
        ),
        (
            "reports.yaml",
            "- \"Top Performing ICP\"",
            "- \"Top ICP\"",
            "unknown widget",
        ),
        (
            "scoring.yaml",
            "\"Interested\": 20",
            "\"Intrested\": 20",
            "not an option of Response Status",
        ),
        (
            "sync.yaml",
            "qualification_status: \"Unqualified\"",
            "qualification_status: \"Maybe\"",
            "is not allowed",
        ),
        (
            "leadflow.yaml",
            "probability: 0.2",
            "probability: 2",
            "probability",
        ),
    ];
    for (file, from, to, expected) in cases {
        let d = diagnostics_for(file, from, to);
        assert!(!d.is_empty(), "{file}: {to:?} was not reported");
        assert!(
            d.iter().any(|x| x.message.contains(expected)
                || x.hint.as_deref().is_some_and(|h| h.contains(expected))),
            "{file}: {to:?}: {d:?}"
        );
        assert!(
            d.iter()
                .all(|x| x.file == Path::new(file) && x.loc.line > 0),
            "{d:?}"
        );
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let (_, text) = edited("properties.yaml", "range: \"1-10\"", "range: \"10-1\"");
    let text = text
        .replacen(
            "options: [\"ICP-A\", \"ICP-B\", \"ICP-C\"]",
            "options: []",
            1,
        )
        .replacen("type: \"date\"", "type: \"day\"", 1);
    let dir = project_with(&[("properties.yaml", &text)]);
    let (_, d) = load(dir.path());
    assert!(d.len() >= 3, "{d:?}");
}

#[test]
fn malformed_yaml_and_missing_files_are_located() {
    let dir = project_with(&[("workflows.yaml", "workflow_x:\n  name: [unclosed\n")]);
    let (_, d) = load(dir.path());
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.starts_with("invalid YAML"));
    assert!(d[0].loc.line >= 2);

    let empty = tempfile::tempdir().unwrap();
    let (_, d) = load(empty.path());
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d.iter()
            .all(|x| x.hint.as_deref().unwrap().contains("leadflow init"))
    );

    let dir = project_with(&[]);
    std::fs::write(dir.path().join("reports.yaml"), b"name: \xff\xfe").unwrap();
    let (_, d) = load(dir.path());
    assert!(d[0].message.contains("not UTF-8"), "{d:?}");
}

#[test]
fn every_documented_example_loads_clean() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let (_, diags) = load(&dir);
        assert!(diags.is_empty(), "{}: {diags:?}", dir.display());
        seen += 1;
    }
    assert!(seen >= 2, "the examples are where docs/config.md says");
    let (project, _) = load(&examples.join("custom-workflow"));
    assert_eq!(project.workflows[0].actions.len(), 3);
    assert_eq!(
        project.workflows[0].reenrollment,
        leadflow_config::workflows::Reenrollment::Once
    );
}
