//! The DAG: dataset stages, then one training stage per run and seed (after its configuration's
//! learning-rate trials and selection, where the profile selects rates), then one render stage
//! per output, the report last. A plan is plain data (it can be saved and run elsewhere, as
//! `paper slurm` does); keys are derived from it once the inputs' keys are known.

use crate::profile::{Output, Profile};
use crate::tool::ToolId;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use spec::{Dataset, FigureId, RunParams, Selector};
use std::collections::BTreeMap;
use std::path::Path;
use store::{Key, KeySpec};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Kind {
    /// `fetch <dataset>` or `shapeset dataset`: makes the dataset entry, whose key it prints.
    Dataset { dataset: Dataset },
    /// `train`, on `device` (`cpu` or `cuda`).
    Train {
        run: RunParams,
        device: String,
        #[serde(default)]
        lr: Lr,
        /// The pack this run trains in (`train-pack`), named by its first member's stage
        /// index; none: alone (`train`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pack: Option<usize>,
    },
    /// Learning-rate selection over the trials it reads ([`spec::selection::choose`]), run by
    /// `paper` itself; writes `selection.json`.
    Select { selector: Selector, updates: u64 },
    /// `figures render --only <id>`.
    Render {
        id: FigureId,
        width: Option<u32>,
        height: Option<u32>,
    },
}

/// Where a training run's learning rate comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lr {
    /// `run.lr`, fixed by the profile.
    #[default]
    Fixed,
    /// `run.lr` is a grid point of a learning-rate trial.
    Trial,
    /// Chosen by the select stage the run reads (its second dependency); `run.lr` is only
    /// a placeholder, never keyed nor passed to `train`.
    Selected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Unique in the plan: `dataset/<name>`, `train/<RunParams::name()>`, `render/<figure id>`.
    pub name: String,
    pub kind: Kind,
    /// Indices of the stages this one reads, all earlier in the plan.
    pub deps: Vec<usize>,
    /// The binary that runs the stage (a key of [`Plan::tools`]).
    pub tool: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// `ci`, `quick`, `full` or `file:<path>`.
    pub profile: String,
    /// The profile's description.
    pub description: String,
    /// In dependency order: every stage comes after the stages it reads.
    pub stages: Vec<Stage>,
    pub tools: BTreeMap<String, ToolId>,
}

/// What a stage left in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StageResult {
    /// The stage's own key.
    pub key: Key,
    /// The key of the entry that holds the stage's output: the stage's key, except for dataset
    /// stages, whose output is the entry the dataset binary made.
    pub output_key: Key,
    /// The primary output: `dataset.h5`, `run.h5`, or a render's directory.
    pub output: std::path::PathBuf,
}

/// The inputs a stage is keyed on, given what its dependencies produced; or why it cannot run.
pub type Inputs = std::result::Result<BTreeMap<String, String>, String>;

/// The stage name of a training run.
pub fn train_stage(run: &RunParams) -> String {
    format!("train/{}", run.name())
}

/// The stage name of a learning-rate trial.
pub fn trial_stage(run: &RunParams) -> String {
    format!("trial/{}-lr{}", run.name(), run.lr)
}

/// The stage name of a configuration's learning-rate selection.
pub fn select_stage(selector: Selector) -> String {
    format!("select/{selector}")
}

/// The binary that makes a dataset.
pub fn dataset_tool(dataset: Dataset) -> &'static str {
    if dataset.is_downloaded() {
        "fetch"
    } else {
        "shapeset"
    }
}

impl Plan {
    pub fn build(
        profile: &Profile,
        label: &str,
        tools: BTreeMap<String, ToolId>,
        device: &str,
    ) -> Result<Plan> {
        let mut plan = Plan {
            profile: label.to_string(),
            description: profile.description.clone(),
            stages: Vec::new(),
            tools,
        };
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let outputs = profile.outputs()?;
        let runs = profile.runs()?;
        let mut datasets: Vec<Dataset> = runs.iter().map(|r| r.dataset).collect();
        datasets.sort();
        datasets.dedup();
        for dataset in datasets {
            let kind = Kind::Dataset { dataset };
            let tool = dataset_tool(dataset);
            plan.push(&mut index, format!("dataset/{dataset}"), kind, vec![], tool);
        }
        let device = device_flag(device);
        for run in runs {
            let dataset = index[&format!("dataset/{}", run.dataset)];
            let mut deps = vec![dataset];
            let mut lr = Lr::Fixed;
            if profile.selects(&run) {
                deps.push(plan.push_selection(&mut index, profile, &run, dataset, device));
                lr = Lr::Selected;
            }
            let name = train_stage(&run);
            let kind = Kind::Train {
                run,
                device: device.into(),
                lr,
                pack: None,
            };
            plan.push(&mut index, name, kind, deps, "train");
        }
        let mut rendered = Vec::new();
        for output in outputs {
            let mut deps = plan.render_deps(&index, &output);
            if output.id == FigureId::Report {
                // The report shows every output, so it follows all of them and all their runs.
                deps.extend(
                    rendered
                        .iter()
                        .flat_map(|&r: &usize| plan.stages[r].deps.clone()),
                );
                deps.extend(rendered.iter().copied());
            }
            deps.sort_unstable();
            deps.dedup();
            let kind = Kind::Render {
                id: output.id,
                width: output.size.width,
                height: output.size.height,
            };
            let name = format!("render/{}", output.id);
            rendered.push(plan.push(&mut index, name, kind, deps, "figures"));
        }
        plan.check_order()?;
        Ok(plan)
    }

    /// The select stage of `run`'s configuration, with its trials before it (made on the
    /// first run of the configuration, whose seed is the trials' default).
    fn push_selection(
        &mut self,
        index: &mut BTreeMap<String, usize>,
        profile: &Profile,
        run: &RunParams,
        dataset: usize,
        device: &str,
    ) -> usize {
        let name = select_stage(run.selector());
        if let Some(&select) = index.get(&name) {
            return select;
        }
        let trials = profile
            .trials(run)
            .into_iter()
            .map(|trial| {
                let kind = Kind::Train {
                    run: trial.clone(),
                    device: device.into(),
                    lr: Lr::Trial,
                    pack: None,
                };
                self.push(index, trial_stage(&trial), kind, vec![dataset], "train")
            })
            .collect();
        let kind = Kind::Select {
            selector: run.selector(),
            updates: profile.select.as_ref().map_or(0, |s| s.updates),
        };
        self.push(index, name, kind, trials, "train")
    }

    /// What a render reads: the output's runs and, for lr-select and Table 1, the learning-rate
    /// trials of its configurations (lr-select draws only those).
    fn render_deps(&self, index: &BTreeMap<String, usize>, output: &Output) -> Vec<usize> {
        let mut deps = Vec::new();
        for run in &output.runs {
            let final_run = index[&train_stage(run)];
            if output.id != FigureId::LrSelect {
                deps.push(final_run);
            }
            let wants_trials = matches!(output.id, FigureId::LrSelect | FigureId::Table1);
            if let Some(&select) = self.stages[final_run].deps.get(1).filter(|_| wants_trials) {
                deps.extend(&self.stages[select].deps);
            }
        }
        deps
    }

    fn push(
        &mut self,
        index: &mut BTreeMap<String, usize>,
        name: String,
        kind: Kind,
        deps: Vec<usize>,
        tool: &str,
    ) -> usize {
        index.insert(name.clone(), self.stages.len());
        self.stages.push(Stage {
            name,
            kind,
            deps,
            tool: tool.into(),
        });
        self.stages.len() - 1
    }

    /// Groups final runs into packs ([`crate::packing::shape`]): runs of one shape, in plan
    /// order, `size(run)` at a time; a pack of one stays a single run. Learning-rate trials
    /// always train alone. A packed run's tool is `train-pack`, so its key names that engine.
    pub fn pack(mut self, size: impl Fn(&RunParams) -> usize) -> Result<Plan> {
        // shape -> (first member of the pack being filled, members so far)
        let mut filling: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut first_of: Vec<(usize, usize)> = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let Kind::Train { run, lr, .. } = &stage.kind else {
                continue;
            };
            if *lr == Lr::Trial {
                continue;
            }
            let slot = filling.entry(crate::packing::shape(run)).or_insert((i, 0));
            if slot.1 == size(run).max(1) {
                *slot = (i, 0);
            }
            slot.1 += 1;
            first_of.push((i, slot.0));
        }
        for &(i, first) in &first_of {
            let shared = first_of.iter().filter(|(_, f)| *f == first).count() > 1;
            if !shared {
                continue;
            }
            let stage = &mut self.stages[i];
            stage.tool = "train-pack".into();
            if let Kind::Train { pack, .. } = &mut stage.kind {
                *pack = Some(first);
            }
        }
        self.check_order()?;
        Ok(self)
    }

    /// Whether stage `i` trains in a pack: with `train-pack` even when it runs alone, since its
    /// key names that engine.
    pub fn is_packed(&self, i: usize) -> bool {
        matches!(self.stages[i].kind, Kind::Train { pack: Some(_), .. })
    }

    /// The members of the pack that stage `i` trains in (itself alone when it has none).
    pub fn pack_members(&self, i: usize) -> Vec<usize> {
        let Kind::Train {
            pack: Some(first), ..
        } = self.stages[i].kind
        else {
            return vec![i];
        };
        (0..self.stages.len())
            .filter(
                |&j| matches!(self.stages[j].kind, Kind::Train { pack: Some(f), .. } if f == first),
            )
            .collect()
    }

    /// Every stage reads only earlier stages, names are unique and every tool is known.
    pub fn check_order(&self) -> Result<()> {
        let mut names = std::collections::BTreeSet::new();
        for (i, stage) in self.stages.iter().enumerate() {
            if !names.insert(&stage.name) {
                bail!("stage {} appears twice in the plan", stage.name);
            }
            if let Some(&dep) = stage.deps.iter().find(|&&d| d >= i) {
                bail!(
                    "stage {} reads stage #{dep}, which does not come before it",
                    stage.name
                );
            }
            if !self.tools.contains_key(&stage.tool) {
                bail!(
                    "stage {} needs tool {}, which the plan does not identify",
                    stage.name,
                    stage.tool
                );
            }
        }
        Ok(())
    }

    /// The dataset stages alone (they read nothing): `paper slurm` fetches them before
    /// training is submitted.
    pub fn datasets(&self) -> Plan {
        let stages = self
            .stages
            .iter()
            .filter(|s| matches!(s.kind, Kind::Dataset { .. }))
            .cloned()
            .collect();
        Plan {
            stages,
            ..self.clone()
        }
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    pub fn load(path: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read plan {}", path.display()))?;
        let plan: Plan =
            serde_json::from_str(&text).with_context(|| format!("bad plan {}", path.display()))?;
        plan.check_order()?;
        Ok(plan)
    }

    /// The inputs stage `i` is keyed on. A training run needs its dataset. A render needs
    /// every run it draws, so that it never replaces a published output with a poorer one;
    /// only runs whose dataset could not be had at all are left out, as if the profile did
    /// not train that dataset (Fig 12 and Table 1 have a panel or column per dataset).
    pub fn inputs(&self, i: usize, results: &[Option<StageResult>]) -> Inputs {
        let stage = &self.stages[i];
        match &stage.kind {
            Kind::Dataset { .. } => Ok(BTreeMap::new()),
            Kind::Train { lr, .. } => {
                let dataset = stage.deps[0];
                let Some(data) = &results[dataset] else {
                    return Err(format!("{} is not available", self.stages[dataset].name));
                };
                // The dataset's own content key, not the stage's: retrain only when the bytes change.
                let mut inputs = BTreeMap::from([("data".into(), data.output_key.to_string())]);
                if *lr == Lr::Selected {
                    let select = stage.deps[1];
                    let Some(selection) = &results[select] else {
                        return Err(format!("{} is not available", self.stages[select].name));
                    };
                    inputs.insert("lr".into(), selection.key.to_string());
                }
                Ok(inputs)
            }
            Kind::Select { .. } => self.select_inputs(i, results),
            Kind::Render { .. } => self.render_inputs(i, results),
        }
    }

    /// A selection needs every one of its trials.
    fn select_inputs(&self, i: usize, results: &[Option<StageResult>]) -> Inputs {
        let mut inputs = BTreeMap::new();
        for &trial in &self.stages[i].deps {
            let Some(result) = &results[trial] else {
                return Err(format!("{} is not available", self.stages[trial].name));
            };
            inputs.insert(self.stages[trial].name.clone(), result.key.to_string());
        }
        Ok(inputs)
    }

    fn render_inputs(&self, i: usize, results: &[Option<StageResult>]) -> Inputs {
        let mut inputs = BTreeMap::new();
        let (mut runs, mut lacking) = (0, Vec::new());
        for &dep in &self.stages[i].deps {
            let is_run = matches!(self.stages[dep].kind, Kind::Train { .. });
            match &results[dep] {
                Some(result) => {
                    inputs.insert(self.stages[dep].name.clone(), result.key.to_string());
                    runs += usize::from(is_run);
                }
                None if is_run && results[self.stages[dep].deps[0]].is_some() => {
                    lacking.push(self.stages[dep].name.clone());
                }
                None => {}
            }
        }
        if !lacking.is_empty() {
            return Err(format!(
                "lacks {} of its runs ({}); what was published stays",
                lacking.len(),
                crate::status::list(&lacking)
            ));
        }
        let total = self.stages[i]
            .deps
            .iter()
            .filter(|&&d| matches!(self.stages[d].kind, Kind::Train { .. }))
            .count();
        if total > 0 && runs == 0 {
            return Err(format!("none of its {total} runs is available"));
        }
        Ok(inputs)
    }

    /// The key spec of stage `i` over the given inputs.
    pub fn spec(&self, i: usize, inputs: BTreeMap<String, String>) -> KeySpec {
        let stage = &self.stages[i];
        let (name, params) = match &stage.kind {
            Kind::Dataset { dataset } => ("paper/dataset", json!({ "dataset": dataset })),
            Kind::Train { run, lr, .. } => {
                let mut params = serde_json::to_value(run).expect("run params are JSON");
                if *lr == Lr::Selected {
                    params["lr"] = json!("selected");
                }
                ("train", params)
            }
            Kind::Select { selector, updates } => (
                "select",
                json!({ "selector": selector, "updates": updates, "rule": spec::selection::RULE }),
            ),
            Kind::Render { id, width, height } => {
                let mut params = json!({ "id": id.id() });
                for (field, value) in [("width", width), ("height", height)] {
                    if let Some(v) = value {
                        params[field] = json!(v);
                    }
                }
                ("render", params)
            }
        };
        KeySpec {
            stage: name.into(),
            params,
            inputs,
            tool: self.tools[&stage.tool].identity.clone(),
        }
    }

    /// The key of stage `i` given its dependencies' results, or why it has none.
    pub fn key(
        &self,
        i: usize,
        results: &[Option<StageResult>],
    ) -> std::result::Result<(KeySpec, Key), String> {
        let spec = self.spec(i, self.inputs(i, results)?);
        let key = spec.key();
        Ok((spec, key))
    }
}

/// The `--device` a run is given: CUDA runs see one device each through CUDA_VISIBLE_DEVICES.
fn device_flag(device_class: &str) -> &'static str {
    if device_class.starts_with("cuda") {
        "cuda"
    } else {
        "cpu"
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    pub(crate) fn tools(train: &str) -> BTreeMap<String, ToolId> {
        ["fetch", "shapeset", "train", "train-pack", "figures"]
            .into_iter()
            .map(|b| {
                let identity = if b == "train" {
                    train.to_string()
                } else {
                    format!("{b} src=0")
                };
                (
                    b.to_string(),
                    ToolId {
                        identity,
                        files: BTreeMap::new(),
                    },
                )
            })
            .collect()
    }

    pub(crate) const PROFILE: &str = r#"
            description = "t"
            [train]
            width = 32
            batch_size = 10
            updates = 100
            probe_every = 50
            seeds = [0]
            [datasets]
            shapeset = {}
            mnist = { seeds = [0, 1] }
            [lr]
            sigmoid = 0.1
            tanh = 0.1
            softsign = 0.1
            [figures]
            report = {}
            fig6 = {}
            fig5 = { width = 640 }
            fig12 = {}
            "#;

    fn profile() -> Profile {
        Profile::parse(PROFILE).unwrap()
    }

    /// A plan of [`PROFILE`] on a CPU, every tool at a fixed identity.
    pub(crate) fn plan() -> Plan {
        Plan::build(
            &profile(),
            "test",
            tools("train src=1 runtime={} device=cpu"),
            "cpu",
        )
        .unwrap()
    }

    fn names(plan: &Plan, deps: &[usize]) -> Vec<String> {
        deps.iter().map(|&d| plan.stages[d].name.clone()).collect()
    }

    fn done(key: &Key) -> Option<StageResult> {
        Some(StageResult {
            key: key.clone(),
            output_key: key.clone(),
            output: PathBuf::new(),
        })
    }

    #[test]
    fn stages_come_in_dependency_order_with_the_report_last() {
        let plan = plan();
        let order: Vec<&str> = plan.stages.iter().map(|s| s.name.as_str()).collect();
        let mnist = |a: &str, i: &str, s: u8| format!("train/mnist-{a}-{i}-l5-w32-s{s}");
        let mut expected = vec![
            "dataset/shapeset".to_string(),
            "dataset/mnist".into(),
            "train/shapeset-tanh-standard-l5-w32-s0".into(),
            "train/shapeset-tanh-normalized-l5-w32-s0".into(),
        ];
        for (a, i) in spec::figure::table1_rows() {
            for seed in [0, 1] {
                expected.push(mnist(a.id(), i.id(), seed));
            }
        }
        expected.extend(
            [
                "render/fig5",
                "render/fig6",
                "render/fig12",
                "render/report",
            ]
            .map(String::from),
        );
        assert_eq!(
            order, expected,
            "cifar10 is not fetched: the profile does not train it"
        );
        plan.check_order().unwrap();
        let report = &plan.stages[plan.find("render/report").unwrap()];
        assert_eq!(
            report.deps.len(),
            12 + 3,
            "every run and every other output"
        );
        assert_eq!(names(&plan, &plan.stages[4].deps), ["dataset/mnist"]);
        let Kind::Train { run, .. } = &plan.stages[4].kind else {
            panic!()
        };
        assert_eq!(plan.stages[4].name, format!("train/{}", run.name()));
    }

    #[test]
    fn a_plan_that_reads_a_later_stage_is_refused() {
        let mut plan = plan();
        plan.stages[0].deps = vec![3];
        assert!(format!("{}", plan.check_order().unwrap_err()).contains("does not come before"));
    }

    #[test]
    fn keys_follow_params_inputs_and_tool() {
        let plan = plan();
        let mut results: Vec<Option<StageResult>> = vec![None; plan.stages.len()];
        let train = plan.find("train/shapeset-tanh-standard-l5-w32-s0").unwrap();
        assert_eq!(
            plan.key(train, &results).unwrap_err(),
            "dataset/shapeset is not available"
        );

        let data: Key = "a".repeat(64).parse().unwrap();
        results[0] = Some(StageResult {
            key: "b".repeat(64).parse().unwrap(),
            output_key: data.clone(),
            output: PathBuf::new(),
        });
        let (spec, key) = plan.key(train, &results).unwrap();
        assert_eq!(spec.stage, "train");
        assert_eq!(
            spec.inputs["data"],
            data.to_string(),
            "keyed on the dataset's content key"
        );
        assert_eq!(spec.params["width"], 32);
        assert_eq!(spec.params["lr"], 0.1);
        assert_eq!(key, spec.key());

        let other_tool = Plan::build(
            &profile(),
            "test",
            tools("train src=2 runtime={} device=cpu"),
            "cpu",
        )
        .unwrap();
        assert_ne!(
            key,
            other_tool.key(train, &results).unwrap().1,
            "a tool change changes the key"
        );
        let mut wider = profile();
        wider.train.width = 64;
        let wider = Plan::build(
            &wider,
            "test",
            tools("train src=1 runtime={} device=cpu"),
            "cpu",
        )
        .unwrap();
        let wide_train = wider
            .find("train/shapeset-tanh-standard-l5-w64-s0")
            .unwrap();
        assert_ne!(key, wider.key(wide_train, &results).unwrap().1);
    }

    #[test]
    fn a_render_waits_for_every_run_whose_dataset_is_there() {
        let plan = plan();
        let mut results: Vec<Option<StageResult>> = vec![None; plan.stages.len()];
        let fig12 = plan.find("render/fig12").unwrap();
        assert_eq!(
            plan.key(fig12, &results).unwrap_err(),
            "none of its 10 runs is available"
        );
        let fig5 = plan.find("render/fig5").unwrap();
        let (spec, _) = plan.key(fig5, &results).unwrap();
        assert_eq!(
            spec.params,
            json!({"id": "fig5", "width": 640}),
            "a run-free figure needs nothing"
        );

        let fig6 = plan.find("render/fig6").unwrap();
        let k: Key = "c".repeat(64).parse().unwrap();
        results[0] = done(&k);
        let tanh = plan.find("train/shapeset-tanh-standard-l5-w32-s0").unwrap();
        results[tanh] = done(&k);
        let err = plan.key(fig6, &results).unwrap_err();
        assert!(
            err.starts_with("lacks 1 of its runs (train/shapeset-tanh-normalized-l5-w32-s0)"),
            "a failed run must not make a poorer figure: {err}"
        );
        let tanh_n = plan
            .find("train/shapeset-tanh-normalized-l5-w32-s0")
            .unwrap();
        results[tanh_n] = done(&k);
        let (spec, _) = plan.key(fig6, &results).unwrap();
        assert_eq!(spec.inputs.len(), 2);
        assert_eq!(spec.params, json!({"id": "fig6"}));
    }

    #[test]
    fn runs_of_one_shape_are_packed_k_at_a_time_and_trials_never() {
        let plan = plan().pack(|_| 2).unwrap();
        let packed = |name: &str| {
            let i = plan.find(name).unwrap();
            (plan.stages[i].tool.clone(), plan.pack_members(i))
        };
        let (tool, members) = packed("train/shapeset-tanh-standard-l5-w32-s0");
        assert_eq!(tool, "train-pack");
        let names: Vec<&str> = members
            .iter()
            .map(|&m| plan.stages[m].name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "train/shapeset-tanh-standard-l5-w32-s0",
                "train/shapeset-tanh-normalized-l5-w32-s0"
            ],
            "two inits of one shape"
        );
        // MNIST softsign: standard and normalized, seeds 0 and 1 -> two packs of two.
        let (_, first) = packed("train/mnist-softsign-standard-l5-w32-s0");
        let (_, second) = packed("train/mnist-softsign-normalized-l5-w32-s0");
        assert_eq!(first.len(), 2);
        assert_eq!(second.len(), 2);
        assert_ne!(first, second);
        // Sigmoid has one configuration and two seeds: one pack. A key names the engine.
        let (tool, sigmoid) = packed("train/mnist-sigmoid-standard-l5-w32-s1");
        assert_eq!((tool.as_str(), sigmoid.len()), ("train-pack", 2));
        let alone = tests::plan().pack(|_| 1).unwrap();
        assert!(alone.stages.iter().all(|s| s.tool != "train-pack"));
    }

    #[test]
    fn a_plan_survives_saving() {
        let plan = plan();
        let text = serde_json::to_string(&plan).unwrap();
        let back: Plan = serde_json::from_str(&text).unwrap();
        assert_eq!(back.stages, plan.stages);
        assert_eq!(back.tools, plan.tools);
    }
}
