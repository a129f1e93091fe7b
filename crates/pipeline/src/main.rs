//! `paper`: rebuild the paper's figures and Table 1 from hashed inputs, running only the stages
//! whose inputs changed.

use anyhow::{bail, Context as _, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pipeline::device::{cores, threads_per_job, Gpus};
use pipeline::exec::{Context, Outcome, Scope};
use pipeline::manifest::{publish, Manifest};
use pipeline::plan::Plan;
use pipeline::profile::Profile;
use pipeline::tool::{find_repo_root, identities, libtorch_version, Runtime};
use pipeline::{explain, schedule, slurm, status};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use store::Store;

/// Rebuilds every reproducible figure and Table 1 of Glorot & Bengio (2010) from hashed inputs:
/// datasets, training runs and renders are stages keyed by their parameters, inputs and tool
/// sources; only stages missing from the store run. Figures are published with MANIFEST.json.
#[derive(Parser)]
#[command(name = "paper", version)]
struct Cli {
    /// Repository root [default: the nearest directory above the current one whose Cargo.toml has [workspace]].
    #[arg(long, global = true)]
    repo: Option<PathBuf>,
    /// Store root [default: $XAVIER_STORE, else <repo>/.store].
    #[arg(long, global = true)]
    store: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Build what is missing and publish the figures (the default).
    Run(RunArgs),
    /// Each stage of a profile: cached, stale (published from another key), missing or waiting.
    Status(InspectArgs),
    /// The chain of keys behind a figure, and why each stage would rerun.
    Explain {
        /// A figure id (fig3, table1, report), a published file (figures/fig3.png) or a stage name.
        target: String,
        #[command(flatten)]
        inspect: InspectArgs,
    },
    /// Recheck every hash in the store and of the published figures.
    Verify {
        /// Directory holding MANIFEST.json [default: <repo>/figures].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Remove store entries that no built-in profile's current DAG reaches.
    Gc {
        /// Also keep what these profile files reach.
        #[arg(long)]
        profile_file: Vec<PathBuf>,
    },
    /// Write Slurm scripts: a job array for the training runs and a dependent job for the rest.
    Slurm(SlurmArgs),
    /// Run one stage of a saved plan (what each Slurm array task does).
    #[command(hide = true)]
    RunStage {
        #[arg(long)]
        plan: PathBuf,
        /// Stage name or key.
        stage: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ProfileName {
    /// Shapeset only, minutes on 2 CPU cores.
    Ci,
    /// Every figure on a CPU in under an hour.
    Quick,
    /// The paper's scale, for GPUs.
    Full,
}

#[derive(Args, Clone)]
struct ProfileArgs {
    /// Built-in profile [default: quick to run, full for slurm; the published one for status and explain].
    #[arg(long, value_enum)]
    profile: Option<ProfileName>,
    /// A profile TOML file instead of a built-in profile.
    #[arg(long, conflicts_with = "profile")]
    profile_file: Option<PathBuf>,
}

/// What status and explain look at.
#[derive(Args)]
struct InspectArgs {
    #[command(flatten)]
    profile: ProfileArgs,
    /// Directory holding MANIFEST.json [default: <repo>/figures].
    #[arg(long)]
    out: Option<PathBuf>,
    /// GPUs training would use, as for `paper run` (the device class is part of every run's key).
    #[arg(long)]
    gpus: Option<usize>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    profile: ProfileArgs,
    /// Stages run at once; each child gets cores/jobs threads [default: the number of cores, at least the number of GPUs].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// GPUs to spread training runs over, one per run [default: what `nvidia-smi -L` lists; 0: train on the CPU].
    #[arg(long)]
    gpus: Option<usize>,
    /// Where figures are published [default: <repo>/figures].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run a plan written by `paper slurm` instead of a profile.
    #[arg(long, hide = true, conflicts_with_all = ["profile", "profile_file"])]
    plan: Option<PathBuf>,
    /// Train nothing: use the runs in the store and skip the others (Slurm's finishing job).
    #[arg(long, hide = true)]
    no_train: bool,
}

#[derive(Args)]
struct SlurmArgs {
    /// Directory for plan.json, train.sbatch, finish.sbatch and submit.sh.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    profile: ProfileArgs,
    /// The GPU model of the partition, as `nvidia-smi -L` names it (it goes into the keys) [default: this machine's, else unspecified].
    #[arg(long)]
    gpu_name: Option<String>,
    /// Train on CPUs instead of one GPU per task.
    #[arg(long)]
    cpu: bool,
    /// Slurm partition of both jobs [default: the cluster's].
    #[arg(long)]
    partition: Option<String>,
    /// Time limit of each task.
    #[arg(long, default_value = "2-00:00:00")]
    time: String,
    /// CPUs of each task: a run's threads, and the finishing job's parallel renders.
    #[arg(long, default_value_t = 4)]
    cpus_per_task: usize,
    /// Where the finishing job publishes the figures [default: <repo>/figures].
    #[arg(long)]
    publish_to: Option<PathBuf>,
}

impl RunArgs {
    /// True when none of the run options was given.
    fn is_unset(&self) -> bool {
        let RunArgs {
            profile,
            jobs,
            gpus,
            out,
            plan,
            no_train,
        } = self;
        profile.profile.is_none()
            && profile.profile_file.is_none()
            && jobs.is_none()
            && gpus.is_none()
            && out.is_none()
            && plan.is_none()
            && !no_train
    }
}

impl ProfileName {
    fn name(self) -> &'static str {
        match self {
            ProfileName::Ci => "ci",
            ProfileName::Quick => "quick",
            ProfileName::Full => "full",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("paper: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let env = Env {
        repo: cli.repo,
        store: cli.store,
    };
    if cli.command.is_some() && !cli.run.is_unset() {
        bail!("run options (--profile, --jobs, --gpus, --out...) go after the subcommand, or mean `paper run`");
    }
    match cli.command {
        None => run(&env, cli.run),
        Some(Command::Run(args)) => run(&env, args),
        Some(Command::Status(inspect)) => {
            let (plan, ctx, manifest) = env.inspect(inspect)?;
            print!("{}", status::report(&plan, &ctx, manifest.as_ref()));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Explain { target, inspect }) => {
            let (plan, ctx, manifest) = env.inspect(inspect)?;
            let i = explain::find_stage(&plan, manifest.as_ref(), &target)?;
            print!("{}", explain::explain(&plan, &ctx, manifest.as_ref(), i));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Verify { out }) => verify(&env, out),
        Some(Command::Gc { profile_file }) => gc(&env, &profile_file),
        Some(Command::Slurm(args)) => slurm(&env, args),
        Some(Command::RunStage { plan, stage }) => run_stage(&env, &plan, &stage),
    }
}

/// The repository and store the command works on.
struct Env {
    repo: Option<PathBuf>,
    store: Option<PathBuf>,
}

impl Env {
    fn repo(&self) -> Result<PathBuf> {
        match &self.repo {
            Some(repo) => Ok(repo.clone()),
            None => find_repo_root(&std::env::current_dir()?),
        }
    }

    fn store(&self) -> Result<Store> {
        match (
            &self.store,
            std::env::var_os("XAVIER_STORE").filter(|s| !s.is_empty()),
        ) {
            (Some(dir), _) => Store::open(dir),
            (None, Some(dir)) => Store::open(PathBuf::from(dir)),
            (None, None) => Store::from_env(&self.repo()?),
        }
    }

    fn out_dir(&self, out: Option<PathBuf>) -> Result<PathBuf> {
        out.map_or_else(|| Ok(self.repo()?.join("figures")), Ok)
    }

    fn context(&self, scope: Scope, jobs: usize) -> Result<Context> {
        Ok(Context::new(
            self.store()?,
            Context::default_bin_dir()?,
            threads_per_job(jobs),
            scope,
        ))
    }

    /// What status and explain look at: the plan (of the published profile unless one is
    /// named), the store, and the manifest in `out`.
    fn inspect(&self, args: InspectArgs) -> Result<(Plan, Context, Option<Manifest>)> {
        let manifest = Manifest::load(&self.out_dir(args.out)?)?;
        let default = default_profile(manifest.as_ref());
        let plan = self.plan(&args.profile, default, Gpus::detect(args.gpus).as_ref())?;
        Ok((plan, self.context(Scope::All, 1)?, manifest))
    }

    /// The plan of a profile on this repository, for training on `gpus` (the CPU when none).
    fn plan(&self, args: &ProfileArgs, default: String, gpus: Option<&Gpus>) -> Result<Plan> {
        self.plan_for(args, default, &Gpus::device_class(gpus))
    }

    fn plan_for(&self, args: &ProfileArgs, default: String, device_class: &str) -> Result<Plan> {
        let (profile, label) = load_profile(args, default)?;
        let runtime = Runtime {
            libtorch: libtorch_version(),
            device_class: device_class.to_string(),
        };
        let tools = identities(&self.repo()?, &runtime)?;
        Plan::build(&profile, &label, tools, device_class)
    }
}

/// The profile status and explain look at when none is named: the one last published.
fn default_profile(manifest: Option<&Manifest>) -> String {
    manifest.map_or_else(|| "quick".into(), |m| m.profile.clone())
}

/// The profile and its label (`quick`, or `file:<path>` for a profile file).
fn load_profile(args: &ProfileArgs, default: String) -> Result<(Profile, String)> {
    let label = match (&args.profile_file, args.profile) {
        (Some(file), _) => format!("file:{}", std::path::absolute(file)?.display()),
        (None, Some(name)) => name.name().to_string(),
        (None, None) => default,
    };
    let profile = match label.strip_prefix("file:") {
        Some(file) => Profile::from_file(Path::new(file))?,
        None => Profile::built_in(&label)?,
    };
    Ok((profile, label))
}

fn run(env: &Env, args: RunArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let gpus = Gpus::detect(args.gpus);
    let plan = match &args.plan {
        Some(path) => Plan::load(path)?,
        None => env.plan(&args.profile, "quick".into(), gpus.as_ref())?,
    };
    let gpu_ids = gpus.as_ref().map(|g| g.ids.clone()).unwrap_or_default();
    let jobs = args
        .jobs
        .map_or_else(|| cores().max(gpu_ids.len()), usize::from);
    let scope = if args.no_train {
        Scope::NoTraining
    } else {
        Scope::All
    };
    let ctx = env.context(scope, jobs)?;
    let out = env.out_dir(args.out)?;
    let device = gpus.as_ref().map_or_else(
        || "the CPU".to_string(),
        |g| format!("{} x {}", g.ids.len(), g.name),
    );
    println!(
        "paper: profile {}, {} stages, {jobs} jobs x {} threads, training on {device}, store {}",
        plan.profile,
        plan.stages.len(),
        ctx.threads,
        ctx.store.root().display()
    );
    let outcomes = schedule::run(&plan, &ctx, jobs, &gpu_ids);
    let results: Vec<_> = outcomes.iter().map(|o| o.result().cloned()).collect();
    let published = publish(&plan, &results, &ctx.store, &out)?;
    println!(
        "published {} files to {} ({} changed, {} kept from earlier runs, {} stale removed)",
        published.files + published.kept,
        out.display(),
        published.changed,
        published.kept,
        published.removed
    );
    println!("{}", schedule::summary(&outcomes, started));
    let failed = outcomes.iter().any(|o| matches!(o, Outcome::Failed(_)));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn verify(env: &Env, out: Option<PathBuf>) -> Result<ExitCode> {
    let store = env.store()?;
    let reports = store.verify_all()?;
    let mut damaged = 0;
    for (key, report) in reports.iter().filter(|(_, r)| !r.is_ok()) {
        damaged += 1;
        println!(
            "damaged {key}: tampered {:?}, missing {:?}, unexpected {:?}",
            report.tampered, report.missing, report.unexpected
        );
    }
    let out = match out {
        Some(out) => Some(out),
        None => env.repo().ok().map(|r| r.join("figures")),
    };
    let manifest = out.as_deref().map(Manifest::load).transpose()?.flatten();
    let mut differ = 0;
    if let (Some(out), Some(manifest)) = (&out, &manifest) {
        for (rel, file) in &manifest.files {
            let sha = store::atomic::sha256_file(&out.join(rel)).ok();
            if sha.as_deref() != Some(file.sha256.as_str()) {
                differ += 1;
                println!(
                    "differs {}: not the file MANIFEST.json records",
                    out.join(rel).display()
                );
            }
        }
    }
    let published = manifest.as_ref().map_or(0, |m| m.files.len());
    println!(
        "verify: {} entries, {damaged} damaged; {published} published files, {differ} differ from MANIFEST.json",
        reports.len()
    );
    Ok(if damaged + differ == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Keeps every key that a built-in profile (or a given profile file) reaches now.
fn gc(env: &Env, profile_files: &[PathBuf]) -> Result<ExitCode> {
    let ctx = env.context(Scope::All, 1)?;
    let mut profiles: Vec<ProfileArgs> = [ProfileName::Ci, ProfileName::Quick, ProfileName::Full]
        .into_iter()
        .map(|p| ProfileArgs {
            profile: Some(p),
            profile_file: None,
        })
        .collect();
    profiles.extend(profile_files.iter().map(|f| ProfileArgs {
        profile: None,
        profile_file: Some(f.clone()),
    }));
    let profiles = profiles
        .iter()
        .map(|args| load_profile(args, String::new()))
        .collect::<Result<Vec<_>>>()?;
    let here = Runtime {
        libtorch: libtorch_version(),
        device_class: Gpus::device_class(Gpus::detect(None).as_ref()),
    };
    let live = pipeline::gc::live_keys(&env.repo()?, &ctx, &profiles, here)?;
    let report = ctx.store.gc(&live)?;
    let leftovers = pipeline::gc::remove_leftovers(&ctx.store, &live)?;
    println!(
        "gc: kept {} live keys, removed {} entries, {} temp dirs, {} work dirs and logs; {:.1} MB freed",
        live.len(),
        report.removed.len(),
        report.removed_temp.len(),
        leftovers,
        report.bytes_freed as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

fn slurm(env: &Env, args: SlurmArgs) -> Result<ExitCode> {
    let device_class = if args.cpu {
        "cpu".to_string()
    } else {
        let name = args
            .gpu_name
            .clone()
            .or_else(|| Gpus::detect(None).map(|g| g.name));
        format!("cuda:{}", name.unwrap_or_else(|| "unspecified".into()))
    };
    let plan = env.plan_for(&args.profile, "full".into(), &device_class)?;
    // Datasets are fetched here: compute nodes are often offline.
    let ctx = env.context(Scope::All, 1)?;
    let outcomes = schedule::run(&plan.datasets(), &ctx, 1, &[]);
    let missing = outcomes.iter().filter(|o| o.result().is_none()).count();
    let cluster = slurm::Cluster {
        dir: args.out.clone(),
        paper: std::env::current_exe()?.canonicalize()?,
        publish_to: std::path::absolute(env.out_dir(args.publish_to)?)?,
        partition: args.partition,
        time: args.time,
        cpus_per_task: args.cpus_per_task,
        gres: (!args.cpu).then(|| "gpu:1".to_string()),
    };
    let tasks = slurm::write(&plan, &ctx, &cluster)?;
    for task in &tasks {
        println!("task    {}  [key {}]", task.stage, &task.key[..12]);
    }
    println!(
        "slurm: {} training tasks, {missing} datasets unavailable; submit with {}",
        tasks.len(),
        args.out.join("submit.sh").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_stage(env: &Env, plan_path: &Path, target: &str) -> Result<ExitCode> {
    let plan = Plan::load(plan_path)?;
    let threads = std::env::var("SLURM_CPUS_PER_TASK")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(cores);
    let ctx = Context::new(
        env.store()?,
        Context::default_bin_dir()?,
        threads,
        Scope::All,
    );
    let resolved = status::resolve(&plan, &ctx);
    let i = plan
        .find(target)
        .or_else(|| {
            resolved
                .iter()
                .position(|r| r.key.as_ref().is_some_and(|(_, k)| k.as_str() == target))
        })
        .with_context(|| {
            format!(
                "{target:?} is neither a stage nor a key of plan {}",
                plan_path.display()
            )
        })?;
    let results: Vec<_> = resolved.iter().map(|r| r.result.clone()).collect();
    if let Some(missing) = plan.stages[i].deps.iter().find(|&&d| results[d].is_none()) {
        bail!(
            "{} needs {}, which the store lacks",
            plan.stages[i].name,
            plan.stages[*missing].name
        );
    }
    // Under Slurm the task's GPU is already the only one visible.
    let outcome = pipeline::exec::run_stage(&ctx, &plan, i, &results, None);
    let name = &plan.stages[i].name;
    match outcome {
        Outcome::Built { result, seconds } => println!(
            "done    {name}  in {}  [key {}]",
            schedule::duration(seconds),
            result.key
        ),
        Outcome::Cached(result) => println!("cached  {name}  [key {}]", result.key),
        Outcome::Skipped(reason) => bail!("{name} skipped: {reason}"),
        Outcome::Failed(error) => bail!("{name} failed: {error}"),
    }
    Ok(ExitCode::SUCCESS)
}
