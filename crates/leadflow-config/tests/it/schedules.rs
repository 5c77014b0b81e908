//! `schedules.yaml`'s keys for the daily cleanup and the weekly summary: the retention of
//! completed tasks, the summary's sender and recipients, and the time-based triggers'
//! schedule (derived when no schedule lists it).

use leadflow_config::automation::{
    DEFAULT_TASK_RETENTION_DAYS, TIME_BASED_ACTION, TIME_BASED_CRON, TIME_BASED_KEY,
};

use super::{diagnostics_for, edited, line_of, project_with};

#[test]
fn task_retention_is_a_number_of_days_from_one_to_ten_years() {
    for bad in ["0", "-3", "ninety", "3651", "1.5"] {
        let d = diagnostics_for(
            "schedules.yaml",
            "task_retention_days: 90",
            &format!("task_retention_days: {bad}"),
        );
        assert_eq!(d.len(), 1, "{bad}: {d:?}");
        assert!(d[0].message.contains("from 1 to 3650"), "{bad}: {}", d[0]);
        assert!(
            d[0].hint.as_deref().unwrap().contains("archived"),
            "{}",
            d[0]
        );
        assert_eq!(
            d[0].loc.line,
            line_of("schedules.yaml", "task_retention_days: 90")
        );
    }
    // Absent: the default.
    let (file, text) = edited("schedules.yaml", "    task_retention_days: 90\n", "");
    let dir = project_with(&[(&file, &text)]);
    let (project, d) = leadflow_config::load(dir.path());
    assert_eq!(d, vec![]);
    let daily = &project.schedules.triggers[0];
    assert_eq!(daily.task_retention_days, None);
    assert_eq!(daily.retention_days(), DEFAULT_TASK_RETENTION_DAYS);
    assert_eq!(DEFAULT_TASK_RETENTION_DAYS, 90);
    let (file, text) = edited(
        "schedules.yaml",
        "task_retention_days: 90",
        "task_retention_days: 30",
    );
    let dir = project_with(&[(&file, &text)]);
    let (project, _) = leadflow_config::load(dir.path());
    assert_eq!(project.schedules.triggers[0].retention_days(), 30);
}

#[test]
fn the_weekly_summary_needs_a_sender_and_recipients_that_are_addresses() {
    let d = diagnostics_for(
        "schedules.yaml",
        "\"sales-team@example.com\"",
        "\"sales team at example.com\"",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("is not an email address"), "{}", d[0]);
    assert_eq!(
        d[0].loc.line,
        line_of("schedules.yaml", "\"sales-team@example.com\"")
    );

    let d = diagnostics_for(
        "schedules.yaml",
        "sender: \"Leadflow <reports@example.com>\"",
        "sender: \"Leadflow <reports@>\"",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("\"Leadflow <reports@>\""), "{}", d[0]);

    let d = diagnostics_for(
        "schedules.yaml",
        "    recipients:\n      - \"sales-team@example.com\"\n",
        "",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message
            .contains("sends the weekly summary but has no recipients"),
        "{}",
        d[0]
    );

    // Without send_weekly_summary, no email is needed.
    let (file, text) = edited("schedules.yaml", "      - send_weekly_summary\n", "");
    let text = text
        .replace("    sender: \"Leadflow <reports@example.com>\"\n", "")
        .replace("    recipients:\n      - \"sales-team@example.com\"\n", "");
    let dir = project_with(&[(&file, &text)]);
    let (project, d) = leadflow_config::load(dir.path());
    assert_eq!(d, vec![]);
    let weekly = &project.schedules.triggers[1];
    assert_eq!(
        (weekly.sender.as_deref(), weekly.recipients.len()),
        (None, 0)
    );

    let (project, _) = leadflow_config::load(project_with(&[]).path());
    let weekly = &project.schedules.triggers[1];
    assert_eq!(
        (weekly.sender.as_deref(), weekly.recipients.as_slice()),
        (
            Some("Leadflow <reports@example.com>"),
            ["sales-team@example.com".to_owned()].as_slice()
        )
    );
}

#[test]
fn time_based_triggers_run_on_a_schedule_derived_when_none_lists_them() {
    let (project, _) = leadflow_config::load(project_with(&[]).path());
    let listed: Vec<_> = project
        .schedules
        .triggers
        .iter()
        .filter(|t| t.runs(TIME_BASED_ACTION))
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, "time_based_triggers");
    assert!(!listed[0].description.contains("derived"));

    // An older project without the entry: derived, daily at 06:00.
    let template = leadflow_config::FILES
        .iter()
        .find(|(n, _)| *n == "schedules.yaml")
        .unwrap()
        .1;
    let cut = template.find("\n  time_based_triggers:").unwrap();
    let dir = project_with(&[("schedules.yaml", &template[..cut + 1])]);
    let (project, d) = leadflow_config::load(dir.path());
    assert_eq!(d, vec![]);
    let derived = project.schedules.triggers.last().unwrap();
    assert_eq!(project.schedules.triggers.len(), 4);
    assert_eq!(
        (derived.key.as_str(), derived.cron.as_str()),
        (TIME_BASED_KEY, TIME_BASED_CRON)
    );
    assert!(derived.description.contains("derived"));

    // Listed under another schedule: nothing derived.
    let (file, text) = edited(
        "schedules.yaml",
        "      - update_lead_scores\n",
        "      - update_lead_scores\n      - check_time_based_triggers\n",
    );
    let text = text[..text.find("\n  time_based_triggers:").unwrap() + 1].to_owned();
    let dir = project_with(&[(&file, &text)]);
    let (project, d) = leadflow_config::load(dir.path());
    assert_eq!(d, vec![]);
    assert_eq!(project.schedules.triggers.len(), 3);
    assert!(project.schedules.triggers[0].runs(TIME_BASED_ACTION));
}
