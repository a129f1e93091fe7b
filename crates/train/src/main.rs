//! `train`: one training run of the paper's MLP into `<out>/run.h5`, `train select` (a
//! learning-rate selection from trial runs), `train bench`, or `train identity`. Errors follow `spec::cli`: one line, exit 2 for usage, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use spec::cli::usage;
use spec::{RunArgs, RunConfig};
use train::bench::BenchArgs;
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
    run: Option<RunArgs>,
    #[command(flatten)]
    flags: TrainFlags,
}

#[derive(Subcommand)]
enum Command {
    /// Choose a configuration's learning rate from its trials' run.h5 files: the lowest
    /// validation error at their end. Writes <out>/selection.json and prints its path.
    Select(train::select::SelectArgs),
    /// Time SGD steps of the 5x1000 tanh net on the CPU (examples/s), as JSON lines.
    Bench(BenchArgs),
    /// Print what this binary is built from, as one JSON line: tch, libtorch and HDF5
    /// versions, whether CUDA is visible, and the device classes runs can be keyed on.
    Identity,
}

/// `train`'s own flags: where a run reads, writes and runs, none of which changes its numbers.
#[derive(Args)]
struct TrainFlags {
    /// auto (CUDA if visible, else CPU), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
    /// dataset.h5 to train on; required for mnist and cifar10. Shapeset without it
    /// generates its pinned valid/test sets in memory.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run directory for run.h5, config.json and the checkpoint [default: runs/<run name>,
    /// e.g. runs/shapeset-tanh-normalized-l5-w1000-s0]. Created only once the inputs check out.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue from the checkpoint in --out (same flags required).
    #[arg(long)]
    resume: bool,
    /// Stop after the first checkpoint (probe) at or past this update, for time-sliced
    /// jobs; run.h5 then says `failed: interrupted ...` until a --resume completes it.
    #[arg(long)]
    stop_after: Option<u64>,
    /// A non-finite loss ends the run as a result (run.h5 status `diverged: ...`, exit 0)
    /// instead of an error: for learning-rate trials, where a rate that diverges has lost.
    #[arg(long)]
    diverged_ok: bool,
    /// Also write activations.h5 and gradients.h5 in the original Keras replication's layout.
    #[arg(long)]
    export_seed_layout: bool,
    /// CPU threads for libtorch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=1024))]
    threads: i32,
    /// On failure, print the whole error chain instead of one line.
    #[arg(short, long, global = true)]
    verbose: bool,
}

fn main() -> ExitCode {
    // Before any tensor exists: the same key gives the same bytes on every x86-64 CPU.
    train::kernels::pin();
    spec::cli::main("train", |cli: Cli| match cli.command {
        Some(Command::Bench(args)) => train::bench::run(&args),
        Some(Command::Select(args)) => {
            let path = train::select::run(&args)?;
            println!("{}", spec::protocol::path_line(&path));
            Ok(())
        }
        Some(Command::Identity) => {
            println!("{}", train::identity::identity());
            Ok(())
        }
        None => {
            let run = cli
                .run
                .ok_or_else(|| usage("give --dataset, --activation, --init and --updates"))?;
            train_run(&run, cli.flags)
        }
    })
}

fn train_run(args: &RunArgs, flags: TrainFlags) -> Result<()> {
    tch::set_num_threads(flags.threads);
    let file = flags
        .data
        .as_deref()
        .map(spec::dataset_h5::read_h5)
        .transpose()?;
    let checked = train::source::check(args.dataset, file.as_ref(), args.batch_size);
    let per_epoch = match &flags.data {
        Some(path) => checked.with_context(|| format!("dataset file {}", path.display()))?,
        None => checked?,
    };
    let params = args
        .resolve(per_epoch)
        .map_err(|e| usage(format!("{e:#}")))?;
    if flags.export_seed_layout && params.raw_every_epochs == 0 {
        return Err(usage(
            "--export-seed-layout writes raw snapshots, and --raw-every-epochs 0 keeps none",
        ));
    }
    let data_key = flags.data.as_deref().and_then(store::Key::of_entry_file);
    let config = RunConfig {
        updates_per_epoch: per_epoch,
        device: trainer::resolve_device(&flags.device)?,
        data: flags.data.as_ref().map(|p| p.display().to_string()),
        data_key: data_key.map(|k| k.to_string()),
        params,
    };
    let options = Options {
        out: flags
            .out
            .unwrap_or_else(|| PathBuf::from("runs").join(config.params.name())),
        resume: flags.resume,
        export_seed_layout: flags.export_seed_layout,
        stop_after: flags.stop_after,
        diverged_ok: flags.diverged_ok,
    };
    train::signals::install()?;
    let path = trainer::run(&config, file, &options)?;
    println!("{}", spec::protocol::path_line(&path));
    Ok(())
}
