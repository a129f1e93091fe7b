//! `fetch`: MNIST and CIFAR-10 from their published files to a verified `dataset.h5` store
//! entry. One manifest in (`datasets/*.toml`), one entry out.
//!
//! A crate of its own so that nothing downstream links the network (ureq), the archive
//! readers (tar, flate2) or the download progress bar: `train` depends on the dataset file
//! format (`spec::dataset_h5`), never on how the file was obtained, and an edit here changes
//! no training key.
//!
//! Must not know: tch, plotters, the Shapeset generator.
//!
//! The entry's key is `sha256(canonical {stage: "dataset/<name>", params: {format, dim,
//! classes, split}, inputs: {file name: sha256}, tool: DECODER})`. With pinned sources the
//! key follows from the manifest alone, so a dataset already in the store costs nothing
//! beyond re-hashing the stored file, which is done before the entry is handed out.

pub mod cifar;
pub mod download;
pub mod idx;
pub mod manifest;
mod sources;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use store::{Checked, Depth, Entry, Key, KeySpec, Store};

use crate::manifest::{Format, Manifest};
pub use sources::Origin;
use spec::dataset_h5::{write_h5, Dataset, Split};

/// Identity of the decoders (IDX, CIFAR records, the split and the `dataset.h5` layout).
/// Bump it whenever they could produce different arrays from the same sources.
pub const DECODER: &str = "xavier-data-decoder-v1";

/// The file an entry holds.
pub const DATASET_FILE: &str = "dataset.h5";

/// The result of a fetch.
#[derive(Debug)]
pub struct Fetched {
    pub key: Key,
    /// The `dataset.h5` inside the store entry.
    pub path: PathBuf,
    /// False when the store already had the entry.
    pub built: bool,
}

/// The key spec of the dataset decoded from `inputs` (file name -> sha256).
pub fn key_spec(manifest: &Manifest, inputs: BTreeMap<String, String>) -> KeySpec {
    KeySpec {
        stage: format!("dataset/{}", manifest.dataset),
        params: serde_json::json!({
            "format": manifest.format,
            "dim": manifest.dim,
            "classes": manifest.classes,
            "split": manifest.split,
        }),
        inputs,
        tool: DECODER.to_owned(),
    }
}

/// The key spec when the manifest's published files (or their pinned members) are used.
pub fn pinned_key_spec(manifest: &Manifest) -> KeySpec {
    let inputs = manifest
        .files
        .iter()
        .map(|f| (f.name.clone(), f.sha256.clone()))
        .collect();
    key_spec(manifest, inputs)
}

/// Makes sure the store holds the dataset of `manifest`, getting its sources from `origin`.
/// A stored entry is re-hashed before it is handed out; a damaged one is moved aside and
/// rebuilt (see [`checked`]).
pub fn fetch(manifest: &Manifest, store: &Store, origin: &Origin) -> Result<Fetched> {
    let pinned = pinned_key_spec(manifest).key();
    // One fetch of a dataset at a time: concurrent fetches would share the download cache,
    // and the check below must not race with another process's repair of the same entry.
    let _guard = store.lock(&pinned)?;
    if let Some(entry) = checked(store, &pinned)? {
        return Ok(Fetched::from_entry(&entry, false));
    }
    let loaded = sources::load(manifest, origin)?;
    let dataset = decode(manifest, &loaded.members, loaded.inputs.clone())?;
    let spec = key_spec(manifest, loaded.inputs);
    let key = spec.key();
    let _unpinned_guard = (key != pinned).then(|| store.lock(&key)).transpose()?;
    if let Some(entry) = checked(store, &key)? {
        return Ok(Fetched::from_entry(&entry, false));
    }
    let entry = store.put(&spec, |dir| write_h5(&dir.join(DATASET_FILE), &dataset))?;
    Ok(Fetched::from_entry(&entry, true))
}

/// The entry for `key` if the store has it and every file still hashes to what its
/// `outputs.json` records. A damaged or half entry is moved to `<store>/quarantine/` (one
/// line says so) and `None` comes back, so the caller rebuilds it.
fn checked(store: &Store, key: &Key) -> Result<Option<Entry>> {
    match store.get_checked(key, Depth::Full)? {
        Checked::Healthy(entry) => Ok(Some(entry)),
        Checked::Absent => Ok(None),
        Checked::Quarantined { check, to } => {
            eprintln!(
                "store entry {key} is damaged ({}): moved to {}, rebuilding",
                check.summary(),
                to.display()
            );
            Ok(None)
        }
    }
}

impl Fetched {
    fn from_entry(entry: &Entry, built: bool) -> Fetched {
        Fetched {
            key: entry.key.clone(),
            path: entry.path(DATASET_FILE),
            built,
        }
    }
}

fn decode(
    manifest: &Manifest,
    members: &BTreeMap<String, Vec<u8>>,
    sources: BTreeMap<String, String>,
) -> Result<Dataset> {
    let official = match manifest.format {
        Format::Idx => crate::idx::official_sets(manifest, members),
        Format::Cifar10Binary => crate::cifar::official_sets(manifest, members),
    };
    official
        .and_then(|(official_train, test)| paper_split(manifest, official_train, test, sources))
        .with_context(|| format!("cannot decode {}", manifest.dataset))
}

/// The paper's split of the official sets: train = the first `split.train` official
/// training examples, valid = the next `split.valid`, test = the official test set.
fn paper_split(
    manifest: &Manifest,
    official_train: Split,
    test: Split,
    sources: BTreeMap<String, String>,
) -> Result<Dataset> {
    let sizes = manifest.split;
    if official_train.n != sizes.train + sizes.valid || test.n != sizes.test {
        bail!(
            "official sets hold {} train and {} test examples; split {}/{}/{} needs {} and {}",
            official_train.n,
            test.n,
            sizes.train,
            sizes.valid,
            sizes.test,
            sizes.train + sizes.valid,
            sizes.test
        );
    }
    let (train, valid) = official_train.split_at(sizes.train, manifest.dim)?;
    let ds = Dataset {
        name: manifest.dataset.to_string(),
        dim: manifest.dim,
        classes: manifest.classes,
        train: Some(train),
        valid,
        test,
        sources,
        decoder: DECODER.to_owned(),
    };
    ds.validate()?;
    Ok(ds)
}
