//! Every figure renders from small real recordings into a PNG of the requested size with
//! ink in its plot area, and an SVG that carries the axis labels.

mod common;

use common::Fixture;
use figures::render::render;
use spec::Activation::Tanh;
use spec::Init::Normalized;
use spec::{Dataset, FigureId};
use std::collections::HashSet;
use std::path::Path;

const SIZE: (u32, u32) = (720, 540);

/// Decodes a PNG: (width, height, RGB bytes).
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buffer.truncate(info.buffer_size());
    (info.width, info.height, buffer)
}

/// Share of non-white pixels and number of distinct colours in the central box
/// (x 20%..80%, y 15%..75%), where every figure's plot area lies.
fn ink(width: u32, height: u32, rgb: &[u8]) -> (f64, usize) {
    let (mut inked, mut total) = (0usize, 0usize);
    let mut colours = HashSet::new();
    for y in height * 15 / 100..height * 75 / 100 {
        for x in width * 20 / 100..width * 80 / 100 {
            let i = 3 * (y * width + x) as usize;
            let pixel = [rgb[i], rgb[i + 1], rgb[i + 2]];
            total += 1;
            if pixel != [255, 255, 255] {
                inked += 1;
            }
            colours.insert(pixel);
        }
    }
    (inked as f64 / total as f64, colours.len())
}

#[test]
fn every_figure_renders_with_ink_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    common::write_all(&dir.path().join("runs"), &common::full_set());
    let out = dir.path().join("out");
    let written = render(&dir.path().join("runs"), &out, &[], SIZE).unwrap();
    assert_eq!(written.len(), 2 * 13 + 3, "{written:?}");

    // The label each figure's SVG must carry: an axis description or a panel title.
    let labels = [
        ("fig2", "activation value (mean, bars +-1 std)"),
        ("fig3", "triangles: 98th pct, circles: 2nd pct, lines: std"),
        ("fig4", "fraction of values per bin"),
        ("fig5", "W1[0][0] (first layer weight)"),
        ("fig6", "activation value"),
        ("fig7", "back-propagated gradient dCost/ds"),
        ("fig8", "weight gradient dCost/dW"),
        ("fig9", "dCost/dW (mean, bars +-1 std)"),
        ("fig10", "epochs (1000 updates each)"),
        ("fig11", "test error (%)"),
        ("fig12", "MNIST"),
        ("ext-he", "activation std per layer"),
    ];
    for (id, label) in labels {
        let (w, h, rgb) = decode(&out.join(format!("{id}.png")));
        assert_eq!((w, h), SIZE, "{id}");
        let (share, colours) = ink(w, h, &rgb);
        assert!(
            share > 0.01 && colours >= 3,
            "{id}: ink {share:.4}, {colours} colours"
        );
        let svg = std::fs::read_to_string(out.join(format!("{id}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{id}");
        assert!(svg.contains(label), "{id}.svg lacks {label:?}");
        let id = FigureId::ALL.into_iter().find(|f| f.id() == id).unwrap();
        assert!(svg.contains(id.title()), "{id}.svg lacks its title");
        if !id.beyond_paper() {
            assert!(
                svg.contains(&format!("Fig. {}.", &id.id()[3..])),
                "{id}.svg lacks its caption"
            );
        }
    }
    // Fig 1 keeps the sheet's size (plus its caption band) and embeds it in the SVG.
    let (w, h, rgb) = decode(&out.join("fig1.png"));
    assert!(w > 500 && h > 500);
    assert!(ink(w, h, &rgb).0 > 0.3);
    let svg = std::fs::read_to_string(out.join("fig1.svg")).unwrap();
    assert!(
        svg.contains("data:image/png;base64,iVBORw0KGgo"),
        "fig1.svg embeds a PNG"
    );
    // Table 1 and the report come with them; no temp file is left behind.
    for name in ["table1.md", "table1.csv", "REPORT.md"] {
        assert!(out.join(name).is_file(), "{name}");
    }
    assert_only_outputs(&out);
}

/// Every file in `out` is a finished output: no temp file or scratch dir is left.
fn assert_only_outputs(out: &Path) {
    let leftovers: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ![".png", ".svg", ".md", ".csv"]
                .iter()
                .any(|ext| n.ends_with(ext))
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn error_curves_band_only_with_several_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let runs = [
        Fixture::shapeset(Tanh, Normalized).error(0.10),
        Fixture::shapeset(Tanh, Normalized).error(0.20).seed(7),
    ];
    common::write_all(&dir.path().join("runs"), &runs);
    let catalog = figures::runs::Catalog::load(&dir.path().join("runs")).unwrap();
    let figure = figures::figs::error_curves::ErrorCurvesFigure::read(
        &catalog,
        &FigureId::Fig11.needs(&[Dataset::Shapeset]),
        String::new(),
    )
    .unwrap();
    let series = &figure.panels[0].series[0];
    assert_eq!(series.seeds, 2);
    let c = &series.curve;
    // the last probe: errors 10% and 20% -> mean 15, sample std sqrt(50)
    let last = c.step.len() - 1;
    assert_eq!(c.step[last], 3000.0);
    assert!((c.mean[last] - 15.0).abs() < 1e-9);
    assert!((c.std[last] - 50f64.sqrt()).abs() < 1e-9);
    assert_eq!(c.n[last], 2);
    // steps ascend
    assert!(c.step.windows(2).all(|w| w[0] < w[1]));
}

/// The same fixtures give the same bytes, and so does data one ulp away: figures are
/// published in git and compared across machines, so last-bit float noise (a sum taken in
/// another order) must not move a pixel.
#[test]
fn rendering_is_byte_identical_and_blind_to_last_bit_noise() {
    use figures::canvas::save;
    use figures::figs::layer_stats::{LayerStatsFigure, Look};
    let dir = tempfile::tempdir().unwrap();
    common::write_all(&dir.path().join("runs"), &common::full_set());
    let only = [
        FigureId::Fig8,
        FigureId::Fig9,
        FigureId::Fig11,
        FigureId::ExtHe,
    ];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = render(&dir.path().join("runs"), &a, &only, SIZE).unwrap();
    render(&dir.path().join("runs"), &b, &only, SIZE).unwrap();
    assert_eq!(first.len(), 8);
    for file in &first {
        let name = file.file_name().unwrap();
        assert!(
            std::fs::read(file).unwrap() == std::fs::read(b.join(name)).unwrap(),
            "{name:?}"
        );
    }

    let catalog = figures::runs::Catalog::load(&dir.path().join("runs")).unwrap();
    let runs: Vec<&[figures::runs::Run]> = FigureId::Fig9
        .needs(&Dataset::ALL)
        .iter()
        .map(|s| catalog.seeds(s))
        .collect();
    let titles = vec!["standard".to_string(), "normalized".to_string()];
    let read = || {
        LayerStatsFigure::read(
            &runs,
            &titles,
            spec::Quantity::WeightGrad,
            Look::MeanWithStdBars,
            "y",
            "c".into(),
        )
        .unwrap()
    };
    let exact = read();
    let mut noisy = read();
    let nudge = |v: &mut Vec<f64>| {
        for x in v.iter_mut() {
            *x = f64::from_bits(x.to_bits() + 1);
        }
    };
    for layer in noisy.panels.iter_mut().flat_map(|p| p.layers.iter_mut()) {
        nudge(&mut layer.mean);
        nudge(&mut layer.std);
    }
    let (exact_dir, noisy_dir) = (dir.path().join("exact"), dir.path().join("noisy"));
    for (figure, out) in [(&exact, &exact_dir), (&noisy, &noisy_dir)] {
        std::fs::create_dir_all(out).unwrap();
        save(figure, out, "fig", SIZE).unwrap();
    }
    for name in ["fig.png", "fig.svg"] {
        let (x, y) = (
            std::fs::read(exact_dir.join(name)).unwrap(),
            std::fs::read(noisy_dir.join(name)).unwrap(),
        );
        assert!(x == y, "{name} moved with one ulp of noise");
    }
}

/// lr-select draws every configuration's trials against the rate, the same bytes twice;
/// the report lists the chosen rates apart from its verdicts. Without trials it cannot be
/// made, and says so.
#[test]
fn lr_select_draws_the_trials_and_nothing_without_them() {
    use spec::Init::Standard;
    let dir = tempfile::tempdir().unwrap();
    let runs = common::write_all(
        &dir.path().join("runs"),
        &[
            Fixture::shapeset(Tanh, Standard).lr(0.03).error(0.27),
            Fixture::shapeset(Tanh, Normalized).lr(0.03).error(0.16),
        ],
    );
    let trials = common::write_all(&dir.path().join("trials"), &common::trials());
    let json = common::write_runs_json(dir.path(), &runs, &trials);
    let only = [FigureId::LrSelect, FigureId::Report];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = render(&json, &a, &only, SIZE).unwrap();
    render(&json, &b, &only, SIZE).unwrap();
    assert_eq!(first.len(), 3, "{first:?}");
    for file in &first {
        let name = file.file_name().unwrap();
        assert!(
            std::fs::read(file).unwrap() == std::fs::read(b.join(name)).unwrap(),
            "{name:?}"
        );
    }
    let (w, h, rgb) = decode(&a.join("lr-select.png"));
    assert_eq!((w, h), SIZE);
    let (share, colours) = ink(w, h, &rgb);
    assert!(share > 0.01 && colours >= 3, "ink {share:.4}, {colours}");
    let svg = std::fs::read_to_string(a.join("lr-select.svg")).unwrap();
    for text in [
        FigureId::LrSelect.title(),
        "learning rate (the grid, evenly spaced)",
        "validation error (%)",
        "trial seeds: 0, 1; updates per trial: 1000",
        "Tanh N: chose 0.03",
    ] {
        assert!(svg.contains(text), "lr-select.svg lacks {text:?}");
    }
    let report = std::fs::read_to_string(a.join("REPORT.md")).unwrap();
    assert!(!report.contains("| [lr-select]"), "no verdict item");
    for text in [
        "## lr-select (protocol: no claim, no verdict)",
        "![lr-select](lr-select.png)",
        "| shapeset-tanh-standard-l5 | 0.03 | selected on validation | 0.1: 70.00, **0.03: 31.00**, 0.01: 51.00 |",
        "lr 0.03 of {0.1, 0.03, 0.01}",
    ] {
        assert!(report.contains(text), "REPORT.md lacks {text:?}");
    }

    // A directory holds no trials: nothing to draw.
    let err = render(
        &dir.path().join("runs"),
        &dir.path().join("c"),
        &only[..1],
        SIZE,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "cannot make lr-select: needs learning-rate trials (the \"trials\" of a runs.json); \
         these runs have none"
    );
}

/// Fig 11's caption says how much of the test set each point is.
#[test]
fn fig11_caption_names_the_examples_each_point_is_evaluated_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = Fixture::shapeset(Tanh, Normalized);
    run.eval_examples = 500;
    common::write_all(&dir.path().join("runs"), &[run]);
    let out = dir.path().join("out");
    render(&dir.path().join("runs"), &out, &[FigureId::Fig11], SIZE).unwrap();
    let svg = std::fs::read_to_string(out.join("fig11.svg")).unwrap();
    assert!(
        svg.contains("points before the last: test error on the first 500 test examples; the last point: the whole test set"),
        "fig11.svg"
    );
    common::write_all(
        &dir.path().join("whole"),
        &[Fixture::shapeset(Tanh, Normalized)],
    );
    render(&dir.path().join("whole"), &out, &[FigureId::Fig11], SIZE).unwrap();
    let svg = std::fs::read_to_string(out.join("fig11.svg")).unwrap();
    assert!(!svg.contains("points before the last"));
}
