//! Finding recordings, keeping the complete and readable ones, and selecting them by config.
//!
//! A recording that cannot be read (corrupt, truncated, not HDF5, a config this build does
//! not know) is skipped with one line on stderr, so one bad file among many costs only its
//! own figures: each figure that then lacks a run says which one.

use anyhow::{ensure, Context, Result};
use spec::protocol::RunsFile;
use spec::run_h5::RunFile;
use spec::{RunConfig, RunParams, Selector};
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
    pub fn open(&self) -> Result<RunFile> {
        RunFile::open(&self.path)
    }

    pub fn params(&self) -> &RunParams {
        &self.config.params
    }

    pub fn selector(&self) -> Selector {
        self.config.params.selector()
    }

    pub fn hidden_layers(&self) -> usize {
        self.config.params.hidden_layers
    }

    /// Everything except the seed: runs that agree on this are seeds of one experiment.
    fn variant(&self) -> String {
        let p = self.params();
        format!(
            "width {} batch {} lr {} updates {}",
            p.width, p.batch_size, p.lr, p.updates
        )
    }
}

/// `--runs`: a directory searched recursively for `run.h5`, or a `runs.json` file
/// ([`RunsFile`]) whose relative paths are relative to its own directory.
pub fn discover(source: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(source)
        .with_context(|| format!("--runs {}: cannot read", source.display()))?;
    let mut paths = if meta.is_dir() {
        let mut found = Vec::new();
        walk(source, &mut found)?;
        found
    } else {
        RunsFile::read(source)?
    };
    paths.sort();
    paths.dedup();
    Ok(paths)
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

/// Reads the config of one recording and checks that its history is there; `Ok(None)`
/// (with a line on stderr) when its status is not `complete`.
pub fn read_run(path: &Path) -> Result<Option<Run>> {
    let recording = RunFile::open(path)?;
    let status = recording.status()?;
    if status != spec::layout::STATUS_COMPLETE {
        eprintln!(
            "ignoring {}: status is {status:?}, not \"complete\"",
            path.display()
        );
        return Ok(None);
    }
    let config = recording.config()?;
    let history = recording.history()?;
    ensure!(!history.step.is_empty(), "history/step is empty");
    ensure!(
        history.test_error.len() == history.step.len(),
        "history/test_error has {} rows, history/step {}",
        history.test_error.len(),
        history.step.len()
    );
    Ok(Some(Run {
        path: path.to_path_buf(),
        config,
    }))
}

/// What an output needs but the catalog lacks, in words: "needs run shapeset-tanh-...".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

impl Missing {
    /// Every one of `selectors` is needed.
    pub fn all_of(selectors: &[Selector]) -> Missing {
        let names: Vec<String> = selectors.iter().map(|s| format!("run {s}")).collect();
        Missing(names.join(" and "))
    }

    /// Any one of `selectors` would do.
    pub fn any_of(selectors: &[Selector]) -> Missing {
        let names: Vec<String> = selectors.iter().map(ToString::to_string).collect();
        Missing(format!("at least one of the runs {}", names.join(", ")))
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
    /// Reads every recording of `source`. Only an unreadable source is an error; an
    /// unreadable recording is skipped with one line. An empty source is no error either
    /// (Figs 1 and 5 need no run) and needs no line: each figure that lacks its runs says so.
    pub fn load(source: &Path) -> Result<Catalog> {
        let mut runs = Vec::new();
        for path in discover(source)? {
            match read_run(&path) {
                Ok(run) => runs.extend(run),
                Err(err) => eprintln!("ignoring {}: {}", path.display(), spec::cli::one_line(&err)),
            }
        }
        Ok(Catalog::new(runs))
    }

    /// Groups by selector. When seeds of one selector were trained with different settings
    /// (updates, lr, ...), keeps the longest-trained setting and says so on stderr.
    pub fn new(runs: Vec<Run>) -> Catalog {
        let mut by_selector: BTreeMap<Selector, BTreeMap<String, Vec<Run>>> = BTreeMap::new();
        for run in runs {
            by_selector
                .entry(run.selector())
                .or_default()
                .entry(run.variant())
                .or_default()
                .push(run);
        }
        let groups = by_selector
            .into_iter()
            .map(|(selector, variants)| (selector, choose_variant(selector, &variants)))
            .collect();
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
            return Err(Missing::all_of(&missing));
        }
        Ok(selectors.iter().map(|s| &self.seeds(s)[0]).collect())
    }

    /// Those of `selectors` that have runs, in their order.
    pub fn present(&self, selectors: &[Selector]) -> Vec<Selector> {
        selectors
            .iter()
            .filter(|s| !self.seeds(s).is_empty())
            .copied()
            .collect()
    }

    pub fn selectors(&self) -> impl Iterator<Item = &Selector> {
        self.groups.keys()
    }

    pub fn runs(&self) -> impl Iterator<Item = &Run> {
        self.groups.values().flatten()
    }
}

/// The longest-trained setting of one selector, its seeds sorted and deduplicated.
fn choose_variant(selector: Selector, variants: &BTreeMap<String, Vec<Run>>) -> Vec<Run> {
    let (chosen, mut seeds) = variants
        .iter()
        .max_by_key(|(_, runs)| (runs[0].params().updates, runs.len()))
        .map(|(v, runs)| (v.clone(), runs.clone()))
        .expect("a selector group is never empty");
    for (variant, runs) in variants {
        if *variant != chosen {
            eprintln!(
                "ignoring {} run(s) of {selector} with {variant}: using {chosen}",
                runs.len()
            );
        }
    }
    seeds.sort_by(|a, b| (a.params().seed, &a.path).cmp(&(b.params().seed, &b.path)));
    seeds.dedup_by(|later, kept| {
        let duplicate = later.params().seed == kept.params().seed;
        if duplicate {
            eprintln!(
                "ignoring {}: seed {} of {selector} already read from {}",
                later.path.display(),
                later.params().seed,
                kept.path.display()
            );
        }
        duplicate
    });
    seeds
}
