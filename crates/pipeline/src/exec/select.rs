//! Select stages: `train select --trials runs.json --out <entry being built>`, which applies
//! [`spec::selection::choose`] to the recordings of a rate group's trials (every init of one
//! dataset, activation and depth) and writes `selection.json`; the final runs of every init
//! of the group are keyed on this one entry and trained at its rate.

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

/// The parameters stage `i` trains with: its run, at the rate its group's selection chose
/// where the profile selects it (its select stage, whose result `results` must hold).
pub fn trained_run(plan: &Plan, i: usize, results: &[Option<StageResult>]) -> Result<RunParams> {
    let stage = &plan.stages[i];
    let Kind::Train { run, .. } = &stage.kind else {
        bail!("{} is not a training run", stage.name);
    };
    let rate = match run.lr {
        Lr::Fixed(rate) | Lr::Trial(rate) => rate,
        Lr::Selected { select } => {
            let selection = results[select]
                .as_ref()
                .with_context(|| format!("{} lacks its selection", stage.name))?;
            chosen_lr(selection)?
        }
    };
    Ok(run.clone().with_lr(rate))
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
