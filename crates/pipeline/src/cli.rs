//! `paper`'s command line: the clap types and nothing else. Each subcommand is carried out by
//! its module under [`crate::cmd`].

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Rebuilds every reproducible figure and Table 1 of Glorot & Bengio (2010) from hashed inputs:
/// datasets, training runs and renders are stages keyed by their parameters, inputs and tool
/// sources; only stages missing from the store run. Figures are published with MANIFEST.json.
#[derive(Parser)]
#[command(name = "paper", version)]
pub struct Cli {
    /// Repository root [default: the nearest directory above the current one whose Cargo.toml has [workspace]].
    #[arg(long, global = true)]
    pub repo: Option<PathBuf>,
    /// Store root [default: $XAVIER_STORE, else <repo>/.store].
    #[arg(long, global = true)]
    pub store: Option<PathBuf>,
    /// Start training even when the predicted wall time is above a day (`paper plan` shows
    /// the prediction); without it `paper` asks on a terminal and refuses otherwise.
    #[arg(long, global = true)]
    pub yes: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Build what is missing and publish the figures (the default).
    Run(RunArgs),
    /// What a profile would cost: its stages by kind, the predicted wall time on this machine
    /// (or on `--gpus N --gpu-name NAME`) and the measurements the prediction rests on.
    Plan(PlanArgs),
    /// Each stage of a profile: cached, stale (published from another key), missing or waiting.
    Status(InspectArgs),
    /// Fail when the published figures are stale: recompute every key of the published profile
    /// from the code (no store, no training) and compare with those MANIFEST.json names.
    Check(InspectArgs),
    /// The chain of keys behind a figure, and why each stage would rerun.
    Explain {
        /// An output id (fig3, table1, ext-he, report), a published file (figures/fig3.png) or a stage name.
        target: String,
        #[command(flatten)]
        inspect: InspectArgs,
    },
    /// The plan as a graph (Graphviz DOT or Mermaid), coloured by what the store holds.
    Dag {
        #[arg(long, value_enum, default_value = "dot")]
        format: DagFormat,
        #[command(flatten)]
        inspect: InspectArgs,
    },
    /// What changed between two publications: stage keys and why, files, headline metrics.
    Diff {
        /// The older MANIFEST.json (or the directory holding it).
        old: PathBuf,
        /// The newer MANIFEST.json (or the directory holding it).
        new: PathBuf,
    },
    /// Recheck every entry of the store and the published figures; list half entries, stale
    /// temp and work dirs.
    Verify(VerifyArgs),
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
pub enum ProfileName {
    /// Shapeset only, minutes on 2 CPU cores.
    Ci,
    /// Every figure on 2 CPU cores within 35 minutes (miniature runs).
    Quick,
    /// The project's committed results: 2 CPU cores for about 2 hours, spent where claims become testable.
    Long,
    /// The paper's scale, for GPUs.
    Full,
}

impl ProfileName {
    pub const ALL: [ProfileName; 4] = [
        ProfileName::Ci,
        ProfileName::Quick,
        ProfileName::Long,
        ProfileName::Full,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProfileName::Ci => "ci",
            ProfileName::Quick => "quick",
            ProfileName::Long => "long",
            ProfileName::Full => "full",
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DagFormat {
    Dot,
    Mermaid,
}

#[derive(Args, Clone, Default)]
pub struct ProfileArgs {
    /// Built-in profile [default: quick to run, full for slurm; the published one for status and explain].
    #[arg(long, value_enum)]
    pub profile: Option<ProfileName>,
    /// A profile TOML file instead of a built-in profile.
    #[arg(long, conflicts_with = "profile")]
    pub profile_file: Option<PathBuf>,
}

/// What status, explain and dag look at.
#[derive(Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Directory holding MANIFEST.json [default: <repo>/figures].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// GPUs training would use, as for `paper run` (the device class is part of every run's key).
    #[arg(long)]
    pub gpus: Option<usize>,
    /// Pack size, as for `paper run` (the engine, `train` or `train-pack`, is part of a run's key).
    #[arg(long)]
    pub pack_size: Option<usize>,
}

/// Where and how many at once: what `paper` runs stages on, and what `paper plan` predicts
/// for.
#[derive(Args, Default)]
pub struct Placement {
    /// Stages run at once; each child gets cores/jobs threads [default: the number of cores, at least the number of GPUs].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// GPUs to spread training runs over, one per run [default: what `nvidia-smi -L` lists; 0: train on the CPU].
    #[arg(long)]
    pub gpus: Option<usize>,
    /// Runs of one shape (differing in seed, init or learning rate; trials and final runs
    /// apart) trained together by `train-pack`, K per process [default: as many as the GPU's
    /// free memory holds; on the CPU 1, each run alone]. A K that does not fit is refused
    /// before anything trains.
    #[arg(long)]
    pub pack_size: Option<usize>,
    /// Training processes sharing each GPU at once (plain concurrent processes, or CUDA MPS
    /// where its daemon runs): a launch-bound trainer leaves most of a GPU idle [default: the
    /// count from 1 to 4 the cost model predicts fastest for what is left to build, each
    /// trainer with a core of its own; `paper plan` says which and why]. bench/gpu_check.sh
    /// measures 1, 2 and 4.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub trainers_per_gpu: Option<u16>,
}

/// What `paper plan` predicts for.
#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub placement: Placement,
    /// The GPU model, as `nvidia-smi -L` names it ('NVIDIA H100 80GB HBM3') [default: this machine's].
    #[arg(long, requires = "gpus")]
    pub gpu_name: Option<String>,
    /// The CPU cores of the machine predicted for: each GPU trainer launches from one
    /// [default: this machine's; for `--gpu-name`, a host that feeds 4 trainers a GPU].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub cores: Option<u16>,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub placement: Placement,
    /// Where figures are published [default: <repo>/figures].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run a plan written by `paper slurm` instead of a profile.
    #[arg(long, hide = true, conflicts_with_all = ["profile", "profile_file"])]
    pub plan: Option<PathBuf>,
    /// Train nothing: use the runs in the store and skip the others (Slurm's finishing job).
    #[arg(long, hide = true)]
    pub no_train: bool,
}

impl RunArgs {
    /// True when none of the run options was given.
    pub fn is_unset(&self) -> bool {
        let RunArgs {
            profile,
            placement:
                Placement {
                    jobs,
                    gpus,
                    pack_size,
                    trainers_per_gpu,
                },
            out,
            plan,
            no_train,
        } = self;
        profile.profile.is_none()
            && profile.profile_file.is_none()
            && jobs.is_none()
            && gpus.is_none()
            && pack_size.is_none()
            && trainers_per_gpu.is_none()
            && out.is_none()
            && plan.is_none()
            && !no_train
    }
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Directory holding MANIFEST.json [default: <repo>/figures].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Move half and damaged entries to the quarantine (their stages rebuild on the next run),
    /// and remove stale temp dirs, stale work dirs and dead pid files.
    #[arg(long)]
    pub repair: bool,
}

#[derive(Args)]
pub struct SlurmArgs {
    /// Directory for plan.json, train.sbatch, finish.sbatch and submit.sh.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// The GPU model of the partition, as `nvidia-smi -L` names it (it goes into the keys) [default: this machine's, else unspecified].
    #[arg(long)]
    pub gpu_name: Option<String>,
    /// Train on CPUs instead of one GPU per task.
    #[arg(long)]
    pub cpu: bool,
    /// Slurm partition of both jobs [default: the cluster's].
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit of each task.
    #[arg(long, default_value = "2-00:00:00")]
    pub time: String,
    /// CPUs of each task: a run's threads, and the finishing job's parallel renders.
    #[arg(long, default_value_t = 4)]
    pub cpus_per_task: usize,
    /// Where the finishing job publishes the figures [default: <repo>/figures].
    #[arg(long)]
    pub publish_to: Option<PathBuf>,
    /// Final runs of one shape per array task, trained together by `train-pack` (one pack per
    /// task). The cluster's GPU is not visible here: `train-pack memory --runs R --memory-gb G`
    /// says how many fit in G GB.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub pack_size: u16,
}
