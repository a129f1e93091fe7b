//! The README's verdict table says what the published REPORT.md says: every row that links
//! a REPORT item (`[fig6](figures/REPORT.md#fig6)`) carries that item's verdict word for word,
//! and every item of REPORT.md has a row. Run on the committed files.

use std::collections::BTreeMap;
use std::path::Path;

/// `item -> verdict` from REPORT.md's summary table (`| [fig6](#fig6) | reproduced |`).
fn report_verdicts(report: &str) -> BTreeMap<String, String> {
    report
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("| [")?;
            let (item, rest) = rest.split_once("](#")?;
            let (_, verdict) = rest.split_once(") | ")?;
            Some((item.to_string(), verdict.trim_end_matches(" |").to_string()))
        })
        .collect()
}

/// `item -> verdict` from README rows whose first cell links `figures/REPORT.md#<item>`;
/// the verdict is the row's last cell.
fn readme_verdicts(readme: &str) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for line in readme.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let Some(link) = cells[0].split("(figures/REPORT.md#").nth(1) else {
            continue;
        };
        let item = link.split(')').next().unwrap_or_default();
        rows.insert(item.to_string(), cells.last().unwrap().to_string());
    }
    rows
}

#[test]
fn the_readme_verdicts_are_the_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let report = std::fs::read_to_string(root.join("figures/REPORT.md")).unwrap();
    let (ours, theirs) = (readme_verdicts(&readme), report_verdicts(&report));
    assert!(theirs.len() >= 14, "REPORT.md lists {theirs:?}");
    assert_eq!(
        ours, theirs,
        "README.md's verdict table (left) disagrees with figures/REPORT.md (right)"
    );
}

#[test]
fn a_changed_verdict_is_caught() {
    let report = "| [fig3](#fig3) | not reproduced |\n| [fig6](#fig6) | reproduced |\n";
    let readme = "| [Fig 3](figures/REPORT.md#fig3): tanh saturates | p98 | reproduced |\n\
                  | [Fig 6](figures/REPORT.md#fig6): shrink | std ratio | reproduced |\n";
    assert_ne!(readme_verdicts(readme), report_verdicts(report));
    let fixed = readme.replacen("| reproduced |", "| not reproduced |", 1);
    assert_eq!(readme_verdicts(&fixed), report_verdicts(report));
    // A REPORT item with no README row is caught too.
    assert_ne!(
        readme_verdicts(&fixed),
        report_verdicts(&format!("{report}| [fig7](#fig7) | reproduced |\n"))
    );
}

/// What the published REPORT.md says of the protocol agrees with the profile it was built
/// from (named in figures/MANIFEST.json): learning rates selected only when the profile has a
/// `[select]` table, fixed only when it has an `[lr]` one, and the trial length it states.
#[test]
fn the_report_agrees_with_its_profile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = std::fs::read_to_string(root.join("figures/MANIFEST.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let name = manifest["profile"].as_str().unwrap();
    let profile_path = root.join(format!("crates/pipeline/profiles/{name}.toml"));
    let profile = std::fs::read_to_string(&profile_path).unwrap();
    let report = std::fs::read_to_string(root.join("figures/REPORT.md")).unwrap();
    let deviations = report.split("## Deviations from the paper").nth(1).unwrap();
    let selects = profile.lines().any(|l| l.trim() == "[select]");
    let fixes = profile.lines().any(|l| l.trim() == "[lr]");
    assert_eq!(
        deviations.contains("chosen on validation error"),
        selects,
        "{name}: [select] {selects}, REPORT: {deviations}"
    );
    assert_eq!(
        deviations.contains("fixed by the profile"),
        fixes,
        "{name}: [lr] {fixes}, REPORT: {deviations}"
    );
    if selects {
        let updates = profile
            .split("[select]")
            .nth(1)
            .and_then(|t| t.lines().find(|l| l.trim_start().starts_with("updates")))
            .and_then(|l| l.split('=').nth(1))
            .map(|v| v.trim().replace('_', ""))
            .unwrap();
        assert!(
            deviations.contains(&format!("trials of [{updates}] updates")),
            "{name}: trials of {updates} updates, REPORT: {deviations}"
        );
    }
}
