//! Runs a plan: up to `jobs` ready stages at once, each in a thread that waits on its child
//! process; training runs take one GPU slot each when there are GPUs (a GPU has as many slots
//! as `--trainers-per-gpu`). The ready members of a pack start together, as one job.

use crate::exec::{interrupt, run_pack, run_stage, Context, Outcome};
use crate::plan::{Kind, Plan, StageResult};
use std::sync::mpsc;
use std::time::Instant;

/// The outcome of every stage, in plan order (stages an interrupt kept from starting are
/// skipped). `gpus` holds one GPU id per training slot (an id repeats when trainers share it).
pub fn run(plan: &Plan, ctx: &Context, jobs: usize, gpus: &[String]) -> Vec<Outcome> {
    let n = plan.stages.len();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; n];
    let mut results: Vec<Option<StageResult>> = vec![None; n];
    let mut started = vec![false; n];
    let mut free_gpus: Vec<String> = gpus.iter().rev().cloned().collect();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::scope(|scope| {
        let mut running = 0;
        loop {
            // After SIGTERM/SIGINT/SIGHUP no stage starts; the running ones are told to stop.
            while running < jobs.max(1) && interrupt::received().is_none() {
                let train_allowed = gpus.is_empty() || !free_gpus.is_empty();
                let settled = |i: usize| plan.stages[i].deps.iter().all(|&d| outcomes[d].is_some());
                let Some(i) = next_ready(plan, &started, settled, train_allowed) else {
                    break;
                };
                let gpu = if is_train(plan, i) && !gpus.is_empty() {
                    free_gpus.pop()
                } else {
                    None
                };
                let members = ready_members(plan, i, &started, settled);
                for &m in &members {
                    started[m] = true;
                }
                running += 1;
                let (done_tx, snapshot) = (done_tx.clone(), results.clone());
                scope.spawn(move || {
                    let outcomes = if plan.is_packed(i) {
                        run_pack(ctx, plan, &members, &snapshot, gpu.as_deref())
                    } else {
                        vec![(i, run_stage(ctx, plan, i, &snapshot, gpu.as_deref()))]
                    };
                    done_tx
                        .send((outcomes, gpu))
                        .expect("the scheduler outlives its stages");
                });
            }
            if running == 0 {
                break;
            }
            let (done, gpu) = done_rx.recv().expect("a running job reports back");
            running -= 1;
            free_gpus.extend(gpu);
            for (i, outcome) in done {
                report(&plan.stages[i].name, &outcome);
                results[i] = outcome.result().cloned();
                outcomes[i] = Some(outcome);
            }
        }
    });
    let unstarted = |i: usize| {
        let signal = interrupt::received().expect("only an interrupt leaves a stage unrun");
        let outcome = Outcome::Skipped(format!("not started: paper was interrupted by {signal}"));
        report(&plan.stages[i].name, &outcome);
        outcome
    };
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| o.unwrap_or_else(|| unstarted(i)))
        .collect()
}

pub(crate) fn is_train(plan: &Plan, i: usize) -> bool {
    matches!(plan.stages[i].kind, Kind::Train { .. })
}

/// The first stage, in plan order, not started yet whose inputs have all `settled`; a
/// training run only when `train_allowed` (a GPU is free, or training is on the CPU). The cost
/// model (`cost::predict`) starts stages by the same rule.
pub(crate) fn next_ready(
    plan: &Plan,
    started: &[bool],
    settled: impl Fn(usize) -> bool,
    train_allowed: bool,
) -> Option<usize> {
    (0..plan.stages.len())
        .find(|&i| !started[i] && (train_allowed || !is_train(plan, i)) && settled(i))
}

/// The members of stage `i`'s pack that start with it, as one job: itself and those not
/// started yet whose inputs have `settled` too.
pub(crate) fn ready_members(
    plan: &Plan,
    i: usize,
    started: &[bool],
    settled: impl Fn(usize) -> bool,
) -> Vec<usize> {
    plan.pack_members(i)
        .into_iter()
        .filter(|&m| m == i || !started[m] && settled(m))
        .collect()
}

fn report(stage: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Built { seconds, .. } => println!("done    {stage}  in {}", duration(*seconds)),
        Outcome::Cached(_) => {}
        Outcome::Skipped(reason) => println!("skip    {stage}: {reason}"),
        Outcome::Failed(error) => println!("FAILED  {stage}: {error}"),
    }
}

/// `42.0s`, `3m05s` or `2h01m`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        _ if seconds < 60.0 => format!("{seconds:.1}s"),
        _ if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// The line that ends a run, e.g. `paper: 14 stages: 3 built, 10 cached, 1 skipped in 4m12s`,
/// or `nothing to do: all 14 stages cached`.
pub fn summary(outcomes: &[Outcome], started: Instant) -> String {
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let built = count(|o| matches!(o, Outcome::Built { .. }));
    let cached = count(|o| matches!(o, Outcome::Cached(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    if cached == outcomes.len() {
        return format!("nothing to do: all {cached} stages cached");
    }
    let mut line = format!(
        "paper: {} stages: {built} built, {cached} cached",
        outcomes.len()
    );
    if skipped > 0 {
        line.push_str(&format!(", {skipped} skipped"));
    }
    if failed > 0 {
        line.push_str(&format!(", {failed} FAILED"));
    }
    line + &format!(" in {}", duration(started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(4.24), "4.2s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(7260.0), "2h01m");
    }

    #[test]
    fn the_summary_says_when_nothing_ran() {
        let key: store::Key = "d".repeat(64).parse().unwrap();
        let result = StageResult {
            key: key.clone(),
            output_key: key,
            output: Default::default(),
        };
        let cached = vec![
            Outcome::Cached(result.clone()),
            Outcome::Cached(result.clone()),
        ];
        assert_eq!(
            summary(&cached, Instant::now()),
            "nothing to do: all 2 stages cached"
        );
        let mixed = vec![
            Outcome::Cached(result.clone()),
            Outcome::Built {
                result,
                seconds: 1.0,
            },
            Outcome::Skipped("no dataset".into()),
            Outcome::Failed("boom".into()),
        ];
        let line = summary(&mixed, Instant::now());
        assert!(
            line.starts_with("paper: 4 stages: 1 built, 1 cached, 1 skipped, 1 FAILED in "),
            "{line}"
        );
    }
}
