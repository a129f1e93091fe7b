//! Fig 5's cost surfaces, computed here in plain Rust (no training run): a network with one
//! tanh hidden layer and a softmax output, normalized init, random inputs and targets; the
//! cross-entropy and the quadratic cost as two weights vary, one in each layer.
//!
//! The init and the generator are the runs' own (`spec::init`). The forward pass is written
//! here, in f64: the trained MLP's is tch's, and this crate must not link tch.

use spec::init::{init_bound, SplitMix64};
use spec::Init;

/// Sizes of the toy network and of the random batch it is evaluated on.
const INPUTS: usize = 10;
const HIDDEN: usize = 10;
const CLASSES: usize = 2;
const EXAMPLES: usize = 10;
/// Each varied weight spans [-RANGE, RANGE]: wide enough to saturate the softmax.
pub const RANGE: f64 = 8.0;
/// The grid points per axis.
pub const POINTS: usize = 61;
/// A grid point is on a plateau when the cost changes by less than this fraction of the
/// surface's total span when crossing the whole grid at the local slope.
pub const PLATEAU_SLOPE: f64 = 0.05;

pub struct CostSurface {
    /// Values of W1[0][0] (input 0 -> hidden 0): the x axis.
    pub w1: Vec<f64>,
    /// Values of W2[0][1] (hidden 0 -> output 1): the y axis.
    pub w2: Vec<f64>,
    /// Costs indexed [w2 index][w1 index], averaged over the examples.
    pub cross_entropy: Vec<Vec<f64>>,
    pub quadratic: Vec<Vec<f64>>,
}

/// Uniform in [-1, 1), from the runs' own generator (`spec::init`).
fn symmetric(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

struct Network {
    w1: Vec<[f64; HIDDEN]>,  // [INPUTS][HIDDEN]
    w2: Vec<[f64; CLASSES]>, // [HIDDEN][CLASSES]
}

impl Network {
    /// Normalized init (eq. 16, the runs' own `init_bound`), biases 0.
    fn normalized(rng: &mut SplitMix64) -> Network {
        let bound =
            |fan_in, fan_out| init_bound(Init::Normalized, fan_in, fan_out).expect("uniform");
        let (b1, b2) = (bound(INPUTS, HIDDEN), bound(HIDDEN, CLASSES));
        Network {
            w1: (0..INPUTS)
                .map(|_| std::array::from_fn(|_| b1 * symmetric(rng)))
                .collect(),
            w2: (0..HIDDEN)
                .map(|_| std::array::from_fn(|_| b2 * symmetric(rng)))
                .collect(),
        }
    }

    fn softmax(&self, x: &[f64; INPUTS]) -> [f64; CLASSES] {
        let hidden: [f64; HIDDEN] = std::array::from_fn(|j| {
            (0..INPUTS)
                .map(|i| x[i] * self.w1[i][j])
                .sum::<f64>()
                .tanh()
        });
        let logits: [f64; CLASSES] =
            std::array::from_fn(|k| (0..HIDDEN).map(|j| hidden[j] * self.w2[j][k]).sum());
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp = logits.map(|z| (z - max).exp());
        let total: f64 = exp.iter().sum();
        exp.map(|e| e / total)
    }
}

pub fn cost_surface(seed: u64) -> CostSurface {
    let mut rng = SplitMix64::with_state(seed);
    let mut net = Network::normalized(&mut rng);
    let examples: Vec<([f64; INPUTS], usize)> = (0..EXAMPLES)
        .map(|_| {
            let x = std::array::from_fn(|_| symmetric(&mut rng));
            (x, (rng.next_u64() % CLASSES as u64) as usize)
        })
        .collect();
    let axis: Vec<f64> = (0..POINTS)
        .map(|i| -RANGE + 2.0 * RANGE * i as f64 / (POINTS - 1) as f64)
        .collect();
    let mut cross_entropy = vec![vec![0.0; POINTS]; POINTS];
    let mut quadratic = vec![vec![0.0; POINTS]; POINTS];
    for (row, &w2) in axis.iter().enumerate() {
        for (column, &w1) in axis.iter().enumerate() {
            net.w1[0][0] = w1;
            net.w2[0][1] = w2;
            for (x, target) in &examples {
                let p = net.softmax(x);
                cross_entropy[row][column] -= p[*target].max(1e-300).ln() / EXAMPLES as f64;
                let squared: f64 = (0..CLASSES)
                    .map(|k| (p[k] - f64::from(u8::from(k == *target))).powi(2))
                    .sum();
                quadratic[row][column] += squared / EXAMPLES as f64;
            }
        }
    }
    CostSurface {
        w1: axis.clone(),
        w2: axis,
        cross_entropy,
        quadratic,
    }
}

/// Fraction of grid points whose central-difference slope, scaled by the grid width and by
/// the surface's span, is below `PLATEAU_SLOPE`: flat regions where gradient descent stalls.
pub fn plateau_fraction(cost: &[Vec<f64>]) -> f64 {
    let n = cost.len();
    let (lo, hi) = cost
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &c| {
            (lo.min(c), hi.max(c))
        });
    let span = hi - lo;
    let mut flat = 0;
    for r in 1..n - 1 {
        for c in 1..n - 1 {
            // change per grid step, times the steps across the grid
            let dx = (cost[r][c + 1] - cost[r][c - 1]) / 2.0 * (n - 1) as f64;
            let dy = (cost[r + 1][c] - cost[r - 1][c]) / 2.0 * (n - 1) as f64;
            if dx.hypot(dy) < PLATEAU_SLOPE * span {
                flat += 1;
            }
        }
    }
    flat as f64 / ((n - 2) * (n - 2)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surfaces_are_seeded_and_quadratic_is_flatter() {
        let a = cost_surface(5);
        let b = cost_surface(5);
        assert_eq!(a.cross_entropy, b.cross_entropy);
        assert_ne!(cost_surface(6).quadratic, a.quadratic);
        // the quadratic cost of a softmax is bounded by 2; cross-entropy is not
        assert!(a
            .quadratic
            .iter()
            .flatten()
            .all(|&q| (0.0..=2.0).contains(&q)));
        // not a lucky seed: the quadratic cost is flatter for every seed tried
        for seed in 1..=5 {
            let s = cost_surface(seed);
            assert!(
                plateau_fraction(&s.quadratic) > plateau_fraction(&s.cross_entropy),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn plateau_fraction_of_a_plane_and_a_flat() {
        let flat_then_ramp: Vec<Vec<f64>> = (0..11)
            .map(|_| (0..11).map(|c| f64::from((c - 5).max(0))).collect())
            .collect();
        // interior columns 1..=4 are flat (slope 0), column 5 has half slope, 6..=9 full
        let fraction = plateau_fraction(&flat_then_ramp);
        assert!((fraction - 4.0 / 9.0).abs() < 1e-12, "{fraction}");
    }
}
