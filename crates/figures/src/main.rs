//! `figures`: renders the figures, Table 1 and REPORT.md from recordings (`figures render`).
//! Errors follow `spec::cli`: one line, exit 2 for usage, 1 otherwise.

use clap::{Args, Parser, Subcommand};
use figures::render::render;
use spec::FigureId;
use std::path::PathBuf;
use std::process::ExitCode;

/// Renders the paper's figures, Table 1 and REPORT.md from run.h5 recordings.
#[derive(Parser)]
#[command(name = "figures", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render figures (PNG + SVG), table1.md/.csv and REPORT.md into --out.
    Render(RenderArgs),
}

#[derive(Args)]
struct RenderArgs {
    /// A directory searched recursively for run.h5, or a JSON file {"runs": ["path/run.h5", ...],
    /// "trials": [...]} (relative paths are relative to the JSON file; "trials", the
    /// learning-rate trials, are drawn only by lr-select).
    #[arg(long)]
    runs: PathBuf,
    /// Output directory (created if missing, once the inputs are read).
    #[arg(long)]
    out: PathBuf,
    /// Make only these outputs (repeatable); a missing run is then an error. Default:
    /// everything whose runs exist, skipping the rest with a line each.
    #[arg(long, value_enum)]
    only: Vec<FigureId>,
    /// Figure width in pixels (Fig 1 keeps the sample sheet's own size).
    #[arg(long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(320..=8000))]
    width: u32,
    /// Figure height in pixels.
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u32).range(240..=8000))]
    height: u32,
}

fn main() -> ExitCode {
    spec::cli::main("figures", |cli: Cli| {
        let Command::Render(args) = cli.command;
        render(&args.runs, &args.out, &args.only, (args.width, args.height))?;
        println!("{}", spec::protocol::path_line(&args.out));
        Ok(())
    })
}
