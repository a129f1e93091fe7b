//! The real `train` binary on small networks: learning, determinism, failure, layout,
//! export and resume.

mod common;

use std::path::Path;
use std::process::Command;

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
    assert_eq!(steps, [0.0, 1.0, 10.0, 100.0, 200.0, 300.0, 400.0]);
    let valid = read_f64(&run_h5, "history/valid_loss");
    let train = read_f64(&run_h5, "history/train_loss");
    assert!(
        train[0].is_nan(),
        "no training loss before the first update"
    );
    // 0.05 nats is far beyond the noise of a 500-image set; ~400 updates of a small
    // net mostly learn the class priors (their entropy is 2.11 nats).
    assert!(valid[6] < valid[0] - 0.05, "valid loss {valid:?}");
    assert!(train[6] < train[1], "train loss {train:?}");
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
}

#[test]
fn bad_inputs_are_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    // Each case: the dataset, what it adds to a 5-update tanh run, and what the error names.
    let cases: [(&str, &[&str], &str); 4] = [
        ("mnist", &[], "--data FILE"),
        (
            "shapeset",
            &["--data", "/nonexistent/x.h5"],
            "/nonexistent/x.h5",
        ),
        ("shapeset", &["--device", "tpu"], "unknown device"),
        ("shapeset", &["--hidden-layers", "6"], "6"),
    ];
    for (dataset, extra, needle) in cases {
        let mut args = vec![
            "--dataset",
            dataset,
            "--activation",
            "tanh",
            "--init",
            "standard",
            "--updates",
            "5",
            "--out",
            out,
        ];
        args.extend(extra);
        let output = train(&args);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!Path::new(out).join("run.h5").exists());
    }
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
    assert_eq!(stdout.trim(), "ok 5");
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
    assert!(sliced.join("checkpoint/state.json").exists());

    // A resume with another config is refused and leaves the checkpoint alone.
    let mut wrong = small_args(data, sliced.to_str().unwrap(), "250");
    wrong.extend(["--resume", "--lr", "0.5"]);
    let output = train(&wrong);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("different config"));

    let mut resume = small_args(data, sliced.to_str().unwrap(), "250");
    resume.push("--resume");
    let run_sliced = train_ok(&resume);
    assert_eq!(read_str_attr(&run_sliced, "status"), "complete");
    assert_same_recording(&run_whole, &run_sliced);

    // A finished run has no checkpoint left to resume.
    let output = train(&resume);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no checkpoint"));
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
    assert_eq!(
        steps,
        [0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0]
    );
    let error = read_f64(&run_whole, "history/test_error");
    assert!(error[8] < 0.5 * error[0], "test error {error:?}");
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
