//! `shapeset`: the Shapeset-3x2 generator's command line.
//!
//! The last line on stdout is what the pipeline reads: the output path, or
//! `shapeset <key> <path-to-dataset.h5>` for `dataset`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{ensure, Context, Result};
use clap::{Parser, Subcommand};
use data::shapeset;

#[derive(Parser)]
#[command(about = "Shapeset-3x2: 32x32 grey images of one or two shapes in 9 classes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write images OFFSET..OFFSET+COUNT of stream SEED to an HDF5 file (x: u8 [N,1024], y: u8 [N]).
    Generate {
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Draw the first 64 images of stream SEED as a labelled 8x8 PNG sheet (the paper's Fig 1).
    Grid {
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Build the pinned valid/test sets (datasets/shapeset.toml) as a dataset.h5 store entry.
    Dataset {
        #[arg(long)]
        store: PathBuf,
    },
    /// Time the generator and write {images_per_s, per_core, ...} as JSON.
    Bench {
        #[arg(long, default_value_t = 200_000)]
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
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, whatever RUST_BACKTRACE says: the pipeline logs stderr.
            eprintln!("shapeset: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Generate {
            seed,
            count,
            out,
            offset,
        } => {
            ensure!(count > 0, "--count must be at least 1");
            ensure!(
                offset.checked_add(count as u64).is_some(),
                "--offset {offset} + --count {count} overflows the stream index"
            );
            shapeset::write_stream_h5(&out, seed, offset, count)?;
            println!("{}", out.display());
        }
        Command::Grid { seed, out } => {
            shapeset::grid_png(seed, &out)?;
            println!("{}", out.display());
        }
        Command::Dataset { store } => {
            let store = store::Store::open(&store)
                .with_context(|| format!("opening store {}", store.display()))?;
            let (entry, built) = shapeset::artifact::build_dataset(&store)?;
            eprintln!(
                "{}",
                if built {
                    "built"
                } else {
                    "already in the store"
                }
            );
            println!(
                "shapeset {} {}",
                entry.key,
                entry.path(shapeset::artifact::FILE).display()
            );
        }
        Command::Bench {
            count,
            threads,
            seed,
            out,
        } => {
            ensure!(count > 0, "--count must be at least 1");
            ensure!(threads > 0, "--threads must be at least 1");
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
