//! Student-t tests for Table 1. The t distribution's CDF comes from the regularized incomplete
//! beta function (Numerical Recipes' continued fraction), so no statistics crate is needed.

/// Result of a two-sided t test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    pub t: f64,
    pub df: f64,
    pub p: f64,
}

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (n - 1 in the denominator); NaN for fewer than two values.
pub fn sample_std(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    let ss: f64 = xs.iter().map(|x| (x - m).powi(2)).sum();
    (ss / (xs.len() - 1) as f64).sqrt()
}

/// Mean, sample std and count of one group: all a t test needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Summary {
    pub fn of(xs: &[f64]) -> Summary {
        Summary {
            mean: mean(xs),
            std: sample_std(xs),
            n: xs.len(),
        }
    }
}

/// One-sample two-sided t test of H0: the group's mean equals `mu`. None below two values.
pub fn one_sample_t(s: Summary, mu: f64) -> Option<TTest> {
    if s.n < 2 {
        return None;
    }
    let n = s.n as f64;
    let t = (s.mean - mu) / (s.std / n.sqrt());
    let df = n - 1.0;
    Some(TTest {
        t,
        df,
        p: two_sided_p(t, df),
    })
}

/// Welch's two-sample two-sided t test (unequal variances, Welch-Satterthwaite df).
pub fn welch_t(a: Summary, b: Summary) -> Option<TTest> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (na, nb) = (a.n as f64, b.n as f64);
    let (va, vb) = (a.std.powi(2) / na, b.std.powi(2) / nb);
    let t = (a.mean - b.mean) / (va + vb).sqrt();
    let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    Some(TTest {
        t,
        df,
        p: two_sided_p(t, df),
    })
}

/// P(|T| >= |t|) for Student's t with `df` degrees of freedom:
/// I_{df/(df+t^2)}(df/2, 1/2). A zero-variance sample gives t = +-inf and p = 0;
/// 0/0 gives NaN and p = 1 (no evidence either way).
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return 1.0;
    }
    if t.is_infinite() {
        return 0.0;
    }
    regularized_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// I_x(a, b), the regularized incomplete beta function.
pub fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast only for x < (a+1)/(a+b+2); use the symmetry
    // I_x(a,b) = 1 - I_{1-x}(b,a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// Lentz's evaluation of the incomplete beta continued fraction.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        let odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        for coefficient in [even, odd] {
            d = 1.0 + coefficient * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative error).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series = COEFFICIENTS[1..]
        .iter()
        .enumerate()
        .fold(COEFFICIENTS[0], |acc, (i, c)| {
            acc + c / (x + i as f64 + 1.0)
        });
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        for n in 1..15u32 {
            let factorial: f64 = (1..n).map(f64::from).product();
            assert!(
                (ln_gamma(f64::from(n)) - factorial.ln()).abs() < 1e-12,
                "n={n}"
            );
        }
        // Γ(1/2) = sqrt(π)
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn p_values_match_closed_forms() {
        for t in [0.1, 0.7, 1.5, 3.0, 12.0] {
            // df = 1 is Cauchy: p = 1 - 2/π atan|t|
            let cauchy = 1.0 - 2.0 / std::f64::consts::PI * f64::atan(t);
            assert!((two_sided_p(t, 1.0) - cauchy).abs() < 1e-12, "t={t}");
            // df = 2: p = 1 - |t| / sqrt(2 + t²)
            let df2 = 1.0 - t / (2.0 + t * t).sqrt();
            assert!((two_sided_p(-t, 2.0) - df2).abs() < 1e-12, "t={t}");
        }
        // Tables: t = 2.015, df = 5 is the 0.05 one-sided (0.10 two-sided) critical value;
        // t = 4.032, df = 5 is the 0.01 two-sided one.
        assert!((two_sided_p(2.015, 5.0) - 0.10).abs() < 1e-3);
        assert!((two_sided_p(4.032, 5.0) - 0.01).abs() < 1e-4);
        // Large df approaches the normal: P(|Z| > 1.96) = 0.05
        assert!((two_sided_p(1.959_964, 1e6) - 0.05).abs() < 1e-5);
    }

    #[test]
    fn welch_matches_hand_computation() {
        let a = [1.0, 2.0, 3.0];
        let b = [2.0, 4.0, 6.0, 8.0];
        // va = 1/3, vb = (20/3)/4 = 5/3, se² = 2, t = (2 - 5)/sqrt(2)
        let r = welch_t(Summary::of(&a), Summary::of(&b)).unwrap();
        assert!((r.t + 3.0 / 2f64.sqrt()).abs() < 1e-12);
        let df = 4.0 / ((1.0 / 9.0) / 2.0 + (25.0 / 9.0) / 3.0);
        assert!((r.df - df).abs() < 1e-12);
        assert!(r.p > 0.05 && r.p < 0.15, "p = {}", r.p);
    }
}
