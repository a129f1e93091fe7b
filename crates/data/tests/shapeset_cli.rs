//! The `shapeset` binary, run as the pipeline runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use data::dataset::read_h5;
use data::shapeset::{self, batch, IMAGE_DIM, IMAGE_SIDE};

fn shapeset(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shapeset"))
        .args(args)
        .output()
        .expect("spawning shapeset")
}

fn last_line(out: &Output) -> String {
    assert!(
        out.status.success(),
        "shapeset failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn generate_writes_the_stream_slice_with_its_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slice.h5");
    let line = last_line(&shapeset(&[
        "generate",
        "--seed",
        "5",
        "--count",
        "300",
        "--offset",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(line, out.to_str().unwrap());
    assert_eq!(
        entries(dir.path()),
        ["slice.h5"],
        "no temp file left behind"
    );

    let file = hdf5::File::open(&out).unwrap();
    let x = file.dataset("x").unwrap();
    assert_eq!(x.shape(), [300, IMAGE_DIM]);
    let (want_x, want_y) = batch(5, 1000, 300);
    assert_eq!(x.read_raw::<u8>().unwrap(), want_x);
    assert_eq!(file.dataset("y").unwrap().read_raw::<u8>().unwrap(), want_y);
    assert_eq!(file.attr("seed").unwrap().read_scalar::<u64>().unwrap(), 5);
    assert_eq!(
        file.attr("offset").unwrap().read_scalar::<u64>().unwrap(),
        1000
    );
    let generator: hdf5::types::VarLenUnicode =
        file.attr("generator").unwrap().read_scalar().unwrap();
    assert_eq!(generator.as_str(), shapeset::GENERATOR);

    if let Some(python) = python_with_h5py() {
        let script = "import h5py,sys; f=h5py.File(sys.argv[1]); \
                      print(f['x'].shape, f['x'].dtype, int(f['y'][:].sum()), int(f.attrs['seed']))";
        let out = Command::new(python)
            .args(["-c", script, out.to_str().unwrap()])
            .output()
            .unwrap();
        let want = format!(
            "(300, 1024) uint8 {} 5",
            want_y.iter().map(|&l| u64::from(l)).sum::<u64>()
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want);
    }
}

/// The repository's .venv python, when it exists and has h5py.
fn python_with_h5py() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let works = Command::new(&python)
        .args(["-c", "import h5py"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        eprintln!("skipping the h5py check: no {} with h5py", python.display());
    }
    works.then_some(python)
}

#[test]
fn bad_arguments_fail_in_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.h5");
    let missing_h5 = dir.path().join("no/such/x.h5");
    let missing_png = dir.path().join("no/such/g.png");
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let cases: [(Vec<String>, &str); 3] = [
        (
            vec![
                "generate".into(),
                "--seed".into(),
                "1".into(),
                "--count".into(),
                "0".into(),
                "--out".into(),
                path(&out),
            ],
            "--count must be at least 1",
        ),
        (
            vec![
                "generate".into(),
                "--seed".into(),
                "1".into(),
                "--count".into(),
                "5".into(),
                "--out".into(),
                path(&missing_h5),
            ],
            "no/such",
        ),
        (
            vec![
                "grid".into(),
                "--seed".into(),
                "1".into(),
                "--out".into(),
                path(&missing_png),
            ],
            "no/such",
        ),
    ];
    for (args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = shapeset(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
    // Argument syntax errors are clap's: the error first, then usage lines.
    let output = shapeset(&[
        "generate",
        "--seed",
        "abc",
        "--count",
        "5",
        "--out",
        &path(&out),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr
            .lines()
            .next()
            .unwrap()
            .contains("invalid value 'abc' for '--seed <SEED>'"),
        "{stderr}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn grid_draws_64_enlarged_samples_with_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("grid.png");
    assert_eq!(
        last_line(&shapeset(&[
            "grid",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap()
        ])),
        out.to_str().unwrap()
    );
    let decoder = png::Decoder::new(std::fs::File::open(&out).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut rgb).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    assert_eq!((width, height), (1114, 1322));
    let grey = |x: usize, y: usize| {
        let at = (y * width + x) * 3;
        assert!(rgb[at] == rgb[at + 1] && rgb[at + 1] == rgb[at + 2]);
        rgb[at]
    };
    // Tile (row 2, column 5) shows sample 21 at 4x: tiles start at 10 + k * (128 + gap).
    let (image, _) = shapeset::sample(3, 21);
    let (left, top) = (10 + 5 * 138, 10 + 2 * (128 + 26 + 10));
    for y in 0..IMAGE_SIDE {
        for x in 0..IMAGE_SIDE {
            assert_eq!(
                grey(left + 4 * x + 1, top + 4 * y + 2),
                image[y * IMAGE_SIDE + x]
            );
        }
    }
    // The label band under the tile holds dark text on white.
    let band = (top + 128..top + 154).flat_map(|y| (left..left + 128).map(move |x| (x, y)));
    let dark = band.filter(|&(x, y)| grey(x, y) < 100).count();
    assert!(dark > 20, "label band has {dark} dark pixels");
}

#[test]
fn dataset_builds_once_and_holds_the_pinned_sets() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let first = shapeset(&["dataset", "--store", store.to_str().unwrap()]);
    let line = last_line(&first);
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 3, "{line}");
    assert_eq!(parts[0], "shapeset");
    assert_eq!(parts[1].len(), 64);
    assert!(parts[2].ends_with("dataset.h5") && parts[2].contains(parts[1]));
    let again = shapeset(&["dataset", "--store", store.to_str().unwrap()]);
    assert_eq!(last_line(&again), line);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in the store"));

    let ds = read_h5(Path::new(parts[2])).unwrap();
    let sets = shapeset::eval_sets().unwrap();
    assert_eq!(
        (ds.name.as_str(), ds.dim, ds.classes),
        ("shapeset", IMAGE_DIM, 9)
    );
    assert!(ds.train.is_none());
    assert_eq!(ds.valid, sets.valid);
    assert_eq!(ds.test, sets.test);
    assert_eq!(ds.decoder, shapeset::GENERATOR);
}

#[test]
fn bench_reports_throughput_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.json");
    let output = shapeset(&[
        "bench",
        "--count",
        "20000",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let per_core = report["per_core"].as_f64().unwrap();
    assert!(per_core > 1000.0, "{report}");
    assert_eq!(report["images_per_s"].as_f64().unwrap(), per_core);
    assert_eq!(report["count"], 20000);
}
