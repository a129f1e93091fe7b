//! A damaged input is refused: a stage that would read a run whose bytes no longer match its
//! `outputs.json` fails with a line naming the entry, and `paper verify` reports it.

mod common;

use common::{tiny, Sandbox};
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_render_refuses_a_tampered_run() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let first = sb.run();
    let manifest = sb.manifest();
    let run_key = manifest["stages"]["train/shapeset-tanh-standard-l5-w32-s0"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first.contains(&run_key[..12]), "{first}");

    // Flip one byte of the run's recording, as a disk error or a stray edit would.
    let run_h5 = sb.store().join(&run_key[..2]).join(&run_key).join("run.h5");
    std::fs::set_permissions(&run_h5, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&run_h5).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&run_h5, bytes).unwrap();

    // fig6 must be redrawn (new size) from that run: it fails, the paper exits non-zero.
    sb.set_profile(&tiny().replace(
        "fig6   = { runs = [\"tanh\", \"tanh-n\"], width = 640",
        "fig6   = { runs = [\"tanh\", \"tanh-n\"], width = 700",
    ));
    let out = sb.paper(sb.run_args());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAILED")).collect();
    assert!(
        failed
            .iter()
            .any(|l| l.starts_with("FAILED  render/fig6: input entry")
                && l.contains(&run_key)
                && l.contains("is damaged (tampered [\"run.h5\"]")),
        "{stdout}"
    );

    // What fig6 was published from stays published, with its record, until it can be redrawn.
    let kept = sb.manifest();
    assert_eq!(kept["files"]["fig6.png"], manifest["files"]["fig6.png"]);
    assert!(sb.out().join("fig6.png").is_file());
    assert!(stdout.contains("kept from earlier runs"), "{stdout}");

    let verify = sb.paper(["verify", "--out", sb.out().to_str().unwrap()]);
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(!verify.status.success(), "{report}");
    assert!(
        report.contains(&format!("damaged {run_key}: tampered [\"run.h5\"]")),
        "{report}"
    );
}
