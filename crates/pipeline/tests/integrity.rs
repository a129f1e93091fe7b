//! Store and publish integrity (issue 14), with stand-in stage binaries (`common::fake`) so
//! each case takes a second: `paper` never serves, publishes or deletes what the keys do not
//! vouch for, and repairs rather than fails. One test per case of the issue that concerns the
//! pipeline; the kill cases are in `kill.rs`, the run.h5 case in `tamper.rs`.

mod common;

use common::{fake, flip_byte, list, sha256, starts, tiny, Sandbox};
use std::os::unix::fs::PermissionsExt;

const TINY_STAGES: usize = 7;

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(String::from)
        .collect()
}

fn key_of(sb: &Sandbox, stage: &str) -> String {
    sb.manifest()["stages"][stage]["key"]
        .as_str()
        .unwrap()
        .to_string()
}

fn writable(path: &std::path::Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Case 1: a MANIFEST naming `../victim.txt` or an absolute path is refused as a whole, and a
/// symlink planted in the output is neither followed nor removed.
#[test]
fn a_crafted_manifest_cannot_touch_files_outside_the_output() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    let victim = sb.dir.path().join("victim.txt");
    let elsewhere = sb.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(&victim, "keep me").unwrap();
    std::fs::write(elsewhere.join("x.txt"), "keep me too").unwrap();
    let manifest_path = sb.out().join("MANIFEST.json");
    let good = std::fs::read_to_string(&manifest_path).unwrap();
    let record = r#"{"stage": "render/fig6", "key": "KEY", "inputs": {}, "sha256": "0"}"#
        .replace("KEY", &"a".repeat(64));
    for name in ["../victim.txt", victim.to_str().unwrap()] {
        let crafted = good.replacen(
            "\"files\": {",
            &format!("\"files\": {{\"{name}\": {record},"),
            1,
        );
        std::fs::write(&manifest_path, crafted).unwrap();
        let out = sb.paper(sb.run_args());
        assert!(out.status.success(), "{out:?}");
        let lines = stderr_lines(&out);
        assert!(
            lines.len() == 1 && lines[0].contains("unsafe file"),
            "{lines:?}"
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    }
    // A published file replaced by a symlink out of the output, listed by a sound manifest.
    std::os::unix::fs::symlink(&elsewhere, sb.out().join("link")).unwrap();
    let crafted = std::fs::read_to_string(&manifest_path).unwrap().replacen(
        "\"files\": {",
        &format!("\"files\": {{\"link/x.txt\": {record},"),
        1,
    );
    std::fs::write(&manifest_path, crafted).unwrap();
    let stdout = sb.run();
    assert!(stdout.contains("not touching link/x.txt"), "{stdout}");
    assert!(elsewhere.join("x.txt").is_file());
}

/// Case 2: a flipped byte in a render entry is found before the entry is trusted; the render
/// is quarantined and redone, and a fresh publish gets the bytes its key vouches for.
#[test]
fn a_tampered_render_is_neither_served_nor_published() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    let key = key_of(&sb, "render/fig6");
    flip_byte(&sb.entry(&key).join("fig6.txt"));
    let fresh = sb.dir.path().join("fresh");
    let mut args = sb.run_args();
    let at = args.iter().position(|a| a == "--out").unwrap() + 1;
    args[at] = fresh.display().to_string();
    let stdout = sb.ok(&args);
    assert!(stdout.contains("repair  render/fig6"), "{stdout}");
    assert_eq!(starts(&stdout), ["render/fig6"], "{stdout}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fresh.join("MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["files"]["fig6.txt"]["sha256"],
        sha256(&fresh.join("fig6.txt"))
    );
    assert_eq!(list(&sb.store().join("quarantine")).len(), 1);
    sb.run_cached(TINY_STAGES);
}

/// Case 4: a half entry (its outputs.json deleted) is listed by verify, and the next paper
/// quarantines and rebuilds it instead of failing on "Directory not empty" forever.
#[test]
fn a_half_entry_is_listed_quarantined_and_rebuilt() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    let stage = "train/shapeset-tanh-standard-l5-w32-s0";
    let dir = sb.entry(&key_of(&sb, stage));
    writable(&dir);
    std::fs::remove_file(dir.join("outputs.json")).unwrap();
    let verify = sb.paper(["verify", "--out", sb.out().to_str().unwrap()]);
    let report = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{report}");
    assert!(
        report.contains("half    ") && report.contains("outputs.json is missing"),
        "{report}"
    );
    let stdout = sb.run();
    assert!(stdout.contains(&format!("repair  {stage}")), "{stdout}");
    assert_eq!(starts(&stdout), [stage], "{stdout}");
    sb.assert_verified();
}

/// Case 5: a render that lacks one of its runs (the run failed) is skipped; the published
/// figure and its record stay, and the paper fails with one line.
#[test]
fn a_render_lacking_a_run_keeps_the_published_figure() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    let before = sb.manifest()["files"]["fig6.txt"].clone();
    let published = sha256(&sb.out().join("fig6.txt"));
    sb.set_profile(&tiny().replace("updates = 300", "updates = 400"));
    let out = sb
        .command(sb.run_args())
        .env("FAKE_TRAIN_FAIL", "--init normalized")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("skip    render/fig6: lacks 1 of its runs"),
        "{stdout}"
    );
    let lines = stderr_lines(&out);
    assert!(
        lines.len() == 1 && lines[0].contains("stages FAILED"),
        "{lines:?}"
    );
    assert_eq!(sb.manifest()["files"]["fig6.txt"], before);
    assert_eq!(sha256(&sb.out().join("fig6.txt")), published);
}

/// Case 6: a truncated or wrong-schema MANIFEST is reported in one line and treated as absent:
/// status, explain and run work, verify says so and still checks the store.
#[test]
fn a_corrupt_manifest_is_reported_and_treated_as_absent() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    for bad in ["{\"profile\": \"ci\", \"fil", "{\"files\": 3}"] {
        std::fs::write(sb.out().join("MANIFEST.json"), bad).unwrap();
        for args in [vec!["status"], vec!["explain", "fig6"]] {
            let out = sb
                .command(&args)
                .arg("--profile-file")
                .arg(sb.profile())
                .arg("--out")
                .arg(sb.out())
                .output()
                .unwrap();
            let lines = stderr_lines(&out);
            assert!(out.status.success(), "{args:?}: {lines:?}");
            assert!(
                lines.len() == 1 && lines[0].contains("treating it as absent"),
                "{lines:?}"
            );
        }
        let verify = sb.paper(["verify", "--out", sb.out().to_str().unwrap()]);
        let report = String::from_utf8_lossy(&verify.stdout);
        assert!(
            report.contains("bad     ") && report.contains(" 0 damaged;"),
            "{report}"
        );
        sb.run_cached(TINY_STAGES);
        sb.assert_verified();
    }
}

/// Case 8: a file edited together with its hash in outputs.json breaks the entry's seal.
#[test]
fn a_file_and_its_hash_edited_together_are_caught() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    let dir = sb.entry(&key_of(&sb, "render/fig7"));
    writable(&dir);
    flip_byte(&dir.join("fig7.txt"));
    let outputs = dir.join("outputs.json");
    std::fs::set_permissions(&outputs, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&outputs).unwrap();
    let old = sb.manifest()["files"]["fig7.txt"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(&outputs, text.replace(&old, &sha256(&dir.join("fig7.txt")))).unwrap();
    let stdout = sb.run();
    assert!(stdout.contains("repair  render/fig7"), "{stdout}");
    assert_eq!(sb.manifest()["files"]["fig7.txt"]["sha256"], old.as_str());
}

/// verify works without a MANIFEST and lists stale temp dirs and the work dirs of finished
/// keys; `--repair` removes them, and a paper start sweeps stale temp dirs by itself.
#[test]
fn verify_lists_leftovers_and_repair_removes_them() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    std::fs::remove_file(sb.out().join("MANIFEST.json")).unwrap();
    let dead = sb.store().join("tmp").join("999999999-1-0");
    std::fs::create_dir_all(&dead).unwrap();
    let key = key_of_stage_in_store(&sb);
    let stale_work = sb.store().join("work").join(&key);
    std::fs::create_dir_all(&stale_work).unwrap();
    let out = sb.paper(["verify", "--out", sb.out().to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "leftovers are not damage: {report}");
    assert!(
        report.contains(&format!("stale   {}", dead.display())),
        "{report}"
    );
    assert!(
        report.contains(&format!("stale   {}", stale_work.display())),
        "{report}"
    );
    let repaired = sb.ok(["verify", "--repair", "--out", sb.out().to_str().unwrap()]);
    assert!(!dead.exists() && !stale_work.exists(), "{repaired}");
    std::fs::create_dir_all(&dead).unwrap();
    let stdout = sb.run();
    assert!(stdout.contains("swept 1 stale temp dirs"), "{stdout}");
    assert!(sb.orphans().is_empty(), "{:?}", sb.orphans());
}

/// A complete entry's key, from the store (the manifest was removed).
fn key_of_stage_in_store(sb: &Sandbox) -> String {
    let shard = list(&sb.store())
        .into_iter()
        .find(|p| p.file_name().unwrap().len() == 2)
        .unwrap();
    list(&shard)[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Issue 15: a train that dies says why (how it ended and its last stderr line), leaves no work
/// dir or pid file, and each attempt keeps its own log.
#[test]
fn a_failed_train_says_why_and_leaves_nothing_behind() {
    let sb = fake::sandbox(&tiny());
    for attempt in 1..=2 {
        let out = sb
            .command(sb.run_args())
            .env("FAKE_TRAIN_ABORT", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        let failed: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("FAILED  train/"))
            .collect();
        assert_eq!(failed.len(), 2, "{stdout}");
        for line in failed {
            assert!(
                line.contains(
                    "train was killed by SIGABRT (signal 6): terminate called after throwing"
                ),
                "{line}"
            );
        }
        assert!(
            list(&sb.store().join("work")).is_empty(),
            "{:?}",
            list(&sb.store().join("work"))
        );
        let logs = list(&sb.store().join("logs"));
        let train_logs = logs
            .iter()
            .filter(|p| sha256_free_contains(p, "c10::Error"))
            .count();
        assert_eq!(train_logs, 2 * attempt, "one log per attempt: {logs:?}");
    }
}

fn sha256_free_contains(path: &std::path::Path, text: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(text))
}
