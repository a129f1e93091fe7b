//! The paper's vocabulary, declared once and used by every binary: datasets, activations,
//! inits ([`vocab`]), run parameters and their command lines ([`run`]), the figures and the
//! runs each needs ([`figure`]), how stages talk ([`protocol`]), the names inside `run.h5`
//! ([`layout`]), the device names that go into keys ([`device`]), the inits as formulas and
//! their generator ([`init`]) and the one error convention ([`cli`]). With the `hdf5` feature it also holds
//! the readers and writers of `run.h5` and `dataset.h5`, so tests write fixtures with the
//! real writer.
//!
//! Must not know: tch, plotters or the network. It names things, states the paper's
//! initializations ([`init`]) and reads/writes the two file formats; it computes nothing about
//! training or figures.

pub mod cli;
#[cfg(feature = "hdf5")]
pub mod dataset_h5;
pub mod device;
pub mod figure;
#[cfg(feature = "hdf5")]
pub mod h5;
pub mod init;
pub mod layout;
pub mod protocol;
pub mod recording;
pub mod run;
#[cfg(feature = "hdf5")]
pub mod run_h5;
pub mod selection;
pub mod vocab;

pub use figure::{FigureId, FIG2_DEPTH, PAPER_DEPTH};
pub use layout::Quantity;
pub use run::{RunArgs, RunConfig, RunParams, Selector, SHAPESET_EPOCH_UPDATES};
pub use vocab::{Activation, Dataset, Init};
