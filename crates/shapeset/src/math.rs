//! Elementary functions built from IEEE-754 `+ - * /` only.
//!
//! `f64::sin`, `cos` and `exp` call the platform's libm, whose last-bit results differ
//! between C libraries and versions. A last-bit difference can move a vertex across a pixel
//! boundary and change the pinned dataset hashes, so the generator uses these fixed-order
//! series instead (Rust never fuses `a * b + c` on its own, so the results are identical
//! everywhere). Accuracy is within a few ulps, plenty for 32-pixel images.

use std::f64::consts::{FRAC_PI_2, LN_2};

/// `(sin, cos)` of an angle given in turns (1 turn = 2 pi).
pub fn sin_cos_turns(turns: f64) -> (f64, f64) {
    let quarters = (turns * 4.0).round();
    // turns * 4 is exact and so is the subtraction of its nearest integer: r is in [-pi/4, pi/4].
    let r = (turns * 4.0 - quarters) * FRAC_PI_2;
    let (s, c) = sin_cos_small(r);
    match (quarters as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// Taylor series for |r| <= pi/4, to r^19 and r^18: truncation error below 1e-18.
fn sin_cos_small(r: f64) -> (f64, f64) {
    let r2 = r * r;
    let mut sin = 0.0;
    let mut cos = 0.0;
    for k in (1..=9).rev() {
        let k = f64::from(k);
        // Horner on the ratios between consecutive terms.
        sin = 1.0 - r2 / ((2.0 * k) * (2.0 * k + 1.0)) * sin;
        cos = 1.0 - r2 / ((2.0 * k - 1.0) * (2.0 * k)) * cos;
    }
    (r * sin, cos)
}

/// `2^(-x)` for `x >= 0`.
pub fn exp2_neg(x: f64) -> f64 {
    if x >= 64.0 {
        // 1 - 2^-64 already rounds to 1 wherever the caller uses it.
        return 0.0;
    }
    let whole = x.floor();
    let y = -(x - whole) * LN_2; // in (-ln 2, 0]
    let mut e = 0.0;
    for k in (1..=20).rev() {
        e = 1.0 + y / f64::from(k) * e;
    }
    // 2^-whole is exact: whole < 64.
    e * f64::from_bits((1023 - whole as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_cos_match_libm_closely() {
        for k in -255..=510 {
            let turns = f64::from(k) / 255.0;
            let (s, c) = sin_cos_turns(turns);
            let angle = turns * std::f64::consts::TAU;
            // libm sees the angle rounded to the nearest double: allow for that error.
            let tolerance = 4.0 * f64::EPSILON * angle.abs().max(1.0);
            assert!(
                (s - angle.sin()).abs() < tolerance,
                "sin at {k}/255: {s} vs {}",
                angle.sin()
            );
            assert!(
                (c - angle.cos()).abs() < tolerance,
                "cos at {k}/255: {c} vs {}",
                angle.cos()
            );
        }
        assert_eq!(sin_cos_turns(0.0), (0.0, 1.0));
        assert_eq!(sin_cos_turns(0.25).0, 1.0);
    }

    #[test]
    fn exp2_matches_libm_closely() {
        for k in 0..683 {
            let x = f64::from(k) * 0.0937;
            let want = (-x).exp2();
            let got = exp2_neg(x);
            assert!(
                (got - want).abs() <= want * 4.0 * f64::EPSILON,
                "2^-{x}: {got} vs {want}"
            );
        }
        assert_eq!(exp2_neg(0.0), 1.0);
        assert_eq!(exp2_neg(3.0), 0.125);
        assert_eq!(exp2_neg(100.0), 0.0);
    }
}
