//! `paper diff <manifest-a> <manifest-b>`: what changed between two publications, in the terms
//! of DVC's `params diff`/`metrics diff`: stages added or removed, and for each stage whose key
//! changed, why: the parameters that differ, the inputs whose keys differ, a new tool identity
//! (with the source files whose hashes differ). Then the published files whose bytes differ, and
//! the headline metrics: Table 1's test error per (dataset, activation, init, layers), read from
//! the `table1.csv` published beside each manifest.

use crate::manifest::Manifest;
use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// One side of a comparison: a manifest and the metrics published beside it.
pub struct Side {
    pub manifest: Manifest,
    /// Headline metrics: name → value (empty when no table1.csv was published).
    pub metrics: BTreeMap<String, f64>,
}

impl Side {
    /// `path` is a MANIFEST.json or the directory holding it.
    pub fn load(path: &Path) -> Result<Side> {
        let file = if path.is_dir() {
            path.join(crate::manifest::MANIFEST)
        } else {
            path.to_path_buf()
        };
        let bytes =
            std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .with_context(|| format!("bad manifest {}", file.display()))?;
        let table = file.with_file_name("table1.csv");
        let metrics = match std::fs::read_to_string(&table) {
            Ok(text) => table1_metrics(&text)
                .with_context(|| format!("cannot read metrics from {}", table.display()))?,
            Err(_) => BTreeMap::new(),
        };
        Ok(Side { manifest, metrics })
    }
}

/// Headline metrics of a `table1.csv`: `test_error_pct_mean` of each row, named
/// `test error % <dataset>/<activation>/<init>/l<layers>`.
pub fn table1_metrics(csv: &str) -> Result<BTreeMap<String, f64>> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().context("empty table")?.split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("no column {name}"))
    };
    use spec::figure::table1_csv as column;
    let (dataset, activation, init, layers, error) = (
        col(column::DATASET)?,
        col(column::ACTIVATION)?,
        col(column::INIT)?,
        col(column::HIDDEN_LAYERS)?,
        col(column::TEST_ERROR_PCT_MEAN)?,
    );
    let mut metrics = BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let Ok(value) = cell(error).parse::<f64>() else {
            continue; // a row without a measurement (no run)
        };
        let name = format!(
            "test error % {}/{}/{}/l{}",
            cell(dataset),
            cell(activation),
            cell(init),
            cell(layers)
        );
        metrics.insert(name, value);
    }
    Ok(metrics)
}

/// How one stage differs.
#[derive(Debug, Clone, PartialEq)]
pub enum StageDiff {
    Added {
        stage: String,
        key: String,
    },
    Removed {
        stage: String,
        key: String,
    },
    Changed {
        stage: String,
        old_key: String,
        new_key: String,
        /// Parameter → (old, new); `None` where one side lacks it.
        params: BTreeMap<String, (Option<Value>, Option<Value>)>,
        /// Input name → (old key, new key).
        inputs: BTreeMap<String, (Option<String>, Option<String>)>,
        /// (old, new) tool identity, and the source files whose hashes differ.
        tool: Option<ToolDiff>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolDiff {
    pub old: String,
    pub new: String,
    /// Files added, removed or changed between the two identities' hash lists.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diff {
    pub profiles: (String, String),
    pub stages: Vec<StageDiff>,
    /// Published file → (old sha256, new sha256), only where they differ.
    pub files: BTreeMap<String, (Option<String>, Option<String>)>,
    /// Metric → (old, new), only where they differ.
    pub metrics: BTreeMap<String, (Option<f64>, Option<f64>)>,
    /// Stages present on both sides with the same key.
    pub unchanged: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty() && self.files.is_empty() && self.metrics.is_empty()
    }
}

fn changed<K: Ord + Clone, V: PartialEq + Clone>(
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
) -> BTreeMap<K, (Option<V>, Option<V>)> {
    let names: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k), b.get(k));
            (x != y).then(|| (k.clone(), (x.cloned(), y.cloned())))
        })
        .collect()
}

fn as_map(value: &Value) -> BTreeMap<String, Value> {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::Null => BTreeMap::new(),
        other => BTreeMap::from([(String::new(), other.clone())]),
    }
}

/// Compares `a` (old) with `b` (new).
pub fn diff(a: &Side, b: &Side) -> Diff {
    let (ma, mb) = (&a.manifest, &b.manifest);
    let mut out = Diff {
        profiles: (ma.profile.clone(), mb.profile.clone()),
        ..Diff::default()
    };
    let names: BTreeSet<&String> = ma.stages.keys().chain(mb.stages.keys()).collect();
    for name in names {
        match (ma.stages.get(name), mb.stages.get(name)) {
            (Some(x), Some(y)) if x.key == y.key => out.unchanged += 1,
            (Some(x), Some(y)) => {
                let params = changed(&as_map(&x.spec.params), &as_map(&y.spec.params));
                let inputs = changed(&x.spec.inputs, &y.spec.inputs);
                let tool = (x.spec.tool != y.spec.tool).then(|| {
                    let empty = BTreeMap::new();
                    let fa = ma.tools.get(&x.spec.tool).unwrap_or(&empty);
                    let fb = mb.tools.get(&y.spec.tool).unwrap_or(&empty);
                    ToolDiff {
                        old: x.spec.tool.clone(),
                        new: y.spec.tool.clone(),
                        files: changed(fa, fb).into_keys().collect(),
                    }
                });
                out.stages.push(StageDiff::Changed {
                    stage: name.clone(),
                    old_key: x.key.to_string(),
                    new_key: y.key.to_string(),
                    params,
                    inputs,
                    tool,
                });
            }
            (Some(x), None) => out.stages.push(StageDiff::Removed {
                stage: name.clone(),
                key: x.key.to_string(),
            }),
            (None, Some(y)) => out.stages.push(StageDiff::Added {
                stage: name.clone(),
                key: y.key.to_string(),
            }),
            (None, None) => unreachable!(),
        }
    }
    let sha = |m: &Manifest| -> BTreeMap<String, String> {
        m.files
            .iter()
            .map(|(f, p)| (f.clone(), p.sha256.clone()))
            .collect()
    };
    out.files = changed(&sha(ma), &sha(mb));
    out.metrics = changed(&a.metrics, &b.metrics);
    out
}

fn short(key: &str) -> &str {
    &key[..key.len().min(12)]
}

fn show(v: &Option<Value>) -> String {
    v.as_ref().map_or("-".into(), ToString::to_string)
}

fn num(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// The diff as text, one change a line, for a terminal.
pub fn render(d: &Diff) -> String {
    let mut s = String::new();
    if d.profiles.0 != d.profiles.1 {
        let _ = writeln!(s, "profile: {} -> {}", d.profiles.0, d.profiles.1);
    }
    if d.is_empty() {
        let _ = writeln!(
            s,
            "no difference: {} stages with the same keys, same files, same metrics",
            d.unchanged
        );
        return s;
    }
    let _ = writeln!(
        s,
        "stages: {} changed, {} added, {} removed, {} unchanged",
        d.stages
            .iter()
            .filter(|x| matches!(x, StageDiff::Changed { .. }))
            .count(),
        d.stages
            .iter()
            .filter(|x| matches!(x, StageDiff::Added { .. }))
            .count(),
        d.stages
            .iter()
            .filter(|x| matches!(x, StageDiff::Removed { .. }))
            .count(),
        d.unchanged
    );
    for st in &d.stages {
        match st {
            StageDiff::Added { stage, key } => {
                let _ = writeln!(s, "+ {stage}  [key {}]", short(key));
            }
            StageDiff::Removed { stage, key } => {
                let _ = writeln!(s, "- {stage}  [key {}]", short(key));
            }
            StageDiff::Changed {
                stage,
                old_key,
                new_key,
                params,
                inputs,
                tool,
            } => {
                let _ = writeln!(
                    s,
                    "~ {stage}  [key {} -> {}]",
                    short(old_key),
                    short(new_key)
                );
                for (p, (x, y)) in params {
                    let _ = writeln!(s, "    param {p}: {} -> {}", show(x), show(y));
                }
                for (i, (x, y)) in inputs {
                    let k = |v: &Option<String>| v.as_deref().map_or("-", short).to_string();
                    let _ = writeln!(s, "    input {i}: {} -> {}", k(x), k(y));
                }
                if let Some(t) = tool {
                    let _ = writeln!(s, "    tool: {} -> {}", t.old, t.new);
                    for f in &t.files {
                        let _ = writeln!(s, "      file {f}");
                    }
                }
            }
        }
    }
    if !d.files.is_empty() {
        let _ = writeln!(s, "published files: {} differ", d.files.len());
        for (f, (x, y)) in &d.files {
            let h = |v: &Option<String>| v.as_deref().map_or("-", short).to_string();
            let _ = writeln!(s, "    {f}: {} -> {}", h(x), h(y));
        }
    }
    if !d.metrics.is_empty() {
        let _ = writeln!(s, "metrics: {} differ", d.metrics.len());
        for (m, (x, y)) in &d.metrics {
            let delta = match (x, y) {
                (Some(x), Some(y)) => format!("  ({:+.2})", y - x),
                _ => String::new(),
            };
            let _ = writeln!(s, "    {m}: {} -> {}{delta}", num(*x), num(*y));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{PublishedFile, StageKey};
    use serde_json::json;
    use store::KeySpec;

    fn spec(stage: &str, params: Value, inputs: &[(&str, &str)], tool: &str) -> StageKey {
        let spec = KeySpec {
            stage: stage.into(),
            params,
            inputs: inputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            tool: tool.into(),
        };
        StageKey {
            key: spec.key(),
            spec,
        }
    }

    fn side(updates: u64, train_tool: &str, fig_sha: &str, error: &str) -> Side {
        let data = spec(
            "paper/dataset",
            json!({"dataset": "shapeset"}),
            &[],
            "shapeset src=1",
        );
        let train = spec(
            "train",
            json!({"activation": "tanh", "updates": updates, "lr": 0.01}),
            &[("data", "d0")],
            train_tool,
        );
        let train_key = train.key.to_string();
        let fig = spec(
            "render",
            json!({"id": "fig7"}),
            &[("train/t", train_key.as_str())],
            "figures src=1",
        );
        let mut manifest = Manifest {
            profile: "ci".into(),
            ..Manifest::default()
        };
        manifest.files.insert(
            "fig7.png".into(),
            PublishedFile {
                stage: "render/fig7".into(),
                key: fig.key.clone(),
                inputs: BTreeMap::new(),
                sha256: fig_sha.into(),
            },
        );
        manifest.stages.insert("dataset/shapeset".into(), data);
        manifest.stages.insert("train/t".into(), train);
        manifest.stages.insert("render/fig7".into(), fig);
        for (tool, trainer_hash) in [
            ("train src=1 device=cpu", "aaa"),
            ("train src=2 device=cpu", "bbb"),
        ] {
            manifest.tools.insert(
                tool.into(),
                BTreeMap::from([
                    (
                        "crates/train/src/trainer.rs".to_string(),
                        trainer_hash.into(),
                    ),
                    ("Cargo.lock".to_string(), "lock".into()),
                ]),
            );
        }
        let csv = format!(
            "dataset,activation,init,hidden_layers,seeds,updates,test_error_pct_mean\n\
             shapeset,tanh,standard,5,1,{updates},{error}\nmnist,tanh,standard,5,1,{updates},\n"
        );
        Side {
            manifest,
            metrics: table1_metrics(&csv).unwrap(),
        }
    }

    #[test]
    fn identical_manifests_have_no_difference() {
        let a = side(3000, "train src=1 device=cpu", "f1", "68.5");
        let d = diff(&a, &a);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.unchanged, 3);
        assert!(render(&d).starts_with("no difference: 3 stages"));
    }

    #[test]
    fn a_changed_parameter_names_the_parameter_the_rekeyed_input_and_the_metric() {
        let a = side(3000, "train src=1 device=cpu", "f1", "68.5");
        let b = side(6000, "train src=1 device=cpu", "f2", "61.25");
        let d = diff(&a, &b);
        assert_eq!(d.unchanged, 1, "the dataset");
        let StageDiff::Changed {
            params,
            inputs,
            tool,
            ..
        } = &d.stages[1]
        else {
            panic!("{:?}", d.stages)
        };
        assert_eq!(
            params,
            &BTreeMap::from([(
                "updates".to_string(),
                (Some(json!(3000)), Some(json!(6000)))
            )])
        );
        assert!(inputs.is_empty() && tool.is_none());
        // The figure's key changed only because its input (the run) did.
        let StageDiff::Changed {
            stage,
            params,
            inputs,
            ..
        } = &d.stages[0]
        else {
            panic!()
        };
        assert_eq!(stage, "render/fig7");
        assert!(params.is_empty());
        assert_eq!(inputs.len(), 1);
        assert_eq!(
            d.files,
            BTreeMap::from([(
                "fig7.png".to_string(),
                (Some("f1".into()), Some("f2".into()))
            )])
        );
        let metric = "test error % shapeset/tanh/standard/l5";
        assert_eq!(d.metrics[metric], (Some(68.5), Some(61.25)));
        assert_eq!(d.metrics.len(), 1, "the row without a value is no metric");
        let text = render(&d);
        assert!(
            text.contains("stages: 2 changed, 0 added, 0 removed, 1 unchanged"),
            "{text}"
        );
        assert!(text.contains("    param updates: 3000 -> 6000\n"), "{text}");
        assert!(
            text.contains(&format!("    {metric}: 68.50 -> 61.25  (-7.25)\n")),
            "{text}"
        );
    }

    #[test]
    fn a_new_tool_names_the_source_files_that_changed() {
        let a = side(3000, "train src=1 device=cpu", "f1", "68.5");
        let b = side(3000, "train src=2 device=cpu", "f1", "68.5");
        let d = diff(&a, &b);
        let train = d
            .stages
            .iter()
            .find_map(|s| match s {
                StageDiff::Changed {
                    stage,
                    tool,
                    params,
                    ..
                } if stage == "train/t" => {
                    assert!(params.is_empty());
                    tool.clone()
                }
                _ => None,
            })
            .expect("train changed");
        assert_eq!(train.files, vec!["crates/train/src/trainer.rs".to_string()]);
        assert!(render(&d).contains("      file crates/train/src/trainer.rs\n"));
    }

    #[test]
    fn added_and_removed_stages_and_profiles() {
        let a = side(3000, "train src=1 device=cpu", "f1", "68.5");
        let mut b = side(3000, "train src=1 device=cpu", "f1", "68.5");
        b.manifest.profile = "quick".into();
        let moved = b.manifest.stages.remove("train/t").unwrap();
        b.manifest.stages.insert("train/u".into(), moved);
        let d = diff(&a, &b);
        let text = render(&d);
        assert!(text.starts_with("profile: ci -> quick\n"), "{text}");
        assert!(
            text.contains("+ train/u") && text.contains("- train/t"),
            "{text}"
        );
    }

    #[test]
    fn table1_of_the_published_figures_parses() {
        let csv = "dataset,activation,init,hidden_layers,seeds,updates,test_error_pct_mean,test_error_pct_std\n\
                   shapeset,softsign,standard,5,2,20000,74.09,0.01\n";
        let m = table1_metrics(csv).unwrap();
        assert_eq!(m["test error % shapeset/softsign/standard/l5"], 74.09);
        assert!(
            table1_metrics("a,b\n1,2\n").is_err(),
            "no test error column"
        );
    }

    #[test]
    fn a_manifest_and_its_directory_load_alike() {
        let dir = tempfile::tempdir().unwrap();
        let a = side(3000, "train src=1 device=cpu", "f1", "68.5");
        std::fs::write(
            dir.path().join("MANIFEST.json"),
            serde_json::to_vec(&a.manifest).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("table1.csv"),
            "dataset,activation,init,hidden_layers,test_error_pct_mean\nshapeset,tanh,standard,5,68.5\n",
        )
        .unwrap();
        let by_dir = Side::load(dir.path()).unwrap();
        let by_file = Side::load(&dir.path().join("MANIFEST.json")).unwrap();
        assert_eq!(by_dir.metrics, a.metrics);
        assert!(diff(&by_dir, &by_file).is_empty());
        assert!(diff(&a, &by_dir).is_empty());
    }
}
