//! The paper as a DAG of content-addressed stages.
//!
//! `paper` turns a profile (the scale, seeds, learning rates and outputs of a reproduction) into
//! a [`plan::Plan`]: dataset stages, training runs and figure renders, each keyed by the `store`
//! crate over its parameters, the keys of its inputs and the identity of the tool that runs it.
//! The runs each output needs come from `spec` ([`spec::FigureId::needs`]). Stages whose key is
//! in the store (and whose entry passes its check) are not run; the others run as child
//! processes (`fetch`, `shapeset`, `train`, `figures`), in parallel where the DAG allows, and
//! their outputs are moved into the store. Finally the figures are published into `figures/`
//! with a `MANIFEST.json` that says what each file was made from.
//!
//! Must not know: the internals of a stage. This crate knows command lines, parameters and keys;
//! of a stage's output it reads only the last line the stage prints and the directory it fills.

pub mod cli;
pub mod cmd;
pub mod cost;
pub mod dag;
pub mod device;
pub mod diff;
pub mod exec;
pub mod explain;
pub mod gc;
pub mod lockfile;
pub mod manifest;
pub mod packing;
pub mod plan;
pub mod profile;
pub mod published;
pub mod schedule;
pub mod slurm;
pub mod status;
pub mod tool;

/// A test hook: when `PAPER_FAILPOINT` names this point, say so on stdout and wait to be
/// killed, so a test can SIGKILL `paper` exactly there (e.g. half way through publishing).
pub fn failpoint(name: &str) {
    if std::env::var("PAPER_FAILPOINT").is_ok_and(|p| p == name) {
        use std::io::Write;
        println!("failpoint {name}: waiting to be killed");
        let _ = std::io::stdout().flush();
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
}
