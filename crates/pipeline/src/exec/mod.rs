//! Running one stage: its command line, its child process, and moving its output into the store.
//!
//! Every entry `paper` makes holds `stage.json` ([`StageRecord`]): the stage, the entry and path
//! of its primary output and the command that made it. A dataset stage's entry holds only that
//! record, pointing at the entry the dataset binary made itself (whose key `paper` cannot know
//! before running it).
//!
//! A cached entry is checked before it is trusted ([`TRUST_DEPTH`]): small entries are rehashed,
//! large ones checked by size, and the runs a render reads are rehashed before it reads them. A
//! half or damaged entry is moved to the store's quarantine and rebuilt, never served.

mod child;
mod dataset;
pub mod interrupt;
mod pack;
mod render;
mod select;
mod train;

pub use pack::run_pack;
pub use select::trained_run;
pub use train::{train_args, work_dir};

use crate::plan::{Kind, Lr, Plan, StageResult};
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use store::{Checked, Depth, Entry, Key, Store};

/// The record `paper` adds to every entry it makes.
pub const RECORD: &str = "stage.json";

/// How much of a cached entry is checked before it is used: every byte of entries up to
/// 16 MiB (renders, records, small runs), sizes and records of larger ones (long runs,
/// datasets), whose bytes are hashed when a stage reads them and when they are published.
pub const TRUST_DEPTH: Depth = Depth::FullUpTo(16 << 20);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: String,
    /// The entry holding the primary output (this entry, but for dataset stages).
    pub output_key: Key,
    /// The primary output, relative to that entry's directory (`.` for a whole render).
    pub output: String,
    /// The stage binary's command line, as run.
    pub command: Vec<String>,
    pub seconds: f64,
}

/// How one attempt at a stage ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Built {
        result: StageResult,
        seconds: f64,
    },
    Cached(StageResult),
    /// Not run, and that is no error: a dataset that cannot be had, or a stage outside the scope.
    Skipped(String),
    Failed(String),
}

impl Outcome {
    pub fn result(&self) -> Option<&StageResult> {
        match self {
            Outcome::Built { result, .. } | Outcome::Cached(result) => Some(result),
            Outcome::Skipped(_) | Outcome::Failed(_) => None,
        }
    }
}

/// Which stages this process may run; the others are used when cached and skipped otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Everything but training (the Slurm array trained; its finishing job must not).
    NoTraining,
}

pub struct Context {
    pub store: Store,
    /// Where the stage binaries are.
    pub bin_dir: PathBuf,
    /// Threads each child may use.
    pub threads: usize,
    pub scope: Scope,
    /// Entries already rehashed by this process: each input is verified once before first use.
    verified: Mutex<BTreeSet<Key>>,
}

impl Context {
    pub fn new(store: Store, bin_dir: PathBuf, threads: usize, scope: Scope) -> Context {
        Context {
            store,
            bin_dir,
            threads,
            scope,
            verified: Mutex::default(),
        }
    }

    /// The stage binaries' directory: `$XAVIER_BIN_DIR`, else the directory of this executable.
    pub fn default_bin_dir() -> Result<PathBuf> {
        if let Some(dir) = std::env::var_os("XAVIER_BIN_DIR") {
            return Ok(PathBuf::from(dir));
        }
        let exe = std::env::current_exe().context("cannot locate the paper executable")?;
        Ok(exe
            .parent()
            .context("the paper executable has no directory")?
            .to_path_buf())
    }

    /// What the store holds for `key` by its records alone, without reading its files or
    /// repairing anything: what `paper status` and `explain` show.
    pub fn result(&self, key: &Key) -> Option<StageResult> {
        let entry = self.store.get(key)?;
        let record = read_record(&entry).ok()?;
        let output_dir = match record.output_key == *key {
            true => entry.dir,
            false => self.store.get(&record.output_key)?.dir,
        };
        let output = output_path(&output_dir, &record.output).ok()?;
        Some(StageResult {
            key: key.clone(),
            output_key: record.output_key,
            output,
        })
    }

    /// What the store holds for `key`, checked at [`TRUST_DEPTH`] (with the dataset entry a
    /// pointer names): a half or damaged entry is quarantined, said so, and reported absent
    /// so that the stage is rebuilt.
    pub fn cached(&self, stage: &str, key: &Key) -> Result<Option<StageResult>> {
        let Some(entry) = self.checked(stage, key, TRUST_DEPTH)? else {
            return Ok(None);
        };
        let record = read_record(&entry)?;
        let output_dir = if record.output_key == *key {
            entry.dir
        } else {
            match self.checked(stage, &record.output_key, TRUST_DEPTH)? {
                Some(output) => output.dir,
                None => return Ok(None),
            }
        };
        let output = output_path(&output_dir, &record.output)
            .with_context(|| format!("{stage}: entry {key} names a bad output"))?;
        Ok(Some(StageResult {
            key: key.clone(),
            output_key: record.output_key,
            output,
        }))
    }

    /// The healthy entry for `key`, quarantining a half or damaged one.
    fn checked(&self, stage: &str, key: &Key, depth: Depth) -> Result<Option<Entry>> {
        Ok(match self.store.get_checked(key, depth)? {
            Checked::Healthy(entry) => Some(entry),
            Checked::Absent => None,
            Checked::Quarantined { check, to } => {
                println!(
                    "repair  {stage}: entry {} was {:?} ({}); moved to {}, rebuilding",
                    &key.as_str()[..12],
                    check.state,
                    check.summary(),
                    to.display()
                );
                None
            }
        })
    }

    /// Rehashes an input entry the first time this process reads it. A damaged one is
    /// quarantined, so the next `paper` rebuilds it instead of failing on it again.
    fn verify_input(&self, stage: &str, key: &Key) -> Result<()> {
        if self.verified.lock().expect("verified set").contains(key) {
            return Ok(());
        }
        match self.store.get_checked(key, Depth::Full)? {
            Checked::Healthy(_) => {}
            Checked::Absent => anyhow::bail!("input {stage} ({key}) is gone from the store"),
            Checked::Quarantined { check, to } => anyhow::bail!(
                "input entry {key} of {stage} is damaged ({}): moved to {}; the next paper rebuilds it",
                check.summary(),
                to.display()
            ),
        }
        self.verified
            .lock()
            .expect("verified set")
            .insert(key.clone());
        Ok(())
    }
}

fn read_record(entry: &Entry) -> Result<StageRecord> {
    let path = entry.path(RECORD);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("bad stage record {}", path.display()))
}

/// The primary output a record names inside its entry: `.` or a plain relative path (a path
/// read from a file is checked before it is used).
fn output_path(dir: &Path, rel: &str) -> Result<PathBuf> {
    if rel == "." {
        return Ok(dir.to_path_buf());
    }
    store::path::resolve(dir, rel)
}

/// Runs stage `i` unless the store has it. `gpu` is the CUDA_VISIBLE_DEVICES value of the device
/// a training run may use.
pub fn run_stage(
    ctx: &Context,
    plan: &Plan,
    i: usize,
    results: &[Option<StageResult>],
    gpu: Option<&str>,
) -> Outcome {
    let stage = &plan.stages[i];
    let key = match to_build(ctx, plan, i, results) {
        Ok((_, key)) => key,
        Err(settled) => return settled,
    };
    let started = Instant::now();
    let built = build(ctx, plan, i, results, gpu);
    match built {
        Ok(Some(result)) => Outcome::Built {
            result,
            seconds: started.elapsed().as_secs_f64(),
        },
        // Another process built it while this one waited for the lock.
        Ok(None) => match ctx.cached(&stage.name, &key) {
            Ok(Some(result)) => Outcome::Cached(result),
            Ok(None) => Outcome::Failed("entry vanished".into()),
            Err(e) => Outcome::Failed(spec::cli::one_line(&e)),
        },
        Err(e) => match &stage.kind {
            // A dataset that cannot be downloaded or imported is no reason to stop the paper.
            Kind::Dataset { dataset } if dataset.is_downloaded() => {
                Outcome::Skipped(spec::cli::one_line(&e))
            }
            _ => Outcome::Failed(spec::cli::one_line(&e)),
        },
    }
}

/// Stage `i`'s key spec and key when it has to be built, or the outcome that settles it
/// without building: no key yet (skipped), in the store (cached), or a training run this
/// paper trains nothing of (skipped).
pub(super) fn to_build(
    ctx: &Context,
    plan: &Plan,
    i: usize,
    results: &[Option<StageResult>],
) -> std::result::Result<(store::KeySpec, Key), Outcome> {
    let stage = &plan.stages[i];
    let (key_spec, key) = plan.key(i, results).map_err(Outcome::Skipped)?;
    match ctx.cached(&stage.name, &key) {
        Ok(Some(result)) => return Err(Outcome::Cached(result)),
        Ok(None) => {}
        Err(e) => return Err(Outcome::Failed(spec::cli::one_line(&e))),
    }
    if ctx.scope == Scope::NoTraining && matches!(stage.kind, Kind::Train { .. }) {
        let why = "not in the store, and this paper trains nothing";
        return Err(Outcome::Skipped(why.into()));
    }
    Ok((key_spec, key))
}

/// Builds stage `i`; `None` when another process built it first.
fn build(
    ctx: &Context,
    plan: &Plan,
    i: usize,
    results: &[Option<StageResult>],
    gpu: Option<&str>,
) -> Result<Option<StageResult>> {
    let stage = &plan.stages[i];
    let (spec, key) = plan.key(i, results).map_err(anyhow::Error::msg)?;
    let job = Job {
        ctx,
        stage: &stage.name,
        spec: &spec,
        key: &key,
    };
    match &stage.kind {
        Kind::Dataset { dataset } => dataset::run(&job, *dataset),
        Kind::Train { device, run, .. } => {
            let data = results[stage.deps[0]]
                .as_ref()
                .expect("keyed on its dataset");
            let training = train::Training {
                run: select::trained_run(plan, i, results)?,
                data,
                device,
                gpu,
                trial: run.lr.is_trial(),
            };
            train::run(&job, &training)
        }
        Kind::Select { .. } => select::run(&job, &done_deps(plan, i, results, |_| true)),
        Kind::Render { id, width, height } => {
            let runs = done_deps(plan, i, results, |lr| !lr.is_trial());
            let trials = done_deps(plan, i, results, Lr::is_trial);
            render::run(&job, *id, (*width, *height), &runs, &trials)
        }
    }
}

/// The training stages stage `i` reads whose learning rate is of a kind `wanted` accepts, with
/// their results, for those that have one.
fn done_deps<'a>(
    plan: &'a Plan,
    i: usize,
    results: &'a [Option<StageResult>],
    wanted: impl Fn(Lr) -> bool,
) -> Vec<(&'a str, &'a StageResult)> {
    plan.stages[i]
        .deps
        .iter()
        .filter(|&&d| matches!(&plan.stages[d].kind, Kind::Train { run, .. } if wanted(run.lr)))
        .filter_map(|&d| Some((plan.stages[d].name.as_str(), results[d].as_ref()?)))
        .collect()
}

/// One stage being built: what every builder needs.
struct Job<'a> {
    ctx: &'a Context,
    stage: &'a str,
    spec: &'a store::KeySpec,
    key: &'a Key,
}

impl Job<'_> {
    fn announce(&self, note: &str) {
        println!(
            "start   {}  [key {}]{note}",
            self.stage,
            &self.key.as_str()[..12]
        );
    }

    /// The finished entry, checked as a cached one would be.
    fn finished(&self) -> Result<Option<StageResult>> {
        self.ctx
            .cached(self.stage, self.key)?
            .with_context(|| format!("{}: entry incomplete after building it", self.stage))
            .map(Some)
    }

    fn record(&self, output_key: &Key, output: String, child: child::Child) -> StageRecord {
        StageRecord {
            stage: self.stage.to_string(),
            output_key: output_key.clone(),
            output,
            command: child.command,
            seconds: child.seconds,
        }
    }
}

fn write_record(dir: &Path, record: &StageRecord) -> Result<()> {
    store::atomic::write_atomic(
        &dir.join(RECORD),
        serde_json::to_string_pretty(record)?.as_bytes(),
    )
}

/// `path` relative to `dir`, which must contain it.
fn relative_to(path: &Path, dir: &Path) -> Result<String> {
    let canonical = |p: &Path| {
        p.canonicalize()
            .with_context(|| format!("{} does not exist", p.display()))
    };
    let (path, dir) = (canonical(path)?, canonical(dir)?);
    let rel = path
        .strip_prefix(&dir)
        .with_context(|| format!("{} is not inside {}", path.display(), dir.display()))?;
    Ok(if rel.as_os_str().is_empty() {
        ".".into()
    } else {
        rel.to_string_lossy().into_owned()
    })
}
