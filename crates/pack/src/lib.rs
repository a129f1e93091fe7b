//! The pack trainer: K runs of one shape in one process, weights `[K, fan_in, fan_out]`,
//! one `bmm`/`baddbmm_` per layer for all K (binary `train-pack`).
//!
//! It reuses train's model pieces (init, activations, probes, statistics, raw snapshots)
//! on each model's slice of the pack, and spec's `run.h5` writer: every model writes the
//! `run.h5` a single run of its parameters writes, into its own directory, and nothing
//! downstream learns that packs exist.
//!
//! Must not know: which runs a pipeline groups into a pack, or why. It trains what its
//! `--runs` file lists, refusing a list whose runs do not share a shape and schedule.

pub mod bench;
pub mod checkpoint;
pub mod compare;
pub mod data;
pub mod members;
pub mod model;
pub mod trainer;
