//! Damaged entries with the real binaries: a run whose recording lost a byte is found before it
//! is trusted, moved to the quarantine and retrained (not "FAILS on every run"), and the keys do
//! not depend on the caller's environment (`$LIBTORCH`).

mod common;

use common::{flip_byte, list, starts, tiny, Sandbox};

#[test]
fn a_tampered_run_is_quarantined_and_retrained() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let first = sb.run();
    let manifest = sb.manifest();
    let stage = "train/shapeset-tanh-standard-l5-w32-s0";
    let run_key = manifest["stages"][stage]["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first.contains(&run_key[..12]), "{first}");

    // Flip one byte of the run's recording, as a disk error or a stray edit would.
    flip_byte(&sb.entry(&run_key).join("run.h5"));
    let verify = sb.paper(["verify", "--out", sb.out().to_str().unwrap()]);
    let report = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!("damaged {run_key}: run.h5 has the wrong sha256")),
        "{report}"
    );

    // The next paper finds it before trusting it, moves it aside and trains it again.
    let second = sb.run();
    assert!(second.contains(&format!("repair  {stage}")), "{second}");
    assert_eq!(starts(&second), [stage], "{second}");
    assert_eq!(sb.manifest()["stages"][stage], manifest["stages"][stage]);
    assert_eq!(list(&sb.store().join("quarantine")).len(), 1);
    sb.assert_verified();
    sb.run_cached(7);
}

/// Issue 14 case 7: the same binaries give the same keys whether or not the caller's shell
/// sets `$LIBTORCH` (the train identity comes from `train identity`, not the environment).
#[test]
fn keys_do_not_depend_on_libtorch_in_the_environment() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    // The dataset must be in the store for training runs to have keys; slurm fetches it.
    let slurm = sb.dir.path().join("slurm");
    let tasks = |libtorch: Option<&str>| {
        let mut cmd = sb.command([
            "slurm",
            "--cpu",
            "--out",
            slurm.to_str().unwrap(),
            "--profile-file",
            sb.profile().to_str().unwrap(),
        ]);
        match libtorch {
            Some(dir) => cmd.env("LIBTORCH", dir),
            None => cmd.env_remove("LIBTORCH"),
        };
        let stdout = common::succeeded("paper slurm", &cmd.output().unwrap());
        let lines: Vec<String> = stdout
            .lines()
            .filter(|l| l.starts_with("task "))
            .map(String::from)
            .collect();
        assert_eq!(lines.len(), 2, "{stdout}");
        lines
    };
    let real = std::env::var("LIBTORCH").unwrap_or_else(|_| "/nonexistent/libtorch".into());
    assert_eq!(tasks(Some(&real)), tasks(None));
    assert_eq!(tasks(None), tasks(Some("/somewhere/else")));
}
