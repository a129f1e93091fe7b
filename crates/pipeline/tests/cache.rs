//! Incremental rebuilds with the real binaries: nothing reruns when nothing changed, one figure's
//! parameter reruns that figure and the report only, a train source change makes every run stale
//! and `paper explain` names the file, and figures the profile drops are unpublished.

mod common;

use common::{sha256, sorted, starts, tiny, Sandbox, TINY_STAGES, TINY_TRAINS};

#[test]
fn only_what_changed_reruns_and_the_manifest_says_why() {
    let Some(sb) = Sandbox::new(&tiny()) else {
        return;
    };
    let files = a_cold_run_publishes_every_file(&sb);
    a_size_change_reruns_that_figure_and_the_report(&sb, &files);
    a_train_change_makes_every_run_stale(&sb);
    a_dropped_figure_is_unpublished_and_collected(&sb);
}

/// Builds everything; the manifest maps every published file to its stage, key, inputs, bytes.
fn a_cold_run_publishes_every_file(sb: &Sandbox) -> serde_json::Map<String, serde_json::Value> {
    let first = sb.run();
    assert_eq!(
        starts(&first),
        sorted(&TINY_STAGES),
        "a cold run builds every stage:\n{first}"
    );

    // The manifest maps every published file to its stage, key, inputs and bytes.
    let manifest = sb.manifest();
    let files = manifest["files"].as_object().unwrap();
    for name in [
        "fig5.png",
        "fig5.svg",
        "fig6.png",
        "fig6.svg",
        "fig7.png",
        "fig7.svg",
        "REPORT.md",
    ] {
        assert!(
            files.contains_key(name),
            "{name} not published: {:?}",
            files.keys()
        );
    }
    for (name, file) in files {
        assert_eq!(
            file["sha256"].as_str().unwrap(),
            sha256(&sb.out().join(name)),
            "{name}"
        );
        assert_eq!(file["key"].as_str().unwrap().len(), 64);
    }
    let fig6_inputs = files["fig6.png"]["inputs"].as_object().unwrap();
    assert_eq!(
        sorted(&fig6_inputs.keys().map(String::as_str).collect::<Vec<_>>()),
        sorted(&TINY_TRAINS)
    );
    let report_inputs = files["REPORT.md"]["inputs"].as_object().unwrap();
    assert!(report_inputs.contains_key("render/fig5") && report_inputs.contains_key("render/fig7"));

    // `paper check` recomputes every key without a store: an empty one will do.
    let empty_store = sb.dir.path().join("empty-store");
    let check = common::succeeded(
        "paper check",
        &sb.command_on(&empty_store, ["check", "--out", sb.out().to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert!(check.contains("all 7 stages of profile file:"), "{check}");
    assert!(!empty_store.exists() || common::list(&empty_store).is_empty());

    let second = sb.run_cached(7);
    assert!(
        starts(&second).is_empty(),
        "nothing changed, yet:\n{second}"
    );
    files.clone()
}

fn a_size_change_reruns_that_figure_and_the_report(
    sb: &Sandbox,
    files: &serde_json::Map<String, serde_json::Value>,
) {
    // One figure's size: that figure and the report, which depends on every figure.
    sb.set_profile(&tiny().replace("fig5   = { width = 640", "fig5   = { width = 800"));
    let status = sb.ok_on_profile(&["status"]);
    let stale: Vec<&str> = status
        .lines()
        .filter(|l| {
            ["stale", "missing", "waiting"]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .collect();
    assert_eq!(stale.len(), 2, "{status}");
    assert!(stale[0].starts_with("stale    render/fig5"), "{status}");
    assert!(
        stale[1].starts_with("waiting  render/report") && stale[1].contains("on render/fig5"),
        "{status}"
    );
    let explain = sb.ok_on_profile(&["explain", "fig5.png"]);
    assert!(explain.contains("param width: 640 -> 800"), "{explain}");
    let stale = stale_stages(sb);
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(
        stale[0].starts_with("stale  render/fig5: param width: 640 -> 800"),
        "{stale:?}"
    );
    assert!(
        stale[1].starts_with("stale  render/report: input render/fig5 changed"),
        "{stale:?}"
    );

    let old_fig5 = sha256(&sb.out().join("fig5.png"));
    let old_fig6_key = files["fig6.png"]["key"].clone();
    let third = sb.run();
    assert_eq!(starts(&third), ["render/fig5", "render/report"], "{third}");
    assert_ne!(
        sha256(&sb.out().join("fig5.png")),
        old_fig5,
        "fig5 was re-rendered wider"
    );
    assert_eq!(sb.manifest()["files"]["fig6.png"]["key"], old_fig6_key);
}

fn a_train_change_makes_every_run_stale(sb: &Sandbox) {
    // A change in train's sources changes train's identity: every run goes stale.
    let main_rs = sb.repo().join("crates/train/src/main.rs");
    let source = std::fs::read_to_string(&main_rs).unwrap();
    std::fs::write(&main_rs, source + "\n// a change\n").unwrap();
    let status = sb.ok_on_profile(&["status"]);
    for train in TINY_TRAINS {
        assert!(
            status
                .lines()
                .any(|l| l.starts_with("stale") && l.contains(train)),
            "{status}"
        );
    }
    let explain = sb.ok(["explain", "fig6", "--out", sb.out().to_str().unwrap()]);
    assert!(
        explain.contains("tool train changed: crates/train/src/main.rs modified"),
        "{explain}"
    );
    let stale = stale_stages(sb);
    for train in TINY_TRAINS {
        assert!(
            stale
                .iter()
                .any(|l| l.starts_with(&format!("stale  {train}: tool train changed"))),
            "{stale:?}"
        );
    }
    std::fs::write(
        &main_rs,
        std::fs::read_to_string(&main_rs)
            .unwrap()
            .replace("\n// a change\n", ""),
    )
    .unwrap();
}

/// The lines of a `paper check` that must fail, after checking its one-line error.
fn stale_stages(sb: &Sandbox) -> Vec<String> {
    let (profile, out) = (sb.profile(), sb.out());
    let output = sb.paper([
        "check",
        "--profile-file",
        profile.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("paper: error: ") && stderr.contains("rebuild them with `just paper`"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn a_dropped_figure_is_unpublished_and_collected(sb: &Sandbox) {
    // A figure the profile no longer makes is unpublished; the rest stay.
    sb.set_profile(&tiny().replace("fig5   = { width = 640, height = 480 }\n", ""));
    let fourth = sb.run();
    assert_eq!(starts(&fourth), ["render/report"], "{fourth}");
    assert!(!sb.out().join("fig5.png").exists() && sb.out().join("fig6.png").exists());
    assert!(!sb.manifest()["files"]
        .as_object()
        .unwrap()
        .contains_key("fig5.png"));
    sb.assert_verified();

    // gc drops what the profile no longer reaches: both fig5 renders and the two older reports.
    let gc = sb.ok(["gc", "--profile-file", sb.profile().to_str().unwrap()]);
    assert!(gc.contains("removed 4 entries"), "{gc}");
    sb.run_cached(6);
    sb.assert_verified();
}
