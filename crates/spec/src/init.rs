//! The paper's initializations as numbers, and the generator that draws them: shared by the
//! trainer (`train`, in f32 through tch) and Fig 5's cost surface (`figures`, in f64 without
//! tch), so both use one definition of eq. 1, eq. 16 and He et al.'s variance, and one
//! SplitMix64.
//!
//! SplitMix64 (Steele, Lea & Flood 2014) is the run's own source of random numbers for weight
//! init and epoch shuffles. Owning the generator keeps a seed's weights and example order fixed
//! across libtorch versions and devices (torch's generators differ between CPU and CUDA).

use crate::vocab::Init;

#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator for one purpose of one run: `stream` separates purposes (layer index,
    /// epoch number...) so that none shares numbers with another.
    pub fn new(seed: u64, stream: u64) -> SplitMix64 {
        let mut mixer = SplitMix64 { state: seed };
        let base = mixer.next_u64();
        SplitMix64 {
            state: base ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03),
        }
    }

    /// A generator started at `state` itself, for a stream that needs no separate purposes
    /// (Fig 5's toy network).
    pub fn with_state(state: u64) -> SplitMix64 {
        SplitMix64 { state }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits, exactly representable in f32.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A standard normal draw by the Box-Muller transform: sqrt(-2 ln u1) cos(2 pi u2) with
    /// u1 in (0, 1] and u2 in [0, 1), 53 random bits each (u1 is never 0, so the log is
    /// finite and |z| < 8.6). Exact in distribution (no rejection, no table); the sine half
    /// is dropped to keep one value per call. The value depends only on the two u64 drawn
    /// and the platform's f64 `ln`/`cos` (last-bit agreement across libms is not promised,
    /// but init rounds to f32, which absorbs it in all but rare ties).
    pub fn next_normal(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        let u1 = ((self.next_u64() >> 11) + 1) as f64 * SCALE;
        let u2 = (self.next_u64() >> 11) as f64 * SCALE;
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform in 0..n by Lemire's multiply-shift (bias below 2^-32 for n < 2^32).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A Fisher-Yates permutation of 0..n.
    pub fn permutation(&mut self, n: usize) -> Vec<i64> {
        let mut order: Vec<i64> = (0..n as i64).collect();
        for i in (1..n).rev() {
            let j = self.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        order
    }
}

/// The bound `a` of a uniform init U[-a, a] (eq. 1 and eq. 16 of the paper); None for
/// He's, which is normal and unbounded.
pub fn init_bound(init: Init, fan_in: usize, fan_out: usize) -> Option<f64> {
    match init {
        Init::Standard => Some(1.0 / (fan_in as f64).sqrt()),
        Init::Normalized => Some(6f64.sqrt() / ((fan_in + fan_out) as f64).sqrt()),
        Init::He => None,
    }
}

/// The standard deviation of a weight under `init`: a / sqrt(3) for U[-a, a], and
/// sqrt(2 / fan_in) for He et al. (2015), which keeps Var[relu(s)] constant across layers.
pub fn init_std(init: Init, fan_in: usize, fan_out: usize) -> f64 {
    match init_bound(init, fan_in, fan_out) {
        Some(bound) => bound / 3f64.sqrt(),
        None => (2.0 / fan_in as f64).sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| SplitMix64::new(7, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            SplitMix64::new(7, 0).next_u64(),
            SplitMix64::new(7, 1).next_u64()
        );
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut p = SplitMix64::new(1, 2).permutation(1000);
        assert_ne!(p[..10], (0..10).collect::<Vec<i64>>()[..]);
        p.sort_unstable();
        assert_eq!(p, (0..1000).collect::<Vec<i64>>());
    }

    #[test]
    fn normal_draws_have_the_moments_of_a_standard_normal() {
        let mut r = SplitMix64::new(5, 0);
        let z: Vec<f64> = (0..200_000).map(|_| r.next_normal()).collect();
        let n = z.len() as f64;
        let mean = z.iter().sum::<f64>() / n;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let kurtosis = z.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n / (var * var);
        // Standard errors at n = 2e5: mean 0.0022, variance 0.0032, kurtosis 0.011.
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.015, "{var}");
        assert!((kurtosis - 3.0).abs() < 0.06, "{kurtosis}");
    }

    #[test]
    fn uniform_mean_is_half() {
        let mut r = SplitMix64::new(3, 0);
        let mean = (0..100_000).map(|_| f64::from(r.next_f32())).sum::<f64>() / 1e5;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
    }
}
