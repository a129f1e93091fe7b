//! Profiles: named tables of the training runs each figure needs.
//!
//! A profile is a TOML file (the built-in ones live in `crates/pipeline/profiles/`):
//! `[train]` holds the defaults every run inherits, `[runs]` names each run (dataset, activation,
//! init, and any default it overrides) and `[figures]` lists, per figure id, the runs it is drawn
//! from and optionally its size in pixels. Each run is trained once per seed.

use anyhow::{bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The profiles built into `paper`, by name.
pub const BUILT_IN: [(&str, &str); 3] = [
    ("ci", include_str!("../profiles/ci.toml")),
    ("quick", include_str!("../profiles/quick.toml")),
    ("full", include_str!("../profiles/full.toml")),
];

/// Every figure id `figures render --only` accepts, in the order they are rendered.
pub const FIGURE_IDS: [&str; 14] = [
    "fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "fig10", "fig11",
    "fig12", "table1", "report",
];

/// The figure id whose stage depends on every other figure of its profile.
pub const REPORT: &str = "report";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    Shapeset,
    Mnist,
    Cifar10,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Softsign,
    Relu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    Standard,
    Normalized,
}

/// Names as the stage binaries spell them on their command lines.
macro_rules! display_as_serde {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let value = serde_json::to_value(self).map_err(|_| fmt::Error)?;
                f.write_str(value.as_str().ok_or(fmt::Error)?)
            }
        }
    )*};
}
display_as_serde!(Dataset, Activation, Init);

/// Defaults of the `[train]` table; every run inherits them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainDefaults {
    pub hidden_layers: u32,
    pub width: u32,
    pub batch_size: u32,
    pub updates: u64,
    pub probe_every: u64,
    pub seeds: Vec<u64>,
}

/// One named run of `[runs]`: what it trains and which defaults it overrides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    pub dataset: Dataset,
    pub activation: Activation,
    pub init: Init,
    pub hidden_layers: Option<u32>,
    pub width: Option<u32>,
    pub batch_size: Option<u32>,
    pub lr: Option<f64>,
    pub updates: Option<u64>,
    pub probe_every: Option<u64>,
    pub seeds: Option<Vec<u64>>,
}

/// One figure of `[figures]`: the runs it is drawn from and its size (the renderer's default
/// when absent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureEntry {
    #[serde(default)]
    pub runs: Vec<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// The full parameters of one training run: exactly what `train` is told, and what its key hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunParams {
    pub dataset: Dataset,
    pub activation: Activation,
    pub init: Init,
    pub hidden_layers: u32,
    pub width: u32,
    pub batch_size: u32,
    pub lr: f64,
    pub updates: u64,
    pub seed: u64,
    pub probe_every: u64,
}

impl RunParams {
    /// The stage name of this run; it is derived from the parameters figures select runs by, so
    /// two profiles that train the same run share its name.
    pub fn stage_name(&self) -> String {
        format!(
            "train/{}-{}-{}-l{}-w{}-s{}",
            self.dataset, self.activation, self.init, self.hidden_layers, self.width, self.seed
        )
    }

    /// The `train` flags for these parameters (without `--device`, `--data` and `--out`).
    pub fn train_args(&self) -> Vec<String> {
        let pairs = [
            ("--dataset", self.dataset.to_string()),
            ("--activation", self.activation.to_string()),
            ("--init", self.init.to_string()),
            ("--hidden-layers", self.hidden_layers.to_string()),
            ("--width", self.width.to_string()),
            ("--batch-size", self.batch_size.to_string()),
            ("--lr", self.lr.to_string()),
            ("--updates", self.updates.to_string()),
            ("--seed", self.seed.to_string()),
            ("--probe-every", self.probe_every.to_string()),
        ];
        pairs
            .into_iter()
            .flat_map(|(flag, value)| [flag.to_string(), value])
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// What the profile is for and what it costs; shown by `paper status`.
    pub description: String,
    pub train: TrainDefaults,
    /// Learning rate by activation, for runs that do not set their own.
    pub lr: BTreeMap<Activation, f64>,
    pub runs: BTreeMap<String, RunEntry>,
    pub figures: BTreeMap<String, FigureEntry>,
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

    pub fn parse(text: &str) -> Result<Profile> {
        let profile: Profile = toml::from_str(text)?;
        profile.validate()?;
        Ok(profile)
    }

    fn validate(&self) -> Result<()> {
        for (id, figure) in &self.figures {
            ensure!(
                FIGURE_IDS.contains(&id.as_str()),
                "unknown figure id {id:?} (known: {})",
                FIGURE_IDS.join(", ")
            );
            for run in &figure.runs {
                ensure!(
                    self.runs.contains_key(run),
                    "figure {id} names run {run:?}, which [runs] does not define"
                );
            }
        }
        for (name, run) in &self.runs {
            ensure!(
                !run.seeds.as_ref().unwrap_or(&self.train.seeds).is_empty(),
                "run {name} has no seeds"
            );
            ensure!(
                run.lr.is_some() || self.lr.contains_key(&run.activation),
                "run {name} has no learning rate: give it `lr` or add {} to [lr]",
                run.activation
            );
        }
        let mut names: BTreeMap<String, (&str, RunParams)> = BTreeMap::new();
        for (run, params) in self.expanded_runs() {
            if let Some((other, earlier)) = names.get(&params.stage_name()) {
                if *earlier != params {
                    bail!(
                        "runs {other} and {run} both make {} but with different parameters",
                        params.stage_name()
                    );
                }
            }
            names.insert(params.stage_name(), (run, params));
        }
        Ok(())
    }

    /// Every (run name, parameters) pair, one per seed, in name then seed order.
    pub fn expanded_runs(&self) -> Vec<(&str, RunParams)> {
        self.runs
            .iter()
            .flat_map(|(name, run)| {
                self.params(run)
                    .into_iter()
                    .map(move |params| (name.as_str(), params))
            })
            .collect()
    }

    /// The parameters of a named run, one per seed.
    pub fn run_params(&self, name: &str) -> Vec<RunParams> {
        self.runs
            .get(name)
            .map(|r| self.params(r))
            .unwrap_or_default()
    }

    fn params(&self, run: &RunEntry) -> Vec<RunParams> {
        let d = &self.train;
        run.seeds
            .as_ref()
            .unwrap_or(&d.seeds)
            .iter()
            .map(|&seed| RunParams {
                dataset: run.dataset,
                activation: run.activation,
                init: run.init,
                hidden_layers: run.hidden_layers.unwrap_or(d.hidden_layers),
                width: run.width.unwrap_or(d.width),
                batch_size: run.batch_size.unwrap_or(d.batch_size),
                lr: run
                    .lr
                    .or_else(|| self.lr.get(&run.activation).copied())
                    .expect("validated: every run has a learning rate"),
                updates: run.updates.unwrap_or(d.updates),
                seed,
                probe_every: run.probe_every.unwrap_or(d.probe_every),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_parse() {
        for (name, _) in BUILT_IN {
            let profile = Profile::built_in(name).unwrap();
            assert!(!profile.figures.is_empty(), "{name} makes no figure");
        }
    }

    #[test]
    fn ci_profile_is_shapeset_only_and_draws_every_shapeset_figure() {
        let ci = Profile::built_in("ci").unwrap();
        assert!(ci
            .expanded_runs()
            .iter()
            .all(|(_, p)| p.dataset == Dataset::Shapeset));
        for id in FIGURE_IDS.iter().filter(|id| **id != "fig12") {
            assert!(ci.figures.contains_key(*id), "ci lacks {id}");
        }
    }

    #[test]
    fn runs_inherit_defaults_and_expand_per_seed() {
        let profile = Profile::parse(
            r#"
            description = "t"
            [train]
            hidden_layers = 5
            width = 32
            batch_size = 10
            updates = 100
            probe_every = 50
            seeds = [0, 1]
            [lr]
            tanh = 0.1
            [runs]
            a = { dataset = "shapeset", activation = "tanh", init = "normalized", width = 64 }
            [figures]
            fig3 = { runs = ["a"], width = 800 }
            "#,
        )
        .unwrap();
        let runs = profile.run_params("a");
        assert_eq!(runs.len(), 2);
        assert_eq!(
            (runs[0].width, runs[0].hidden_layers, runs[1].seed),
            (64, 5, 1)
        );
        assert_eq!(
            runs[0].stage_name(),
            "train/shapeset-tanh-normalized-l5-w64-s0"
        );
        let args = runs[0].train_args().join(" ");
        assert!(
            args.contains("--init normalized --hidden-layers 5 --width 64"),
            "{args}"
        );
        assert!(
            args.contains("--lr 0.1 --updates 100 --seed 0 --probe-every 50"),
            "{args}"
        );
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let base = "description = \"t\"\n[train]\nhidden_layers = 1\nwidth = 8\nbatch_size = 1\n\
                    updates = 1\nprobe_every = 1\nseeds = [0]\n[lr]\ntanh = 0.1\n";
        let err = |tail: &str| {
            format!(
                "{:#}",
                Profile::parse(&format!("{base}{tail}")).unwrap_err()
            )
        };
        assert!(err("[runs]\n[figures]\nfig13 = {}\n").contains("unknown figure id \"fig13\""));
        assert!(err("[runs]\n[figures]\nfig3 = { runs = [\"x\"] }\n").contains("names run \"x\""));
        let twice = "[runs]\na = { dataset = \"mnist\", activation = \"tanh\", init = \"standard\" }\n\
                     b = { dataset = \"mnist\", activation = \"tanh\", init = \"standard\", lr = 1.0 }\n\
                     [figures]\n";
        assert!(err(twice).contains("runs a and b both make"));
        assert!(err("[runs]\na = { dataset = \"svhn\" }\n[figures]\n").contains("svhn"));
        let no_lr =
            "[runs]\na = { dataset = \"mnist\", activation = \"softsign\", init = \"standard\" }\n\
                     [figures]\n";
        assert!(
            err(no_lr).contains("run a has no learning rate: give it `lr` or add softsign to [lr]")
        );
    }
}
