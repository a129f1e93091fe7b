//! The fixed validation and test sets, pinned by `datasets/shapeset.toml`.

use anyhow::{ensure, Context, Result};
use serde::Deserialize;
use store::atomic::sha256_bytes;

use super::{batch, GENERATOR};
use spec::dataset_h5::Split;

/// The manifest, compiled in so that every binary agrees on the sets it evaluates on.
const MANIFEST: &str = include_str!("../../../datasets/shapeset.toml");

/// `datasets/shapeset.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub generator: String,
    pub valid: PinnedSet,
    pub test: PinnedSet,
}

/// One evaluation set: images `offset..offset + count` of stream `seed`, and the sha256
/// of their pixel bytes and label bytes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedSet {
    pub seed: u64,
    pub offset: u64,
    pub count: usize,
    pub sha256_x: String,
    pub sha256_y: String,
}

/// The two evaluation splits (`x` is `n * IMAGE_DIM` bytes, `y` is `n` labels).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalSets {
    pub valid: Split,
    pub test: Split,
}

/// The parsed manifest.
pub fn manifest() -> Result<Manifest> {
    toml::from_str(MANIFEST).context("parsing the embedded datasets/shapeset.toml")
}

/// sha256 of the embedded manifest text: the one "source" the Shapeset dataset has.
pub fn manifest_sha256() -> String {
    sha256_bytes(MANIFEST.as_bytes())
}

impl PinnedSet {
    /// Generates the set without checking it.
    pub fn generate(&self) -> Split {
        let (x, y) = batch(self.seed, self.offset, self.count);
        Split::new(x, y)
    }

    /// Generates the set and checks it against the pinned hashes.
    pub fn generate_checked(&self, name: &str) -> Result<Split> {
        let set = self.generate();
        for (part, bytes, want) in [("x", &set.x, &self.sha256_x), ("y", &set.y, &self.sha256_y)] {
            let got = sha256_bytes(bytes);
            ensure!(
                &got == want,
                "shapeset {name} set {part} has sha256 {got}, datasets/shapeset.toml pins {want}: \
                 the generator's output changed"
            );
        }
        Ok(set)
    }
}

/// The valid and test sets (10k each), regenerated and verified against
/// `datasets/shapeset.toml`.
pub fn eval_sets() -> Result<EvalSets> {
    let manifest = manifest()?;
    ensure!(
        manifest.generator == GENERATOR,
        "datasets/shapeset.toml pins generator {:?} but this build is {GENERATOR:?}",
        manifest.generator
    );
    Ok(EvalSets {
        valid: manifest.valid.generate_checked("valid")?,
        test: manifest.test.generate_checked("test")?,
    })
}
