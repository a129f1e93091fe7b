//! A `paper` killed with SIGKILL leaves no entry that looks complete but is not; the next
//! `paper` resumes (a run from its checkpoint) and finishes, the store verifies, and nothing is
//! left over. Three points: a random one (drawn from PAPER_KILL_SEED when set, else from the
//! clock, and printed), the middle of a run.h5 write (paper and train killed together), and
//! the middle of publishing.

mod common;

use common::{fake, list, starts, tiny, Sandbox};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    let seen = lines_until(&mut paper, |seen| {
        seen.last().unwrap().starts_with("start")
            && starts(&seen.join("\n")).len() as u64 == after_starts
    });
    std::thread::sleep(delay);
    paper.kill().unwrap(); // SIGKILL: no chance to clean up
    paper.wait().unwrap();
    eprintln!("killed after:\n{}", seen.join("\n"));

    finished_without_orphans(&sb);
}

/// The lines `paper` prints, read until `stop` holds for those read so far (or the output ends).
fn lines_until(paper: &mut Child, stop: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    for line in BufReader::new(paper.stdout.take().unwrap()).lines() {
        seen.push(line.unwrap());
        if stop(&seen) {
            break;
        }
    }
    seen
}

/// The next paper finishes; then the store verifies, no entry holds an unfinished temp file,
/// nothing is left over and a third paper has nothing to do.
fn finished_without_orphans(sb: &Sandbox) {
    // Before the rerun: nothing looks complete that is not (stale temp dirs are allowed).
    let verify = sb.ok(["verify", "--out", sb.out().to_str().unwrap()]);
    assert!(verify.contains(" 0 damaged; 0 half;"), "{verify}");
    let rerun = sb.run();
    eprintln!("rerun:\n{rerun}");
    sb.assert_verified();
    assert!(sb.orphans().is_empty(), "left behind: {:?}", sb.orphans());
    let sealed_temp: Vec<PathBuf> = entry_files(&sb.store())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(
        sealed_temp.is_empty(),
        "temp files sealed into entries: {sealed_temp:?}"
    );
    let again = sb.run();
    assert!(
        again.lines().last().unwrap().starts_with("nothing to do"),
        "{again}"
    );
}

/// Every file under the store's entries (`<shard>/<key>/...`).
fn entry_files(store: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo: Vec<PathBuf> = list(store)
        .into_iter()
        .filter(|p| p.file_name().unwrap().len() == 2)
        .collect();
    while let Some(dir) = todo.pop() {
        for path in list(&dir) {
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// SIGKILL to `paper` and everything it started (its process group), as a crash would.
fn kill_group(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `paper args` in its own process group, polls `caught` every `every` until it finds
/// something (or paper ends, or 5 minutes pass), then SIGKILLs the group; what was found.
fn kill_when<T>(
    sb: &Sandbox,
    args: &[String],
    every: Duration,
    caught: impl Fn() -> Option<T>,
) -> Option<T> {
    let mut paper = sb
        .command(args)
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut found = None;
    while found.is_none() && Instant::now() < deadline {
        found = caught();
        if paper.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(every);
    }
    kill_group(paper.id());
    paper.wait().unwrap();
    found
}

#[test]
fn a_kill_during_the_run_h5_write_leaves_no_orphan() {
    // Many probes, so that run.h5 is rewritten often while the runs train.
    let profile = tiny()
        .replace("updates = 300", "updates = 3000")
        .replace("probe_every = 100", "probe_every = 20");
    let Some(sb) = Sandbox::new(&profile) else {
        return;
    };
    let work = sb.store().join("work");
    let caught = kill_when(&sb, &sb.run_args(), Duration::from_micros(200), || {
        list(&work).iter().flat_map(|dir| list(dir)).find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".run.h5.tmp-")
        })
    });
    let caught = caught.expect("no run.h5 write was caught in flight");
    eprintln!("killed while {} was being written", caught.display());
    finished_without_orphans(&sb);
}

#[test]
fn a_kill_during_publish_leaves_no_orphan() {
    let sb = fake::sandbox(&tiny());
    sb.run();
    // Another size for every render: publishing has files to replace.
    sb.set_profile(&tiny().replace("width = 640", "width = 700"));
    let mut paper = sb
        .command(sb.run_args())
        .env("PAPER_FAILPOINT", "publish-commit")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let seen = lines_until(&mut paper, |seen| {
        seen.last().unwrap().starts_with("failpoint publish-commit")
    });
    assert!(seen.last().unwrap().starts_with("failpoint"), "{seen:?}");
    let staging: Vec<PathBuf> = list(&sb.out())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".publish-")
        })
        .collect();
    assert_eq!(staging.len(), 1, "publishing stages its copies first");
    paper.kill().unwrap();
    paper.wait().unwrap();
    finished_without_orphans(&sb);
}

/// `kill <paper>` (SIGTERM to paper alone): the running runs are told to stop (train's own
/// tests show that a stopped run keeps its checkpoint), nothing else starts, paper says so in
/// one line, no stage process is left behind, and the next paper finishes.
#[test]
fn a_sigterm_to_paper_stops_its_runs_and_the_next_paper_finishes() {
    let Some(sb) = Sandbox::new(&tiny().replace("updates = 300", "updates = 3000")) else {
        return;
    };
    let mut paper = sb
        .command(sb.run_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stdout to its end in a thread: paper must never write into a closed pipe.
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = paper.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines_tx.send(line.unwrap());
        }
    });
    let first = lines
        .iter()
        .find(|l| l.starts_with("start   train/"))
        .expect("a training run starts");
    // Long enough for train to have installed its signal handlers.
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("kill")
        .args(["-TERM", &paper.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = paper.wait_with_output().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = lines.iter().collect();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{first}\n{rest:?}\n{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("paper: error: interrupted by SIGTERM: no stage was started after it"),
        "{stderr}"
    );
    assert!(
        rest.iter()
            .any(|l| l.contains("not started: paper was interrupted by SIGTERM")),
        "{rest:?}"
    );
    let store = sb.store().to_string_lossy().into_owned();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&store))
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
    sb.run();
    sb.assert_verified();
}

/// A paper killed (with its train-pack) while a pack of two trains leaves the models'
/// checkpoints in the pack's work directory; the next paper resumes the pack from them, not
/// from zero, and finishes with nothing left over.
#[test]
fn a_killed_pack_resumes_from_its_checkpoints() {
    let Some(sb) = Sandbox::new(&tiny().replace("updates = 300", "updates = 3000")) else {
        return;
    };
    let mut args = sb.run_args();
    args.extend(["--pack-size".into(), "2".into()]);
    let work = sb.store().join("work");
    let checkpointed = kill_when(&sb, &args, Duration::from_millis(20), || {
        pack_checkpoint_step(&work).filter(|&step| step >= 1000)
    });
    let step = checkpointed.expect("no pack checkpoint of step 1000 or later was caught");
    eprintln!("killed with both models checkpointed at step {step} or later");

    let rerun = sb.ok(&args);
    assert!(rerun.contains("in a pack of 2, resuming"), "{rerun}");
    assert!(!rerun.contains("cannot resume"), "{rerun}");
    let resumed_from: u64 = rerun
        .split("from their checkpoints of step ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("train-pack did not say where it resumed:\n{rerun}"));
    assert!(
        resumed_from >= step,
        "resumed from {resumed_from}, not {step}"
    );
    sb.assert_verified();
    assert!(sb.orphans().is_empty(), "left behind: {:?}", sb.orphans());
}

/// The step of the last checkpoint round every model of the pack in `work` finished.
fn pack_checkpoint_step(work: &Path) -> Option<u64> {
    let pack = list(work)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "pack"))?;
    let round = std::fs::read(pack.join("runs/pack-checkpoint.json")).ok()?;
    let round: serde_json::Value = serde_json::from_slice(&round).ok()?;
    round["step"].as_u64()
}
