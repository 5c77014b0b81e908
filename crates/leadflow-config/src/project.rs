//! A project directory: loading every file with every problem located, and `init`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::automation::{Schedules, Scoring, SyncFlows};
use crate::diag::{Diagnostic, Sink};
use crate::node::{Loc, Node};
use crate::properties::PropertySchema;
use crate::reports::Reports;
use crate::settings::Settings;
use crate::workflows::Workflow;

/// The files of a project, with what `leadflow init` writes into each.
pub const FILES: [(&str, &str); 7] = [
    ("leadflow.yaml", include_str!("../templates/leadflow.yaml")),
    (
        "properties.yaml",
        include_str!("../templates/properties.yaml"),
    ),
    (
        "workflows.yaml",
        include_str!("../templates/workflows.yaml"),
    ),
    ("sync.yaml", include_str!("../templates/sync.yaml")),
    ("reports.yaml", include_str!("../templates/reports.yaml")),
    (
        "schedules.yaml",
        include_str!("../templates/schedules.yaml"),
    ),
    ("scoring.yaml", include_str!("../templates/scoring.yaml")),
];

/// The workflow tests `leadflow init` writes into `tests/` (run by `leadflow workflows
/// test`): every branch of the four workflows at their thresholds, every response status,
/// a tag no workflow matches, and the data-sync flows.
pub const TEST_FILES: [(&str, &str); 6] = [
    (
        "tests/manual_outreach.yaml",
        include_str!("../templates/tests/manual_outreach.yaml"),
    ),
    (
        "tests/automated_outreach.yaml",
        include_str!("../templates/tests/automated_outreach.yaml"),
    ),
    (
        "tests/response_handling.yaml",
        include_str!("../templates/tests/response_handling.yaml"),
    ),
    (
        "tests/followup_management.yaml",
        include_str!("../templates/tests/followup_management.yaml"),
    ),
    (
        "tests/unmatched_tag.yaml",
        include_str!("../templates/tests/unmatched_tag.yaml"),
    ),
    (
        "tests/data_sync.yaml",
        include_str!("../templates/tests/data_sync.yaml"),
    ),
];

/// A loaded project.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// Its directory.
    pub dir: PathBuf,
    /// `leadflow.yaml`.
    pub settings: Settings,
    /// `properties.yaml`.
    pub properties: PropertySchema,
    /// `workflows.yaml`.
    pub workflows: Vec<Workflow>,
    /// `sync.yaml`.
    pub sync: SyncFlows,
    /// `reports.yaml`.
    pub reports: Reports,
    /// `schedules.yaml`.
    pub schedules: Schedules,
    /// `scoring.yaml`.
    pub scoring: Scoring,
}

/// One file's bytes as read: `None` when it does not exist.
type Read = Option<std::io::Result<Vec<u8>>>;

fn read(
    dir: &Path,
    name: &str,
    bytes: Read,
    required: bool,
    out: &mut Vec<Diagnostic>,
) -> Option<(PathBuf, Node)> {
    let shown = PathBuf::from(name);
    let start = Loc { line: 1, column: 1 };
    let bytes = match bytes {
        Some(Ok(b)) => b,
        None => {
            if required {
                Sink::new(&shown, out).error(start, format!("{name} is missing from {}", dir.display()), Some("run `leadflow init` to write the spec's configuration, or pass --config DIR".to_owned()));
            }
            return None;
        }
        Some(Err(e)) => {
            Sink::new(&shown, out).error(
                start,
                format!("cannot read {}: {e}", dir.join(name).display()),
                None,
            );
            return None;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        Sink::new(&shown, out).error(
            start,
            format!("{name} is not UTF-8 text"),
            Some("save the file as UTF-8".to_owned()),
        );
        return None;
    };
    match crate::node::parse(&text) {
        Ok(node) => Some((shown, node)),
        Err((loc, message)) => {
            Sink::new(&shown, out).error(loc, format!("invalid YAML: {message}"), None);
            None
        }
    }
}

/// Loads the project in `dir`, reporting every problem. The project is returned even when
/// there are problems (with the parts that could be read), so callers can decide.
pub fn load(dir: &Path) -> (Project, Vec<Diagnostic>) {
    load_with(dir, |name| match std::fs::read(dir.join(name)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        other => Some(other),
    })
}

/// Loads a project from files held in memory (name → text; a name missing is a file
/// missing), as [`load`] does from `dir`'s files: what tests and the fuzzer use.
pub fn load_texts(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> (Project, Vec<Diagnostic>) {
    load_with(dir, |name| files.get(name).cloned().map(Ok))
}

fn load_with(dir: &Path, file: impl Fn(&str) -> Read) -> (Project, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let node = |name: &str, required: bool, diags: &mut Vec<Diagnostic>| {
        read(dir, name, file(name), required, diags)
    };
    let settings = match node("leadflow.yaml", true, &mut diags) {
        Some((file, node)) => crate::settings::read_file(&node, &mut Sink::new(&file, &mut diags)),
        None => Settings::default(),
    };
    let properties = match node("properties.yaml", true, &mut diags) {
        Some((file, node)) => crate::properties::read_file(&node, &file, &mut diags),
        None => PropertySchema::default(),
    };
    let workflows = match node("workflows.yaml", false, &mut diags) {
        Some((file, node)) => crate::workflows::read_file(
            &node,
            &properties,
            &settings,
            &mut Sink::new(&file, &mut diags),
        ),
        None => Vec::new(),
    };
    let sync = match node("sync.yaml", false, &mut diags) {
        Some((file, node)) => {
            crate::automation::read_sync(&node, &properties, &mut Sink::new(&file, &mut diags))
        }
        None => SyncFlows::default(),
    };
    let reports = match node("reports.yaml", false, &mut diags) {
        Some((file, node)) => {
            crate::reports::read_file(&node, &properties, &mut Sink::new(&file, &mut diags))
        }
        None => Reports::default(),
    };
    let schedules = match node("schedules.yaml", false, &mut diags) {
        Some((file, node)) => {
            crate::automation::read_schedules(&node, &mut Sink::new(&file, &mut diags))
        }
        None => Schedules::default(),
    };
    let scoring = match node("scoring.yaml", false, &mut diags) {
        Some((file, node)) => {
            crate::automation::read_scoring(&node, &properties, &mut Sink::new(&file, &mut diags))
        }
        None => Scoring::default(),
    };
    diags.sort();
    diags.dedup();
    (
        Project {
            dir: dir.to_path_buf(),
            settings,
            properties,
            workflows,
            sync,
            reports,
            schedules,
            scoring,
        },
        diags,
    )
}

/// Writes the spec's configuration ([`FILES`]) and its workflow tests ([`TEST_FILES`])
/// into `dir` (created if needed). Existing files are kept unless `force`; returns the
/// files written and the files kept.
///
/// # Errors
/// The IO error, with the path.
pub fn init(dir: &Path, force: bool) -> std::io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut kept = Vec::new();
    for (name, text) in FILES.into_iter().chain(TEST_FILES) {
        let path = dir.join(name);
        if path.exists() && !force {
            kept.push(path);
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                std::io::Error::new(e.kind(), format!("creating {}: {e}", parent.display()))
            })?;
        }
        std::fs::write(&path, text).map_err(|e| {
            std::io::Error::new(e.kind(), format!("writing {}: {e}", path.display()))
        })?;
        written.push(path);
    }
    Ok((written, kept))
}
