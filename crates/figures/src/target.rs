//! The outputs `figures` can make, and which runs each one needs.

use crate::config::{Activation, Dataset, Init, Selector};
use crate::runs::{Catalog, Missing};

/// The depth of Table 1 and of Figs 3-4 and 6-12 in the paper.
pub const PAPER_DEPTH: usize = 5;
/// Fig 2 uses a sigmoid network with 4 hidden layers.
pub const FIG2_DEPTH: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Target {
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
    Report,
}

impl Target {
    pub const FIGURES: [Target; 12] = [
        Target::Fig1,
        Target::Fig2,
        Target::Fig3,
        Target::Fig4,
        Target::Fig5,
        Target::Fig6,
        Target::Fig7,
        Target::Fig8,
        Target::Fig9,
        Target::Fig10,
        Target::Fig11,
        Target::Fig12,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Target::Fig1 => "fig1",
            Target::Fig2 => "fig2",
            Target::Fig3 => "fig3",
            Target::Fig4 => "fig4",
            Target::Fig5 => "fig5",
            Target::Fig6 => "fig6",
            Target::Fig7 => "fig7",
            Target::Fig8 => "fig8",
            Target::Fig9 => "fig9",
            Target::Fig10 => "fig10",
            Target::Fig11 => "fig11",
            Target::Fig12 => "fig12",
            Target::Table1 => "table1",
            Target::Report => "report",
        }
    }

    /// The runs a per-run figure draws (lowest seed of each), in panel order. Empty for the
    /// outputs that take whatever exists (Figs 11-12, Table 1) or need no run (Figs 1, 5).
    pub fn selectors(self) -> Vec<Selector> {
        let shapeset = |a, i, depth| Selector::new(Dataset::Shapeset, a, i, depth);
        let (tanh, softsign) = (Activation::Tanh, Activation::Softsign);
        match self {
            Target::Fig2 => vec![shapeset(Activation::Sigmoid, Init::Standard, FIG2_DEPTH)],
            Target::Fig3 | Target::Fig4 => vec![
                shapeset(tanh, Init::Standard, PAPER_DEPTH),
                shapeset(softsign, Init::Standard, PAPER_DEPTH),
            ],
            Target::Fig6 | Target::Fig7 | Target::Fig8 | Target::Fig9 => vec![
                shapeset(tanh, Init::Standard, PAPER_DEPTH),
                shapeset(tanh, Init::Normalized, PAPER_DEPTH),
            ],
            Target::Fig10 => vec![shapeset(tanh, Init::Normalized, PAPER_DEPTH)],
            _ => Vec::new(),
        }
    }

    /// The datasets whose paper-depth runs an error-curve output draws.
    pub fn datasets(self) -> &'static [Dataset] {
        match self {
            Target::Fig11 => &[Dataset::Shapeset],
            Target::Fig12 => &[Dataset::Mnist, Dataset::Cifar10],
            Target::Table1 => &Dataset::ALL,
            _ => &[],
        }
    }

    /// Ok when the catalog holds what this output needs.
    pub fn requirement(self, catalog: &Catalog) -> Result<(), Missing> {
        let datasets = self.datasets();
        if datasets.is_empty() {
            return catalog.lowest_seeds(&self.selectors()).map(|_| ());
        }
        if paper_depth_selectors(catalog, datasets).is_empty() {
            let names: Vec<&str> = datasets.iter().map(|d| d.id()).collect();
            return Err(Missing(format!(
                "at least one run {}/<activation>/<init>/{PAPER_DEPTH} hidden layers",
                names.join("|")
            )));
        }
        Ok(())
    }
}

/// Selectors of the catalog at the paper's depth on the given datasets.
pub fn paper_depth_selectors(catalog: &Catalog, datasets: &[Dataset]) -> Vec<Selector> {
    catalog
        .selectors()
        .filter(|s| s.hidden_layers == PAPER_DEPTH && datasets.contains(&s.dataset))
        .copied()
        .collect()
}
