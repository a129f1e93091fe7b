//! `shapeset dataset`: the pinned valid/test sets as a `dataset.h5` store entry.
//!
//! A stored entry is re-hashed (20 MB) before it is handed out, and a damaged one is
//! quarantined by the store and rebuilt: a flipped byte must never reach a training run.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::json;
use store::{Depth, Entry, KeySpec, Store};

use super::{eval_sets, manifest, manifest_sha256, PinnedSet, CLASSES, GENERATOR, IMAGE_DIM};
use spec::dataset_h5::{write_h5, Dataset};

pub const STAGE: &str = "dataset/shapeset";
pub const FILE: &str = "dataset.h5";

/// The one input: the manifest the sets are generated from.
fn sources() -> BTreeMap<String, String> {
    [("shapeset.toml".to_string(), manifest_sha256())].into()
}

/// The store key spec: the pinned sets (seeds, counts and hashes) and the manifest's
/// sha256, under this generator.
pub fn key_spec() -> Result<KeySpec> {
    let manifest = manifest()?;
    let set = |s: &PinnedSet| {
        json!({"seed": s.seed, "offset": s.offset, "count": s.count,
               "sha256_x": s.sha256_x, "sha256_y": s.sha256_y})
    };
    Ok(KeySpec {
        stage: STAGE.into(),
        params: json!({"valid": set(&manifest.valid), "test": set(&manifest.test)}),
        inputs: sources(),
        tool: GENERATOR.into(),
    })
}

/// The entry holding `dataset.h5` (no `train` group: training reads the online stream),
/// built now unless the store already has it, intact. The flag is true when built by this call.
pub fn build_dataset(store: &Store) -> Result<(Entry, bool)> {
    store
        .get_or_put_checked(&key_spec()?, Depth::Full, |dir| {
            let sets = eval_sets()?;
            let dataset = Dataset {
                name: "shapeset".into(),
                dim: IMAGE_DIM,
                classes: CLASSES,
                train: None,
                valid: sets.valid,
                test: sets.test,
                sources: sources(),
                decoder: GENERATOR.into(),
            };
            write_h5(&dir.join(FILE), &dataset)
        })
        .context("building the Shapeset dataset entry")
}
