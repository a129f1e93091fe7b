//! A pack's checkpoints (a single run's too: it is a pack of one). Every model's is a
//! `crate::checkpoint::Checkpoint`, and a round checkpoints the models one after another. A
//! kill between two models would leave them at different steps, and a model's previous
//! checkpoint is gone once its next is written. So each model keeps two, in slots
//! `<run dir>/checkpoint/{a,b}/`; a round writes the slot the last whole round did not, and
//! only then names itself in `<out>/pack-checkpoint.json` (atomically). A resume reads that
//! file and loads every model from the slot it names: the last round that every model
//! finished.
//!
//! Raw probe arrays stay in `<run dir>/checkpoint/raw/`, written once when taken; the whole
//! `<run dir>/checkpoint/` goes when the model ends.

use std::path::{Path, PathBuf};

use crate::checkpoint::{Checkpoint, State};
use crate::model::{Layer, Mlp};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use store::atomic::write_atomic;

/// The file that names the last whole round, under the pack's `--out`.
pub const ROUND_FILE: &str = spec::layout::checkpoint::PACK_ROUND;

/// The two checkpoint slots of a model, directories under its `checkpoint/`.
pub const SLOTS: [&str; 2] = ["a", "b"];

/// `pack-checkpoint.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub step: u64,
    /// 0 (`a`) or 1 (`b`).
    pub slot: usize,
}

impl Round {
    fn path(out: &Path) -> PathBuf {
        out.join(ROUND_FILE)
    }

    /// The last whole round of the pack in `out`.
    pub fn read(out: &Path) -> Result<Round> {
        let path = Round::path(out);
        let text = std::fs::read(&path).with_context(|| {
            format!(
                "no checkpoint to resume from: cannot read {}",
                path.display()
            )
        })?;
        let round: Round = serde_json::from_slice(&text)
            .with_context(|| format!("corrupt checkpoint {}", path.display()))?;
        anyhow::ensure!(
            round.slot < SLOTS.len(),
            "corrupt checkpoint {}: slot {}",
            path.display(),
            round.slot
        );
        Ok(round)
    }

    /// Records that every model has its checkpoint of `step` in `slot`.
    pub fn write(out: &Path, step: u64, slot: usize) -> Result<()> {
        write_atomic(
            &Round::path(out),
            &serde_json::to_vec(&Round { step, slot })?,
        )
    }

    /// Removes the round file (the pack has ended, or starts over).
    pub fn remove(out: &Path) -> Result<()> {
        match std::fs::remove_file(Round::path(out)) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            done => {
                done.with_context(|| format!("cannot remove {}", out.join(ROUND_FILE).display()))
            }
        }
    }
}

/// One model's two checkpoint slots.
pub struct Slots {
    slots: [Checkpoint; 2],
    /// The weights file each slot's state.json names ("" when unknown or empty).
    weights_files: [String; 2],
}

impl Slots {
    /// The slots of the model whose run directory is `model_out`.
    pub fn new(model_out: &Path) -> Slots {
        let root = model_out.join(spec::layout::checkpoint::DIR);
        Slots {
            slots: SLOTS.map(|slot| Checkpoint::in_dir(root.join(slot))),
            weights_files: [String::new(), String::new()],
        }
    }

    /// Saves `model` (a view into the pack) and `state` in `slot`. The weights are copied out
    /// of the pack first, so that the file holds this model's tensors and not the whole
    /// pack's storage they are views of.
    pub fn save(&mut self, slot: usize, mut state: State, model: &Mlp) -> Result<()> {
        let own = Mlp {
            layers: model
                .layers
                .iter()
                .map(|layer| Layer {
                    weight: layer.weight.copy(),
                    bias: layer.bias.copy(),
                })
                .collect(),
            activation: model.activation,
        };
        state.weights_file = std::mem::take(&mut self.weights_files[slot]);
        let saved = self.slots[slot].save(&mut state, &own);
        self.weights_files[slot] = state.weights_file;
        saved
    }

    /// The state of `round` with its weights put into `model`, or None when this model has
    /// no checkpoint of that round (it ended before it). Reads only: a refused resume leaves
    /// the directory as it found it ([`Slots::clear_older`] once the resume is certain).
    pub fn load(&mut self, round: Round, model: &mut Mlp) -> Result<Option<State>> {
        let slot = &self.slots[round.slot];
        match slot.saved_step() {
            Some(step) if step == round.step => {}
            // A state there that cannot be read is damage, not absence: load says why.
            None if slot.has_state() => {}
            _ => return Ok(None),
        }
        let state = slot.load(model)?;
        self.weights_files[round.slot] = state.weights_file.clone();
        Ok(Some(state))
    }

    /// Removes the slot older than `round`'s, which the next round overwrites.
    pub fn clear_older(&self, round: Round) -> Result<()> {
        self.slots[1 - round.slot].remove()
    }
}
