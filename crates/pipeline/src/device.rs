//! Where training runs: the CPU, or one GPU per run.

/// The GPUs this machine offers to training runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpus {
    /// Values for `CUDA_VISIBLE_DEVICES`, one per device a run may take.
    pub ids: Vec<String>,
    /// The model of the first device, as `nvidia-smi -L` names it.
    pub name: String,
}

impl Gpus {
    /// The device class that goes into `train` keys: `cpu` or `cuda:<gpu name>`.
    pub fn device_class(gpus: Option<&Gpus>) -> String {
        gpus.map_or_else(|| "cpu".into(), |g| format!("cuda:{}", g.name))
    }

    /// `--gpus N` when given (0 means the CPU), else the GPUs `nvidia-smi -L` lists, restricted
    /// to `CUDA_VISIBLE_DEVICES` when that is set (as Slurm does).
    pub fn detect(requested: Option<usize>) -> Option<Gpus> {
        let listed = spec::device::gpu_names();
        let visible: Option<Vec<String>> = std::env::var("CUDA_VISIBLE_DEVICES").ok().map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        });
        let available =
            visible.unwrap_or_else(|| (0..listed.len()).map(|i| i.to_string()).collect());
        // Without nvidia-smi listing a GPU, CUDA_VISIBLE_DEVICES alone does not make one.
        let count = match requested {
            Some(n) => n,
            None if listed.is_empty() => 0,
            None => available.len(),
        };
        if count == 0 {
            return None;
        }
        let ids = (0..count)
            .map(|i| available.get(i).cloned().unwrap_or_else(|| i.to_string()))
            .collect();
        let name = listed.first().cloned().unwrap_or_else(|| "unknown".into());
        if listed.iter().any(|n| *n != name) {
            eprintln!(
                "paper: GPUs of several models ({}); keys name the first: {name}",
                listed.join(", ")
            );
        }
        Some(Gpus { ids, name })
    }
}

impl Gpus {
    /// Free memory of the first device, in bytes, as `nvidia-smi` reports it; None when it
    /// cannot tell.
    pub fn free_bytes(&self) -> Option<u64> {
        let output = std::process::Command::new("nvidia-smi")
            .args([
                "--query-gpu=memory.free",
                "--format=csv,noheader,nounits",
                "-i",
            ])
            .arg(self.ids.first()?)
            .output()
            .ok()?;
        parse_free_mib(&String::from_utf8_lossy(&output.stdout))
    }
}

/// The first line of `nvidia-smi --query-gpu=memory.free --format=csv,noheader,nounits`
/// (MiB), in bytes.
fn parse_free_mib(text: &str) -> Option<u64> {
    let mib: u64 = text.lines().next()?.trim().parse().ok()?;
    mib.checked_mul(1 << 20)
}

/// Cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Threads for each child when `jobs` children run at once: the cores shared evenly, at least 1.
pub fn threads_per_job(jobs: usize) -> usize {
    (cores() / jobs.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_memory_is_read_in_mib() {
        assert_eq!(parse_free_mib("143771\n"), Some(143_771 << 20));
        assert_eq!(parse_free_mib("[N/A]\n"), None);
        assert_eq!(parse_free_mib(""), None);
    }

    #[test]
    fn zero_gpus_means_the_cpu() {
        assert_eq!(Gpus::detect(Some(0)), None);
        assert_eq!(Gpus::device_class(None), "cpu");
        let two = Gpus::detect(Some(2)).unwrap();
        assert_eq!(two.ids.len(), 2);
        assert!(Gpus::device_class(Some(&two)).starts_with("cuda:"));
    }
}
