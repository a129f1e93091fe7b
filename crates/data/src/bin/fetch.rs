//! `fetch`: download (or import) MNIST or CIFAR-10, verify every byte against the dataset
//! manifest, decode it and store `dataset.h5`.
//!
//! The last line on stdout is what the pipeline reads: `<dataset> <key> <path-to-dataset.h5>`.
//! Any failure prints one line on stderr and exits non-zero, leaving no store entry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{ensure, Result};
use clap::Parser;
use data::fetch::{fetch, Origin};
use data::manifest::{Builtin, Manifest};
use store::Store;

#[derive(Parser)]
#[command(about = "Fetch a dataset into the store, verified against its manifest")]
struct Cli {
    dataset: Builtin,
    /// Store root.
    #[arg(long)]
    store: PathBuf,
    /// Base URL to try instead of the manifest's URLs (repeatable, tried in order); the
    /// file name is appended.
    #[arg(long = "mirror", value_name = "URL")]
    mirrors: Vec<String>,
    /// Import the files from this directory instead of downloading: the published files
    /// (e.g. *.gz, the CIFAR tar.gz) or their unpacked members (raw IDX, *.bin).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["mirrors", "cache"])]
    from: Option<PathBuf>,
    /// Download cache [default: <store>/downloads].
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Use this manifest instead of the built-in one (tests serve fixtures with their own hashes).
    #[arg(long, value_name = "FILE", hide = true)]
    manifest: Option<PathBuf>,
}

fn run(cli: Cli) -> Result<()> {
    let builtin = cli.dataset.manifest();
    let manifest = match &cli.manifest {
        Some(path) => Manifest::load(path)?,
        None => builtin.clone(),
    };
    ensure!(
        manifest.dataset == builtin.dataset,
        "manifest describes dataset {}, not {}",
        manifest.dataset,
        builtin.dataset
    );
    let store = Store::open(&cli.store)?;
    let origin = match cli.from {
        Some(dir) => Origin::Import { dir },
        None => Origin::Download {
            cache: cli.cache.unwrap_or_else(|| cli.store.join("downloads")),
            mirrors: cli.mirrors,
        },
    };
    let fetched = fetch(&manifest, &store, &origin)?;
    println!(
        "{} {} {}",
        manifest.dataset,
        fetched.key,
        fetched.path.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, whatever the underlying libraries put in their messages.
            let message = format!("{err:#}").replace('\n', " ");
            eprintln!("fetch: error: {message}");
            ExitCode::FAILURE
        }
    }
}
