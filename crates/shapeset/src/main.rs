//! `shapeset`: the Shapeset-3x2 generator's command line.
//!
//! The last line on stdout is what the pipeline reads: the output path, or
//! `shapeset <key> <path-to-dataset.h5>` for `dataset` (`spec::protocol::DatasetLine`).
//! Any failure is one line on stderr, `shapeset: error: ...`, exit 2 for a wrong command
//! line and 1 otherwise, and leaves no temp file. The Fig 1 sample sheet is drawn by
//! `figures`, which owns every picture.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use spec::cli::usage;
use spec::protocol::{path_line, DatasetLine};

#[derive(Parser)]
#[command(about = "Shapeset-3x2: 32x32 grey images of one or two shapes in 9 classes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show the whole error chain.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Write images OFFSET..OFFSET+COUNT of stream SEED to an HDF5 file (x: u8 [N,1024], y: u8 [N]).
    Generate {
        #[arg(long)]
        seed: u64,
        /// Number of images: an integer, or in scientific notation (1e6).
        #[arg(long, value_parser = parse_count)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Build the pinned valid/test sets (datasets/shapeset.toml) as a dataset.h5 store entry.
    Dataset {
        #[arg(long)]
        store: PathBuf,
    },
    /// Time the generator and write {images_per_s, per_core, ...} as JSON.
    Bench {
        #[arg(long, default_value_t = 200_000, value_parser = parse_count)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        threads: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    spec::cli::main("shapeset", |cli: Cli| run(cli.command))
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Generate {
            seed,
            count,
            out,
            offset,
        } => {
            shapeset::remove_temp_files_on_signal("shapeset")?;
            shapeset::write_stream_h5(&out, seed, offset, count)?;
            println!("{}", path_line(&out));
        }
        Command::Dataset { store } => dataset(&store)?,
        Command::Bench {
            count,
            threads,
            seed,
            out,
        } => {
            if count == 0 || threads == 0 {
                let flag = if count == 0 { "--count" } else { "--threads" };
                return Err(usage(format!("{flag} must be at least 1")));
            }
            let report = shapeset::bench::bench(count, threads, seed)?;
            let json = serde_json::to_string_pretty(&report)?;
            if let Some(out) = &out {
                store::atomic::write_atomic(out, format!("{json}\n").as_bytes())?;
            }
            println!("{json}");
        }
    }
    Ok(())
}

fn dataset(store: &std::path::Path) -> Result<()> {
    let store =
        store::Store::open(store).with_context(|| format!("opening store {}", store.display()))?;
    let (entry, built) = shapeset::artifact::build_dataset(&store)?;
    eprintln!(
        "{}",
        if built {
            "built"
        } else {
            "already in the store (checked)"
        }
    );
    let line = DatasetLine {
        dataset: spec::Dataset::Shapeset,
        key: entry.key.to_string(),
        path: entry.path(shapeset::artifact::FILE),
    };
    println!("{}", line.format());
    Ok(())
}

/// A count of images: `300`, `1_000_000` or `1e6`. Scientific notation must name a whole
/// number (`1.5e3` is fine, `1.5e0` is not).
fn parse_count(text: &str) -> Result<usize, String> {
    let plain = text.replace('_', "");
    if let Ok(n) = plain.parse::<usize>() {
        return Ok(n);
    }
    let value: f64 = plain
        .parse()
        .ok()
        .filter(|_| plain.contains(['e', 'E']))
        .ok_or_else(|| format!("{text:?} is not a count of images"))?;
    let whole = value.is_finite() && value >= 0.0 && value.fract() == 0.0;
    if !whole || value >= usize::MAX as f64 {
        return Err(format!(
            "{text:?} is not a count of images this machine can address"
        ));
    }
    Ok(value as usize)
}
