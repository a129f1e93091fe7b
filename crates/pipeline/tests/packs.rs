//! Packs in the pipeline, on the CPU with the real binaries: `--pack-size 2` trains fig6's two
//! runs (tanh, standard and normalized init) in one `train-pack` process; each lands in its own
//! entry, keyed on the pack engine; a pack that cannot fit is refused before anything trains.

mod common;

use common::{starts, tiny, Sandbox, TINY_TRAINS};

fn with_pack_size(sb: &Sandbox, size: &str) -> Vec<String> {
    let mut args = sb.run_args();
    args.extend(["--pack-size".into(), size.into()]);
    args
}

#[test]
fn a_pack_of_two_trains_both_runs_in_one_process_into_their_own_entries() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let out = sb.ok(with_pack_size(&sb, "2"));
    let packs: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("in a pack of 2"))
        .collect();
    assert_eq!(packs.len(), 1, "one pack of both runs:\n{out}");
    assert_eq!(
        starts(&out)
            .iter()
            .filter(|s| s.starts_with("train/"))
            .count(),
        1,
        "the pack starts once, for both"
    );
    let manifest = sb.manifest();
    let inputs = manifest["files"]["fig6.png"]["inputs"]
        .as_object()
        .unwrap()
        .clone();
    for stage in TINY_TRAINS {
        let key = inputs[stage].as_str().unwrap();
        let entry = sb.entry(key);
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.join("key.json")).unwrap()).unwrap();
        assert!(
            record["tool"].as_str().unwrap().starts_with("train-pack "),
            "{stage} is keyed on the pack engine: {record}"
        );
        assert!(entry.join("run.h5").is_file() && entry.join("stage.json").is_file());
    }
    assert!(sb.orphans().is_empty(), "{:?}", sb.orphans());
    sb.assert_verified();

    // The same packing again: nothing to do. Alone, the runs are another engine's: retrained.
    let again = sb.ok(with_pack_size(&sb, "2"));
    assert!(again.ends_with("stages cached\n"), "{again}");
    let alone = sb.run();
    assert_eq!(
        starts(&alone)
            .iter()
            .filter(|s| s.starts_with("train/"))
            .count(),
        2,
        "single runs are keyed on train, not train-pack:\n{alone}"
    );
}

#[test]
fn a_pack_that_cannot_fit_is_refused_before_anything_trains() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let out = sb.paper(with_pack_size(&sb, "1000000000"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("paper: error: --pack-size 1000000000 does not fit"),
        "{stderr}"
    );
    assert!(!sb.store().exists() || std::fs::read_dir(sb.store().join("work")).is_err());
}

/// Learning-rate trials pack too (`--pack-size 2`), among themselves: a trial whose rate
/// diverges is recorded as a result in its own entry, its pack mate trains on, and the
/// selection reads both.
#[test]
fn trials_train_in_packs_and_a_diverging_one_is_a_result() {
    let profile = format!(
        "description = \"trials in packs\"\n{}[select]\ngrid = [0.05, 1e30]\n\
         updates = 100\n[figures]\nfig6 = {{ width = 640, height = 480 }}\nlr-select = {{}}\n",
        common::TRAIN_TABLES
    );
    let Some(sb) = Sandbox::new(&profile) else {
        return;
    };
    let out = sb.ok(with_pack_size(&sb, "2"));
    let trial_packs: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("start") && l.contains("trial/") && l.contains("in a pack of 2"))
        .collect();
    assert_eq!(trial_packs.len(), 2, "4 trials in 2 packs of 2:\n{out}");
    let manifest = sb.manifest();
    let run = manifest["files"]["fig6.png"]["inputs"]["train/shapeset-tanh-standard-l5-w32-s0"]
        .as_str()
        .unwrap();
    let key: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.entry(run).join("key.json")).unwrap()).unwrap();
    let select = key["inputs"]["lr"]
        .as_str()
        .expect("keyed on its selection");
    let selection: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.entry(select).join("selection.json")).unwrap())
            .unwrap();
    assert_eq!(selection["chosen_lr"], 0.05, "{selection}");
    let trials = selection["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4, "{selection}");
    let diverged = &selection["scores"].as_array().unwrap()[1];
    assert_eq!(diverged["lr"], 1e30, "{selection}");
    assert_eq!(diverged["diverged"], true, "{selection}");
    assert!(sb.orphans().is_empty(), "{:?}", sb.orphans());
    sb.assert_verified();
}

/// A pack that runs out of device memory (this machine has no GPU: a `train-pack` wrapper
/// answers a pack of more than one model as libtorch's CUDA allocator would, with exit code
/// `spec::cli::EXIT_OUT_OF_MEMORY`) is retried in halves, and every run still trains, by the
/// real `train-pack`, into its own entry.
#[test]
fn a_pack_that_runs_out_of_memory_is_retried_in_halves() {
    let Some(real) = common::bin_dir() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let bins = scratch.path().join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    for entry in std::fs::read_dir(&real).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if path.is_file() && name != "train-pack" {
            std::os::unix::fs::symlink(&path, bins.join(name)).unwrap();
        }
    }
    let wrapper = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = --runs ] && [ \"$(grep -o '\"seed\"' \"$2\" | wc -l)\" -gt 1 ]; then\n\
           echo 'train-pack: error: out of device memory (CUDA out of memory. Tried to allocate 2.00 GiB)' >&2\n\
           exit {}\n\
         fi\n\
         exec {} \"$@\"\n",
        spec::cli::EXIT_OUT_OF_MEMORY,
        real.join("train-pack").display()
    );
    let script = bins.join("train-pack");
    std::fs::write(&script, wrapper).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let sb = Sandbox::with_bins(&tiny(), bins);
    let out = sb.ok(with_pack_size(&sb, "2"));
    assert!(
        out.lines().any(|l| l.starts_with("retry")
            && l.contains("a pack of 2 ran out of device memory; training it as packs of 1 and 1")),
        "{out}"
    );
    let manifest = sb.manifest();
    for stage in TINY_TRAINS {
        let key = manifest["files"]["fig6.png"]["inputs"][stage]
            .as_str()
            .unwrap();
        assert!(sb.entry(key).join("run.h5").is_file(), "{stage}");
    }
    assert!(sb.orphans().is_empty(), "{:?}", sb.orphans());
}
