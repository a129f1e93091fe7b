//! Shared by the store's integration tests: a key spec, a store in a temp directory, a
//! two-file entry body and racing writers.
#![allow(dead_code)]

use anyhow::Result;
use serde_json::json;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Barrier;
use store::{Entry, KeySpec, Store};
use tempfile::TempDir;

/// The spec of stage `stage`'s run with `seed`, no inputs.
pub fn spec(stage: &str, seed: u64) -> KeySpec {
    KeySpec {
        stage: stage.into(),
        params: json!({"seed": seed}),
        inputs: BTreeMap::new(),
        tool: "test".into(),
    }
}

/// A store in a fresh temp directory (kept alive by the returned guard).
pub fn temp_store() -> (TempDir, Store) {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open(root.path()).unwrap();
    (root, store)
}

/// An entry body: `a.bin` and `sub/b.txt`.
pub fn write_two_files(dir: &Path) -> Result<()> {
    fs::write(dir.join("a.bin"), b"alpha bytes")?;
    fs::create_dir(dir.join("sub"))?;
    fs::write(dir.join("sub/b.txt"), b"beta")?;
    Ok(())
}

/// Four threads putting the spec of stage "race", seed 0, at once: each writes its body with
/// `write(thread, dir)`, then waits for all the others before the entry is sealed.
pub fn racing_puts(store: &Store, write: impl Fn(usize, &Path) -> Result<()> + Sync) -> Vec<Entry> {
    const WRITERS: usize = 4;
    let barrier = Barrier::new(WRITERS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|i| {
                let (barrier, write) = (&barrier, &write);
                s.spawn(move || {
                    store.put(&spec("race", 0), |dir| {
                        write(i, dir)?;
                        barrier.wait();
                        Ok(())
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    })
}
