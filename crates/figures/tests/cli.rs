//! The real `figures` binary: the output contract, skip lines, ignored runs, and a table of
//! bad inputs, each asserting the exit code, the exact stderr lines and no leftovers.

mod common;

use common::Fixture;
use spec::Activation::{Sigmoid, Tanh};
use spec::Init::{Normalized, Standard};
use std::path::{Path, PathBuf};
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

/// Runs `figures render --runs <runs> --out <out>` followed by `extra`, without
/// `RUST_BACKTRACE`, which would turn one-line errors into full traces.
fn render(runs: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_figures"))
        .env_remove("RUST_BACKTRACE")
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

/// Files in `out` that are not finished outputs (temp files, scratch dirs).
fn leftovers(out: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ![".png", ".svg", ".md", ".csv"]
                .iter()
                .any(|ext| n.ends_with(ext))
        })
        .collect()
}

#[test]
fn renders_everything_it_can_and_skips_the_rest_with_a_line() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let paths = common::write_all(
        &dir.path().join("runs"),
        &[
            Fixture::shapeset(Tanh, Standard),
            // an interrupted run: ignored, with a line saying so
            Fixture::shapeset(Tanh, Normalized).status("failed: interrupted after step 1000"),
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
    let output = render(&runs_json, &out, &["--width", "500", "--height", "400"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.lines().last(), Some(out.to_str().unwrap()));
    assert!(stdout.contains("table1: table1.md table1.csv"), "{stdout}");
    let ignored = format!(
        "ignoring {}: status is \"failed: interrupted after step 1000\", not \"complete\"",
        paths[1].display()
    );
    assert!(stderr.lines().any(|l| l == ignored), "{stderr}");
    assert!(
        stderr.contains("skipping fig6: needs run shapeset-tanh-normalized-l5\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipping fig3: needs run shapeset-softsign-standard-l5\n"),
        "{stderr}"
    );
    assert!(!out.join("fig6.png").exists() && !out.join("fig3.png").exists());
    for made in [
        "fig1.png",
        "fig5.svg",
        "fig11.png",
        "table1.md",
        "table1.csv",
        "REPORT.md",
    ] {
        assert!(out.join(made).is_file(), "{made}");
    }
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
}

#[test]
fn report_alone_links_figures_and_states_verdicts() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    common::write_all(
        &dir.path().join("runs"),
        &[
            Fixture::shapeset(Tanh, Standard),
            Fixture::shapeset(Tanh, Normalized),
        ],
    );
    let out = dir.path().join("out");
    let output = render(&dir.path().join("runs"), &out, &["--only", "report"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "", "the report needs no run: no line");
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
    assert!(report.contains("| [ext-he](#ext-he) | not run at this profile (beyond the paper) |"));
    assert!(report.contains("## ext-he (beyond the paper)"));
    assert!(report.contains("- needs run shapeset-sigmoid-standard-l4"));
    assert!(report.contains("Judged on the runs of [fig7](#fig7)."));
    assert!(report.contains("## Deviations from the paper"));
    assert!(report.contains(
        "Shapeset-3x2: training is shorter than the paper's: at most 3000 updates per run vs 2500000"
    ));
    // No trials: every rate was fixed, and the deviations say so (not "chosen").
    assert!(report.contains("were fixed by the profile, not tuned on validation error"));
    assert!(!report.contains("chosen on validation error after"));
    // The rates are listed apart from the verdicts: no trials here, so fixed.
    assert!(!report.contains("| [lr-select]"));
    assert!(report.contains("No learning-rate trials: the profile fixed every rate."));
    assert!(report.contains("| shapeset-tanh-normalized-l5 | 0.01 | fixed by the profile | – |"));
}

#[test]
fn figures_that_need_no_run_render_from_an_empty_runs_dir() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (runs, out) = (dir.path().join("runs"), dir.path().join("out"));
    std::fs::create_dir_all(&runs).unwrap();
    let output = render(&runs, &out, &["--only", "fig5", "--only", "report"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "", "an empty source is no news");
    assert!(out.join("fig5.png").is_file() && out.join("fig5.svg").is_file());
    assert!(out.join("REPORT.md").is_file());
    assert_eq!(
        text(&output.stdout).lines().last(),
        Some(out.to_str().unwrap())
    );
}

/// One bad input: how it is set up, and what the binary must answer.
struct Case {
    name: &'static str,
    /// Builds the input under the case's directory; returns `--runs` and the extra flags.
    setup: fn(&Path) -> (PathBuf, Vec<String>),
    code: i32,
    /// Each stderr line, in order, as substrings it must contain.
    stderr: &'static [&'static [&'static str]],
    /// Files that must be in `--out` afterwards (empty: `--out` must not exist).
    made: &'static [&'static str],
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// A tanh standard/normalized pair in `<dir>/runs`: enough for Figs 6-9.
fn tanh_pair(dir: &Path) -> PathBuf {
    let runs = dir.join("runs");
    common::write_all(
        &runs,
        &[
            Fixture::shapeset(Tanh, Standard),
            Fixture::shapeset(Tanh, Normalized),
        ],
    );
    runs
}

const CASES: &[Case] = &[
    Case {
        name: "--runs does not exist",
        setup: |d| (d.join("nope"), vec![]),
        code: 1,
        stderr: &[&["figures: error: --runs ", "nope: cannot read"]],
        made: &[],
    },
    Case {
        name: "runs.json of the wrong shape",
        setup: |d| {
            std::fs::write(d.join("runs.json"), r#"{"run": []}"#).unwrap();
            (d.join("runs.json"), vec![])
        },
        code: 1,
        stderr: &[&["figures: error: ", "expected JSON {\"runs\""]],
        made: &[],
    },
    Case {
        name: "runs.json is not JSON",
        setup: |d| {
            std::fs::write(d.join("runs.json"), "run.h5\n").unwrap();
            (d.join("runs.json"), vec![])
        },
        code: 1,
        stderr: &[&["figures: error: ", "expected JSON {\"runs\""]],
        made: &[],
    },
    Case {
        name: "unknown figure id",
        setup: |d| (d.to_path_buf(), args(&["--only", "fig99"])),
        code: 2,
        stderr: &[&["figures: error: invalid value 'fig99' for '--only <ONLY>'", "ext-he"]],
        made: &[],
    },
    Case {
        name: "width out of range",
        setup: |d| (d.to_path_buf(), args(&["--width", "10"])),
        code: 2,
        stderr: &[&["figures: error: invalid value '10' for '--width <WIDTH>'"]],
        made: &[],
    },
    Case {
        name: "unknown flag",
        setup: |d| (d.to_path_buf(), args(&["--bogus"])),
        code: 2,
        stderr: &[&["figures: error: unexpected argument '--bogus'"]],
        made: &[],
    },
    Case {
        name: "--only fig6 with no runs",
        setup: |d| {
            std::fs::create_dir(d.join("runs")).unwrap();
            (d.join("runs"), args(&["--only", "fig6"]))
        },
        code: 1,
        stderr: &[&["figures: error: cannot make fig6: needs run shapeset-tanh-standard-l5 and run shapeset-tanh-normalized-l5"]],
        made: &[],
    },
    Case {
        name: "--only two figures, one drawable",
        setup: |d| (tanh_pair(d), args(&["--only", "fig6", "--only", "fig2"])),
        code: 1,
        stderr: &[&["figures: error: cannot make fig2: needs run shapeset-sigmoid-standard-l4"]],
        made: &[],
    },
    Case {
        name: "a run.h5 that is not HDF5",
        setup: |d| {
            std::fs::create_dir_all(d.join("runs/bad")).unwrap();
            std::fs::write(d.join("runs/bad/run.h5"), b"not hdf5").unwrap();
            (d.join("runs"), args(&["--only", "fig6"]))
        },
        code: 1,
        stderr: &[&["ignoring ", "bad/run.h5: "], &["figures: error: cannot make fig6: needs run"]],
        made: &[],
    },
    Case {
        name: "a truncated run.h5 among good ones",
        setup: |d| {
            let runs = tanh_pair(d);
            let bad = Fixture::shapeset(Tanh, Normalized).seed(1).write(&runs.join("truncated"));
            let bytes = std::fs::read(&bad).unwrap();
            std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
            (runs, args(&["--only", "fig6", "--only", "fig9"]))
        },
        code: 0,
        stderr: &[&["ignoring ", "truncated/run.h5: "]],
        made: &["fig6.png", "fig6.svg", "fig9.png", "fig9.svg"],
    },
    Case {
        name: "a config this build does not know",
        setup: |d| {
            let runs = tanh_pair(d);
            let config = serde_json::to_string(&Fixture::shapeset(Sigmoid, Standard).config()).unwrap();
            let config = config.replace("\"sigmoid\"", "\"gelu\"");
            Fixture::shapeset(Sigmoid, Standard).write_with_config(&runs.join("gelu"), &config);
            (runs, args(&["--only", "fig6"]))
        },
        code: 0,
        stderr: &[&["ignoring ", "gelu/run.h5: invalid config attribute: unknown variant `gelu`"]],
        made: &["fig6.png", "fig6.svg"],
    },
    Case {
        name: "an interrupted run is all a figure has",
        setup: |d| {
            let runs = d.join("runs");
            Fixture::shapeset(Tanh, Standard).write(&runs.join("a"));
            Fixture::shapeset(Tanh, Normalized).status("failed: interrupted after step 1000").write(&runs.join("b"));
            (runs, args(&["--only", "fig7"]))
        },
        code: 1,
        stderr: &[
            &["ignoring ", "b/run.h5: status is \"failed: interrupted after step 1000\""],
            &["figures: error: cannot make fig7: needs run shapeset-tanh-normalized-l5"],
        ],
        made: &[],
    },
    Case {
        name: "runs.json names a missing file",
        setup: |d| {
            std::fs::write(d.join("runs.json"), r#"{"runs": ["gone/run.h5"]}"#).unwrap();
            (d.join("runs.json"), args(&["--only", "report"]))
        },
        code: 0,
        stderr: &[&["ignoring ", "gone/run.h5: "]],
        made: &["REPORT.md"],
    },
    Case {
        name: "two runs of one seed",
        setup: |d| {
            let runs = tanh_pair(d);
            Fixture::shapeset(Tanh, Standard).write(&runs.join("copy"));
            (runs, args(&["--only", "fig8"]))
        },
        code: 0,
        stderr: &[&["ignoring ", "seed 0 of shapeset-tanh-standard-l5 already read from"]],
        made: &["fig8.png", "fig8.svg"],
    },
    Case {
        name: "--only lr-select without trials",
        setup: |d| (tanh_pair(d), args(&["--only", "lr-select"])),
        code: 1,
        stderr: &[&["figures: error: cannot make lr-select: needs learning-rate trials"]],
        made: &[],
    },
    Case {
        name: "--out is a file",
        setup: |d| {
            std::fs::create_dir(d.join("runs")).unwrap();
            std::fs::write(d.join("out"), "").unwrap();
            (d.join("runs"), args(&["--only", "fig5"]))
        },
        code: 1,
        stderr: &[&["figures: error: --out ", "out: cannot create"]],
        made: &[],
    },
];

#[test]
fn bad_input_gets_one_line_the_right_code_and_no_leftovers() {
    let _serial = serial();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let (runs, extra) = (case.setup)(dir.path());
        let out = dir.path().join("out");
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let output = render(&runs, &out, &extra);
        let stderr = text(&output.stderr);
        let name = case.name;
        assert_eq!(output.status.code(), Some(case.code), "{name}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), case.stderr.len(), "{name}: {stderr}");
        for (line, parts) in lines.iter().zip(case.stderr) {
            for part in *parts {
                assert!(line.contains(part), "{name}: {line:?} lacks {part:?}");
            }
        }
        if case.made.is_empty() {
            assert!(!out.is_dir(), "{name}: --out was created");
        }
        for file in case.made {
            assert!(out.join(file).is_file(), "{name}: {file} missing");
        }
        assert!(leftovers(&out).is_empty(), "{name}: {:?}", leftovers(&out));
    }
    assert_eq!(CASES.len(), 16);
}
