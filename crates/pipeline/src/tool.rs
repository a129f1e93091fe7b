//! Tool identities: what a stage binary is, as far as a key is concerned.
//!
//! A binary's identity is the sha256 over the sources of its crate and of the workspace crates it
//! depends on by path (`src/**`, `Cargo.toml`, `build.rs`; not tests), plus the `Cargo.lock`
//! packages in its dependency closure and the root `Cargo.toml` as its crates see it
//! (`lockfile.rs`: another crate's new dependency does not re-key this one), plus files outside the crates that a crate embeds (`datasets/` for `fetch`
//! and `shapeset`). `train` adds what the binary itself reports with `train identity` (the
//! versions of tch, libtorch and HDF5 it was built with) and the device class, since GPU
//! arithmetic is not bit-reproducible across devices. Nothing is read from the caller's
//! environment (`$LIBTORCH` above all): the same binaries give the same keys.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stage binaries and the workspace crate that builds each. Both trainers come from
/// `train`, the one engine; their identities still differ by name, so a packed run's key names
/// the front end it trained in.
pub const BINARIES: [(&str, &str); 5] = [
    ("fetch", "fetch"),
    ("shapeset", "shapeset"),
    ("train", "train"),
    ("train-pack", "train"),
    ("figures", "figures"),
];

/// Directories outside a crate that the crate embeds with `include_str!`, by crate.
const EMBEDDED: [(&str, &str); 2] = [("fetch", "datasets"), ("shapeset", "datasets")];

/// The identity of one stage binary, with the per-file hashes it was computed from so that
/// `paper explain` can say which file changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolId {
    /// The string that goes into keys: `<binary> src=<sha256>[ runtime=<json> device=<class>]`.
    pub identity: String,
    /// Repository-relative path to sha256 of every file hashed.
    pub files: BTreeMap<String, String>,
}

/// What a `train` identity adds to its sources: both change the numbers a run produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// What `train identity` reports of its libraries, as canonical JSON (`unknown` when the
    /// binary cannot say).
    pub versions: String,
    /// `cpu` or `cuda:<gpu name>`.
    pub device_class: String,
}

/// The identities of every stage binary in the repository at `repo`.
pub fn identities(repo: &Path, runtime: &Runtime) -> Result<BTreeMap<String, ToolId>> {
    BINARIES
        .iter()
        .map(|(binary, krate)| {
            // Both trainers link the same libraries; their numbers depend on them and on the
            // device class alike.
            let extra = matches!(*binary, "train" | "train-pack").then_some(runtime);
            Ok((binary.to_string(), identity(repo, binary, krate, extra)?))
        })
        .collect()
}

fn identity(repo: &Path, binary: &str, krate: &str, runtime: Option<&Runtime>) -> Result<ToolId> {
    let mut files = BTreeMap::new();
    for name in crate_closure(repo, krate)? {
        let dir = repo.join("crates").join(&name);
        hash_tree(repo, &dir.join("src"), &mut files)?;
        for file in ["Cargo.toml", "build.rs"] {
            hash_file_if_present(repo, &dir.join(file), &mut files)?;
        }
        for (_, embedded) in EMBEDDED.iter().filter(|(k, _)| *k == name) {
            hash_tree(repo, &repo.join(embedded), &mut files)?;
        }
    }
    hash_build_config(repo, krate, &mut files)?;
    let mut listing = Sha256::new();
    for (path, sha) in &files {
        listing.update(format!("{sha}  {path}\n"));
    }
    let mut identity = format!("{binary} src={}", hex::encode(listing.finalize()));
    if let Some(rt) = runtime {
        identity.push_str(&format!(
            " runtime={} device={}",
            rt.versions, rt.device_class
        ));
    }
    Ok(ToolId { identity, files })
}

/// Hashes what of `Cargo.lock` and the root `Cargo.toml` the binary's crates depend on, as
/// the pseudo-files `Cargo.lock#<crate>` and `Cargo.toml#<crate>` (see `lockfile.rs`).
fn hash_build_config(repo: &Path, krate: &str, files: &mut BTreeMap<String, String>) -> Result<()> {
    for file in ["Cargo.lock", "Cargo.toml"] {
        if !repo.join(file).is_file() {
            bail!(
                "{} is missing: a tool identity needs it",
                repo.join(file).display()
            );
        }
    }
    let lock = std::fs::read_to_string(repo.join("Cargo.lock"))?;
    let closure = crate_closure(repo, krate)?;
    let used = crate::lockfile::dependency_names(repo, &closure)?;
    let views = [
        ("Cargo.lock", crate::lockfile::locked_closure(&lock, krate)?),
        (
            "Cargo.toml",
            crate::lockfile::workspace_view(&repo.join("Cargo.toml"), &used)?,
        ),
    ];
    for (file, view) in views {
        files.insert(
            format!("{file}#{krate}"),
            hex::encode(Sha256::digest(view.as_bytes())),
        );
    }
    Ok(())
}

/// `krate` and every workspace crate it depends on by path (normal and build dependencies),
/// as directory names under `crates/`.
pub fn crate_closure(repo: &Path, krate: &str) -> Result<BTreeSet<String>> {
    let root = read_toml(&repo.join("Cargo.toml"))?;
    let workspace_deps = root
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .cloned()
        .unwrap_or(toml::Value::Table(Default::default()));
    let mut seen = BTreeSet::new();
    let mut todo = vec![krate.to_string()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let dir = repo.join("crates").join(&name);
        let manifest = read_toml(&dir.join("Cargo.toml"))?;
        for section in ["dependencies", "build-dependencies"] {
            let Some(deps) = manifest.get(section).and_then(toml::Value::as_table) else {
                continue;
            };
            for (dep, spec) in deps {
                let path = if spec.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
                    workspace_deps
                        .get(dep)
                        .and_then(|d| d.get("path"))
                        .map(|p| repo.join(as_str(p)))
                } else {
                    spec.get("path").map(|p| dir.join(as_str(p)))
                };
                if let Some(path) = path {
                    todo.push(crate_dir_name(repo, &path)?);
                }
            }
        }
    }
    Ok(seen)
}

fn as_str(value: &toml::Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn crate_dir_name(repo: &Path, path: &Path) -> Result<String> {
    let crates = repo.join("crates");
    let normal: PathBuf = path.components().collect();
    let canonical = normal.canonicalize().unwrap_or(normal);
    let crates = crates.canonicalize().unwrap_or(crates);
    match canonical.strip_prefix(&crates) {
        Ok(rel) if rel.components().count() == 1 => Ok(rel.to_string_lossy().into_owned()),
        _ => bail!(
            "path dependency {} is not a crate under crates/",
            path.display()
        ),
    }
}

fn read_toml(path: &Path) -> Result<toml::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("bad TOML in {}", path.display()))
}

fn hash_tree(repo: &Path, dir: &Path, files: &mut BTreeMap<String, String>) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            hash_tree(repo, &path, files)?;
        } else {
            hash_file_if_present(repo, &path, files)?;
        }
    }
    Ok(())
}

fn hash_file_if_present(
    repo: &Path,
    path: &Path,
    files: &mut BTreeMap<String, String>,
) -> Result<()> {
    if !path.is_file() {
        return Ok(());
    }
    let rel = path.strip_prefix(repo).unwrap_or(path);
    let rel = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    files.insert(rel, store::atomic::sha256_file(path)?);
    Ok(())
}

/// What `<bin_dir>/train identity` says of the libraries it was built with: the string fields
/// of its JSON line (tch, libtorch, HDF5 versions), as canonical JSON. What it sees of this
/// machine (`cuda`, `device_classes`) is left out: the device class a run uses is keyed
/// separately, and a CPU run must keep its key on a machine that has a GPU.
/// `unknown` when the binary is missing or cannot say. `$LIBTORCH` is removed from its
/// environment: a key must not depend on how the caller's shell is set up.
pub fn train_versions(bin_dir: &Path) -> String {
    // A binary being relinked (ETXTBSY) or a loaded machine can fail one call: an `unknown`
    // identity would silently change every train key, so try a few times first.
    for attempt in 0..3 {
        if let Some(versions) = read_train_versions(bin_dir) {
            return versions;
        }
        std::thread::sleep(std::time::Duration::from_millis(200 << attempt));
    }
    "unknown".into()
}

fn read_train_versions(bin_dir: &Path) -> Option<String> {
    let output = std::process::Command::new(bin_dir.join("train"))
        .arg("identity")
        .env_remove("LIBTORCH")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    versions_of(&String::from_utf8_lossy(&output.stdout))
}

/// The version fields of an identity line (see [`train_versions`]).
fn versions_of(stdout: &str) -> Option<String> {
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let serde_json::Value::Object(mut fields) = serde_json::from_str(line).ok()? else {
        return None;
    };
    fields.retain(|_, value| value.is_string());
    let text = store::canonical_json(&serde_json::Value::Object(fields));
    // The identity is split on spaces by `paper explain` and `gc`.
    Some(text.replace(' ', "_"))
}

/// The repository root: the nearest ancestor of `start` whose Cargo.toml has `[workspace]`.
pub fn find_repo_root(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if manifest.is_file() && read_toml(&manifest)?.get("workspace").is_some() {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "no Cargo.toml with [workspace] in {} or above; pass --repo",
        start.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A workspace where `train` depends on `shapeset` (through the workspace table) and it
    /// on `store` (by a plain path), and `figures` stands apart.
    const LOCK: &str = "[[package]]\nname = \"train\"\nversion = \"0.0.0\"\ndependencies = [\"tch\"]\n\n[[package]]\nname = \"tch\"\nversion = \"0.24.0\"\nchecksum = \"t1\"\n\n[[package]]\nname = \"polars\"\nversion = \"0.55.2\"\nchecksum = \"p1\"\n";

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\n[workspace.dependencies]\n\
                 shapeset = { path = \"crates/shapeset\" }\nstore = { path = \"crates/store\" }\n",
            ),
            ("Cargo.lock", LOCK),
            (
                "crates/train/Cargo.toml",
                "[package]\nname = \"train\"\n[dependencies]\nshapeset.workspace = true\n",
            ),
            ("crates/train/src/main.rs", "fn main() {}\n"),
            ("crates/train/build.rs", "fn main() {}\n"),
            ("crates/train/tests/t.rs", "#[test] fn t() {}\n"),
            (
                "crates/shapeset/Cargo.toml",
                "[package]\nname = \"shapeset\"\n[dependencies]\nstore = { path = \"../store\" }\n",
            ),
            ("crates/shapeset/src/lib.rs", "pub mod gen;\n"),
            ("crates/fetch/Cargo.toml", "[package]\nname = \"fetch\"\n"),
            ("crates/fetch/src/main.rs", "fn main() {}\n"),
            ("crates/shapeset/src/gen/mod.rs", "\n"),
            ("crates/store/Cargo.toml", "[package]\nname = \"store\"\n"),
            ("crates/store/src/lib.rs", "\n"),
            (
                "crates/figures/Cargo.toml",
                "[package]\nname = \"figures\"\n",
            ),
            ("crates/figures/src/lib.rs", "\n"),
            (
                "crates/pack/Cargo.toml",
                "[package]\nname = \"pack\"\n[dependencies]\ntrain = { path = \"../train\" }\n",
            ),
            ("crates/pack/src/main.rs", "fn main() {}\n"),
            ("datasets/mnist.toml", "x = 1\n"),
        ];
        for (rel, text) in files {
            write(dir.path(), rel, text);
        }
        dir
    }

    fn cpu() -> Runtime {
        Runtime {
            versions: "2.11.0".into(),
            device_class: "cpu".into(),
        }
    }

    fn train_id(root: &Path, rt: &Runtime) -> String {
        identities(root, rt).unwrap()["train"].identity.clone()
    }

    #[test]
    fn closure_follows_workspace_and_plain_path_dependencies() {
        let dir = fixture();
        let closure = crate_closure(dir.path(), "train").unwrap();
        assert_eq!(
            closure.into_iter().collect::<Vec<_>>(),
            ["shapeset", "store", "train"]
        );
        let ids = identities(dir.path(), &cpu()).unwrap();
        let files: Vec<_> = ids["train"].files.keys().cloned().collect();
        assert!(files.contains(&"crates/shapeset/src/gen/mod.rs".to_string()));
        assert!(files.contains(&"crates/train/build.rs".to_string()));
        assert!(
            files.contains(&"datasets/mnist.toml".to_string()),
            "shapeset embeds datasets/"
        );
        assert!(files.contains(&"Cargo.lock#train".to_string()));
        assert!(
            !files.iter().any(|f| f.contains("tests/")),
            "tests are not sources: {files:?}"
        );
        assert!(!files.iter().any(|f| f.starts_with("crates/figures")));
    }

    #[test]
    fn train_identity_follows_sources_lockfile_libtorch_and_device_but_not_tests() {
        let dir = fixture();
        let root = dir.path();
        let before = train_id(root, &cpu());
        assert_eq!(before, train_id(root, &cpu()), "identity is deterministic");
        assert!(before.ends_with(" runtime=2.11.0 device=cpu"), "{before}");

        write(root, "crates/train/tests/t.rs", "#[test] fn changed() {}\n");
        assert_eq!(
            before,
            train_id(root, &cpu()),
            "a test change is not a tool change"
        );
        let figures = identities(root, &cpu()).unwrap()["figures"]
            .identity
            .clone();

        write(root, "crates/shapeset/src/gen/mod.rs", "// changed\n");
        let after_dep = train_id(root, &cpu());
        assert_ne!(before, after_dep, "a dependency's source is part of train");
        assert_eq!(
            figures,
            identities(root, &cpu()).unwrap()["figures"].identity
        );

        write(root, "Cargo.lock", &LOCK.replace("\"p1\"", "\"p2\""));
        assert_eq!(
            after_dep,
            train_id(root, &cpu()),
            "a package train does not link"
        );
        write(root, "Cargo.lock", &LOCK.replace("\"t1\"", "\"t2\""));
        let after_lock = train_id(root, &cpu());
        assert_ne!(after_dep, after_lock, "a package train links");

        let gpu = Runtime {
            device_class: "cuda:NVIDIA H100".into(),
            ..cpu()
        };
        assert_ne!(after_lock, train_id(root, &gpu));
        let torch = Runtime {
            versions: "2.12.0".into(),
            ..cpu()
        };
        assert_ne!(after_lock, train_id(root, &torch));
    }

    #[test]
    fn versions_come_from_the_identity_line_without_devices() {
        let line =
            "starting\n{\"tch\": \"0.24.0\", \"libtorch\": \"2.11.0\", \"devices\": [\"cpu\"]}\n";
        assert_eq!(
            versions_of(line).unwrap(),
            r#"{"libtorch":"2.11.0","tch":"0.24.0"}"#
        );
        assert_eq!(versions_of("not json\n"), None);
        let missing = tempfile::tempdir().unwrap();
        assert_eq!(train_versions(missing.path()), "unknown");
    }

    #[test]
    fn repo_root_is_found_from_a_subdirectory() {
        let dir = fixture();
        let found = find_repo_root(&dir.path().join("crates/shapeset/src/gen")).unwrap();
        assert_eq!(found, dir.path());
    }
}
