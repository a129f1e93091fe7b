//! Two `paper` processes on one store and one publish directory: every stage is built once
//! (the store's per-key locks), both succeed, and what they leave verifies.

mod common;

use common::{sha256, sorted, starts, tiny, Sandbox, TINY_STAGES};
use std::process::Stdio;

#[test]
fn two_papers_at_once_build_every_stage_once() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let spawn = || {
        sb.command(sb.run_args())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (out_a, out_b) = (
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout),
    );
    assert!(
        a.status.success() && b.status.success(),
        "A:\n{out_a}\nB:\n{out_b}"
    );

    let mut both = starts(&out_a);
    both.extend(starts(&out_b));
    both.sort();
    assert_eq!(
        both,
        sorted(&TINY_STAGES),
        "each stage started exactly once:\nA:\n{out_a}\nB:\n{out_b}"
    );

    sb.assert_verified();
    let manifest = sb.manifest();
    for (name, file) in manifest["files"].as_object().unwrap() {
        assert_eq!(
            file["sha256"].as_str().unwrap(),
            sha256(&sb.out().join(name)),
            "{name}"
        );
    }
}
