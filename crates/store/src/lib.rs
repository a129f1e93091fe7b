//! Content-addressed, immutable store of build artifacts.
//!
//! **Must not know** anything about ML, datasets or stages: it stores directories of bytes
//! under keys derived from a canonical JSON description of how they were made.
//!
//! # On-disk layout
//! ```text
//! <root>/<key[0..2]>/<key>/      one complete entry: its files (any tree) plus
//!     outputs.json               {"files": {"<rel/path>": {"sha256": "<hex>", "size": N}}}
//!     key.json                   the canonical JSON whose sha256 is <key>
//! <root>/tmp/<pid>-<nanos>-<n>/  entries being built; renamed into place when complete
//! <root>/locks/<key>.lock        advisory lock files (one per key being built)
//! ```
//! An entry only appears by an atomic rename of a fully written and fsynced directory, so
//! a killed writer leaves at most a stale `tmp/` directory, never an entry that looks
//! complete. Entries are made read-only (files 0o444, dirs 0o555) once in place.

pub mod atomic;
mod key;
mod lock;
mod store;
mod walk;

pub use key::{canonical_json, Key, KeySpec};
pub use lock::LockGuard;
pub use store::{Entry, FileRecord, GcReport, Store, VerifyReport};
