//! The run directory `--out`, created only once the inputs have validated, and what a
//! failed run leaves in it.
//!
//! - On start and on `--resume` (before a resume is known to be possible: a killed writer's
//!   files are debris either way), temp files that a killed writer left (`.<name>.tmp-<pid>-…`,
//!   `store::atomic`'s naming) are removed from the run directory and the checkpoint, so a
//!   store entry never seals one.
//! - On failure (an error, a panic or a signal: [`RunDir`] is a drop guard) a whole checkpoint
//!   round (`pack-checkpoint.json` names it) is kept on purpose for `--resume`, and the error
//!   says so; otherwise the checkpoint is removed, and a directory this run created that
//!   holds no `run.h5` is removed whole. Temp files are removed by their own guards.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::checkpoint::Checkpoint;
use crate::pack::checkpoint::{Round, SLOTS};

pub struct RunDir {
    out: PathBuf,
    created: bool,
    finished: bool,
}

impl RunDir {
    /// The run directory: created for a new run, required to exist for `--resume`.
    pub fn open(out: &Path, resume: bool) -> Result<RunDir> {
        let existed = out.is_dir();
        if resume && !existed {
            let missing = anyhow::anyhow!(
                "no checkpoint to resume from: {} does not exist",
                out.display()
            );
            return Err(spec::cli::cannot_resume(&missing));
        }
        fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let dir = RunDir {
            out: out.to_path_buf(),
            created: !existed,
            finished: false,
        };
        let checkpoint = Checkpoint::new(out);
        let slots = SLOTS.map(|slot| checkpoint.dir().join(slot));
        for sub in [out, checkpoint.dir(), &checkpoint.dir().join("raw")] {
            remove_stale_temp_files(sub);
        }
        slots.iter().for_each(|slot| remove_stale_temp_files(slot));
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.out
    }

    /// The run ended as it should (complete, or stopped on purpose by `--stop-after`).
    pub fn finish(mut self) {
        self.finished = true;
    }

    /// What to add to an error: where the kept checkpoint is, if one is kept.
    pub fn kept_note(&self) -> Option<String> {
        let step = saved_step(&self.out)?;
        Some(format!(
            "stopped; the checkpoint of step {step} is kept in {} (continue with --resume)",
            self.out.display()
        ))
    }

    fn clean_up_after_failure(&self) {
        let checkpoint = Checkpoint::new(&self.out);
        if saved_step(&self.out).is_some() {
            return;
        }
        let _ = fs::remove_dir_all(checkpoint.dir());
        if self.created && !self.out.join("run.h5").exists() {
            let _ = fs::remove_dir_all(&self.out);
        }
    }
}

/// The step of the last whole checkpoint round in `out`, if any.
fn saved_step(out: &Path) -> Option<u64> {
    Round::read(out).ok().map(|round| round.step)
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.finished {
            self.clean_up_after_failure();
        }
    }
}

/// Removes the `AtomicFile` temp files in `dir` whose writer is gone: another process on
/// this machine (a pid that no longer runs, or a zombie), or any process when /proc cannot
/// tell.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if store::atomic::is_temp_file_name(&name) && !writer_alive(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether a temp file's writer is a live local process other than this one. A run
/// directory belongs to one writer at a time (the pipeline holds the key's lock), so a temp
/// file there is stale whoever made it, even on another host; only a live local pid is spared.
fn writer_alive(name: &str) -> bool {
    store::atomic::temp_file_writer(name).is_some_and(store::atomic::writer_running_here)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temp_files_go_and_live_or_foreign_names_stay() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        fs::create_dir_all(out.join("checkpoint/raw")).unwrap();
        // pid 4194304 is above Linux's pid_max: no such process.
        let dead = ".run.h5.tmp-4194304-1700000000-0-0123abcd";
        // A name without a host tag is judged as local.
        let live = ".run.h5.tmp-1-1700000000-0";
        let files = [
            out.join(dead),
            out.join("checkpoint").join(".state.json.tmp-4194304-1-2"),
            out.join("checkpoint/raw")
                .join(".step0.ot.tmp-4194304-1-2-0123abcd"),
            out.join(live),
            out.join("run.h5"),
            out.join(".hidden"),
        ];
        for file in &files {
            fs::write(file, b"x").unwrap();
        }
        let run = RunDir::open(&out, true).unwrap();
        let left: Vec<bool> = files.iter().map(|f| f.exists()).collect();
        // pid 1 (init) runs wherever /proc is mounted.
        assert_eq!(left, [false, false, false, true, true, true]);
        run.finish();
    }

    #[test]
    fn a_failed_new_run_leaves_no_directory_and_resume_needs_one() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new");
        let run = RunDir::open(&out, false).unwrap();
        fs::create_dir_all(out.join("checkpoint/raw")).unwrap();
        fs::write(out.join("config.json"), b"{}").unwrap();
        assert!(run.kept_note().is_none());
        drop(run);
        assert!(!out.exists());
        let err = RunDir::open(&out, true).err().unwrap();
        assert!(format!("{err:#}").contains("no checkpoint"), "{err:#}");
        assert!(!out.exists());
    }
}
