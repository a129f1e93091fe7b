//! The outputs of the reproduction and what each one draws. The pipeline derives the runs a
//! profile trains from [`FigureId::needs`]; `figures` selects the same runs by the same
//! selectors. Nothing else lists which runs a figure needs.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::run::Selector;
use crate::vocab::{Activation, Dataset, Init};

/// The depth of Table 1 and of Figs 3-4 and 6-12 in the paper.
pub const PAPER_DEPTH: usize = 5;
/// Fig 2 uses a sigmoid network with 4 hidden layers.
pub const FIG2_DEPTH: usize = 4;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FigureId {
    Fig1,
    Fig2,
    Fig3,
    Fig4,
    Fig5,
    Fig6,
    Fig7,
    Fig8,
    Fig9,
    Fig10,
    Fig11,
    Fig12,
    Table1,
    /// Beyond the paper: ReLU with He init against tanh with normalized init.
    ExtHe,
    /// Validation error against learning rate for every configuration trained: the
    /// learning-rate trials and the chosen rate.
    LrSelect,
    /// REPORT.md: every other output's claims and verdicts.
    Report,
}

impl FigureId {
    pub const ALL: [FigureId; 16] = [
        FigureId::Fig1,
        FigureId::Fig2,
        FigureId::Fig3,
        FigureId::Fig4,
        FigureId::Fig5,
        FigureId::Fig6,
        FigureId::Fig7,
        FigureId::Fig8,
        FigureId::Fig9,
        FigureId::Fig10,
        FigureId::Fig11,
        FigureId::Fig12,
        FigureId::Table1,
        FigureId::ExtHe,
        FigureId::LrSelect,
        FigureId::Report,
    ];

    pub fn id(self) -> &'static str {
        match self {
            FigureId::Fig1 => "fig1",
            FigureId::Fig2 => "fig2",
            FigureId::Fig3 => "fig3",
            FigureId::Fig4 => "fig4",
            FigureId::Fig5 => "fig5",
            FigureId::Fig6 => "fig6",
            FigureId::Fig7 => "fig7",
            FigureId::Fig8 => "fig8",
            FigureId::Fig9 => "fig9",
            FigureId::Fig10 => "fig10",
            FigureId::Fig11 => "fig11",
            FigureId::Fig12 => "fig12",
            FigureId::Table1 => "table1",
            FigureId::ExtHe => "ext-he",
            FigureId::LrSelect => "lr-select",
            FigureId::Report => "report",
        }
    }

    /// What the output shows, in a line.
    pub fn title(self) -> &'static str {
        match self {
            FigureId::Fig1 => "Shapeset-3x2 samples",
            FigureId::Fig2 => "Sigmoid (4 hidden layers): activation mean and std per layer during training",
            FigureId::Fig3 => "Activation 98th percentile and std per layer during training: tanh, softsign",
            FigureId::Fig4 => "Activation histograms at the end of training: tanh, softsign",
            FigureId::Fig5 => "Cost surfaces of a 1-hidden-layer tanh net: cross-entropy vs quadratic",
            FigureId::Fig6 => "Tanh activation histograms per layer at initialization: standard vs normalized",
            FigureId::Fig7 => "Back-propagated gradient histograms per layer at initialization: standard vs normalized",
            FigureId::Fig8 => "Weight-gradient histograms per layer at initialization: standard vs normalized",
            FigureId::Fig9 => "Weight-gradient std per layer during training: tanh standard vs normalized",
            FigureId::Fig10 => "Activation 98th percentile and std per layer during training: tanh normalized",
            FigureId::Fig11 => "Shapeset-3x2 test error during training, every activation x init",
            FigureId::Fig12 => "MNIST and CIFAR-10 test error during training",
            FigureId::Table1 => "Table 1: test error after training, 5 hidden layers",
            FigureId::ExtHe => "Beyond the paper: ReLU + He init vs tanh + normalized init on Shapeset-3x2",
            FigureId::LrSelect => "Learning-rate selection: validation error after the selection budget vs learning rate",
            FigureId::Report => "REPORT.md: the paper's claims, our measurements and verdicts",
        }
    }

    /// Whether the output reads the learning-rate trials of its configurations (`runs.json`'s
    /// `trials`) beside the runs it draws.
    pub fn reads_trials(self) -> bool {
        matches!(self, FigureId::LrSelect | FigureId::Table1)
    }

    /// Whether the output draws Jacobian singular values at initialization (§4.2.2).
    pub fn draws_jacobians(self) -> bool {
        matches!(self, FigureId::Fig7)
    }

    /// Whether any output draws the Jacobians of `selector`'s runs: only those runs pay for
    /// measuring them.
    pub fn jacobians_drawn(selector: Selector) -> bool {
        FigureId::ALL
            .into_iter()
            .filter(|f| f.draws_jacobians())
            .any(|f| f.needs(&[selector.dataset]).contains(&selector))
    }

    /// Whether the output is an extension, not part of the paper.
    pub fn beyond_paper(self) -> bool {
        matches!(self, FigureId::ExtHe)
    }

    /// The datasets whose runs this output draws (empty: it draws no run).
    pub fn datasets(self) -> &'static [Dataset] {
        match self {
            FigureId::Fig1 | FigureId::Fig5 | FigureId::Report => &[],
            FigureId::Fig12 => &[Dataset::Mnist, Dataset::Cifar10],
            FigureId::Table1 | FigureId::LrSelect => &Dataset::ALL,
            _ => &[Dataset::Shapeset],
        }
    }

    /// The runs this output draws, restricted to the datasets a profile trains (Fig 12 and
    /// Table 1 have a panel or column per dataset). Empty when the output draws no run or
    /// none of its datasets is available; the caller decides whether that is an error.
    pub fn needs(self, available: &[Dataset]) -> Vec<Selector> {
        let at = |d, a, i, depth| Selector::new(d, a, i, depth);
        let shapeset = |a, i| at(Dataset::Shapeset, a, i, PAPER_DEPTH);
        let (sigmoid, tanh, softsign) =
            (Activation::Sigmoid, Activation::Tanh, Activation::Softsign);
        let (standard, normalized) = (Init::Standard, Init::Normalized);
        let table_rows = |d| table1_rows().map(move |(a, i)| at(d, a, i, PAPER_DEPTH));
        let wanted = match self {
            FigureId::Fig1 | FigureId::Fig5 | FigureId::Report => Vec::new(),
            FigureId::Fig2 => vec![at(Dataset::Shapeset, sigmoid, standard, FIG2_DEPTH)],
            FigureId::Fig3 | FigureId::Fig4 => {
                vec![shapeset(tanh, standard), shapeset(softsign, standard)]
            }
            FigureId::Fig6 | FigureId::Fig7 | FigureId::Fig8 | FigureId::Fig9 => {
                vec![shapeset(tanh, standard), shapeset(tanh, normalized)]
            }
            FigureId::Fig10 => vec![shapeset(tanh, normalized)],
            FigureId::Fig11 => {
                std::iter::once(at(Dataset::Shapeset, sigmoid, standard, FIG2_DEPTH))
                    .chain(
                        [sigmoid, tanh, softsign]
                            .into_iter()
                            .flat_map(|a| [standard, normalized].map(|i| shapeset(a, i))),
                    )
                    .collect()
            }
            FigureId::Fig12 | FigureId::Table1 => self
                .datasets()
                .iter()
                .flat_map(|&d| table_rows(d))
                .collect(),
            FigureId::ExtHe => vec![
                shapeset(Activation::Relu, Init::He),
                shapeset(tanh, normalized),
            ],
            // Every configuration any other output draws: all of them have their rate chosen.
            FigureId::LrSelect => {
                let mut all: Vec<Selector> = FigureId::ALL
                    .into_iter()
                    .filter(|&f| f != FigureId::LrSelect)
                    .flat_map(|f| f.needs(available))
                    .collect();
                all.sort();
                all.dedup();
                all
            }
        };
        wanted
            .into_iter()
            .filter(|s| available.contains(&s.dataset))
            .collect()
    }
}

/// The columns of `table1.csv`, in order: written by `figures`, read by `paper diff`.
pub mod table1_csv {
    pub const DATASET: &str = "dataset";
    pub const ACTIVATION: &str = "activation";
    pub const INIT: &str = "init";
    pub const HIDDEN_LAYERS: &str = "hidden_layers";
    pub const SEEDS: &str = "seeds";
    pub const UPDATES: &str = "updates";
    pub const TEST_ERROR_PCT_MEAN: &str = "test_error_pct_mean";
    pub const TEST_ERROR_PCT_STD: &str = "test_error_pct_std";
    pub const CI95_LOW_PCT: &str = "ci95_low_pct";
    pub const CI95_HIGH_PCT: &str = "ci95_high_pct";
    pub const PAPER_TEST_ERROR_PCT: &str = "paper_test_error_pct";
    pub const VS_PAPER: &str = "vs_paper";
    pub const AT_PAPER_SCALE: &str = "at_paper_scale";
    pub const LR: &str = "lr";
    pub const LR_SET: &str = "lr_set";
    pub const LR_GRID: &str = "lr_grid";
    /// Whether the cell's nets left chance (the gate of every training-time claim).
    pub const LEFT_CHANCE: &str = "left_chance";
    /// Each seed's final test error: "seed:error" pairs, space-separated.
    pub const TEST_ERROR_PCT_BY_SEED: &str = "test_error_pct_by_seed";
}

/// The rows of the paper's Table 1, in its order.
pub fn table1_rows() -> impl Iterator<Item = (Activation, Init)> {
    [
        (Activation::Softsign, Init::Standard),
        (Activation::Softsign, Init::Normalized),
        (Activation::Tanh, Init::Standard),
        (Activation::Tanh, Init::Normalized),
        (Activation::Sigmoid, Init::Standard),
    ]
    .into_iter()
}

impl fmt::Display for FigureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_agree_with_clap_and_serde() {
        for figure in FigureId::ALL {
            let clap = figure.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(clap, figure.id());
            assert_eq!(serde_json::to_value(figure).unwrap(), figure.id());
        }
        assert_eq!(FigureId::ALL.len(), FigureId::value_variants().len());
    }

    #[test]
    fn needs_follow_the_paper_and_the_available_datasets() {
        let shapeset = [Dataset::Shapeset];
        assert_eq!(FigureId::Fig2.needs(&shapeset)[0].hidden_layers, FIG2_DEPTH);
        assert_eq!(FigureId::Fig11.needs(&shapeset).len(), 7);
        assert_eq!(FigureId::Table1.needs(&shapeset).len(), 5);
        assert_eq!(FigureId::Table1.needs(&Dataset::ALL).len(), 15);
        assert!(FigureId::Fig12.needs(&shapeset).is_empty());
        assert_eq!(FigureId::Fig12.needs(&[Dataset::Mnist]).len(), 5);
        assert_eq!(
            FigureId::LrSelect.needs(&shapeset).len(),
            8,
            "7 of Fig 11 and ReLU + He"
        );
        assert_eq!(FigureId::LrSelect.needs(&Dataset::ALL).len(), 8 + 5 + 5);
        assert!(FigureId::Fig6.needs(&[Dataset::Mnist]).is_empty());
        let he = FigureId::ExtHe.needs(&shapeset);
        assert!(he
            .iter()
            .any(|s| s.init == Init::He && s.activation == Activation::Relu));
        for figure in FigureId::ALL {
            let draws = !figure.datasets().is_empty();
            assert_eq!(draws, !figure.needs(&Dataset::ALL).is_empty(), "{figure}");
        }
    }
}
