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

/// Refuses, before anything is planned or trained, to put training on `gpus` with trainers that
/// cannot use them: built without CUDA, or built with it on a machine where no device opens.
/// What the trainers can do is what `<bin_dir>/train identity` says of itself.
pub fn preflight(gpus: &Gpus, bin_dir: &std::path::Path) -> anyhow::Result<()> {
    let output = std::process::Command::new(bin_dir.join("train"))
        .arg("identity")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let identity: Option<serde_json::Value> = output
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice(&o.stdout).ok());
    let Some(identity) = identity else {
        anyhow::bail!(
            "cannot ask {} what it can do (`train identity` failed): build it first (`just build`)",
            bin_dir.join("train").display()
        );
    };
    gpu_refusal(gpus, &identity).map_or(Ok(()), |why| Err(anyhow::anyhow!(why)))
}

/// Why the trainers that reported `identity` cannot train on `gpus`, if they cannot.
fn gpu_refusal(gpus: &Gpus, identity: &serde_json::Value) -> Option<String> {
    let listed = format!("{} x {}", gpus.ids.len(), gpus.name);
    let cpu_instead = "or pass --gpus 0 to train on the CPU";
    if identity["cuda"] == true {
        return None;
    }
    if identity["cuda_built"] != true {
        return Some(format!(
            "this machine has GPUs ({listed}) but the trainers were built without CUDA: run \
             `XAVIER_CUDA=1 just build` (it installs torch's CUDA libraries and builds with \
             --features train/cuda; README, GPU), {cpu_instead}"
        ));
    }
    Some(format!(
        "this machine has GPUs ({listed}) and the trainers link CUDA, but libtorch opens no device \
         (check the driver with `nvidia-smi` and CUDA_VISIBLE_DEVICES), {cpu_instead}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpus_are_refused_to_trainers_that_cannot_use_them() {
        let h100 = Gpus {
            ids: vec!["0".into()],
            name: "NVIDIA H100 80GB HBM3".into(),
        };
        let said = |id: &str| gpu_refusal(&h100, &serde_json::from_str(id).unwrap());
        let cpu_build = said(r#"{"cuda_built": false, "cuda": false}"#).unwrap();
        assert!(cpu_build.contains("built without CUDA"), "{cpu_build}");
        assert!(cpu_build.contains("XAVIER_CUDA=1 just build") && cpu_build.contains("--gpus 0"));
        let no_device = said(r#"{"cuda_built": true, "cuda": false}"#).unwrap();
        assert!(no_device.contains("opens no device"), "{no_device}");
        assert!(said(r#"{"cuda_built": true, "cuda": true}"#).is_none());
    }

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
