//! Temp files that must not outlive a killed `shapeset generate` (a 1e8-image file is 100 GB).
//!
//! `store::atomic::AtomicFile` removes its temp file when dropped, which covers errors and
//! panics, but a signal ends the process without running destructors. Writers register
//! their temp file here; the first SIGINT, SIGTERM or SIGHUP removes every registered file,
//! prints one line and exits with 128 + the signal number, as a shell reports it. SIGKILL
//! cannot be caught, so the next write to the same path sweeps the temp files of writers
//! that are gone ([`sweep_stale`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Starts the thread that cleans up on SIGINT, SIGTERM and SIGHUP; `binary` names the
/// one-line message. Call once, early in `main`.
pub fn remove_temp_files_on_signal(binary: &'static str) -> Result<()> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM, SIGHUP]).context("installing the signal handlers")?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let mut paths = REGISTERED.lock().unwrap_or_else(PoisonError::into_inner);
            for path in paths.drain(..) {
                let _ = fs::remove_file(path);
            }
            eprintln!("{binary}: error: interrupted by signal {signal}; temp files removed");
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// A temp file removed on a signal for as long as this guard lives.
pub(crate) struct Registered(PathBuf);

impl Registered {
    pub(crate) fn new(path: &Path) -> Registered {
        let path = path.to_path_buf();
        REGISTERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.clone());
        Registered(path)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut paths = REGISTERED.lock().unwrap_or_else(PoisonError::into_inner);
        paths.retain(|p| *p != self.0);
    }
}

/// Removes the siblings of our own temp file `ours` (`.<name>.tmp-<pid>-<nanos>-<n>-<host>`,
/// see `store::atomic`) that were left by a writer of the same final file on this host whose
/// process is gone ([`store::atomic::writer_gone_here`]; nothing without /proc).
pub(crate) fn sweep_stale(ours: &Path) {
    let (Some(dir), Some(name)) = (ours.parent(), ours.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let Some((prefix, _)) = name.rsplit_once(".tmp-") else {
        return;
    };
    let Ok(entries) = fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for entry in entries.flatten() {
        let other = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = other.strip_prefix(&format!("{prefix}.tmp-")) else {
            continue;
        };
        let gone = store::atomic::writer_gone_here(owner);
        if other != name && gone && store::atomic::is_temp_file_name(&other) {
            let _ = fs::remove_file(entry.path());
        }
    }
}
