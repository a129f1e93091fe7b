//! The paper as a DAG of content-addressed stages.
//!
//! `paper` turns a profile (which runs each figure needs) into a [`plan::Plan`]: dataset stages,
//! training runs and figure renders, each keyed by the `store` crate over its parameters, the keys
//! of its inputs and the identity of the tool that runs it. Stages whose key is in the store are not
//! run; the others run as child processes (`fetch`, `shapeset`, `train`, `figures`), in parallel
//! where the DAG allows, and their outputs are moved into the store. Finally the figures are
//! published into `figures/` with a `MANIFEST.json` that says what each file was made from.
//!
//! Must not know: the internals of a stage. This crate knows command lines, parameters and keys;
//! of a stage's output it reads only the last line the stage prints and the directory it fills.

pub mod device;
pub mod exec;
pub mod explain;
pub mod gc;
pub mod manifest;
pub mod plan;
pub mod profile;
pub mod schedule;
pub mod slurm;
pub mod status;
pub mod tool;
