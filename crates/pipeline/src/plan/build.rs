//! A plan built from a profile: dataset stages, then each final run after its rate group's
//! learning-rate trials and selection (where the profile selects rates: one selection per
//! dataset, activation and depth, over the trials of every init of it the profile trains),
//! then one render per output, the report last.

use super::{dataset_tool, select_stage, train_stage, trial_stage, Kind, Lr, Plan, Stage};
use crate::profile::ProfileRun;
use crate::profile::{Output, Profile};
use crate::tool::ToolId;
use anyhow::Result;
use spec::selection::RateGroup;
use spec::{Dataset, FigureId, Selector};
use std::collections::BTreeMap;

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
        for run in runs.iter().cloned() {
            let dataset = index[&format!("dataset/{}", run.dataset)];
            let mut deps = vec![dataset];
            let lr = match run.lr {
                Some(rate) => Lr::Fixed(rate),
                None => {
                    let group = RateGroup::of(&run.selector());
                    let select =
                        plan.push_selection(&mut index, profile, &runs, group, dataset, device);
                    deps.push(select);
                    Lr::Selected { select }
                }
            };
            let name = train_stage(&run);
            let kind = Kind::Train {
                run: run.with_lr(lr),
                device: device.into(),
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

    /// The select stage of `group`, with its trials before it: those of every configuration
    /// of the group among `runs`, made on the first run of each (whose seed is the trials'
    /// default), on the group's first run.
    fn push_selection(
        &mut self,
        index: &mut BTreeMap<String, usize>,
        profile: &Profile,
        runs: &[ProfileRun],
        group: RateGroup,
        dataset: usize,
        device: &str,
    ) -> usize {
        let name = select_stage(group);
        if let Some(&select) = index.get(&name) {
            return select;
        }
        let trials = group_firsts(runs, group)
            .into_iter()
            .flat_map(|run| profile.trials(run))
            .map(|trial| {
                let kind = Kind::Train {
                    run: trial.clone().with_lr(Lr::Trial(trial.lr)),
                    device: device.into(),
                    pack: None,
                };
                self.push(index, trial_stage(&trial), kind, vec![dataset], "train")
            })
            .collect();
        let kind = Kind::Select {
            group,
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
            let selected = match &self.stages[final_run].kind {
                Kind::Train { run, .. } => match run.lr {
                    Lr::Selected { select } => Some(select),
                    _ => None,
                },
                _ => None,
            };
            if let Some(select) = selected.filter(|_| output.id.reads_trials()) {
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
}

/// The first run of each configuration of `group` in `runs`, in their order.
fn group_firsts(runs: &[ProfileRun], group: RateGroup) -> Vec<&ProfileRun> {
    let mut seen: Vec<Selector> = Vec::new();
    let mut firsts = Vec::new();
    for run in runs.iter().filter(|r| group.contains(&r.selector())) {
        if !seen.contains(&run.selector()) {
            seen.push(run.selector());
            firsts.push(run);
        }
    }
    firsts
}

/// The `--device` a run is given: CUDA runs see one device each through CUDA_VISIBLE_DEVICES.
fn device_flag(device_class: &str) -> &'static str {
    if device_class.starts_with("cuda") {
        "cuda"
    } else {
        "cpu"
    }
}
