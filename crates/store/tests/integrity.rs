//! Integrity (issue 14): entries are checked before they are trusted, damaged and half
//! entries are quarantined and rebuilt, paths read from files stay inside their
//! directory, outputs.json is sealed to its key, and temp files are never sealed.

mod common;

use common::{racing_puts, spec, temp_store, write_two_files};
use serde_json::json;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use store::atomic::{sha256_bytes, AtomicFile};
use store::path::{ensure_no_symlink, resolve, safe_relative};
use store::{canonical_json, Check, Checked, Depth, Entry, Problem, State};

fn writable(path: &Path) {
    let mode = if path.is_dir() { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Overwrites a file of a sealed entry (opening up its mode first).
fn overwrite(path: &Path, bytes: &[u8]) {
    writable(path);
    fs::write(path, bytes).unwrap();
}

fn flip_first_byte(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    bytes[0] ^= 0x01;
    overwrite(path, &bytes);
}

/// Rewrites outputs.json to declare `files` and, if `reseal`, rewrites seal.json to
/// match: what a forger who knows the seal format would do.
fn rewrite_outputs(entry: &Entry, files: &serde_json::Value, reseal: bool) {
    let outputs = serde_json::to_vec_pretty(&json!({ "files": files })).unwrap();
    overwrite(&entry.dir.join("outputs.json"), &outputs);
    if reseal {
        let seal = json!({"key": entry.key.as_str(), "outputs_sha256": sha256_bytes(&outputs)});
        overwrite(
            &entry.dir.join("seal.json"),
            canonical_json(&seal).as_bytes(),
        );
    }
}

fn problems(check: &Check) -> Vec<String> {
    check.problems.iter().map(ToString::to_string).collect()
}

// ---------------------------------------------------------------- paths

#[test]
fn safe_relative_refuses_parent_absolute_and_dot_tricks() {
    assert_eq!(
        safe_relative("sub/b.txt").unwrap(),
        PathBuf::from("sub/b.txt")
    );
    for bad in [
        "../x",
        "/etc/passwd",
        "a/../../x",
        "./x",
        "a/./b",
        "",
        ".",
        "a//b",
        "..\\x",
    ] {
        let err = safe_relative(bad).unwrap_err();
        assert!(!format!("{err:#}").is_empty(), "{bad:?}");
    }
}

#[test]
fn resolve_refuses_a_path_through_a_symlink() {
    let base = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("victim.txt"), b"keep me").unwrap();
    symlink(outside.path(), base.path().join("link")).unwrap();
    symlink(
        outside.path().join("victim.txt"),
        base.path().join("file-link"),
    )
    .unwrap();

    for rel in ["link/victim.txt", "file-link", "link"] {
        let err = resolve(base.path(), rel).unwrap_err();
        assert!(format!("{err:#}").contains("symlink"), "{rel}: {err:#}");
    }
    assert!(resolve(base.path(), "../victim.txt").is_err());
    assert!(resolve(base.path(), "/etc/passwd").is_err());
    // A missing path is fine (nothing to follow yet), and so is a plain one.
    assert_eq!(
        resolve(base.path(), "new/file").unwrap(),
        base.path().join("new/file")
    );
    fs::create_dir(base.path().join("real")).unwrap();
    ensure_no_symlink(base.path(), Path::new("real/x")).unwrap();
}

#[test]
fn outputs_json_naming_a_parent_or_absolute_path_is_refused() {
    let (root, store) = temp_store();
    fs::write(root.path().join("victim.txt"), b"outside").unwrap();
    let record = json!({"sha256": sha256_bytes(b"outside"), "size": 7});
    for bad in ["../../victim.txt", "/etc/hostname"] {
        let entry = store.put(&spec("paths", 0), write_two_files).unwrap();
        // Even with a matching seal, an unsafe path makes the entry damaged, not readable.
        rewrite_outputs(&entry, &json!({ bad: record }), true);
        assert!(store.get(&entry.key).is_none(), "{bad}");
        let check = store.check(&entry.key, Depth::Full).unwrap();
        assert_eq!(check.state, State::Damaged, "{bad}");
        assert!(
            matches!(&check.problems[0], Problem::BadOutputs(why) if why.contains(bad)),
            "{bad}: {:?}",
            check.problems
        );
        store.quarantine(&entry.key).unwrap().unwrap();
    }
    assert_eq!(
        fs::read(root.path().join("victim.txt")).unwrap(),
        b"outside"
    );
}

#[test]
fn a_symlink_planted_in_an_entry_is_flagged_and_not_followed() {
    let (_root, store) = temp_store();
    let outside = tempfile::tempdir().unwrap();
    let entry = store.put(&spec("link", 0), write_two_files).unwrap();
    // Replace sub/ by a symlink to a directory holding an identical b.txt.
    fs::write(outside.path().join("b.txt"), b"beta").unwrap();
    writable(&entry.dir);
    writable(&entry.path("sub"));
    fs::remove_file(entry.path("sub/b.txt")).unwrap();
    fs::remove_dir(entry.path("sub")).unwrap();
    symlink(outside.path(), entry.path("sub")).unwrap();
    symlink("/etc/hostname", entry.path("extra")).unwrap();

    let check = store.check(&entry.key, Depth::Full).unwrap();
    assert_eq!(check.state, State::Damaged);
    let expected = ["sub/b.txt", "extra", "sub"].map(|p| Problem::NotRegular(p.into()));
    assert_eq!(check.problems, expected, "{:?}", problems(&check));
    assert!(!store.verify(&entry.key).unwrap().is_ok());
}

// ---------------------------------------------------------------- check

#[test]
fn quick_check_sees_sizes_and_full_check_sees_bytes() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("depth", 0), write_two_files).unwrap();
    let healthy = store.check(&entry.key, Depth::Full).unwrap();
    assert!(healthy.is_healthy() && healthy.problems.is_empty());

    flip_first_byte(&entry.path("a.bin"));
    assert!(store.check(&entry.key, Depth::Quick).unwrap().is_healthy());
    let full = store.check(&entry.key, Depth::Full).unwrap();
    assert_eq!(full.state, State::Damaged);
    assert_eq!(full.problems, [Problem::WrongHash("a.bin".into())]);
    // 15 bytes of files: hashed under a 1 KB limit, not under a 10-byte one.
    assert!(!store
        .check(&entry.key, Depth::FullUpTo(1024))
        .unwrap()
        .is_healthy());
    assert!(store
        .check(&entry.key, Depth::FullUpTo(10))
        .unwrap()
        .is_healthy());

    overwrite(&entry.path("sub/b.txt"), b"bet");
    let quick = store.check(&entry.key, Depth::Quick).unwrap();
    assert_eq!(quick.problems, [Problem::WrongSize("sub/b.txt".into())]);
    assert!(problems(&quick)[0].contains("sub/b.txt"));
}

#[test]
fn an_absent_key_checks_absent() {
    let (_root, store) = temp_store();
    let check = store.check(&spec("none", 0).key(), Depth::Full).unwrap();
    assert_eq!(check.state, State::Absent);
    assert!(!check.is_healthy());
}

#[test]
fn half_entries_are_detected_for_each_missing_record() {
    let (_root, store) = temp_store();
    for (seed, record) in ["outputs.json", "key.json", "seal.json"].iter().enumerate() {
        let entry = store
            .put(&spec("half", seed as u64), write_two_files)
            .unwrap();
        writable(&entry.dir);
        fs::remove_file(entry.dir.join(record)).unwrap();
        let check = store.check(&entry.key, Depth::Quick).unwrap();
        assert_eq!(check.state, State::Half, "{record}");
        assert!(check
            .problems
            .contains(&Problem::MissingRecord((*record).into())));
        assert!(!store.contains(&entry.key), "{record}");
        assert!(store.entry_keys().unwrap().contains(&entry.key));
    }
    // An empty directory at an entry's place is half too.
    let key = spec("half", 9).key();
    fs::create_dir_all(store.entry_dir(&key)).unwrap();
    assert_eq!(store.check(&key, Depth::Quick).unwrap().state, State::Half);
}

#[test]
fn undeclared_files_are_flagged() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("extra", 0), write_two_files).unwrap();
    writable(&entry.path("sub"));
    fs::write(entry.path("sub/.run.h5.tmp-1-2-3"), b"half a file").unwrap();
    let check = store.check(&entry.key, Depth::Quick).unwrap();
    assert_eq!(check.state, State::Damaged);
    assert_eq!(
        check.problems,
        [Problem::Undeclared("sub/.run.h5.tmp-1-2-3".into())]
    );
}

// ---------------------------------------------------------------- seal

#[test]
fn editing_a_file_and_its_hash_together_breaks_the_seal() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("seal", 0), write_two_files).unwrap();
    let seal: serde_json::Value =
        serde_json::from_slice(&fs::read(entry.dir.join("seal.json")).unwrap()).unwrap();
    let outputs = fs::read(entry.dir.join("outputs.json")).unwrap();
    assert_eq!(seal["key"], entry.key.as_str());
    assert_eq!(seal["outputs_sha256"], sha256_bytes(&outputs));
    assert_eq!(entry.outputs_sha256, sha256_bytes(&outputs));

    overwrite(&entry.path("a.bin"), b"forged bytes");
    let forged = json!({
        "a.bin": {"sha256": sha256_bytes(b"forged bytes"), "size": 12},
        "sub/b.txt": entry.files["sub/b.txt"],
    });
    rewrite_outputs(&entry, &forged, false);

    assert!(
        store.get(&entry.key).is_none(),
        "a broken seal is not complete"
    );
    let check = store.check(&entry.key, Depth::Full).unwrap();
    assert_eq!(check.state, State::Damaged);
    assert_eq!(check.problems, [Problem::SealMismatch]);
    assert_eq!(store.verify(&entry.key).unwrap().tampered, ["seal.json"]);
    // And the key is rebuilt over it: the forged entry goes to quarantine.
    let rebuilt = store.put(&spec("seal", 0), write_two_files).unwrap();
    assert_eq!(fs::read(rebuilt.path("a.bin")).unwrap(), b"alpha bytes");
    assert_eq!(fs::read_dir(store.quarantine_dir()).unwrap().count(), 1);
}

#[test]
fn a_seal_copied_from_another_key_does_not_match() {
    let (_root, store) = temp_store();
    let a = store.put(&spec("copy", 1), write_two_files).unwrap();
    let b = store.put(&spec("copy", 2), write_two_files).unwrap();
    // Same files, so same outputs.json; only the key in the seal differs.
    overwrite(
        &b.dir.join("seal.json"),
        &fs::read(a.dir.join("seal.json")).unwrap(),
    );
    let check = store.check(&b.key, Depth::Quick).unwrap();
    assert_eq!(check.problems, [Problem::SealMismatch]);
}

#[test]
fn sealed_entries_are_read_only_including_the_seal() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("ro", 0), write_two_files).unwrap();
    let mode = |p: PathBuf| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for file in [
        "a.bin",
        "sub/b.txt",
        "outputs.json",
        "key.json",
        "seal.json",
    ] {
        assert_eq!(mode(entry.dir.join(file)), 0o444, "{file}");
    }
    assert_eq!(mode(entry.dir.join("sub")), 0o555);
    assert_eq!(mode(entry.dir.clone()), 0o555);
}

// ---------------------------------------------------------------- temp files

#[test]
fn put_refuses_to_seal_an_atomic_temp_file() {
    let (root, store) = temp_store();
    let err = store
        .put(&spec("tmpfile", 0), |dir| {
            fs::write(dir.join("run.h5"), b"complete")?;
            fs::create_dir(dir.join("ckpt"))?;
            // What a writer killed between create and commit leaves behind.
            let file = AtomicFile::create(dir.join("ckpt/run.h5"))?;
            fs::write(file.path(), b"half")?;
            std::mem::forget(file);
            Ok(())
        })
        .unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("ckpt/.run.h5.tmp-"), "{message}");
    assert!(message.contains("refusing to seal"), "{message}");
    assert!(!store.contains(&spec("tmpfile", 0).key()));
    assert_eq!(fs::read_dir(root.path().join("tmp")).unwrap().count(), 0);

    // put_dir leaves the refused directory for inspection (and for its owner to clean).
    let src = store.temp_dir().unwrap();
    fs::write(src.join(".run.h5.tmp-4242-1700000000-0"), b"half").unwrap();
    let err = store.put_dir(&spec("tmpfile", 1), &src).unwrap_err();
    assert!(
        format!("{err:#}").contains(".run.h5.tmp-4242-1700000000-0"),
        "{err:#}"
    );
    assert!(src.exists());
    fs::remove_file(src.join(".run.h5.tmp-4242-1700000000-0")).unwrap();
    store.put_dir(&spec("tmpfile", 1), &src).unwrap();
}

#[test]
fn seal_json_is_a_reserved_name() {
    let (_root, store) = temp_store();
    let err = store
        .put(&spec("reserved", 0), |dir| {
            Ok(fs::write(dir.join("seal.json"), b"{}")?)
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("reserved"), "{err:#}");
}

// ---------------------------------------------------------------- quarantine and repair

#[test]
fn a_half_entry_no_longer_blocks_its_key() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("block", 0), write_two_files).unwrap();
    writable(&entry.dir);
    fs::remove_file(entry.dir.join("outputs.json")).unwrap();
    // Before: the rename failed with "Directory not empty" on every rebuild.
    let rebuilt = store.put(&spec("block", 0), write_two_files).unwrap();
    assert!(store.check(&rebuilt.key, Depth::Full).unwrap().is_healthy());
    let quarantined: Vec<_> = fs::read_dir(store.quarantine_dir()).unwrap().collect();
    assert_eq!(quarantined.len(), 1);
    let name = quarantined[0].as_ref().unwrap().file_name();
    assert!(name.to_str().unwrap().starts_with(entry.key.as_str()));
}

#[test]
fn quarantine_moves_the_entry_aside_and_put_rebuilds_it() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("q", 0), write_two_files).unwrap();
    flip_first_byte(&entry.path("a.bin"));
    let to = store.quarantine(&entry.key).unwrap().unwrap();
    assert!(to.starts_with(store.quarantine_dir()));
    assert!(to.join("a.bin").exists() && !entry.dir.exists());
    assert_eq!(
        store.quarantine(&entry.key).unwrap(),
        None,
        "nothing left to move"
    );
    assert_eq!(
        store.check(&entry.key, Depth::Quick).unwrap().state,
        State::Absent
    );

    let rebuilt = store.put(&spec("q", 0), write_two_files).unwrap();
    assert_eq!(rebuilt.dir, entry.dir);
    assert!(store.check(&entry.key, Depth::Full).unwrap().is_healthy());
}

#[test]
fn get_checked_quarantines_damage_and_get_or_put_checked_rebuilds() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("gc", 0), write_two_files).unwrap();
    assert_eq!(
        store.get_checked(&entry.key, Depth::Full).unwrap(),
        Checked::Healthy(entry.clone())
    );
    flip_first_byte(&entry.path("a.bin"));
    // A quick look does not see a same-size change; a full one does.
    assert!(matches!(
        store.get_checked(&entry.key, Depth::Quick).unwrap(),
        Checked::Healthy(_)
    ));
    let Checked::Quarantined { check, to } = store.get_checked(&entry.key, Depth::Full).unwrap()
    else {
        panic!("damaged entry not quarantined");
    };
    assert_eq!(check.problems, [Problem::WrongHash("a.bin".into())]);
    assert!(to.join("a.bin").exists());
    assert_eq!(
        store.get_checked(&entry.key, Depth::Full).unwrap(),
        Checked::Absent
    );

    flip_first_byte(
        &store
            .put(&spec("gc", 0), write_two_files)
            .unwrap()
            .path("a.bin"),
    );
    let (rebuilt, built) = store
        .get_or_put_checked(&spec("gc", 0), Depth::Full, write_two_files)
        .unwrap();
    assert!(built);
    assert_eq!(fs::read(rebuilt.path("a.bin")).unwrap(), b"alpha bytes");
    let (again, built) = store
        .get_or_put_checked(&spec("gc", 0), Depth::Full, |_| panic!("must not rebuild"))
        .unwrap();
    assert!(!built && again == rebuilt);
}

#[test]
fn verify_store_reports_then_repairs() {
    let (root, store) = temp_store();
    let good = store.put(&spec("vs", 0), write_two_files).unwrap();
    let damaged = store.put(&spec("vs", 1), write_two_files).unwrap();
    let half = store.put(&spec("vs", 2), write_two_files).unwrap();
    let extra = store.put(&spec("vs", 3), write_two_files).unwrap();
    flip_first_byte(&damaged.path("a.bin"));
    writable(&half.dir);
    fs::remove_file(half.dir.join("outputs.json")).unwrap();
    writable(&extra.dir);
    fs::write(extra.dir.join("stray"), b"x").unwrap();
    // A temp dir of a process that no longer exists (pid far above pid_max).
    let stale = root.path().join("tmp/999999999-1-0");
    fs::create_dir(&stale).unwrap();
    let live = store.temp_dir().unwrap();

    let report = store.verify_store(Depth::Full, false).unwrap();
    assert_eq!(report.entries, 4);
    let keys = |checks: &[Check]| checks.iter().map(|c| c.key.clone()).collect::<Vec<_>>();
    let mut want_damaged = vec![damaged.key.clone(), extra.key.clone()];
    want_damaged.sort();
    assert_eq!(keys(&report.damaged), want_damaged);
    assert_eq!(keys(&report.half), std::slice::from_ref(&half.key));
    let extra_check = report.damaged.iter().find(|c| c.key == extra.key).unwrap();
    assert_eq!(extra_check.problems, [Problem::Undeclared("stray".into())]);
    assert_eq!(report.stale_temp, std::slice::from_ref(&stale));
    assert!(report.quarantined.is_empty() && stale.exists() && !report.is_clean());

    // A key being built right now (its lock held) is reported but not moved.
    let guard = store.lock(&extra.key).unwrap();
    let repaired = store.verify_store(Depth::Full, true).unwrap();
    assert_eq!(repaired.quarantined.len(), 2);
    assert_eq!(repaired.removed_temp, std::slice::from_ref(&stale));
    assert!(!stale.exists() && live.exists());
    drop(guard);
    let after = store.verify_store(Depth::Full, true).unwrap();
    assert_eq!(
        after.quarantined.len(),
        1,
        "the unlocked key is repaired next time"
    );
    let clean = store.verify_store(Depth::Full, false).unwrap();
    assert!(clean.is_clean(), "{clean:?}");
    assert_eq!(store.keys().unwrap(), std::slice::from_ref(&good.key));
    for seed in 1..=3 {
        store.put(&spec("vs", seed), write_two_files).unwrap();
    }
    assert!(store.verify_store(Depth::Full, false).unwrap().is_clean());
}

#[test]
fn concurrent_rebuilds_over_a_half_entry_agree() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("race", 0), write_two_files).unwrap();
    writable(&entry.dir);
    fs::remove_file(entry.dir.join("seal.json")).unwrap();
    let entries = racing_puts(&store, |_, dir| write_two_files(dir));
    assert!(entries.iter().all(|e| e.key == entry.key));
    assert!(store.check(&entry.key, Depth::Full).unwrap().is_healthy());
    assert_eq!(fs::read_dir(store.quarantine_dir()).unwrap().count(), 1);
}

#[test]
fn put_replaces_a_truncated_entry_instead_of_returning_it() {
    let (_root, store) = temp_store();
    let entry = store.put(&spec("trunc", 0), write_two_files).unwrap();
    overwrite(&entry.path("a.bin"), b"alpha");
    let rebuilt = store.put(&spec("trunc", 0), write_two_files).unwrap();
    assert_eq!(fs::read(rebuilt.path("a.bin")).unwrap(), b"alpha bytes");
    assert!(store.check(&entry.key, Depth::Full).unwrap().is_healthy());
    assert_eq!(fs::read_dir(store.quarantine_dir()).unwrap().count(), 1);
}
