//! The part of the workspace's build configuration that one binary depends on: the
//! `Cargo.lock` packages in its dependency closure, and the root `Cargo.toml` without the
//! `[workspace.dependencies]` entries its crates do not use. A tool identity hashes these
//! instead of the two whole files, so adding a dependency to one crate (say, the pack
//! trainer's) does not re-key every other stage: only binaries that link it change.

use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Canonical text of the lock entries reachable from `package`: one
/// `name version source checksum` line each, sorted.
pub fn locked_closure(lock_text: &str, package: &str) -> Result<String> {
    let lock: toml::Value = toml::from_str(lock_text).context("bad TOML in Cargo.lock")?;
    let packages = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let field = |p: &toml::Value, name: &str| {
        p.get(name)
            .and_then(toml::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut by_name: BTreeMap<String, Vec<&toml::Value>> = BTreeMap::new();
    for p in &packages {
        by_name.entry(field(p, "name")).or_default().push(p);
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![package.to_string()];
    while let Some(reference) = todo.pop() {
        // A dependency is `name` or `name version [(source)]` when several versions exist.
        let mut words = reference.split(' ');
        let name = words.next().unwrap_or_default();
        let version = words.next();
        for p in by_name.get(name).into_iter().flatten() {
            if version.is_some_and(|v| v != field(p, "version")) {
                continue;
            }
            let line = ["name", "version", "source", "checksum"]
                .map(|f| field(p, f))
                .join(" ");
            if seen.insert(line) {
                let deps = p.get("dependencies").and_then(toml::Value::as_array);
                todo.extend(
                    deps.into_iter()
                        .flatten()
                        .filter_map(|d| d.as_str().map(String::from)),
                );
            }
        }
    }
    Ok(seen.into_iter().collect::<Vec<_>>().join("\n"))
}

/// Canonical JSON of the root manifest as the given crates see it: everything but the
/// `[workspace.dependencies]` entries none of them names.
pub fn workspace_view(root_manifest: &Path, used: &BTreeSet<String>) -> Result<String> {
    let text = std::fs::read_to_string(root_manifest)
        .with_context(|| format!("cannot read {}", root_manifest.display()))?;
    let mut root: toml::Value = toml::from_str(&text)
        .with_context(|| format!("bad TOML in {}", root_manifest.display()))?;
    if let Some(deps) = root
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(toml::Value::as_table_mut)
    {
        deps.retain(|name, _| used.contains(name));
    }
    let json = serde_json::to_value(&root)?;
    Ok(store::canonical_json(&json))
}

/// The dependency names (normal and build) the manifests of `crates` list.
pub fn dependency_names(repo: &Path, crates: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for krate in crates {
        let path = repo.join("crates").join(krate).join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: toml::Value =
            toml::from_str(&text).with_context(|| format!("bad TOML in {}", path.display()))?;
        for section in ["dependencies", "build-dependencies"] {
            if let Some(deps) = manifest.get(section).and_then(toml::Value::as_table) {
                names.extend(deps.keys().cloned());
            }
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4
[[package]]
name = "train"
version = "0.0.0"
dependencies = ["spec", "tch", "rand 0.8.5"]
[[package]]
name = "spec"
version = "0.0.0"
[[package]]
name = "tch"
version = "0.24.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "aa"
[[package]]
name = "rand"
version = "0.8.5"
checksum = "r8"
[[package]]
name = "rand"
version = "0.9.0"
checksum = "r9"
[[package]]
name = "polars"
version = "0.55.2"
checksum = "pp"
"#;

    #[test]
    fn only_the_closure_counts() {
        let closure = locked_closure(LOCK, "train").unwrap();
        assert!(closure.contains("tch 0.24.0"), "{closure}");
        assert!(closure.contains("rand 0.8.5"));
        assert!(
            !closure.contains("0.9.0"),
            "another version of a dependency is not linked"
        );
        assert!(!closure.contains("polars"));
        let bumped = LOCK.replace("\"pp\"", "\"pq\"");
        assert_eq!(closure, locked_closure(&bumped, "train").unwrap());
        let tch_bumped = LOCK.replace("\"aa\"", "\"ab\"");
        assert_ne!(closure, locked_closure(&tch_bumped, "train").unwrap());
    }
}
