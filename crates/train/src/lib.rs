//! The paper's MLPs in tch: inits (eq. 1, eq. 16 and He), activations, a hand-written
//! backward with fused plain-SGD updates, probes (activations, dCost/ds, weight gradients,
//! Jacobian singular values, valid/test error), `run.h5` recording and checkpoints.
//!
//! The vocabulary (datasets, activations, inits, run parameters, the `run.h5` layout and
//! its writer) is `spec`'s; this crate only computes.
//!
//! Must not know: how figures look. It records numbers; `figures` decides how to draw
//! them.

pub mod activation;
pub mod bench;
pub mod checkpoint;
pub mod front;
pub mod identity;
pub mod kernels;
pub mod measure;
pub mod memory;
pub mod model;
pub mod pack;
pub mod probe;
pub mod rundir;
pub mod select;
pub mod signals;
pub mod source;
pub mod stats;
pub mod trainer;
