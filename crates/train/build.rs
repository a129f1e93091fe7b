//! Link-time settings that torch-sys does not make for us, and the libtorch version.
use std::env;
use std::path::Path;

include!("link_libtorch.rs");

fn main() {
    link_libtorch();
    // run.h5 records the libtorch it was made with; libtorch has no runtime version call.
    println!(
        "cargo:rustc-env=XAVIER_LIBTORCH_VERSION={}",
        libtorch_version()
    );
    // `train identity` reports the tch it was compiled with: the lockfile's pin.
    println!("cargo:rustc-env=XAVIER_TCH_VERSION={}", tch_version());
}

/// The version of the `tch` package in the workspace's Cargo.lock.
fn tch_version() -> String {
    let lock =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    text.split("[[package]]")
        .find(|p| p.contains("\nname = \"tch\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map_or_else(|| "unknown".into(), |v| v.trim_matches('"').to_string())
}

/// `__version__` from the Python package's version.py, or libtorch's build-version file.
fn libtorch_version() -> String {
    let Ok(root) = env::var("LIBTORCH") else {
        return "unknown".into();
    };
    let root = Path::new(&root);
    let python = root.join("version.py");
    println!("cargo:rerun-if-changed={}", python.display());
    if let Ok(text) = std::fs::read_to_string(&python) {
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("__version__ = "))
            .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string());
        if let Some(version) = version {
            return version;
        }
    }
    std::fs::read_to_string(root.join("build-version"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
