//! How stages talk: the last line each stage binary prints on stdout, and `runs.json`, the
//! list of recordings `figures` draws from. `paper` parses these; the binaries format them.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::vocab::Dataset;

/// The last line of `fetch` and `shapeset dataset`: `<dataset> <key> <path-to-dataset.h5>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetLine {
    pub dataset: Dataset,
    /// The store key of the dataset entry.
    pub key: String,
    pub path: PathBuf,
}

impl DatasetLine {
    pub fn format(&self) -> String {
        format!("{} {} {}", self.dataset, self.key, self.path.display())
    }

    pub fn parse(line: &str) -> Result<DatasetLine> {
        let fields: Vec<&str> = line.trim_end().splitn(3, ' ').collect();
        let [name, key, path] = fields[..] else {
            bail!("expected `<dataset> <key> <path>`, got {line:?}");
        };
        let dataset = serde_json::from_value(serde_json::Value::String(name.into()))
            .with_context(|| format!("unknown dataset {name:?} in {line:?}"))?;
        let is_key = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_key {
            bail!("{key:?} is not a store key in {line:?}");
        }
        Ok(DatasetLine {
            dataset,
            key: key.into(),
            path: PathBuf::from(path),
        })
    }
}

/// `train`, `shapeset generate|grid` and `figures render` end with the path they wrote.
pub fn path_line(path: &Path) -> String {
    path.display().to_string()
}

/// The last line of `train-pack`, one JSON object: `{"runs": [{"name", "run_h5", "status"}...]}`,
/// what became of each model of the pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackLine {
    pub runs: Vec<PackedRun>,
}

/// One model of a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackedRun {
    /// `RunParams::pack_member()`, also its directory under train-pack's `--out`.
    pub name: String,
    pub run_h5: PathBuf,
    /// The `status` attribute of its run.h5: `complete`, `failed: <reason>`, or for a
    /// learning-rate trial `diverged: <reason>`.
    pub status: String,
}

impl PackLine {
    pub fn format(&self) -> String {
        serde_json::to_string(self).expect("a pack line serialises")
    }

    pub fn parse(line: &str) -> Result<PackLine> {
        serde_json::from_str(line)
            .with_context(|| format!("expected a train-pack line, got {line:?}"))
    }
}

/// `runs.json`: `{"runs": ["path/to/run.h5", ...], "trials": [...]}`; relative paths are
/// relative to the file's directory. `runs` are the runs an output draws; `trials` are the
/// learning-rate trials of their configurations (absent when every rate is fixed by the
/// profile).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsFile {
    pub runs: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trials: Vec<PathBuf>,
}

impl RunsFile {
    /// Reads the file and resolves its paths against its directory.
    pub fn read(path: &Path) -> Result<RunsFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: RunsFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: expected JSON {{\"runs\": [\"path/run.h5\", ...]}}",
                path.display()
            )
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |paths: &[PathBuf]| paths.iter().map(|p| base.join(p)).collect();
        Ok(RunsFile {
            runs: resolve(&file.runs),
            trials: resolve(&file.trials),
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("paths serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_lines_round_trip_and_bad_ones_are_named() {
        let line = DatasetLine {
            dataset: Dataset::Cifar10,
            key: "ab".repeat(32),
            path: "/store/ab/x y/dataset.h5".into(),
        };
        assert_eq!(DatasetLine::parse(&line.format()).unwrap(), line);
        let err = |s: &str| format!("{:#}", DatasetLine::parse(s).unwrap_err());
        assert!(err("svhn abc /x").contains("unknown dataset \"svhn\""));
        assert!(err("mnist abc /x").contains("not a store key"));
        assert!(err("mnist").contains("expected"));
    }

    #[test]
    fn runs_files_resolve_relative_to_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.json");
        let file = RunsFile {
            runs: vec!["a/run.h5".into(), "/abs/run.h5".into()],
            trials: vec!["t/run.h5".into()],
        };
        std::fs::write(&path, file.to_json()).unwrap();
        let read = RunsFile::read(&path).unwrap();
        assert_eq!(
            read.runs,
            [dir.path().join("a/run.h5"), PathBuf::from("/abs/run.h5")]
        );
        assert_eq!(read.trials, [dir.path().join("t/run.h5")]);
        std::fs::write(&path, "{\"runs\": []}").unwrap();
        assert!(RunsFile::read(&path).unwrap().trials.is_empty());
        std::fs::write(&path, "{\"run\": []}").unwrap();
        assert!(format!("{:#}", RunsFile::read(&path).unwrap_err()).contains("expected JSON"));
    }
}
