//! A whole plan's wall time: its stages laid out as `schedule::run` starts them.

use super::*;
use crate::plan::{Kind, Lr, Plan};
use crate::schedule::{is_train, next_ready, ready_members};

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

/// The most trainers per GPU chosen without `--trainers-per-gpu`: the counts
/// `bench/gpu_check.sh` measures are 1, 2 and 4.
pub const MAX_TRAINERS_PER_GPU: usize = 4;

/// The machine `machine_with(t)` for the trainers per GPU `t` the model predicts fastest for
/// `plan` (stages in `cached` costing nothing): from 1 to [`MAX_TRAINERS_PER_GPU`], each
/// trainer with a core of its own, and more only where they save at least 2% of the wall time
/// (a trainer more is a process more to fail, and what the model gains by sharing is
/// modelled, not measured). Without GPUs, `machine_with(1)`.
pub fn fastest_trainers(
    plan: &Plan,
    cached: &[bool],
    machine_with: impl Fn(usize) -> Machine,
) -> Machine {
    let one = machine_with(1);
    if one.on_gpu().is_none() {
        return one;
    }
    let mut best = (simulate(plan, cached, &one).0, one.clone());
    for trainers in 2..=one.most_trainers_per_gpu() {
        let machine = machine_with(trainers);
        let wall = simulate(plan, cached, &machine).0;
        if wall < 0.98 * best.0 {
            best = (wall, machine);
        }
    }
    Machine {
        trainers_chosen: true,
        ..best.1
    }
}

/// A job laid out in time: its work left ([`GpuWork`]: seconds that share nothing, then steps
/// that share their GPU's bandwidth with the other jobs stepping on it).
struct Running {
    members: Vec<usize>,
    /// The GPU slot it holds, as the GPU's index.
    gpu: Option<usize>,
    started: f64,
    left: GpuWork,
}

impl Running {
    /// Seconds a step takes while the jobs stepping on its GPU ask for `demand` of its
    /// bandwidth in all: the host's pace, slowed in proportion above the bandwidth.
    fn step_s(&self, demand: f64) -> f64 {
        self.left.host_step_s * demand.max(1.0)
    }

    /// Whether it is stepping (not in its seconds that share nothing, nor done).
    fn is_stepping(&self) -> bool {
        self.left.other_s <= 0.0 && self.left.steps > 0.0
    }

    /// Seconds to its next change: the end of its seconds that share nothing, or of its
    /// steps at the pace `demand` sets.
    fn until_next_s(&self, demand: f64) -> f64 {
        if self.left.other_s > 0.0 {
            self.left.other_s
        } else {
            self.left.steps * self.step_s(demand)
        }
    }

    fn advance(&mut self, seconds: f64, demand: f64) {
        if self.left.other_s > 0.0 {
            self.left.other_s = (self.left.other_s - seconds).max(0.0);
        } else {
            self.left.steps = (self.left.steps - seconds / self.step_s(demand)).max(0.0);
        }
    }

    /// Done, but for a rounding error's share of a step.
    fn is_done(&self) -> bool {
        self.left.other_s <= 0.0 && self.left.steps < 1e-6
    }
}

/// Lays the plan out in time as `schedule::run` starts it: the first ready stage in plan
/// order whenever fewer than `jobs` run, a training stage only while a GPU slot is free (on a
/// GPU machine), a pack's ready members as one job. Packs sharing a GPU step at their own
/// host's pace until together they ask for more than its bandwidth, then all slow in
/// proportion (the one-pack model, `GpuWork`, is this with one pack). Returns the wall time
/// and each stage's seconds.
fn simulate(plan: &Plan, cached: &[bool], machine: &Machine) -> (f64, Vec<f64>) {
    let n = plan.stages.len();
    let (mut started, mut done) = (vec![false; n], vec![false; n]);
    let mut stage_s = vec![0.0; n];
    let mut running: Vec<Running> = Vec::new();
    let gpu = machine.on_gpu().is_some();
    // One entry per training slot: the GPU it is on.
    let mut free_slots: Vec<usize> = (0..machine.gpus)
        .flat_map(|g| std::iter::repeat_n(g, machine.trainers_per_gpu.max(1)))
        .collect();
    let mut now = 0.0;
    loop {
        while running.len() < machine.jobs.max(1) {
            let settled = |i: usize| plan.stages[i].deps.iter().all(|&d| done[d]);
            let train_allowed = !gpu || !free_slots.is_empty();
            let Some(i) = next_ready(plan, &started, settled, train_allowed) else {
                break;
            };
            let members = ready_members(plan, i, &started, settled);
            for &m in &members {
                started[m] = true;
            }
            let slot = if gpu && is_train(plan, i) {
                free_slots.pop()
            } else {
                None
            };
            let left = work(plan, &members, cached, machine);
            running.push(Running {
                members,
                gpu: slot,
                started: now,
                left,
            });
        }
        let demands = demands(&running, machine.gpus);
        let demand = |r: &Running| r.gpu.map_or(0.0, |g| demands[g]);
        let next = running
            .iter()
            .map(|r| r.until_next_s(demand(r)))
            .min_by(f64::total_cmp);
        let Some(seconds) = next else { break };
        now += seconds;
        for r in running.iter_mut() {
            let demand = demand(r);
            r.advance(seconds, demand);
        }
        let (finished, still): (Vec<Running>, Vec<Running>) =
            running.into_iter().partition(Running::is_done);
        running = still;
        for job in finished {
            free_slots.extend(job.gpu);
            let building = job.members.iter().filter(|&&m| !cached[m]).count();
            for &m in &job.members {
                done[m] = true;
                if !cached[m] {
                    stage_s[m] = (now - job.started) / building as f64;
                }
            }
        }
    }
    (now, stage_s)
}

/// The bandwidth each GPU's stepping jobs ask for, together.
fn demands(running: &[Running], gpus: usize) -> Vec<f64> {
    let mut demands = vec![0.0; gpus];
    for r in running {
        if let Some(g) = r.gpu.filter(|_| r.is_stepping()) {
            demands[g] += r.left.bandwidth_demand();
        }
    }
    demands
}

/// What a job does, as GPU work; a job that does not train on a GPU only has seconds.
fn work(plan: &Plan, members: &[usize], cached: &[bool], machine: &Machine) -> GpuWork {
    let building: Vec<usize> = members.iter().copied().filter(|&m| !cached[m]).collect();
    let Some(&first) = building.first() else {
        return GpuWork::seconds(0.0);
    };
    match &plan.stages[first].kind {
        Kind::Dataset { .. } => GpuWork::seconds(DATASET_S),
        Kind::Select { .. } => GpuWork::seconds(SELECT_S),
        Kind::Render { .. } => GpuWork::seconds(RENDER_S),
        Kind::Train { .. } => {
            let runs: Vec<&RunParams<Lr>> = building
                .iter()
                .filter_map(|&m| match &plan.stages[m].kind {
                    Kind::Train { run, .. } => Some(run),
                    _ => None,
                })
                .collect();
            match machine.on_gpu() {
                None => GpuWork::seconds(train_s(&runs, machine)),
                Some(card) => GpuWork::of(&runs, &card.spec, machine.host_share()),
            }
        }
    }
}
