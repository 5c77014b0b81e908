//! Loading projects: the spec's configuration is clean; every kind of bad input is reported
//! with file:line:column and a hint, all at once.

use std::path::Path;

use leadflow_config::workflows::{ActionKind, Trigger};
use leadflow_config::{Diagnostic, PropertyKind, init, load};

mod report_checks;
mod schedules;
mod texts;

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
    assert_eq!(written.len(), 7 + leadflow_config::TEST_FILES.len());
    assert!(dir.path().join("tests/manual_outreach.yaml").is_file());
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
        ["0 6 * * *", "0 9 * * MON", "0 10 1 * *", "0 6 * * *"]
    );
    assert_eq!(project.reports.reports[0].metrics.len(), 5);
    assert_eq!(project.reports.dashboards[0].widgets.len(), 5);
    assert_eq!(project.settings.stages.len(), 2);

    // A second init keeps what is there.
    let (written, kept) = init(dir.path(), false).unwrap();
    assert!(written.is_empty());
    assert_eq!(kept.len(), 7 + leadflow_config::TEST_FILES.len());
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
            "condition: \"ICP Fit Score >= \"",
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
    assert!(seen >= 3, "the examples are where docs/config.md says");
    let (project, _) = load(&examples.join("custom-workflow"));
    assert_eq!(project.workflows[0].actions.len(), 3);
    assert_eq!(
        project.workflows[0].reenrollment,
        leadflow_config::workflows::Reenrollment::Once
    );
}

/// The diagnostics of one edit, which must all be in `file`.
fn only(file: &str, from: &str, to: &str) -> Vec<Diagnostic> {
    let d = diagnostics_for(file, from, to);
    assert!(
        d.iter().all(|x| x.file == Path::new(file)),
        "{file}: {to:?}: {d:?}"
    );
    d
}

/// The 1-based column of `needle` in the line of `file` that holds `line_needle`.
fn column_of(file: &str, line_needle: &str, needle: &str) -> u32 {
    let text = leadflow_config::FILES
        .iter()
        .find(|(n, _)| *n == file)
        .unwrap()
        .1;
    let line = text.lines().find(|l| l.contains(line_needle)).unwrap();
    line.find(needle).unwrap() as u32 + 1
}

#[test]
fn numbers_outside_a_range_are_reported_where_they_are_written() {
    // (file, from, to, the number as shown, the range as the hint names it)
    let cases = [
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"ICP Fit Score >= 70\"",
            "70 is outside the range of ICP Fit Score",
            "from 1 to 10",
        ),
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"lead_score > 500\"",
            "500 is outside the range of Lead Score",
            "from 1 to 100",
        ),
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"icp_fit_score == 0\"",
            "0 is outside the range of ICP Fit Score",
            "from 1 to 10",
        ),
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"icp_fit_score > -1\"",
            "-1 is outside the range of ICP Fit Score",
            "from 1 to 10",
        ),
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"icp_fit_score in [5, 11]\"",
            "11 is outside the range of ICP Fit Score",
            "from 1 to 10",
        ),
        (
            "reports.yaml",
            "- \"lead_source == 'Outbound'\"",
            "- \"lead_source == 'Outbound' AND Lead Score >= 101\"",
            "101 is outside the range of Lead Score",
            "from 1 to 100",
        ),
    ];
    for (file, from, to, message, range) in cases {
        let d = only(file, from, to);
        assert_eq!(d.len(), 1, "{to:?}: {d:?}");
        assert_eq!(d[0].message, message, "{to:?}");
        let hint = d[0].hint.as_deref().unwrap();
        assert!(hint.contains(range), "{to:?}: {hint}");
        assert_eq!(d[0].loc.line, line_of(file, from), "{to:?}");
        let quoted = &from[from.find('"').unwrap()..];
        assert_eq!(d[0].loc.column, column_of(file, from, quoted), "{to:?}");
    }

    let d = only(
        "workflows.yaml",
        "lead_score_increase: \"20\"",
        "lead_score_increase: \"500\"",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].message,
        "lead_score_increase 500 is more than the whole range of Lead Score"
    );
    assert!(
        d[0].hint.as_deref().unwrap().contains("from 1 to 100"),
        "{}",
        d[0]
    );
    assert_eq!(
        (d[0].loc.line, d[0].loc.column),
        (
            line_of("workflows.yaml", "lead_score_increase: \"20\""),
            column_of("workflows.yaml", "lead_score_increase", "\"20\"")
        )
    );

    // The bounds themselves, and increases within the range, are fine.
    for (from, to) in [
        (
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"ICP Fit Score >= 10 OR icp_fit_score == 1 OR lead_score < 100\"",
        ),
        ("lead_score_increase: \"20\"", "lead_score_increase: \"99\""),
        (
            "lead_score_increase: \"20\"",
            "lead_score_increase: \"-99\"",
        ),
    ] {
        let d = diagnostics_for("workflows.yaml", from, to);
        assert_eq!(d, vec![], "{to:?}");
    }
}

#[test]
fn unknown_properties_are_named_with_a_suggestion_in_workflows_and_reports() {
    let cases = [
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"ICP Fitness >= 7\"",
            "unknown contact property \"ICP Fitness\"",
            "did you mean \"ICP Fit Score\"?",
        ),
        (
            "workflows.yaml",
            "condition: \"ICP Fit Score >= 7\"",
            "condition: \"response_status == 'Interested' AND Lead Scor > 50\"",
            "unknown contact property \"Lead Scor\"",
            "did you mean \"Lead Score\"?",
        ),
        (
            "reports.yaml",
            "- \"lead_source == 'Outbound'\"",
            "- \"lead_sorce == 'Outbound'\"",
            "unknown contact property \"lead_sorce\"",
            "did you mean \"lead_source\"?",
        ),
        (
            "reports.yaml",
            "- \"lead_source == 'Outbound'\"",
            "- \"Lead Sorce == 'Outbound'\"",
            "unknown contact property \"Lead Sorce\"",
            "did you mean \"Lead Source\"?",
        ),
        (
            "reports.yaml",
            "- \"ICP Type\"",
            "- \"ICP Fitness\"",
            "unknown contact property \"ICP Fitness\" in breakdowns",
            "did you mean \"ICP Fit Score\"?",
        ),
        (
            "reports.yaml",
            "- \"Campaign Tag\"",
            "- \"Campain Tag\"",
            "unknown contact property \"Campain Tag\" in breakdowns",
            "did you mean \"Campaign Tag\"?",
        ),
    ];
    for (file, from, to, message, hint) in cases {
        let d = only(file, from, to);
        assert_eq!(d.len(), 1, "{to:?}: {d:?}");
        assert_eq!(d[0].message, message, "{to:?}");
        assert_eq!(d[0].hint.as_deref(), Some(hint), "{to:?}");
        assert_eq!(d[0].loc.line, line_of(file, from), "{to:?}");
    }
    // A condition that is not a property name at all still says it does not parse.
    let d = only(
        "workflows.yaml",
        "condition: \"ICP Fit Score >= 7\"",
        "condition: \"ICP Fit Score >= >= 7\"",
    );
    assert!(d[0].message.contains("does not parse"), "{d:?}");
}

#[test]
fn cron_takes_exactly_five_fields() {
    for (cron, fields) in [
        ("0 0 9 * * MON", "6 fields"),
        ("0 0 9 * * MON 2027", "7 fields"),
        ("@daily", "1 field,"),
        ("0 9 * MON", "4 fields"),
    ] {
        let d = only(
            "schedules.yaml",
            "cron: \"0 9 * * MON\"",
            &format!("cron: \"{cron}\""),
        );
        assert_eq!(d.len(), 1, "{cron}: {d:?}");
        assert!(
            d[0].message.contains(fields) && d[0].message.contains("exactly five"),
            "{cron}: {}",
            d[0]
        );
        assert!(
            d[0].hint.as_deref().unwrap().contains("minute hour"),
            "{}",
            d[0]
        );
        assert_eq!(
            d[0].loc.line,
            line_of("schedules.yaml", "cron: \"0 9 * * MON\"")
        );
    }
    let d = diagnostics_for(
        "schedules.yaml",
        "cron: \"0 9 * * MON\"",
        "cron: \"30 9 * * MON-FRI\"",
    );
    assert_eq!(d, vec![]);
}

#[test]
fn hidden_is_refused_and_enabled_is_honoured() {
    let d = only(
        "properties.yaml",
        "    description: \"Unique session identifier\"",
        "    description: \"Unique session identifier\"\n    hidden: true",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message
            .contains("leadflow does not manage whether a property is hidden"),
        "{}",
        d[0]
    );
    assert_eq!(
        d[0].loc.line,
        line_of("properties.yaml", "Unique session identifier") + 1
    );

    let (file, text) = edited(
        "workflows.yaml",
        "  name: \"Follow-up Sequence Management\"",
        "  name: \"Follow-up Sequence Management\"\n  enabled: false",
    );
    let dir = project_with(&[(&file, &text)]);
    let (project, d) = load(dir.path());
    assert_eq!(d, vec![]);
    let enabled: Vec<(&str, bool)> = project
        .workflows
        .iter()
        .map(|w| (w.key.as_str(), w.enabled))
        .collect();
    assert_eq!(
        enabled,
        [
            ("workflow_manual_outreach", true),
            ("workflow_automated_outreach", true),
            ("workflow_response_handling", true),
            ("workflow_followup_management", false),
        ]
    );
    let d = only(
        "workflows.yaml",
        "  name: \"Follow-up Sequence Management\"",
        "  name: \"Follow-up Sequence Management\"\n  enabled: \"no\"",
    );
    assert!(d[0].message.contains("must be true or false"), "{d:?}");
}

#[test]
fn a_reports_file_that_is_not_a_mapping_is_reported() {
    let dir = project_with(&[("reports.yaml", "- \"Lead Generation Performance\"\n")]);
    let (project, d) = load(dir.path());
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].file, Path::new("reports.yaml"));
    assert!(
        d[0].message
            .contains("reports.yaml must map report and dashboard keys"),
        "{}",
        d[0]
    );
    assert!(d[0].message.contains("found a list"), "{}", d[0]);
    assert!(project.reports.reports.is_empty());
    // An empty file is no reports, not a problem.
    let dir = project_with(&[("reports.yaml", "# nothing yet\n")]);
    assert_eq!(load(dir.path()).1, vec![]);
}

#[test]
fn creating_deals_needs_the_deal_key_property_unique() {
    let (_, properties) = edited(
        "properties.yaml",
        "# Deal properties leadflow itself needs.",
        "",
    );
    let cut = properties.find("deal_properties:").unwrap();
    let dir = project_with(&[("properties.yaml", &properties[..cut])]);
    let (_, d) = load(dir.path());
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].file, Path::new("workflows.yaml"));
    assert_eq!(d[0].loc.line, line_of("workflows.yaml", "- create_deal:"));
    assert!(
        d[0].message
            .contains("create_deal needs the deal property leadflow_deal_key"),
        "{}",
        d[0]
    );
    assert!(
        d[0].hint.as_deref().unwrap().contains("unique: true"),
        "{}",
        d[0]
    );

    let d = only("properties.yaml", "    unique: true\n", "");
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("must be text with unique values"),
        "{}",
        d[0]
    );
    assert_eq!(
        d[0].loc.line,
        line_of("properties.yaml", "leadflow_deal_key:")
    );
}

#[test]
fn options_may_have_labels_of_their_own() {
    let (file, text) = edited(
        "properties.yaml",
        "options: [\"ICP-A\", \"ICP-B\", \"ICP-C\"]",
        "options: [{ value: \"icp_a\", label: \"ICP-A\" }, \"ICP-B\", { value: \"ICP-C\" }]",
    );
    let dir = project_with(&[(&file, &text)]);
    let (project, d) = load(dir.path());
    assert_eq!(d, vec![]);
    let icp = project
        .properties
        .find(leadflow_core::ObjectType::Contacts, "icp_type")
        .unwrap();
    assert_eq!(icp.options(), ["icp_a", "ICP-B", "ICP-C"]);
    assert_eq!(icp.option_label("icp_a"), "ICP-A");
    assert_eq!(icp.option_label("ICP-B"), "ICP-B");
    assert_eq!(icp.parse_value("ICP-A").unwrap().to_wire(), "icp_a");

    let d = only(
        "properties.yaml",
        "options: [\"ICP-A\", \"ICP-B\", \"ICP-C\"]",
        "options: [{ label: \"ICP-A\" }, [\"ICP-B\"], \"ICP-C\"]",
    );
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d[0].message.contains("missing required key \"value\""),
        "{d:?}"
    );
    assert!(
        d[1].message.contains("must be a value or { value, label }"),
        "{d:?}"
    );
}

fn docs(name: &str) -> (std::path::PathBuf, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("docs").join(name)).unwrap();
    (root, text)
}

/// The ```yaml blocks of a Markdown text, with the line each starts on.
fn yaml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim_start().starts_with("```yaml") => {
                current = Some((i + 1, String::new()))
            }
            None => {}
            Some(_) if line.trim_start().starts_with("```") => blocks.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "a ```yaml block is not closed");
    blocks
}

#[test]
fn every_yaml_block_in_the_docs_is_part_of_an_example_that_loads() {
    let (root, markdown) = docs("config.md");
    let blocks = yaml_blocks(&markdown);
    assert!(blocks.len() >= 7, "one block per file: {}", blocks.len());
    let mut files = std::collections::BTreeSet::new();
    for (line, block) in &blocks {
        let (first, body) = block.split_once('\n').unwrap();
        let named = first.strip_prefix("# ").unwrap_or_else(|| {
            panic!(
                "config.md:{line}: a ```yaml block starts with `# docs/examples/<project>/<file>`"
            )
        });
        assert!(
            named.starts_with("docs/examples/"),
            "config.md:{line}: {named}"
        );
        let file = root.join(named);
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("config.md:{line}: {named}: {e}"));
        assert!(
            text.contains(body),
            "config.md:{line}: the block is not in {named} as written"
        );
        leadflow_config::node::parse(body)
            .unwrap_or_else(|e| panic!("config.md:{line}: the block is not YAML: {e:?}"));
        let (_, diags) = load(file.parent().unwrap());
        assert!(diags.is_empty(), "config.md:{line}: {named}: {diags:?}");
        files.insert(Path::new(named).file_name().unwrap().to_owned());
    }
    for (name, _) in leadflow_config::FILES {
        assert!(
            files.contains(std::ffi::OsStr::new(name)),
            "docs/config.md has no example of {name}"
        );
    }
}

#[test]
fn the_reports_catalogue_in_the_docs_is_the_one_the_code_accepts() {
    use leadflow_config::reports::{CHARTS, DASHBOARD_REPORTS, METRICS, WIDGETS};
    let (_, markdown) = docs("config.md");
    let start = markdown
        .find("\n## Reports catalogue\n")
        .expect("the section exists");
    let section = &markdown[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let listed: std::collections::BTreeSet<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("- `")?.strip_suffix('`'))
        .collect();
    let accepted: std::collections::BTreeSet<&str> = METRICS
        .into_iter()
        .chain(CHARTS)
        .chain(DASHBOARD_REPORTS)
        .chain(WIDGETS)
        .collect();
    assert_eq!(listed, accepted);
    // Nothing points at a page that does not exist.
    let (root, _) = docs("config.md");
    for (name, text) in leadflow_config::FILES {
        for word in text.split_whitespace() {
            if let Some(path) = word.strip_prefix("docs/") {
                let path = path.trim_end_matches(|c: char| !c.is_alphanumeric());
                assert!(
                    root.join("docs").join(path).exists(),
                    "{name} refers to docs/{path}, which does not exist"
                );
            }
        }
    }
}
