//! Store behaviour on real directories: put, get, verify, gc, failures.

mod common;

use common::{racing_puts, spec, temp_store, write_two_files};
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use store::{Key, Store};

/// How many build directories are left under the store's `tmp/`.
fn temp_dirs_left(root: &Path) -> usize {
    fs::read_dir(root.join("tmp")).unwrap().count()
}

#[test]
fn put_records_hashes_and_makes_entry_read_only() {
    let (root, store) = temp_store();
    let spec = spec("s", 1);
    let entry = store.put(&spec, write_two_files).unwrap();

    assert_eq!(entry.key, spec.key());
    let k = entry.key.as_str();
    assert_eq!(entry.dir, root.path().join(&k[..2]).join(k));
    assert!(store.contains(&entry.key));
    assert_eq!(store.get(&entry.key).unwrap(), entry);
    assert_eq!(store.keys().unwrap(), vec![entry.key.clone()]);

    let names: Vec<_> = entry.files.keys().cloned().collect();
    assert_eq!(names, ["a.bin", "sub/b.txt"]);
    let a = &entry.files["a.bin"];
    assert_eq!(a.size, 11);
    assert_eq!(a.sha256, store::atomic::sha256_bytes(b"alpha bytes"));
    assert_eq!(fs::read(entry.path("sub/b.txt")).unwrap(), b"beta");

    let key_json = fs::read_to_string(entry.dir.join("key.json")).unwrap();
    assert_eq!(key_json, spec.canonical());
    let outputs: serde_json::Value =
        serde_json::from_slice(&fs::read(entry.dir.join("outputs.json")).unwrap()).unwrap();
    assert_eq!(outputs["files"]["sub/b.txt"]["size"], 4);

    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&entry.path("a.bin")), 0o444);
    assert_eq!(mode(&entry.dir.join("outputs.json")), 0o444);
    assert_eq!(mode(&entry.path("sub")), 0o555);
    assert_eq!(mode(&entry.dir), 0o555);
    assert_eq!(temp_dirs_left(root.path()), 0);
    assert!(store.verify(&entry.key).unwrap().is_ok());
}

#[test]
fn failed_build_leaves_nothing() {
    let (root, store) = temp_store();
    let err = store
        .put(&spec("s", 2), |dir| {
            fs::write(dir.join("half"), b"x")?;
            anyhow::bail!("compiler exploded")
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("compiler exploded"), "{err:#}");
    assert!(!store.contains(&spec("s", 2).key()));
    assert_eq!(temp_dirs_left(root.path()), 0);
}

#[test]
fn reserved_names_and_symlinks_are_refused() {
    let (_root, store) = temp_store();
    let err = store
        .put(&spec("s", 3), |dir| {
            Ok(fs::write(dir.join("outputs.json"), b"{}")?)
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("reserved"), "{err:#}");
    let err = store
        .put(&spec("s", 4), |dir| {
            Ok(std::os::unix::fs::symlink(
                "/etc/hostname",
                dir.join("link"),
            )?)
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("not a regular file"), "{err:#}");
    assert!(store.keys().unwrap().is_empty());
}

#[test]
fn second_put_returns_existing_entry_without_replacing_it() {
    let (root, store) = temp_store();
    let first = store.put(&spec("s", 5), write_two_files).unwrap();
    let second = store
        .put(&spec("s", 5), |dir| {
            Ok(fs::write(dir.join("other"), b"zz")?)
        })
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(temp_dirs_left(root.path()), 0);
}

#[test]
fn concurrent_unlocked_puts_of_one_key_agree() {
    let (root, store) = temp_store();
    let entries = racing_puts(&store, |i, dir| {
        fs::write(dir.join("out"), format!("writer {i}"))?;
        Ok(())
    });
    assert!(entries.iter().all(|e| e == &entries[0]));
    assert_eq!(store.keys().unwrap().len(), 1);
    assert!(store.verify(&entries[0].key).unwrap().is_ok());
    assert_eq!(temp_dirs_left(root.path()), 0);
}

#[test]
fn put_dir_moves_a_prebuilt_directory() {
    let (root, store) = temp_store();
    let src = store.temp_dir().unwrap();
    assert!(src.starts_with(root.path().join("tmp")));
    write_two_files(&src).unwrap();
    let entry = store.put_dir(&spec("child", 0), &src).unwrap();
    assert!(!src.exists());
    assert_eq!(entry.files.len(), 2);
    assert!(store.verify(&entry.key).unwrap().is_ok());
}

fn flip_first_byte(path: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(path).unwrap();
    bytes[0] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn verify_names_tampered_missing_and_unexpected_files() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("v", 0), write_two_files).unwrap();

    flip_first_byte(&entry.path("a.bin"));
    let report = store.verify(&entry.key).unwrap();
    assert_eq!(report.tampered, ["a.bin"]);
    assert!(report.missing.is_empty() && report.unexpected.is_empty());
    assert!(!report.is_ok());

    let sub = entry.path("sub");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
    fs::remove_file(entry.path("sub/b.txt")).unwrap();
    fs::write(sub.join("intruder"), b"?").unwrap();
    flip_first_byte(&entry.dir.join("key.json"));
    let report = store.verify(&entry.key).unwrap();
    assert_eq!(report.tampered, ["a.bin", "key.json"]);
    assert_eq!(report.missing, ["sub/b.txt"]);
    assert_eq!(report.unexpected, ["sub/intruder"]);

    let all = store.verify_all().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0], (entry.key.clone(), report));
}

#[test]
fn verify_of_absent_key_is_an_error() {
    let (_root, store) = temp_store();
    let key: Key = "0".repeat(64).parse().unwrap();
    let err = store.verify(&key).unwrap_err();
    assert!(err.to_string().contains("no complete store entry"), "{err}");
}

#[test]
fn entry_without_outputs_json_is_not_complete() {
    let (_root, store) = temp_store();
    let key = spec("x", 0).key();
    fs::create_dir_all(store.entry_dir(&key)).unwrap();
    fs::write(store.entry_dir(&key).join("outputs.json"), b"{trunc").unwrap();
    assert!(!store.contains(&key));
    assert!(store.keys().unwrap().is_empty());
}

#[test]
fn gc_removes_dead_entries_and_keeps_live_ones() {
    let (root, store) = temp_store();
    let live = store.put(&spec("g", 1), write_two_files).unwrap();
    let dead = store.put(&spec("g", 2), write_two_files).unwrap();
    drop(store.lock(&dead.key).unwrap());
    // A temp dir of a process that no longer exists (pid far above pid_max).
    let stale = root.path().join("tmp/999999999-1-0");
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("junk"), b"12345").unwrap();
    let in_progress = store.temp_dir().unwrap();
    let len = |p: PathBuf| fs::metadata(p).unwrap().len();
    let dead_bytes: u64 = dead.files.values().map(|f| f.size).sum::<u64>()
        + len(dead.dir.join("outputs.json"))
        + len(dead.dir.join("key.json"))
        + len(dead.dir.join("seal.json"));

    let report = store.gc(&BTreeSet::from([live.key.clone()])).unwrap();
    assert_eq!(report.removed, std::slice::from_ref(&dead.key));
    assert_eq!(report.bytes_freed, dead_bytes + 5);
    assert_eq!(report.removed_temp, std::slice::from_ref(&stale));
    assert_eq!(report.removed_locks, 1);
    assert!(!dead.dir.exists() && !stale.exists());
    assert!(in_progress.exists(), "a running process's temp dir is kept");
    assert_eq!(store.keys().unwrap(), std::slice::from_ref(&live.key));
    assert!(store.verify(&live.key).unwrap().is_ok());
}

#[test]
fn loose_temp_files_of_gone_writers_are_swept_and_live_ones_kept() {
    let (root, store) = temp_store();
    let tmp = root.path().join("tmp");
    // pid 999999999 is above any pid_max: that writer is gone. Our own pid is running.
    let dead_temp = tmp.join(".dataset.h5.tmp-999999999-1-0");
    let dead_named = tmp.join("999999999-2-0");
    let nameless = tmp.join("junk");
    let live_temp = tmp.join(format!(".run.h5.tmp-{}-1-0", std::process::id()));
    for file in [&dead_temp, &dead_named, &nameless, &live_temp] {
        fs::write(file, b"half").unwrap();
    }
    let building = store.temp_dir().unwrap();
    let mut want = vec![dead_named.clone(), dead_temp.clone(), nameless.clone()];
    want.sort();
    assert_eq!(store.stale_temp().unwrap(), want);
    let report = store.verify_store(store::Depth::Quick, false).unwrap();
    assert_eq!(report.stale_temp, want);
    assert!(!report.is_clean());
    assert_eq!(store.sweep_stale_tmp().unwrap(), want);
    assert!(want.iter().all(|p| !p.exists()));
    assert!(live_temp.exists() && building.exists());
    assert!(store
        .verify_store(store::Depth::Quick, false)
        .unwrap()
        .is_clean());
}

#[test]
fn gc_skips_entries_whose_lock_is_held() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("held", 0), write_two_files).unwrap();
    let guard = store.lock(&entry.key).unwrap();
    let report = store.gc(&BTreeSet::new()).unwrap();
    assert!(report.removed.is_empty());
    assert_eq!(report.removed_locks, 0);
    assert!(store.contains(&entry.key));
    drop(guard);
    assert_eq!(store.gc(&BTreeSet::new()).unwrap().removed, [entry.key]);
}

#[test]
fn from_env_prefers_xavier_store() {
    let repo = tempfile::tempdir().unwrap();
    let custom = repo.path().join("custom");
    // This is the only test in this binary touching XAVIER_STORE.
    std::env::set_var("XAVIER_STORE", &custom);
    assert_eq!(Store::from_env(repo.path()).unwrap().root(), custom);
    std::env::remove_var("XAVIER_STORE");
    let default = Store::from_env(repo.path()).unwrap();
    assert_eq!(default.root(), repo.path().join(".store"));
    assert!(repo.path().join(".store/tmp").is_dir() && repo.path().join(".store/locks").is_dir());
}
