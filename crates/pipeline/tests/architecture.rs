//! ARCHITECTURE.md's "must not know" table, enforced: its third column names the packages a
//! crate may not depend on, and `cargo metadata` says what each crate depends on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The table's rows: crate -> packages it may not depend on.
fn forbidden(architecture: &str) -> BTreeMap<String, BTreeSet<String>> {
    let section = architecture
        .split("## Invariants: what each crate must not know")
        .nth(1)
        .expect("ARCHITECTURE.md has the must-not-know section");
    let mut rules = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [krate, _, packages] = cells[..] else {
            panic!("a must-not-know row has three columns: {line}");
        };
        if krate == "crate" || krate.starts_with("---") {
            continue;
        }
        let packages = packages.split(',').map(|p| p.trim().to_string());
        rules.insert(krate.to_string(), packages.collect());
    }
    rules
}

/// The workspace's crates as `cargo metadata --no-deps` declares them.
fn workspace() -> BTreeMap<String, Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["name"].as_str().expect("name").to_string(), p.clone()))
        .collect()
}

/// Every package `krate` depends on (normal and build dependencies), following workspace
/// crates with the features asked of them: an optional dependency counts only when a feature
/// in use enables it.
fn dependencies(workspace: &BTreeMap<String, Value>, krate: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut todo = vec![(krate.to_string(), BTreeSet::new())];
    let mut visited = BTreeSet::new();
    while let Some((name, features)) = todo.pop() {
        if !visited.insert((name.clone(), features.clone())) {
            continue;
        }
        let package = &workspace[&name];
        let enabled = enabled_optional(package, &features);
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().expect("dependency name").to_string();
            let local = dep["rename"].as_str().unwrap_or(&dep_name).to_string();
            let kind = dep["kind"].as_str();
            if kind == Some("dev") || (dep["optional"] == true && !enabled.contains(&local)) {
                continue;
            }
            found.insert(dep_name.clone());
            if workspace.contains_key(&dep_name) {
                let asked = dep["features"].as_array().expect("features");
                let asked = asked.iter().map(|f| f.as_str().unwrap().to_string());
                todo.push((dep_name, asked.collect()));
            }
        }
    }
    found
}

/// The optional dependencies (by local name) that `features` of `package` turn on.
fn enabled_optional(package: &Value, features: &BTreeSet<String>) -> BTreeSet<String> {
    let table = package["features"].as_object().expect("features table");
    let mut on = BTreeSet::new();
    for feature in features.iter().chain(["default".to_string()].iter()) {
        for item in table
            .get(feature)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let item = item.as_str().expect("feature item");
            on.insert(item.trim_start_matches("dep:").to_string());
        }
    }
    on
}

/// The rules `rules` break, one line each.
fn violations(
    workspace: &BTreeMap<String, Value>,
    rules: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut broken = Vec::new();
    for (krate, banned) in rules {
        let deps = dependencies(workspace, krate);
        for package in banned.intersection(&deps) {
            broken.push(format!(
                "{krate} depends on {package}, which it must not know"
            ));
        }
    }
    broken
}

#[test]
fn no_crate_depends_on_what_its_must_not_know_row_forbids() {
    let architecture = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let rules = forbidden(&architecture);
    let workspace = workspace();
    let crates: BTreeSet<&String> = workspace.keys().collect();
    let ruled: BTreeSet<&String> = rules.keys().collect();
    assert_eq!(ruled, crates, "every crate has one must-not-know row");
    assert!(rules.values().all(|banned| !banned.is_empty()));
    assert_eq!(violations(&workspace, &rules), Vec::<String>::new());
}

#[test]
fn the_check_sees_transitive_and_feature_enabled_dependencies() {
    let workspace = workspace();
    // train reaches shapeset directly and hdf5 also through spec's feature; figures reaches
    // hdf5 only through the `hdf5` feature it asks of spec; pipeline asks spec for none.
    let rule = |krate: &str, package: &str| {
        BTreeMap::from([(krate.to_string(), BTreeSet::from([package.to_string()]))])
    };
    assert_eq!(
        violations(&workspace, &rule("train", "tch")),
        ["train depends on tch, which it must not know"]
    );
    assert_eq!(
        violations(&workspace, &rule("figures", "hdf5-metno")),
        ["figures depends on hdf5-metno, which it must not know"]
    );
    assert!(violations(&workspace, &rule("pipeline", "hdf5-metno")).is_empty());
    assert!(dependencies(&workspace, "train").contains("shapeset"));
    assert!(dependencies(&workspace, "fetch").contains("hdf5-metno"));
}

/// Every source file says its one job in a `//!` doc on its first line: ARCHITECTURE.md maps
/// crates to their main modules and leaves the rest to these docs, which cannot drift from the
/// files they head.
#[test]
fn every_source_file_begins_with_its_module_doc() {
    let mut missing = Vec::new();
    let mut todo = vec![repo().join("crates")];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && name != "tests" && name != "target" {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.components().any(|c| c.as_os_str() == "src")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.starts_with("//!") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    assert!(missing.is_empty(), "no //! doc on line 1: {missing:?}");
}
