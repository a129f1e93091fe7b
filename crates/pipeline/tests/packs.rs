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
