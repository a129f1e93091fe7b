#!/usr/bin/env bash
# The live Slurm test: the real `paper`, `train`, `shapeset` and `figures` binaries on a real
# one-node Slurm cluster (tests/slurm/cluster.sh), on a fresh store under the cluster's temp dir.
#
#  1. `paper slurm` for the ci profile (it builds the datasets on the submitting host, as compute
#     nodes are often offline, and writes one array task per training run missing from the store).
#  2. The training runs go in as one job array, one task per run, with a %2 throttle;
#     `paper status` shows the progress while it runs.
#  3. One task is cancelled (`scancel`) once its run has written a checkpoint; another one, once it
#     has one too, gets the USR1 that `--signal=B:USR1@<s>` sends its batch shell before the time
#     limit (`scancel --batch --signal=USR1`: a short limit could fire before the first checkpoint,
#     which a run writes at its first regular probe), and the task requeues itself.
#  4. `paper status` names the cancelled run as resumable; a second `paper slurm` plans only it,
#     and its `submit.sh` resubmits it plus the finishing job: the task resumes from the
#     checkpoint (not from step 0), and the finishing job renders and publishes, training nothing.
#  5. A local `paper --profile ci` on the same store then has nothing to do.
# The cluster is torn down on exit, pass or fail.
#
# Needs root and the release binaries: XAVIER_BIN_DIR, else $CARGO_TARGET_DIR/release.
# SLURM_TEST_PROFILE (default ci) picks the built-in profile.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
# shellcheck source=tests/slurm/cluster.sh
source tests/slurm/cluster.sh

bin=${XAVIER_BIN_DIR:-${CARGO_TARGET_DIR:-$repo/target}/release}
for b in paper train shapeset figures; do
  [[ -x $bin/$b ]] || { echo "slurm-live: $bin/$b is not built (cargo build --release --workspace --bins)" >&2; exit 1; }
done
paper=$bin/paper
profile=${SLURM_TEST_PROFILE:-ci}
throttle=2
started=$SECONDS
say() { echo "slurm-live: $* ($((SECONDS - started))s)"; }
fail() { echo "slurm-live: FAILED: $*" >&2; exit 1; }

cluster_up
work=$SLURM_DIR/work
out=$work/figures
mkdir -p "$work"
export XAVIER_STORE=$work/store
export OMP_NUM_THREADS=1
slurm_args=(--profile "$profile" --cpu --cpus-per-task 1 --time 30 --publish-to "$out")

# The progress line: squeue's task states, and the tally line of `paper status`.
progress() {
  local q
  q=$(squeue -h -o '%T' | sort | uniq -c | awk '{printf "%s %s, ", $1, tolower($2)}')
  echo "  [$((SECONDS - started))s] squeue: ${q:-empty, } $("$paper" status --profile "$profile" --out "$out" | tail -n 1)"
}

# 1-2. The plan, and the training runs as one job array.
printed=$("$paper" slurm --out "$work/plan1" "${slurm_args[@]}")
echo "$printed" | tail -n 1
tasks=$(sed -n 's/^slurm: \([0-9]*\) training tasks.*/\1/p' <<<"$printed")
((tasks >= 3)) || fail "paper slurm planned ${tasks:-no} training tasks: $printed"
# Stage name and key of each task, as train.sbatch lists them.
mapfile -t keys < <(sed -n 's/^  # key \([0-9a-f]*\): .*/\1/p' "$work/plan1/train.sbatch")
mapfile -t names < <(sed -n "s/^  '\(train\/[^']*\)'$/\1/p" "$work/plan1/train.sbatch")
((${#keys[@]} == tasks && ${#names[@]} == tasks)) || fail "train.sbatch lists ${#keys[@]} keys and ${#names[@]} stages for $tasks tasks"
cancel=0   # scancel'ed mid-run, then resubmitted
requeue=1  # USR1 near the (would-be) time limit: requeue, resume
array=$(sbatch --parsable --array=0-$((tasks - 1))%$throttle "$work/plan1/train.sbatch")
array=${array%%;*}
say "submitted job array $array: $tasks tasks (--array=0-$((tasks - 1))%$throttle)"

checkpoint_step() {
  local state=$XAVIER_STORE/work/$1/pack-checkpoint.json
  [[ -f $state ]] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$state" 2>/dev/null || echo 0
}

cancelled_at=""
signalled=""
raised=""
last=0
while [[ -n $(squeue -h -j "$array" 2>/dev/null) ]]; do
  ((SECONDS - started < 1500)) || fail "the array is still running after 25 minutes"
  if [[ -z $cancelled_at ]]; then
    step=$(checkpoint_step "${keys[$cancel]}")
    if ((step >= 1000)); then
      scancel "${array}_$cancel"
      cancelled_at=$step
      say "scancel ${array}_$cancel (${names[$cancel]}) with a checkpoint at step $step"
    fi
  fi
  # USR1 once, after a checkpoint. Slurm may refuse to signal a job it is changing ("try again
  # later", even as the signal went through): a requeue seen in Restarts counts as delivered.
  if [[ -z $signalled ]]; then
    restarts=$(scontrol show job "${array}_$requeue" 2>/dev/null | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
    if ((${restarts:-0} >= 1)); then
      signalled=1
    elif (($(checkpoint_step "${keys[$requeue]}") >= 1000)) \
      && [[ $(slurm_state "${array}_$requeue") == RUNNING ]] \
      && scancel --batch --signal=USR1 "${array}_$requeue" 2>/dev/null; then
      signalled=1
    fi
    [[ -z $signalled ]] || say "USR1 to the batch shell of ${array}_$requeue, as --signal=B:USR1 sends it before the time limit"
  fi
  if [[ -n $signalled && -z $raised ]]; then
    restarts=$(scontrol show job "${array}_$requeue" 2>/dev/null | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
    if ((${restarts:-0} >= 1)); then
      raised=1
      say "task ${array}_$requeue got USR1 and requeued itself (restarts: $restarts)"
    fi
  fi
  if ((SECONDS - last >= 15)); then
    progress
    last=$SECONDS
  fi
  sleep 1
done
progress
say "job array $array ended"

[[ -n $cancelled_at ]] || fail "task $cancel ended before it could be cancelled after a checkpoint"
[[ -n $raised ]] || fail "task $requeue was never requeued by USR1"
for ((t = 0; t < tasks; t++)); do
  state=$(slurm_state "${array}_$t")
  if ((t == cancel)); then
    [[ $state == CANCELLED ]] || fail "task $t: $state, expected CANCELLED"
  else
    [[ $state == COMPLETED ]] || fail "task $t: $state; log: $(tail -n 5 "$work/plan1/logs/train-${array}_$t.log")"
  fi
done
log=$work/plan1/logs/train-${array}_$requeue.log
grep -q 'near its time limit: requeueing' "$log" || fail "task $requeue was not requeued by its USR1 trap: $(cat "$log")"
grep -q 'start 1$' "$log" || fail "task $requeue did not start a second time: $(cat "$log")"
! grep -q 'cannot resume' "$log" || fail "task $requeue started over after its requeue: $(cat "$log")"
grep -q "start   ${names[$requeue]}  \[key [0-9a-f]*\] resuming" "$log" \
  || fail "task $requeue did not resume after its requeue: $(cat "$log")"
say "task $requeue: requeued by USR1, restarted, resumed from its checkpoint and COMPLETED"

# 3. The cancelled run is resumable; a new plan holds only it.
status=$("$paper" status --profile "$profile" --out "$out")
grep -q "^missing  ${names[$cancel]} .*(resumable: a killed run left checkpoints)" <<<"$status" \
  || fail "paper status does not list ${names[$cancel]} as resumable: $status"
step=$(checkpoint_step "${keys[$cancel]}")
((step >= 1000)) || fail "the cancelled run's checkpoint is at step $step"
printed=$("$paper" slurm --out "$work/plan2" "${slurm_args[@]}")
echo "$printed" | tail -n 1
grep -q '^slurm: 1 training tasks' <<<"$printed" || fail "the second plan is not the one cancelled run: $printed"
grep -q "^  # key ${keys[$cancel]}: " "$work/plan2/train.sbatch" || fail "the second plan's task has another key"
say "resubmitting ${names[$cancel]}: its checkpoint is at step $step of $(sed -n 's/.*"updates": *\([0-9]*\).*/\1/p' "$XAVIER_STORE/work/${keys[$cancel]}/config.json" 2>/dev/null | head -n1)"
submitted=$(cd "$work/plan2" && XAVIER_SLURM_THROTTLE=$throttle ./submit.sh)
echo "$submitted"
array2=$(sed -n 's/^training: job array \([0-9]*\),.*/\1/p' <<<"$submitted")
finish=$(sed -n 's/^figures: job \([0-9]*\).*/\1/p' <<<"$submitted")
[[ -n $array2 && -n $finish ]] || fail "submit.sh printed: $submitted"
resume_started=$SECONDS
while [[ -n $(squeue -h -j "$array2,$finish" 2>/dev/null) ]]; do
  ((SECONDS - started < 2400)) || fail "the resubmission is still running after 40 minutes"
  if ((SECONDS - last >= 15)); then
    progress
    last=$SECONDS
  fi
  sleep 1
done
progress
resume_finished=$SECONDS
log=$work/plan2/logs/train-${array2}_0.log
[[ $(slurm_state "${array2}_0") == COMPLETED ]] || fail "the resubmitted task: $(slurm_state "${array2}_0"): $(cat "$log")"
grep -q "start   ${names[$cancel]}  \[key ${keys[$cancel]:0:12}\] resuming" "$log" \
  || fail "the resubmitted task did not resume: $(cat "$log")"
! grep -q 'cannot resume' "$log" || fail "the resubmitted task started over: $(cat "$log")"
say "resubmitted task ${array2}_0 resumed ${names[$cancel]} from step $step and COMPLETED"

# 4. The finishing job rendered and published from the store, training nothing.
flog=$(ls "$work"/plan2/logs/figures-"$finish".log)
[[ $(slurm_state "$finish") == COMPLETED ]] || fail "the finishing job: $(slurm_state "$finish"): $(tail -n 20 "$flog")"
! grep -q '^start   train/' "$flog" || fail "the finishing job trained: $(grep '^start   train/' "$flog")"
[[ -f $out/MANIFEST.json && -f $out/REPORT.md ]] || fail "nothing published in $out: $(tail -n 20 "$flog")"
say "finishing job $finish: $(tail -n 1 "$flog")"

# 5. Locally, the same store and profile: every stage, each training run included, is cached.
again=$("$paper" --profile "$profile" --out "$out" 2>&1)
grep -q '^nothing to do: all [0-9]* stages cached' <<<"$again" || fail "a local paper run did work: $again"
status=$("$paper" status --profile "$profile" --out "$out")
trained=$(grep -c '^cached   train/' <<<"$status" || true)
((trained == tasks)) || fail "paper status shows $trained of $tasks training runs cached: $status"
say "local paper: $(tail -n 1 <<<"$again"); $trained of $tasks training runs cached"
"$paper" verify --out "$out" | tail -n 1
say "$tasks tasks in one array (%$throttle); task $cancel cancelled at step $cancelled_at, resubmitted and resumed from step $step; task $requeue requeued by USR1 and resumed; resubmission and rendering took $((resume_finished - resume_started))s"
echo "slurm-live: 1 passed, 0 failed"
