//! The GPUs a prediction knows: memory (what packs fit in) and bandwidth (what a pack's step
//! is bound by), from vendor data sheets.

/// A GPU model: memory (what packs fit in) and memory bandwidth (what a pack's step is
/// bound by).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuSpec {
    /// Words `nvidia-smi -L` names it by, all of which must appear.
    pub names: &'static [&'static str],
    pub memory_gb: f64,
    pub bandwidth_tb_s: f64,
}

/// Known GPUs, first match wins (so the H100 variants come before the plain H100, the SXM
/// part `nvidia-smi` calls "NVIDIA H100 80GB HBM3"). Vendor data sheets.
pub const GPUS: [GpuSpec; 8] = [
    GpuSpec {
        names: &["H200"],
        memory_gb: 141.0,
        bandwidth_tb_s: 4.8,
    },
    GpuSpec {
        names: &["H100", "NVL"],
        memory_gb: 94.0,
        bandwidth_tb_s: 3.9,
    },
    GpuSpec {
        names: &["H100", "PCIe"],
        memory_gb: 80.0,
        bandwidth_tb_s: 2.0,
    },
    GpuSpec {
        names: &["H100"],
        memory_gb: 80.0,
        bandwidth_tb_s: 3.35,
    },
    GpuSpec {
        names: &["A100", "80GB"],
        memory_gb: 80.0,
        bandwidth_tb_s: 2.0,
    },
    GpuSpec {
        names: &["A100"],
        memory_gb: 40.0,
        bandwidth_tb_s: 1.555,
    },
    GpuSpec {
        names: &["L40S"],
        memory_gb: 48.0,
        bandwidth_tb_s: 0.864,
    },
    GpuSpec {
        names: &["V100"],
        memory_gb: 32.0,
        bandwidth_tb_s: 0.9,
    },
];

/// The entry of [`GPUS`] that stands in for a GPU it does not know: the H100 SXM, the card
/// the issue sizes the full profile for.
pub(super) const H100: usize = 3;

/// The GPU a prediction is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Gpu {
    /// As `nvidia-smi -L` names it.
    pub name: String,
    pub spec: GpuSpec,
    /// False when the name is not in [`GPUS`]: the H100's figures stand in, and [`basis`]
    /// says so.
    pub known: bool,
}

impl Gpu {
    pub fn named(name: &str) -> Gpu {
        let found = GPUS
            .iter()
            .find(|g| g.names.iter().all(|n| name.contains(n)));
        Gpu {
            name: name.to_string(),
            spec: *found.unwrap_or(&GPUS[H100]),
            known: found.is_some(),
        }
    }

    /// The card's memory in bytes: what packs are sized for when the GPU is not here to ask.
    pub fn memory_bytes(&self) -> u64 {
        (self.spec.memory_gb * 1e9) as u64
    }
}
