//! Unit tests of reading and checking a CSV against the spec's properties.

use std::sync::OnceLock;

use leadflow_config::PropertySchema;

use super::*;

/// The spec's properties, as `leadflow init` writes them.
fn schema() -> &'static PropertySchema {
    static SCHEMA: OnceLock<PropertySchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        leadflow_config::init(dir.path(), false).unwrap();
        let (project, diags) = leadflow_config::load(dir.path());
        assert!(diags.is_empty(), "{diags:?}");
        project.properties
    })
}

fn read(csv: &str) -> Parsed {
    read_with(csv.as_bytes(), |_| {}).unwrap()
}

fn read_with<'a>(csv: &[u8], f: impl FnOnce(&mut ReadOptions<'a>)) -> Result<Parsed, Error> {
    let mut options = ReadOptions::new(schema());
    f(&mut options);
    read_csv(csv, &options)
}

fn fixed(flag: &str, property: &str, value: &str) -> FixedValue {
    FixedValue {
        flag: flag.to_owned(),
        property: property.to_owned(),
        value: value.to_owned(),
    }
}

/// Every problem of every rejected row as `row N, column: reason`.
fn problems(p: &Parsed) -> Vec<String> {
    p.rejected
        .iter()
        .flat_map(|e| {
            e.problems
                .iter()
                .map(move |x| format!("row {}, {x}", e.row))
        })
        .collect()
}

#[test]
fn headers_match_names_and_labels_loosely() {
    let p = read(
        "Email,First Name,LASTNAME,company name,job_title,ICP Fit Score,icp_type,lead score,Message Strategy Used,Response-Status\n\
         ada@example.com,Ada,Lovelace,Analytical,CTO,8,ICP-A,55,Time Focus,Interested\n",
    );
    assert_eq!(
        p.columns,
        [
            "email",
            "firstname",
            "lastname",
            "company",
            "jobtitle",
            "icp_fit_score",
            "icp_type",
            "lead_score",
            "message_strategy",
            "response_status"
        ]
        .map(|c| Some(c.to_owned()))
    );
    assert!(p.rejected.is_empty(), "{:?}", problems(&p));
    assert_eq!(p.rows.len(), 1);
    let row = &p.rows[0];
    assert_eq!(row.row, 2, "the header is row 1");
    assert_eq!(row.email, "ada@example.com");
    assert_eq!(row.properties["icp_fit_score"], "8");
    assert_eq!(row.properties["message_strategy"], "Time Focus");
    assert_eq!(row.properties["jobtitle"], "CTO");
    assert_eq!(row.properties["email"], "ada@example.com");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_mapping_file_overrides_and_skips_columns() {
    let mapping = MappingFile::parse(
        "columns:\n  \"E-mail Address\": email\n  Fit: \"ICP Fit Score\"\n  \"Internal ref\": ~\n  Twitter: ~\n",
    )
    .unwrap();
    let p = read_with(
        b"E-mail Address,Fit,Internal ref,firstname\nbo@example.com,3,X-1,Bo\n",
        |o| o.mapping = Some(&mapping),
    )
    .unwrap();
    assert_eq!(
        p.columns,
        vec![
            Some("email".to_owned()),
            Some("icp_fit_score".to_owned()),
            None,
            Some("firstname".to_owned())
        ]
    );
    assert_eq!(p.rows[0].properties["icp_fit_score"], "3");
    assert!(!p.rows[0].properties.values().any(|v| v == "X-1"));
    assert_eq!(
        p.warnings,
        vec![Warning::UnusedMapping {
            column: "Twitter".to_owned()
        }]
    );

    let bad = MappingFile::parse("columns:\n  Fit: \"ICP Fit Scor\"\n").unwrap();
    let e = read_with(b"email,Fit\n", |o| o.mapping = Some(&bad)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the mapping file maps column \"Fit\" to \"ICP Fit Scor\", which is not a contact property (did you mean \"ICP Fit Score\"?)"
    );
    let e = MappingFile::parse("colums:\n  a: email\n").unwrap_err();
    assert!(
        e.to_string().starts_with("the mapping file is not valid:"),
        "{e}"
    );
}

#[test]
fn unknown_columns_stop_the_import_with_a_suggestion_unless_ignored() {
    let csv = b"email,ICP Fit Scor,Twitter\na@example.com,5,@a\n";
    let e = read_with(csv, |_| {}).unwrap_err();
    let Error::UnknownColumns(cols) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        cols,
        &vec![
            UnknownColumn {
                position: 2,
                column: "ICP Fit Scor".to_owned(),
                suggestion: Some("ICP Fit Score".to_owned())
            },
            UnknownColumn {
                position: 3,
                column: "Twitter".to_owned(),
                suggestion: None
            },
        ]
    );
    assert_eq!(
        e.to_string(),
        "2 column(s) match no contact property: column 2 \"ICP Fit Scor\" (did you mean \"ICP Fit Score\"?); column 3 \"Twitter\""
    );

    let p = read_with(csv, |o| o.ignore_unknown_columns = true).unwrap();
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].properties.len(), 1, "only the email is written");
    assert_eq!(p.warnings.len(), 2);
    assert_eq!(
        p.warnings[0].to_string(),
        "column \"ICP Fit Scor\" is ignored: it matches no contact property"
    );
}

#[test]
fn a_file_without_an_email_column_is_refused() {
    let e = read_with(b"E-mail Addr,firstname\na@example.com,A\n", |_| {}).unwrap_err();
    assert!(
        matches!(&e, Error::NoEmailColumn { suggestion: Some(s), .. } if s == "E-mail Addr"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("no column holds the email address"),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("; column \"E-mail Addr\" looks like it, but its header names no property"),
        "{e}"
    );
    // "Email Address" is common enough to be understood as it is.
    assert_eq!(read("Email Address\nx@example.com\n").rows.len(), 1);
}

#[test]
fn columns_hubspot_sets_or_that_repeat_a_property_are_refused() {
    let e = read_with(b"Record ID,email\n1,a@example.com\n", |_| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "column \"Record ID\" is HubSpot's hs_object_id, which HubSpot sets itself and an import cannot write"
    );
    let p = read_with(b"Record ID,email\n1,a@example.com\n", |o| {
        o.ignore_unknown_columns = true
    })
    .unwrap();
    assert_eq!(p.rows.len(), 1);
    let e = read_with(b"email,E-mail\n", |_| {}).unwrap_err();
    assert!(
        matches!(&e, Error::DuplicateColumn { property, .. } if property == "email"),
        "{e:?}"
    );
}

#[test]
fn bad_values_are_rejected_per_row_with_column_and_reason() {
    let p = read(
        "email,Response Status,ICP Fit Score,Last Outreach Date,Lead Score\n\
         ok@example.com,Interested,7,2026-11-24,90\n\
         typo@example.com,Intrested,7,,\n\
         range@example.com,,11,,\n\
         date@example.com,,,24/11/2026,\n\
         many@example.com,Maybe,0,yesterday,101\n",
    );
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].properties["last_outreach_date"], "2026-11-24");
    assert_eq!(p.read, 5);
    assert_eq!(
        problems(&p)[..3],
        [
            "row 3, Response Status: \"Intrested\" is not allowed; did you mean \"Interested\"? allowed: \"No Response\", \"Interested\", \"Not Interested\", \"Meeting Scheduled\"",
            "row 4, ICP Fit Score: \"11\" is not allowed; allowed: a whole number from 1 to 10",
            "row 5, Last Outreach Date: \"24/11/2026\" is not allowed; allowed: a calendar day as YYYY-MM-DD",
        ]
    );
    let many = &p.rejected[3];
    assert_eq!(many.row, 6);
    assert_eq!(
        many.problems
            .iter()
            .map(|x| x.column.as_str())
            .collect::<Vec<_>>(),
        [
            "Response Status",
            "ICP Fit Score",
            "Last Outreach Date",
            "Lead Score"
        ],
        "every problem of a row is reported, not just the first"
    );
}

#[test]
fn a_mapped_column_names_the_property_in_its_reasons() {
    let mapping = MappingFile::parse("columns:\n  Fit: icp_fit_score\n").unwrap();
    let p = read_with(b"email,Fit\na@example.com,0\n", |o| {
        o.mapping = Some(&mapping)
    })
    .unwrap();
    assert_eq!(
        problems(&p),
        [
            "row 2, Fit: \"0\" is not allowed for ICP Fit Score; allowed: a whole number from 1 to 10"
        ]
    );
}

#[test]
fn malformed_and_missing_emails_are_rejected() {
    let p = read(
        "email,firstname\n\
         good@example.co.uk,A\n\
         ,B\n\
         no-at.example.com,C\n\
         two@@example.com,D\n\
         a b@example.com,E\n\
         x@localhost,F\n\
         x@example.c,G\n\
         x@-example.com,H\n",
    );
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].email, "good@example.co.uk");
    let reasons = problems(&p);
    assert_eq!(reasons.len(), 7, "{reasons:#?}");
    assert_eq!(
        reasons[0],
        "row 3, email: the email is empty; every row needs one, since rows are upserted by email"
    );
    assert_eq!(
        reasons[1],
        "row 4, email: \"no-at.example.com\" is not an email address (it has no @)"
    );
    assert!(reasons[2].contains("more than one @"), "{}", reasons[2]);
    assert!(reasons[3].contains("it contains a space"), "{}", reasons[3]);
    assert!(
        reasons[4].contains("the domain has no dot"),
        "{}",
        reasons[4]
    );
    assert!(reasons[5].contains("top-level domain"), "{}", reasons[5]);
    assert!(
        reasons[6].contains("starts or ends with -"),
        "{}",
        reasons[6]
    );
}

#[test]
fn empty_cells_leave_properties_unset_and_text_is_trimmed() {
    let p = read("email,firstname,ICP Fit Score,notes\n  a@example.com , Ada ,  ,\n");
    let row = &p.rows[0];
    assert_eq!(row.email, "a@example.com");
    assert_eq!(row.properties.len(), 2, "{:?}", row.properties);
    assert_eq!(row.properties["firstname"], "Ada");
}

#[test]
fn a_latin1_row_is_rejected_while_the_others_pass() {
    let mut csv = b"email,firstname,lastname\nana@example.com,Ana,Lopez\n".to_vec();
    csv.extend(b"jose@example.com,Jos\xe9,M\xfcller\n");
    csv.extend(b"li@example.com,Li,Wei\n");
    let p = read_with(&csv, |_| {}).unwrap();
    assert_eq!(
        p.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        [2, 4],
        "the rows around the bad one are imported"
    );
    assert_eq!(
        problems(&p),
        [
            "row 3, firstname: not valid UTF-8 (save the file as UTF-8)",
            "row 3, lastname: not valid UTF-8 (save the file as UTF-8)",
        ]
    );
    assert_eq!(
        p.rejected[0].record.as_slice(),
        b"jose@example.comJos\xe9M\xfcller"
    );
}

#[test]
fn file_level_encoding_problems_are_errors() {
    let e = read_with(b"\xff\xfee\x00m\x00", |_| {}).unwrap_err();
    assert!(e.to_string().contains("UTF-16"), "{e}");
    let e = read_with(b"em\xe9il\na@example.com\n", |_| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the header row is not valid UTF-8 (save the file as UTF-8)"
    );
    assert!(matches!(read_with(b"", |_| {}), Err(Error::Empty)));
    // A byte order mark is not part of the first header.
    let p = read("\u{feff}email,firstname\na@example.com,A\n");
    assert_eq!(p.rows.len(), 1);
}

#[test]
fn duplicate_emails_keep_the_later_row_and_warn() {
    let p = read(
        "email,firstname\n\
         dup@example.com,First\n\
         other@example.com,Other\n\
         DUP@example.com,Second\n",
    );
    assert_eq!(
        p.rows
            .iter()
            .map(|r| (r.row, r.properties["firstname"].as_str()))
            .collect::<Vec<_>>(),
        [(3, "Other"), (4, "Second")]
    );
    assert_eq!(p.superseded, 1);
    assert_eq!(
        p.warnings,
        vec![Warning::DuplicateEmail {
            row: 4,
            earlier: 2,
            email: "DUP@example.com".to_owned()
        }]
    );
    assert_eq!(
        p.warnings[0].to_string(),
        "row 4: DUP@example.com is also on row 2; row 4 wins and row 2 is not imported"
    );
}

#[test]
fn fixed_values_apply_to_every_row_and_override_a_column() {
    let p = read_with(
        b"email,Campaign Tag\na@example.com,Old tag\nb@example.com,\n",
        |o| {
            o.fixed = vec![
                fixed("--tag", "campaign_tag", "Manual Outreach - 2026-11-24"),
                fixed("--strategy", "message_strategy", "time focus"),
                fixed("--session-id", "session_id", "S-42"),
            ]
        },
    )
    .unwrap();
    for row in &p.rows {
        assert_eq!(
            row.properties["campaign_tag"],
            "Manual Outreach - 2026-11-24"
        );
        assert_eq!(
            row.properties["message_strategy"], "Time Focus",
            "options are written as configured"
        );
        assert_eq!(row.properties["session_id"], "S-42");
    }
    assert_eq!(p.columns[1], None);
    assert_eq!(
        p.warnings[0].to_string(),
        "column \"Campaign Tag\" is ignored: --tag sets its property on every row"
    );
}

#[test]
fn a_bad_fixed_value_stops_the_import_with_a_suggestion() {
    let e = read_with(b"email\n", |o| {
        o.fixed = vec![fixed("--strategy", "message_strategy", "Time Focs")]
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--strategy: Message Strategy Used: \"Time Focs\" is not allowed; did you mean \"Time Focus\"? allowed: \"Time Focus\", \"Quality Focus\", \"Production Focus\", \"Custom\""
    );
    let e = read_with(b"email\n", |o| {
        o.fixed = vec![fixed("--session-id", "no_such_property", "x")]
    })
    .unwrap_err();
    assert!(e.to_string().contains("does not define"), "{e}");
}

#[test]
fn rows_with_the_wrong_number_of_fields_are_rejected_and_blank_rows_skipped() {
    let p = read("email,firstname\na@example.com,A,extra\nb@example.com\n,\nc@example.com,C\n");
    assert_eq!(p.rows.len(), 1);
    assert_eq!(
        problems(&p),
        [
            "row 2, has 3 fields but the header has 2; look for a stray separator or an unclosed quote",
            "row 3, has 1 fields but the header has 2; look for a stray separator or an unclosed quote",
        ]
    );
    assert_eq!(p.warnings, vec![Warning::EmptyRow { row: 4 }]);
}

#[test]
fn semicolon_files_are_read_and_quoted_fields_keep_separators() {
    let p = read("email;firstname;notes\na@example.com;A;\"one; two\nthree\"\n");
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].properties["notes"], "one; two\nthree");
}

#[test]
fn the_rejected_file_holds_the_bad_rows_as_they_were_and_goes_when_there_are_none() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("leads.csv");
    let mut csv = b"email,ICP Fit Score\nok@example.com,5\nbad@example.com,11\n".to_vec();
    csv.extend(b"caf\xe9@example.com,3\nshort@example.com\n");
    let p = read_with(&csv, |_| {}).unwrap();
    let written = write_rejected(&input, &p, &[]).unwrap();
    let path = dir.path().join("leads.rejected.csv");
    assert_eq!(
        written,
        Rejected::Written {
            path: path.clone(),
            rows: 3
        }
    );
    let text = std::fs::read(&path).unwrap();
    let expected = b"email,ICP Fit Score,row,error\n\
        bad@example.com,11,3,\"ICP Fit Score: \"\"11\"\" is not allowed; allowed: a whole number from 1 to 10\"\n\
        caf\xe9@example.com,3,4,email: not valid UTF-8 (save the file as UTF-8)\n\
        short@example.com,,5,has 1 fields but the header has 2; look for a stray separator or an unclosed quote\n";
    assert_eq!(
        String::from_utf8_lossy(&text),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(text, expected, "the original bytes are kept");

    let clean = read("email\nok@example.com\n");
    assert_eq!(
        write_rejected(&input, &clean, &[]).unwrap(),
        Rejected::RemovedStale { path: path.clone() }
    );
    assert!(!path.exists());
    assert_eq!(
        write_rejected(&input, &clean, &[]).unwrap(),
        Rejected::Nothing
    );
}
