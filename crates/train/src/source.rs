//! Where examples come from: the training batches (the Shapeset online stream, or a fixed
//! training split reshuffled each epoch) and the valid/test/probe sets, all held on the
//! device as u8 and converted to f32 there.
//!
//! The batch for step s is a pure function of (seed, s): the Shapeset stream position is
//! s * batch, and a fixed split's order in epoch e is SplitMix64(seed, SHUFFLE + e)'s
//! permutation. A resumed run therefore needs only its step count to continue exactly.

use anyhow::{ensure, Context, Result};
use spec::cli::usage;
use spec::dataset_h5::{Dataset as DatasetFile, Split};
use spec::layout::PROBE_EXAMPLES;
use spec::{Dataset, RunConfig, SHAPESET_EPOCH_UPDATES};
use tch::{Device, Kind, Tensor};

use spec::init::SplitMix64;

/// Stream ids of the run's SplitMix64 generators that are not weight layers.
const SHAPESET_STREAM: u64 = 1 << 32;
const SHUFFLE: u64 = 2 << 32;

/// The seed of the Shapeset training stream of a run of `seed`: the top 32 bits of its
/// SplitMix64 stream 2^32, so it stays below the pinned valid/test seeds.
pub fn shapeset_stream_seed(seed: u64) -> u64 {
    SplitMix64::new(seed, SHAPESET_STREAM).next_u64() >> 32
}

/// Steps whose batches are gathered and converted in one go: fewer, larger kernels.
pub const CHUNK_STEPS: u64 = 100;

/// u8 pixels to the network's input range: Shapeset [-1, 1] (as the original), others [0, 1].
#[derive(Clone, Copy, Debug)]
pub struct InputScale {
    mul: f64,
    add: f64,
}

impl InputScale {
    pub fn for_dataset(dataset: Dataset) -> InputScale {
        match dataset {
            Dataset::Shapeset => InputScale {
                mul: 2.0 / 255.0,
                add: -1.0,
            },
            Dataset::Mnist | Dataset::Cifar10 => InputScale {
                mul: 1.0 / 255.0,
                add: 0.0,
            },
        }
    }

    pub fn convert(self, pixels: &Tensor) -> Tensor {
        pixels.to_kind(Kind::Float) * self.mul + self.add
    }
}

/// A labelled set on the device: `x` u8 `[n, dim]`, `y` i64 `[n]`.
pub struct DeviceSet {
    pub x: Tensor,
    pub y: Tensor,
    pub n: usize,
}

impl DeviceSet {
    pub fn new(split: &Split, dim: usize, device: Device) -> DeviceSet {
        let x = Tensor::from_slice(&split.x)
            .view([split.n as i64, dim as i64])
            .to_device(device);
        let y = Tensor::from_slice(&split.y)
            .to_kind(Kind::Int64)
            .to_device(device);
        DeviceSet { x, y, n: split.n }
    }
}

/// Everything a run reads besides its training batches.
pub struct EvalData {
    pub valid: DeviceSet,
    pub test: DeviceSet,
    /// The first 300 test examples, converted: the fixed probe set of the paper's figures.
    pub probe_x: Tensor,
    pub probe_y: Tensor,
    /// The training split (MNIST/CIFAR-10); None for the Shapeset stream.
    pub train: Option<DeviceSet>,
}

/// Checks a dataset file against the run before anything is allocated or written, and
/// returns the epoch length in updates: 20,000 on the Shapeset stream, else train examples
/// per batch. Without a file only Shapeset can run (its eval sets are generated).
pub fn check(dataset: Dataset, file: Option<&DatasetFile>, batch_size: usize) -> Result<u64> {
    let Some(file) = file else {
        if dataset == Dataset::Shapeset {
            return Ok(SHAPESET_EPOCH_UPDATES);
        }
        return Err(usage(format!(
            "--data FILE (dataset.h5) is required for {dataset}"
        )));
    };
    ensure!(
        file.name == dataset.id(),
        "the data file holds dataset {}, not {dataset}",
        file.name
    );
    let (dim, classes) = (dataset.input_dim(), dataset.classes());
    ensure!(
        file.dim == dim && file.classes == classes,
        "the data file has dim {} and {} classes, {dataset} needs {dim} and {classes}",
        file.dim,
        file.classes
    );
    ensure!(file.valid.n > 0, "the valid split is empty");
    ensure!(
        file.test.n >= PROBE_EXAMPLES,
        "the test split has {} examples, the probes need {PROBE_EXAMPLES}",
        file.test.n
    );
    if dataset == Dataset::Shapeset {
        return Ok(SHAPESET_EPOCH_UPDATES);
    }
    let train = file
        .train
        .as_ref()
        .context("the data file has no train split")?;
    // A batch size of 0 is refused with the other flags; here it must not divide.
    let batch = batch_size.max(1);
    ensure!(
        train.n >= batch,
        "the train split has {} examples, fewer than one batch of {batch_size}",
        train.n
    );
    Ok((train.n / batch) as u64)
}

/// Puts the evaluation sets (and the training split, if any) of `file` on `device`; for
/// Shapeset without a file, generates the pinned valid/test sets. `check` has passed.
pub fn load(config: &RunConfig, file: Option<DatasetFile>, device: Device) -> Result<EvalData> {
    let dataset = config.params.dataset;
    let dim = dataset.input_dim();
    let (train, valid, test) = match file {
        None => {
            let sets = shapeset::eval_sets().context("cannot generate Shapeset eval sets")?;
            (None, sets.valid, sets.test)
        }
        // The Shapeset stream replaces any train split a file has.
        Some(file) => (
            file.train.filter(|_| dataset != Dataset::Shapeset),
            file.valid,
            file.test,
        ),
    };
    let scale = InputScale::for_dataset(dataset);
    let test = DeviceSet::new(&test, dim, device);
    Ok(EvalData {
        probe_x: scale.convert(&test.x.narrow(0, 0, PROBE_EXAMPLES as i64)),
        probe_y: test.y.narrow(0, 0, PROBE_EXAMPLES as i64),
        valid: DeviceSet::new(&valid, dim, device),
        test,
        train: train.map(|t| DeviceSet::new(&t, dim, device)),
    })
}

enum Origin {
    Shapeset {
        stream_seed: u64,
    },
    Fixed {
        set: DeviceSet,
        seed: u64,
        epoch_order: Option<(u64, Vec<i64>)>,
    },
}

/// The training batches, step by step, converted on the device a chunk at a time.
pub struct Batches {
    origin: Origin,
    batch: usize,
    scale: InputScale,
    device: Device,
    next_step: u64,
    chunk: Option<(u64, Tensor, Tensor)>,
}

impl Batches {
    /// The batches of a run, starting at `step` (0 for a new run).
    pub fn new(config: &RunConfig, train: Option<DeviceSet>, step: u64, device: Device) -> Batches {
        let origin = match train {
            // Below 2^32, where datasets/shapeset.toml keeps training streams: the pinned
            // valid/test seeds are above it, so training never replays them.
            None => Origin::Shapeset {
                stream_seed: shapeset_stream_seed(config.params.seed),
            },
            Some(set) => Origin::Fixed {
                set,
                seed: config.params.seed,
                epoch_order: None,
            },
        };
        Batches {
            origin,
            batch: config.params.batch_size,
            scale: InputScale::for_dataset(config.params.dataset),
            device,
            next_step: step,
            chunk: None,
        }
    }

    /// (x f32 `[batch, dim]`, y i64 `[batch]`) for the next step.
    pub fn next_batch(&mut self) -> (Tensor, Tensor) {
        let step = self.next_step;
        let stale = match &self.chunk {
            Some((first, _, _)) => step >= first + CHUNK_STEPS,
            None => true,
        };
        if stale {
            let (x, y) = self.gather(step, CHUNK_STEPS);
            self.chunk = Some((step, self.scale.convert(&x), y));
        }
        let (first, x, y) = self.chunk.as_ref().unwrap();
        let offset = ((step - first) as usize * self.batch) as i64;
        let b = self.batch as i64;
        self.next_step += 1;
        (x.narrow(0, offset, b), y.narrow(0, offset, b))
    }

    /// u8 rows and labels of `steps` consecutive steps from `first`.
    fn gather(&mut self, first: u64, steps: u64) -> (Tensor, Tensor) {
        let batch = self.batch;
        match &mut self.origin {
            Origin::Shapeset { stream_seed } => {
                let count = batch * steps as usize;
                let (x, y) = shapeset::batch(*stream_seed, first * batch as u64, count);
                let x = Tensor::from_slice(&x)
                    .view([count as i64, -1])
                    .to_device(self.device);
                let y = Tensor::from_slice(&y)
                    .to_kind(Kind::Int64)
                    .to_device(self.device);
                (x, y)
            }
            Origin::Fixed {
                set,
                seed,
                epoch_order,
            } => {
                let per_epoch = (set.n / batch) as u64;
                let mut rows = Vec::with_capacity(batch * steps as usize);
                for step in first..first + steps {
                    let epoch = step / per_epoch;
                    if epoch_order.as_ref().is_none_or(|(e, _)| *e != epoch) {
                        let order = SplitMix64::new(*seed, SHUFFLE + epoch).permutation(set.n);
                        *epoch_order = Some((epoch, order));
                    }
                    let order = &epoch_order.as_ref().unwrap().1;
                    let start = (step % per_epoch) as usize * batch;
                    rows.extend_from_slice(&order[start..start + batch]);
                }
                let index = Tensor::from_slice(&rows).to_device(self.device);
                (set.x.index_select(0, &index), set.y.index_select(0, &index))
            }
        }
    }
}
