//! The spec's condition and template syntax over arbitrary text, against the spec's
//! property schema: translation to minijinja and the type checks never panic.

#![no_main]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use leadflow_config::expr::{
    check_condition, check_template, translate_condition, translate_template,
};
use leadflow_config::{FILES, PropertySchema, load_texts};
use libfuzzer_sys::fuzz_target;

fn schema() -> &'static PropertySchema {
    static SCHEMA: OnceLock<PropertySchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let files: BTreeMap<String, Vec<u8>> = FILES
            .iter()
            .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
            .collect();
        load_texts(Path::new("project"), &files).0.properties
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let schema = schema();
    let _ = translate_condition(src, schema);
    let _ = check_condition(src, schema);
    let _ = translate_template(src);
    let _ = check_template(src, schema);
});
