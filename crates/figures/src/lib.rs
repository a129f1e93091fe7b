//! Turns `run.h5` recordings into the paper's evidence: Figs 1-12 and the He extension (PNG +
//! SVG), Table 1 (Markdown + CSV) and REPORT.md, whose verdicts are computed from the
//! recordings.
//!
//! Must not know: tch. This crate never links libtorch; it reads only `run.h5` files (through
//! `spec::run_h5`) and calls the Shapeset generator for Fig 1. Its vocabulary (datasets,
//! activations, inits, figure ids, the runs each figure needs) is `spec`'s. Runs are chosen
//! by their recorded config, never by path.
//!
//! Map: `runs` finds and groups recordings · `figs/` one module per output (claim, rule,
//! measurement, rendering) plus the shared renderer families · `verdict` the outcomes and
//! how parts and seeds combine · `gate` the one chance gate of every training-time claim ·
//! `compare` "A is better than B", tested over seeds at equal rates ·
//! `report` REPORT.md from the figure modules · `render` what to make · `aggregate`,
//! `stats`, `table`, `surface`, `paper` the numbers · `style`, `canvas` the look and files.

pub mod aggregate;
pub mod canvas;
pub mod compare;
pub mod figs;
pub mod gate;
pub mod paired;
pub mod paper;
pub mod plateau;
pub mod render;
pub mod report;
pub mod runs;
pub mod stats;
pub mod style;
pub mod surface;
pub mod table;
pub mod verdict;
