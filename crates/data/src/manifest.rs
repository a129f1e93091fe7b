//! Dataset manifests (`datasets/<name>.toml`): where each source file lives, its size and
//! sha256, what it unpacks to, and the paper's split.
//!
//! The built-in manifests are embedded with `include_str!`, so `fetch` works from any
//! directory; tests load their own manifests (fixtures have their own hashes).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};

/// The datasets `fetch` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Builtin {
    Mnist,
    Cifar10,
}

impl Builtin {
    /// The embedded manifest of this dataset.
    pub fn manifest(self) -> Manifest {
        let (origin, text) = match self {
            Builtin::Mnist => (
                "datasets/mnist.toml",
                include_str!("../../../datasets/mnist.toml"),
            ),
            Builtin::Cifar10 => (
                "datasets/cifar10.toml",
                include_str!("../../../datasets/cifar10.toml"),
            ),
        };
        // The embedded files are checked by a unit test, so this cannot fail at run time.
        Manifest::parse(text, origin).expect("embedded manifest is valid")
    }
}

/// How the decoded arrays are laid out in the source files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// IDX files: u8 images (magic 0x803) and u8 labels (magic 0x801), MNIST style.
    Idx,
    /// CIFAR-10 binary records: 1 label byte + 3072 pixel bytes.
    Cifar10Binary,
}

/// How a downloaded file wraps its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Archive {
    /// A gzip stream holding exactly one member.
    Gzip,
    /// A gzip-compressed tar archive; members are tar paths.
    TarGz,
}

/// What a member holds, so the decoder can find its inputs by role, not by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    TrainImages,
    TrainLabels,
    TestImages,
    TestLabels,
    /// Labelled records of the official training set, in manifest order.
    TrainRecords,
    /// Labelled records of the official test set, in manifest order.
    TestRecords,
}

/// Example counts of the paper's split. The validation examples are the tail of the
/// official training set; the test set is the official test set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSizes {
    pub train: usize,
    pub valid: usize,
    pub test: usize,
}

/// A file unpacked from a source file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Path inside the archive (for gzip: the decompressed file's name).
    pub name: String,
    pub part: Part,
    pub size: u64,
    /// Absent where no trustworthy hash is published (CIFAR-10 batches).
    pub sha256: Option<String>,
}

impl Member {
    /// The last path component: how the member is named when extracted to a directory.
    pub fn file_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

/// A file as published: the unit that is downloaded and hashed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    pub name: String,
    pub archive: Archive,
    pub size: u64,
    pub sha256: String,
    /// Full URLs, tried in order.
    pub urls: Vec<String>,
    pub members: Vec<Member>,
}

impl SourceFile {
    /// True when every member has a pinned hash, so importing the members is as good as
    /// importing this file.
    pub fn members_pinned(&self) -> bool {
        self.members.iter().all(|m| m.sha256.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub dataset: String,
    pub format: Format,
    pub dim: usize,
    pub classes: usize,
    pub split: SplitSizes,
    pub files: Vec<SourceFile>,
}

impl Manifest {
    /// Parses and validates a manifest; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest> {
        let manifest: Manifest =
            toml::from_str(text).with_context(|| format!("bad manifest {origin}"))?;
        manifest
            .validate()
            .with_context(|| format!("bad manifest {origin}"))?;
        Ok(manifest)
    }

    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Every member of every file, with its file, in manifest order.
    pub fn members(&self) -> impl Iterator<Item = (&SourceFile, &Member)> {
        self.files
            .iter()
            .flat_map(|file| file.members.iter().map(move |member| (file, member)))
    }

    fn validate(&self) -> Result<()> {
        ensure!(
            !self.dataset.is_empty() && self.dataset.chars().all(|c| c.is_ascii_alphanumeric()),
            "dataset name {:?} must be ASCII letters and digits",
            self.dataset
        );
        ensure!(self.dim > 0, "dim must be positive");
        ensure!(
            (1..=256).contains(&self.classes),
            "classes must be in 1..=256"
        );
        ensure!(!self.files.is_empty(), "no files");
        let mut names = BTreeSet::new();
        for file in &self.files {
            ensure!(
                names.insert(file.name.as_str()),
                "file {} listed twice",
                file.name
            );
            check_sha256(&file.sha256).with_context(|| format!("file {}", file.name))?;
            ensure!(
                !file.members.is_empty(),
                "file {} has no members",
                file.name
            );
            ensure!(
                file.archive != Archive::Gzip || file.members.len() == 1,
                "gzip file {} must have exactly one member",
                file.name
            );
            for member in &file.members {
                ensure!(
                    names.insert(member.name.as_str()),
                    "member {} listed twice",
                    member.name
                );
                if let Some(sha256) = &member.sha256 {
                    check_sha256(sha256).with_context(|| format!("member {}", member.name))?;
                }
            }
        }
        let parts: Vec<Part> = self.members().map(|(_, m)| m.part).collect();
        let needed: &[Part] = match self.format {
            Format::Idx => &[
                Part::TrainImages,
                Part::TrainLabels,
                Part::TestImages,
                Part::TestLabels,
            ],
            Format::Cifar10Binary => &[Part::TrainRecords, Part::TestRecords],
        };
        for part in needed {
            ensure!(parts.contains(part), "no member holds {part:?}");
        }
        for part in &parts {
            ensure!(
                needed.contains(part),
                "format {:?} has no use for {part:?}",
                self.format
            );
        }
        if self.format == Format::Idx {
            for part in needed {
                let count = parts.iter().filter(|p| *p == part).count();
                ensure!(count == 1, "{count} members hold {part:?}, expected 1");
            }
        }
        Ok(())
    }
}

fn check_sha256(hex: &str) -> Result<()> {
    ensure!(
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "sha256 {hex:?} is not 64 lowercase hex digits"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifests_parse_and_pin_the_paper_split() {
        let mnist = Builtin::Mnist.manifest();
        assert_eq!(mnist.files.len(), 4);
        assert!(mnist.files.iter().all(SourceFile::members_pinned));
        assert_eq!(
            mnist.split,
            SplitSizes {
                train: 50000,
                valid: 10000,
                test: 10000
            }
        );
        let cifar = Builtin::Cifar10.manifest();
        assert_eq!(cifar.files[0].size, 170_052_171);
        assert_eq!(cifar.members().count(), 6);
        assert!(cifar.members().all(|(_, m)| m.size == 30_730_000));
        assert_eq!(cifar.split.train + cifar.split.valid, 50000);
    }

    #[test]
    fn bad_manifests_are_named() {
        let text = include_str!("../../../datasets/mnist.toml");
        let short_hash = text.replacen("440fcabf", "440fcab", 1);
        let err = format!("{:#}", Manifest::parse(&short_hash, "m.toml").unwrap_err());
        assert!(
            err.contains("bad manifest m.toml") && err.contains("train-images-idx3-ubyte.gz"),
            "{err}"
        );
        let no_test_labels = text.replace("part = \"test-labels\"", "part = \"train-labels\"");
        let err = format!(
            "{:#}",
            Manifest::parse(&no_test_labels, "m.toml").unwrap_err()
        );
        assert!(err.contains("TestLabels"), "{err}");
        let typo = text.replace("archive = \"gzip\"", "archive = \"zip\"");
        assert!(Manifest::parse(&typo, "m.toml").is_err());
    }
}
