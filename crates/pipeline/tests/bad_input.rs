//! What `paper` does with bad input, table-driven: every case exits non-zero (2 for a usage
//! error, 1 for anything else) with exactly one line on stderr, `paper: error: <what>`, naming
//! the problem, and leaves nothing behind: no store, no work dir, no publish directory.
//!
//! The cases need no stage binary: everything here is refused before a stage could run.

mod common;

use common::{Sandbox, TRAIN_TABLES};
use std::path::PathBuf;

/// A valid profile, edited by each case: the shared tables, a learning rate for tanh alone
/// and one figure.
fn good() -> String {
    format!("description = \"t\"\n{TRAIN_TABLES}[lr]\ntanh = 0.05\n[figures]\nfig6 = {{}}\n")
}

/// (name, profile edit (from, to) or None, extra arguments, exit code, text the line holds).
type Case = (
    &'static str,
    Option<(&'static str, &'static str)>,
    &'static [&'static str],
    i32,
    &'static str,
);

const CASES: [Case; 30] = [
    (
        "unknown flag",
        None,
        &["--bogus"],
        2,
        "unexpected argument '--bogus'",
    ),
    ("unknown subcommand", None, &["frobnicate"], 2, "frobnicate"),
    (
        "unknown profile",
        None,
        &["run", "--profile", "huge"],
        2,
        "invalid value 'huge'",
    ),
    ("jobs 0", None, &["run", "--jobs", "0"], 2, "--jobs"),
    (
        "profile and file",
        None,
        &["run", "--profile", "ci", "--profile-file", "x.toml"],
        2,
        "cannot be used with",
    ),
    (
        "run options before a subcommand",
        None,
        &["--jobs", "2", "status"],
        2,
        "go after the subcommand",
    ),
    (
        "missing profile file",
        None,
        &["run", "--profile-file", "/nonexistent/p.toml"],
        1,
        "cannot read profile /nonexistent/p.toml",
    ),
    (
        "lr nan",
        Some(("tanh = 0.05", "tanh = nan")),
        &[],
        1,
        "[lr] tanh = NaN: a learning rate must be a finite positive number",
    ),
    (
        "lr zero",
        Some(("tanh = 0.05", "tanh = 0.0")),
        &[],
        1,
        "[lr] tanh = 0",
    ),
    (
        "lr negative",
        Some(("tanh = 0.05", "tanh = -0.1")),
        &[],
        1,
        "[lr] tanh = -0.1",
    ),
    (
        "lr infinite",
        Some(("tanh = 0.05", "tanh = inf")),
        &[],
        1,
        "[lr] tanh = inf",
    ),
    (
        "lr missing for a needed run",
        Some(("tanh = 0.05", "relu = 0.05")),
        &[],
        1,
        "fig6 needs run shapeset-tanh-standard-l5, but [lr] has no learning rate for tanh",
    ),
    (
        "updates 0",
        Some(("updates = 300", "updates = 0")),
        &[],
        1,
        "[train] updates must be positive",
    ),
    (
        "width 0",
        Some(("width = 32", "width = 0")),
        &[],
        1,
        "[train] width must be positive",
    ),
    (
        "batch_size 0",
        Some(("batch_size = 10", "batch_size = 0")),
        &[],
        1,
        "[train] batch_size must be positive",
    ),
    (
        "probe_every 0",
        Some(("probe_every = 100", "probe_every = 0")),
        &[],
        1,
        "[train] probe_every must be positive",
    ),
    (
        "width overflows",
        Some(("width = 32", "width = 5000000000000")),
        &[],
        1,
        "overflows",
    ),
    (
        "no seeds",
        Some(("seeds = [0]\n", "")),
        &[],
        1,
        "fig6 needs run shapeset-tanh-standard-l5, but no seeds are given for shapeset",
    ),
    (
        "empty seeds",
        Some(("seeds = [0]", "seeds = []")),
        &[],
        1,
        "no seeds are given",
    ),
    (
        "unknown dataset",
        Some(("shapeset = {}", "svhn = {}")),
        &[],
        1,
        "unknown key \"svhn\" in [datasets]",
    ),
    (
        "unknown figure",
        Some(("fig6 = {}", "fig13 = {}")),
        &[],
        1,
        "unknown key \"fig13\" in [figures]",
    ),
    (
        "figure without its dataset",
        Some(("fig6 = {}", "fig12 = {}")),
        &[],
        1,
        "fig12 draws runs on mnist or cifar10",
    ),
    (
        "old [runs] table",
        Some(("[figures]", "[runs]\na = {}\n[figures]")),
        &[],
        1,
        "unknown field `runs`",
    ),
    (
        "runs listed per figure",
        Some(("fig6 = {}", "fig6 = { runs = [\"a\"] }")),
        &[],
        1,
        "unknown field `runs`",
    ),
    (
        "no figures",
        Some(("fig6 = {}", "")),
        &[],
        1,
        "[figures] names no output",
    ),
    (
        "not TOML",
        Some(("[train]", "[train")),
        &[],
        1,
        "bad profile",
    ),
    (
        "no description",
        Some(("description = \"t\"", "")),
        &[],
        1,
        "missing field `description`",
    ),
    (
        "raw cadence 0",
        Some((
            "probe_every = 100",
            "probe_every = 100\nraw_every_epochs = 0",
        )),
        &[],
        1,
        "raw_every_epochs must be positive",
    ),
    (
        "missing plan",
        None,
        &["run", "--plan", "/nonexistent/plan.json"],
        1,
        "cannot read plan /nonexistent/plan.json",
    ),
    (
        "unknown explain target",
        None,
        &["explain", "fig99"],
        1,
        "\"fig99\" names no stage",
    ),
];

#[test]
fn bad_input_gets_one_line_a_nonzero_exit_and_leaves_nothing() {
    let good = good();
    let sb = Sandbox::with_bins(&good, PathBuf::from("/nonexistent-bins"));
    let mut wrong = Vec::new();
    for (name, edit, extra, code, expected) in CASES {
        let text = match edit {
            Some((from, to)) => {
                assert!(
                    good.contains(from),
                    "{name}: {from:?} is not in the profile"
                );
                good.replacen(from, to, 1)
            }
            None => good.clone(),
        };
        sb.set_profile(&text);
        let mut args: Vec<String> = extra.iter().map(ToString::to_string).collect();
        if edit.is_some() {
            args = sb.run_args();
        } else if args.first().is_some_and(|a| a == "explain") {
            args.extend(["--profile-file".into(), sb.profile().display().to_string()]);
        }
        let out = sb.paper(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let ok = out.status.code() == Some(code)
            && lines.len() == 1
            && lines[0].starts_with("paper: error: ")
            && lines[0].contains(expected);
        if !ok {
            wrong.push(format!(
                "{name}: exit {:?}, stderr {stderr:?}",
                out.status.code()
            ));
        }
        let left: Vec<_> = [sb.store(), sb.out()]
            .into_iter()
            .filter(|p| p.exists())
            .collect();
        if !left.is_empty() {
            wrong.push(format!("{name}: left {left:?}"));
        }
    }
    eprintln!("{} bad-input cases", CASES.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
