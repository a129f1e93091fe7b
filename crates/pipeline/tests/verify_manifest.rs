//! `paper verify` checks the entries MANIFEST.json names, not only the published files: an
//! entry the store lost fails verify, named, and `--repair` rebuilds it.

mod common;

use common::{fake, tiny};
use std::process::Command;

#[test]
fn an_entry_the_manifest_names_and_the_store_lost_fails_verify_and_is_rebuilt() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    let stage = "train/shapeset-tanh-standard-l5-w32-s0";
    let key = sb.manifest()["stages"][stage]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let entry = sb.entry(&key);
    // Entries are read-only; a user (or a `paper gc` of another profile) removes one anyway.
    let chmod = Command::new("chmod")
        .arg("-R")
        .arg("u+w")
        .arg(&entry)
        .status();
    assert!(chmod.unwrap().success());
    std::fs::remove_dir_all(&entry).unwrap();

    let out = sb.out();
    let verify = sb.paper(["verify", "--out", out.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&verify.stdout);
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert_eq!(verify.status.code(), Some(1), "{report}{stderr}");
    let missing =
        format!("missing {stage}: entry {key} that MANIFEST.json names is not in the store");
    assert!(report.contains(&missing), "{report}");
    assert!(report.contains(", 1 of its entries missing;"), "{report}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("paper: error: verify found 1 problems"),
        "{stderr}"
    );

    let repaired = sb.ok(["verify", "--repair", "--out", out.to_str().unwrap()]);
    for said in [
        format!("{missing}; rebuilding it"),
        ", 0 of its entries missing;".into(),
    ] {
        assert!(repaired.contains(&said), "{said:?} not in {repaired}");
    }
    assert!(entry.join("seal.json").is_file(), "{repaired}");
    assert_eq!(sb.manifest()["stages"][stage]["key"], key.as_str());
    sb.assert_verified();
}

/// A work dir for a key no stage of the published profile trains is not offered as
/// resumable: `verify` calls it an orphan, and an empty one likewise.
#[test]
fn a_work_dir_no_plan_trains_is_not_called_resumable() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    let unknown = sb.store().join("work").join("ab".repeat(32));
    std::fs::create_dir_all(&unknown).unwrap();
    std::fs::write(unknown.join("checkpoint.pt"), b"half").unwrap();
    let report = sb.ok(["verify", "--out", sb.out().to_str().unwrap()]);
    assert!(!report.contains("resume  "), "{report}");
    assert!(
        report.contains(&format!("orphan  {}: no training stage", unknown.display())),
        "{report}"
    );
}
