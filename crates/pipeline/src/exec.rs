//! Running one stage: its command line, its child process, and moving its output into the store.
//!
//! Every entry `paper` makes holds `stage.json` ([`StageRecord`]): the stage, the entry and path
//! of its primary output and the command that made it. A dataset stage's entry holds only that
//! record, pointing at the entry the dataset binary made itself (whose key `paper` cannot know
//! before running it).

use crate::plan::{Kind, Plan, StageResult};
use crate::profile::{Dataset, RunParams};
use anyhow::{bail, ensure, Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::{Key, KeySpec, Store};

/// The record `paper` adds to every entry it makes.
pub const RECORD: &str = "stage.json";

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

    /// What the store holds for `key`, if complete (for a dataset stage, with its dataset).
    pub fn result(&self, key: &Key) -> Option<StageResult> {
        let entry = self.store.get(key)?;
        let text = std::fs::read(entry.path(RECORD)).ok()?;
        let record: StageRecord = serde_json::from_slice(&text).ok()?;
        let output_dir = self.store.get(&record.output_key)?.dir;
        Some(StageResult {
            key: key.clone(),
            output_key: record.output_key,
            output: output_dir.join(record.output),
        })
    }

    /// Rehashes an input entry the first time this process reads it.
    fn verify_input(&self, key: &Key) -> Result<()> {
        if self.verified.lock().expect("verified set").contains(key) {
            return Ok(());
        }
        let report = self.store.verify(key)?;
        ensure!(
            report.is_ok(),
            "input entry {key} is damaged (tampered {:?}, missing {:?}, unexpected {:?}); `paper verify` lists all damage",
            report.tampered,
            report.missing,
            report.unexpected
        );
        self.verified
            .lock()
            .expect("verified set")
            .insert(key.clone());
        Ok(())
    }
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
    let (spec, key) = match plan.key(i, results) {
        Ok(spec_key) => spec_key,
        Err(reason) => return Outcome::Skipped(reason),
    };
    if let Some(result) = ctx.result(&key) {
        return Outcome::Cached(result);
    }
    if ctx.scope == Scope::NoTraining && matches!(stage.kind, Kind::Train { .. }) {
        return Outcome::Skipped("not in the store, and this paper trains nothing".into());
    }
    let started = Instant::now();
    let built = match &stage.kind {
        Kind::Dataset { dataset } => run_dataset(ctx, &stage.name, *dataset, &spec, &key),
        Kind::Train { device, .. } => {
            let data = results[stage.deps[0]]
                .as_ref()
                .expect("keyed on its dataset");
            run_train(ctx, plan, i, &spec, &key, data, device, gpu)
        }
        Kind::Render { .. } => {
            let runs: Vec<&StageResult> = stage
                .deps
                .iter()
                .filter(|&&d| matches!(plan.stages[d].kind, Kind::Train { .. }))
                .filter_map(|&d| results[d].as_ref())
                .collect();
            run_render(ctx, plan, i, &spec, &key, &runs)
        }
    };
    match built {
        Ok(Some(result)) => Outcome::Built {
            result,
            seconds: started.elapsed().as_secs_f64(),
        },
        // Another process built it while this one waited for the lock.
        Ok(None) => ctx
            .result(&key)
            .map_or_else(|| Outcome::Failed("entry vanished".into()), Outcome::Cached),
        Err(e) => match &stage.kind {
            // A dataset that cannot be downloaded or imported is no reason to stop the paper.
            Kind::Dataset { dataset } if *dataset != Dataset::Shapeset => {
                Outcome::Skipped(format!("{e:#}"))
            }
            _ => Outcome::Failed(format!("{e:#}")),
        },
    }
}

fn announce(stage: &str, key: &Key, note: &str) {
    println!("start   {stage}  [key {}]{note}", &key.as_str()[..12]);
}

/// `fetch <name>` or `shapeset dataset`, then a pointer entry to the dataset entry it printed.
fn run_dataset(
    ctx: &Context,
    stage: &str,
    dataset: Dataset,
    spec: &KeySpec,
    key: &Key,
) -> Result<Option<StageResult>> {
    let _lock = ctx.store.lock(key)?;
    if ctx.result(key).is_some() {
        return Ok(None);
    }
    announce(stage, key, "");
    let store_arg = ctx.store.root().as_os_str().to_owned();
    let (binary, mut args): (&str, Vec<OsString>) = match dataset {
        Dataset::Shapeset => (
            "shapeset",
            vec!["dataset".into(), "--store".into(), store_arg],
        ),
        other => (
            "fetch",
            vec![other.to_string().into(), "--store".into(), store_arg],
        ),
    };
    let from_var = match dataset {
        Dataset::Shapeset => None,
        Dataset::Mnist => Some("XAVIER_MNIST_FROM"),
        Dataset::Cifar10 => Some("XAVIER_CIFAR_FROM"),
    };
    if let Some(from) = from_var
        .and_then(std::env::var_os)
        .filter(|d| Path::new(d).exists())
    {
        args.extend(["--from".into(), from]);
    }
    let child = ctx.run_child(stage, key, binary, &args, &[], None)?;
    let fields: Vec<&str> = child.last_line.splitn(3, ' ').collect();
    let [name, data_key, path] = fields[..] else {
        bail!(
            "{binary} printed {:?}, not `<dataset> <key> <path>`",
            child.last_line
        );
    };
    ensure!(
        name == dataset.to_string(),
        "{binary} made dataset {name:?}, not {dataset}"
    );
    let data_key: Key = data_key.parse()?;
    let entry = ctx
        .store
        .get(&data_key)
        .with_context(|| format!("{binary} printed key {data_key}, which the store lacks"))?;
    let output = relative_to(Path::new(path), &entry.dir)?;
    let record = StageRecord {
        stage: stage.into(),
        output_key: data_key.clone(),
        output,
        command: child.command,
        seconds: child.seconds,
    };
    if ctx.store.contains(key) {
        // A pointer whose dataset entry was removed: the same sources must give the same key.
        let old: StageRecord =
            serde_json::from_slice(&std::fs::read(ctx.store.entry_dir(key).join(RECORD))?)?;
        ensure!(
            old.output_key == data_key,
            "{stage}: the store points at {} but {binary} made {data_key}",
            old.output_key
        );
    } else {
        ctx.store.put(spec, |dir| write_record(dir, &record))?;
    }
    ctx.result(key)
        .context("dataset entry incomplete after building it")
        .map(Some)
}

/// `train ... --out <store>/work/<key> [--resume]`, under the key's lock, then the whole output
/// directory becomes the entry.
#[allow(clippy::too_many_arguments)]
fn run_train(
    ctx: &Context,
    plan: &Plan,
    i: usize,
    spec: &KeySpec,
    key: &Key,
    data: &StageResult,
    device: &str,
    gpu: Option<&str>,
) -> Result<Option<StageResult>> {
    let stage = &plan.stages[i];
    let Kind::Train { run, .. } = &stage.kind else {
        unreachable!("run_train on {}", stage.name)
    };
    ctx.verify_input(&data.output_key)?;
    let _lock = ctx.store.lock(key)?;
    if ctx.result(key).is_some() {
        return Ok(None);
    }
    let work = work_dir(&ctx.store, key);
    let pid_file = work.with_extension("pid");
    stop_orphan(&pid_file, &work)?;
    // A killed paper leaves the run's checkpoints here; train --resume continues from them.
    let resume = std::fs::read_dir(&work).is_ok_and(|mut d| d.next().is_some());
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let note = match (resume, gpu) {
        (true, _) => " resuming",
        (false, Some(_)) => " on a GPU",
        (false, None) => "",
    };
    announce(&stage.name, key, note);
    let mut args = train_args(run, device, ctx.threads, &data.output, &work);
    if resume {
        args.push("--resume".into());
    }
    let env: Vec<(&str, String)> = gpu
        .map(|g| ("CUDA_VISIBLE_DEVICES", g.to_string()))
        .into_iter()
        .collect();
    let mut child = ctx.run_child(&stage.name, key, "train", &args, &env, Some(&pid_file));
    if resume && child.is_err() {
        // Killed before its first checkpoint, or left by another train: start over.
        println!("        {} | cannot resume: starting over", stage.name);
        std::fs::remove_dir_all(&work)?;
        std::fs::create_dir_all(&work)?;
        args.pop();
        child = ctx.run_child(&stage.name, key, "train", &args, &env, Some(&pid_file));
    }
    let child = child?;
    let output = relative_to(Path::new(&child.last_line), &work)?;
    let record = StageRecord {
        stage: stage.name.clone(),
        output_key: key.clone(),
        output,
        command: child.command,
        seconds: child.seconds,
    };
    write_record(&work, &record)?;
    ctx.store.put_dir(spec, &work)?;
    let _ = std::fs::remove_file(&pid_file);
    ctx.result(key)
        .context("run entry incomplete after building it")
        .map(Some)
}

/// The `train` command line of a run (`--resume` is added when a killed run left checkpoints).
pub fn train_args(
    run: &RunParams,
    device: &str,
    threads: usize,
    data: &Path,
    work: &Path,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = run.train_args().into_iter().map(OsString::from).collect();
    args.extend([
        "--device".into(),
        device.into(),
        "--threads".into(),
        threads.to_string().into(),
    ]);
    args.extend([
        "--data".into(),
        data.as_os_str().to_owned(),
        "--out".into(),
        work.as_os_str().to_owned(),
    ]);
    args
}

/// Where a run is built before it moves into the store: `<store>/work/<key>`.
pub fn work_dir(store: &Store, key: &Key) -> PathBuf {
    store.root().join("work").join(key.as_str())
}

/// `figures render --runs runs.json --out <entry being built> --only <id>`.
fn run_render(
    ctx: &Context,
    plan: &Plan,
    i: usize,
    spec: &KeySpec,
    key: &Key,
    runs: &[&StageResult],
) -> Result<Option<StageResult>> {
    let stage = &plan.stages[i];
    let Kind::Render { id, width, height } = &stage.kind else {
        unreachable!("run_render on {}", stage.name)
    };
    for run in runs {
        ctx.verify_input(&run.key)?;
    }
    // runs.json lives beside the entry, not in it: its paths are this machine's.
    let scratch = ctx.store.temp_dir()?;
    let runs_json = scratch.join("runs.json");
    let paths: Vec<&Path> = runs.iter().map(|r| r.output.as_path()).collect();
    store::atomic::write_atomic(
        &runs_json,
        serde_json::to_string_pretty(&serde_json::json!({ "runs": paths }))?.as_bytes(),
    )?;
    let built = ctx.store.get_or_put(spec, |dir| {
        announce(&stage.name, key, "");
        let mut args: Vec<OsString> = vec![
            "render".into(),
            "--runs".into(),
            runs_json.clone().into(),
            "--out".into(),
        ];
        args.extend([dir.as_os_str().to_owned(), "--only".into(), id.into()]);
        for (flag, value) in [("--width", width), ("--height", height)] {
            if let Some(v) = value {
                args.extend([flag.into(), v.to_string().into()]);
            }
        }
        let child = ctx.run_child(&stage.name, key, "figures", &args, &[], None)?;
        let record = StageRecord {
            stage: stage.name.clone(),
            output_key: key.clone(),
            output: ".".into(),
            command: child.command,
            seconds: child.seconds,
        };
        write_record(dir, &record)
    });
    let _ = std::fs::remove_dir_all(&scratch);
    match built? {
        (_, true) => ctx
            .result(key)
            .context("render entry incomplete after building it")
            .map(Some),
        (_, false) => Ok(None),
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

/// What a finished child left: its last stdout line, its command line and how long it took.
struct Child {
    last_line: String,
    command: Vec<String>,
    seconds: f64,
}

/// Lines of a child's stderr echoed after it ends (the rest stay in its log).
const ECHOED_LINES: usize = 20;

impl Context {
    fn run_child(
        &self,
        stage: &str,
        key: &Key,
        binary: &str,
        args: &[OsString],
        env: &[(&str, String)],
        pid_file: Option<&Path>,
    ) -> Result<Child> {
        let exe = self.bin_dir.join(binary);
        ensure!(
            exe.is_file(),
            "stage binary {} not found: build it (`cargo build --release --workspace --bins`) or set XAVIER_BIN_DIR",
            exe.display()
        );
        let logs = self.store.root().join("logs");
        std::fs::create_dir_all(&logs)?;
        let log_path = logs.join(format!("{key}.log"));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let threads = self.threads.to_string();
        let mut command = Command::new(&exe);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        for var in [
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "RAYON_NUM_THREADS",
            "POLARS_MAX_THREADS",
        ] {
            command.env(var, &threads);
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        if let Some(pid_file) = pid_file {
            store::atomic::write_atomic(pid_file, child.id().to_string().as_bytes())?;
        }
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .expect("piped stdout")
            .read_to_string(&mut stdout)?;
        let status = child.wait()?;
        let seconds = started.elapsed().as_secs_f64();
        let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
        let mut lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        // A failure's last line goes into the error; the lines before it give context.
        let last = if status.success() { None } else { lines.pop() };
        if lines.len() > ECHOED_LINES {
            println!(
                "        {stage} | ... {} earlier lines in {}",
                lines.len() - ECHOED_LINES,
                log_path.display()
            );
        }
        for line in &lines[lines.len().saturating_sub(ECHOED_LINES)..] {
            println!("        {stage} | {line}");
        }
        if !status.success() {
            bail!(
                "{binary} failed ({status}): {} (log: {})",
                last.unwrap_or("no message"),
                log_path.display()
            );
        }
        let last_line = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .trim()
            .to_string();
        ensure!(!last_line.is_empty(), "{binary} printed nothing on stdout");
        let mut argv = vec![exe.to_string_lossy().into_owned()];
        argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
        Ok(Child {
            last_line,
            command: argv,
            seconds,
        })
    }
}

/// Kills a `train` left running by a `paper` that was killed: it would keep writing into the
/// work directory the next attempt resumes from. Only a process whose command line names that
/// directory is touched.
fn stop_orphan(pid_file: &Path, work: &Path) -> Result<()> {
    let Ok(pid) = std::fs::read_to_string(pid_file) else {
        return Ok(());
    };
    let pid = pid.trim();
    let names_work = |pid: &str| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(&*work.to_string_lossy()))
    };
    if names_work(pid) {
        println!("        stopping the train process {pid} a killed paper left behind");
        let _ = Command::new("kill").args(["-KILL", pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while names_work(pid) {
            ensure!(
                Instant::now() < deadline,
                "process {pid} still writes into {}",
                work.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    std::fs::remove_file(pid_file).with_context(|| format!("cannot remove {}", pid_file.display()))
}
