//! The real `figures` binary: output contract, skip lines, ignored runs, bad input.

mod common;

use common::Fixture;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

/// HDF5 opens files without close-on-exec, so a child spawned by one test while another test
/// writes a fixture inherits that file and its lock, and the next open fails. Tests that write
/// fixtures or spawn the binary hold this lock.
static HDF5_FILES: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    HDF5_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `figures render --runs <runs> --out <out>` followed by `extra`.
fn render(runs: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_figures"))
        .args(["render", "--runs"])
        .arg(runs)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("the figures binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn renders_from_runs_json_and_skips_what_is_missing() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let paths = common::write_all(
        &dir.path().join("runs"),
        &[
            Fixture::new("shapeset", "tanh", "standard", 5),
            // an interrupted run: ignored, with a line saying so
            Fixture::new("shapeset", "tanh", "normalized", 5)
                .status("failed: interrupted after step 1000"),
        ],
    );
    // runs.json with paths relative to its own directory
    let runs_json = dir.path().join("runs.json");
    std::fs::write(
        &runs_json,
        r#"{"runs": ["runs/run00/run.h5", "runs/run01/run.h5"]}"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = render(
        &runs_json,
        &out,
        &[
            "--only", "fig6", "--only", "fig3", "--only", "table1", "--width", "500", "--height",
            "400",
        ],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.lines().last(), Some(out.to_str().unwrap()));
    assert!(
        stderr.contains(&format!(
            "ignoring {}: status is \"failed: interrupted after step 1000\"",
            paths[1].display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipping fig6: needs run shapeset/tanh/normalized/5 hidden layers"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipping fig3: needs run shapeset/softsign/standard/5 hidden layers"),
        "{stderr}"
    );
    assert!(!out.join("fig6.png").exists() && !out.join("fig3.png").exists());
    assert!(out.join("table1.md").is_file() && out.join("table1.csv").is_file());
    assert!(!out.join("REPORT.md").exists(), "--only limits the outputs");
}

#[test]
fn report_alone_links_figures_and_states_verdicts() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    common::write_all(
        &dir.path().join("runs"),
        &[
            Fixture::new("shapeset", "tanh", "standard", 5),
            Fixture::new("shapeset", "tanh", "normalized", 5),
        ],
    );
    let out = dir.path().join("out");
    let output = render(&dir.path().join("runs"), &out, &["--only", "report"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        report.contains("![fig6](fig6.png)"),
        "links are relative to the report"
    );
    assert!(
        !report.contains("![fig2](fig2.png)"),
        "fig2's run is missing"
    );
    assert!(report.contains("| [fig12](#fig12) | not run at this profile |"));
    assert!(report.contains("- needs run shapeset/sigmoid/standard/4 hidden layers"));
    assert!(report.contains("## Deviations from the paper"));
    assert!(report.contains("Training is shorter than the paper's: at most 3000 updates"));
}

#[test]
fn figures_that_need_no_run_render_from_an_empty_runs_dir() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (runs, out) = (dir.path().join("runs"), dir.path().join("out"));
    std::fs::create_dir_all(&runs).unwrap();
    let output = render(&runs, &out, &["--only", "fig5", "--only", "fig11"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The only line is the skip of the figure that needs runs: an empty source is no news.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "skipping fig11: needs at least one run shapeset/<activation>/<init>/5 hidden layers"
        ),
        "{stderr}"
    );
    assert!(out.join("fig5.png").is_file() && out.join("fig5.svg").is_file());
    assert_eq!(
        text(&output.stdout).lines().last(),
        Some(out.to_str().unwrap())
    );
}

#[test]
fn bad_input_fails_with_one_line() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let missing = dir.path().join("nope");
    let output = render(&missing, &out, &[]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: --runs ") && stderr.contains("cannot read"),
        "{stderr}"
    );

    let bad_json = dir.path().join("runs.json");
    std::fs::write(&bad_json, r#"{"run": []}"#).unwrap();
    let output = render(&bad_json, &out, &[]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("expected JSON {\"runs\""));

    let not_h5 = dir.path().join("runs").join("run.h5");
    std::fs::create_dir_all(not_h5.parent().unwrap()).unwrap();
    std::fs::write(&not_h5, b"not hdf5").unwrap();
    let output = render(&dir.path().join("runs"), &out, &[]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&not_h5.display().to_string()), "{stderr}");
    assert!(
        !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
        "nothing half-written"
    );

    let output = render(Path::new("."), &out, &["--only", "fig99"]);
    assert!(!output.status.success());
}
