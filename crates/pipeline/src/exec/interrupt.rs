//! SIGINT, SIGTERM and SIGHUP to `paper`: no further stage starts, and `paper` ends with one
//! line saying so.
//!
//! SIGTERM (`kill <pid>`, `timeout`, `docker stop`) reaches `paper` alone, so it is passed on
//! to every running stage child: a `train` then stops at its next step boundary and keeps
//! its checkpoint. Without this the children would go on writing (the next `paper` stops such
//! orphans, but only when it runs). SIGINT (Ctrl-C) and SIGHUP (a closed terminal) are sent
//! by the terminal to the whole process group, children included, so they are not passed on:
//! a second signal makes `train` exit at once, without its clean stop.

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

/// The signal received, 0 while none was.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// Pids of the stage children running now.
static CHILDREN: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// Installs the handlers (a thread that waits for the signals); call once, before any stage.
pub fn install() -> Result<()> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM, SIGHUP]).context("installing the signal handlers")?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            // Under the lock, so that a child starting now is told exactly once.
            let children = CHILDREN.lock().expect("child list");
            let first_term = signal == SIGTERM && RECEIVED.load(Ordering::SeqCst) != SIGTERM;
            RECEIVED.store(signal, Ordering::SeqCst);
            if first_term {
                children.iter().for_each(|pid| terminate(*pid));
            }
        }
    });
    Ok(())
}

/// The signal that interrupted `paper`, if one did: `SIGTERM`, `SIGINT` or `SIGHUP`.
pub fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        SIGINT => Some("SIGINT"),
        SIGHUP => Some("SIGHUP"),
        _ => Some("SIGTERM"),
    }
}

/// Records a started child; one that starts after a SIGTERM is stopped at once.
pub(super) fn started(pid: u32) {
    let mut children = CHILDREN.lock().expect("child list");
    if RECEIVED.load(Ordering::SeqCst) == SIGTERM {
        terminate(pid);
    }
    children.insert(pid);
}

pub(super) fn ended(pid: u32) {
    CHILDREN.lock().expect("child list").remove(&pid);
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}
