//! `train-pack`: trains the runs of a `--runs` file as one pack, each into
//! `<out>/<run name>/` exactly as `train` would write it; `train-pack bench`;
//! `train-pack memory`. Errors follow `spec::cli`: one line, exit 2 for usage,
//! 3 for a `--resume` with nothing to resume from, 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use spec::cli::usage;
use spec::RunConfig;
use train::front::EngineFlags;
use train::pack::bench::BenchArgs;
use train::pack::compare::{compare, Tolerance};
use train::pack::member::Layout;
use train::pack::members::{self, Members};
use train::pack::trainer::{self, Outcome};

/// Trains K runs of one shape in one process (weights [K, in, out], one batched GEMM per
/// layer for all K) and writes each run's run.h5 as `train` would.
///
/// The runs file is a JSON list of run parameters (the fields of a run's config.json
/// without device, data, data_key and updates_per_epoch), e.g.
/// [{"dataset": "shapeset", "activation": "tanh", "init": "normalized", "hidden_layers": 5,
///   "width": 1000, "batch_size": 10, "lr": 0.01, "updates": 20000, "seed": 0,
///   "probe_every": 20000, "jacobian_examples": 20, "eval_examples": 0, "raw_every_epochs": 1}, ...].
/// The runs may differ only in seed, init and lr; activations are grouped (one per pack).
///
/// Output: <out>/<run name>/{run.h5, config.json, timing.json} per run. The last stdout
/// line is one JSON object {"runs": [{"name", "run_h5", "status"}, ...]}, printed whenever
/// the pack trained to its end; the exit code is 1 if any run failed (its run.h5 says
/// `failed: <reason>`; the others are complete), 0 with --diverged-ok when the others
/// diverged (`diverged: <reason>`). While it trains, each run's checkpoints are under
/// <out>/<run name>/checkpoint/, from which --resume continues the pack (exit 3 when it
/// cannot).
#[derive(Parser)]
#[command(
    name = "train-pack",
    version,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    pack: PackArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Time pack steps (model-updates/s) for several K, the Shapeset producer, and print
    /// the memory model, as JSON lines.
    Bench(BenchArgs),
    /// Print the memory model of a runs file's shape as one JSON line: bytes per model,
    /// fixed bytes, and the largest pack that fits in --memory-gb.
    Memory {
        #[arg(long)]
        runs: PathBuf,
        #[arg(long)]
        memory_gb: f64,
    },
    /// Check that two run.h5 files of the same run agree: the same attributes and datasets,
    /// every value within --relative x its dataset's largest magnitude, histogram rows
    /// within --histogram of their counts. Prints `same` or fails naming the first mismatch.
    Compare {
        a: PathBuf,
        b: PathBuf,
        #[arg(long, default_value_t = Tolerance::CPU.relative)]
        relative: f64,
        #[arg(long, default_value_t = Tolerance::CPU.histogram)]
        histogram: f64,
    },
}

#[derive(Args)]
struct PackArgs {
    /// JSON list of run parameters (see above).
    #[arg(long, required = true)]
    runs: Option<PathBuf>,
    /// Directory that receives one run directory per run, named by the run's name.
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Device memory in GB: a pack that cannot fit is refused before training starts
    /// [default: MemAvailable on the CPU; unchecked on CUDA, where libtorch cannot tell].
    #[arg(long)]
    memory_gb: Option<f64>,
    #[command(flatten)]
    engine: EngineFlags,
}

fn main() -> ExitCode {
    // Before any tensor exists: the same key gives the same bytes on every x86-64 CPU.
    train::kernels::pin();
    spec::cli::main("train-pack", |cli: Cli| match cli.command {
        Some(Command::Bench(args)) => train::pack::bench::run(&args),
        Some(Command::Memory { runs, memory_gb }) => memory(&runs, memory_gb),
        Some(Command::Compare {
            a,
            b,
            relative,
            histogram,
        }) => {
            compare(
                &a,
                &b,
                Tolerance {
                    relative,
                    histogram,
                },
            )?;
            println!("same");
            Ok(())
        }
        None => train_pack(cli.pack),
    })
}

fn memory(runs: &Path, memory_gb: f64) -> Result<()> {
    let members = Members::read(runs).map_err(|e| usage(format!("{e:#}")))?;
    let run = members.shared();
    let bytes = (memory_gb * 1e9) as u64;
    let line = json!({
        "bytes_per_model": members::bytes_per_model(run),
        "fixed_bytes": members::fixed_bytes(run),
        "memory_bytes": bytes,
        "max_models": members::max_models(run, bytes),
    });
    println!("{line}");
    Ok(())
}

fn train_pack(args: PackArgs) -> Result<()> {
    let engine = &args.engine;
    let (runs, out) = (args.runs.unwrap(), args.out.unwrap());
    let members = Members::read(&runs).map_err(|e| usage(format!("{e:#}")))?;
    let shared = members.shared();
    let (file, per_epoch) = engine.load_data(shared.dataset, shared.batch_size)?;
    let device = train::trainer::resolve_device(&engine.device)?;
    train::trainer::device(&device)?;
    if let Some(memory) = memory_bytes(args.memory_gb, &device) {
        members::check_fits(&members, memory)?;
    }
    let configs: Vec<RunConfig> = members
        .runs
        .iter()
        .map(|params| engine.config(params.clone(), per_epoch, &device))
        .collect();
    train::signals::install()?;
    let options = engine.options(Layout::PerModel, false);
    let Some(outcomes) = trainer::run(&configs, file, &out, options)? else {
        return Ok(());
    };
    let line = spec::protocol::PackLine { runs: outcomes };
    println!("{}", line.format());
    failures(&line.runs, engine.diverged_ok)
}

/// The memory a pack may use: --memory-gb, else the CPU's MemAvailable.
fn memory_bytes(memory_gb: Option<f64>, device: &str) -> Option<u64> {
    if let Some(gb) = memory_gb {
        return Some((gb * 1e9) as u64);
    }
    if device != "cpu" {
        return None;
    }
    spec::device::cpu_memory_available()
}

/// An error naming the models that failed; a model that diverged under `--diverged-ok` has a
/// result, not a failure.
fn failures(outcomes: &[Outcome], diverged_ok: bool) -> Result<()> {
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status != spec::layout::STATUS_COMPLETE)
        .filter(|o| !(diverged_ok && o.status.starts_with(spec::layout::STATUS_DIVERGED)))
        .map(|o| format!("{} ({})", o.name, o.status))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} of {} runs failed: {}",
        failed.len(),
        outcomes.len(),
        failed.join(", ")
    )
}
