//! The DAG: its stages and what each reads. A plan is plain data (it can be saved and run
//! elsewhere, as `paper slurm` does). It is built from a profile in [`build`], keyed once its
//! inputs' keys are known in [`keys`], and grouped into packs by `crate::packing`.

mod build;
mod keys;

use crate::tool::ToolId;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use spec::selection::RateGroup;
use spec::{Dataset, FigureId, RunParams};
use std::collections::BTreeMap;
use std::path::Path;
use store::Key;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Kind {
    /// `fetch <dataset>` or `shapeset dataset`: makes the dataset entry, whose key it prints.
    Dataset { dataset: Dataset },
    /// `train`, on `device` (`cpu` or `cuda`); `run.lr` says where its rate comes from.
    Train {
        run: RunParams<Lr>,
        device: String,
        /// The pack this run trains in (`train-pack`), named by its first member's stage
        /// index; none: alone (`train`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pack: Option<usize>,
    },
    /// Learning-rate selection of a rate group (a dataset, activation and depth) over the
    /// trials it reads, those of every init of the activation ([`spec::selection::choose`]),
    /// run by `train select`; writes `selection.json`. Every init's final runs read it.
    Select { group: RateGroup, updates: u64 },
    /// `figures render --only <id>`.
    Render {
        id: FigureId,
        width: Option<u32>,
        height: Option<u32>,
    },
}

/// A planned training run's learning rate: known (fixed by the profile, or a trial's grid
/// point), or chosen by a select stage that has yet to run. A planned run carries no rate it
/// does not have; `exec::select::trained_run` resolves it into a `RunParams`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lr {
    /// Fixed by the profile.
    Fixed(f64),
    /// A grid point of a learning-rate trial: its divergence is a result.
    Trial(f64),
    /// Chosen by the select stage `select` (one of the run's dependencies).
    Selected { select: usize },
}

impl Lr {
    /// The rate, when the plan knows it.
    pub fn known(self) -> Option<f64> {
        match self {
            Lr::Fixed(rate) | Lr::Trial(rate) => Some(rate),
            Lr::Selected { .. } => None,
        }
    }

    pub fn is_trial(self) -> bool {
        matches!(self, Lr::Trial(_))
    }
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
pub fn train_stage<R>(run: &RunParams<R>) -> String {
    format!("train/{}", run.name())
}

/// The stage name of a learning-rate trial.
pub fn trial_stage(run: &RunParams) -> String {
    format!("trial/{}-lr{}", run.name(), run.lr)
}

/// The stage name of a rate group's learning-rate selection: `select/shapeset-tanh-l5`.
pub fn select_stage(group: RateGroup) -> String {
    format!("select/{group}")
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
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::profile::Profile;
    use serde_json::json;
    use spec::Init;
    use std::collections::BTreeSet;
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

    /// [`PROFILE`] with tanh's rate selected over two rates rather than fixed.
    fn selecting() -> Plan {
        let text = PROFILE.replace("            tanh = 0.1\n", "")
            + "[select]\ngrid = [0.1, 0.01]\nupdates = 20\n";
        let profile = Profile::parse(&text).unwrap();
        Plan::build(&profile, "test", tools("train src=1"), "cpu").unwrap()
    }

    #[test]
    fn both_inits_of_an_activation_train_at_one_selection() {
        let plan = selecting();
        let selects: Vec<(usize, RateGroup)> = plan
            .stages
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.kind {
                Kind::Select { group, .. } => Some((i, group)),
                _ => None,
            })
            .collect();
        let select_names: Vec<&str> = selects
            .iter()
            .map(|&(i, _)| plan.stages[i].name.as_str())
            .collect();
        assert_eq!(
            select_names,
            ["select/shapeset-tanh-l5", "select/mnist-tanh-l5"],
            "one per dataset, activation and depth"
        );
        for &(select, group) in &selects {
            let finals: Vec<&Stage> = plan
                .stages
                .iter()
                .filter(|s| matches!(&s.kind, Kind::Train { run, .. } if run.lr == Lr::Selected { select }))
                .collect();
            let inits: BTreeSet<Init> = finals
                .iter()
                .map(|s| match &s.kind {
                    Kind::Train { run, .. } => run.init,
                    _ => unreachable!(),
                })
                .collect();
            assert_eq!(
                inits,
                BTreeSet::from([Init::Standard, Init::Normalized]),
                "{group}"
            );
            assert!(finals.iter().all(|s| s.deps.contains(&select)));
            let trials = names(&plan, &plan.stages[select].deps);
            let d = group.dataset;
            assert_eq!(
                trials,
                [
                    format!("trial/{d}-tanh-standard-l5-w32-s0-lr0.1"),
                    format!("trial/{d}-tanh-standard-l5-w32-s0-lr0.01"),
                    format!("trial/{d}-tanh-normalized-l5-w32-s0-lr0.1"),
                    format!("trial/{d}-tanh-normalized-l5-w32-s0-lr0.01"),
                ],
                "every init at every rate, the same seed"
            );
        }
        let selected = plan.stages.iter().filter(
            |s| matches!(&s.kind, Kind::Train { run, .. } if matches!(run.lr, Lr::Selected { .. })),
        );
        assert_eq!(
            selected.count(),
            2 + 4,
            "Shapeset's 2 runs and MNIST's 2 x 2 seeds"
        );
    }

    #[test]
    fn a_selection_is_keyed_on_its_group_updates_and_rule() {
        let plan = selecting();
        let select = plan.find("select/shapeset-tanh-l5").unwrap();
        let mut results: Vec<Option<StageResult>> = vec![None; plan.stages.len()];
        let trial: Key = "d".repeat(64).parse().unwrap();
        for &dep in &plan.stages[select].deps {
            results[dep] = done(&trial);
        }
        let (spec, _) = plan.key(select, &results).unwrap();
        assert_eq!(
            spec.params,
            json!({
                "group": {"dataset": "shapeset", "activation": "tanh", "hidden_layers": 5},
                "updates": 20,
                "rule": spec::selection::RULE,
            })
        );
        assert_eq!(spec.inputs.len(), 4, "every trial of both inits");
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
