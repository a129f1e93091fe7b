//! A whole plan's wall time: its stages laid out as `schedule::run` starts them.

use super::*;
use crate::plan::{Kind, Lr, Plan};

/// What a stage is, for the totals `paper plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Dataset,
    Trial,
    Select,
    Final,
    Render,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Dataset,
        Group::Trial,
        Group::Select,
        Group::Final,
        Group::Render,
    ];

    pub fn of(kind: &Kind) -> Group {
        match kind {
            Kind::Dataset { .. } => Group::Dataset,
            Kind::Train { run, .. } if run.lr.is_trial() => Group::Trial,
            Kind::Train { .. } => Group::Final,
            Kind::Select { .. } => Group::Select,
            Kind::Render { .. } => Group::Render,
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Group::Dataset => "datasets",
            Group::Trial => "learning-rate trials",
            Group::Select => "selections",
            Group::Final => "final runs",
            Group::Render => "renders",
        }
    }
}

/// A plan's predicted cost.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// From the first stage started to the last one done.
    pub wall_s: f64,
    /// Each stage's share of the job it runs in (a pack's time split over the members it
    /// trains); 0 for a stage in the store. Plan order.
    pub stage_s: Vec<f64>,
    /// Stages in the store.
    pub cached: Vec<bool>,
    pub machine: Machine,
}

impl Prediction {
    /// Stages to build.
    pub fn to_build(&self) -> usize {
        self.cached.iter().filter(|c| !**c).count()
    }

    /// "12.3 days on 2 CPU jobs".
    pub fn headline(&self) -> String {
        format!("{} on {}", human(self.wall_s), self.machine.words())
    }
}

/// Predicts `plan` on `machine`, the stages marked in `cached` costing nothing.
pub fn predict(plan: &Plan, cached: &[bool], machine: &Machine) -> Prediction {
    let (wall_s, stage_s) = simulate(plan, cached, machine);
    Prediction {
        wall_s,
        stage_s,
        cached: cached.to_vec(),
        machine: machine.clone(),
    }
}

fn is_train(plan: &Plan, i: usize) -> bool {
    matches!(plan.stages[i].kind, Kind::Train { .. })
}

/// Lays the plan out in time as `schedule::run` starts it: the first ready stage in plan
/// order whenever fewer than `jobs` run, a training stage only while a GPU slot is free (on a
/// GPU machine), a pack's ready members as one job. Returns the wall time and each stage's
/// seconds.
fn simulate(plan: &Plan, cached: &[bool], machine: &Machine) -> (f64, Vec<f64>) {
    let n = plan.stages.len();
    let (mut started, mut done) = (vec![false; n], vec![false; n]);
    let mut stage_s = vec![0.0; n];
    // (end, members, holds a GPU)
    let mut running: Vec<(f64, Vec<usize>, bool)> = Vec::new();
    let gpu = machine.on_gpu().is_some();
    let (mut now, mut free_gpus) = (0.0, machine.gpus * machine.trainers_per_gpu.max(1));
    loop {
        while running.len() < machine.jobs.max(1) {
            let settled = |i: usize| plan.stages[i].deps.iter().all(|&d| done[d]);
            let train_allowed = !gpu || free_gpus > 0;
            let next = (0..n)
                .find(|&i| !started[i] && (train_allowed || !is_train(plan, i)) && settled(i));
            let Some(i) = next else { break };
            let members: Vec<usize> = plan
                .pack_members(i)
                .into_iter()
                .filter(|&m| m == i || !started[m] && settled(m))
                .collect();
            let takes_gpu = gpu && is_train(plan, i);
            free_gpus -= usize::from(takes_gpu);
            let job_s = job_s(plan, &members, cached, machine);
            let building = members.iter().filter(|&&m| !cached[m]).count().max(1);
            for &m in &members {
                started[m] = true;
                stage_s[m] = if cached[m] {
                    0.0
                } else {
                    job_s / building as f64
                };
            }
            running.push((now + job_s, members, takes_gpu));
        }
        let next = (0..running.len()).min_by(|&a, &b| running[a].0.total_cmp(&running[b].0));
        let Some(next) = next else { break };
        let (end, members, held_gpu) = running.swap_remove(next);
        now = end;
        free_gpus += usize::from(held_gpu);
        for m in members {
            done[m] = true;
        }
    }
    (now, stage_s)
}

/// Seconds of one job: the members of a pack (or one stage) that are not in the store.
fn job_s(plan: &Plan, members: &[usize], cached: &[bool], machine: &Machine) -> f64 {
    let building: Vec<usize> = members.iter().copied().filter(|&m| !cached[m]).collect();
    let Some(&first) = building.first() else {
        return 0.0;
    };
    match &plan.stages[first].kind {
        Kind::Dataset { .. } => DATASET_S,
        Kind::Select { .. } => SELECT_S,
        Kind::Render { .. } => RENDER_S,
        Kind::Train { .. } => {
            let runs: Vec<&RunParams<Lr>> = building
                .iter()
                .filter_map(|&m| match &plan.stages[m].kind {
                    Kind::Train { run, .. } => Some(run),
                    _ => None,
                })
                .collect();
            train_s(&runs, machine)
        }
    }
}
