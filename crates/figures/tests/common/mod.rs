//! A fixture writer: small but real `run.h5` files with the exact layout of
//! crates/train/src/record.rs (root attributes, history/, stats/, raw/), filled with
//! plausible numbers drawn from a seeded generator. Statistics are computed from the same
//! samples the raw snapshots hold, so every view of a recording agrees.
#![allow(dead_code)] // each test binary uses a different part

use hdf5::types::VarLenUnicode;
use ndarray::{Array2, ArrayView2};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const WIDTH: usize = 16;
pub const INPUTS: usize = 24;
pub const PROBE_EXAMPLES: usize = 300;
const BINS: usize = 100;

#[derive(Clone, Debug)]
pub struct Fixture {
    pub dataset: &'static str,
    pub activation: &'static str,
    pub init: &'static str,
    pub hidden_layers: usize,
    pub seed: u64,
    pub updates: u64,
    pub updates_per_epoch: u64,
    pub status: &'static str,
    /// Test error (fraction) at the last probe; the curve decays to it from 0.9.
    pub final_error: f64,
    /// Per layer: std of the pre-activations at step 0, and their growth factor by the end.
    pub preact_std: Vec<f64>,
    pub preact_growth: Vec<f64>,
    /// Per layer: std of dCost/ds and of dCost/dW (constant over training).
    pub preact_grad_std: Vec<f64>,
    pub weight_grad_std: Vec<f64>,
    /// Mean Jacobian singular value at init (layers 1..L-1; NaN for L).
    pub jacobian: f64,
}

impl Fixture {
    /// A run whose numbers behave as the paper says for its init: with standard init the
    /// activations shrink with depth and the back-propagated gradients shrink toward the input.
    pub fn new(
        dataset: &'static str,
        activation: &'static str,
        init: &'static str,
        depth: usize,
    ) -> Self {
        let standard = init == "standard";
        let layers = 1..=depth;
        Fixture {
            dataset,
            activation,
            init,
            hidden_layers: depth,
            seed: 0,
            updates: 3000,
            updates_per_epoch: 1000,
            status: "complete",
            final_error: 0.3,
            preact_std: layers
                .clone()
                .map(|k| {
                    if standard {
                        0.55f64.powi(k as i32 - 1)
                    } else {
                        0.95f64.powi(k as i32 - 1)
                    }
                })
                .collect(),
            preact_growth: layers
                .clone()
                .map(|k| if standard { 4.0 / k as f64 } else { 1.0 })
                .collect(),
            preact_grad_std: layers
                .clone()
                .map(|k| {
                    if standard {
                        1e-3 * 0.6f64.powi((depth - k) as i32)
                    } else {
                        1e-3
                    }
                })
                .collect(),
            weight_grad_std: layers.map(|_| 2e-3).collect(),
            jacobian: if standard { 0.5 } else { 0.8 },
        }
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn error(mut self, final_error: f64) -> Self {
        self.final_error = final_error;
        self
    }

    pub fn status(mut self, status: &'static str) -> Self {
        self.status = status;
        self
    }

    pub fn config_json(&self) -> String {
        serde_json::json!({
            "dataset": self.dataset, "activation": self.activation, "init": self.init,
            "hidden_layers": self.hidden_layers, "width": WIDTH, "batch_size": 10, "lr": 0.01,
            "updates": self.updates, "seed": self.seed, "probe_every": 1000,
            "updates_per_epoch": self.updates_per_epoch, "device": "cpu", "data": null,
            "data_key": null, "jacobian_examples": 20, "raw_every_epochs": 1
        })
        .to_string()
    }

    /// Probes like the trainer: 0, 1, 10, 100, 1000, then every 1000 up to `updates`.
    pub fn steps(&self) -> Vec<u64> {
        let mut steps: Vec<u64> = [0, 1, 10, 100]
            .into_iter()
            .filter(|&s| s < self.updates)
            .collect();
        steps.extend((1..=self.updates / 1000).map(|e| e * 1000));
        if *steps.last().unwrap() != self.updates {
            steps.push(self.updates);
        }
        steps
    }

    /// The test-error curve: from 0.9 at step 0 down to `final_error` at the last probe.
    pub fn test_errors(&self) -> Vec<f64> {
        let steps = self.steps();
        let last = *steps.last().unwrap() as f64;
        steps
            .iter()
            .map(|&s| self.final_error + (0.9 - self.final_error) * (1.0 - s as f64 / last).powi(2))
            .collect()
    }

    /// Writes `<dir>/run.h5` and returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("run.h5");
        self.write_to(&path)
            .unwrap_or_else(|e| panic!("writing fixture {}: {e}", path.display()));
        path
    }

    fn write_to(&self, path: &Path) -> hdf5::Result<()> {
        let file = hdf5::File::create(path)?;
        for (name, value) in [
            ("config", self.config_json()),
            ("device", "cpu".to_string()),
            ("libtorch", "fixture".to_string()),
            ("status", self.status.to_string()),
        ] {
            let value = VarLenUnicode::from_str(&value).unwrap();
            file.new_attr::<VarLenUnicode>()
                .create(name)?
                .write_scalar(&value)?;
        }
        let steps = self.steps();
        let probes = steps.len();
        let last = *steps.last().unwrap();
        let epoch: Vec<f64> = steps
            .iter()
            .map(|&s| s as f64 / self.updates_per_epoch as f64)
            .collect();
        let errors = self.test_errors();
        let losses: Vec<f64> = errors.iter().map(|e| 2.0 * e).collect();
        let history = file.create_group("history")?;
        write(&history, "step", &steps)?;
        write(&history, "epoch", &epoch)?;
        for name in ["train_loss", "valid_loss", "test_loss"] {
            write(&history, name, &losses)?;
        }
        write(&history, "valid_error", &errors)?;
        write(&history, "test_error", &errors)?;

        let stats = file.create_group("stats")?;
        write(&stats, "step", &steps)?;
        let raw = file.create_group("raw")?;
        let raw_steps = [0, last];
        for s in raw_steps {
            raw.create_group(&format!("step{s}"))?;
        }
        let mut rng = Normal::new(self.seed.wrapping_mul(1_000_003) ^ 0x5eed);
        for k in 1..=self.hidden_layers {
            let layer = stats.create_group(&format!("layer{k}"))?;
            let jacobian = if k < self.hidden_layers {
                self.jacobian
            } else {
                f64::NAN
            };
            write(&layer, "jacobian_sv_mean", &vec![jacobian; probes])?;
            let fan_in = if k == 1 { INPUTS } else { WIDTH };
            for (quantity, rows) in [
                ("activation", PROBE_EXAMPLES),
                ("preact_grad", PROBE_EXAMPLES),
                ("weight_grad", fan_in),
            ] {
                let mut summary = Summary::default();
                for (p, &step) in steps.iter().enumerate() {
                    let progress = step as f64 / last as f64;
                    let values: Vec<f32> = (0..rows * WIDTH)
                        .map(|_| {
                            let z = rng.sample();
                            match quantity {
                                "activation" => {
                                    let scale = self.preact_std[k - 1]
                                        * (1.0 + (self.preact_growth[k - 1] - 1.0) * progress);
                                    activate(self.activation, z * scale) as f32
                                }
                                "preact_grad" => (z * self.preact_grad_std[k - 1]) as f32,
                                _ => (z * self.weight_grad_std[k - 1]) as f32,
                            }
                        })
                        .collect();
                    summary.push(&values, quantity, p == 0);
                    let keep = raw_steps.contains(&step);
                    if keep {
                        let group = raw.group(&format!("step{step}"))?;
                        let group = match group.group(&format!("layer{k}")) {
                            Ok(g) => g,
                            Err(_) => group.create_group(&format!("layer{k}"))?,
                        };
                        let array = Array2::from_shape_vec((rows, WIDTH), values).unwrap();
                        group
                            .new_dataset_builder()
                            .with_data(&array)
                            .create(quantity)?;
                    }
                }
                summary.write(&layer.create_group(quantity)?)?;
            }
        }
        file.close()?;
        Ok(())
    }
}

fn write<T: hdf5::H5Type>(group: &hdf5::Group, name: &str, values: &[T]) -> hdf5::Result<()> {
    group.new_dataset_builder().with_data(values).create(name)?;
    Ok(())
}

fn activate(activation: &str, s: f64) -> f64 {
    match activation {
        "sigmoid" => 1.0 / (1.0 + (-s).exp()),
        "tanh" => s.tanh(),
        "softsign" => s / (1.0 + s.abs()),
        _ => s.max(0.0),
    }
}

/// Per-probe summaries like the trainer's (sample std, linear percentiles, 100-bin counts).
#[derive(Default)]
struct Summary {
    mean: Vec<f64>,
    std: Vec<f64>,
    p02: Vec<f64>,
    p50: Vec<f64>,
    p98: Vec<f64>,
    hist: Vec<f64>,
    edges: Vec<f32>,
}

impl Summary {
    fn push(&mut self, values: &[f32], quantity: &str, first: bool) {
        let mut v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        v.sort_by(f64::total_cmp);
        let pct = |q: f64| {
            let at = q * (v.len() - 1) as f64;
            let (i, f) = (at.floor() as usize, at.fract());
            v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
        };
        if first {
            let (lo, hi) = if quantity == "activation" {
                (-1.0, 1.0)
            } else {
                (-5.0 * std, 5.0 * std)
            };
            self.edges = (0..=BINS)
                .map(|i| (lo + (hi - lo) * i as f64 / BINS as f64) as f32)
                .collect();
        }
        let (lo, hi) = (f64::from(self.edges[0]), f64::from(self.edges[BINS]));
        let mut counts = vec![0.0; BINS];
        for x in &v {
            let bin = (((x - lo) / (hi - lo)) * BINS as f64)
                .floor()
                .clamp(0.0, (BINS - 1) as f64);
            counts[bin as usize] += 1.0;
        }
        self.mean.push(mean);
        self.std.push(std);
        self.p02.push(pct(0.02));
        self.p50.push(pct(0.5));
        self.p98.push(pct(0.98));
        self.hist.extend(counts);
    }

    fn write(&self, group: &hdf5::Group) -> hdf5::Result<()> {
        for (name, values) in [
            ("mean", &self.mean),
            ("std", &self.std),
            ("p02", &self.p02),
            ("p50", &self.p50),
            ("p98", &self.p98),
        ] {
            write(group, name, values)?;
        }
        let hist = ArrayView2::from_shape((self.mean.len(), BINS), &self.hist).unwrap();
        let dataset = group
            .new_dataset_builder()
            .with_data(&hist)
            .create("hist")?;
        dataset
            .new_attr_builder()
            .with_data(self.edges.as_slice())
            .create("edges")?;
        Ok(())
    }
}

/// Standard normal samples: SplitMix64 + Box-Muller, seeded.
struct Normal(u64);

impl Normal {
    fn new(seed: u64) -> Self {
        Normal(seed)
    }

    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn sample(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// The runs of a profile that can draw every figure: Shapeset at depth 5 for every
/// activation x init of the paper, sigmoid at depth 4 for Fig 2, and MNIST tanh for Fig 12.
pub fn full_set() -> Vec<Fixture> {
    vec![
        Fixture::new("shapeset", "sigmoid", "standard", 4).error(0.83),
        Fixture::new("shapeset", "sigmoid", "standard", 5).error(0.82),
        Fixture::new("shapeset", "tanh", "standard", 5).error(0.27),
        Fixture::new("shapeset", "tanh", "standard", 5)
            .error(0.29)
            .seed(1),
        Fixture::new("shapeset", "tanh", "normalized", 5).error(0.16),
        Fixture::new("shapeset", "tanh", "normalized", 5)
            .error(0.15)
            .seed(1),
        Fixture::new("shapeset", "softsign", "standard", 5).error(0.17),
        Fixture::new("shapeset", "softsign", "normalized", 5).error(0.16),
        Fixture::new("mnist", "tanh", "standard", 5).error(0.0176),
        Fixture::new("mnist", "tanh", "normalized", 5).error(0.0164),
    ]
}

/// Writes each fixture into `<root>/<index>/run.h5`.
pub fn write_all(root: &Path, fixtures: &[Fixture]) -> Vec<PathBuf> {
    fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| f.write(&root.join(format!("run{i:02}"))))
        .collect()
}
