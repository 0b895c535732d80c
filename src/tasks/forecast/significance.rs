//! The Diebold-Mariano test: are one model's forecasts more accurate than another's on the same
//! windows, or is the difference within what chance gives on so few of them?
//!
//! Diebold & Mariano (1995), with Harvey, Leybourne & Newbold's (1997) small-sample correction,
//! the form forecasters use to compare two models on a held-out part (R's `forecast::dm.test`).
//! For losses `a[t]` and `b[t]` of the two models on window t, `d[t] = a[t] - b[t]`; the statistic
//! is `mean(d) / sqrt(V / n)` with V the long-run variance of d (its autocovariances up to lag
//! h - 1: forecasts h steps ahead from consecutive windows overlap), scaled by
//! `sqrt((n + 1 - 2h + h(h - 1) / n) / n)` and read against Student's t with n - 1 degrees of
//! freedom.

#![warn(missing_docs)]

/// The one-sided p-value of "model b's losses are lower than model a's" (`a`, `b`: each window's
/// loss, in the same order; `horizon`: steps ahead, 1 for independent windows). Small values say
/// b is better beyond chance. None with fewer than two windows, or when every difference is equal
/// (no variance to test against).
pub fn diebold_mariano(a: &[f64], b: &[f64], horizon: usize) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "diebold_mariano: {} losses against {}", a.len(), b.len());
    let n = a.len();
    if n < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(a, b)| a - b).collect();
    let nf = n as f64;
    let mean = d.iter().sum::<f64>() / nf;
    let autocovariance = |lag: usize| -> f64 {
        d[lag..].iter().zip(&d[..n - lag]).map(|(x, y)| (x - mean) * (y - mean)).sum::<f64>() / nf
    };
    let h = horizon.clamp(1, n);
    let long_run = autocovariance(0) + 2.0 * (1..h).map(autocovariance).sum::<f64>();
    // The lagged terms can make the estimate negative on short series: the lag-0 variance then.
    let variance = if long_run > 0.0 { long_run } else { autocovariance(0) };
    if variance <= 0.0 || !variance.is_finite() {
        return None;
    }
    let hf = h as f64;
    let correction = ((nf + 1.0 - 2.0 * hf + hf * (hf - 1.0) / nf) / nf).max(0.0).sqrt();
    let statistic = mean / (variance / nf).sqrt() * correction;
    Some(student_t_upper_tail(statistic, nf - 1.0))
}

/// P(T > t) for Student's t with `nu` degrees of freedom.
pub fn student_t_upper_tail(t: f64, nu: f64) -> f64 {
    // P(|T| > |t|) = I_x(nu / 2, 1 / 2) with x = nu / (nu + t^2).
    let two_sided = regularized_incomplete_beta(nu / (nu + t * t), nu / 2.0, 0.5);
    if t >= 0.0 {
        two_sided / 2.0
    } else {
        1.0 - two_sided / 2.0
    }
}

/// I_x(a, b), the regularized incomplete beta function, by its continued fraction (Lentz's
/// method), on the side of x where it converges fast.
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        log_front.exp() * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - log_front.exp() * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of I_x(a, b) (its even and odd terms), to 1e-14.
fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut fraction = d;
    for m in 1..=300 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        fraction *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        fraction *= step;
        if (step - 1.0).abs() < 1e-14 {
            break;
        }
    }
    fraction
}

/// ln Γ(x) for x > 0 (Lanczos' approximation, g = 7, nine terms: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
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
        // The reflection formula: Γ(x) Γ(1 - x) = π / sin(π x).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series =
        COEFFICIENTS[1..].iter().enumerate().fold(COEFFICIENTS[0], |s, (i, c)| s + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn ln_gamma_matches_factorials_and_the_half() {
        for (n, factorial) in [(1.0, 1.0), (2.0, 1.0), (5.0, 24.0), (11.0, 3_628_800.0)] {
            assert!(close(ln_gamma(n), f64::ln(factorial), 1e-12), "ln Γ({n})");
        }
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12));
    }

    #[test]
    fn t_tails_match_the_tables_and_closed_forms() {
        // Closed forms: nu = 1 is Cauchy, nu = 2 has P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2.
        assert!(close(student_t_upper_tail(1.0, 1.0), 0.25, 1e-12));
        assert!(close(student_t_upper_tail(2.0, 2.0), 0.5 * (1.0 - 2.0 / 6f64.sqrt()), 1e-12));
        assert!(close(student_t_upper_tail(0.0, 7.0), 0.5, 1e-12));
        // The t table's one-sided 5% and 2.5% points: 1.833 and 2.262 for 9 degrees of freedom,
        // 1.711 for 24, 1.645 for a large number (the normal's).
        assert!(close(student_t_upper_tail(1.833_113, 9.0), 0.05, 1e-6));
        assert!(close(student_t_upper_tail(2.262_157, 9.0), 0.025, 1e-6));
        assert!(close(student_t_upper_tail(1.710_882, 24.0), 0.05, 1e-6));
        assert!(close(student_t_upper_tail(1.644_854, 1e7), 0.05, 1e-6));
        assert!(close(student_t_upper_tail(-1.833_113, 9.0), 0.95, 1e-6));
    }

    #[test]
    fn a_clear_gain_is_significant_and_noise_is_not() {
        // b is better on every window by about 1 with little spread: p tiny.
        let a: Vec<f64> = (0..20).map(|i| 2.0 + 0.1 * (i % 3) as f64).collect();
        let b: Vec<f64> = (0..20).map(|i| 1.0 + 0.1 * (i % 2) as f64).collect();
        assert!(diebold_mariano(&a, &b, 1).unwrap() < 1e-6);
        // The same gain the other way round: p near 1.
        assert!(diebold_mariano(&b, &a, 1).unwrap() > 1.0 - 1e-6);
        // Differences that alternate in sign around a small mean: not significant.
        let c: Vec<f64> = (0..10).map(|i| if i % 2 == 0 { 1.5 } else { 0.4 }).collect();
        let ones = vec![1.0; 10];
        let p = diebold_mariano(&ones, &c, 1).unwrap();
        assert!(p > 0.3 && p < 0.7, "p = {p}");
    }

    #[test]
    fn the_statistic_is_the_t_test_of_the_differences_at_horizon_one() {
        // With h = 1 the correction is sqrt((n - 1) / n), which turns the 1/n variance into the
        // sample's 1/(n - 1): the one-sample t test of d, computed here by hand.
        let a = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0];
        let b = [2.0, 1.5, 3.0, 0.0, 5.5, 6.0];
        let d: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a - b).collect();
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        let s2 = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let t = mean / (s2 / n).sqrt();
        let expected = student_t_upper_tail(t, n - 1.0);
        assert!(close(diebold_mariano(&a, &b, 1).unwrap(), expected, 1e-12));
    }

    #[test]
    fn too_few_or_identical_losses_give_no_test() {
        assert_eq!(diebold_mariano(&[1.0], &[0.5], 1), None);
        assert_eq!(diebold_mariano(&[1.0, 2.0, 3.0], &[0.5, 1.5, 2.5], 1), None);
    }
}
