//! Turns `run.h5` recordings into the paper's evidence: Figs 1-12 (PNG + SVG), Table 1
//! (Markdown + CSV) and REPORT.md, whose verdicts are computed from the recordings.
//!
//! Must not know: tch. This crate never links libtorch; it reads only `run.h5` files (layout:
//! crates/train/src/record.rs) and calls the Shapeset generator for Fig 1. Runs are chosen by
//! their recorded config (dataset, activation, init, hidden layers), never by path.

pub mod aggregate;
pub mod canvas;
pub mod config;
pub mod evidence;
pub mod figs;
pub mod paper;
pub mod recording;
pub mod render;
pub mod report;
pub mod runs;
pub mod stats;
pub mod style;
pub mod surface;
pub mod table;
pub mod target;
