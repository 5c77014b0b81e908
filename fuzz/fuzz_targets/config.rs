//! The configuration's readers over arbitrary text: the spec's files with one of them
//! replaced by the input (the first byte picks which). Loading reports problems, located
//! in the file they are in, and never panics.

#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use leadflow_config::{FILES, load_texts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let mut files: BTreeMap<String, Vec<u8>> = FILES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
        .collect();
    let name = FILES[usize::from(pick) % FILES.len()].0;
    files.insert(name.to_owned(), text.to_vec());
    let (_, diags) = load_texts(Path::new("project"), &files);
    for d in diags {
        assert!(d.loc.line >= 1 && d.loc.column >= 1, "{d}");
        assert!(FILES.iter().any(|(f, _)| d.file == Path::new(f)), "{d}");
    }
});
