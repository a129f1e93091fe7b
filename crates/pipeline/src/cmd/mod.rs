//! One module per subcommand of `paper`, and what they share: where the repository, store and
//! published figures are, and how a profile becomes a plan.

mod gc;
mod inspect;
mod run;
mod slurm;
mod verify;

use crate::cli::{Cli, Command, ProfileArgs};
use crate::device::{threads_per_job, Gpus};
use crate::exec::{Context, Scope};
use crate::manifest::Manifest;
use crate::packing::PackSize;
use crate::plan::{Kind, Plan};
use crate::profile::Profile;
use crate::tool::{find_repo_root, identities, train_versions, Runtime};
use anyhow::Result;
use spec::cli::usage;
use spec::RunParams;
use std::path::{Path, PathBuf};
use store::Store;

/// Carries out a parsed command line; `main` is `spec::cli::main("paper", dispatch)`.
pub fn dispatch(cli: Cli) -> Result<()> {
    let env = Env {
        repo: cli.repo,
        store: cli.store,
    };
    if cli.command.is_some() && !cli.run.is_unset() {
        return Err(usage(
            "run options (--profile, --jobs, --gpus, --out...) go after the subcommand, or mean `paper run`",
        ));
    }
    match cli.command {
        None => run::run(&env, cli.run),
        Some(Command::Run(args)) => run::run(&env, args),
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

    /// The plan of a profile on this repository, for training on `gpus` (the CPU when none),
    /// its final runs grouped into packs as `pack_size` (`--pack-size`) and the device allow.
    fn plan(
        &self,
        args: &ProfileArgs,
        default: &str,
        gpus: Option<&Gpus>,
        pack_size: Option<usize>,
    ) -> Result<Plan> {
        let packing = PackSize::choose(pack_size, gpus.and_then(Gpus::free_bytes))
            .map_err(|e| usage(format!("{e:#}")))?;
        let plan = self.plan_for(args, default, &Gpus::device_class(gpus))?;
        if packing == PackSize::Alone {
            return Ok(plan);
        }
        let runs: Vec<&RunParams> = plan
            .stages
            .iter()
            .filter_map(|s| match &s.kind {
                Kind::Train { run, .. } => Some(run),
                _ => None,
            })
            .collect();
        let sizes = packing.sizes(&runs, &Context::default_bin_dir()?)?;
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

/// The profile status and explain look at when none is named: the one last published.
fn default_profile(manifest: Option<&Manifest>) -> String {
    manifest.map_or_else(|| "quick".into(), |m| m.profile.clone())
}

/// The profile and its label (`quick`, or `file:<path>` for a profile file).
fn load_profile(args: &ProfileArgs, default: &str) -> Result<(Profile, String)> {
    let label = match (&args.profile_file, args.profile) {
        (Some(file), _) => format!("file:{}", std::path::absolute(file)?.display()),
        (None, Some(name)) => name.name().to_string(),
        (None, None) => default.to_string(),
    };
    let profile = match label.strip_prefix("file:") {
        Some(file) => Profile::from_file(Path::new(file))?,
        None => Profile::built_in(&label)?,
    };
    Ok((profile, label))
}
