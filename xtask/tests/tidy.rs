//! Tidy checks: module docs, forbidden test attributes, and the crate dependency table.

use std::collections::BTreeMap;
use std::process::Command;

use xtask::{rust_files, workspace_root};

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let root = workspace_root();
    let mut missing = Vec::new();
    for dir in ["crates", "xtask"] {
        for file in rust_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let rel = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            // Test modules in `tests.rs` files sit under a documented parent module.
            if rel.ends_with("/tests.rs") {
                continue;
            }
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if !first.starts_with("//!") {
                missing.push(rel);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` module doc saying what they are for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn no_ignored_or_should_panic_tests() {
    let root = workspace_root();
    let needles = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
    let mut found = Vec::new();
    for file in rust_files(&root.join("crates")) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if needles.iter().any(|n| line.trim_start().starts_with(n)) {
                found.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "tests must assert, not be ignored or expect panics:\n{}",
        found.join("\n")
    );
}

/// The dependency table of ARCHITECTURE.md: which workspace crates each crate must not use.
fn forbidden() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        (
            "leadflow-core",
            &[
                "leadflow-hubspot",
                "leadflow-sandbox",
                "leadflow",
                "serde",
                "tokio",
                "reqwest",
                "sqlx",
            ][..],
        ),
        (
            "leadflow-hubspot",
            &["leadflow-sandbox", "leadflow", "leadflow-contract"][..],
        ),
        (
            "leadflow-sandbox",
            &["leadflow-hubspot", "leadflow", "leadflow-contract"][..],
        ),
        (
            "leadflow-contract",
            &["leadflow-hubspot", "leadflow-sandbox", "leadflow"][..],
        ),
        (
            "leadflow-store",
            &["leadflow-hubspot", "leadflow-config", "leadflow"][..],
        ),
        (
            "leadflow-sync",
            &[
                "leadflow-config",
                "leadflow-plan",
                "leadflow-server",
                "leadflow-engine",
                "leadflow",
            ][..],
        ),
        (
            "leadflow-engine",
            &[
                "leadflow-sync",
                "leadflow-plan",
                "leadflow-server",
                "leadflow-sandbox",
                "leadflow-import",
                "leadflow",
            ][..],
        ),
        (
            "leadflow-automation",
            &[
                "leadflow-hubspot",
                "leadflow-sync",
                "leadflow-engine",
                "leadflow-server",
                "leadflow-plan",
                "leadflow",
            ][..],
        ),
        (
            "leadflow-reports",
            &[
                "leadflow-hubspot",
                "leadflow-sync",
                "leadflow-engine",
                "leadflow-server",
                "leadflow-plan",
                "leadflow-sandbox",
                "leadflow",
            ][..],
        ),
        (
            "leadflow-web",
            &[
                "leadflow-hubspot",
                "leadflow-sync",
                "leadflow-engine",
                "leadflow-sandbox",
                "leadflow-plan",
                "leadflow-server",
                "leadflow",
            ][..],
        ),
        (
            "leadflow-advice",
            &[
                "leadflow-hubspot",
                "leadflow-sync",
                "leadflow-engine",
                "leadflow-server",
                "leadflow-plan",
                "leadflow-sandbox",
                "leadflow-web",
                "leadflow",
            ][..],
        ),
        (
            "leadflow-import",
            &[
                "leadflow-store",
                "leadflow-plan",
                "leadflow-sync",
                "leadflow-server",
                "leadflow-sandbox",
                "leadflow",
            ][..],
        ),
    ])
}

#[test]
fn crate_dependencies_follow_the_architecture() {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let rules = forbidden();
    let mut violations = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default();
        let Some(banned) = rules.get(name) else {
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            // Dev-dependencies may cross the boundary: tests of the client run against the sandbox.
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            if banned.contains(&dep_name) {
                violations.push(format!("{name} depends on {dep_name}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "dependency edges ARCHITECTURE.md forbids:\n{}",
        violations.join("\n")
    );
}

#[test]
fn no_machine_paths_in_tracked_files() {
    let root = workspace_root();
    let output = Command::new("git")
        .args(["ls-files"])
        .current_dir(&root)
        .output();
    let Ok(output) = output else { return };
    let needle = concat!("/wo", "rk/");
    let mut found = Vec::new();
    for file in String::from_utf8_lossy(&output.stdout).lines() {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        if text.contains(needle) {
            found.push(file.to_owned());
        }
    }
    assert!(
        found.is_empty(),
        "absolute paths of this machine in: {}",
        found.join(", ")
    );
}
