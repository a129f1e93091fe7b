//! `run.h5`: the recording of one run. `write` documents the layout and writes it
//! atomically; `read` opens it lazily for figures. Both spell paths through `crate::layout`.

pub mod read;
pub mod write;

pub use read::Recording as RunFile;
pub use write::{export_seed_layout, write_run_h5, RawSnapshot, RunInfo};
