//! The CPU kernel path every training process runs, pinned before libtorch runs a kernel.
//!
//! ATen picks its vectorised kernels (and MKL its GEMM code path) by what the CPU offers, so
//! an AVX-512 machine and an AVX2 machine compute different last bits for the same run: its
//! key would not determine its bytes. `train` and `train-pack` therefore set the path
//! themselves, first thing in `main`, overriding whatever the caller's environment says:
//! AVX2 on every x86-64 CPU that has it (measured: no slower than AVX-512 at batch 10), the
//! portable default elsewhere. The path is reported by `train identity`, so it is part of
//! every run's key: a CPU without AVX2 computes other bytes under other keys.

/// ATen's dispatch variable (read once, at the first CPU kernel).
const ATEN: &str = "ATEN_CPU_CAPABILITY";
/// MKL's conditional numerical reproducibility: the same code path on every CPU that has it.
const MKL_CBWR: &str = "MKL_CBWR";
/// MKL's instruction ceiling: the dispatcher, as opposed to CBWR's code path.
const MKL_ISA: &str = "MKL_ENABLE_INSTRUCTIONS";
/// oneDNN's ceiling, for the kernels that reach it.
const ONEDNN_ISA: &str = "ONEDNN_MAX_CPU_ISA";

/// The kernel path this CPU runs: `avx2` or `default`.
pub fn path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return "avx2";
    }
    "default"
}

/// Pins [`path`] for ATen, MKL and oneDNN. Call it before any tensor exists (first thing in
/// `main`; in a test, before its first tensor): libtorch reads these variables once. The
/// variables are set once per process, so no thread reads them while another writes.
pub fn pin() -> &'static str {
    static PINNED: std::sync::Once = std::sync::Once::new();
    let path = path();
    PINNED.call_once(|| {
        let (mkl_cbwr, mkl_isa, onednn) = match path {
            "avx2" => ("AVX2,STRICT", "AVX2", "AVX2"),
            _ => ("COMPATIBLE", "SSE4_2", "SSE41"),
        };
        std::env::set_var(ATEN, path);
        std::env::set_var(MKL_CBWR, mkl_cbwr);
        std::env::set_var(MKL_ISA, mkl_isa);
        std::env::set_var(ONEDNN_ISA, onednn);
    });
    path
}
