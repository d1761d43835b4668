//! Summary statistics of one metric over the replications of one point.
//!
//! Owns the estimate written to `points.csv`: the mean, the sample standard
//! deviation and the 95 % confidence interval of the mean from Student's t.
//! A run in which a threshold was never reached has no value; it is left
//! out, so `n` counts only the runs that have one. Also Welch's interval
//! of the difference of two such means (`patchsim diff` of two studies).
//! Does not own which metrics exist (`metrics.rs`) or how numbers are
//! printed (`files.rs`).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The estimate of a metric's mean at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Runs that have a value.
    pub n: usize,
    /// Mean of those values; `None` when `n` is 0.
    pub mean: Option<f64>,
    /// Sample standard deviation (divisor `n - 1`); `None` when `n < 2`.
    pub sd: Option<f64>,
    /// Half-width of the 95 % confidence interval of the mean,
    /// `t(0.975, n - 1) × sd / √n`; `None` when `n < 2`.
    pub half_width: Option<f64>,
}

impl Estimate {
    /// Lower end of the 95 % confidence interval, cut at 0: every metric
    /// a study measures (a time, a count, a share, bytes) is at least 0,
    /// and so is its mean, though the symmetric interval of a few spread
    /// values may reach below it.
    pub fn low(&self) -> Option<f64> {
        Some((self.mean? - self.half_width?).max(0.0))
    }

    /// Whether [`low`](Self::low) was cut at 0: the symmetric interval,
    /// mean ± half-width, reaches below it.
    pub fn cut_at_zero(&self) -> bool {
        self.mean
            .zip(self.half_width)
            .is_some_and(|(m, h)| m - h < 0.0)
    }

    /// The mean and its interval as the tables print them: `mean ±
    /// half-width`, or `mean (0–high)` when the interval is cut at 0;
    /// the mean alone with one value; `—` with none.
    pub fn text(&self) -> String {
        match (self.mean, self.high()) {
            (None, _) => "—".to_string(),
            (Some(m), Some(high)) if self.cut_at_zero() => format!("{m:.2} (0–{high:.2})"),
            (Some(m), Some(_)) => format!("{m:.2} ± {:.2}", self.half_width.unwrap_or(0.0)),
            (Some(m), None) => format!("{m:.2}"),
        }
    }

    /// Upper end of the 95 % confidence interval.
    pub fn high(&self) -> Option<f64> {
        Some(self.mean? + self.half_width?)
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    assert!(df >= 1, "Student's t needs at least one degree of freedom");
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("location 0, scale 1 and df ≥ 1 are valid")
        .inverse_cdf(0.975)
}

/// Estimates the mean of the values present, in the order given (the sums
/// are taken in that order, so the same values give the same bits).
pub fn estimate(values: impl IntoIterator<Item = Option<f64>>) -> Estimate {
    let present: Vec<f64> = values.into_iter().flatten().collect();
    let n = present.len();
    if n == 0 {
        return Estimate {
            n,
            mean: None,
            sd: None,
            half_width: None,
        };
    }
    let mean = present.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate {
            n,
            mean: Some(mean),
            sd: None,
            half_width: None,
        };
    }
    let var = present.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    Estimate {
        n,
        mean: Some(mean),
        sd: Some(sd),
        half_width: Some(t_975(n - 1) * sd / (n as f64).sqrt()),
    }
}

/// Welch's difference of means `b − a` and its 95 % half-width.
pub fn welch(a: &[f64], b: &[f64]) -> Option<(f64, Option<f64>)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (ea, eb) = (
        estimate(a.iter().map(|&x| Some(x))),
        estimate(b.iter().map(|&x| Some(x))),
    );
    let m = eb.mean? - ea.mean?;
    let (Some(sa), Some(sb)) = (ea.sd, eb.sd) else {
        return Some((m, None));
    };
    let (va, vb) = (sa * sa / a.len() as f64, sb * sb / b.len() as f64);
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return Some((m, Some(0.0)));
    }
    let df = (va + vb).powi(2) / (va * va / (a.len() - 1) as f64 + vb * vb / (b.len() - 1) as f64);
    Some((m, Some(t_975(df.floor().max(1.0) as usize) * se)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn ci_of_one_to_five_matches_the_hand_computed_one() {
        // mean 3, sd √2.5 = 1.5811, t(0.975, 4) = 2.7764,
        // half-width 2.7764 × 1.5811 / √5 = 1.9632.
        let e = estimate([1.0, 2.0, 3.0, 4.0, 5.0].map(Some));
        assert_eq!(e.n, 5);
        assert_eq!(e.mean, Some(3.0));
        assert!(close(e.sd.unwrap(), 1.5811, 1e-4), "{e:?}");
        assert!(close(t_975(4), 2.7764, 1e-4));
        assert!(close(e.half_width.unwrap(), 1.9632, 1e-4), "{e:?}");
        assert!(close(e.low().unwrap(), 1.0368, 1e-4));
        assert!(close(e.high().unwrap(), 4.9632, 1e-4));
        assert!(!e.cut_at_zero());
        assert_eq!(e.text(), "3.00 ± 1.96");
    }

    #[test]
    fn an_interval_below_zero_is_cut_there() {
        // Two runs of a 99 % milestone 35.82 hours apart: mean 76.59, half-
        // width t(0.975, 1) × 25.33 / √2 = 227.57, so the symmetric
        // interval starts at -150.98 hours.
        let e = estimate([Some(58.68), Some(94.5)]);
        assert!(e.cut_at_zero());
        assert_eq!(e.low(), Some(0.0));
        assert!(close(e.high().unwrap(), 304.16, 0.01), "{e:?}");
        assert_eq!(e.text(), "76.59 (0–304.16)");
        assert!(
            close(e.half_width.unwrap(), 227.57, 0.01),
            "the half-width is kept"
        );
        assert_eq!(estimate([Some(2.0)]).text(), "2.00");
        assert_eq!(estimate([None]).text(), "—");
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        assert!(close(t_975(1), 12.7062, 1e-4));
        assert!(close(t_975(9), 2.2622, 1e-4));
        assert!(close(t_975(30), 2.0423, 1e-4));
    }

    #[test]
    fn missing_values_reduce_n() {
        let e = estimate([Some(2.0), None, Some(4.0), None]);
        assert_eq!((e.n, e.mean), (2, Some(3.0)));
        assert!(close(
            e.half_width.unwrap(),
            t_975(1) * 2f64.sqrt() / 2f64.sqrt(),
            1e-12
        ));
        let one = estimate([None, Some(7.0)]);
        assert_eq!(
            (one.n, one.mean, one.sd, one.half_width),
            (1, Some(7.0), None, None)
        );
        let none = estimate([None, None]);
        assert_eq!((none.n, none.mean, none.low()), (0, None, None));
    }

    #[test]
    fn welch_matches_a_hand_computed_interval() {
        // a: mean 2, variance 2/3; b: mean 4.5, variance 11/3; n = 4 each:
        // se = √(2/3/4 + 11/3/4) = √1.0833 = 1.0408;
        // df = 1.0833² / ((1/6)²/3 + (11/12)²/3) = 4.06 → 4;
        // t(0.975, 4) = 2.7764; half-width 2.8898.
        let a = [1.0, 2.0, 2.0, 3.0];
        let b = [3.0, 3.0, 5.0, 7.0];
        let (m, hw) = welch(&a, &b).unwrap();
        assert!((m - 2.5).abs() < 1e-9, "{m}");
        let hw = hw.expect("a half-width");
        assert!((hw - 2.8898).abs() < 1e-3, "{hw}");
        assert_eq!(welch(&[], &b), None);
    }
}
