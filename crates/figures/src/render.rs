//! `figures render`: load the runs, decide what to make, make it, and say what was skipped.
//!
//! Without `--only`, an output whose runs are missing is skipped with one line on stderr.
//! With `--only`, the caller asked for that output, so a missing run is an error, found
//! before anything is written (not even `--out` is created). Every file is written
//! temp-then-rename, so a failure leaves finished files or none, never a half-made one.

use crate::figs::{definition, Figure};
use crate::runs::Catalog;
use anyhow::{bail, Context, Result};
use spec::FigureId;
use std::path::{Path, PathBuf};

/// Makes `only` (everything when empty) in `out`; returns the files written.
pub fn render(
    runs: &Path,
    out: &Path,
    only: &[FigureId],
    size: (u32, u32),
) -> Result<Vec<PathBuf>> {
    let catalog = Catalog::load(runs)?;
    let outputs = plan(&catalog, only)?;
    std::fs::create_dir_all(out)
        .with_context(|| format!("--out {}: cannot create", out.display()))?;
    let mut written = Vec::new();
    for output in outputs {
        let id = output.id();
        let files = output
            .render(&catalog, out, size)
            .with_context(|| format!("rendering {id}"))?;
        let names: Vec<String> = files
            .iter()
            .filter_map(|f| Some(f.file_name()?.to_string_lossy().into_owned()))
            .collect();
        println!("{id}: {}", names.join(" "));
        written.extend(files);
    }
    Ok(written)
}

/// The outputs to make, in `FigureId` order (the report last).
fn plan(catalog: &Catalog, only: &[FigureId]) -> Result<Vec<&'static dyn Figure>> {
    let mut ids = if only.is_empty() {
        FigureId::ALL.to_vec()
    } else {
        only.to_vec()
    };
    ids.sort();
    ids.dedup();
    let mut outputs = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        let output = definition(id);
        match output.requirement(catalog) {
            Ok(()) => outputs.push(output),
            Err(why) if only.is_empty() => eprintln!("skipping {id}: {why}"),
            Err(why) => missing.push(format!("cannot make {id}: {why}")),
        }
    }
    if !missing.is_empty() {
        bail!("{}", missing.join("; "));
    }
    Ok(outputs)
}
