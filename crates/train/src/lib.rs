//! The paper's MLPs in tch: inits (eq. 1 and eq. 16), activations, a hand-written
//! backward with fused plain-SGD updates, probes (activations, dCost/ds, weight gradients,
//! Jacobian singular values, valid/test error), `run.h5` recording and checkpoints.
//!
//! Must not know: how figures look. It records numbers; `figures` decides how to draw
//! them. The `run.h5` layout is documented in [`record`].

pub mod activation;
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod model;
pub mod probe;
pub mod record;
pub mod recording;
pub mod rng;
pub mod source;
pub mod stats;
pub mod trainer;
