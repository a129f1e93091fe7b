//! The devices a run may train on: their names as they go into keys (the GPU models that
//! `nvidia-smi -L` lists; libtorch names no devices) and the CPU's free memory.

use std::process::Command;

/// GPU models that `nvidia-smi -L` lists; none when the tool is absent or fails.
pub fn gpu_names() -> Vec<String> {
    let Ok(out) = Command::new("nvidia-smi").arg("-L").output() else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    parse_nvidia_smi(&String::from_utf8_lossy(&out.stdout))
}

/// The models in `nvidia-smi -L` lines like `GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-...)`.
pub fn parse_nvidia_smi(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|l| l.starts_with("GPU "))
        .filter_map(|l| l.split_once(": "))
        .map(|(_, rest)| {
            rest.split(" (UUID")
                .next()
                .unwrap_or(rest)
                .trim()
                .to_string()
        })
        .collect()
}

/// `MemAvailable` of this machine's /proc/meminfo, in bytes; `None` where there is none.
pub fn cpu_memory_available() -> Option<u64> {
    mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// `MemAvailable` of a /proc/meminfo text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_listing_gives_model_names() {
        let listing = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1234)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-5678)\n";
        assert_eq!(
            parse_nvidia_smi(listing),
            ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"]
        );
        assert!(parse_nvidia_smi("No devices were found\n").is_empty());
    }

    #[test]
    fn meminfo_is_parsed_in_kib() {
        let text = "MemTotal:       24000000 kB\nMemAvailable:   1000 kB\n";
        assert_eq!(mem_available(text), Some(1_024_000));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert!(cpu_memory_available().is_some_and(|b| b > 0));
    }
}
