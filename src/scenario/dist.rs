//! Drawing from a [`Dist`]: random durations in whole milliseconds.
//!
//! Owns the sampling of the scenario's distributions; the model calls it
//! with the entity's own stream.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};

use super::schema::Dist;
use crate::engine::SimDuration;

/// No single draw exceeds a year: a bound against absurd log-normal tails.
const CAP_MS: f64 = 366.0 * 86_400_000.0;

impl Dist {
    /// One draw, rounded to the millisecond.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let ms = match self {
            Dist::Fixed(v) => return v.0,
            Dist::Uniform { min, max } => {
                if min == max {
                    return min.0;
                }
                return SimDuration(rng.random_range(min.0.as_ms()..=max.0.as_ms()));
            }
            Dist::Exponential { mean } => {
                let rate = 1.0 / mean.0.as_ms() as f64;
                Exp::new(rate).expect("validated mean > 0").sample(rng)
            }
            Dist::LogNormal { median, sigma } => {
                let mu = (median.0.as_ms() as f64).ln();
                LogNormal::new(mu, *sigma)
                    .expect("validated sigma")
                    .sample(rng)
            }
        };
        SimDuration(ms.round().clamp(0.0, CAP_MS) as u64)
    }

    /// The distribution's mean, for documentation and sanity checks.
    pub fn mean_ms(&self) -> f64 {
        match self {
            Dist::Fixed(v) => v.0.as_ms() as f64,
            Dist::Uniform { min, max } => (min.0.as_ms() + max.0.as_ms()) as f64 / 2.0,
            Dist::Exponential { mean } => mean.0.as_ms() as f64,
            Dist::LogNormal { median, sigma } => {
                median.0.as_ms() as f64 * (sigma * sigma / 2.0).exp()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Dur;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Sample means land within 5 standard errors of the true mean.
    #[test]
    fn sample_means_match() {
        let m = |s: &str| s.parse::<Dur>().unwrap();
        let dists = [
            (Dist::Fixed(m("10m")), 0.0),
            (
                Dist::Uniform {
                    min: m("1m"),
                    max: m("5m"),
                },
                240_000.0 / 12f64.sqrt(),
            ),
            (Dist::Exponential { mean: m("20m") }, 1_200_000.0),
            (
                Dist::LogNormal {
                    median: m("10m"),
                    sigma: 0.5,
                },
                0.0,
            ),
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 100_000;
        for (d, sd) in dists {
            let mean = (0..n)
                .map(|_| d.sample(&mut rng).as_ms() as f64)
                .sum::<f64>()
                / n as f64;
            let sd = if sd == 0.0 && matches!(d, Dist::LogNormal { .. }) {
                // sd of a log-normal: mean * sqrt(e^σ² − 1)
                d.mean_ms() * (0.25f64.exp() - 1.0).sqrt()
            } else {
                sd
            };
            let tol = 5.0 * sd / (n as f64).sqrt() + 1.0;
            assert!(
                (mean - d.mean_ms()).abs() <= tol,
                "{d:?}: mean {mean}, want {} ± {tol}",
                d.mean_ms()
            );
        }
    }
}
