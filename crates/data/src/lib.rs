//! Datasets for the reproduction: manifests, verified download and import, decoding,
//! `dataset.h5` IO and the Shapeset-3x2 generator.
//!
//! Must not know: tch. This crate never links libtorch.

pub mod cifar;
pub mod dataset;
pub mod download;
pub mod fetch;
pub mod idx;
pub mod manifest;
pub mod shapeset;
