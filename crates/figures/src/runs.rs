//! Finding recordings, keeping the complete ones, and selecting them by config.

use crate::config::{RunConfig, Selector};
use crate::recording::Recording;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One complete recording.
#[derive(Debug, Clone)]
pub struct Run {
    pub path: PathBuf,
    pub config: RunConfig,
}

impl Run {
    pub fn open(&self) -> Result<Recording> {
        Recording::open(&self.path)
    }
}

/// `--runs`: a directory searched recursively for `run.h5`, or a JSON file
/// `{"runs": [...]}` whose relative paths are relative to the JSON file's directory.
pub fn discover(source: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(source)
        .with_context(|| format!("--runs {}: cannot read", source.display()))?;
    let mut paths = if meta.is_dir() {
        let mut found = Vec::new();
        walk(source, &mut found)?;
        found
    } else {
        from_json(source)?
    };
    paths.sort();
    paths.dedup();
    Ok(paths)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsFile {
    runs: Vec<PathBuf>,
}

fn from_json(path: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--runs {}: cannot read", path.display()))?;
    let file: RunsFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "--runs {}: expected JSON {{\"runs\": [\"path/run.h5\", ...]}}",
            path.display()
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    Ok(file.runs.iter().map(|p| base.join(p)).collect())
}

/// Symlinked directories are not followed, so a link cycle cannot loop.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), found)?;
        } else if entry.file_name() == "run.h5" {
            found.push(entry.path());
        }
    }
    Ok(())
}

/// Reads the config of one recording; `Ok(None)` (with a line on stderr) when its status is
/// not `complete`.
pub fn read_run(path: &Path) -> Result<Option<Run>> {
    let recording = Recording::open(path)?;
    let status = recording
        .text_attr("status")
        .with_context(|| format!("{}", path.display()))?;
    if status != "complete" {
        eprintln!(
            "ignoring {}: status is {status:?}, not \"complete\"",
            path.display()
        );
        return Ok(None);
    }
    let json = recording
        .text_attr("config")
        .with_context(|| format!("{}", path.display()))?;
    let config: RunConfig = serde_json::from_str(&json)
        .with_context(|| format!("{}: invalid config attribute", path.display()))?;
    Ok(Some(Run {
        path: path.to_path_buf(),
        config,
    }))
}

/// What a figure needs but the catalog lacks, in words: "needs run shapeset/tanh/...".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

impl Missing {
    pub fn runs(selectors: &[Selector]) -> Missing {
        let names: Vec<String> = selectors.iter().map(|s| format!("run {s}")).collect();
        Missing(names.join(" and "))
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "needs {}", self.0)
    }
}

impl std::error::Error for Missing {}

/// Complete runs grouped by selector; each group holds the seeds of one setting.
#[derive(Debug, Default)]
pub struct Catalog {
    groups: BTreeMap<Selector, Vec<Run>>,
}

impl Catalog {
    pub fn load(source: &Path) -> Result<Catalog> {
        // An empty source is not an error (Figs 1 and 5 need no run), and needs no line:
        // each figure that lacks its runs says which ones when it is skipped.
        let paths = discover(source)?;
        let mut runs = Vec::new();
        for path in &paths {
            runs.extend(read_run(path)?);
        }
        Ok(Catalog::new(runs))
    }

    /// Groups by selector. When seeds of one selector were trained with different settings
    /// (updates, lr, ...), keeps the longest-trained setting and says so on stderr.
    pub fn new(runs: Vec<Run>) -> Catalog {
        let mut by_selector: BTreeMap<Selector, BTreeMap<String, Vec<Run>>> = BTreeMap::new();
        for run in runs {
            by_selector
                .entry(run.config.selector())
                .or_default()
                .entry(run.config.variant())
                .or_default()
                .push(run);
        }
        let mut groups = BTreeMap::new();
        for (selector, variants) in by_selector {
            let (chosen, mut seeds) = variants
                .iter()
                .max_by_key(|(_, runs)| (runs[0].config.updates, runs.len()))
                .map(|(v, runs)| (v.clone(), runs.clone()))
                .expect("a selector group is never empty");
            for (variant, runs) in &variants {
                if *variant != chosen {
                    eprintln!(
                        "ignoring {} run(s) of {selector} with {variant}: using {chosen}",
                        runs.len()
                    );
                }
            }
            seeds.sort_by(|a, b| (a.config.seed, &a.path).cmp(&(b.config.seed, &b.path)));
            seeds.dedup_by(|later, kept| {
                let duplicate = later.config.seed == kept.config.seed;
                if duplicate {
                    eprintln!(
                        "ignoring {}: seed {} of {selector} already read from {}",
                        later.path.display(),
                        later.config.seed,
                        kept.path.display()
                    );
                }
                duplicate
            });
            groups.insert(selector, seeds);
        }
        Catalog { groups }
    }

    /// All seeds of a selector, lowest seed first; empty when none was run.
    pub fn seeds(&self, selector: &Selector) -> &[Run] {
        self.groups.get(selector).map_or(&[], Vec::as_slice)
    }

    /// The lowest-seed run of each selector, or every selector that has none.
    pub fn lowest_seeds(&self, selectors: &[Selector]) -> Result<Vec<&Run>, Missing> {
        let missing: Vec<Selector> = selectors
            .iter()
            .filter(|s| self.seeds(s).is_empty())
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(Missing::runs(&missing));
        }
        Ok(selectors.iter().map(|s| &self.seeds(s)[0]).collect())
    }

    pub fn selectors(&self) -> impl Iterator<Item = &Selector> {
        self.groups.keys()
    }

    pub fn runs(&self) -> impl Iterator<Item = &Run> {
        self.groups.values().flatten()
    }
}
