//! What the plan's training stages cost when they were built, read from the store: each
//! stage's wall time (`stage.json`'s `seconds`, from the start of the child process to its
//! exit) and the part of it spent in SGD (`timing.json`'s `train_s`). `paper plan` prints it
//! under the prediction; README's profile table quotes it (issue 24: fixed per-run costs must
//! not eat short runs).

use super::report::human;
use super::Group;
use crate::plan::{Kind, Plan, StageResult};
use serde::Deserialize;
use std::fmt::Write as _;
use store::Store;

/// The training stages of one group that the store holds with their timings.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub group: Group,
    pub stages: usize,
    pub wall_s: f64,
    pub sgd_s: f64,
    /// The lowest share of any one stage.
    pub lowest_share: f64,
}

impl Measured {
    pub fn share(&self) -> f64 {
        self.sgd_s / self.wall_s
    }
}

#[derive(Deserialize)]
struct StageSeconds {
    seconds: f64,
}

#[derive(Deserialize)]
struct TrainSeconds {
    train_s: f64,
}

/// One stage's (wall, SGD) seconds; None when the entry lacks either file.
fn stage_seconds(store: &Store, result: &StageResult) -> Option<(f64, f64)> {
    let dir = store.entry_dir(&result.output_key);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let stage: StageSeconds = serde_json::from_str(&read("stage.json")?).ok()?;
    let timing: TrainSeconds = serde_json::from_str(&read("timing.json")?).ok()?;
    (stage.seconds > 0.0).then_some((stage.seconds, timing.train_s))
}

/// Trials and final runs, as far as the store holds them (`results` in plan order).
pub fn measured(plan: &Plan, results: &[Option<StageResult>], store: &Store) -> Vec<Measured> {
    let mut groups: Vec<Measured> = Vec::new();
    for (stage, result) in plan.stages.iter().zip(results) {
        let (Kind::Train { .. }, Some(result)) = (&stage.kind, result) else {
            continue;
        };
        let Some((wall_s, sgd_s)) = stage_seconds(store, result) else {
            continue;
        };
        let group = Group::of(&stage.kind);
        let share = sgd_s / wall_s;
        match groups.iter_mut().find(|m| m.group == group) {
            Some(m) => {
                m.stages += 1;
                m.wall_s += wall_s;
                m.sgd_s += sgd_s;
                m.lowest_share = m.lowest_share.min(share);
            }
            None => groups.push(Measured {
                group,
                stages: 1,
                wall_s,
                sgd_s,
                lowest_share: share,
            }),
        }
    }
    groups.sort_by_key(|m| m.group);
    groups
}

/// The lines `paper plan` prints; empty when the store holds no timed training stage.
pub fn measured_report(groups: &[Measured]) -> String {
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "measured (the stages in the store, as they were built; share = SGD time / stage wall time):\n",
    );
    for m in groups {
        let _ = writeln!(
            out,
            "  {:<22} {:>4} stages  {:>9} job time  SGD {:.1}% (lowest stage {:.1}%)",
            m.group.words(),
            m.stages,
            human(m.wall_s),
            100.0 * m.share(),
            100.0 * m.lowest_share
        );
    }
    let (wall, sgd): (f64, f64) = groups
        .iter()
        .fold((0.0, 0.0), |(w, s), m| (w + m.wall_s, s + m.sgd_s));
    let _ = writeln!(
        out,
        "  {:<22} {:>4} stages  {:>9} job time  SGD {:.1}%",
        "all training",
        groups.iter().map(|m| m.stages).sum::<usize>(),
        human(wall),
        100.0 * sgd / wall
    );
    out
}
