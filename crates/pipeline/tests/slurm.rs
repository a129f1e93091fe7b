//! `paper slurm`: the scripts are valid bash and name every run; run as Slurm would run them
//! (array tasks, then the finishing job) they build exactly the entries a local `paper` expects.

mod common;

use common::{succeeded, tiny, Sandbox, TINY_TRAINS};
use std::process::Command;

#[test]
fn slurm_scripts_run_every_training_task_then_publish() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let dir = sb.dir.path().join("slurm");
    let profile = sb.profile();
    let out = sb.out();
    let args = [
        "slurm",
        "--out",
        dir.to_str().unwrap(),
        "--profile-file",
        profile.to_str().unwrap(),
    ];
    let printed = sb.ok([
        &args[..],
        &[
            "--cpu",
            "--cpus-per-task",
            "1",
            "--publish-to",
            out.to_str().unwrap(),
        ],
    ]
    .concat());
    assert!(printed.contains("slurm: 2 training tasks"), "{printed}");

    for script in ["train.sbatch", "finish.sbatch", "submit.sh"] {
        let check = Command::new("bash")
            .arg("-n")
            .arg(dir.join(script))
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let train = std::fs::read_to_string(dir.join("train.sbatch")).unwrap();
    assert!(train.contains("#SBATCH --array=0-1\n"), "{train}");
    // Requeue near the time limit: USR1 to the batch shell only, which requeues its task.
    assert!(train.contains("#SBATCH --requeue\n"), "{train}");
    assert!(
        train.contains(&format!(
            "#SBATCH --signal=B:USR1@{}\n",
            pipeline::slurm::REQUEUE_WARNING_S
        )),
        "{train}"
    );
    assert!(train.contains("#SBATCH --open-mode=append\n"), "{train}");
    assert!(train.contains("trap requeue USR1\n"), "{train}");
    assert!(!train.contains("--gres"), "--cpu asks for no GPU");
    for run in TINY_TRAINS {
        assert!(
            train.contains(&format!("'{run}'")),
            "{run} missing from:\n{train}"
        );
    }
    assert!(
        train.contains("train --dataset shapeset --activation tanh --init normalized"),
        "{train}"
    );
    let submit = std::fs::read_to_string(dir.join("submit.sh")).unwrap();
    assert!(
        submit.contains("--dependency=afterany:$train finish.sbatch"),
        "{submit}"
    );
    assert!(
        submit.contains(r#"throttle=(--array=0-1%"$XAVIER_SLURM_THROTTLE")"#),
        "{submit}"
    );

    // What Slurm would do: each array task, then the finishing job.
    let slurm = |script: &str, task: Option<usize>| {
        let mut cmd = Command::new("bash");
        cmd.arg(dir.join(script))
            .env("SLURM_CPUS_PER_TASK", "1")
            .env("OMP_NUM_THREADS", "1");
        if let Some(task) = task {
            cmd.env("SLURM_ARRAY_TASK_ID", task.to_string());
        }
        succeeded(&format!("{script} {task:?}"), &cmd.output().unwrap())
    };
    for (task, run) in TINY_TRAINS.iter().enumerate() {
        let ran = slurm("train.sbatch", Some(task));
        assert!(ran.contains(&format!("done    {run}")), "{ran}");
    }
    let finished = slurm("finish.sbatch", None);
    assert!(
        !finished.contains("start   train/"),
        "the finishing job trains nothing:\n{finished}"
    );
    assert!(
        out.join("fig6.png").is_file() && out.join("MANIFEST.json").is_file(),
        "{finished}"
    );

    // The plan's keys are the keys a local paper computes: it finds everything built.
    sb.run_cached(7);
    sb.assert_verified();
}

/// `--pack-size 2`: fig6's two runs (one shape, two inits) are one array task, which trains
/// them in one `train-pack` and stores each under its own key; a local paper with the same
/// packing then finds everything built.
#[test]
fn a_pack_is_one_array_task() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let dir = sb.dir.path().join("slurm");
    let (profile, out) = (sb.profile(), sb.out());
    let printed = sb.ok([
        "slurm",
        "--out",
        dir.to_str().unwrap(),
        "--profile-file",
        profile.to_str().unwrap(),
        "--cpu",
        "--cpus-per-task",
        "1",
        "--pack-size",
        "2",
        "--publish-to",
        out.to_str().unwrap(),
    ]);
    assert!(printed.contains("slurm: 1 training tasks"), "{printed}");
    let train = std::fs::read_to_string(dir.join("train.sbatch")).unwrap();
    assert!(train.contains("#SBATCH --array=0-0\n"), "{train}");
    assert!(
        train.contains(&format!(
            "train-pack, a pack of 2: {}",
            TINY_TRAINS.join(" ")
        )),
        "{train}"
    );
    let task = Command::new("bash")
        .arg(dir.join("train.sbatch"))
        .env("SLURM_CPUS_PER_TASK", "1")
        .env("SLURM_ARRAY_TASK_ID", "0")
        .env("OMP_NUM_THREADS", "1")
        .output()
        .unwrap();
    let ran = succeeded("train.sbatch 0", &task);
    for run in TINY_TRAINS {
        assert!(ran.contains(&format!("done    {run}")), "{ran}");
    }
    let mut local = sb.run_args();
    local.extend(["--pack-size".into(), "2".into()]);
    let again = sb.ok(local);
    assert!(
        !again.contains("start   train/"),
        "the pack's runs are in the store under the pack engine's keys:\n{again}"
    );
}
