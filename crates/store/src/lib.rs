//! Content-addressed, immutable store of build artifacts.
//!
//! **Must not know** anything about ML, datasets or stages: it stores directories of bytes
//! under keys derived from a canonical JSON description of how they were made.
//!
//! # On-disk layout
//! ```text
//! <root>/<key[0..2]>/<key>/      one complete entry: its files (any tree) plus
//!     key.json                   the canonical JSON whose sha256 is <key>
//!     outputs.json               {"files": {"<rel/path>": {"sha256": "<hex>", "size": N}}}
//!     seal.json                  {"key":"<key>","outputs_sha256":"<sha256 of outputs.json>"}
//! <root>/tmp/<pid>-<nanos>-<n>-<host>/  entries being built; renamed into place when complete
//! <root>/locks/<key>.lock        advisory lock files (one per key being built)
//! <root>/locks/<key>.repair.lock taken while moving a directory to quarantine
//! <root>/quarantine/<key>-<pid>-<nanos>-<n>-<host>/  damaged or half entries, moved aside
//! ```
//! An entry only appears by an atomic rename of a fully written and fsynced directory, so
//! a killed writer leaves at most a stale `tmp/` directory, never an entry that looks
//! complete. Entries are made read-only (files 0o444, dirs 0o555) once in place.
//!
//! # What vouches for an entry
//! `key.json` hashes to the key; `outputs.json` declares every file with its size and
//! sha256; `seal.json` (canonical JSON, written last) binds the exact `outputs.json` bytes
//! to the key. [`Store::get`] accepts an entry only when all three agree, so editing a file
//! together with its hash in `outputs.json` breaks the seal. The seal is a checksum, not a
//! signature: whoever rewrites `seal.json` too can forge an entry, which is why
//! [`Entry::outputs_sha256`] is offered for recording outside the store (e.g. a MANIFEST
//! tracked in git). [`Store::check`] compares the files with `outputs.json` at a chosen
//! [`Depth`]; [`Store::get_checked`] and [`Store::verify_store`] move half or damaged
//! entries to `quarantine/` so their keys are rebuilt rather than trusted or blocked.
//!
//! Paths read from files are checked with [`path::safe_relative`] and
//! [`path::ensure_no_symlink`] before use. An entry never holds an uncommitted
//! [`atomic::AtomicFile`] temp file: sealing refuses one.

pub mod atomic;
mod check;
mod key;
mod lock;
pub mod path;
mod repair;
mod store;
mod walk;

pub use check::{Check, Depth, Problem, State};
pub use key::{canonical_json, Key, KeySpec};
pub use lock::LockGuard;
pub use repair::{Checked, StoreReport};
pub use store::{Entry, FileRecord, GcReport, Store, VerifyReport};
