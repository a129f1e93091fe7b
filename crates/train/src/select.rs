//! `train select`: the learning-rate selection of one rate group (a dataset, activation and
//! depth: every init of the activation shares the rate), from its trials' recordings
//! ([`spec::selection::choose`] is the rule), into `<out>/selection.json`.

use anyhow::{ensure, Context, Result};
use clap::Args;
use spec::protocol::RunsFile;
use spec::run_h5::RunFile;
use spec::selection::{choose, RateGroup, SELECTION_FILE};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct SelectArgs {
    /// runs.json listing the trials' run.h5 files (under `runs`): one dataset, activation and
    /// depth, every init of it at every rate of the grid, the same seeds and updates.
    #[arg(long)]
    trials: PathBuf,
    /// Directory to write selection.json into (created).
    #[arg(long)]
    out: PathBuf,
}

/// Reads every trial, chooses, writes selection.json and returns its path.
pub fn run(args: &SelectArgs) -> Result<PathBuf> {
    let paths = RunsFile::read(&args.trials)?.runs;
    ensure!(
        !paths.is_empty(),
        "{} lists no trial",
        args.trials.display()
    );
    let mut trials = Vec::new();
    let mut shape = None;
    for path in &paths {
        let file = RunFile::open(path)?;
        let params = file.config()?.params;
        let this = (RateGroup::of(&params.selector()), params.updates);
        let first = *shape.get_or_insert(this);
        ensure!(
            first == this,
            "{}: trials of {} ({} updates) and {} ({} updates) cannot share a rate",
            path.display(),
            first.0,
            first.1,
            this.0,
            this.1
        );
        trials.push(file.trial()?);
    }
    let (group, updates) = shape.expect("at least one trial");
    let selection = choose(group, updates, trials)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let path = args.out.join(SELECTION_FILE);
    write(&path, &serde_json::to_string_pretty(&selection)?)?;
    let undecided = if selection.undecided {
        " (undecided: the largest of the tied rates)"
    } else {
        ""
    };
    eprintln!(
        "train: {group}: learning rate {}{undecided}",
        selection.chosen_lr
    );
    Ok(path)
}

fn write(path: &Path, text: &str) -> Result<()> {
    store::atomic::write_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
