//! `figures render`: load the runs, make each requested output whose inputs exist, and say
//! which were skipped and why.

use crate::figs;
use crate::report;
use crate::runs::Catalog;
use crate::table::Table1;
use crate::target::Target;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Every output, in the order they are made.
pub fn all_targets() -> Vec<Target> {
    Target::FIGURES
        .into_iter()
        .chain([Target::Table1, Target::Report])
        .collect()
}

/// Makes `targets` (all when empty) in `out`; returns the files written. A target whose
/// runs are missing is skipped with one line on stderr.
pub fn render(
    runs: &Path,
    out: &Path,
    targets: &[Target],
    size: (u32, u32),
) -> Result<Vec<PathBuf>> {
    let catalog = Catalog::load(runs)?;
    std::fs::create_dir_all(out)
        .with_context(|| format!("--out {}: cannot create", out.display()))?;
    let mut targets = if targets.is_empty() {
        all_targets()
    } else {
        targets.to_vec()
    };
    targets.sort();
    targets.dedup();
    let mut written = Vec::new();
    for target in targets {
        if let Err(missing) = target.requirement(&catalog) {
            eprintln!("skipping {}: {missing}", target.id());
            continue;
        }
        let files = match target {
            Target::Table1 => Table1::build(&catalog)?.write(out)?,
            Target::Report => vec![report::write(&catalog, out)?],
            figure => figs::render(figure, &catalog, out, size)
                .with_context(|| format!("rendering {}", figure.id()))?,
        };
        let names: Vec<String> = files
            .iter()
            .filter_map(|f| Some(f.file_name()?.to_string_lossy().into_owned()))
            .collect();
        println!("{}: {}", target.id(), names.join(" "));
        written.extend(files);
    }
    Ok(written)
}
