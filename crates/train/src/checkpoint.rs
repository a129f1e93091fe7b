//! One model's checkpoint, from which `--resume` continues it to the same history as an
//! uninterrupted run. The engine keeps two of them per model, the slots
//! `<run dir>/checkpoint/{a,b}/` ([`crate::pack::checkpoint`]), each holding:
//! - `state.json`: step, recording so far, timings and the name of the weights file;
//! - `weights-step<s>.ot`: every layer's weight and bias (tch's named-tensor archive);
//!
//! and `<run dir>/checkpoint/raw/step<s>.ot`, the raw probe arrays, written once when taken
//! (they are large, so they are not kept in memory nor rewritten at each checkpoint).
//!
//! Each file is written atomically; the weights file is written before the `state.json`
//! that names it and the old one removed after, so a crash at any point leaves a
//! consistent pair. Batches need no saved position: they are a function of the step.
//!
//! Tensors are serialized into memory and written with std I/O: libtorch's own file
//! writer throws from a destructor when the disk fills, which aborts the process and
//! leaves its temp file. Here a full disk is an ordinary error, and the `AtomicFile` guard
//! removes the temp file. Reads go through memory too, and torch's errors are cut to their
//! first line by the caller's error convention.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use spec::layout::checkpoint;
use spec::recording::Recording;
use spec::run_h5::RawSnapshot;
use spec::RunConfig;
use store::atomic::write_atomic;
use tch::{Device, Tensor};

use crate::model::Mlp;
use crate::probe::Probe;

/// Wall seconds spent so far, by activity.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Timing {
    pub train_s: f64,
    /// The periodic probes, without the one-off parts below.
    pub probe_s: f64,
    /// The Jacobians at initialization and the whole-set evaluation at the last step.
    #[serde(default)]
    pub once_s: f64,
    /// Checkpoints and raw snapshots: storage.
    pub checkpoint_s: f64,
}

impl Timing {
    /// The run's wall time so far (without the final write).
    pub fn total_s(&self) -> f64 {
        self.train_s + self.probe_s + self.once_s + self.checkpoint_s
    }
}

#[derive(Serialize, Deserialize)]
pub struct State {
    pub config: RunConfig,
    pub step: u64,
    pub weights_file: String,
    pub timing: Timing,
    pub recording: Recording,
}

pub struct Checkpoint {
    dir: PathBuf,
}

impl Checkpoint {
    /// The checkpoint directory of the run whose directory is `out`.
    pub fn new(out: &Path) -> Checkpoint {
        Checkpoint::in_dir(out.join(checkpoint::DIR))
    }

    /// A checkpoint kept in `dir` itself (a pack's checkpoint slot).
    pub fn in_dir(dir: PathBuf) -> Checkpoint {
        Checkpoint { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn raw_path(&self, step: u64) -> PathBuf {
        self.dir.join("raw").join(format!("step{step}.ot"))
    }

    /// Saves the raw arrays of a probe at `step` (weight gradients only if `weight_grad`).
    pub fn save_raw(&self, step: u64, probe: &Probe, weight_grad: bool) -> Result<()> {
        let mut named = Vec::new();
        for (k, layer) in probe.layers.iter().enumerate() {
            named.push((
                format!("layer{}.activation", k + 1),
                layer.activation.to_device(Device::Cpu),
            ));
            named.push((
                format!("layer{}.preact_grad", k + 1),
                layer.preact_grad.to_device(Device::Cpu),
            ));
            if weight_grad {
                named.push((
                    format!("layer{}.weight_grad", k + 1),
                    layer.weight_grad.to_device(Device::Cpu),
                ));
            }
        }
        write_tensors(&self.raw_path(step), &named)
    }

    /// Loads the raw arrays saved at `step` for `hidden_layers` layers.
    pub fn load_raw(&self, step: u64, hidden_layers: usize) -> Result<RawSnapshot> {
        let path = self.raw_path(step);
        let named = read_tensors(&path).context("cannot read a raw snapshot")?;
        let find = |name: String| {
            named
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| to_array2(t))
                .transpose()
        };
        (1..=hidden_layers)
            .map(|k| {
                let activation = find(format!("layer{k}.activation"))?
                    .with_context(|| format!("{} lacks layer {k}", path.display()))?;
                let preact_grad = find(format!("layer{k}.preact_grad"))?
                    .with_context(|| format!("{} lacks layer {k}", path.display()))?;
                Ok((
                    activation,
                    preact_grad,
                    find(format!("layer{k}.weight_grad"))?,
                ))
            })
            .collect()
    }

    /// Saves the model and the state at `state.step`, replacing the previous checkpoint.
    pub fn save(&self, state: &mut State, model: &Mlp) -> Result<()> {
        let previous_name = state.weights_file.clone();
        let previous = self.dir.join(&previous_name);
        state.weights_file = format!("weights-step{}.ot", state.step);
        let weights_path = self.dir.join(&state.weights_file);
        let mut named = Vec::new();
        for (k, layer) in model.layers.iter().enumerate() {
            named.push((format!("weight{k}"), layer.weight.to_device(Device::Cpu)));
            named.push((format!("bias{k}"), layer.bias.to_device(Device::Cpu)));
        }
        write_tensors(&weights_path, &named)?;
        let written = write_atomic(
            &self.dir.join(checkpoint::STATE),
            &serde_json::to_vec(state)?,
        );
        if let Err(err) = written {
            // The previous state.json still names the previous weights: drop the new ones.
            let _ = std::fs::remove_file(&weights_path);
            state.weights_file = previous_name;
            return Err(err);
        }
        if previous != weights_path && previous.is_file() {
            std::fs::remove_file(&previous)?;
        }
        Ok(())
    }

    /// The saved state, and the saved weights put into `model` (on its device).
    pub fn load(&self, model: &mut Mlp) -> Result<State> {
        let state_path = self.dir.join(checkpoint::STATE);
        let text = std::fs::read_to_string(&state_path).with_context(|| {
            format!(
                "no checkpoint to resume from: cannot read {}",
                state_path.display()
            )
        })?;
        let state: State = serde_json::from_str(&text)
            .with_context(|| format!("corrupt checkpoint {}", state_path.display()))?;
        let weights_path = self.dir.join(&state.weights_file);
        let named = read_tensors(&weights_path).context("corrupt checkpoint")?;
        for (k, layer) in model.layers.iter_mut().enumerate() {
            for (name, target) in [
                (format!("weight{k}"), &mut layer.weight),
                (format!("bias{k}"), &mut layer.bias),
            ] {
                let saved = named
                    .iter()
                    .find(|(n, _)| *n == name)
                    .with_context(|| format!("{} lacks {name}", weights_path.display()))?;
                ensure!(
                    saved.1.size() == target.size(),
                    "{name} in {} has shape {:?}, the model needs {:?}",
                    weights_path.display(),
                    saved.1.size(),
                    target.size()
                );
                target
                    .f_copy_(&saved.1)
                    .with_context(|| format!("cannot load {name} of {}", weights_path.display()))?;
            }
        }
        Ok(state)
    }

    /// Whether a `state.json` exists, readable or not.
    pub fn has_state(&self) -> bool {
        self.dir.join(checkpoint::STATE).is_file()
    }

    /// The step of the saved checkpoint, if a readable `state.json` exists.
    pub fn saved_step(&self) -> Option<u64> {
        #[derive(Deserialize)]
        struct Step {
            step: u64,
        }
        let text = std::fs::read(self.dir.join(checkpoint::STATE)).ok()?;
        serde_json::from_slice::<Step>(&text).ok().map(|s| s.step)
    }

    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            // A run that kept no raw snapshot and ended at its first checkpoint step (a
            // learning-rate trial) never wrote one.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            done => done.with_context(|| format!("cannot remove {}", self.dir.display())),
        }
    }
}

/// Writes named tensors atomically: serialized into memory by torch, written by std I/O.
fn write_tensors(path: &Path, named: &[(String, Tensor)]) -> Result<()> {
    let mut bytes = Vec::new();
    Tensor::save_multi_to_stream(named, &mut bytes)
        .with_context(|| format!("cannot serialize {}", path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads named tensors written by [`write_tensors`] (onto the CPU).
fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Tensor::load_multi_from_stream(Cursor::new(bytes))
        .with_context(|| format!("{} is not a tensor archive", path.display()))
}

pub fn to_array2(t: &Tensor) -> Result<Array2<f32>> {
    let size = t.size();
    ensure!(size.len() == 2, "expected a 2-D tensor, got shape {size:?}");
    let values = Vec::<f32>::try_from(
        t.to_device(Device::Cpu)
            .to_kind(tch::Kind::Float)
            .flatten(0, -1),
    )?;
    Ok(Array2::from_shape_vec(
        (size[0] as usize, size[1] as usize),
        values,
    )?)
}
