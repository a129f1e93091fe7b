//! `train`: one training run of the paper's MLP into `<out>/run.h5`, or `train bench`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{ArgGroup, Args, Parser, Subcommand};
use data::dataset::Dataset;
use train::bench::BenchArgs;
use train::config::{Activation, DatasetName, Init, RunConfig, SHAPESET_EPOCH_UPDATES};
use train::trainer::{self, Options};

/// Trains the MLPs of Glorot & Bengio (2010) with plain SGD and records activations,
/// gradients, Jacobian singular values and errors into run.h5.
#[derive(Parser)]
#[command(
    name = "train",
    version,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Time SGD steps of the 5x1000 tanh net on the CPU (examples/s), as JSON lines.
    Bench(BenchArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("length").required(true).args(["updates", "epochs"])))]
struct RunArgs {
    /// Dataset: the Shapeset-3x2 online stream, MNIST or CIFAR-10.
    #[arg(long, value_enum, required = true)]
    dataset: Option<DatasetName>,
    /// Hidden-layer non-linearity.
    #[arg(long, value_enum, required = true)]
    activation: Option<Activation>,
    /// Weight init: standard U[-1/sqrt(fan_in), ..] (eq. 1) or normalized (eq. 16, alias xavier).
    #[arg(long, value_enum, required = true)]
    init: Option<Init>,
    /// Number of hidden layers.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=5))]
    hidden_layers: u8,
    /// Units per hidden layer.
    #[arg(long, default_value_t = 1000)]
    width: usize,
    /// Examples per SGD update.
    #[arg(long, default_value_t = 10)]
    batch_size: usize,
    /// Learning rate [default: 0.1 for sigmoid, 0.01 for tanh, softsign and relu; untuned,
    /// the paper picked it on validation error].
    #[arg(long)]
    lr: Option<f64>,
    /// Number of SGD updates.
    #[arg(long)]
    updates: Option<u64>,
    /// Number of epochs (Shapeset: 20,000 updates each; MNIST/CIFAR-10: train examples / batch).
    #[arg(long)]
    epochs: Option<u64>,
    /// Seed of the weights, the example order and the Shapeset training stream.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// auto (CUDA if visible, else CPU), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Updates between probes [default: one epoch]; probes also run at steps 0, 1, 10, 100, 1000 and the last.
    #[arg(long)]
    probe_every: Option<u64>,
    /// dataset.h5 to train on; required for mnist and cifar10. Shapeset without it
    /// generates its pinned valid/test sets in memory.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run directory for run.h5, config.json and the checkpoint [default: runs/<dataset>-<activation>-<init>-L<layers>-s<seed>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue from the checkpoint in --out (same flags required).
    #[arg(long)]
    resume: bool,
    /// Stop after the first checkpoint (probe) at or past this update, for time-sliced
    /// jobs; run.h5 then says `failed: interrupted ...` until a --resume completes it.
    #[arg(long)]
    stop_after: Option<u64>,
    /// Also write activations.h5 and gradients.h5 in the original Keras replication's layout.
    #[arg(long)]
    export_seed_layout: bool,
    /// Probe examples whose Jacobian singular values are averaged: each costs one
    /// width x width eigensolve per layer (65 ms on a CPU core at width 1000).
    #[arg(long, default_value_t = 5)]
    jacobian_examples: usize,
    /// Keep raw activation/gradient arrays at every this-many epoch boundaries (and at steps 0 and last).
    #[arg(long, default_value_t = 1)]
    raw_every_epochs: u64,
    /// CPU threads for libtorch.
    #[arg(long, default_value_t = 1)]
    threads: i32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Bench(args)) => train::bench::run(&args),
        None => train_run(cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("train: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn train_run(args: RunArgs) -> Result<()> {
    tch::set_num_threads(args.threads.max(1));
    let (dataset_name, activation, init) = (
        args.dataset.context("--dataset is required")?,
        args.activation.context("--activation is required")?,
        args.init.context("--init is required")?,
    );
    let dataset = args
        .data
        .as_deref()
        .map(data::dataset::read_h5)
        .transpose()?;
    let updates_per_epoch = match (&dataset, dataset_name) {
        (_, DatasetName::Shapeset) => SHAPESET_EPOCH_UPDATES,
        (
            Some(Dataset {
                train: Some(train), ..
            }),
            _,
        ) => (train.n / args.batch_size.max(1)) as u64,
        (Some(_), _) => anyhow::bail!("{} has no train split", args.data.unwrap().display()),
        (None, other) => anyhow::bail!(
            "--data FILE (dataset.h5) is required for {}",
            other.as_str()
        ),
    };
    let device = match args.device.as_str() {
        "auto" if tch::Cuda::is_available() => "cuda:0".to_string(),
        "auto" => "cpu".to_string(),
        "cuda" => "cuda:0".to_string(),
        other => other.to_string(),
    };
    let config = RunConfig {
        dataset: dataset_name,
        activation,
        init,
        hidden_layers: usize::from(args.hidden_layers),
        width: args.width,
        batch_size: args.batch_size,
        lr: args.lr.unwrap_or_else(|| activation.default_lr()),
        updates: args
            .updates
            .unwrap_or_else(|| args.epochs.unwrap_or(1) * updates_per_epoch),
        seed: args.seed,
        probe_every: args.probe_every.unwrap_or(updates_per_epoch),
        updates_per_epoch,
        device,
        data: args.data.as_ref().map(|p| p.display().to_string()),
        data_key: args.data.as_deref().and_then(store_key_of),
        jacobian_examples: args.jacobian_examples,
        raw_every_epochs: args.raw_every_epochs,
    };
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from("runs").join(
            format!(
                "{}-{:?}-{:?}-L{}-s{}",
                config.dataset.as_str(),
                config.activation,
                config.init,
                config.hidden_layers,
                config.seed
            )
            .to_lowercase(),
        )
    });
    let options = Options {
        out,
        resume: args.resume,
        export_seed_layout: args.export_seed_layout,
        stop_after: args.stop_after,
    };
    let path = trainer::run(&config, dataset, &options)?;
    println!("{}", path.display());
    Ok(())
}

/// The store key of a dataset file inside a store entry (`<root>/<ab>/<key>/dataset.h5`).
fn store_key_of(path: &Path) -> Option<String> {
    let dir = path
        .canonicalize()
        .ok()?
        .parent()?
        .file_name()?
        .to_str()?
        .to_string();
    let is_key = dir.len() == 64
        && dir
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    is_key.then_some(dir)
}
