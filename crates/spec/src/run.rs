//! What a training run is: its parameters (what a key hashes and `train` is told), their
//! command line both ways, the one name a run goes by, and the config a finished run records.

use anyhow::{bail, ensure, Context, Result};
use clap::{ArgGroup, Args};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::layout::PROBE_EXAMPLES;
use crate::vocab::{Activation, Dataset, Init};

/// The deepest net the paper trains.
pub const MAX_HIDDEN_LAYERS: usize = 5;

/// Updates per "epoch" on the infinite Shapeset stream (the original replication's choice;
/// the paper's axes read that way).
pub const SHAPESET_EPOCH_UPDATES: u64 = 20_000;

/// One training run, fully resolved: nothing in it depends on the machine or the data file.
///
/// `R` is the learning rate's type: `f64` once it is known, which is what every binary reads
/// and writes. A plan holds runs whose rate a selection stage has yet to choose; it uses its
/// own `R` (the pipeline's `Lr`), so that no run ever carries a placeholder rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunParams<R = f64> {
    pub dataset: Dataset,
    pub activation: Activation,
    pub init: Init,
    pub hidden_layers: usize,
    pub width: usize,
    pub batch_size: usize,
    pub lr: R,
    pub updates: u64,
    /// Seed of the weights, the example order and the Shapeset training stream.
    pub seed: u64,
    pub probe_every: u64,
    /// Probe examples whose Jacobian singular values are measured at initialization (the
    /// first K of the 300); later probes record none.
    pub jacobian_examples: usize,
    /// Valid and test examples evaluated at every probe but the last (the first N of each
    /// set; 0: all). The last probe always evaluates both sets whole, for Table 1 and for
    /// learning-rate selection.
    pub eval_examples: usize,
    /// Raw activation and gradient arrays are kept at steps 0 and last and at every
    /// this-many epoch boundaries; 0 keeps none (learning-rate trials, which no figure draws
    /// raw arrays from).
    pub raw_every_epochs: u64,
}

/// What figures select runs by; seeds of one selector are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Selector {
    pub dataset: Dataset,
    pub activation: Activation,
    pub init: Init,
    pub hidden_layers: usize,
}

/// The parameters the models of one pack may differ in: what the paper sweeps (seed, init,
/// learning rate) and how many probe examples get Jacobians (measured per model, at step 0
/// only). Everything else is the pack's *shape*: one `baddbmm` per layer must serve every
/// model, every model is probed at the same steps on the same eval sets, and one activation
/// kernel serves the whole pack. `train-pack` refuses and `paper` never groups anything else.
pub const PACK_PER_MODEL: [&str; 4] = ["seed", "init", "lr", "jacobian_examples"];

impl<R: Serialize> RunParams<R> {
    /// The run's pack shape: its parameters without [`PACK_PER_MODEL`], as canonical JSON
    /// (sorted keys). Two runs may share a pack exactly when their shapes are equal.
    pub fn pack_shape(&self) -> String {
        self.shape_fields().to_string()
    }

    /// The shape fields in which `other` differs from this run (none: they may share a pack).
    pub fn pack_shape_differences(&self, other: &RunParams<R>) -> Vec<String> {
        let (mine, theirs) = (self.shape_fields(), other.shape_fields());
        let (serde_json::Value::Object(mine), serde_json::Value::Object(theirs)) = (mine, theirs)
        else {
            unreachable!("run params serialise to an object")
        };
        mine.iter()
            .filter(|(field, value)| theirs.get(*field) != Some(value))
            .map(|(field, _)| field.clone())
            .collect()
    }

    fn shape_fields(&self) -> serde_json::Value {
        let value = serde_json::to_value(self).expect("run params are JSON");
        let serde_json::Value::Object(fields) = value else {
            unreachable!("run params serialise to an object")
        };
        // Sorted: the shape is compared as text.
        let sorted: std::collections::BTreeMap<_, _> = fields
            .into_iter()
            .filter(|(field, _)| !PACK_PER_MODEL.contains(&field.as_str()))
            .collect();
        serde_json::to_value(sorted).expect("a map of JSON values")
    }
}

impl<R> RunParams<R> {
    /// The same run with the learning rate `lr`: a planned run once its rate is known.
    pub fn with_lr<S>(self, lr: S) -> RunParams<S> {
        let RunParams {
            dataset,
            activation,
            init,
            hidden_layers,
            width,
            batch_size,
            lr: _,
            updates,
            seed,
            probe_every,
            jacobian_examples,
            eval_examples,
            raw_every_epochs,
        } = self;
        RunParams {
            dataset,
            activation,
            init,
            hidden_layers,
            width,
            batch_size,
            lr,
            updates,
            seed,
            probe_every,
            jacobian_examples,
            eval_examples,
            raw_every_epochs,
        }
    }

    /// The one name of a run: `shapeset-tanh-normalized-l5-w1000-s0`. Stage names, default
    /// output directories and logs all use it. The learning rate and length are left out so
    /// that a profile's runs keep readable names; a plan refuses two runs of one name.
    pub fn name(&self) -> String {
        format!(
            "{}-{}-{}-l{}-w{}-s{}",
            self.dataset, self.activation, self.init, self.hidden_layers, self.width, self.seed
        )
    }

    pub fn selector(&self) -> Selector {
        Selector::new(self.dataset, self.activation, self.init, self.hidden_layers)
    }

    /// Whether the run is probed only at its end (`probe_every >= updates`), as a
    /// learning-rate trial is: its one reading is its final validation error, so a probe at
    /// step 0 or a whole-set test pass would be time not spent training.
    pub fn probes_only_at_end(&self) -> bool {
        self.probe_every >= self.updates
    }

    /// Layer sizes from input to output, e.g. `[1024, 1000, 1000, 9]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.dataset.input_dim()];
        sizes.extend(std::iter::repeat_n(self.width, self.hidden_layers));
        sizes.push(self.dataset.classes());
        sizes
    }

    /// Weights and biases of the net, or an error when the count overflows.
    pub fn parameter_count(&self) -> Result<u64> {
        let sizes = self.layer_sizes();
        sizes.windows(2).try_fold(0u64, |total, pair| {
            let (fan_in, fan_out) = (pair[0] as u64, pair[1] as u64);
            fan_in
                .checked_mul(fan_out)
                .and_then(|w| w.checked_add(fan_out))
                .and_then(|layer| total.checked_add(layer))
                .with_context(|| format!("--width {} overflows the parameter count", self.width))
        })
    }
}

impl RunParams {
    /// A model's directory under `train-pack --out`, and its name in the pack's last line:
    /// the run's [`name`](Self::name) and its learning rate. The rate is in it because a
    /// configuration's learning-rate trials (one name, a grid of rates) may share a pack.
    pub fn pack_member(&self) -> String {
        format!("{}-lr{}", self.name(), self.lr)
    }

    /// The `train` flags that reproduce these parameters exactly ([`RunArgs`] parses them
    /// back). Floats are printed in their shortest round-trip form.
    pub fn to_args(&self) -> Vec<String> {
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
            ("--jacobian-examples", self.jacobian_examples.to_string()),
            ("--eval-examples", self.eval_examples.to_string()),
            ("--raw-every-epochs", self.raw_every_epochs.to_string()),
        ];
        pairs
            .into_iter()
            .flat_map(|(flag, value)| [flag.to_string(), value])
            .collect()
    }

    /// Refuses parameters no run can have, naming the flag.
    pub fn validate(&self) -> Result<()> {
        ensure!(
            self.lr.is_finite() && self.lr > 0.0,
            "--lr must be a finite positive number, got {}",
            self.lr
        );
        self.validate_shape()
    }
}

impl<R> RunParams<R> {
    /// [`RunParams::validate`] but for the learning rate: what a planned run whose rate is
    /// yet to be chosen can already be checked for.
    pub fn validate_shape(&self) -> Result<()> {
        ensure!(
            (1..=MAX_HIDDEN_LAYERS).contains(&self.hidden_layers),
            "--hidden-layers must be in 1..={MAX_HIDDEN_LAYERS}, got {}",
            self.hidden_layers
        );
        ensure!(self.width > 0, "--width must be positive");
        ensure!(self.batch_size > 0, "--batch-size must be positive");
        ensure!(self.updates > 0, "--updates must be positive");
        ensure!(self.probe_every > 0, "--probe-every must be positive");
        ensure!(
            self.jacobian_examples <= PROBE_EXAMPLES,
            "--jacobian-examples must be at most {PROBE_EXAMPLES}, got {}",
            self.jacobian_examples
        );
        self.parameter_count()?;
        Ok(())
    }
}

impl Selector {
    pub fn new(dataset: Dataset, activation: Activation, init: Init, hidden_layers: usize) -> Self {
        Selector {
            dataset,
            activation,
            init,
            hidden_layers,
        }
    }

    /// The paper's row name in Table 1: "Tanh", "Tanh N".
    pub fn short_name(&self) -> String {
        format!("{}{}", self.activation.title(), self.init.row_suffix())
    }

    /// `shapeset-tanh-normalized-l5`: the run name without width and seed.
    pub fn id(&self) -> String {
        format!(
            "{}-{}-{}-l{}",
            self.dataset, self.activation, self.init, self.hidden_layers
        )
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// The run flags of `train`, with its conveniences: `--epochs` instead of `--updates`, and
/// defaults for the learning rate and probe cadence. [`RunArgs::resolve`] turns them into
/// [`RunParams`]; `RunParams::to_args` gives flags that resolve to the same parameters.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("length").required(true).args(["updates", "epochs"])))]
pub struct RunArgs {
    /// Dataset: the Shapeset-3x2 online stream, MNIST or CIFAR-10.
    #[arg(long, value_enum)]
    pub dataset: Dataset,
    /// Hidden-layer non-linearity.
    #[arg(long, value_enum)]
    pub activation: Activation,
    /// Weight init: standard (eq. 1), normalized (eq. 16, alias xavier) or he (N(0, 2/fan_in)).
    #[arg(long, value_enum)]
    pub init: Init,
    /// Number of hidden layers.
    #[arg(long, default_value_t = 5,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_HIDDEN_LAYERS as u64))]
    pub hidden_layers: usize,
    /// Units per hidden layer.
    #[arg(long, default_value_t = 1000)]
    pub width: usize,
    /// Examples per SGD update.
    #[arg(long, default_value_t = 10)]
    pub batch_size: usize,
    /// Learning rate [default: 0.1 for sigmoid, 0.01 otherwise; untuned, the paper picked
    /// it on validation error].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Number of SGD updates.
    #[arg(long)]
    pub updates: Option<u64>,
    /// Number of epochs (Shapeset: 20,000 updates each; MNIST/CIFAR-10: train examples / batch).
    #[arg(long)]
    pub epochs: Option<u64>,
    /// Seed of the weights, the example order and the Shapeset training stream.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Updates between probes [default: one epoch]; probes also run at step 0, the last, and
    /// 100 and 1000 when this is longer than 1000.
    #[arg(long)]
    pub probe_every: Option<u64>,
    /// Probe examples whose Jacobian singular values are measured, at initialization only:
    /// each costs a width x width product and eigensolve per layer (about 0.25 s on a CPU
    /// core at width 1000).
    #[arg(long, default_value_t = 20)]
    pub jacobian_examples: usize,
    /// Valid and test examples evaluated at every probe but the last [0: all]; the last probe
    /// evaluates both sets whole.
    #[arg(long, default_value_t = 0)]
    pub eval_examples: usize,
    /// Keep raw activation/gradient arrays at every this-many epoch boundaries (and at
    /// steps 0 and last) [0: none].
    #[arg(long, default_value_t = 1)]
    pub raw_every_epochs: u64,
}

impl RunArgs {
    /// The parameters these flags mean, given the dataset's epoch length in updates.
    pub fn resolve(&self, updates_per_epoch: u64) -> Result<RunParams> {
        let updates = match (self.updates, self.epochs) {
            (Some(updates), _) => updates,
            (None, Some(epochs)) => epochs.checked_mul(updates_per_epoch).with_context(|| {
                format!("--epochs {epochs} x {updates_per_epoch} updates per epoch overflows")
            })?,
            (None, None) => bail!("give --updates or --epochs"),
        };
        let params = RunParams {
            dataset: self.dataset,
            activation: self.activation,
            init: self.init,
            hidden_layers: self.hidden_layers,
            width: self.width,
            batch_size: self.batch_size,
            lr: self.lr.unwrap_or_else(|| self.activation.default_lr()),
            updates,
            seed: self.seed,
            probe_every: self.probe_every.unwrap_or(updates_per_epoch),
            jacobian_examples: self.jacobian_examples,
            eval_examples: self.eval_examples,
            raw_every_epochs: self.raw_every_epochs,
        };
        params.validate()?;
        Ok(params)
    }
}

/// What a run recorded about itself: its parameters plus what was resolved where it ran.
/// Saved as `config.json` beside `run.h5` and as its `config` attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    #[serde(flatten)]
    pub params: RunParams,
    /// Updates per epoch: 20,000 on Shapeset, train examples / batch size elsewhere.
    pub updates_per_epoch: u64,
    /// The resolved device, `cpu` or `cuda:N`.
    pub device: String,
    /// The dataset file trained on, if any.
    pub data: Option<String>,
    /// The store key of the dataset, when `data` lies in a store entry directory.
    pub data_key: Option<String>,
}

impl RunConfig {
    /// Steps at which the model is probed: 0, every `probe_every`, the raw-snapshot epoch
    /// boundaries and the last step; and 100 and 1000, to resolve the early dynamics, when
    /// `probe_every` is longer than 1000. A run [`RunParams::probes_only_at_end`] is probed
    /// at its last step and its raw-snapshot steps only.
    pub fn is_probe_step(&self, step: u64) -> bool {
        if self.params.probes_only_at_end() {
            return step == self.params.updates || self.is_raw_step(step);
        }
        let early = matches!(step, 100 | 1000) && self.params.probe_every > 1000;
        step <= self.params.updates
            && (step == 0
                || early
                || step == self.params.updates
                || step.is_multiple_of(self.params.probe_every)
                || self.is_raw_step(step))
    }

    /// Probes that keep raw arrays: step 0, the last step and every `raw_every_epochs`-th
    /// epoch boundary; none when `raw_every_epochs` is 0.
    pub fn is_raw_step(&self, step: u64) -> bool {
        if self.params.raw_every_epochs == 0 {
            return false;
        }
        let every = self
            .updates_per_epoch
            .saturating_mul(self.params.raw_every_epochs);
        step == 0 || step == self.params.updates || step.is_multiple_of(every)
    }

    pub fn epoch(&self, step: u64) -> f64 {
        step as f64 / self.updates_per_epoch as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn params() -> RunParams {
        RunParams {
            dataset: Dataset::Mnist,
            activation: Activation::Softsign,
            init: Init::He,
            hidden_layers: 3,
            width: 257,
            batch_size: 7,
            lr: 0.1 + 0.2,
            updates: 12_345,
            seed: u64::MAX,
            probe_every: 999,
            jacobian_examples: 0,
            eval_examples: 321,
            raw_every_epochs: 4,
        }
    }

    #[test]
    fn to_args_parses_back_to_the_same_params() {
        let params = params();
        let argv = std::iter::once("train".to_string()).chain(params.to_args());
        let cli = Cli::try_parse_from(argv).unwrap();
        // The epoch length must not matter: every defaulted flag is given explicitly.
        assert_eq!(cli.run.resolve(1).unwrap(), params);
        assert_eq!(cli.run.resolve(20_000).unwrap(), params);
    }

    #[test]
    fn the_config_file_keeps_params_at_the_top_level_and_round_trips() {
        let config = RunConfig {
            params: params(),
            updates_per_epoch: 5000,
            device: "cpu".into(),
            data: None,
            data_key: None,
        };
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["init"], "he");
        assert_eq!(json["lr"], 0.1 + 0.2);
        let back: RunConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn one_name_per_run() {
        assert_eq!(
            params().name(),
            "mnist-softsign-he-l3-w257-s18446744073709551615"
        );
        assert_eq!(params().selector().short_name(), "Softsign He");
    }

    #[test]
    fn epochs_resolve_with_checked_arithmetic() {
        let parse = |extra: &[&str]| {
            let base = [
                "train",
                "--dataset",
                "shapeset",
                "--activation",
                "tanh",
                "--init",
                "xavier",
            ];
            Cli::try_parse_from(base.iter().chain(extra)).map(|c| c.run)
        };
        let run = parse(&["--epochs", "2"]).unwrap().resolve(20_000).unwrap();
        assert_eq!(
            (run.updates, run.probe_every, run.lr),
            (40_000, 20_000, 0.01)
        );
        let err = parse(&["--epochs", "922337203685478"])
            .unwrap()
            .resolve(20_000)
            .unwrap_err();
        assert!(format!("{err:#}").contains("overflows"), "{err:#}");
        assert!(parse(&["--hidden-layers", "6", "--updates", "1"]).is_err());
        assert!(parse(&[]).is_err(), "a length is required");
    }

    #[test]
    fn impossible_params_are_refused_by_flag_name() {
        let refuse = |edit: fn(&mut RunParams), flag: &str| {
            let mut p = params();
            edit(&mut p);
            let err = format!("{:#}", p.validate().unwrap_err());
            assert!(err.contains(flag), "{err}");
        };
        refuse(|p| p.lr = f64::NAN, "--lr");
        refuse(|p| p.lr = 0.0, "--lr");
        refuse(|p| p.width = 0, "--width");
        refuse(|p| p.width = usize::MAX, "--width");
        refuse(|p| p.batch_size = 0, "--batch-size");
        refuse(|p| p.updates = 0, "--updates");
        refuse(|p| p.probe_every = 0, "--probe-every");
        refuse(|p| p.hidden_layers = 0, "--hidden-layers");
        refuse(|p| p.jacobian_examples = 301, "--jacobian-examples");
    }

    fn config(raw_every_epochs: u64) -> RunConfig {
        RunConfig {
            params: RunParams {
                updates: 500,
                probe_every: 100,
                raw_every_epochs,
                ..params()
            },
            updates_per_epoch: 200,
            device: "cpu".into(),
            data: None,
            data_key: None,
        }
    }

    fn raw_steps(config: &RunConfig) -> Vec<u64> {
        (0..=config.params.updates)
            .filter(|&step| config.is_raw_step(step))
            .collect()
    }

    #[test]
    fn raw_snapshots_come_at_the_ends_and_epoch_boundaries_or_never() {
        assert_eq!(raw_steps(&config(1)), [0, 200, 400, 500]);
        assert_eq!(raw_steps(&config(2)), [0, 400, 500]);
        assert_eq!(raw_steps(&config(0)), Vec::<u64>::new());
        // Without raw snapshots the probes stay where they were, the last step included.
        let probes = |c: &RunConfig| -> Vec<u64> {
            (0..=c.params.updates)
                .filter(|&s| c.is_probe_step(s))
                .collect()
        };
        assert_eq!(probes(&config(0)), [0, 100, 200, 300, 400, 500]);
        let mut uneven = config(0);
        uneven.params.updates = 450;
        assert_eq!(probes(&uneven), [0, 100, 200, 300, 400, 450]);
        // A run probed only at its end (a trial) is probed there and at its raw steps.
        let mut trial = config(0);
        trial.params.probe_every = trial.params.updates;
        assert_eq!(probes(&trial), [500]);
        trial.params.probe_every = 5000;
        trial.params.raw_every_epochs = 2;
        assert_eq!(probes(&trial), [0, 400, 500]);
    }
}
