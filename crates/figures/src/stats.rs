//! The statistics of Table 1 and the paired comparisons: Student t, exact binomial (McNemar,
//! Clopper-Pearson) and the interval for a configuration's test error. The t and binomial
//! distributions come from the regularized incomplete beta function (Numerical Recipes'
//! continued fraction), so no statistics crate is needed; the tests pin values computed once
//! with scipy 1.17.1.

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The median (the mean of the middle two for an even count); NaN for no value.
pub fn median(xs: &[f64]) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
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

/// Mean, sample std and count of one group.
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

/// P(|T| >= |t|) for Student's t with `df` degrees of freedom:
/// I_{df/(df+t^2)}(df/2, 1/2). t = +-inf gives p = 0; NaN gives p = 1 (no evidence).
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return 1.0;
    }
    if t.is_infinite() {
        return 0.0;
    }
    regularized_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// The t quantile of two-sided tail `alpha`: the t with `two_sided_p(t, df) = alpha`
/// (scipy's `t.ppf(1 - alpha / 2, df)`).
pub fn t_quantile(alpha: f64, df: f64) -> f64 {
    // two_sided_p falls from 1 at t = 0 to 0; bisection to the last bit.
    let (mut low, mut high) = (0.0, 1e7);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if two_sided_p(mid, df) > alpha {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// P(X <= k) for X ~ Binomial(n, p): I_{1-p}(n - k, k + 1).
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    regularized_beta(1.0 - p, (n - k) as f64, (k + 1) as f64)
}

/// Exact two-sided McNemar test on paired outcomes: `b` examples that only the first
/// classifier got right, `c` that only the second did. Under H0 each discordant pair goes
/// either way with probability 1/2 (scipy's `binomtest(b, b + c, 0.5).pvalue`).
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    if b + c == 0 {
        return 1.0;
    }
    (2.0 * binomial_cdf(b.min(c), b + c, 0.5)).min(1.0)
}

/// A two-sided interval `[low, high]` for a fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// The exact (Clopper-Pearson) interval of level `1 - alpha` for a proportion of `k`
/// successes in `n` trials (scipy's `binomtest(k, n).proportion_ci(1 - alpha, 'exact')`).
pub fn clopper_pearson(k: u64, n: u64, alpha: f64) -> Interval {
    let (kf, nf) = (k as f64, n as f64);
    let low = if k == 0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, kf, nf - kf + 1.0)
    };
    let high = if k == n {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, kf + 1.0, nf - kf)
    };
    Interval { low, high }
}

/// The x with I_x(a, b) = q, by bisection.
fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    let (mut low, mut high) = (0.0, 1.0);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if regularized_beta(mid, a, b) < q {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// An interval of level `1 - alpha` for the expected test error of a configuration, from the
/// test errors (fractions) of its seeds on one test set of `n_test` examples.
///
/// - One seed: the exact binomial interval over the test examples.
/// - More: mean ± t_{n-1} × sqrt(s²/n + ē(1 - ē)/n_test). Seed variance (s², between the
///   seeds) and the binomial variance of the shared test set add, since every seed is
///   scored on the same examples; t with n - 1 df, because s² rests on n seeds.
pub fn error_interval(errors: &[f64], n_test: u64, alpha: f64) -> Option<Interval> {
    match errors {
        [] => None,
        [error] => {
            let k = (error * n_test as f64).round() as u64;
            Some(clopper_pearson(k.min(n_test), n_test, alpha))
        }
        _ => {
            let n = errors.len() as f64;
            let m = mean(errors);
            let variance = sample_std(errors).powi(2) / n + m * (1.0 - m) / n_test as f64;
            let half = t_quantile(alpha, n - 1.0) * variance.sqrt();
            Some(Interval {
                low: (m - half).max(0.0),
                high: (m + half).min(1.0),
            })
        }
    }
}

/// A paired comparison over seeds: the per-seed differences `first - second` and what they
/// support. The seed is the unit of replication, so this (not McNemar's test on pooled test
/// examples) is the test of "A is better than B".
#[derive(Debug, Clone, PartialEq)]
pub struct SeedTest {
    pub differences: Vec<f64>,
    pub mean: f64,
    /// The level-`1 - alpha` t interval of the mean difference (n - 1 df).
    pub interval: Interval,
    /// Two-sided p of the paired t test (scipy's `ttest_1samp(d, 0)`).
    pub t_p: f64,
    /// Two-sided p of the exact sign-flip test: the share of the 2^n sign patterns whose
    /// |mean| reaches the observed one. It cannot go below 2 / 2^n.
    pub sign_flip_p: f64,
}

/// The paired test of `differences` (at least two, finite); `None` otherwise.
pub fn seed_test(differences: &[f64], alpha: f64) -> Option<SeedTest> {
    let n = differences.len();
    if n < 2 || differences.iter().any(|d| !d.is_finite()) {
        return None;
    }
    let m = mean(differences);
    let se = sample_std(differences) / (n as f64).sqrt();
    let half = t_quantile(alpha, n as f64 - 1.0) * se;
    let t = if se > 0.0 {
        m / se
    } else if m == 0.0 {
        f64::NAN
    } else {
        m.signum() * f64::INFINITY
    };
    Some(SeedTest {
        differences: differences.to_vec(),
        mean: m,
        interval: Interval {
            low: m - half,
            high: m + half,
        },
        t_p: two_sided_p(t, n as f64 - 1.0),
        sign_flip_p: sign_flip_p(differences),
    })
}

/// Exact two-sided sign-flip p (up to 20 seeds: 2^20 patterns).
fn sign_flip_p(differences: &[f64]) -> f64 {
    let n = differences.len().min(20);
    let observed = mean(&differences[..n]).abs();
    let patterns = 1u64 << n;
    let reached = (0..patterns)
        .filter(|bits| {
            let sum: f64 = (0..n)
                .map(|i| {
                    if bits >> i & 1 == 1 {
                        -differences[i]
                    } else {
                        differences[i]
                    }
                })
                .sum();
            (sum / n as f64).abs() >= observed - 1e-12
        })
        .count();
    reached as f64 / patterns as f64
}

/// The seeds a paired t test at two-sided level `alpha` needs to detect a mean difference of
/// `gap` with power `power`, when the per-seed differences have standard deviation `sd`: the
/// smallest n with (t_{alpha/2, n-1} + t_{1-power, n-1}) sd / sqrt(n) <= gap (the usual
/// t-approximation to the noncentral t; within one seed of scipy's exact power). `None`
/// above 10,000 seeds or without a spread.
pub fn seeds_needed(gap: f64, sd: f64, alpha: f64, power: f64) -> Option<usize> {
    if !(gap.abs() > 0.0 && sd.is_finite() && sd > 0.0) {
        return None;
    }
    (2..=10_000usize).find(|&n| {
        let df = n as f64 - 1.0;
        let needed = t_quantile(alpha, df) + t_quantile(2.0 * (1.0 - power), df);
        needed * sd / (n as f64).sqrt() <= gap.abs()
    })
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
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

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

    /// Values computed once with scipy 1.17.1 (`scipy.stats.binomtest`, `t.ppf`).
    #[test]
    fn binomial_and_t_match_scipy() {
        let close = |a: f64, b: f64, what: &str| {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1e-12),
                "{what}: {a} vs scipy {b}"
            );
        };
        for (b, c, p) in [
            (5, 1, 0.21875),
            (12, 30, 0.007915897334896727),
            (130, 95, 0.023197506839685394),
            (1000, 1100, 0.03072070786424249),
            (3, 17, 0.0025768280029296875),
            (0, 7, 0.015625),
            (10, 0, 0.001953125),
            (400, 600, 2.728464156065947e-10),
        ] {
            close(mcnemar_exact(b, c), p, &format!("mcnemar {b} {c}"));
            close(mcnemar_exact(c, b), p, &format!("mcnemar {c} {b}"));
        }
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        close(mcnemar_exact(1, 0), 1.0, "mcnemar 1 0");
        for (k, n, low, high) in [
            (0, 50, 0.0, 0.07112173646420458),
            (1, 50, 0.0005062279831152354, 0.10646954571150097),
            (17, 50, 0.21205471343538201, 0.48765248772158604),
            (50, 50, 0.9288782635357954, 1.0),
            (1564, 10000, 0.1493315617623092, 0.1636691528972727),
            (8261, 10000, 0.8185266236098308, 0.8334829571049078),
        ] {
            let ci = clopper_pearson(k, n, 0.05);
            close(ci.low, low, &format!("cp low {k}/{n}"));
            close(ci.high, high, &format!("cp high {k}/{n}"));
        }
        for (df, t) in [
            (1.0, 12.706204736174694),
            (2.0, 4.302652729749462),
            (4.0, 2.7764451051977934),
            (9.0, 2.262157162798205),
            (100.0, 1.9839715185235518),
        ] {
            close(t_quantile(0.05, df), t, &format!("t.ppf df={df}"));
        }
        // numpy/scipy: m ± t.ppf(0.975, 2) * sqrt(var(ddof=1)/3 + m(1-m)/10000)
        let ci = error_interval(&[0.156, 0.162, 0.149], 10_000, 0.05).unwrap();
        close(ci.low, 0.13320427808364413, "interval low");
        close(ci.high, 0.17812905524968917, "interval high");
        let one = error_interval(&[0.1564], 10_000, 0.05).unwrap();
        close(one.low, 0.1493315617623092, "one seed low");
    }

    /// Values computed once with scipy 1.17.1 (`ttest_1samp`, `t.ppf`, an exhaustive sign
    /// flip, and the noncentral t for the power).
    #[test]
    fn seed_tests_match_scipy() {
        let close = |a: f64, b: f64, what: &str| {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1e-12),
                "{what}: {a} vs scipy {b}"
            );
        };
        for (d, p, low, high, flips) in [
            (
                vec![-1.2, -0.8, -1.5],
                0.028901085168739814,
                -2.0390671601801795,
                -0.2942661731531542,
                2.0 / 8.0,
            ),
            (
                vec![-0.3, 0.2, -0.1, -0.4, -0.2],
                0.1951379175860535,
                -0.44585251909870227,
                0.12585251909870224,
                8.0 / 32.0,
            ),
            (
                vec![0.5, -0.5, 0.1],
                0.9191547916545557,
                -1.2169885625418218,
                1.2836552292084886,
                1.0,
            ),
            (
                vec![-2.0, -2.5, -1.8, -2.2, -2.1, -1.9],
                5.050124763474597e-06,
                -2.343937314514563,
                -1.8227293521521035,
                2.0 / 64.0,
            ),
        ] {
            let t = seed_test(&d, 0.05).unwrap();
            close(t.t_p, p, &format!("t p {d:?}"));
            close(t.interval.low, low, &format!("low {d:?}"));
            close(t.interval.high, high, &format!("high {d:?}"));
            assert_eq!(t.sign_flip_p, flips, "{d:?}");
        }
        assert_eq!(seed_test(&[1.0], 0.05), None, "one seed: no test");
        // scipy's exact noncentral-t answers: 3, 24, 10, 5 seeds.
        for (gap, sd, exact) in [
            (11.55, 3.0, 3),
            (0.12, 0.2, 24),
            (1.0, 1.0, 10),
            (2.0, 1.0, 5),
        ] {
            let n = seeds_needed(gap, sd, 0.05, 0.8).unwrap();
            assert!(
                n.abs_diff(exact) <= 1,
                "gap {gap} sd {sd}: {n} vs scipy {exact}"
            );
        }
        assert_eq!(seeds_needed(1.0, 0.0, 0.05, 0.8), None);
    }
}
