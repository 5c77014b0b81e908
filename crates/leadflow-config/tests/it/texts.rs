//! Loading a project from texts in memory (`load_texts`, what the fuzzer drives) is
//! loading it from files.

use std::collections::BTreeMap;

use leadflow_config::{FILES, load, load_texts};

#[test]
fn a_project_from_texts_is_the_project_from_files() {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let texts: BTreeMap<String, Vec<u8>> = FILES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
        .collect();
    assert_eq!(load_texts(dir.path(), &texts), load(dir.path()));

    // A missing required file, a file that is not UTF-8 and one that is not YAML: each
    // a located problem, the rest still read.
    let mut broken = texts.clone();
    broken.remove("properties.yaml");
    broken.insert("workflows.yaml".to_owned(), vec![0xff, 0xfe, b'a']);
    broken.insert("reports.yaml".to_owned(), b"a: [unclosed".to_vec());
    let (project, diags) = load_texts(dir.path(), &broken);
    let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
    for (file, what) in [
        ("properties.yaml", "is missing"),
        ("workflows.yaml", "is not UTF-8"),
        ("reports.yaml", "invalid YAML"),
    ] {
        assert!(
            text.iter().any(|d| d.contains(file) && d.contains(what)),
            "{file}: {text:#?}"
        );
    }
    assert!(
        !project.schedules.triggers.is_empty(),
        "schedules.yaml was still read"
    );
}
