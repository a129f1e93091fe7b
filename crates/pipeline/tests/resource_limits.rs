//! `paper` with its store on a 5 MiB tmpfs, and under a 5 MiB file-size limit, with the real
//! stage binaries: the dataset fits, a 5x1000 run's checkpoint (16 MB) does not. One line on
//! stderr, a non-zero exit, no temp file or build dir left, and a store that `paper verify`
//! finds clean.

mod common;
#[path = "../../spec/tests/common/limits.rs"]
mod limits;

use common::{tiny, Sandbox};

/// The tiny profile at the paper's width: its runs' checkpoints outgrow the disk.
fn wide() -> String {
    let wide = tiny().replace("width = 32\n", "width = 1000\n");
    assert_ne!(wide, tiny(), "the test profiles no longer say `width = 32`");
    wide
}
use limits::{on_both_limits, FIVE_MIB};

#[test]
fn paper_on_a_full_disk_and_past_the_file_size_limit_is_one_line_and_leaves_nothing() {
    let Some(sb) = Sandbox::new(&wide()) else {
        return;
    };
    on_both_limits(FIVE_MIB, |disk| {
        let store = disk.path().join("store");
        let mut command = sb.command_on(&store, sb.run_args());
        let output = disk.assert_fails_cleanly(&mut command, "paper", "FAILED");
        // The stage that met the limit says which it was.
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(disk.limit.error()), "{stdout}");
        // Unlimited now: nothing half-made is left in the store for verify to find.
        let out = sb.out();
        let mut verify = sb.command_on(&store, ["verify", "--out", out.to_str().unwrap()]);
        let verify = verify.output().unwrap();
        let report = String::from_utf8_lossy(&verify.stdout);
        assert!(verify.status.success(), "{report}");
        assert!(report.contains(" 0 damaged; 0 half;"), "{report}");
    });
}
