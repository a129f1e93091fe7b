//! SIGINT, SIGTERM and SIGHUP stop a run at the next step boundary instead of killing it
//! mid-write: the loop sees [`received`], returns an error, and every temp file is removed
//! by its `AtomicFile` guard on the way out, while the last checkpoint stays for
//! `--resume`. A second signal exits at once (128 + the signal), for a run stuck in a long
//! write; what that leaves is swept as stale at the next start (`rundir`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::flag;

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Installs the handlers; call once, before training.
pub fn install() -> Result<()> {
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        // Registered first, so it sees STOP as the previous signal left it.
        flag::register_conditional_shutdown(signal, 128 + signal, &STOP)
            .and_then(|_| flag::register_usize(signal, &SIGNAL, signal as usize))
            .and_then(|_| flag::register(signal, &STOP))
            .context("installing the signal handlers")?;
    }
    Ok(())
}

/// The signal that asked the run to stop, if one did.
pub fn received() -> Option<usize> {
    STOP.load(Ordering::Relaxed)
        .then(|| SIGNAL.load(Ordering::Relaxed))
}

/// The signal's name for messages.
pub fn name(signal: usize) -> String {
    match signal as i32 {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        SIGHUP => "SIGHUP".into(),
        other => format!("signal {other}"),
    }
}
