//! The real `train` binary on small networks: learning, determinism, failure, layout,
//! export and resume.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_few_hundred_updates_on_the_shapeset_stream_lower_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 500);
    let out = dir.path().join("run");
    let run_h5 = train_ok(&small_args(
        data.to_str().unwrap(),
        out.to_str().unwrap(),
        "400",
    ));
    assert_eq!(run_h5, out.join("run.h5"));
    assert_eq!(read_str_attr(&run_h5, "status"), "complete");
    let steps = read_f64(&run_h5, "history/step");
    assert_eq!(steps, [0.0, 100.0, 200.0, 300.0, 400.0]);
    let valid = read_f64(&run_h5, "history/valid_loss");
    let train = read_f64(&run_h5, "history/train_loss");
    assert!(
        train[0].is_nan(),
        "no training loss before the first update"
    );
    // 0.05 nats is far beyond the noise of a 500-image set; ~400 updates of a small
    // net mostly learn the class priors (their entropy is 2.11 nats).
    assert!(valid[4] < valid[0] - 0.05, "valid loss {valid:?}");
    assert!(train[4] < train[1], "train loss {train:?}");
    // The final test pass's predictions pair with the dataset's test labels, and their
    // errors are the recorded test error.
    let predictions = spec::run_h5::RunFile::open(&run_h5)
        .unwrap()
        .test_predictions()
        .unwrap();
    assert_eq!(predictions.step, 400);
    assert_eq!(predictions.label, shapeset::batch(902, 0, 500).1);
    assert_eq!(predictions.predicted.len(), 500);
    assert!(predictions.predicted.iter().all(|&c| c < 9));
    let wrong = predictions.correct().iter().filter(|&&c| !c).count();
    let test_error = read_f64(&run_h5, "history/test_error");
    assert_eq!(wrong as f64 / 500.0, test_error[4]);
    // The checkpoint is gone once the run is complete; config.json is beside run.h5.
    assert!(!out.join("checkpoint").exists());
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["init"], "normalized");
    assert_eq!(config["updates_per_epoch"], 20000);
    assert_eq!(
        read_str_attr(&run_h5, "config"),
        serde_json::to_string(&config).unwrap()
    );
}

#[test]
fn same_seed_on_cpu_gives_an_identical_recording() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let data = data.to_str().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let run_a = train_ok(&small_args(data, a.to_str().unwrap(), "150"));
    let run_b = train_ok(&small_args(data, b.to_str().unwrap(), "150"));
    for name in [
        "history/valid_loss",
        "history/train_loss",
        "stats/layer3/preact_grad/hist",
        "stats/layer2/jacobian_sv_mean",
        "predictions/test",
        "predictions/step",
    ] {
        assert_same_bits(&read_f64(&run_a, name), &read_f64(&run_b, name), name);
    }
    let mut other = small_args(data, dir.path().join("c").to_str().unwrap(), "150")
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    let seed = other.iter().position(|a| a == "--seed").unwrap();
    other[seed + 1] = "4".into();
    let run_c = train_ok(&other.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ne!(
        read_f64(&run_a, "history/valid_loss"),
        read_f64(&run_c, "history/valid_loss")
    );
}

#[test]
fn a_diverging_run_fails_with_one_line_and_a_failed_status() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let out = dir.path().join("run");
    let mut args = small_args(data.to_str().unwrap(), out.to_str().unwrap(), "300");
    // relu is unbounded, so a huge step overflows.
    let activation = args.iter().position(|a| *a == "tanh").unwrap();
    args[activation] = "relu";
    args.extend(["--lr", "1e6"]);
    let output = train(&args);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("train: error: non-finite loss at step "),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "a failed run prints no run.h5 path"
    );
    let status = read_str_attr(&out.join("run.h5"), "status");
    assert!(
        status.starts_with("failed: non-finite loss at step "),
        "{status}"
    );
    // Resuming would diverge again: no checkpoint is kept, and no temp file.
    assert!(!out.join("checkpoint").exists());
    assert!(temp_files(&out).is_empty());
}

#[test]
fn h5py_reads_every_dataset_of_the_layout_and_the_seed_export() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if !python.exists() {
        eprintln!("skipped: {} is absent (it provides h5py)", python.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let out = dir.path().join("run");
    let mut args = small_args(data.to_str().unwrap(), out.to_str().unwrap(), "120");
    args.extend(["--hidden-layers", "3", "--export-seed-layout"]);
    let run_h5 = train_ok(&args);
    let script = r#"
import sys, h5py, json
f = h5py.File(sys.argv[1], "r")
for a in ["config", "device", "libtorch", "status", "timing"]:
    assert isinstance(f.attrs[a], str), a
json.loads(f.attrs["config"])
P = len(f["history/step"])
for c in ["step", "epoch", "train_loss", "valid_loss", "valid_error", "test_loss", "test_error"]:
    assert f["history/" + c].shape == (P,), c
assert f["stats/step"].shape == (P,)
for k in (1, 2, 3):
    assert f[f"stats/layer{k}/jacobian_sv_mean"].shape == (P,)
    assert f[f"stats/layer{k}/jacobian_sv_spread"].shape == (P,)
    for q in ["activation", "preact_grad", "weight_grad"]:
        for s in ["mean", "std", "p02", "p50", "p98"]:
            assert f[f"stats/layer{k}/{q}/{s}"].shape == (P,)
        h = f[f"stats/layer{k}/{q}/hist"]
        assert h.shape == (P, 100) and h.attrs["edges"].shape == (101,) and h.attrs["edges"].dtype == "float32"
for s in (0, 120):
    for k in (1, 2, 3):
        assert f[f"raw/step{s}/layer{k}/activation"].shape == (300, 64)
        assert f[f"raw/step{s}/layer{k}/preact_grad"].dtype == "float32"
        assert f[f"raw/step{s}/layer{k}/weight_grad"].shape == ((1024 if k == 1 else 64), 64)
assert sorted(f["raw"]) == ["step0", "step120"]
assert f["predictions/step"][0] == 120 and f["predictions/test"].dtype == "uint8"
assert f["predictions/test"].shape == f["predictions/test_label"].shape == (300,)
a = h5py.File(sys.argv[2], "r"); g = h5py.File(sys.argv[3], "r")
assert sorted(a) == ["epoch0", "epoch1"], sorted(a)
assert sorted(a["epoch0"]) == ["dense_1", "dense_2", "dense_3"]
assert sorted(g["epoch1"]) == ["dense_1_kernel", "dense_2_kernel", "dense_3_kernel"]
assert g["epoch0/dense_1_kernel"].shape == (1024, 64)
print("ok", P)
"#;
    let output = Command::new(&python)
        .args(["-c", script])
        .arg(&run_h5)
        .arg(out.join("activations.h5"))
        .arg(out.join("gradients.h5"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Probes at 0, 100 and the last step.
    assert_eq!(stdout.trim(), "ok 3");
}

fn assert_same_recording(a: &Path, b: &Path) {
    for name in [
        "history/step",
        "history/train_loss",
        "history/valid_loss",
        "history/test_error",
        "stats/layer1/weight_grad/std",
        "stats/layer5/activation/hist",
        "stats/layer2/jacobian_sv_mean",
        "predictions/test",
        "predictions/step",
    ] {
        assert_same_bits(&read_f64(a, name), &read_f64(b, name), name);
    }
    let file = hdf5::File::open(b).unwrap();
    assert_eq!(
        file.group("raw").unwrap().member_names().unwrap(),
        hdf5::File::open(a)
            .unwrap()
            .group("raw")
            .unwrap()
            .member_names()
            .unwrap()
    );
}

#[test]
fn resume_reaches_the_same_recording_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let data = data.to_str().unwrap();
    let whole = dir.path().join("whole");
    let sliced = dir.path().join("sliced");
    let run_whole = train_ok(&small_args(data, whole.to_str().unwrap(), "250"));

    let mut first = small_args(data, sliced.to_str().unwrap(), "250");
    first.extend(["--stop-after", "150"]);
    let partial = train_ok(&first);
    let status = read_str_attr(&partial, "status");
    assert_eq!(
        status,
        "failed: interrupted after step 200 (continue with --resume)"
    );
    assert!(sliced.join("checkpoint/b/state.json").exists());

    // A resume with another config is refused and leaves the checkpoint alone.
    let mut wrong = small_args(data, sliced.to_str().unwrap(), "250");
    wrong.extend(["--resume", "--lr", "0.5"]);
    let output = train(&wrong);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("different config"));

    // Temp files of a writer killed mid-write are swept by the resume (pid 4194304 is
    // above Linux's pid_max, so that writer is surely gone).
    let stale = [
        sliced.join(".run.h5.tmp-4194304-1700000000-0-0123abcd"),
        sliced.join("checkpoint/b/.weights-step200.ot.tmp-4194304-1700000000-1-0123abcd"),
        sliced.join("checkpoint/raw/.step250.ot.tmp-4194304-1700000000-2"),
    ];
    for file in &stale {
        std::fs::write(file, b"half").unwrap();
    }
    let mut resume = small_args(data, sliced.to_str().unwrap(), "250");
    resume.push("--resume");
    let run_sliced = train_ok(&resume);
    assert!(temp_files(&sliced).is_empty(), "{:?}", temp_files(&sliced));
    assert_eq!(read_str_attr(&run_sliced, "status"), "complete");
    assert_same_recording(&run_whole, &run_sliced);

    // A finished run has no checkpoint left to resume.
    let output = train(&resume);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no checkpoint"));
}

/// Learning-rate trials keep no raw snapshot: they record the same numbers as a run that
/// keeps them, their `raw` group is empty, and they resume to the same recording.
#[test]
fn a_run_without_raw_snapshots_records_the_same_numbers_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let data = data.to_str().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (kept, none, sliced) = (out("kept"), out("none"), out("sliced"));
    let no_raw = ["--raw-every-epochs", "0"];
    let run_kept = train_ok(&small_args(data, &kept, "250"));
    let run_none = train_ok(&[small_args(data, &none, "250"), no_raw.to_vec()].concat());

    let raw_members = |path: &Path| {
        let file = hdf5::File::open(path).unwrap();
        file.group("raw").unwrap().member_names().unwrap()
    };
    assert_eq!(raw_members(&run_kept), ["step0", "step250"]);
    assert!(raw_members(&run_none).is_empty());
    for name in [
        "history/valid_error",
        "history/test_loss",
        "stats/layer1/weight_grad/std",
        "stats/layer5/activation/hist",
        "stats/layer3/preact_grad/p98",
    ] {
        assert_same_bits(&read_f64(&run_kept, name), &read_f64(&run_none, name), name);
    }
    let kept_size = std::fs::metadata(&run_kept).unwrap().len();
    let none_size = std::fs::metadata(&run_none).unwrap().len();
    assert!(
        none_size < kept_size / 2,
        "{none_size} vs {kept_size} bytes"
    );

    let first = [small_args(data, &sliced, "250"), no_raw.to_vec()].concat();
    train_ok(&[first.clone(), vec!["--stop-after", "150"]].concat());
    assert!(!Path::new(&sliced).join("checkpoint/raw/step0.ot").exists());
    let run_sliced = train_ok(&[first, vec!["--resume"]].concat());
    assert_same_recording(&run_none, &run_sliced);

    // A trial that ends at its first probe after step 0 never writes a checkpoint either.
    let once = out("once");
    train_ok(&[small_args(data, &once, "100"), no_raw.to_vec()].concat());
    assert!(!Path::new(&once).join("checkpoint").exists());
}

#[test]
fn a_fixed_training_split_reshuffles_per_epoch_and_resumes_across_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_like_file(dir.path(), 200);
    let data = data.to_str().unwrap();
    let args = |out: &str, extra: &[&'static str]| {
        let mut a = vec![
            "--dataset",
            "mnist",
            "--activation",
            "softsign",
            "--init",
            "standard",
            "--width",
            "32",
            "--batch-size",
            "8",
            "--lr",
            "0.1",
            "--epochs",
            "6",
            "--seed",
            "1",
            "--device",
            "cpu",
            "--data",
            data,
            "--out",
        ];
        a.push(out);
        a.extend_from_slice(extra);
        a.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| train_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let whole = dir.path().join("whole");
    let sliced = dir.path().join("sliced");
    let run_whole = run(args(whole.to_str().unwrap(), &[]));
    // 200 / 8 = 25 updates per epoch, 6 epochs, a probe (and raw snapshot) per epoch.
    let steps = read_f64(&run_whole, "history/step");
    assert_eq!(steps, [0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0]);
    let error = read_f64(&run_whole, "history/test_error");
    assert!(error[6] < 0.5 * error[0], "test error {error:?}");
    run(args(sliced.to_str().unwrap(), &["--stop-after", "60"]));
    let run_sliced = run(args(sliced.to_str().unwrap(), &["--resume"]));
    let file = hdf5::File::open(&run_sliced).unwrap();
    assert_eq!(file.group("raw").unwrap().member_names().unwrap().len(), 7);
    for name in [
        "history/train_loss",
        "history/valid_loss",
        "stats/layer2/preact_grad/p98",
    ] {
        assert_same_bits(
            &read_f64(&run_whole, name),
            &read_f64(&run_sliced, name),
            name,
        );
    }
}

#[test]
fn relu_with_he_init_trains() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_like_file(dir.path(), 200);
    let out = dir.path().join("run");
    let args = [
        "--dataset",
        "mnist",
        "--activation",
        "relu",
        "--init",
        "he",
        "--width",
        "32",
        "--batch-size",
        "8",
        "--lr",
        "0.05",
        "--epochs",
        "4",
        "--seed",
        "2",
        "--device",
        "cpu",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let run_h5 = train_ok(&args);
    let config: serde_json::Value =
        serde_json::from_str(&read_str_attr(&run_h5, "config")).unwrap();
    assert_eq!(
        (config["activation"].as_str(), config["init"].as_str()),
        (Some("relu"), Some("he"))
    );
    let valid = read_f64(&run_h5, "history/valid_loss");
    let error = read_f64(&run_h5, "history/test_error");
    let last = valid.len() - 1;
    assert!(valid[last] < 0.5 * valid[0], "valid loss {valid:?}");
    assert!(error[last] < 0.5 * error[0], "test error {error:?}");
}

/// Same seed on the CPU: the whole run.h5 is the same bytes (no HDF5 timestamps, no wall
/// clock inside; the seconds go to timing.json).
#[test]
fn the_same_run_twice_writes_byte_identical_run_h5() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let data = data.to_str().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let run_a = train_ok(&small_args(data, a.to_str().unwrap(), "120"));
    // HDF5 timestamps have a resolution of one second: were any written, they would differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run_b = train_ok(&small_args(data, b.to_str().unwrap(), "120"));
    let sha = |p: &Path| store::atomic::sha256_file(p).unwrap();
    assert_eq!(sha(&run_a), sha(&run_b));
    assert_eq!(sha(&a.join("config.json")), sha(&b.join("config.json")));
    let timing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("timing.json")).unwrap()).unwrap();
    assert_eq!(timing["updates"], 120);
    assert!(timing["train_s"].as_f64().unwrap() > 0.0);
}

/// The same key gives the same bytes on any x86-64 CPU: `train` pins its kernel path, so a
/// caller's (or a machine's) ATen capability and MKL instruction set change nothing, nor does
/// the thread count. Without the pin, ATen's `default` kernels and the AVX2/AVX-512 ones
/// differ in the last bits within a few hundred updates.
#[test]
fn the_kernel_path_and_threads_of_the_caller_change_no_byte() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let data = data.to_str().unwrap();
    /// A name, the caller's environment, `--threads`.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 4] = [
        ("native", &[], "1"),
        ("default", &[("ATEN_CPU_CAPABILITY", "default")], "1"),
        (
            "avx2",
            &[
                ("ATEN_CPU_CAPABILITY", "avx2"),
                ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
            ],
            "1",
        ),
        ("two-threads", &[], "2"),
    ];
    let mut hashes = Vec::new();
    for (name, env, threads) in cases {
        let out = dir.path().join(name);
        let mut args = small_args(data, out.to_str().unwrap(), "300");
        args.extend(["--threads", threads]);
        let output = train_command()
            .envs(env.iter().copied())
            .args(&args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        hashes.push((
            name,
            store::atomic::sha256_file(&out.join("run.h5")).unwrap(),
        ));
    }
    for (name, hash) in &hashes[1..] {
        assert_eq!(hash, &hashes[0].1, "{name} against native");
    }
    // The path is part of the identity, hence of every run's key.
    let id: serde_json::Value = serde_json::from_slice(&train(&["identity"]).stdout).unwrap();
    assert_eq!(id["cpu_kernels"], train::kernels::path());
}

#[test]
fn identity_is_one_json_line_from_the_binary() {
    let out = train(&["identity"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let id: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(id["tch"], "0.24.0");
    assert!(id["libtorch"].as_str().unwrap().starts_with("2."), "{id}");
    assert_eq!(id["hdf5"].as_str().unwrap().split('.').count(), 3, "{id}");
    assert_ne!(id["hdf5"], "0.0.0");
    assert!(id["cuda"].is_boolean());
    assert_eq!(id["device_classes"][0], "cpu");
    // The same versions run.h5 records.
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let out = dir.path().join("run");
    let run_h5 = train_ok(&small_args(
        data.to_str().unwrap(),
        out.to_str().unwrap(),
        "2",
    ));
    let expected = format!(
        "tch {}, libtorch {}",
        id["tch"].as_str().unwrap(),
        id["libtorch"].as_str().unwrap()
    );
    assert_eq!(read_str_attr(&run_h5, "libtorch"), expected);
}

/// A full disk is an ordinary error: one line, exit 1, no temp file, and the checkpoint
/// kept when there is one. Needs a tiny tmpfs (root); skipped with a reason otherwise.
#[test]
fn a_full_disk_fails_with_one_line_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("small");
    std::fs::create_dir_all(&mount).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mount)
        .output();
    match mounted {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!(
                "skipped: mount -t tmpfs refused: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Err(err) => {
            eprintln!("skipped: cannot run mount: {err}");
            return;
        }
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mount);
    let data = shapeset_file(dir.path(), 300);
    // At width 512 the first layer's weight gradient is 2 MiB: the step-0 raw snapshot
    // does not fit, and there is no checkpoint yet.
    let out = mount.join("run");
    let mut args = small_args(data.to_str().unwrap(), out.to_str().unwrap(), "50");
    let width = args.iter().position(|a| *a == "64").unwrap();
    args[width] = "512";
    let output = train(&args);
    assert_one_line_error(&output, 1, "No space left on device", "full disk at step 0");
    assert!(
        !out.exists(),
        "nothing to keep, so no --out: {:?}",
        snapshot(&out).keys()
    );
    assert_eq!(std::fs::read_dir(&mount).unwrap().count(), 0);

    // At width 48 checkpoints fit for a while (a probe adds ~12 KB to state.json) and then
    // the disk fills, in whichever write comes first: the last complete checkpoint is
    // kept for --resume, and the message says so.
    let out = mount.join("run2");
    let mut args = small_args(data.to_str().unwrap(), out.to_str().unwrap(), "19000");
    args[width] = "48";
    let every = args.iter().position(|a| *a == "100").unwrap();
    args[every] = "10";
    args.extend(["--hidden-layers", "2"]);
    let output = train(&args);
    assert_one_line_error(&output, 1, "(continue with --resume)", "full disk mid-run");
    assert!(out.join("pack-checkpoint.json").exists());
    assert!(temp_files(&mount).is_empty(), "{:?}", temp_files(&mount));
    // Each of the two checkpoint slots keeps only the weights its state.json names.
    for slot in ["a", "b"] {
        let weights = std::fs::read_dir(out.join("checkpoint").join(slot))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("weights-"))
            .count();
        assert!(weights <= 1, "slot {slot}: {weights} weights files");
    }
}

/// SIGTERM stops the run at a step boundary: one line, non-zero exit, no temp file, and
/// the checkpoint kept for --resume.
#[test]
fn sigterm_stops_with_one_line_and_keeps_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let out = dir.path().join("run");
    let args = small_args(data.to_str().unwrap(), out.to_str().unwrap(), "1000000");
    let child = train_command()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = out.join("pack-checkpoint.json");
    let start = Instant::now();
    while !state.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint after 120 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_one_line_error(&output, 1, "interrupted by SIGTERM at step", "SIGTERM");
    assert!(String::from_utf8_lossy(&output.stderr).contains("continue with --resume"));
    assert!(state.exists());
    assert!(temp_files(&out).is_empty(), "{:?}", temp_files(&out));
    let status = read_str_attr(&out.join("run.h5"), "status");
    assert!(
        status.starts_with("failed: interrupted after step"),
        "{status}"
    );
}
