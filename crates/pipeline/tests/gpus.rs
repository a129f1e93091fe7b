//! Spreading training runs over GPUs, one device per run. This machine has no GPU, so the stage
//! binaries are replaced by small recorders (`common::fake`: shell scripts that make real store
//! entries and note the device they were given); what is under test is `paper`'s scheduling and
//! keying.

mod common;

use common::{fake, succeeded, Sandbox};

/// Four runs (two settings, two seeds) to spread over two GPUs.
fn four_runs() -> String {
    common::profile_on(
        "four runs to spread over two GPUs",
        "shapeset = { seeds = [0, 1] }\n",
        "[figures]\nfig6 = {}\n",
    )
}

/// A finished `paper` run on fake GPUs: the recorders' log, what `paper` printed, and the
/// sandbox (for further commands).
struct FakeRun {
    log: String,
    stdout: String,
    sb: Sandbox,
    _scratch: tempfile::TempDir,
}

/// Runs `four_runs` on `gpus` fake GPUs with `extra` flags.
fn run_on_fake_gpus(gpus: &str, extra: &[&str]) -> FakeRun {
    let scratch = tempfile::tempdir().unwrap();
    fake::recorders(&scratch.path().join("bin"));
    let sb = Sandbox::with_bins(&four_runs(), scratch.path().join("bin"));
    let log = scratch.path().join("recorder.log");
    let mut args = sb.run_args();
    args.extend(["--gpus", gpus].map(String::from));
    args.extend(extra.iter().map(ToString::to_string));
    let run = sb.command(args).env("RECORDER_LOG", &log).output().unwrap();
    let stdout = succeeded("paper run --gpus", &run);
    assert!(
        stdout.contains(&format!("training on {gpus} x unknown")),
        "{stdout}"
    );
    FakeRun {
        log: std::fs::read_to_string(&log).unwrap(),
        stdout,
        sb,
        _scratch: scratch,
    }
}

/// From the recorders' log of (start|end, time, gpu, device) lines: the most runs any one GPU
/// held at once, and the most runs at once in all.
fn busiest(text: &str) -> (i32, i32) {
    let mut events: Vec<(f64, i32, String)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f[3], "cuda", "a GPU run is told --device cuda: {l}");
            (
                f[1].parse().unwrap(),
                if f[0] == "start" { 1 } else { -1 },
                f[2].to_string(),
            )
        })
        .collect();
    assert_eq!(events.len(), 8, "four runs:\n{text}");
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut busy = std::collections::BTreeMap::<String, i32>::new();
    let (mut one, mut all) = (0, 0);
    for (_, delta, gpu) in &events {
        *busy.entry(gpu.clone()).or_default() += delta;
        one = one.max(busy[gpu]);
        all = all.max(busy.values().sum::<i32>());
    }
    (one, all)
}

#[test]
fn each_training_run_gets_its_own_gpu() {
    // One trainer per GPU, as asked: left to the cost model, a host with cores to spare
    // would share each GPU between two of these launch-bound runs.
    let FakeRun { log: text, sb, .. } = run_on_fake_gpus("2", &["--trainers-per-gpu", "1"]);
    assert!(
        text.lines()
            .all(|l| matches!(l.split(' ').nth(2), Some("0" | "1"))),
        "CUDA_VISIBLE_DEVICES is 0 or 1:\n{text}"
    );
    assert_eq!(
        busiest(&text),
        (1, 2),
        "no GPU ever holds two runs, and both were used at once:\n{text}"
    );

    // The device class is part of the key: on the CPU the same runs are other stages.
    let status = sb.ok([
        "status",
        "--gpus",
        "0",
        "--profile-file",
        sb.profile().to_str().unwrap(),
    ]);
    assert_eq!(
        status
            .lines()
            .filter(|l| l.starts_with("missing  train/"))
            .count(),
        4,
        "{status}"
    );
}

/// Issue 23: trainers share a GPU when asked (a launch-bound trainer leaves most of it idle).
#[test]
fn trainers_share_a_gpu_when_asked() {
    let text = run_on_fake_gpus("1", &["--trainers-per-gpu", "2"]).log;
    assert!(
        text.lines().all(|l| l.split(' ').nth(2) == Some("0")),
        "{text}"
    );
    assert_eq!(busiest(&text), (2, 2), "two runs at once on GPU 0:\n{text}");
}

/// Without `--trainers-per-gpu`, the count is the cost model's choice, which `paper` names in
/// its first line: 1 to 4, no more than the cores, and never exceeded.
#[test]
fn trainers_per_gpu_follow_the_cost_model_when_not_given() {
    let run = run_on_fake_gpus("1", &[]);
    let first = run.stdout.lines().next().unwrap();
    assert!(first.starts_with("paper: predicted "), "{first}");
    let trainers = match first.split_once(" trainers each") {
        Some((before, _)) => before.rsplit(' ').next().unwrap().parse().unwrap(),
        None => 1,
    };
    let cores = std::thread::available_parallelism().unwrap().get() as i32;
    assert!((1..=4.min(cores)).contains(&trainers), "{first}");
    let (one_gpu, _) = busiest(&run.log);
    assert!(one_gpu <= trainers, "{first}\n{}", run.log);
}

/// A machine whose `nvidia-smi` lists an H100, with this build's real trainers (no CUDA here):
/// `paper` refuses in one line before anything is planned, stored or trained, naming the fix
/// and `--gpus 0`; with `--gpus 0` it trains on the CPU.
#[test]
fn gpus_the_trainers_cannot_use_are_refused_before_anything_trains() {
    let Some(sb) = Sandbox::new(&common::tiny()) else {
        eprintln!("skipped: stage binaries not built");
        return;
    };
    let identity = std::process::Command::new(sb.bins.join("train"))
        .arg("identity")
        .output()
        .unwrap();
    let identity: serde_json::Value = serde_json::from_slice(&identity.stdout).unwrap();
    if identity["cuda"] == true {
        eprintln!("skipped: this build sees a real GPU");
        return;
    }
    let fake_path = sb.dir.path().join("fake-path");
    std::fs::create_dir_all(&fake_path).unwrap();
    let smi = fake_path.join("nvidia-smi");
    std::fs::write(
        &smi,
        "#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0000)'\n",
    )
    .unwrap();
    std::fs::set_permissions(&smi, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", fake_path.display(), std::env::var("PATH").unwrap());

    let refused = sb
        .command(sb.run_args())
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("1 x NVIDIA H100 80GB HBM3"), "{stderr}");
    assert!(stderr.contains("built without CUDA"), "{stderr}");
    assert!(stderr.contains("--gpus 0"), "{stderr}");
    assert!(!sb.store().exists(), "nothing stored before the refusal");
    assert!(!sb.out().exists(), "nothing published before the refusal");

    let mut on_cpu = sb.run_args();
    on_cpu.extend(["--gpus", "0"].map(String::from));
    let trained = sb.command(on_cpu).env("PATH", &path).output().unwrap();
    let stdout = succeeded("paper run --gpus 0 beside a fake nvidia-smi", &trained);
    assert!(stdout.contains("training on the CPU"), "{stdout}");
}
