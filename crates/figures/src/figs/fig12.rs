//! Fig 12: on MNIST and CIFAR-10, Tanh N beats Tanh in smaller measure. The claim names two
//! datasets; a profile that ran only one of them reproduces it at most partially.

use super::error_curves::{render_init_comparison, ErrorOrder};
use super::fig11::any_of;
use super::Figure;
use crate::runs::{Catalog, Missing};
use crate::verdict::{Assessment, Verdict};
use anyhow::Result;
use spec::{Dataset, FigureId};
use std::path::{Path, PathBuf};

pub struct Fig12;

/// Tanh N significantly better than Tanh (McNemar, paired by seed) on every dataset compared;
/// partial when a dataset of the claim was not compared.
pub fn verdict(order: &ErrorOrder, claimed: &[Dataset]) -> Verdict {
    if order.tanh_normalized_wins.is_empty() {
        return Verdict::NotRun;
    }
    if order
        .tanh_normalized_wins
        .iter()
        .any(|(_, wins)| wins.is_none())
    {
        return Verdict::Untested;
    }
    if !order
        .tanh_normalized_wins
        .iter()
        .all(|(_, wins)| *wins == Some(true))
    {
        return Verdict::NotReproduced;
    }
    let all_compared = claimed
        .iter()
        .all(|d| order.tanh_normalized_wins.iter().any(|(c, _)| c == d));
    if all_compared {
        Verdict::Reproduced
    } else {
        Verdict::Partial
    }
}

impl Figure for Fig12 {
    fn id(&self) -> FigureId {
        FigureId::Fig12
    }

    fn claim(&self) -> &'static str {
        "On MNIST and CIFAR-10 the same holds in smaller measure: Tanh N beats Tanh \
         (1.64% vs 1.76%, 52.92% vs 55.9%)."
    }

    fn rule(&self) -> String {
        "reproduced if Tanh N is significantly better than Tanh (McNemar's test on the final \
         test passes, paired by seed, p < 0.005) on MNIST and on CIFAR-10; partially reproduced \
         if it is on every dataset run but one of them was not run"
            .into()
    }

    fn requirement(&self, catalog: &Catalog) -> Result<(), Missing> {
        any_of(self, catalog)
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let order = ErrorOrder::measure(catalog, &self.selectors())?;
        let mut measured = order.lines.clone();
        let verdict = verdict(&order, self.id().datasets());
        for dataset in self.id().datasets() {
            if !order.tanh_normalized_wins.iter().any(|(d, _)| d == dataset) {
                measured.push(format!("{}: Tanh and Tanh N not both run", dataset.title()));
            }
        }
        Ok(Assessment::new(measured, verdict))
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        render_init_comparison(self, catalog, out, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dataset_of_two_is_partial() {
        let order = |wins: Vec<(Dataset, Option<bool>)>| ErrorOrder {
            lines: Vec::new(),
            tanh_normalized_wins: wins,
            sigmoid_worst: None,
        };
        let claimed = [Dataset::Mnist, Dataset::Cifar10];
        let both = order(vec![
            (Dataset::Mnist, Some(true)),
            (Dataset::Cifar10, Some(true)),
        ]);
        assert_eq!(verdict(&both, &claimed), Verdict::Reproduced);
        assert_eq!(
            verdict(&order(vec![(Dataset::Mnist, Some(true))]), &claimed),
            Verdict::Partial
        );
        assert_eq!(
            verdict(&order(vec![(Dataset::Mnist, Some(false))]), &claimed),
            Verdict::NotReproduced
        );
        assert_eq!(
            verdict(&order(vec![(Dataset::Mnist, None)]), &claimed),
            Verdict::Untested
        );
        assert_eq!(verdict(&order(vec![]), &claimed), Verdict::NotRun);
    }
}
