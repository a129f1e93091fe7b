//! Profiles: the scale of a reproduction, not its contents.
//!
//! A profile is a TOML file (the built-in ones live in `crates/pipeline/profiles/`). It states
//! only what `spec` cannot know: how big and how long the runs are (`[train]`), which datasets
//! are trained and with which seeds (`[datasets]`), how learning rates are chosen (`[select]`:
//! a grid tried on validation error, as the paper did; or `[lr]`: a rate per activation fixed
//! by the profile, which wins where both are given) and which outputs to make, with their
//! sizes in pixels (`[figures]`). Which runs an output needs is [`spec::FigureId::needs`]'s business: a
//! profile cannot list runs, so it cannot disagree with `figures` about them.
//!
//! Everything is validated when the profile is read, before anything is written: a profile
//! that cannot give some needed run its parameters is refused with a line naming the output
//! and the run. This module is the schema (the TOML as written, checked and typed);
//! [`expand`] turns a profile into the outputs, runs and trials it makes.

mod expand;
pub use expand::{Output, ProfileRun};

use anyhow::{bail, ensure, Context, Result};
use clap::ValueEnum;
use serde::Deserialize;
use spec::{Activation, Dataset, FigureId};
use std::collections::BTreeMap;
use std::path::Path;

/// The profiles built into `paper`, by name.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("ci", include_str!("../../profiles/ci.toml")),
    ("quick", include_str!("../../profiles/quick.toml")),
    ("long", include_str!("../../profiles/long.toml")),
    ("full", include_str!("../../profiles/full.toml")),
];

/// The profile whose outputs are the project's committed results (`figures/`); every other
/// profile publishes to `results/<name>/` unless `--out` says otherwise, so that a shorter
/// profile never overwrites them.
pub const RESULTS: &str = "long";

/// Where a profile label (`Plan::profile`, a MANIFEST's `profile`) says its profile comes
/// from: a built-in profile's name, or `file:<absolute path>` for a profile file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    BuiltIn(&'a str),
    File(&'a Path),
}

impl<'a> Origin<'a> {
    /// The origin `label` names.
    pub fn of(label: &'a str) -> Origin<'a> {
        match label.strip_prefix("file:") {
            Some(file) => Origin::File(Path::new(file)),
            None => Origin::BuiltIn(label),
        }
    }

    /// The label of the profile file at `path`.
    pub fn file_label(path: &Path) -> Result<String> {
        Ok(format!("file:{}", std::path::absolute(path)?.display()))
    }

    /// The profile it names.
    pub fn load(self) -> Result<Profile> {
        match self {
            Origin::BuiltIn(name) => Profile::built_in(name),
            Origin::File(path) => Profile::from_file(path),
        }
    }
}

/// `[train]`: the scale every run of the profile shares.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub width: usize,
    pub batch_size: usize,
    pub updates: u64,
    pub probe_every: u64,
    /// Seeds of every dataset that does not name its own.
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
    /// What `train` uses when the flag is not given; stated here so keys never depend on a
    /// default that `train` might change.
    #[serde(default = "default_jacobian_examples")]
    pub jacobian_examples: usize,
    #[serde(default = "default_raw_every_epochs")]
    pub raw_every_epochs: u64,
    /// Valid and test examples evaluated at every probe but the last (0: all).
    #[serde(default)]
    pub eval_examples: usize,
}

/// Jacobians are measured at initialization, on this many examples, in the first seed of
/// each configuration §4.2.2 draws (tanh on Shapeset) only: they cost ~0.5 s per example at
/// width 1000 on a CPU core.
fn default_jacobian_examples() -> usize {
    20
}

/// `[select]`: learning-rate selection. Each configuration whose activation has no rate in
/// `[lr]` is trained for `updates` at every rate of `grid` with `seeds`; one rate per
/// activation, chosen on the trials of all its inits pooled ([`spec::selection::RULE`]),
/// trains the final runs of every init.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Select {
    pub grid: Vec<f64>,
    pub updates: u64,
    /// The trials' seeds (default: the first seed of each dataset). The same seeds at every
    /// rate, so that rates are compared on the same initial weights and example order.
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
}

fn default_raw_every_epochs() -> u64 {
    1
}

/// One dataset of `[datasets]`: its seeds and the scale it overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetEntry {
    pub seeds: Option<Vec<u64>>,
    pub updates: Option<u64>,
    pub probe_every: Option<u64>,
}

impl Select {
    fn validate(&self) -> Result<()> {
        ensure!(!self.grid.is_empty(), "[select] grid is empty");
        for (i, lr) in self.grid.iter().enumerate() {
            ensure!(
                lr.is_finite() && *lr > 0.0,
                "[select] grid has {lr}: a learning rate must be a finite positive number"
            );
            ensure!(!self.grid[..i].contains(lr), "[select] grid has {lr} twice");
        }
        ensure!(self.updates > 0, "[select] updates must be positive, got 0");
        ensure!(
            self.seeds.as_ref().is_none_or(|s| !s.is_empty()),
            "[select] seeds is empty"
        );
        Ok(())
    }
}

/// One output of `[figures]`: its size (the renderer's default when absent) and, where the
/// output needs more seeds than its datasets give (a test over seeds), its own seeds. A run
/// drawn by several outputs is trained once per seed any of them names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureEntry {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub seeds: Option<Vec<u64>>,
}

/// The file as written; [`Profile`] is the same, checked and typed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    description: String,
    train: Scale,
    datasets: BTreeMap<String, DatasetEntry>,
    #[serde(default)]
    lr: BTreeMap<String, f64>,
    #[serde(default)]
    select: Option<Select>,
    figures: BTreeMap<String, FigureEntry>,
}

#[derive(Debug, Clone)]
pub struct Profile {
    /// What the profile is for and what it costs; shown by `paper status`.
    pub description: String,
    pub train: Scale,
    pub datasets: BTreeMap<Dataset, DatasetEntry>,
    /// Learning rate by activation, fixed by the profile.
    pub lr: BTreeMap<Activation, f64>,
    /// How the other activations' rates are chosen.
    pub select: Option<Select>,
    pub figures: BTreeMap<FigureId, FigureEntry>,
}

impl Profile {
    /// A built-in profile by name.
    pub fn built_in(name: &str) -> Result<Profile> {
        let (_, text) = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .with_context(|| format!("no built-in profile {name:?}"))?;
        Profile::parse(text).with_context(|| format!("built-in profile {name}"))
    }

    pub fn from_file(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read profile {}", path.display()))?;
        Profile::parse(&text).with_context(|| format!("bad profile {}", path.display()))
    }

    /// Parses and validates: after this, [`Profile::outputs`] cannot fail.
    pub fn parse(text: &str) -> Result<Profile> {
        // toml's messages span several lines (a source excerpt); the first says what is wrong.
        let file: ProfileFile = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!("{}", e.message().lines().next().unwrap_or("invalid TOML"))
        })?;
        let profile = Profile {
            description: file.description,
            train: file.train,
            datasets: typed_keys(file.datasets, "[datasets]")?,
            lr: typed_keys(file.lr, "[lr]")?,
            select: file.select,
            figures: typed_keys(file.figures, "[figures]")?,
        };
        profile.validate()?;
        Ok(profile)
    }

    fn validate(&self) -> Result<()> {
        let t = &self.train;
        let positive = [
            ("width", t.width as u64),
            ("batch_size", t.batch_size as u64),
            ("updates", t.updates),
            ("probe_every", t.probe_every),
            ("raw_every_epochs", t.raw_every_epochs),
        ];
        for (field, value) in positive {
            ensure!(value > 0, "[train] {field} must be positive, got 0");
        }
        for (dataset, entry) in &self.datasets {
            for (field, value) in [
                ("updates", entry.updates),
                ("probe_every", entry.probe_every),
            ] {
                ensure!(
                    value != Some(0),
                    "[datasets] {dataset}.{field} must be positive, got 0"
                );
            }
        }
        for (activation, lr) in &self.lr {
            ensure!(
                lr.is_finite() && *lr > 0.0,
                "[lr] {activation} = {lr}: a learning rate must be a finite positive number"
            );
        }
        if let Some(select) = &self.select {
            select.validate()?;
        }
        ensure!(
            !self.figures.is_empty(),
            "[figures] names no output to make"
        );
        for (figure, entry) in &self.figures {
            ensure!(
                entry.seeds.as_ref().is_none_or(|s| !s.is_empty()),
                "[figures] {figure}.seeds is empty"
            );
        }
        ensure!(
            !self.figures.contains_key(&FigureId::LrSelect)
                || self.select.is_some() && self.lr.len() < Activation::ALL.len(),
            "lr-select draws the learning-rate trials, but this profile selects no rate: add [select] or drop lr-select"
        );
        self.outputs().map(|_| ())
    }
}

/// Table keys as `spec` values, refusing unknown ones with the list of known ones.
fn typed_keys<K: ValueEnum + Ord, V>(
    table: BTreeMap<String, V>,
    name: &str,
) -> Result<BTreeMap<K, V>> {
    table
        .into_iter()
        .map(|(key, value)| match K::from_str(&key, false) {
            Ok(typed) => Ok((typed, value)),
            Err(_) => {
                let known: Vec<String> = K::value_variants()
                    .iter()
                    .filter_map(ValueEnum::to_possible_value)
                    .map(|v| v.get_name().to_string())
                    .collect();
                bail!(
                    "unknown key {key:?} in {name} (known: {})",
                    known.join(", ")
                )
            }
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use spec::Init;

    pub(super) const BASE: &str = "description = \"t\"\n[train]\nwidth = 8\nbatch_size = 1\nupdates = 10\n\
                        probe_every = 5\nseeds = [0]\n[datasets]\nshapeset = {}\n[lr]\ntanh = 0.1\n";

    pub(super) fn err(text: &str) -> String {
        format!("{:#}", Profile::parse(text).unwrap_err())
    }

    #[test]
    fn a_label_names_a_built_in_profile_or_a_file_and_loads_it() {
        assert_eq!(Origin::of("long"), Origin::BuiltIn("long"));
        assert!(Origin::of("long").load().is_ok());
        assert!(Origin::of("longer").load().is_err());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.toml");
        let (_, ci) = BUILT_IN[0];
        std::fs::write(&file, ci).unwrap();
        let label = Origin::file_label(&file).unwrap();
        assert_eq!(label, format!("file:{}", file.display()));
        assert_eq!(Origin::of(&label), Origin::File(&file));
        let loaded = Origin::of(&label).load().unwrap();
        assert_eq!(
            loaded.description,
            Profile::built_in("ci").unwrap().description
        );
    }

    #[test]
    fn built_in_profiles_parse_and_keep_their_scale() {
        for (name, _) in BUILT_IN {
            let profile = Profile::built_in(name).unwrap();
            assert!(!profile.runs().unwrap().is_empty(), "{name} trains nothing");
        }
        let quick = Profile::built_in("quick").unwrap();
        let runs = quick.runs().unwrap();
        assert!(runs.iter().all(|r| r.updates == 3000 && r.width == 1000));
        let seeds = |d: Dataset| runs.iter().filter(|r| r.dataset == d).map(|r| r.seed).max();
        assert_eq!(
            (seeds(Dataset::Shapeset), seeds(Dataset::Mnist)),
            (Some(2), Some(2)),
            "at least 3 seeds of Shapeset and MNIST"
        );
        let full = Profile::built_in("full").unwrap();
        assert!(full.runs().unwrap().iter().filter(|r| r.seed == 4).count() >= 17);
        for profile in [&quick, &full] {
            assert!(runs.iter().all(|r| profile.selects(r)), "no rate is fixed");
        }
        let measured: Vec<String> = runs
            .iter()
            .filter(|r| r.jacobian_examples == 20)
            .map(spec::RunParams::name)
            .collect();
        assert_eq!(
            measured,
            [
                "shapeset-tanh-standard-l5-w1000-s0",
                "shapeset-tanh-normalized-l5-w1000-s0"
            ],
            "Jacobians only where §4.2.2 draws them, first seed"
        );
        assert!(runs.iter().all(|r| [0, 20].contains(&r.jacobian_examples)));
        let trials = quick.trials(&runs[0]);
        assert_eq!(trials.len(), 3, "one seed x {{0.1, 0.03, 0.01}}");
        assert!(trials
            .iter()
            .all(|t| t.updates == 1000 && t.seed == runs[0].seed));
        assert!(
            trials.iter().all(|t| t.raw_every_epochs == 0),
            "trials keep no raw snapshot"
        );
        assert!(runs.iter().all(|r| r.raw_every_epochs > 0));
        let ci = Profile::built_in("ci").unwrap();
        let ci_runs = ci.runs().unwrap();
        assert!(ci_runs.iter().all(|r| r.updates == 3000 && r.seed == 0));
        assert!(ci_runs.iter().all(|r| r.dataset == Dataset::Shapeset));
        assert!(ci_runs.iter().all(|r| !ci.selects(r)), "ci fixes its rates");
        for profile in [&quick, &ci] {
            assert!(profile.figures.contains_key(&FigureId::ExtHe));
            let he = profile.runs().unwrap();
            assert!(he
                .iter()
                .any(|r| r.init == Init::He && r.activation == Activation::Relu));
        }
        let lr = |a| ci.lr[&a];
        let long = Profile::built_in(RESULTS).unwrap();
        let long_runs = long.runs().unwrap();
        let seeds_of = |dataset, activation, init| {
            long_runs
                .iter()
                .filter(|r| r.dataset == dataset && r.activation == activation && r.init == init)
                .filter(|r| r.hidden_layers == spec::PAPER_DEPTH)
                .count()
        };
        let shapeset = Dataset::Shapeset;
        assert_eq!(seeds_of(shapeset, Activation::Tanh, Init::Standard), 5);
        assert_eq!(seeds_of(shapeset, Activation::Tanh, Init::Normalized), 5);
        assert_eq!(seeds_of(shapeset, Activation::Softsign, Init::Standard), 3);
        for (activation, init) in spec::figure::table1_rows() {
            assert_eq!(
                seeds_of(Dataset::Mnist, activation, init),
                5,
                "{activation} {init}"
            );
        }
        assert!(
            long_runs.iter().all(|r| r.updates >= 20_000),
            "Fig 2 needs a whole Shapeset epoch"
        );
        assert!(long_runs.iter().all(|r| long.selects(r)));
        assert_eq!(
            (
                lr(Activation::Sigmoid),
                lr(Activation::Tanh),
                lr(Activation::Relu)
            ),
            (0.1, 0.01, 0.01)
        );
    }

    #[test]
    fn bad_values_are_refused_up_front_with_the_field() {
        let figs = "[figures]\nfig10 = {}\n";
        let cases = [
            ("tanh = 0.1", "tanh = nan", "[lr] tanh = NaN"),
            ("tanh = 0.1", "tanh = 0.0", "[lr] tanh = 0"),
            ("tanh = 0.1", "tanh = -1.0", "[lr] tanh = -1"),
            ("tanh = 0.1", "tanh = inf", "[lr] tanh = inf"),
            (
                "updates = 10",
                "updates = 0",
                "[train] updates must be positive",
            ),
            ("width = 8", "width = 0", "[train] width must be positive"),
            (
                "batch_size = 1",
                "batch_size = 0",
                "[train] batch_size must be positive",
            ),
            (
                "probe_every = 5",
                "probe_every = 0",
                "[train] probe_every must be positive",
            ),
            ("seeds = [0]", "seeds = []", "no seeds are given"),
            (
                "shapeset = {}",
                "svhn = {}",
                "unknown key \"svhn\" in [datasets]",
            ),
            (
                "shapeset = {}",
                "shapeset = { updates = 0 }",
                "shapeset.updates must be positive",
            ),
            ("width = 8", "width = 4000000000000", "overflows"),
            ("tanh = 0.1", "gelu = 0.1", "unknown key \"gelu\" in [lr]"),
        ];
        for (from, to, expected) in cases {
            let e = err(&format!("{}{figs}", BASE.replace(from, to)));
            assert!(e.contains(expected), "{to}: {e}");
        }
        assert!(err(&format!("{BASE}[figures]\nfig13 = {{}}\n")).contains("unknown key \"fig13\""));
        assert!(err(&format!("{BASE}[figures]\nfig6 = {{ runs = [\"a\"] }}\n")).contains("runs"));
        assert!(err(&format!("{BASE}[runs]\n[figures]\n")).contains("runs"));
        assert!(err(&format!("{BASE}[figures]\n")).contains("names no output"));
    }
}
