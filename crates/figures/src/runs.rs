//! Finding recordings, keeping the complete and readable ones, and selecting them by config.
//!
//! A recording that cannot be read (corrupt, truncated, not HDF5, a config this build does
//! not know) is skipped with one line on stderr, so one bad file among many costs only its
//! own figures: each figure that then lacks a run says which one.
//!
//! Two lists are kept apart: the final runs, which every figure draws, and the learning-rate
//! trials (short runs over a grid of rates, `runs.json`'s `trials`), which only the
//! learning-rate selection reads. A trial is never a final run, even of the same config.

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

    /// Everything but what tells the members of one experiment apart: the seed, and for
    /// trials the learning rate too (the grid).
    fn variant(&self, kind: Kind) -> String {
        let p = self.params();
        match kind {
            Kind::Final => format!(
                "width {} batch {} lr {} updates {}",
                p.width, p.batch_size, p.lr, p.updates
            ),
            Kind::Trial => format!(
                "width {} batch {} updates {}",
                p.width, p.batch_size, p.updates
            ),
        }
    }

    /// Whether `self` and `other` are the same member (rate and seed) of one experiment.
    fn same_member(&self, other: &Run) -> bool {
        (self.params().lr, self.params().seed) == (other.params().lr, other.params().seed)
    }
}

/// Final runs or learning-rate trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Final,
    Trial,
}

/// The recordings `--runs` names: final runs, and learning-rate trials (none from a
/// directory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub runs: Vec<PathBuf>,
    pub trials: Vec<PathBuf>,
}

/// `--runs`: a directory searched recursively for `run.h5` (final runs only), or a
/// `runs.json` file ([`RunsFile`]) whose relative paths are relative to its own directory.
pub fn discover(source: &Path) -> Result<Sources> {
    let meta = std::fs::metadata(source)
        .with_context(|| format!("--runs {}: cannot read", source.display()))?;
    let (mut runs, mut trials) = if meta.is_dir() {
        let mut found = Vec::new();
        walk(source, &mut found)?;
        (found, Vec::new())
    } else {
        let file = RunsFile::read(source)?;
        (file.runs, file.trials)
    };
    for paths in [&mut runs, &mut trials] {
        paths.sort();
        paths.dedup();
    }
    Ok(Sources { runs, trials })
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
    checked(path, &recording).map(Some)
}

/// Reads one learning-rate trial. A trial that did not complete (it diverged) is kept: the
/// selection counts it as failed (`RunFile::trial`).
pub fn read_trial(path: &Path) -> Result<Run> {
    let recording = RunFile::open(path)?;
    if recording.status()? != spec::layout::STATUS_COMPLETE {
        return Ok(Run {
            path: path.to_path_buf(),
            config: recording.config()?,
        });
    }
    checked(path, &recording)
}

/// A complete recording's run, once its history is known to be there.
fn checked(path: &Path, recording: &RunFile) -> Result<Run> {
    let config = recording.config()?;
    let history = recording.history()?;
    ensure!(!history.step.is_empty(), "history/step is empty");
    ensure!(
        history.test_error.len() == history.step.len(),
        "history/test_error has {} rows, history/step {}",
        history.test_error.len(),
        history.step.len()
    );
    Ok(Run {
        path: path.to_path_buf(),
        config,
    })
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

/// Complete runs grouped by selector; each group holds the seeds of one setting. The
/// learning-rate trials are grouped the same way, apart.
#[derive(Debug, Default)]
pub struct Catalog {
    groups: BTreeMap<Selector, Vec<Run>>,
    trials: BTreeMap<Selector, Vec<Run>>,
}

impl Catalog {
    /// Reads every recording of `source`. Only an unreadable source is an error; an
    /// unreadable recording is skipped with one line. An empty source is no error either
    /// (Figs 1 and 5 need no run) and needs no line: each figure that lacks its runs says so.
    pub fn load(source: &Path) -> Result<Catalog> {
        let sources = discover(source)?;
        let runs = read_all(&sources.runs, read_run);
        let trials = read_all(&sources.trials, |p| read_trial(p).map(Some));
        Ok(Catalog::new(runs).with_trials(trials))
    }

    /// Groups by selector. When seeds of one selector were trained with different settings
    /// (updates, lr, ...), keeps the longest-trained setting and says so on stderr.
    pub fn new(runs: Vec<Run>) -> Catalog {
        Catalog {
            groups: group(runs, Kind::Final),
            trials: BTreeMap::new(),
        }
    }

    /// Adds learning-rate trials, grouped by selector like the runs (the longest-trained
    /// setting; every rate and seed of it), highest rate first.
    pub fn with_trials(mut self, trials: Vec<Run>) -> Catalog {
        self.trials = group(trials, Kind::Trial);
        self
    }

    /// The learning-rate trials of a selector; empty when its rate was not selected here.
    pub fn trials(&self, selector: &Selector) -> &[Run] {
        self.trials.get(selector).map_or(&[], Vec::as_slice)
    }

    /// Every selector that has learning-rate trials.
    pub fn trial_selectors(&self) -> impl Iterator<Item = &Selector> {
        self.trials.keys()
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

/// Reads each path with `read`; an unreadable one is skipped with one line.
fn read_all(paths: &[PathBuf], read: impl Fn(&Path) -> Result<Option<Run>>) -> Vec<Run> {
    let mut runs = Vec::new();
    for path in paths {
        match read(path) {
            Ok(run) => runs.extend(run),
            Err(err) => eprintln!("ignoring {}: {}", path.display(), spec::cli::one_line(&err)),
        }
    }
    runs
}

/// Groups runs by selector, each group the chosen variant's members.
fn group(runs: Vec<Run>, kind: Kind) -> BTreeMap<Selector, Vec<Run>> {
    let mut by_selector: BTreeMap<Selector, BTreeMap<String, Vec<Run>>> = BTreeMap::new();
    for run in runs {
        by_selector
            .entry(run.selector())
            .or_default()
            .entry(run.variant(kind))
            .or_default()
            .push(run);
    }
    by_selector
        .into_iter()
        .map(|(selector, variants)| (selector, choose_variant(selector, &variants, kind)))
        .collect()
}

/// The longest-trained setting of one selector, its members (seeds; for trials, rate and
/// seed) sorted, highest rate first, and deduplicated.
fn choose_variant(
    selector: Selector,
    variants: &BTreeMap<String, Vec<Run>>,
    kind: Kind,
) -> Vec<Run> {
    let what = match kind {
        Kind::Final => "run(s)",
        Kind::Trial => "learning-rate trial(s)",
    };
    let (chosen, mut seeds) = variants
        .iter()
        .max_by_key(|(_, runs)| (runs[0].params().updates, runs.len()))
        .map(|(v, runs)| (v.clone(), runs.clone()))
        .expect("a selector group is never empty");
    for (variant, runs) in variants {
        if *variant != chosen {
            eprintln!(
                "ignoring {} {what} of {selector} with {variant}: using {chosen}",
                runs.len()
            );
        }
    }
    seeds.sort_by(|a, b| {
        let (p, q) = (a.params(), b.params());
        q.lr.total_cmp(&p.lr)
            .then(p.seed.cmp(&q.seed))
            .then(a.path.cmp(&b.path))
    });
    seeds.dedup_by(|later, kept| {
        let duplicate = later.same_member(kept);
        if duplicate {
            let rate = match kind {
                Kind::Final => String::new(),
                Kind::Trial => format!(" at lr {}", later.params().lr),
            };
            eprintln!(
                "ignoring {}: seed {}{rate} of {selector} already read from {}",
                later.path.display(),
                later.params().seed,
                kept.path.display()
            );
        }
        duplicate
    });
    seeds
}
