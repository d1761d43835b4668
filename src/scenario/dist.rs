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
        whole_ms(ms)
    }

    /// The same distribution, ready to be drawn from many times.
    pub fn sampler(&self) -> Sampler {
        Sampler {
            log_normal: match self {
                Dist::LogNormal { median, sigma } => Some(
                    LogNormal::new((median.0.as_ms() as f64).ln(), *sigma)
                        .expect("validated sigma"),
                ),
                _ => None,
            },
            dist: self.clone(),
        }
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

/// A [`Dist`] for drawing from often (a server's service time, drawn for
/// every request): a log-normal is set up (`μ = ln(median)`) once instead
/// of at every draw. Draws exactly what [`Dist::sample`] draws.
#[derive(Clone, Debug)]
pub struct Sampler {
    dist: Dist,
    /// The distribution, ready, for a log-normal.
    log_normal: Option<LogNormal<f64>>,
}

impl Sampler {
    /// One draw, rounded to the millisecond.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match &self.log_normal {
            Some(d) => whole_ms(d.sample(rng)),
            None => self.dist.sample(rng),
        }
    }

    /// The distribution it draws from.
    pub fn dist(&self) -> &Dist {
        &self.dist
    }
}

/// A draw in milliseconds, rounded and capped: `ms.round().clamp(0.0,
/// CAP_MS)`, computed without a call to libm's `round` (one for every
/// service time drawn, about a tenth of a draw's instructions): below the
/// cap the whole part and the fraction are exact, and a fraction of at
/// least a half rounds up, as `round` does.
#[inline]
fn whole_ms(ms: f64) -> SimDuration {
    if ms.is_nan() || ms <= 0.0 {
        return SimDuration(0);
    }
    if ms >= CAP_MS {
        return SimDuration(CAP_MS as u64);
    }
    let whole = ms as u64;
    let up = ms - whole as f64 >= 0.5;
    SimDuration(whole + u64::from(up))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Dur;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The rounding is `round` then `clamp`, at every edge.
    #[test]
    fn whole_ms_rounds_as_round_and_clamp() {
        let reference = |ms: f64| ms.round().clamp(0.0, CAP_MS) as u64;
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            2.4999999999999996,
            4_503_599_627_370_495.5,
            -0.3,
            -0.5,
            -7.9,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            CAP_MS,
            CAP_MS - 0.5,
            CAP_MS - 0.500_000_1,
            CAP_MS + 0.5,
            1e300,
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..100_000 {
            let scale = 10f64.powi(rng.random_range(-3..12));
            values.push(rng.random::<f64>() * scale);
            values.push(rng.random_range(0..1_000_000u64) as f64 + 0.5);
        }
        for ms in values {
            assert_eq!(whole_ms(ms).as_ms(), reference(ms), "{ms:?}");
        }
    }

    /// A sampler draws, draw for draw, what its distribution draws.
    #[test]
    fn sampler_draws_what_the_distribution_draws() {
        let m = |s: &str| s.parse::<Dur>().unwrap();
        for d in [
            Dist::Fixed(m("10m")),
            Dist::Uniform {
                min: m("1m"),
                max: m("5m"),
            },
            Dist::Exponential { mean: m("20m") },
            Dist::LogNormal {
                median: m("100ms"),
                sigma: 0.5,
            },
            Dist::LogNormal {
                median: m("45m"),
                sigma: 2.5,
            },
        ] {
            let sampler = d.sampler();
            assert_eq!(sampler.dist(), &d);
            let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(9), ChaCha8Rng::seed_from_u64(9));
            for i in 0..10_000 {
                assert_eq!(sampler.sample(&mut a), d.sample(&mut b), "{d:?}, draw {i}");
            }
        }
    }

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
