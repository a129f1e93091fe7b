//! A `paper` killed with SIGKILL at a random point leaves no entry that looks complete but is
//! not; the next `paper` resumes (a run from its checkpoint) and finishes, and the store verifies.
//! The point is drawn from PAPER_KILL_SEED when set, else from the clock, and printed.

mod common;

use common::{starts, tiny, Sandbox};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// SplitMix64: a few random numbers from one printed seed.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn a_killed_paper_is_finished_by_the_next_one() {
    // Longer runs, so that a kill often lands inside training.
    let Some(sb) = Sandbox::new(&tiny().replace("updates = 300", "updates = 3000")) else {
        return;
    };
    let mut seed = std::env::var("PAPER_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("PAPER_KILL_SEED={seed}");
    let after_starts = 1 + next(&mut seed) % 4;
    let delay = Duration::from_millis(next(&mut seed) % 2000);
    eprintln!("SIGKILL {delay:?} after start line {after_starts}");

    let mut paper = sb
        .command(sb.run_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(paper.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let is_start = line.starts_with("start");
        seen.push(line);
        if is_start && starts(&seen.join("\n")).len() as u64 == after_starts {
            break;
        }
    }
    std::thread::sleep(delay);
    paper.kill().unwrap(); // SIGKILL: no chance to clean up
    paper.wait().unwrap();
    eprintln!("killed after:\n{}", seen.join("\n"));

    sb.assert_verified();
    let rerun = sb.run();
    eprintln!("rerun:\n{rerun}");
    sb.assert_verified();
    let work = sb.store().join("work");
    let leftovers: Vec<_> = std::fs::read_dir(&work)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "work dirs left behind: {leftovers:?}");
    let again = sb.run();
    assert!(
        again.lines().last().unwrap().starts_with("nothing to do"),
        "{again}"
    );
}
