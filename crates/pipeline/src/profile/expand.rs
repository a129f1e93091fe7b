//! A profile expanded: the outputs it makes, each with the runs [`spec::FigureId::needs`] says
//! it draws on the profile's datasets (one per selector and seed), and the learning-rate trials
//! of the configurations whose rate is selected.

use super::{FigureEntry, Profile};
use anyhow::{bail, Context, Result};
use spec::{Dataset, FigureId, RunParams, Selector};

/// A run as the profile gives it: its learning rate when `[lr]` fixes it, `None` when
/// `[select]` chooses it (the plan makes it a selection's choice).
pub type ProfileRun = RunParams<Option<f64>>;

/// An output of a profile with the runs it draws, one per needed selector and seed.
#[derive(Debug, Clone)]
pub struct Output {
    pub id: FigureId,
    pub size: FigureEntry,
    pub runs: Vec<ProfileRun>,
}

impl Profile {
    /// The datasets the profile trains, in `spec` order.
    pub fn dataset_list(&self) -> Vec<Dataset> {
        self.datasets.keys().copied().collect()
    }

    /// Every output the profile makes, in [`FigureId::ALL`] order (the report last), with the
    /// runs [`FigureId::needs`] says it draws on the profile's datasets.
    pub fn outputs(&self) -> Result<Vec<Output>> {
        let available = self.dataset_list();
        let mut outputs = Vec::new();
        for id in FigureId::ALL {
            let Some(size) = self.figures.get(&id) else {
                continue;
            };
            let needs = id.needs(&available);
            if needs.is_empty() && !id.datasets().is_empty() {
                bail!(
                    "{id} draws runs on {}, none of which [datasets] trains: add one or drop {id} from [figures]",
                    names(id.datasets())
                );
            }
            let mut runs = Vec::new();
            for selector in needs {
                runs.extend(self.runs_of(id, selector)?);
            }
            outputs.push(Output {
                id,
                size: size.clone(),
                runs,
            });
        }
        // lr-select shows the selections of what this profile's other outputs draw, and
        // trains nothing for itself.
        let drawn: Vec<String> = outputs
            .iter()
            .filter(|o| o.id != FigureId::LrSelect)
            .flat_map(|o| o.runs.iter().map(ProfileRun::name))
            .collect();
        for output in outputs.iter_mut().filter(|o| o.id == FigureId::LrSelect) {
            output.runs.retain(|run| drawn.contains(&run.name()));
        }
        Ok(outputs)
    }

    /// The runs of one selector, one per seed, or why the profile cannot give them.
    fn runs_of(&self, id: FigureId, s: Selector) -> Result<Vec<ProfileRun>> {
        let entry = self.datasets.get(&s.dataset).cloned().unwrap_or_default();
        let lr = match (self.lr.get(&s.activation), &self.select) {
            (Some(&lr), _) => Some(lr),
            // Chosen by a selection: the plan keys the run on it.
            (None, Some(_)) => None,
            (None, None) => bail!(
                "{id} needs run {s}, but [lr] has no learning rate for {} and there is no [select]: add `{} = <rate>` to [lr] or a [select] grid",
                s.activation,
                s.activation
            ),
        };
        let seeds = self.seeds(id, s)?;
        let first_seed = seeds[0];
        seeds
            .into_iter()
            .map(|seed| {
                let params = RunParams {
                    dataset: s.dataset,
                    activation: s.activation,
                    init: s.init,
                    hidden_layers: s.hidden_layers,
                    width: self.train.width,
                    batch_size: self.train.batch_size,
                    lr,
                    updates: entry.updates.unwrap_or(self.train.updates),
                    seed,
                    probe_every: entry.probe_every.unwrap_or(self.train.probe_every),
                    jacobian_examples: if seed == first_seed && jacobian_drawn(s) {
                        self.train.jacobian_examples
                    } else {
                        0
                    },
                    eval_examples: self.train.eval_examples,
                    raw_every_epochs: self.train.raw_every_epochs,
                };
                let valid = match params.lr {
                    Some(rate) => params.clone().with_lr(rate).validate(),
                    // The grid's rates are checked with [select].
                    None => params.validate_shape(),
                };
                valid.with_context(|| format!("{id} needs run {}", params.name()))?;
                Ok(params)
            })
            .collect()
    }

    /// The seeds of a selector: its dataset's (else `[train]`'s), then those of any output
    /// that draws it and names its own, so that every output drawing a run sees all its seeds;
    /// or why there are none.
    fn seeds(&self, id: FigureId, s: Selector) -> Result<Vec<u64>> {
        let entry = self.datasets.get(&s.dataset);
        let mut seeds = entry
            .and_then(|e| e.seeds.clone())
            .or_else(|| self.train.seeds.clone())
            .filter(|seeds| !seeds.is_empty())
            .with_context(|| {
                format!(
                    "{id} needs run {s}, but no seeds are given for {}: set `seeds` in [train] or [datasets] {}",
                    s.dataset, s.dataset
                )
            })?;
        let available = self.dataset_list();
        for (figure, drawn) in &self.figures {
            let Some(own) = &drawn.seeds else { continue };
            if figure.needs(&available).contains(&s) {
                let extra: Vec<u64> = own.iter().copied().filter(|x| !seeds.contains(x)).collect();
                seeds.extend(extra);
            }
        }
        Ok(seeds)
    }

    /// Whether a run's learning rate is chosen by [`Profile::trials`] rather than fixed.
    pub fn selects<R>(&self, run: &RunParams<R>) -> bool {
        self.select.is_some() && !self.lr.contains_key(&run.activation)
    }

    /// The learning-rate trials of the configuration of `run` (a run [`Profile::selects`]):
    /// one per seed and rate, the same shape as the final runs, `updates` long, probed only
    /// at its end (`RunParams::probes_only_at_end`: the whole validation set, a sample of
    /// the test set), with no Jacobians and no raw snapshots: only the lr-select figure and
    /// Table 1 read trials, and they read their last validation error.
    pub fn trials(&self, run: &ProfileRun) -> Vec<RunParams> {
        let select = self.select.as_ref().expect("a profile that selects");
        let seeds = select.seeds.clone().unwrap_or_else(|| vec![run.seed]);
        let mut trials = Vec::new();
        for seed in seeds {
            for &lr in &select.grid {
                trials.push(RunParams {
                    seed,
                    updates: select.updates,
                    probe_every: select.updates,
                    jacobian_examples: 0,
                    raw_every_epochs: 0,
                    ..run.clone().with_lr(lr)
                });
            }
        }
        trials
    }

    /// Every run the profile trains, once each, in the order outputs first need them.
    pub fn runs(&self) -> Result<Vec<ProfileRun>> {
        let mut runs: Vec<ProfileRun> = Vec::new();
        for output in self.outputs()? {
            for run in output.runs {
                if !runs.iter().any(|r| r.name() == run.name()) {
                    runs.push(run);
                }
            }
        }
        Ok(runs)
    }
}

/// Whether a configuration's Jacobians are drawn (`spec`'s figure facts): only those runs pay
/// for them.
fn jacobian_drawn(s: Selector) -> bool {
    FigureId::jacobians_drawn(s)
}
fn names(datasets: &[Dataset]) -> String {
    let names: Vec<&str> = datasets.iter().map(|d| d.id()).collect();
    names.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{err, BASE};
    use super::*;

    #[test]
    fn the_ci_profile_makes_every_output_shapeset_can() {
        let ci = Profile::built_in("ci").unwrap();
        for id in FigureId::ALL {
            let shapeset = id.datasets().is_empty() || id.datasets().contains(&Dataset::Shapeset);
            // ci fixes its learning rates (a cluster test submits its runs in one wave).
            let drawn = shapeset && id != FigureId::LrSelect;
            assert_eq!(ci.figures.contains_key(&id), drawn, "{id}");
        }
    }

    #[test]
    fn runs_come_from_the_needs_of_the_figures() {
        let profile = Profile::parse(&format!(
            "{BASE}[figures]\nfig6 = {{ width = 640 }}\nreport = {{}}\n"
        ))
        .unwrap();
        let outputs = profile.outputs().unwrap();
        assert_eq!(outputs[0].id, FigureId::Fig6);
        assert_eq!(outputs[0].size.width, Some(640));
        let names: Vec<String> = outputs[0].runs.iter().map(ProfileRun::name).collect();
        assert_eq!(
            names,
            [
                "shapeset-tanh-standard-l5-w8-s0",
                "shapeset-tanh-normalized-l5-w8-s0"
            ]
        );
        assert_eq!(outputs[1].id, FigureId::Report);
        assert!(outputs[1].runs.is_empty());
        assert_eq!(outputs[0].runs[0].lr, Some(0.1));
        let args = outputs[0].runs[0].clone().with_lr(0.1).to_args().join(" ");
        assert!(
            args.contains("--lr 0.1 --updates 10 --seed 0 --probe-every 5"),
            "{args}"
        );
    }

    #[test]
    fn a_profile_that_cannot_give_a_needed_run_names_the_figure_and_the_run() {
        let e = err(&format!("{BASE}[figures]\next-he = {{}}\n"));
        assert!(
            e.contains(
                "ext-he needs run shapeset-relu-he-l5, but [lr] has no learning rate for relu"
            ),
            "{e}"
        );
        let no_seeds = BASE.replace("seeds = [0]\n", "");
        let e = err(&format!("{no_seeds}[figures]\nfig10 = {{}}\n"));
        assert!(
            e.contains(
                "fig10 needs run shapeset-tanh-normalized-l5, but no seeds are given for shapeset"
            ),
            "{e}"
        );
        let e = err(&format!("{}[figures]\nfig12 = {{}}\n", BASE));
        assert!(e.contains("fig12 draws runs on mnist or cifar10"), "{e}");
    }

    #[test]
    fn an_outputs_own_seeds_reach_every_output_that_draws_the_same_runs() {
        let profile = Profile::parse(&format!(
            "{BASE}[figures]\nfig6 = {{}}\nfig9 = {{ seeds = [0, 3] }}\nfig10 = {{}}\n"
        ))
        .unwrap();
        let names = |id| -> Vec<String> {
            let outputs = profile.outputs().unwrap();
            let output = outputs.iter().find(|o| o.id == id).unwrap();
            output.runs.iter().map(ProfileRun::name).collect()
        };
        assert_eq!(
            names(FigureId::Fig6),
            [
                "shapeset-tanh-standard-l5-w8-s0",
                "shapeset-tanh-standard-l5-w8-s3",
                "shapeset-tanh-normalized-l5-w8-s0",
                "shapeset-tanh-normalized-l5-w8-s3"
            ]
        );
        assert_eq!(names(FigureId::Fig10).len(), 2, "tanh N in both seeds");
        let e = err(&format!("{BASE}[figures]\nfig9 = {{ seeds = [] }}\n"));
        assert!(e.contains("[figures] fig9.seeds is empty"), "{e}");
    }
}
