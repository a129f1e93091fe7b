//! `paper slurm`: the plan as Slurm jobs. Slurm is the engine; `paper` only writes
//! - `plan.json`, the DAG with its tool identities fixed at generation time, so keys computed on
//!   the cluster match the ones written here;
//! - `train.sbatch`, a job array with one task per training run missing from the store (or per
//!   pack, with `--pack-size`); each task runs `paper run-stage`, which runs that run's exact
//!   `train` command (or its pack's `train-pack`) into the store.
//!   Where the profile selects learning rates, a final run waits for its selection, which
//!   `finish.sbatch` makes from the trials: run `paper slurm` again once it has, to submit
//!   the final runs;
//! - `finish.sbatch`, which renders and publishes once the array has ended (training nothing);
//! - `submit.sh`, which submits both, the second depending on the first.
//!
//! Each array task may be requeued: `--requeue`, and `--signal=B:USR1@<s>` warns the batch shell
//! [`REQUEUE_WARNING_S`] seconds before the time limit, which then requeues its own task
//! (`scontrol requeue`). The requeued task runs `paper run-stage` again, which resumes `train`
//! from the checkpoint its work directory holds (the last probe), as it does after `scancel`
//! and a resubmission. `XAVIER_SLURM_THROTTLE=N ./submit.sh` runs at most N tasks at once
//! (`--array=0-<last>%N`). Task logs are appended to, so a requeued task's log keeps every start.

use crate::exec::{train_args, trained_run, work_dir, Context};
use crate::plan::{Kind, Plan, StageResult};
use crate::status::resolve;
use anyhow::{bail, Context as _, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use store::Key;

/// Seconds before a task's time limit at which Slurm signals it (USR1) to requeue itself.
pub const REQUEUE_WARNING_S: u32 = 300;

/// What the scripts need besides the plan.
pub struct Cluster {
    /// Directory the scripts are written to.
    pub dir: PathBuf,
    pub paper: PathBuf,
    pub publish_to: PathBuf,
    pub partition: Option<String>,
    pub time: String,
    pub cpus_per_task: usize,
    /// `--gres` for training tasks (none when training on CPUs).
    pub gres: Option<String>,
}

/// A training task of the array.
pub struct Task {
    pub stage: String,
    pub key: String,
    pub command: String,
}

/// Writes the scripts; returns the training tasks (runs already in the store are left out, as
/// are runs whose dataset is not in the store).
pub fn write(plan: &Plan, ctx: &Context, cluster: &Cluster) -> Result<Vec<Task>> {
    std::fs::create_dir_all(cluster.dir.join("logs"))
        .with_context(|| format!("cannot create {}", cluster.dir.display()))?;
    let dir = cluster.dir.canonicalize()?;
    let plan_path = dir.join("plan.json");
    store::atomic::write_atomic(&plan_path, serde_json::to_string_pretty(plan)?.as_bytes())?;
    let resolved = resolve(plan, ctx);
    let results: Vec<Option<StageResult>> = resolved.iter().map(|r| r.result.clone()).collect();
    let mut tasks = Vec::new();
    let mut packs_tasked = BTreeSet::new();
    for (i, (stage, r)) in plan.stages.iter().zip(&resolved).enumerate() {
        let Kind::Train { pack, .. } = &stage.kind else {
            continue;
        };
        match (&r.key, &r.result) {
            (_, Some(_)) => {}
            (None, None) => println!(
                "skip    {}: {} is not in the store",
                stage.name,
                r.waits_on.join(", ")
            ),
            (Some((_, key)), None) => {
                let command = match pack {
                    // One task per pack: the first member missing from the store names it.
                    Some(first) if !packs_tasked.insert(*first) => continue,
                    Some(_) => pack_comment(plan, &results, i),
                    None => train_command(plan, i, &results, ctx, cluster, key)?,
                };
                tasks.push(Task {
                    stage: stage.name.clone(),
                    key: key.to_string(),
                    command,
                });
            }
        }
    }
    let store = ctx.store.root().canonicalize()?;
    let common = format!(
        "export XAVIER_BIN_DIR={}\nexport XAVIER_STORE={}\n",
        quote(&ctx.bin_dir.canonicalize()?),
        quote(&store)
    );
    let mut submit = String::from(
        "#!/usr/bin/env bash\n# Written by `paper slurm`: submits the training array, then the job that renders\n\
         # and publishes the figures once the array has ended.\nset -euo pipefail\ncd \"$(dirname \"$0\")\"\n",
    );
    let mut finish_after = String::new();
    if !tasks.is_empty() {
        let train = train_script(plan, cluster, &tasks, &common, &plan_path);
        write_script(&dir.join("train.sbatch"), &train)?;
        submit.push_str(&format!(
            "# XAVIER_SLURM_THROTTLE=N: at most N training tasks at once.\n\
             throttle=()\n\
             if [[ -n ${{XAVIER_SLURM_THROTTLE:-}} ]]; then throttle=(--array=0-{}%\"$XAVIER_SLURM_THROTTLE\"); fi\n\
             train=$(sbatch --parsable \"${{throttle[@]}}\" train.sbatch)\ntrain=${{train%%;*}}\necho \"training: job array $train, {} runs\"\n",
            tasks.len() - 1,
            tasks.len()
        ));
        finish_after = " --dependency=afterany:$train".into();
    }
    let finish = finish_script(plan, cluster, &common, &plan_path);
    write_script(&dir.join("finish.sbatch"), &finish)?;
    submit.push_str(&format!(
        "finish=$(sbatch --parsable{finish_after} finish.sbatch)\necho \"figures: job ${{finish%%;*}}\"\n"
    ));
    write_script(&dir.join("submit.sh"), &submit)?;
    Ok(tasks)
}

/// The exact `train` command stage `i`, a single run, runs in its task.
fn train_command(
    plan: &Plan,
    i: usize,
    results: &[Option<StageResult>],
    ctx: &Context,
    cluster: &Cluster,
    key: &Key,
) -> Result<String> {
    let stage = &plan.stages[i];
    let Kind::Train { device, run, .. } = &stage.kind else {
        bail!("{} is not a training run", stage.name);
    };
    let data = results[stage.deps[0]]
        .as_ref()
        .expect("a keyed run has its dataset");
    let args = train_args(
        &trained_run(plan, i, results)?,
        run.lr.is_trial(),
        device,
        cluster.cpus_per_task,
        &data.output,
        &work_dir(&ctx.store, key),
    );
    Ok(std::iter::once("train".to_string())
        .chain(args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" "))
}

/// What a pack's task trains: `train-pack` on the members of stage `i`'s pack the store lacks.
fn pack_comment(plan: &Plan, results: &[Option<StageResult>], i: usize) -> String {
    let members: Vec<&str> = plan
        .pack_members(i)
        .into_iter()
        .filter(|&m| results[m].is_none())
        .map(|m| plan.stages[m].name.as_str())
        .collect();
    format!(
        "train-pack, a pack of {}: {}",
        members.len(),
        members.join(" ")
    )
}

fn header(cluster: &Cluster, name: &str, log: &str) -> String {
    let mut lines = vec![
        format!("#SBATCH --job-name={name}"),
        format!("#SBATCH --cpus-per-task={}", cluster.cpus_per_task),
        format!("#SBATCH --time={}", cluster.time),
        format!(
            "#SBATCH --output={}",
            cluster.dir.join("logs").join(log).display()
        ),
    ];
    if let Some(partition) = &cluster.partition {
        lines.push(format!("#SBATCH --partition={partition}"));
    }
    lines.join("\n") + "\n"
}

fn train_script(
    plan: &Plan,
    cluster: &Cluster,
    tasks: &[Task],
    common: &str,
    plan_path: &Path,
) -> String {
    let mut s = format!(
        "#!/usr/bin/env bash\n# Written by `paper slurm`: the training runs of profile {}, one array task each.\n\
         # Each task runs the exact train command in its comment, into the store, via `paper run-stage`.\n",
        plan.profile
    );
    s.push_str(&header(cluster, "xavier-train", "train-%A_%a.log"));
    s.push_str(&format!("#SBATCH --array=0-{}\n", tasks.len() - 1));
    if let Some(gres) = &cluster.gres {
        s.push_str(&format!("#SBATCH --gres={gres}\n"));
    }
    s.push_str(&format!(
        "#SBATCH --requeue\n#SBATCH --signal=B:USR1@{REQUEUE_WARNING_S}\n#SBATCH --open-mode=append\n"
    ));
    s.push_str("set -euo pipefail\n");
    s.push_str(common);
    s.push_str("stages=(\n");
    for task in tasks {
        s.push_str(&format!(
            "  # key {}: {}\n  {}\n",
            task.key,
            task.command,
            quote(Path::new(&task.stage))
        ));
    }
    s.push_str(")\n");
    s.push_str(REQUEUE_ON_USR1);
    s.push_str(&format!(
        "{} run-stage --plan {} \"${{stages[$SLURM_ARRAY_TASK_ID]}}\" &\n",
        quote(&cluster.paper),
        quote(plan_path)
    ));
    s.push_str(WAIT_FOR_STAGE);
    s
}

/// Near the time limit Slurm sends USR1 to the batch shell only (`B:`), so the run goes on
/// until the requeue ends the task; the next start resumes from the last checkpoint.
const REQUEUE_ON_USR1: &str = r#"task="${SLURM_ARRAY_JOB_ID:-}_${SLURM_ARRAY_TASK_ID}"
requeue() {
  echo "paper slurm: task $task is near its time limit: requeueing; it resumes from its last checkpoint"
  scontrol requeue "$task"
}
trap requeue USR1
echo "paper slurm: task $task, stage ${stages[$SLURM_ARRAY_TASK_ID]}, start ${SLURM_RESTART_COUNT:-0}"
"#;

/// `wait` returns early (status > 128) when a trapped signal arrives: wait again for the stage.
const WAIT_FOR_STAGE: &str = r#"stage=$!
status=0
wait "$stage" || status=$?
while ((status > 128)) && kill -0 "$stage" 2>/dev/null; do
  status=0
  wait "$stage" || status=$?
done
exit "$status"
"#;

fn finish_script(plan: &Plan, cluster: &Cluster, common: &str, plan_path: &Path) -> String {
    let mut s = format!(
        "#!/usr/bin/env bash\n# Written by `paper slurm`: renders and publishes the figures of profile {} from the\n\
         # runs in the store; it trains nothing (runs the array did not finish are skipped).\n",
        plan.profile
    );
    s.push_str(&header(cluster, "xavier-figures", "figures-%j.log"));
    s.push_str("set -euo pipefail\n");
    s.push_str(common);
    s.push_str(&format!(
        "exec {} run --plan {} --no-train --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\" --out {}\n",
        quote(&cluster.paper),
        quote(plan_path),
        quote(&cluster.publish_to)
    ));
    s
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    store::atomic::write_atomic(path, text.as_bytes())?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

/// A path as one single-quoted shell word.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_spaces() {
        assert_eq!(quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
