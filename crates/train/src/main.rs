//! `train`: one training run of the paper's MLP into `<out>/run.h5`, `train select` (a
//! learning-rate selection from trial runs), `train bench`, or `train identity`. Errors follow `spec::cli`: one line, exit 2 for usage, 3 for a `--resume` with nothing to resume from, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use spec::cli::usage;
use spec::RunArgs;
use train::bench::BenchArgs;
use train::front::EngineFlags;
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
    /// Choose one learning rate for a dataset, activation and depth from the trials' run.h5
    /// files of all its inits (spec::selection::RULE). Writes <out>/selection.json and prints
    /// its path.
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
    #[command(flatten)]
    engine: EngineFlags,
    /// Run directory for run.h5, config.json and the checkpoint [default: runs/<run name>,
    /// e.g. runs/shapeset-tanh-normalized-l5-w1000-s0]. Created only once the inputs check out.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write activations.h5 and gradients.h5 in the original Keras replication's layout.
    #[arg(long)]
    export_seed_layout: bool,
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
    let engine = &flags.engine;
    let (file, per_epoch) = engine.load_data(args.dataset, args.batch_size)?;
    let params = args
        .resolve(per_epoch)
        .map_err(|e| usage(format!("{e:#}")))?;
    if flags.export_seed_layout && params.raw_every_epochs == 0 {
        return Err(usage(
            "--export-seed-layout writes raw snapshots, and --raw-every-epochs 0 keeps none",
        ));
    }
    let config = engine.config(params, per_epoch, &trainer::resolve_device(&engine.device)?);
    let options = Options {
        out: flags
            .out
            .unwrap_or_else(|| PathBuf::from("runs").join(config.params.name())),
        resume: engine.resume,
        export_seed_layout: flags.export_seed_layout,
        stop_after: engine.stop_after,
        diverged_ok: engine.diverged_ok,
    };
    train::signals::install()?;
    let path = trainer::run(&config, file, &options)?;
    println!("{}", spec::protocol::path_line(&path));
    Ok(())
}
