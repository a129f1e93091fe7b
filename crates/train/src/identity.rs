//! What this binary is built from, as the binary itself knows it: the tch and libtorch it
//! links, the HDF5 library, and whether libtorch sees CUDA. `train identity` prints it so
//! that the pipeline keys training runs on the tool, not on the caller's `$LIBTORCH`.

use serde_json::{json, Value};

/// The tch crate version, from Cargo.lock at build time (build.rs).
pub const TCH: &str = env!("XAVIER_TCH_VERSION");
/// The libtorch version, from the libtorch tree linked at build time (build.rs): libtorch
/// has no runtime version call.
pub const LIBTORCH: &str = env!("XAVIER_LIBTORCH_VERSION");

/// The `libtorch` attribute of `run.h5`: `tch 0.24.0, libtorch 2.11.0+cpu`.
pub fn libtorch_attr() -> String {
    format!("tch {TCH}, libtorch {LIBTORCH}")
}

/// The version of the HDF5 library linked (statically) into this binary.
pub fn hdf5_version() -> String {
    let (major, minor, patch) = hdf5::library_version();
    format!("{major}.{minor}.{patch}")
}

/// `{"tch", "libtorch", "hdf5", "cpu_kernels", "cuda_built", "cuda", "device_classes"}`: `cpu_kernels` is
/// the kernel path `kernels::pin` fixes. A device class is `cpu` or
/// `cuda:<GPU model>`, as the pipeline keys runs: CUDA's presence comes from libtorch; the
/// models from `nvidia-smi -L` (libtorch names no devices), `unknown` without it.
pub fn identity() -> Value {
    let cuda = tch::Cuda::is_available();
    let mut classes = vec!["cpu".to_string()];
    if cuda {
        let count = usize::try_from(tch::Cuda::device_count()).unwrap_or(0);
        let mut names = spec::device::gpu_names();
        names.resize(count.max(1), "unknown".into());
        names.truncate(count.max(1));
        for name in names {
            let class = format!("cuda:{name}");
            if !classes.contains(&class) {
                classes.push(class);
            }
        }
    }
    json!({
        "tch": TCH,
        "libtorch": LIBTORCH,
        "hdf5": hdf5_version(),
        // A string field, so the pipeline keys runs on it (`tool::train_versions`).
        "cpu_kernels": crate::kernels::path(),
        // Whether libtorch_cuda is linked (the `cuda` feature): with it but no `cuda`, the
        // build is right and the machine opens no device.
        "cuda_built": cfg!(feature = "cuda"),
        "cuda": cuda,
        "device_classes": classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_known_and_tch_matches_the_lockfile() {
        assert_ne!(LIBTORCH, "unknown", "LIBTORCH was not set at build time");
        let lock = include_str!("../../../Cargo.lock");
        let pinned = lock
            .split("[[package]]")
            .find(|p| p.contains("\nname = \"tch\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
            .map(|v| v.trim_matches('"'));
        assert_eq!(pinned, Some(TCH));
        // H5get_libversion answers 0.0.0 when it fails.
        assert_ne!(hdf5_version(), "0.0.0");
        let id = identity();
        assert_eq!(id["device_classes"][0], "cpu");
        assert_eq!(id["cuda"], tch::Cuda::is_available());
    }
}
