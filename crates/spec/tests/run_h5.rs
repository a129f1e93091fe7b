//! The run.h5 writer and reader against each other, on real HDF5 files: the layout names
//! agree, the bytes are reproducible, arrays are compressed, and h5py reads the file.
#![cfg(feature = "hdf5")]

use ndarray::Array2;
use spec::layout::{Quantity, BINS, SCALARS};
use spec::recording::Recording;
use spec::run_h5::{write_run_h5, RawSnapshot, RunFile, RunInfo};
use std::path::Path;

const LAYERS: usize = 2;

fn recording() -> Recording {
    let mut rec = Recording::new(LAYERS);
    for (i, step) in [0u64, 10, 20].into_iter().enumerate() {
        let h = &mut rec.history;
        h.step.push(step);
        h.epoch.push(step as f64 / 20.0);
        h.train_loss
            .push(if i == 0 { f64::NAN } else { 1.0 / (i as f64) });
        h.valid_loss.push(2.0 - i as f64 * 0.1);
        h.valid_error.push(0.9 - i as f64 * 0.1);
        h.test_loss.push(2.1 - i as f64 * 0.1);
        h.test_error.push(0.8 - i as f64 * 0.1);
        for (k, layer) in rec.layers.iter_mut().enumerate() {
            for (q, stats) in layer.quantities.iter_mut().enumerate() {
                let mut row = vec![k as f64 + q as f64 / 10.0 + i as f64; SCALARS];
                row.extend((0..BINS).map(|b| (b % 7) as f64));
                stats.push(&row);
            }
            layer.jacobian_sv_mean.push(0.5 + k as f64 / 10.0);
            layer.jacobian_sv_spread.push(0.01);
        }
    }
    rec.edges = vec![(0..=BINS).map(|b| b as f32 / BINS as f32).collect(); 3];
    rec.raw_steps = vec![0, 20];
    rec.test_labels = vec![0, 1, 2, 3, 4];
    rec.test_predicted = vec![0, 1, 2, 4, 3];
    rec.test_predicted_step = 20;
    rec
}

fn raw(step: u64) -> anyhow::Result<RawSnapshot> {
    let cell = |r: usize, c: usize| ((r * 31 + c * 7) % 100) as f32 / 100.0 + step as f32;
    Ok((0..LAYERS)
        .map(|_| {
            let activation = Array2::from_shape_fn((300, 16), |(r, c)| cell(r, c));
            let grad = Array2::from_shape_fn((300, 16), |(r, c)| -cell(r, c));
            let weights = (step == 0).then(|| Array2::from_shape_fn((16, 16), |(r, c)| cell(r, c)));
            (activation, grad, weights)
        })
        .collect())
}

fn write(path: &Path) {
    let info = RunInfo {
        config_json: "{}",
        device: "cpu",
        libtorch: "test",
        status: "complete",
        timing_json: "{}",
    };
    write_run_h5(path, &info, &recording(), raw).unwrap();
}

/// One test for everything this process opens: HDF5 serialises its library calls, and its
/// file locks can refuse an open that races another thread's write (errno 11).
#[test]
fn writer_and_reader() {
    the_same_recording_gives_the_same_bytes();
    the_reader_finds_what_the_writer_wrote_and_arrays_are_compressed();
}

fn the_same_recording_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.h5"), dir.path().join("b.h5"));
    write(&a);
    // HDF5 timestamps have one-second resolution: make a second tick between the writes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(&b);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

fn the_reader_finds_what_the_writer_wrote_and_arrays_are_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.h5");
    write(&path);
    let run = RunFile::open(&path).unwrap();
    assert_eq!(run.status().unwrap(), "complete");
    assert_eq!(
        run.history().unwrap().test_error,
        [0.8, 0.7000000000000001, 0.6000000000000001]
    );
    let stats = run.layer_stats(2, Quantity::PreactGrad).unwrap();
    assert_eq!(stats.p02, [1.1, 2.1, 3.1]);
    assert_eq!(run.jacobian_sv_mean(1).unwrap(), [0.5; 3]);
    assert_eq!(run.jacobian_sv_spread(2).unwrap(), [0.01; 3]);
    assert_eq!(run.raw_steps().unwrap(), [0, 20]);
    let predictions = run.test_predictions().unwrap();
    assert_eq!(predictions.step, 20);
    assert_eq!(predictions.predicted, [0, 1, 2, 4, 3]);
    assert_eq!(predictions.correct(), [true, true, true, false, false]);
    let raw20 = run.raw(20, 1, Quantity::Activation).unwrap();
    assert_eq!(raw20.len(), 300 * 16);
    assert_eq!(raw20[1], 20.07);
    assert!(
        run.raw(20, 1, Quantity::WeightGrad).is_err(),
        "weight grads only at step 0"
    );
    let file = hdf5::File::open(&path).unwrap();
    let dataset = file.dataset("raw/step0/layer1/activation").unwrap();
    assert!(
        dataset
            .filters()
            .iter()
            .any(|f| matches!(f, hdf5::filters::Filter::Deflate(_))),
        "raw arrays are deflated"
    );
}

#[test]
fn h5py_reads_every_dataset() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if !python.exists() {
        eprintln!("skipped: no .venv (run scripts/setup)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.h5");
    write(&path);
    let script = "import h5py,sys\nn=0\ndef visit(name, obj):\n    global n\n    if isinstance(obj, h5py.Dataset):\n        obj[()]; n += 1\nf=h5py.File(sys.argv[1]); f.visititems(visit); print(n, f.attrs['status'])";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // history 7 + stats/step 1 + per layer (2 jacobian + 3 x 6) x 2 + predictions 4 (step,
    // test, test_label, valid_examples) + raw 2 x 2 + 2 + 2 weight.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "62 complete");
}
