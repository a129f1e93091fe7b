//! Table 1 against hand-computed numbers on fixtures with known final errors.

mod common;

use common::Fixture;
use figures::runs::Catalog;
use figures::table::Table1;
use spec::{Activation, Dataset, Init, Selector};

fn catalog(fixtures: &[Fixture]) -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    common::write_all(dir.path(), fixtures);
    let catalog = Catalog::load(dir.path()).unwrap();
    (dir, catalog)
}

/// Tanh 25, 27, 29 % and Tanh N 30, 31, 32 % over three seeds; Softsign 20 % with one.
fn three_seeds() -> (tempfile::TempDir, Table1) {
    let tanh = |init| Fixture::shapeset(Activation::Tanh, init);
    let (dir, catalog) = catalog(&[
        // Tanh: 25, 27, 29 % -> mean 27, std 2 vs paper 27.15
        tanh(Init::Standard).error(0.25),
        tanh(Init::Standard).error(0.27).seed(1),
        tanh(Init::Standard).error(0.29).seed(2),
        // Tanh N: 30, 31, 32 % -> mean 31, std 1 vs paper 15.60
        tanh(Init::Normalized).error(0.30),
        tanh(Init::Normalized).error(0.31).seed(1),
        tanh(Init::Normalized).error(0.32).seed(2),
        // Softsign: one seed, no test
        Fixture::shapeset(Activation::Softsign, Init::Standard).error(0.2),
    ]);
    (dir, Table1::build(&catalog).unwrap())
}

#[test]
fn table1_means_stds_and_t_tests_match_hand_computation() {
    let (_dir, table) = three_seeds();
    let cell = |a, i| {
        let s = Selector::new(Dataset::Shapeset, a, i, 5);
        table.cells().find(|c| c.selector == s).unwrap().clone()
    };

    let standard = cell(Activation::Tanh, Init::Standard);
    let ours = standard.ours.clone().unwrap().error_pct;
    assert!((ours.mean - 27.0).abs() < 1e-9 && (ours.std - 2.0).abs() < 1e-9 && ours.n == 3);
    let t = standard.vs_paper.unwrap();
    let expected_t = (27.0 - 27.15) / (2.0 / 3f64.sqrt());
    assert!((t.t - expected_t).abs() < 1e-9);
    assert_eq!(t.df, 2.0);
    // df = 2: p = 1 - |t| / sqrt(2 + t^2)
    assert!((t.p - (1.0 - expected_t.abs() / (2.0 + expected_t.powi(2)).sqrt())).abs() < 1e-9);
    assert!(!standard.differs_from_paper());

    let normalized = cell(Activation::Tanh, Init::Normalized);
    let t = normalized.vs_paper.unwrap();
    let expected_t = (31.0 - 15.60) / (1.0 / 3f64.sqrt());
    assert!((t.t - expected_t).abs() < 1e-9);
    assert!((t.p - (1.0 - expected_t / (2.0 + expected_t.powi(2)).sqrt())).abs() < 1e-9);
    assert!(t.p < 0.005 && normalized.differs_from_paper());

    let softsign = cell(Activation::Softsign, Init::Standard);
    assert_eq!(softsign.ours.unwrap().error_pct.n, 1);
    assert!(softsign.vs_paper.is_none());

    // Welch, normalized - standard: se^2 = 1/3 + 4/3, t = 4 / sqrt(5/3)
    let welch = &table.comparisons[0];
    let w = welch.test.unwrap();
    assert!((w.t - 4.0 / (5.0f64 / 3.0).sqrt()).abs() < 1e-9);
    let df = (5.0f64 / 3.0).powi(2) / ((1.0 / 9.0) / 2.0 + (16.0 / 9.0) / 2.0);
    assert!((w.df - df).abs() < 1e-9);
}

#[test]
fn table1_markdown_and_csv_carry_the_same_numbers() {
    let (_dir, table) = three_seeds();
    let md = table.markdown();
    assert!(
        md.contains("| Tanh | 27.15 | 27.00 ± 2.00 (n=3, p=0.91) |"),
        "{md}"
    );
    assert!(
        md.contains("| Tanh N | 15.60 | **31.00 ± 1.00** (n=3, p="),
        "{md}"
    );
    assert!(md.contains("20.00 (n=1, no test)"), "{md}");
    assert!(md.contains("| Sigmoid | 82.61 | not run |"), "{md}");
    assert!(
        md.contains("| Shapeset-3x2 | Tanh | 27.00 (n=3) | 31.00 (n=3) | +4.00 |"),
        "{md}"
    );

    let csv = String::from_utf8(table.csv().unwrap()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "dataset,activation,init,hidden_layers,seeds,updates,test_error_pct_mean,test_error_pct_std,\
         paper_test_error_pct,t_vs_paper,df,p_vs_paper,differs_from_paper"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3);
    let tanh_n = rows
        .iter()
        .find(|r| r[1] == "tanh" && r[2] == "normalized")
        .unwrap();
    assert_eq!(
        &tanh_n[..6],
        ["shapeset", "tanh", "normalized", "5", "3", "3000"]
    );
    assert!((tanh_n[6].parse::<f64>().unwrap() - 31.0).abs() < 1e-9);
    assert_eq!(tanh_n[12], "true");
    let softsign_row = rows.iter().find(|r| r[1] == "softsign").unwrap();
    assert_eq!(softsign_row[7], "", "one seed has no std");
    assert_eq!(softsign_row[12], "");
}

#[test]
fn runs_at_other_depths_stay_out_of_table1() {
    let (_dir, catalog) =
        catalog(&[Fixture::new(Dataset::Shapeset, Activation::Tanh, Init::Standard, 3).error(0.5)]);
    let table = Table1::build(&catalog).unwrap();
    assert!(table.cells().all(|c| c.ours.is_none()));
}
