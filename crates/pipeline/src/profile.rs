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
//! and the run.

use anyhow::{bail, ensure, Context, Result};
use clap::ValueEnum;
use serde::Deserialize;
use spec::{Activation, Dataset, FigureId, RunParams, Selector};
use std::collections::BTreeMap;
use std::path::Path;

/// The profiles built into `paper`, by name.
pub const BUILT_IN: [(&str, &str); 3] = [
    ("ci", include_str!("../profiles/ci.toml")),
    ("quick", include_str!("../profiles/quick.toml")),
    ("full", include_str!("../profiles/full.toml")),
];

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
/// `[lr]` is trained for `updates` at every rate of `grid` with `seeds`; the rate with the
/// lowest validation error ([`spec::selection`]) trains the final runs.
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

/// One output of `[figures]`: its size (the renderer's default when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureEntry {
    pub width: Option<u32>,
    pub height: Option<u32>,
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

/// An output of a profile with the runs it draws, one per needed selector and seed.
#[derive(Debug, Clone)]
pub struct Output {
    pub id: FigureId,
    pub size: FigureEntry,
    pub runs: Vec<RunParams>,
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
        ensure!(
            !self.figures.contains_key(&FigureId::LrSelect)
                || self.select.is_some() && self.lr.len() < Activation::ALL.len(),
            "lr-select draws the learning-rate trials, but this profile selects no rate: add [select] or drop lr-select"
        );
        self.outputs().map(|_| ())
    }

    /// The datasets the profile trains, in `spec` order.
    pub fn dataset_list(&self) -> Vec<Dataset> {
        self.datasets.keys().copied().collect()
    }

    /// Every output the profile makes, in [`FigureId::ALL`] order (the report last), with the
    /// runs [`FigureId::needs`] says it draws on the profile's datasets.
    pub fn outputs(&self) -> Result<Vec<Output>> {
        let available = self.dataset_list();
        let mut outputs = Vec::new();
        for id in FigureId::ALL {
            let Some(size) = self.figures.get(&id) else {
                continue;
            };
            let needs = id.needs(&available);
            if needs.is_empty() && !id.datasets().is_empty() {
                bail!(
                    "{id} draws runs on {}, none of which [datasets] trains: add one or drop {id} from [figures]",
                    names(id.datasets())
                );
            }
            let mut runs = Vec::new();
            for selector in needs {
                runs.extend(self.runs_of(id, selector)?);
            }
            outputs.push(Output {
                id,
                size: size.clone(),
                runs,
            });
        }
        // lr-select shows the selections of what this profile's other outputs draw, and
        // trains nothing for itself.
        let drawn: Vec<String> = outputs
            .iter()
            .filter(|o| o.id != FigureId::LrSelect)
            .flat_map(|o| o.runs.iter().map(RunParams::name))
            .collect();
        for output in outputs.iter_mut().filter(|o| o.id == FigureId::LrSelect) {
            output.runs.retain(|run| drawn.contains(&run.name()));
        }
        Ok(outputs)
    }

    /// The runs of one selector, one per seed, or why the profile cannot give them.
    fn runs_of(&self, id: FigureId, s: Selector) -> Result<Vec<RunParams>> {
        let entry = self.datasets.get(&s.dataset).cloned().unwrap_or_default();
        let lr = match (self.lr.get(&s.activation), &self.select) {
            (Some(&lr), _) => lr,
            // Validated with the grid's first rate; the plan keys the run on its selection.
            (None, Some(select)) => select.grid[0],
            (None, None) => bail!(
                "{id} needs run {s}, but [lr] has no learning rate for {} and there is no [select]: add `{} = <rate>` to [lr] or a [select] grid",
                s.activation,
                s.activation
            ),
        };
        let seeds = self.seeds(id, s)?;
        let first_seed = seeds[0];
        seeds
            .into_iter()
            .map(|seed| {
                let params = RunParams {
                    dataset: s.dataset,
                    activation: s.activation,
                    init: s.init,
                    hidden_layers: s.hidden_layers,
                    width: self.train.width,
                    batch_size: self.train.batch_size,
                    lr,
                    updates: entry.updates.unwrap_or(self.train.updates),
                    seed,
                    probe_every: entry.probe_every.unwrap_or(self.train.probe_every),
                    jacobian_examples: if seed == first_seed && jacobian_drawn(s) {
                        self.train.jacobian_examples
                    } else {
                        0
                    },
                    eval_examples: self.train.eval_examples,
                    raw_every_epochs: self.train.raw_every_epochs,
                };
                params
                    .validate()
                    .with_context(|| format!("{id} needs run {}", params.name()))?;
                Ok(params)
            })
            .collect()
    }

    /// The seeds of a selector's dataset, or why there are none.
    fn seeds(&self, id: FigureId, s: Selector) -> Result<Vec<u64>> {
        let entry = self.datasets.get(&s.dataset);
        let seeds = entry
            .and_then(|e| e.seeds.clone())
            .or_else(|| self.train.seeds.clone());
        seeds.filter(|seeds| !seeds.is_empty()).with_context(|| {
            format!(
                "{id} needs run {s}, but no seeds are given for {}: set `seeds` in [train] or [datasets] {}",
                s.dataset, s.dataset
            )
        })
    }

    /// Whether a run's learning rate is chosen by [`Profile::trials`] rather than fixed.
    pub fn selects(&self, run: &RunParams) -> bool {
        self.select.is_some() && !self.lr.contains_key(&run.activation)
    }

    /// The learning-rate trials of the configuration of `run` (a run [`Profile::selects`]):
    /// one per seed and rate, the same shape as the final runs, `updates` long, probed only
    /// at the steps every run is (and at its end, on the whole validation set), with no
    /// Jacobians and no raw snapshots: only the lr-select figure and Table 1 read trials,
    /// and they read their last validation error.
    pub fn trials(&self, run: &RunParams) -> Vec<RunParams> {
        let select = self.select.as_ref().expect("a profile that selects");
        let seeds = select.seeds.clone().unwrap_or_else(|| vec![run.seed]);
        let mut trials = Vec::new();
        for seed in seeds {
            for &lr in &select.grid {
                trials.push(RunParams {
                    lr,
                    seed,
                    updates: select.updates,
                    probe_every: select.updates,
                    jacobian_examples: 0,
                    raw_every_epochs: 0,
                    ..run.clone()
                });
            }
        }
        trials
    }

    /// Every run the profile trains, once each, in the order outputs first need them.
    pub fn runs(&self) -> Result<Vec<RunParams>> {
        let mut runs: Vec<RunParams> = Vec::new();
        for output in self.outputs()? {
            for run in output.runs {
                if !runs.iter().any(|r| r.name() == run.name()) {
                    runs.push(run);
                }
            }
        }
        Ok(runs)
    }
}

/// Whether a configuration's Jacobians are drawn (§4.2.2, with Fig 7): only those runs pay
/// for them.
fn jacobian_drawn(s: Selector) -> bool {
    FigureId::Fig7.needs(&[s.dataset]).contains(&s)
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

fn names(datasets: &[Dataset]) -> String {
    let names: Vec<&str> = datasets.iter().map(|d| d.id()).collect();
    names.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::Init;

    const BASE: &str = "description = \"t\"\n[train]\nwidth = 8\nbatch_size = 1\nupdates = 10\n\
                        probe_every = 5\nseeds = [0]\n[datasets]\nshapeset = {}\n[lr]\ntanh = 0.1\n";

    fn err(text: &str) -> String {
        format!("{:#}", Profile::parse(text).unwrap_err())
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
            .map(RunParams::name)
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
    fn the_ci_profile_makes_every_output_shapeset_can() {
        let ci = Profile::built_in("ci").unwrap();
        for id in FigureId::ALL {
            let shapeset = id.datasets().is_empty() || id.datasets().contains(&Dataset::Shapeset);
            // ci fixes its learning rates (a cluster test submits its runs in one wave).
            let drawn = shapeset && id != FigureId::LrSelect;
            assert_eq!(ci.figures.contains_key(&id), drawn, "{id}");
        }
    }

    #[test]
    fn runs_come_from_the_needs_of_the_figures() {
        let profile = Profile::parse(&format!(
            "{BASE}[figures]\nfig6 = {{ width = 640 }}\nreport = {{}}\n"
        ))
        .unwrap();
        let outputs = profile.outputs().unwrap();
        assert_eq!(outputs[0].id, FigureId::Fig6);
        assert_eq!(outputs[0].size.width, Some(640));
        let names: Vec<String> = outputs[0].runs.iter().map(RunParams::name).collect();
        assert_eq!(
            names,
            [
                "shapeset-tanh-standard-l5-w8-s0",
                "shapeset-tanh-normalized-l5-w8-s0"
            ]
        );
        assert_eq!(outputs[1].id, FigureId::Report);
        assert!(outputs[1].runs.is_empty());
        let args = outputs[0].runs[0].to_args().join(" ");
        assert!(
            args.contains("--lr 0.1 --updates 10 --seed 0 --probe-every 5"),
            "{args}"
        );
    }

    #[test]
    fn a_profile_that_cannot_give_a_needed_run_names_the_figure_and_the_run() {
        let e = err(&format!("{BASE}[figures]\next-he = {{}}\n"));
        assert!(
            e.contains(
                "ext-he needs run shapeset-relu-he-l5, but [lr] has no learning rate for relu"
            ),
            "{e}"
        );
        let no_seeds = BASE.replace("seeds = [0]\n", "");
        let e = err(&format!("{no_seeds}[figures]\nfig10 = {{}}\n"));
        assert!(
            e.contains(
                "fig10 needs run shapeset-tanh-normalized-l5, but no seeds are given for shapeset"
            ),
            "{e}"
        );
        let e = err(&format!("{}[figures]\nfig12 = {{}}\n", BASE));
        assert!(e.contains("fig12 draws runs on mnist or cifar10"), "{e}");
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
