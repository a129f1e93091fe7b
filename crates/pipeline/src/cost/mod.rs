//! What a plan will cost in wall time, said before anything trains: `paper plan` prints it
//! with its basis, and `paper` asks for `--yes` above a day (issue 23: `--profile full` on a
//! 2-core CPU would have trained for about 12 days without a word).
//!
//! One model, fitted to measured speeds. Every measured figure is a constant of this file,
//! with the file or README section it comes from; what is modelled rather than measured
//! (every GPU pack of more than one model) is said so in [`basis`], which both commands print.
//!
//! - **CPU.** One training job runs [`CPU_ONE_THREAD_EX_S`] examples/s on the reference net
//!   (5x1000 on Shapeset's 1,024 inputs, batch 10); two 1-thread jobs side by side share
//!   [`CPU_SIDE_BY_SIDE_EX_S`]. Another net scales by its multiply-adds per example, another
//!   batch by the measured split of an update into a part that streams the weights once (the
//!   same at any batch) and a part that grows with the batch ([`cpu_fixed_share`]). Probes,
//!   the last probe's whole-set evaluation, Jacobians and the final write are fixed costs per
//!   run, measured in the quick profile.
//! - **GPU.** One model steps at the measured [`GPU_ONE_MODEL_UPDATES_S`] (launch-bound: the
//!   host issued 59 tch calls per step then, 53 now, at ~11 us each; the host's time is
//!   scaled by the calls). A pack of K is modelled as
//!   `max(that step, K x weight traffic / bandwidth)`: the launches do not grow with K, the
//!   weights streamed do.
//! - **A plan.** Stages are laid out as `schedule::run` starts them (plan order, `jobs` at
//!   once, one GPU per training job, the ready members of a pack as one job); stages already
//!   in the store cost nothing.
//!
//! Map: this file holds the measured constants and what one run costs; `gpus.rs` the known
//! cards; `predict.rs` a whole plan laid out as the scheduler would run it; `report.rs` what
//! `paper plan` prints; `measured.rs` what the stages in the store did cost.

mod gpus;
mod measured;
mod predict;
mod report;

pub use gpus::{Gpu, GpuSpec, GPUS};
pub use measured::{measured, measured_report, Measured};
pub use predict::{fastest_trainers, predict, Group, Prediction, MAX_TRAINERS_PER_GPU};
pub use report::{basis, human, report};

use spec::RunParams;

/// Examples/s of one job with one thread training the reference net: `bench/results/
/// engine-cpu.json`, "after" (the shipped engine and kernel pin), median of `threads_1`.
pub const CPU_ONE_THREAD_EX_S: f64 = 1575.0;
/// Examples/s of one job with two threads: the same file, median of `threads_2` (MKL's pinned
/// path scales poorly). More threads per job are not modelled as faster: not measured.
pub const CPU_TWO_THREADS_EX_S: f64 = 2150.0;
/// Examples/s of two 1-thread jobs side by side on this project's 2-core machine, together
/// (issue 23; the quick profile's cold wall time, 12 min 50 s to 14 min 07 s, agrees: see the
/// test `the_quick_profile_is_predicted_near_its_measured_wall_time`).
pub const CPU_SIDE_BY_SIDE_EX_S: f64 = 2550.0;
/// Examples/s of one 1-thread process at batch 10 and at batch 128 (`bench/results/
/// train-cpu.json`, `tch-manual`): what splits an update into its batch-free part (the
/// weights streamed once per step) and its per-example part.
const CPU_BATCH_10_EX_S: f64 = 1831.6;
const CPU_BATCH_128_EX_S: f64 = 3307.7;
/// The reference net's batch.
const REF_BATCH: f64 = 10.0;

/// Fixed costs of a run on the CPU, measured on the reference net in the quick profile (the
/// trainer's own report, `bench/results/quick-stages-cpu.json`, medians over 220 runs and
/// trials): one probe (300-example statistics, 500 valid + 500 test examples)...
const PROBE_S: f64 = 0.7;
/// ...the last probe's evaluation of the whole valid and test sets (10,000 each)...
const FINAL_EVAL_S: f64 = 2.9;
/// ...the Jacobians at init, for [`JACOBIAN_EXAMPLES`] examples (`once` of the runs that draw
/// them, 10.7 s, less the final evaluation)...
const JACOBIANS_S: f64 = 7.8;
const JACOBIAN_EXAMPLES: f64 = 20.0;
/// ...the final write of a run that keeps raw snapshots (a trial keeps none and writes in
/// ~0 s)...
const WRITE_S: f64 = 2.2;
/// ...and a checkpoint (0.2 s for the two of a 3,000-update run).
const CHECKPOINT_S: f64 = 0.1;
/// Valid or test examples a probe evaluates when `eval_examples` is 0 (the whole set), and
/// in the final evaluation.
const WHOLE_SET: f64 = 10_000.0;
/// The eval examples (of each set) [`PROBE_S`] was measured at.
const PROBE_EVAL_EXAMPLES: f64 = 500.0;

/// Updates/s of one model of 5x1000 at batch 10 on one GPU (README, GPU: measured on one
/// H200 with `train`; launch-bound, so the GPU's bandwidth does not enter it).
pub const GPU_ONE_MODEL_UPDATES_S: f64 = 1418.0;
/// Weight layers of the net that figure was measured on: the host's calls per step grow
/// with them.
const GPU_MEASURED_LAYERS: f64 = 6.0;
/// The libtorch calls of one training step of that net (5x1000 tanh), as traced and
/// counted by `crates/train/tests/step_calls.rs`: when the speed above was measured, and
/// now. A launch-bound step's host time is modelled as proportional to its calls.
const GPU_MEASURED_STEP_CALLS: f64 = 59.0;
const STEP_CALLS: f64 = 53.0;
/// Probes' share of a one-model GPU run (README, GPU: "probes ~4% of a run").
const GPU_PROBE_SHARE: f64 = 0.04;
/// Times an SGD step streams the weights (forward, backward, gradient, update; README, "Why
/// packs don't help on CPU": "about four times"): ~81 MB per update of 5x1000 on Shapeset.
const WEIGHT_PASSES: f64 = 4.0;

/// Seconds of the stages that do not train: a dataset made or checked (Shapeset's 20,000
/// images at ~380k/s, `bench/results/shapeset.json`; a download is not modelled), a
/// selection (`train select` reads its trials' last errors) and a render (README, Costs: the
/// quick profile's 16 renders in 5 s).
const DATASET_S: f64 = 5.0;
const SELECT_S: f64 = 0.5;
const RENDER_S: f64 = 1.0;

/// A wall time above this asks for `--yes`.
pub const ASK_ABOVE_S: f64 = 86_400.0;

/// Where a plan runs: `jobs` stages at once on `cores`, training on `gpus` GPUs when there are
/// any, `trainers_per_gpu` training jobs at a time on each.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub jobs: usize,
    pub cores: usize,
    pub gpus: usize,
    pub gpu: Option<Gpu>,
    pub trainers_per_gpu: usize,
    /// Whether [`fastest_trainers`] chose `trainers_per_gpu` (no `--trainers-per-gpu`).
    pub trainers_chosen: bool,
    /// Whether `cores` is assumed rather than known: `paper plan` for a GPU this machine does
    /// not have, without `--cores`, assumes a host that feeds [`MAX_TRAINERS_PER_GPU`]
    /// trainers per GPU.
    pub cores_assumed: bool,
}

impl Machine {
    /// "2 CPU jobs" or "1 x NVIDIA H100 80GB HBM3" (", 4 trainers each" when they share it).
    pub fn words(&self) -> String {
        match &self.gpu {
            Some(gpu) if self.gpus > 0 && self.trainers_per_gpu > 1 => format!(
                "{} x {}, {} trainers each",
                self.gpus, gpu.name, self.trainers_per_gpu
            ),
            Some(gpu) if self.gpus > 0 => format!("{} x {}", self.gpus, gpu.name),
            _ => format!("{} CPU jobs", self.jobs),
        }
    }

    fn on_gpu(&self) -> Option<&Gpu> {
        self.gpu.as_ref().filter(|_| self.gpus > 0)
    }

    /// The most trainers per GPU [`fastest_trainers`] considers: one core each, at most
    /// [`MAX_TRAINERS_PER_GPU`].
    pub fn most_trainers_per_gpu(&self) -> usize {
        (self.cores / self.gpus.max(1)).clamp(1, MAX_TRAINERS_PER_GPU)
    }

    /// The share of a core each GPU trainer launches from: a launch-bound trainer keeps one
    /// core busy, and trainers beyond the cores share them.
    pub fn host_share(&self) -> f64 {
        let trainers = (self.gpus * self.trainers_per_gpu).max(1);
        (self.cores as f64 / trainers as f64).min(1.0)
    }
}

/// Multiply-adds of one example through the net: the sum over layers of inputs x outputs.
pub fn macs_per_example<R>(run: &RunParams<R>) -> f64 {
    let sizes = run.layer_sizes();
    sizes.windows(2).map(|p| (p[0] * p[1]) as f64).sum()
}

/// How much more a run's net costs per example than the reference net.
fn size_ratio<R>(run: &RunParams<R>) -> f64 {
    macs_per_example(run) / macs_per_example(&reference_run())
}

/// The share of a batch-10 update that does not grow with the batch, from the times per
/// update at batch 10 and 128 (a line through the two: ~0.48).
pub fn cpu_fixed_share() -> f64 {
    let (t10, t128) = (REF_BATCH / CPU_BATCH_10_EX_S, 128.0 / CPU_BATCH_128_EX_S);
    let per_example = (t128 - t10) / (128.0 - REF_BATCH);
    (t10 - per_example * REF_BATCH) / t10
}

/// Examples/s of the reference net for one of `jobs` jobs on `cores` cores, each with
/// `cores / jobs` threads, as `paper` runs them (`device::threads_per_job`).
pub fn cpu_job_ex_s(jobs: usize, cores: usize) -> f64 {
    let (jobs, cores) = (jobs.max(1), cores.max(1));
    let threads = (cores / jobs).max(1);
    let alone = if threads >= 2 {
        CPU_TWO_THREADS_EX_S
    } else {
        CPU_ONE_THREAD_EX_S
    };
    let side_by_side = if jobs >= 2 {
        CPU_SIDE_BY_SIDE_EX_S / (2.0 * CPU_ONE_THREAD_EX_S)
    } else {
        1.0
    };
    // More jobs than cores share them.
    let share = (cores as f64 / jobs as f64).min(1.0);
    alone * side_by_side * share
}

/// Seconds of the SGD updates of one model on a CPU job that runs the reference net at
/// `job_ex_s` examples/s.
pub fn cpu_sgd_s<R>(run: &RunParams<R>, job_ex_s: f64) -> f64 {
    let fixed = cpu_fixed_share();
    let batch = fixed + (1.0 - fixed) * run.batch_size as f64 / REF_BATCH;
    let update_s = REF_BATCH / job_ex_s * size_ratio(run) * batch;
    run.updates as f64 * update_s
}

/// The steps a run probes at (`spec::RunConfig::is_probe_step`: 0, every `probe_every`, the
/// last, and 100 and 1000 when `probe_every` is longer; the last only for a run probed only at
/// its end, a trial), leaving out raw-snapshot steps off that grid (a few in a run of millions
/// of updates).
fn probes<R>(run: &RunParams<R>) -> f64 {
    if run.probes_only_at_end() {
        return 1.0;
    }
    let regular = run.updates / run.probe_every;
    let last = u64::from(!run.updates.is_multiple_of(run.probe_every));
    let early = [100, 1000]
        .iter()
        .filter(|&&s| run.probe_every > 1000 && s < run.updates)
        .count() as u64;
    (1 + regular + last + early) as f64
}

/// Checkpoints: at the regular probes before the last step.
fn checkpoints<R>(run: &RunParams<R>) -> f64 {
    ((run.updates - 1) / run.probe_every) as f64
}

/// Seconds one run spends probing on the CPU (the last probe's statistics included, its
/// whole-set evaluation not), scaled to its net and its `eval_examples`.
fn cpu_probes_s<R>(run: &RunParams<R>) -> f64 {
    let eval = match run.eval_examples {
        0 => WHOLE_SET,
        n => n as f64,
    };
    // The part of a measured probe that evaluated its 500 + 500 examples, at the final
    // evaluation's rate per example.
    let eval_part = PROBE_EVAL_EXAMPLES / WHOLE_SET * FINAL_EVAL_S;
    let probe = PROBE_S - eval_part + eval_part * eval / PROBE_EVAL_EXAMPLES;
    probes(run) * probe * size_ratio(run)
}

/// Seconds of what a run does once, on the CPU: the final evaluation, the Jacobians,
/// checkpoints and the write.
fn once_s<R>(run: &RunParams<R>) -> f64 {
    let jacobians = JACOBIANS_S * run.jacobian_examples as f64 / JACOBIAN_EXAMPLES;
    let write = if run.raw_every_epochs > 0 {
        WRITE_S
    } else {
        0.0
    };
    // A trial's last probe evaluates the whole validation set but only a sample of the test
    // set, which its probe's cost already counts.
    let final_eval = match run.probes_only_at_end() {
        true => FINAL_EVAL_S / 2.0,
        false => FINAL_EVAL_S,
    };
    (final_eval + jacobians) * size_ratio(run) + checkpoints(run) * CHECKPOINT_S + write
}

/// Seconds one run spends outside SGD on the CPU.
pub fn cpu_fixed_s<R>(run: &RunParams<R>) -> f64 {
    cpu_probes_s(run) + once_s(run)
}

/// Bytes of weights one SGD step of one model streams.
pub fn weight_traffic_bytes<R>(run: &RunParams<R>) -> f64 {
    let params = run.parameter_count().unwrap_or(u64::MAX) as f64;
    WEIGHT_PASSES * params * 4.0
}

/// Seconds of one step of a pack of `k` models on `gpu`: the host's launches (the measured
/// one-model step, per weight layer) or the weights streamed, whichever is longer. Measured
/// for k = 1 on 5x1000 only; modelled otherwise.
pub fn gpu_step_s<R>(run: &RunParams<R>, k: usize, gpu: &GpuSpec) -> f64 {
    gpu_host_step_s(run).max(k as f64 * gpu_model_traffic_s(run, gpu))
}

/// The host's share of a step: launches, the same for any pack size; the measured step
/// scaled by weight layers and by the calls cut since it was measured.
fn gpu_host_step_s<R>(run: &RunParams<R>) -> f64 {
    let layers = (run.hidden_layers + 1) as f64;
    let calls = STEP_CALLS / GPU_MEASURED_STEP_CALLS;
    calls * layers / GPU_MEASURED_LAYERS / GPU_ONE_MODEL_UPDATES_S
}

/// Seconds one model's weight traffic of a step takes at the card's bandwidth.
fn gpu_model_traffic_s<R>(run: &RunParams<R>, gpu: &GpuSpec) -> f64 {
    weight_traffic_bytes(run) / (gpu.bandwidth_tb_s * 1e12)
}

/// The pack size from which, in this model, a bigger pack trains no more model-updates a
/// second: the launches are hidden behind the weights streamed. Packs are sized no bigger
/// (issue 23: by throughput, not only by memory), which leaves more packs to spread over
/// trainers and GPUs and less work in each to redo after a failure; at least 2, so that the
/// engine (and with it every key) is the same as with any larger pack.
pub fn saturating_pack<R>(run: &RunParams<R>, gpu: &GpuSpec) -> usize {
    let k = (gpu_host_step_s(run) / gpu_model_traffic_s(run, gpu)).ceil();
    if k.is_finite() {
        (k as usize).max(2)
    } else {
        usize::MAX
    }
}

/// Seconds a pack of `runs` (one shape; a single run is a pack of one) trains for, with the
/// machine to itself: on a GPU, [`GpuWork::alone_s`] (trainers that share a GPU slow each other
/// only through its bandwidth, which `predict` lays out in time).
pub fn train_s<R>(runs: &[&RunParams<R>], machine: &Machine) -> f64 {
    match machine.on_gpu() {
        // A CPU pack runs at the single-run rate per model (README, "Why packs don't help
        // on CPU").
        None => {
            let rate = cpu_job_ex_s(machine.jobs, machine.cores);
            runs.iter()
                .map(|r| cpu_sgd_s(r, rate) + cpu_fixed_s(r))
                .sum()
        }
        Some(gpu) => GpuWork::of(runs, &gpu.spec, machine.host_share()).alone_s(),
    }
}

/// What a GPU pack does, in the two resources it is bound by: steps, each as long as the
/// host's launches or the weights it streams at the card's whole bandwidth, whichever is
/// longer; and seconds that stream next to nothing (probes, which evaluate a few thousand
/// examples, and the once-a-run costs).
#[derive(Debug, Clone, PartialEq)]
pub struct GpuWork {
    pub steps: f64,
    pub host_step_s: f64,
    pub traffic_step_s: f64,
    pub other_s: f64,
}

impl GpuWork {
    /// The work of a pack of `runs` (one shape) on `gpu`, its trainer getting `host_share` of
    /// a core ([`Machine::host_share`]).
    pub fn of<R>(runs: &[&RunParams<R>], gpu: &GpuSpec, host_share: f64) -> GpuWork {
        let Some(first) = runs.first() else {
            return GpuWork::seconds(0.0);
        };
        let host_step_s = gpu_host_step_s(first) / host_share.clamp(1e-3, 1.0);
        let alone = gpu_step_s(first, 1, gpu);
        // Each model is probed in turn: its share of a one-model run, measured on a run
        // probed at regular steps; no more than the same probes take on the CPU, the bound
        // that counts for a run probed only at its end (a trial).
        let probes: f64 = runs
            .iter()
            .map(|r| (GPU_PROBE_SHARE * r.updates as f64 * alone).min(cpu_probes_s(r)))
            .sum();
        // The CPU's once-a-run costs stand in for the GPU's: an upper bound, seconds.
        let once: f64 = runs.iter().map(|r| once_s(r)).sum();
        GpuWork {
            steps: first.updates as f64,
            host_step_s,
            traffic_step_s: runs.len() as f64 * gpu_model_traffic_s(first, gpu),
            other_s: probes + once,
        }
    }

    /// Work of `other_s` seconds and no steps (a stage that does not train on a GPU).
    pub fn seconds(other_s: f64) -> GpuWork {
        GpuWork {
            steps: 0.0,
            host_step_s: 0.0,
            traffic_step_s: 0.0,
            other_s,
        }
    }

    /// Seconds with the GPU to itself.
    pub fn alone_s(&self) -> f64 {
        self.steps * self.host_step_s.max(self.traffic_step_s) + self.other_s
    }

    /// The share of the GPU's bandwidth its steps use when the host sets their pace: packs
    /// that together ask for more than 1 slow down in proportion (`predict`).
    pub fn bandwidth_demand(&self) -> f64 {
        if self.host_step_s > 0.0 {
            self.traffic_step_s / self.host_step_s
        } else {
            0.0
        }
    }
}

/// The net the measured figures are of.
fn reference_run() -> RunParams {
    RunParams {
        dataset: spec::Dataset::Shapeset,
        activation: spec::Activation::Tanh,
        init: spec::Init::Normalized,
        hidden_layers: 5,
        width: 1000,
        batch_size: 10,
        lr: 0.01,
        updates: 3000,
        seed: 0,
        probe_every: 1000,
        jacobian_examples: 0,
        eval_examples: 500,
        raw_every_epochs: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::gpus::H100;
    use super::report::thousands;
    use super::*;
    use crate::plan::Plan;
    use crate::profile::Profile;
    use spec::Dataset;

    fn two_cpu_jobs() -> Machine {
        Machine {
            jobs: 2,
            cores: 2,
            gpus: 0,
            gpu: None,
            trainers_per_gpu: 1,
            trainers_chosen: false,
            cores_assumed: false,
        }
    }

    fn one_gpu(name: &str) -> Machine {
        Machine {
            jobs: 2,
            cores: 2,
            gpus: 1,
            gpu: Some(Gpu::named(name)),
            trainers_per_gpu: 1,
            trainers_chosen: false,
            cores_assumed: false,
        }
    }

    fn plan(profile: &str, device_class: &str) -> Plan {
        let tools = crate::plan::tests::tools("train src=1 runtime={} device=cpu");
        Plan::build(
            &Profile::built_in(profile).unwrap(),
            profile,
            tools,
            device_class,
        )
        .unwrap()
    }

    fn cold(plan: &Plan, machine: &Machine) -> Prediction {
        predict(plan, &vec![false; plan.stages.len()], machine)
    }

    #[test]
    fn a_quick_run_is_predicted_within_the_measured_range() {
        // README, Costs: the quick profile's 3,000-update runs took 20-34 s, two at a time.
        let run = reference_run();
        let seconds = train_s(&[&run], &two_cpu_jobs());
        assert!((20.0..=34.0).contains(&seconds), "{seconds}");
        // One job alone on one core runs at the single-job rate.
        let alone = cpu_sgd_s(&run, cpu_job_ex_s(1, 1));
        assert!((alone - 3000.0 * 10.0 / CPU_ONE_THREAD_EX_S).abs() < 1e-9);
    }

    #[test]
    fn doubling_updates_doubles_the_sgd_part() {
        let run = reference_run();
        let double = RunParams {
            updates: 2 * run.updates,
            ..run.clone()
        };
        let rate = cpu_job_ex_s(2, 2);
        assert!((cpu_sgd_s(&double, rate) - 2.0 * cpu_sgd_s(&run, rate)).abs() < 1e-9);
    }

    #[test]
    fn wider_inputs_and_batches_cost_more_and_batches_less_per_example() {
        let on = |dataset| RunParams {
            dataset,
            ..reference_run()
        };
        let rate = cpu_job_ex_s(2, 2);
        let (mnist, shapeset, cifar) = (
            cpu_sgd_s(&on(Dataset::Mnist), rate),
            cpu_sgd_s(&on(Dataset::Shapeset), rate),
            cpu_sgd_s(&on(Dataset::Cifar10), rate),
        );
        assert!(
            mnist < shapeset && shapeset < cifar,
            "{mnist} {shapeset} {cifar}"
        );
        let batch_20 = RunParams {
            batch_size: 20,
            ..reference_run()
        };
        let (b10, b20) = (
            cpu_sgd_s(&reference_run(), rate),
            cpu_sgd_s(&batch_20, rate),
        );
        assert!(b10 < b20 && b20 < 2.0 * b10, "{b10} {b20}");
        assert!(
            (0.4..0.6).contains(&cpu_fixed_share()),
            "{}",
            cpu_fixed_share()
        );
    }

    #[test]
    fn one_model_on_a_gpu_steps_at_the_measured_rate_scaled_by_the_calls_cut_since() {
        let step = gpu_step_s(
            &reference_run(),
            1,
            &Gpu::named("NVIDIA H100 80GB HBM3").spec,
        );
        let measured = 1.0 / GPU_ONE_MODEL_UPDATES_S;
        assert!((step - measured * 53.0 / 59.0).abs() < 1e-12, "{step}");
    }

    #[test]
    fn a_gpu_pack_is_never_predicted_faster_than_its_bandwidth_bound() {
        let run = reference_run();
        for gpu in GPUS {
            for k in [1, 2, 8, 32, 64, 256] {
                let bound = k as f64 * weight_traffic_bytes(&run) / (gpu.bandwidth_tb_s * 1e12);
                assert!(gpu_step_s(&run, k, &gpu) >= bound);
                let runs = vec![&run; k];
                let machine = one_gpu(gpu.names[0]);
                assert!(train_s(&runs, &machine) >= run.updates as f64 * bound);
            }
        }
        // ~77-81 MB of weight traffic per model-update of 5x1000 (4 passes over 20 MB).
        let mb = weight_traffic_bytes(&run) / 1e6;
        assert!((75.0..85.0).contains(&mb), "{mb}");
    }

    #[test]
    fn gpus_are_known_by_name_and_an_unknown_one_stands_on_the_h100() {
        let bandwidth = |name: &str| Gpu::named(name).spec.bandwidth_tb_s;
        assert_eq!(bandwidth("NVIDIA H100 80GB HBM3"), 3.35);
        assert_eq!(bandwidth("NVIDIA H100 PCIe"), 2.0);
        assert_eq!(bandwidth("NVIDIA H200"), 4.8);
        assert_eq!(bandwidth("NVIDIA A100-SXM4-80GB"), 2.0);
        let unknown = Gpu::named("Mystery 9000");
        assert!(!unknown.known && Gpu::named("NVIDIA H200").known);
        assert_eq!(unknown.spec, GPUS[H100]);
        let plan = plan("ci", "cuda:Mystery 9000");
        let machine = one_gpu("Mystery 9000");
        let basis = basis(&plan, &machine).join("\n");
        assert!(basis.contains("uses the H100's figures"), "{basis}");
        assert!(basis.contains("MODELLED, NOT MEASURED"), "{basis}");
    }

    #[test]
    fn the_quick_profile_is_predicted_near_its_measured_wall_time() {
        // README, Costs: 12 min 50 s cold on 2 cores; 14 min 07 s at a later commit.
        let quick = cold(&plan("quick", "cpu"), &two_cpu_jobs());
        assert!(
            (11.0 * 60.0..17.0 * 60.0).contains(&quick.wall_s),
            "{}",
            quick.wall_s
        );
        let ci = cold(&plan("ci", "cpu"), &two_cpu_jobs());
        assert!(ci.wall_s < 3600.0 && quick.wall_s < 3600.0);
    }

    #[test]
    fn the_full_profile_on_two_cores_takes_days_and_on_a_gpu_less() {
        let full = plan("full", "cpu");
        let cpu = cold(&full, &two_cpu_jobs());
        assert!(cpu.wall_s > 10.0 * ASK_ABOVE_S, "{}", cpu.wall_s);
        assert!(
            cpu.headline().ends_with("days on 2 CPU jobs"),
            "{}",
            cpu.headline()
        );
        // One model at a time: README, GPU: 264M updates at the measured 1,418 updates/s,
        // scaled from 59 to 53 calls a step (1,579/s), are ~46 GPU-hours, plus probes (~4%).
        let h100 = one_gpu("NVIDIA H100 80GB HBM3");
        let alone = cold(&full, &h100);
        assert!(
            (44.0..52.0).contains(&(alone.wall_s / 3600.0)),
            "{}",
            alone.wall_s
        );
        // Packs of 24 are launch-bound on an H100: faster, but never past the weights' traffic.
        let packed = full.clone().pack(|_| 24).unwrap();
        let packed = cold(&packed, &h100);
        assert!(packed.wall_s < alone.wall_s / 4.0, "{}", packed.wall_s);
        let traffic = 264e6 * weight_traffic_bytes(&reference_run()) / 3.35e12;
        assert!(packed.wall_s > traffic, "{} {traffic}", packed.wall_s);
    }

    #[test]
    fn stages_in_the_store_cost_nothing() {
        let quick = plan("quick", "cpu");
        let all = predict(&quick, &vec![true; quick.stages.len()], &two_cpu_jobs());
        assert_eq!((all.wall_s, all.to_build()), (0.0, 0));
        let mut trials_done = vec![false; quick.stages.len()];
        for (i, stage) in quick.stages.iter().enumerate() {
            trials_done[i] = Group::of(&stage.kind) == Group::Trial;
        }
        let rest = predict(&quick, &trials_done, &two_cpu_jobs());
        let cold = cold(&quick, &two_cpu_jobs());
        assert!(rest.wall_s < cold.wall_s && rest.wall_s > 0.0);
    }

    #[test]
    fn more_jobs_than_there_is_work_do_not_beat_the_longest_chain() {
        let quick = plan("quick", "cpu");
        let wide = Machine {
            jobs: 1000,
            cores: 1000,
            ..two_cpu_jobs()
        };
        let p = cold(&quick, &wide);
        // A trial, then its selection, then a final run, then the renders that read it.
        let chain = train_s(&[&reference_run()], &wide);
        assert!(p.wall_s > chain, "{} {chain}", p.wall_s);
    }

    #[test]
    fn long_times_read_in_days() {
        assert_eq!(human(1_062_720.0), "12.3 days");
        assert_eq!(human(7260.0), "2h01m");
        assert_eq!(thousands(1575.0), "1,575");
        assert_eq!(thousands(2_550_000.0), "2,550,000");
    }

    #[test]
    fn trainers_sharing_a_gpu_are_faster_while_launch_bound_and_never_beat_its_bandwidth() {
        let full = plan("full", "cuda:NVIDIA H100 80GB HBM3");
        let one = one_gpu("NVIDIA H100 80GB HBM3");
        let four = Machine {
            jobs: 4,
            trainers_per_gpu: 4,
            ..one.clone()
        };
        let (alone, shared) = (cold(&full, &one), cold(&full, &four));
        assert!(
            shared.wall_s < alone.wall_s,
            "{} {}",
            shared.wall_s,
            alone.wall_s
        );
        let run = reference_run();
        let bound = gpu_model_traffic_s(&run, &Gpu::named("NVIDIA H100 80GB HBM3").spec);
        let updates: f64 = full
            .stages
            .iter()
            .filter_map(|s| match &s.kind {
                crate::plan::Kind::Train { run, .. } => Some(run.updates as f64),
                _ => None,
            })
            .sum();
        assert!(shared.wall_s > updates * bound * 0.99, "{}", shared.wall_s);
    }

    /// The runs of the `packs` biggest packs of final runs in `plan`, and the plan's stages
    /// marked as in the store but for theirs.
    fn all_cached_but_biggest_final_packs(
        plan: &Plan,
        packs: usize,
    ) -> (Vec<Vec<&RunParams<crate::plan::Lr>>>, Vec<bool>) {
        let mut firsts: Vec<usize> = (0..plan.stages.len())
            .filter(|&i| Group::of(&plan.stages[i].kind) == Group::Final)
            .filter(|&i| plan.pack_members(i)[0] == i)
            .collect();
        firsts.sort_by_key(|&i| std::cmp::Reverse(plan.pack_members(i).len()));
        let mut cached = vec![true; plan.stages.len()];
        let mut runs = Vec::new();
        for &first in &firsts[..packs] {
            let mut pack = Vec::new();
            for m in plan.pack_members(first) {
                cached[m] = false;
                if let crate::plan::Kind::Train { run, .. } = &plan.stages[m].kind {
                    pack.push(run);
                }
            }
            runs.push(pack);
        }
        (runs, cached)
    }

    fn sharing(machine: &Machine, trainers: usize) -> Machine {
        Machine {
            jobs: trainers.max(machine.jobs),
            cores: 16,
            trainers_per_gpu: trainers,
            ..machine.clone()
        }
    }

    #[test]
    fn trainers_that_idle_do_not_slow_a_pack_that_runs_alone() {
        // An L40S streams a pack of 10 slower than one host launches its steps.
        let l40s = one_gpu("NVIDIA L40S");
        let full = plan("full", "cuda:NVIDIA L40S").pack(|_| 10).unwrap();
        let (runs, cached) = all_cached_but_biggest_final_packs(&full, 1);
        let work = GpuWork::of(&runs[0], &l40s.gpu.as_ref().unwrap().spec, 1.0);
        assert!(work.bandwidth_demand() > 1.0, "{work:?}");
        for trainers in [1, 2, 4] {
            let p = predict(&full, &cached, &sharing(&l40s, trainers));
            assert!(
                (p.wall_s - work.alone_s()).abs() < 1e-6 * p.wall_s,
                "{trainers}: {} {}",
                p.wall_s,
                work.alone_s()
            );
        }
    }

    #[test]
    fn packs_stepping_at_once_share_the_bandwidth_and_not_the_launches() {
        // Two packs side by side and one after the other, each pack's time alone, and the
        // seconds the two packs' weights take to stream at the card's bandwidth.
        let walls = |gpu: &str, k: usize| {
            let full = plan("full", &format!("cuda:{gpu}")).pack(|_| k).unwrap();
            let (runs, cached) = all_cached_but_biggest_final_packs(&full, 2);
            let wall = |trainers| predict(&full, &cached, &sharing(&one_gpu(gpu), trainers));
            let spec = Gpu::named(gpu).spec;
            let alone: Vec<f64> = runs
                .iter()
                .map(|pack| GpuWork::of(pack, &spec, 1.0).alone_s())
                .collect();
            let traffic: f64 = runs
                .iter()
                .flatten()
                .map(|r| r.updates as f64 * gpu_model_traffic_s(*r, &spec))
                .sum();
            (wall(2).wall_s, wall(1).wall_s, alone, traffic)
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b;
        // Two host-bound packs of 2 on an H100: side by side, as long as the longer alone.
        let (side_by_side, one_after_the_other, alone, _) = walls("NVIDIA H100 80GB HBM3", 2);
        assert!(close(one_after_the_other, alone[0] + alone[1]));
        assert!(
            close(side_by_side, alone[0].max(alone[1])),
            "{side_by_side} {alone:?}"
        );
        // Two bandwidth-bound packs of 10 on an L40S: side by side their steps take as long
        // as one after the other, and only the seconds outside the steps overlap: never less
        // than the weights' traffic, and more than either pack alone.
        let (side_by_side, one_after_the_other, alone, traffic) = walls("NVIDIA L40S", 10);
        assert!(close(one_after_the_other, alone[0] + alone[1]));
        assert!(side_by_side < one_after_the_other, "{side_by_side}");
        assert!(side_by_side > traffic, "{side_by_side} {traffic}");
        assert!(
            side_by_side > alone[0].max(alone[1]) * 1.2,
            "{side_by_side} {alone:?}"
        );
    }

    #[test]
    fn the_full_profile_on_one_h100_with_its_host_s_cores_is_predicted_within_three_hours() {
        let full = plan("full", "cuda:NVIDIA H100 80GB HBM3");
        let packed = full.pack(|run| saturating_pack(run, &GPUS[H100])).unwrap();
        let cached = vec![false; packed.stages.len()];
        let on = |cores: usize| {
            fastest_trainers(&packed, &cached, |trainers| Machine {
                jobs: cores.max(trainers),
                cores,
                trainers_per_gpu: trainers,
                ..one_gpu("NVIDIA H100 80GB HBM3")
            })
        };
        // The GPU machine this project was lent: 16 cores.
        let host = on(16);
        assert!(
            host.trainers_chosen && host.trainers_per_gpu > 1,
            "{host:?}"
        );
        let wall = predict(&packed, &cached, &host).wall_s;
        assert!(wall <= 3.0 * 3600.0, "{}", human(wall));
        // Two cores launch for at most two trainers.
        assert!(on(2).trainers_per_gpu <= 2);
        // Without a GPU there is nothing to share.
        let cpu = fastest_trainers(&packed, &cached, |_| two_cpu_jobs());
        assert_eq!((cpu.trainers_per_gpu, cpu.trainers_chosen), (1, false));
    }

    #[test]
    fn packs_are_capped_where_more_models_add_no_throughput() {
        let h100 = Gpu::named("NVIDIA H100 80GB HBM3").spec;
        let run = reference_run();
        let k = saturating_pack(&run, &h100);
        assert!((16..=64).contains(&k), "{k}");
        let rate = |k: usize| k as f64 / gpu_step_s(&run, k, &h100);
        assert!(
            rate(k) > 1.5 * rate(k / 2),
            "below it, a bigger pack still pays"
        );
        assert!(rate(2 * k) < 1.01 * rate(k), "above it, it does not");
        let narrow = RunParams { width: 8, ..run };
        assert!(
            saturating_pack(&narrow, &h100) > 1000,
            "tiny nets stay launch-bound"
        );
    }
}
