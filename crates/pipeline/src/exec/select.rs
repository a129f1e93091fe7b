//! Select stages: `train select --trials runs.json --out <entry being built>`, which applies
//! [`spec::selection::choose`] to the trials' recordings and writes `selection.json`; the
//! final runs of the configuration are keyed on this entry and trained at its rate.

use super::render::build_reading;
use super::Job;
use crate::plan::{Kind, Lr, Plan, StageResult};
use anyhow::{bail, Context as _, Result};
use spec::protocol::RunsFile;
use spec::selection::{Selection, SELECTION_FILE};
use spec::RunParams;

pub(super) fn run(job: &Job<'_>, trials: &[(&str, &StageResult)]) -> Result<Option<StageResult>> {
    let file = RunsFile {
        runs: trials.iter().map(|(_, t)| t.output.clone()).collect(),
        trials: Vec::new(),
    };
    build_reading(
        job,
        trials,
        &file,
        "train",
        SELECTION_FILE,
        |runs_json, dir| {
            vec![
                "select".into(),
                "--trials".into(),
                runs_json.into(),
                "--out".into(),
                dir.into(),
            ]
        },
    )
}

/// The parameters stage `i` trains with: its run, at the rate its selection chose where the
/// profile selects it (its select stage, whose result `results` must hold).
pub fn trained_run(plan: &Plan, i: usize, results: &[Option<StageResult>]) -> Result<RunParams> {
    let stage = &plan.stages[i];
    let Kind::Train { run, lr, .. } = &stage.kind else {
        bail!("{} is not a training run", stage.name);
    };
    let mut run = run.clone();
    if let Lr::Selected { select } = *lr {
        let selection = results[select]
            .as_ref()
            .with_context(|| format!("{} lacks its selection", stage.name))?;
        run.lr = chosen_lr(selection)?;
    }
    Ok(run)
}

/// The rate a select stage chose, from its entry.
fn chosen_lr(selection: &StageResult) -> Result<f64> {
    let path = &selection.output;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let selection: Selection =
        serde_json::from_str(&text).with_context(|| format!("bad selection {}", path.display()))?;
    Ok(selection.chosen_lr)
}
