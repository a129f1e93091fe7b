//! One module per subcommand of `paper`, and what they share: where the repository, store and
//! published figures are, and how a profile becomes a plan.

mod gc;
mod inspect;
mod run;
mod slurm;
mod verify;

use crate::cli::{Cli, Command, Placement, ProfileArgs};
use crate::cost::{self, Machine};
use crate::device::{threads_per_job, Gpus};
use crate::exec::{Context, Scope};
use crate::manifest::Manifest;
use crate::packing::{self, PackSize};
use crate::plan::{Kind, Lr, Plan, StageResult};
use crate::profile::{self, Origin, Profile};
use crate::status;
use crate::tool::{find_repo_root, identities, train_versions, Runtime};
use anyhow::Result;
use spec::cli::usage;
use spec::RunParams;
use std::path::PathBuf;
use store::Store;

/// Carries out a parsed command line; `main` is `spec::cli::main("paper", dispatch)`.
pub fn dispatch(cli: Cli) -> Result<()> {
    let env = Env {
        repo: cli.repo,
        store: cli.store,
        yes: cli.yes,
    };
    if cli.command.is_some() && !cli.run.is_unset() {
        return Err(usage(
            "run options (--profile, --jobs, --gpus, --out...) go after the subcommand, or mean `paper run`",
        ));
    }
    match cli.command {
        None => run::run(&env, cli.run),
        Some(Command::Run(args)) => run::run(&env, args),
        Some(Command::Plan(args)) => inspect::plan(&env, &args),
        Some(Command::Status(inspect)) => inspect::status(&env, inspect),
        Some(Command::Check(inspect)) => inspect::check(&env, &inspect),
        Some(Command::Explain { target, inspect }) => inspect::explain(&env, &target, inspect),
        Some(Command::Dag { format, inspect }) => inspect::dag(&env, format, inspect),
        Some(Command::Diff { old, new }) => inspect::diff(&old, &new),
        Some(Command::Verify(args)) => verify::verify(&env, args),
        Some(Command::Gc { profile_file }) => gc::gc(&env, &profile_file),
        Some(Command::Slurm(args)) => slurm::slurm(&env, args),
        Some(Command::RunStage { plan, stage }) => slurm::run_stage(&env, &plan, &stage),
    }
}

/// The repository and store the command works on.
struct Env {
    repo: Option<PathBuf>,
    store: Option<PathBuf>,
    /// `--yes`: train even when the prediction is above a day.
    yes: bool,
}

impl Env {
    fn repo(&self) -> Result<PathBuf> {
        match &self.repo {
            Some(repo) => Ok(repo.clone()),
            None => find_repo_root(&std::env::current_dir()?),
        }
    }

    fn store(&self) -> Result<Store> {
        Store::open(self.store_root()?)
    }

    /// Where the store is (`--store`, else `$XAVIER_STORE`, else `<repo>/.store`), without
    /// creating it.
    fn store_root(&self) -> Result<PathBuf> {
        match (
            &self.store,
            std::env::var_os("XAVIER_STORE").filter(|s| !s.is_empty()),
        ) {
            (Some(dir), _) => Ok(dir.clone()),
            (None, Some(dir)) => Ok(PathBuf::from(dir)),
            (None, None) => Ok(self.repo()?.join(".store")),
        }
    }

    /// What the store holds of `plan`, without creating a store that does not exist yet.
    fn held(&self, plan: &Plan) -> Result<Held> {
        let root = self.store_root()?;
        if !root.is_dir() {
            return Ok(Held {
                results: vec![None; plan.stages.len()],
                words: "from an empty store".into(),
                store: None,
            });
        }
        let ctx = self.context(Scope::All, 1)?;
        let results: Vec<_> = status::resolve(plan, &ctx)
            .into_iter()
            .map(|r| r.result)
            .collect();
        let count = results.iter().filter(|r| r.is_some()).count();
        let words = format!(
            "{count} of {} stages in {}",
            plan.stages.len(),
            root.display()
        );
        Ok(Held {
            results,
            words,
            store: Some(ctx.store),
        })
    }

    /// Where the published outputs are read: `--out`, else `<repo>/figures`.
    fn out_dir(&self, out: Option<PathBuf>) -> Result<PathBuf> {
        out.map_or_else(|| Ok(self.repo()?.join("figures")), Ok)
    }

    /// Where a run of profile `label` (a [`Plan::profile`]) publishes: `--out`, else
    /// `<repo>/figures` for the project's results profile ([`profile::RESULTS`]) and
    /// `<repo>/results/<name>` for any other, so a shorter profile never overwrites them.
    fn publish_dir(&self, out: Option<PathBuf>, label: &str) -> Result<PathBuf> {
        if let Some(out) = out {
            return Ok(out);
        }
        let repo = self.repo()?;
        if label == profile::RESULTS {
            return Ok(repo.join("figures"));
        }
        let name = match Origin::of(label) {
            Origin::File(path) => path
                .file_stem()
                .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned()),
            Origin::BuiltIn(name) => name.to_string(),
        };
        Ok(repo.join("results").join(name))
    }

    fn context(&self, scope: Scope, jobs: usize) -> Result<Context> {
        Ok(Context::new(
            self.store()?,
            Context::default_bin_dir()?,
            threads_per_job(jobs),
            scope,
        ))
    }

    /// The plan of a profile on this repository, for training on `gpus` (the CPU when none),
    /// its final runs grouped into packs as `pack_size` (`--pack-size`) and the device allow.
    fn plan(
        &self,
        args: &ProfileArgs,
        default: &str,
        gpus: Option<&Gpus>,
        placement: &Placement,
    ) -> Result<Plan> {
        let free = gpus.and_then(Gpus::free_bytes);
        self.plan_in(args, default, gpus, free, placement)
    }

    /// [`Env::plan`] with the GPU's free memory given (`paper plan` for a GPU this machine
    /// does not have).
    fn plan_in(
        &self,
        args: &ProfileArgs,
        default: &str,
        gpus: Option<&Gpus>,
        free: Option<u64>,
        placement: &Placement,
    ) -> Result<Plan> {
        let free = free.map(|bytes| packing::per_trainer(bytes, placement.trainers_per_gpu));
        let packing =
            PackSize::choose(placement.pack_size, free).map_err(|e| usage(format!("{e:#}")))?;
        let plan = self.plan_for(args, default, &Gpus::device_class(gpus))?;
        if packing == PackSize::Alone {
            return Ok(plan);
        }
        let runs: Vec<&RunParams<Lr>> = plan
            .stages
            .iter()
            .filter_map(|s| match &s.kind {
                Kind::Train { run, .. } => Some(run),
                _ => None,
            })
            .collect();
        let card = gpus.map(|g| cost::Gpu::named(&g.name).spec);
        let cap = |run: &RunParams<Lr>| {
            card.as_ref()
                .map_or(usize::MAX, |c| cost::saturating_pack(run, c))
        };
        let sizes = packing.sizes(&runs, &Context::default_bin_dir()?, cap)?;
        plan.pack(|run| sizes[&run.pack_shape()])
    }

    /// The profile is read and validated before anything else (tool identities, the store), so
    /// a bad one is refused before anything is written.
    fn plan_for(&self, args: &ProfileArgs, default: &str, device_class: &str) -> Result<Plan> {
        let (profile, label) = load_profile(args, default)?;
        let tools = identities(&self.repo()?, &self.runtime(device_class)?)?;
        Plan::build(&profile, &label, tools, device_class)
    }

    /// What `train` adds to its identity here: its own report, and the device class.
    fn runtime(&self, device_class: &str) -> Result<Runtime> {
        Ok(Runtime {
            versions: train_versions(&Context::default_bin_dir()?),
            device_class: device_class.to_string(),
        })
    }
}

/// What the store holds of a plan: each stage's result (plan order), in words, and the store
/// when there is one.
struct Held {
    results: Vec<Option<StageResult>>,
    words: String,
    store: Option<Store>,
}

impl Held {
    fn cached(&self) -> Vec<bool> {
        self.results.iter().map(Option::is_some).collect()
    }
}

/// Stages run at once: `--jobs`, else the number of cores, at least the number of training
/// slots (GPUs x trainers per GPU).
fn jobs(placement: &Placement, gpus: Option<&Gpus>, trainers: usize, cores: usize) -> usize {
    let slots = gpus.map_or(0, |g| g.ids.len() * trainers);
    placement.jobs.map_or_else(|| cores.max(slots), usize::from)
}

/// The machine `plan` runs on (or `paper plan` predicts for): `cores`, training on `gpus` when
/// there are any, `--trainers-per-gpu` at a time on each, else as many as the cost model
/// predicts fastest for the stages not `cached`.
fn machine(
    plan: &Plan,
    cached: &[bool],
    placement: &Placement,
    gpus: Option<&Gpus>,
    cores: usize,
) -> Machine {
    let machine_with = |trainers: usize| Machine {
        jobs: jobs(placement, gpus, trainers, cores),
        cores,
        gpus: gpus.map_or(0, |g| g.ids.len()),
        gpu: gpus.map(|g| cost::Gpu::named(&g.name)),
        trainers_per_gpu: trainers,
        trainers_chosen: false,
        cores_assumed: false,
    };
    match placement.trainers_per_gpu {
        Some(trainers) => machine_with(trainers.into()),
        None => cost::fastest_trainers(plan, cached, machine_with),
    }
}

/// The profile status and explain look at when none is named: the one last published.
fn default_profile(manifest: Option<&Manifest>) -> String {
    manifest.map_or_else(|| "quick".into(), |m| m.profile.clone())
}

/// The profile and its label (`quick`, or `file:<path>` for a profile file).
fn load_profile(args: &ProfileArgs, default: &str) -> Result<(Profile, String)> {
    let label = match (&args.profile_file, args.profile) {
        (Some(file), _) => Origin::file_label(file)?,
        (None, Some(name)) => name.name().to_string(),
        (None, None) => default.to_string(),
    };
    let profile = Origin::of(&label).load()?;
    Ok((profile, label))
}
