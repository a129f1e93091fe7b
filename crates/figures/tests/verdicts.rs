//! The report's verdicts follow their rules on recordings built to pass or fail them. Each
//! figure module also tests its rule on hand-made numbers; these go through real files.

mod common;

use common::Fixture;
use figures::figs::findings;
use figures::runs::Catalog;
use figures::verdict::{Finding, Verdict};
use spec::Activation::{Relu, Softsign, Tanh};
use spec::Init::{He, Normalized, Standard};

fn findings_of(fixtures: &[Fixture]) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    common::write_all(dir.path(), fixtures);
    let catalog = Catalog::load(dir.path()).unwrap();
    findings(&catalog).unwrap()
}

/// Three seeds of `fixture` with the final test errors `errors`.
fn seeds(fixture: &Fixture, errors: [f64; 3]) -> Vec<Fixture> {
    (0..3)
        .map(|seed| fixture.clone().seed(seed).error(errors[seed as usize]))
        .collect()
}

fn verdict_of(all: &[Finding], anchor: &str) -> Verdict {
    all.iter().find(|f| f.anchor == anchor).unwrap().verdict
}

#[test]
fn paper_like_recordings_reproduce_the_init_claims() {
    let mut runs = seeds(&Fixture::shapeset(Tanh, Standard), [0.27, 0.28, 0.265]);
    runs.extend(seeds(
        &Fixture::shapeset(Tanh, Normalized),
        [0.16, 0.165, 0.15],
    ));
    let all = findings_of(&runs);
    for id in ["fig6", "fig7", "fig8", "fig11", "sec4.2.2"] {
        assert_eq!(verdict_of(&all, id), Verdict::Reproduced, "{id}: {all:?}");
    }
    assert_eq!(verdict_of(&all, "fig5"), Verdict::Reproduced);
    assert_eq!(verdict_of(&all, "fig1"), Verdict::Illustration);
    assert_eq!(verdict_of(&all, "fig2"), Verdict::NotRun);
    assert_eq!(verdict_of(&all, "ext-he"), Verdict::NotRun);
    // 27% and 16% on 10,000 examples hold the paper's 27.15% and 15.60% in their intervals,
    // but after 3000 updates, not the paper's 5M.
    assert_eq!(verdict_of(&all, "table1"), Verdict::NotTestedAtScale);
    // Fig 6's numbers: the fixture's pre-activation std at init is 0.55^(k-1) vs 0.95^(k-1)
    let fig6 = &all.iter().find(|f| f.anchor == "fig6").unwrap().measured;
    assert!(
        fig6[0].starts_with("standard shapeset-tanh-standard-l5 (seed 0)"),
        "{fig6:?}"
    );
    // every claim of every output but the report, in FigureId order with §4.2.2 after Fig 7
    let anchors: Vec<&str> = all.iter().map(|f| f.anchor).collect();
    assert_eq!(anchors.len(), 15);
    assert_eq!(anchors[6..9], ["fig7", "sec4.2.2", "fig8"]);
    assert_eq!(anchors.last(), Some(&"ext-he"));
}

#[test]
fn equal_inits_do_not_reproduce_the_init_claims() {
    let mut standard = Fixture::shapeset(Tanh, Standard);
    let normalized = Fixture::shapeset(Tanh, Normalized);
    standard.preact_std = normalized.preact_std.clone();
    standard.preact_grad_std = normalized.preact_grad_std.clone();
    standard.weight_grad_std = vec![1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2];
    standard.jacobian = 0.8;
    // Normalized worse by 1, 0.5 and 1 point over three seeds.
    let mut runs = seeds(&standard, [0.15, 0.16, 0.14]);
    runs.extend(seeds(&normalized, [0.16, 0.165, 0.15]));
    let all = findings_of(&runs);
    for id in ["fig6", "fig7", "fig8", "fig11", "sec4.2.2"] {
        assert_eq!(verdict_of(&all, id), Verdict::NotReproduced, "{id}");
    }
}

/// Nets whose activations end as they began: Fig 4's rule cannot tell them from untrained
/// ones, and must not say "reproduced".
#[test]
fn fig4_on_near_init_data_is_not_tested_at_this_scale() {
    let untrained = |activation| {
        let mut run = Fixture::shapeset(activation, Standard);
        run.preact_growth = vec![1.0; 5];
        run
    };
    let all = findings_of(&[untrained(Tanh), untrained(Softsign)]);
    let fig4 = all.iter().find(|f| f.anchor == "fig4").unwrap();
    assert_ne!(fig4.verdict, Verdict::Reproduced, "{fig4:?}");
    assert!(fig4.measured[2].starts_with("at step 0: tanh"), "{fig4:?}");
}

#[test]
fn he_init_keeps_relu_layers_level_beyond_the_paper() {
    let mut level = Fixture::shapeset(Relu, He);
    level.preact_std = vec![1.0; 5];
    let mut runs = seeds(&level, [0.14, 0.15, 0.13]);
    runs.extend(seeds(
        &Fixture::shapeset(Tanh, Normalized),
        [0.16, 0.165, 0.15],
    ));
    let all = findings_of(&runs);
    let he = all.iter().find(|f| f.anchor == "ext-he").unwrap();
    assert_eq!(he.verdict, Verdict::Reproduced, "{he:?}");
    assert_eq!(he.label(), "holds (beyond the paper)");
    assert!(
        he.measured
            .iter()
            .any(|l| l.contains("over seeds (the test of the configurations)")),
        "{he:?}"
    );

    // a ReLU net whose He init fails to keep layers level, at chance (the fixtures' majority
    // class errs on 88.9%): does not hold, and the training part is not tested
    let mut shrinking = Fixture::shapeset(Relu, He);
    shrinking.preact_std = vec![1.0, 0.5, 0.25, 0.12, 0.06];
    let mut runs = seeds(&shrinking, [0.885, 0.89, 0.888]);
    runs.extend(seeds(
        &Fixture::shapeset(Tanh, Normalized),
        [0.16, 0.165, 0.15],
    ));
    let all = findings_of(&runs);
    let he = all.iter().find(|f| f.anchor == "ext-he").unwrap();
    assert_eq!(he.verdict, Verdict::NotReproduced, "{he:?}");
    assert!(
        he.measured
            .iter()
            .any(|l| l.contains("not tested at this scale")),
        "{he:?}"
    );
}

/// Fig 9 through real files, over three seeds: whether the weight gradients' std spreads
/// apart over the layers during training, in which direction, and standard against
/// normalized. Level at init in both (as Fig 8 finds), the fixtures differ in how each layer's
/// std grows by the end.
#[test]
fn fig9_judges_how_the_spread_over_layers_grows_during_training() {
    let level = vec![2e-3; 5];
    let fig9 = |standard_growth: &[f64], normalized_growth: &[f64]| {
        let mut standard = Fixture::shapeset(Tanh, Standard);
        standard.weight_grad_std = level.clone();
        standard.weight_grad_growth = standard_growth.to_vec();
        let mut normalized = Fixture::shapeset(Tanh, Normalized);
        normalized.weight_grad_std = level.clone();
        normalized.weight_grad_growth = normalized_growth.to_vec();
        let mut runs = seeds(&standard, [0.3, 0.31, 0.29]);
        runs.extend(seeds(&normalized, [0.3, 0.31, 0.29]));
        let all = findings_of(&runs);
        all.into_iter().find(|f| f.anchor == "fig9").unwrap()
    };
    let flat = vec![1.0; 5];
    // The paper's direction for standard init: smaller in the higher layers.
    let downward = vec![256.0, 64.0, 16.0, 4.0, 1.0];
    let upward = vec![1.0, 4.0, 16.0, 64.0, 256.0];
    let reproduced = fig9(&downward, &flat);
    assert_eq!(reproduced.verdict, Verdict::Reproduced, "{reproduced:?}");
    assert!(
        reproduced.measured[0].contains("probes after step 0"),
        "{reproduced:?}"
    );
    // Spread apart the other way: the direction part fails, the level part holds.
    let partial = fig9(&upward, &flat);
    assert_eq!(partial.verdict, Verdict::Partial, "{partial:?}");
    let reversed = fig9(&upward, &upward);
    assert_eq!(reversed.verdict, Verdict::NotReproduced, "{reversed:?}");
    // Near-init data, neither spread apart: a short run cannot pass.
    let near_init = fig9(&flat, &flat);
    assert_eq!(
        near_init.verdict,
        Verdict::NotTestedAtScale,
        "{near_init:?}"
    );
}

/// §4.2.2 reads the Jacobian at step 0 from the lowest seed that measured it.
#[test]
fn the_jacobian_comes_from_the_seed_that_measured_it() {
    let mut unmeasured = Fixture::shapeset(Tanh, Standard);
    unmeasured.jacobian_examples = 0;
    let mut measured = Fixture::shapeset(Tanh, Standard).error(0.28).seed(1);
    measured.jacobian_examples = 20;
    let normalized = Fixture::shapeset(Tanh, Normalized).seed(3);
    let mut normalized_measured = normalized.clone().seed(4);
    normalized_measured.jacobian_examples = 20;
    let all = findings_of(&[
        unmeasured.clone(),
        measured,
        normalized,
        normalized_measured,
    ]);
    let jacobian = all.iter().find(|f| f.anchor == "sec4.2.2").unwrap();
    assert_eq!(jacobian.verdict, Verdict::Reproduced, "{jacobian:?}");
    assert!(
        jacobian.measured[0].starts_with(
            "standard shapeset-tanh-standard-l5 (seed 1), 20 examples: per layer [0.500, 0.500, \
             0.500, 0.500], mean 0.500; std over the examples of each one's mean singular value, \
             per layer [0.050, 0.050, 0.050, 0.050]"
        ),
        "{jacobian:?}"
    );

    let all = findings_of(&[unmeasured, Fixture::shapeset(Tanh, Normalized)]);
    let jacobian = all.iter().find(|f| f.anchor == "sec4.2.2").unwrap();
    assert_eq!(jacobian.verdict, Verdict::NotRun, "{jacobian:?}");
    assert!(jacobian.measured[0].contains("no seed measured the Jacobian"));
}
