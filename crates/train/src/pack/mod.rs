//! The training engine: K >= 1 models of one shape stacked as `[K, fan_in, fan_out]`
//! tensors, one `baddbmm` per layer for all of them. A single run (`train`) is a pack of one
//! through the same loop, the same step and the same checkpoints as `train-pack`, so the code
//! a GPU pack runs is the code every CPU test runs.
//!
//! Each model is probed with this crate's probe code on its slice of the pack and writes the
//! `run.h5` a single run of its parameters writes; nothing downstream learns that packs exist.
//!
//! Must not know: which runs a pipeline groups into a pack, or why. It trains what it is
//! given, refusing runs that do not share a shape (`spec::RunParams::pack_shape`).

pub mod bench;
pub mod checkpoint;
pub mod compare;
pub mod data;
pub mod member;
pub mod members;
pub mod model;
pub mod trainer;
