//! Keys: what each stage is keyed on, once its dependencies' results are known. A training
//! run is keyed on its dataset's content key and, where its rate is selected, on its rate
//! group's selection's key; a selection on its group, updates, rule and every trial's key; a
//! render on every run it draws.

use super::{Inputs, Kind, Lr, Plan, StageResult};
use serde_json::json;
use std::collections::BTreeMap;
use store::{Key, KeySpec};

impl Plan {
    /// The inputs stage `i` is keyed on. A training run needs its dataset. A render needs
    /// every run it draws, so that it never replaces a published output with a poorer one;
    /// only runs whose dataset could not be had at all are left out, as if the profile did
    /// not train that dataset (Fig 12 and Table 1 have a panel or column per dataset).
    pub fn inputs(&self, i: usize, results: &[Option<StageResult>]) -> Inputs {
        let stage = &self.stages[i];
        match &stage.kind {
            Kind::Dataset { .. } => Ok(BTreeMap::new()),
            Kind::Train { run, .. } => {
                let dataset = stage.deps[0];
                let Some(data) = &results[dataset] else {
                    return Err(format!("{} is not available", self.stages[dataset].name));
                };
                // The dataset's own content key, not the stage's: retrain only when the bytes change.
                let mut inputs = BTreeMap::from([("data".into(), data.output_key.to_string())]);
                if let Lr::Selected { select } = run.lr {
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
            Kind::Train { run, .. } => {
                let mut params = serde_json::to_value(run).expect("run params are JSON");
                // A selected rate is keyed by the selection it comes from (an input).
                params["lr"] = run.lr.known().map_or(json!("selected"), |rate| json!(rate));
                ("train", params)
            }
            Kind::Select { group, updates } => (
                "select",
                json!({ "group": group, "updates": updates, "rule": spec::selection::RULE }),
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
