//! What `paper plan` prints: the stages by kind, the predicted wall time and its basis.

use super::*;
use crate::plan::{Kind, Plan};
use crate::schedule::duration;

/// `1575.0` as `1,575`.
pub(super) fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// `42.0s`, `3m05s`, `2h01m`, or above a day `12.3 days`.
pub fn human(seconds: f64) -> String {
    if seconds < ASK_ABOVE_S {
        duration(seconds)
    } else {
        format!("{:.1} days", seconds / ASK_ABOVE_S)
    }
}

/// Model-updates of the stages of `group` still to train (a pack of K counts K per step).
fn updates(plan: &Plan, p: &Prediction, group: Group) -> u64 {
    plan.stages
        .iter()
        .zip(&p.cached)
        .filter(|(s, cached)| !**cached && Group::of(&s.kind) == group)
        .filter_map(|(s, _)| match &s.kind {
            Kind::Train { run, .. } => Some(run.updates),
            _ => None,
        })
        .sum()
}

/// `paper plan`'s report: per group its stages, those to build, their model-updates and job
/// time, then the wall time and what it rests on. `store` says what was known of the store
/// ("from an empty store", "12 of 324 stages in /x/.store").
pub fn report(plan: &Plan, p: &Prediction, store: &str) -> String {
    let mut out = format!(
        "plan: profile {}, {} stages, {} to build ({store}), on {}\n",
        plan.profile,
        plan.stages.len(),
        p.to_build(),
        p.machine.words()
    );
    out.push_str(&format!(
        "  {:<22} {:>6} {:>8} {:>14} {:>12}\n",
        "", "stages", "to build", "model-updates", "job time"
    ));
    for group in Group::ALL {
        let of = |i: &usize| Group::of(&plan.stages[*i].kind) == group;
        let all: Vec<usize> = (0..plan.stages.len()).filter(of).collect();
        if all.is_empty() {
            continue;
        }
        let build = all.iter().filter(|&&i| !p.cached[i]).count();
        let job: f64 = all.iter().map(|&i| p.stage_s[i]).sum();
        let updates = match updates(plan, p, group) {
            0 => "-".to_string(),
            u if u < 1_000_000 => format!("{:.0}k", u as f64 / 1e3),
            u => format!("{:.1}M", u as f64 / 1e6),
        };
        out.push_str(&format!(
            "  {:<22} {:>6} {:>8} {updates:>14} {:>12}\n",
            group.words(),
            all.len(),
            build,
            human(job)
        ));
    }
    out.push_str(&format!(
        "predicted: {} wall ({:.1} h) on {}\n",
        human(p.wall_s),
        p.wall_s / 3600.0,
        p.machine.words()
    ));
    out.push_str("basis:\n");
    for line in basis(plan, &p.machine) {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// What a prediction for `machine` rests on: which figures are measured and where, which
/// are modelled.
pub fn basis(plan: &Plan, machine: &Machine) -> Vec<String> {
    let mut lines = match machine.on_gpu() {
        Some(gpu) => gpu_basis(plan, gpu),
        None => cpu_basis(machine),
    };
    if machine.on_gpu().is_some() {
        lines.push(trainers_line(machine));
    }
    lines.push(format!(
        "per run (CPU, quick profile, bench/results/quick-stages-cpu.json): a probe {PROBE_S} s at \
         500 + 500 eval examples, the whole-set evaluation {FINAL_EVAL_S} s, Jacobians {JACOBIANS_S} s \
         at 20 examples, the write {WRITE_S} s; scaled by the net's multiply-adds per example"
    ));
    lines.push(format!(
        "stages that do not train: a dataset {DATASET_S} s (a download is not modelled), a \
         selection {SELECT_S} s, a render {RENDER_S} s"
    ));
    lines
}

/// How many trainers share each GPU, and on what the count rests.
fn trainers_line(machine: &Machine) -> String {
    let trainers = machine.trainers_per_gpu;
    let host = match machine.cores_assumed {
        true => format!(
            "the {} cores assumed of a host that feeds {MAX_TRAINERS_PER_GPU} trainers a GPU \
             (--cores sets them)",
            machine.cores
        ),
        false => format!("the {} cores", machine.cores),
    };
    let why = match machine.trainers_chosen {
        true => format!(
            "chosen as the fastest count of 1..{} this model predicts, each trainer with one of \
             {host}; --trainers-per-gpu sets the count",
            machine.most_trainers_per_gpu(),
        ),
        false => "--trainers-per-gpu".to_string(),
    };
    let modelled = match trainers {
        1 => String::new(),
        _ => "; MODELLED, NOT MEASURED: each launches from its own core at the K=1 rate, and \
              packs stepping at once share the GPU's bandwidth, all slowing in proportion when \
              together they ask for more (bench/gpu_check.sh measures 1, 2 and 4)"
            .to_string(),
    };
    let crowded = match machine.host_share() < 1.0 {
        true => format!(
            "; {} trainers on {} cores: each launches at {:.0}% of a core's pace",
            trainers * machine.gpus,
            machine.cores,
            100.0 * machine.host_share()
        ),
        false => String::new(),
    };
    format!("{trainers} trainer(s) per GPU: {why}{modelled}{crowded}")
}

fn cpu_basis(machine: &Machine) -> Vec<String> {
    let threads = (machine.cores / machine.jobs.max(1)).max(1);
    vec![
        format!(
            "measured (CPU, 5x1000 Shapeset net, batch 10): {} examples/s for one 1-thread job, \
             {} for one 2-thread job (bench/results/engine-cpu.json), {} for two 1-thread jobs \
             side by side, together (issue 23)",
            thousands(CPU_ONE_THREAD_EX_S),
            thousands(CPU_TWO_THREADS_EX_S),
            thousands(CPU_SIDE_BY_SIDE_EX_S)
        ),
        format!(
            "here: {} jobs x {threads} threads on {} cores, {} examples/s each (more than 2 \
             threads a job are counted as 2: not measured)",
            machine.jobs,
            machine.cores,
            thousands(cpu_job_ex_s(machine.jobs, machine.cores))
        ),
        format!(
            "scaled by multiply-adds per example (1,024, 784 or 3,072 inputs, the run's width \
             and depth) and by batch ({:.0}% of a batch-10 update does not grow with the batch: \
             bench/results/train-cpu.json)",
            100.0 * cpu_fixed_share()
        ),
    ]
}

fn gpu_basis(plan: &Plan, gpu: &Gpu) -> Vec<String> {
    let GpuSpec {
        memory_gb,
        bandwidth_tb_s,
        ..
    } = gpu.spec;
    let mut lines = vec![
        format!(
            "measured (GPU): {} updates/s for one model (K=1) of 5x1000 at batch 10 on one H200 \
             (README, GPU): launch-bound, 59 tch calls a step then; MODELLED: the host's time \
             scaled to the {} calls a step makes now (train/tests/step_calls.rs)",
            thousands(GPU_ONE_MODEL_UPDATES_S),
            STEP_CALLS
        ),
        format!(
            "MODELLED, NOT MEASURED: a pack of K>1 models steps in max(the K=1 step, K x {:.0} \
             MB of weight traffic at {bandwidth_tb_s} TB/s); probes {:.0}% of a model's K=1 \
             time, at most their time on the CPU (a trial is probed once); once-a-run costs at \
             the CPU's figures",
            weight_traffic_bytes(&reference_run()) / 1e6,
            100.0 * GPU_PROBE_SHARE
        ),
        pack_line(plan),
    ];
    if !gpu.known {
        lines.push(format!(
            "{:?} is not a GPU this model knows: the prediction uses the H100's figures \
             ({memory_gb} GB, {bandwidth_tb_s} TB/s)",
            gpu.name
        ));
    }
    lines
}

/// How the plan packs its training runs, learning-rate trials and final runs apart.
fn pack_line(plan: &Plan) -> String {
    let describe = |group: Group| {
        let mut sizes: Vec<usize> = Vec::new();
        for (i, stage) in plan.stages.iter().enumerate() {
            let first = match stage.kind {
                Kind::Train {
                    pack: Some(first), ..
                } => first,
                _ => i,
            };
            if Group::of(&stage.kind) == group && first == i {
                sizes.push(plan.pack_members(i).len());
            }
        }
        match (sizes.iter().min(), sizes.iter().max()) {
            (None, _) | (_, None) => format!("no {}", group.words()),
            (_, Some(1)) => format!("{} alone, one model per process", group.words()),
            (Some(min), Some(max)) => {
                format!(
                    "{} in {} packs of {min}..{max} models",
                    group.words(),
                    sizes.len()
                )
            }
        }
    };
    format!(
        "as planned: {}; {}",
        describe(Group::Trial),
        describe(Group::Final)
    )
}
