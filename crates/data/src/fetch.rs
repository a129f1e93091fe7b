//! The `fetch` stage: one manifest in, one store entry holding `dataset.h5` out.
//!
//! The entry's key is `sha256(canonical {stage: "dataset/<name>", params: {format, dim,
//! classes, split}, inputs: {file name: sha256}, tool: DECODER})`. With pinned sources the
//! key follows from the manifest alone, so a dataset already in the store costs nothing.

mod sources;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use store::{Entry, Key, KeySpec, Store};

use crate::dataset::{write_h5, Dataset, Split};
use crate::manifest::{Format, Manifest};
pub use sources::Origin;

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
pub fn fetch(manifest: &Manifest, store: &Store, origin: &Origin) -> Result<Fetched> {
    let pinned = pinned_key_spec(manifest).key();
    if let Some(entry) = store.get(&pinned) {
        return Ok(Fetched::from_entry(&entry, false));
    }
    // One fetch of a dataset at a time: concurrent fetches would share the download cache.
    let _guard = store.lock(&pinned)?;
    if let Some(entry) = store.get(&pinned) {
        return Ok(Fetched::from_entry(&entry, false));
    }
    let loaded = sources::load(manifest, origin)?;
    let dataset = decode(manifest, &loaded.members, loaded.inputs.clone())?;
    let spec = key_spec(manifest, loaded.inputs);
    if let Some(entry) = store.get(&spec.key()) {
        return Ok(Fetched::from_entry(&entry, false));
    }
    let entry = store.put(&spec, |dir| write_h5(&dir.join(DATASET_FILE), &dataset))?;
    Ok(Fetched::from_entry(&entry, true))
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
        name: manifest.dataset.clone(),
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
