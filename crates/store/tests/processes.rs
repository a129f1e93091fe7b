//! Real processes: a writer killed mid-put, and two processes racing on one key.
//!
//! The test binary re-executes itself (`current_exe --exact child --ignored`) with
//! `STORE_TEST_ROLE` set, so the child is a real process running store code, without
//! shipping a helper binary.

use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use store::{KeySpec, Store};

const ROLE: &str = "STORE_TEST_ROLE";
const ROOT: &str = "STORE_TEST_ROOT";
const SCRATCH: &str = "STORE_TEST_SCRATCH";

fn spec() -> KeySpec {
    KeySpec {
        stage: "slow".into(),
        params: json!({"n": 1}),
        inputs: BTreeMap::from([("data".into(), "f".repeat(64))]),
        tool: "processes-test".into(),
    }
}

fn spawn_child(role: &str, root: &Path, scratch: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(ROOT, root)
        .env(SCRATCH, scratch)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The child side; ignored so a normal test run skips it.
#[test]
#[ignore = "run only as a child process by the other tests"]
fn child() {
    // Without a role (e.g. `cargo test -- --include-ignored`) there is no parent to serve.
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let store = Store::open(std::env::var(ROOT).unwrap()).unwrap();
    let scratch = PathBuf::from(std::env::var(SCRATCH).unwrap());
    match role.as_str() {
        "killed" => {
            store
                .put(&spec(), |dir| {
                    fs::write(dir.join("big.bin"), vec![7u8; 1 << 20])?;
                    fs::write(scratch.join("marker"), b"building")?;
                    std::thread::sleep(Duration::from_secs(60));
                    Ok(())
                })
                .unwrap();
            panic!("the parent should have killed this process");
        }
        "racer" => {
            let (_, built) = store
                .get_or_put(&spec(), |dir| {
                    let mut log = fs::OpenOptions::new()
                        .append(true)
                        .create(true)
                        .open(scratch.join("builds.log"))?;
                    writeln!(log, "build by {}", std::process::id())?;
                    std::thread::sleep(Duration::from_millis(400));
                    fs::write(dir.join("out.txt"), format!("{}", std::process::id()))?;
                    Ok(())
                })
                .unwrap();
            println!("BUILT {built}");
        }
        "killed-mid-write" => {
            // A writer killed between AtomicFile::create and commit, inside a build dir.
            let dir = store.temp_dir().unwrap();
            fs::write(dir.join("done.bin"), b"finished part").unwrap();
            let file = store::atomic::AtomicFile::create(dir.join("run.h5")).unwrap();
            fs::write(file.path(), vec![1u8; 28 << 10]).unwrap();
            // Written then renamed: the parent waits for the name and must never read it half-written.
            fs::write(scratch.join("dir.partial"), dir.to_str().unwrap()).unwrap();
            fs::rename(scratch.join("dir.partial"), scratch.join("dir")).unwrap();
            std::thread::sleep(Duration::from_secs(60));
            panic!("the parent should have killed this process");
        }
        other => panic!("unknown role {other}"),
    }
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "child never reached {path:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn writer_killed_mid_put_leaves_no_entry() {
    let root = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let store = Store::open(root.path()).unwrap();
    let mut child = spawn_child("killed", root.path(), scratch.path());
    wait_for(&scratch.path().join("marker"));
    child.kill().unwrap(); // SIGKILL on unix
    let status = child.wait().unwrap();
    assert!(!status.success());

    let key = spec().key();
    assert!(!store.contains(&key));
    assert!(store.get(&key).is_none());
    assert!(store.keys().unwrap().is_empty());
    let leftovers: Vec<_> = fs::read_dir(root.path().join("tmp")).unwrap().collect();
    assert_eq!(
        leftovers.len(),
        1,
        "the killed build's temp dir is left behind"
    );

    let entry = store
        .put(&spec(), |dir| Ok(fs::write(dir.join("big.bin"), b"done")?))
        .unwrap();
    assert!(store.contains(&key));
    assert!(store.verify(&key).unwrap().is_ok());
    assert_eq!(fs::read(entry.path("big.bin")).unwrap(), b"done");

    let report = store.gc(&BTreeSet::from([key.clone()])).unwrap();
    assert_eq!(
        report.removed_temp.len(),
        1,
        "gc removes the dead writer's temp dir"
    );
    assert!(report.bytes_freed >= 1 << 20);
    assert!(report.removed.is_empty() && store.contains(&key));
}

#[test]
fn temp_file_of_a_writer_killed_mid_write_is_never_sealed_and_its_dir_is_swept() {
    let root = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let store = Store::open(root.path()).unwrap();
    let mut child = spawn_child("killed-mid-write", root.path(), scratch.path());
    wait_for(&scratch.path().join("dir"));
    child.kill().unwrap();
    child.wait().unwrap();
    let dir = PathBuf::from(fs::read_to_string(scratch.path().join("dir")).unwrap());

    // The pipeline's path: a killed build dir is later sealed with put_dir.
    let err = store.put_dir(&spec(), &dir).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains(".run.h5.tmp-"), "{message}");
    assert!(!store.contains(&spec().key()));

    // The dead writer's temp dir is stale; a live writer's is not.
    let live = store.temp_dir().unwrap();
    assert_eq!(store.stale_temp().unwrap(), std::slice::from_ref(&dir));
    assert_eq!(store.sweep_stale_tmp().unwrap(), std::slice::from_ref(&dir));
    assert!(!dir.exists() && live.exists());
    assert!(store.sweep_stale_tmp().unwrap().is_empty());
}

#[test]
fn temp_dirs_of_other_hosts_are_judged_by_age_not_pid() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open(root.path()).unwrap();
    // A finished child: its pid is dead here.
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let local_legacy = root.path().join(format!("tmp/{pid}-1-0"));
    // The same dead pid, on a host whose tag is not ours (the tag is 8 hex digits).
    let ours = store.temp_dir().unwrap();
    let our_tag = ours
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .rsplit('-')
        .next()
        .unwrap()
        .to_owned();
    let other_tag = if our_tag == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let remote = root.path().join(format!("tmp/{pid}-1-0-{other_tag}"));
    let local = root.path().join(format!("tmp/{pid}-1-0-{our_tag}"));
    for dir in [&local_legacy, &remote, &local] {
        fs::create_dir(dir).unwrap();
    }
    let mut want = vec![local_legacy, local];
    want.sort();
    assert_eq!(store.stale_temp().unwrap(), want);
    assert!(remote.exists());
}

#[test]
fn racing_processes_build_once() {
    let root = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| spawn_child("racer", root.path(), scratch.path()))
        .collect();
    let mut built = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap();
        // libtest may print "test child ... " on the same line before the child's output.
        let flag = stdout
            .split("BUILT ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next());
        built.push(flag.unwrap_or_else(|| panic!("no BUILT line in {stdout:?}")) == "true");
    }
    assert_eq!(built.iter().filter(|b| **b).count(), 1, "{built:?}");

    let log = fs::read_to_string(scratch.path().join("builds.log")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    let store = Store::open(root.path()).unwrap();
    let key = spec().key();
    assert_eq!(store.keys().unwrap(), std::slice::from_ref(&key));
    assert!(store.verify(&key).unwrap().is_ok());
    assert_eq!(fs::read_dir(root.path().join("tmp")).unwrap().count(), 0);
}
