//! Durations drawn at random: [`Dist`], a resolved distribution in whole
//! milliseconds, and [`Sampler`] and [`Normals`], its fast paths for
//! values drawn many times (a server's service time).
//!
//! Owns the sampling arithmetic; the model calls it with the entity's own
//! random stream. Knows nothing of how a scenario file spells a
//! distribution (the scenario's schema resolves its own type into this one).

use rand::Rng;
use rand_distr::{Distribution, Exp, StandardNormal};

use crate::engine::SimDuration;

/// A distribution of durations, with its parameters in simulator units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always this value.
    Fixed(SimDuration),
    /// Uniform between two values, both included.
    Uniform {
        /// Smallest value.
        min: SimDuration,
        /// Largest value (at least `min`).
        max: SimDuration,
    },
    /// Exponential with this mean.
    Exponential {
        /// Mean.
        mean: SimDuration,
    },
    /// Log-normal with this median (`e^μ`) and shape `σ`.
    LogNormal {
        /// Median.
        median: SimDuration,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
}

/// No single draw exceeds a year: a bound against absurd log-normal tails.
const CAP_MS: f64 = 366.0 * 86_400_000.0;

impl Dist {
    /// One draw, rounded to the millisecond.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let ms = match self {
            Dist::Fixed(v) => return *v,
            Dist::Uniform { min, max } => {
                if min == max {
                    return *min;
                }
                return SimDuration(rng.random_range(min.as_ms()..=max.as_ms()));
            }
            Dist::Exponential { mean } => {
                let rate = 1.0 / mean.as_ms() as f64;
                Exp::new(rate).expect("validated mean > 0").sample(rng)
            }
            Dist::LogNormal { median, sigma } => {
                return log_normal_ms((median.as_ms() as f64).ln(), *sigma, rng);
            }
        };
        whole_ms(ms)
    }

    /// One draw of the time left of a period drawn from this distribution
    /// when the period is caught at a random moment of a long run of such
    /// periods (the *residual* period of a renewal process in equilibrium),
    /// rounded to the millisecond and at least 1 ms.
    ///
    /// A random moment falls in a period of length `x` in proportion to
    /// `x`: the period caught is *length-biased* (density `x·f(x)/μ`, `μ`
    /// the mean), and the moment is uniform within it. The time left then
    /// has density `(1 − F(x))/μ` and distribution `F_e(x) = (1/μ)·∫₀ˣ
    /// (1 − F(t)) dt`, with mean `E[X²]/(2μ)`, which is not a uniform
    /// fraction of a fresh draw (mean `μ/2`) unless every period is alike:
    ///
    /// - `Fixed(v)`: every period is `v`; the time left is uniform in
    ///   `1..=v` ms (one draw).
    /// - `Exponential`: memoryless, the time left is the same exponential
    ///   (one draw, as [`sample`](Self::sample) makes).
    /// - `LogNormal(median e^m, σ)`: `x·f(x)` is the log-normal density of
    ///   `m + σ²` and `σ` times a constant (complete the square in
    ///   `ln x`), so the period caught is log-normal with median
    ///   `e^(m + σ²)`, and the time left a uniform fraction of it (a normal
    ///   and a uniform).
    /// - `Uniform(a, b)`, `μ = (a + b)/2`: `1 − F` is 1 below `a` and
    ///   `(b − x)/(b − a)` between, so `F_e(x) = x/μ` up to `a`, and
    ///   `(a + ((b − a)² − (b − x)²)/(2(b − a)))/μ` from `a` to `b`.
    ///   Inverted at a uniform `v`: `x = vμ` when `vμ ≤ a`, else
    ///   `x = b − √((b − a)(a + b)(1 − v))` (one uniform).
    pub fn sample_residual<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let ms = match *self {
            Dist::Fixed(v) => return SimDuration(rng.random_range(1..=v.as_ms().max(1))),
            Dist::Uniform { min, max } if min == max => {
                return SimDuration(rng.random_range(1..=min.as_ms().max(1)));
            }
            Dist::Uniform { min, max } => {
                let (a, b) = (min.as_ms() as f64, max.as_ms() as f64);
                let v: f64 = rng.random();
                let at = v * (a + b) / 2.0;
                if at <= a {
                    at
                } else {
                    b - ((b - a) * (a + b) * (1.0 - v)).sqrt()
                }
            }
            Dist::Exponential { .. } => return self.sample(rng).max(SimDuration(1)),
            Dist::LogNormal { median, sigma } => {
                let mu = (median.as_ms() as f64).ln() + sigma * sigma;
                let z: f64 = rng.sample(StandardNormal);
                let caught = (mu + sigma * z).exp().min(CAP_MS);
                rng.random::<f64>() * caught
            }
        };
        whole_ms(ms).max(SimDuration(1))
    }

    /// The same distribution, ready to be drawn from many times.
    pub fn sampler(&self) -> Sampler {
        Sampler {
            log_normal: match self {
                Dist::LogNormal { median, sigma } => Some(((median.as_ms() as f64).ln(), *sigma)),
                _ => None,
            },
            dist: *self,
        }
    }

    /// The same distribution with every duration `k` times as long
    /// (rounded to the millisecond; a mean or median at least 1 ms). From
    /// the same random numbers each draw is `k` times the original's (a
    /// uniform's rare rejected numbers aside).
    pub fn scaled(&self, k: f64) -> Dist {
        let by = |v: SimDuration| SimDuration((v.as_ms() as f64 * k).round().min(CAP_MS) as u64);
        let at_least_1 = |v: SimDuration| SimDuration(by(v).as_ms().max(1));
        match *self {
            Dist::Fixed(v) => Dist::Fixed(by(v)),
            Dist::Uniform { min, max } => Dist::Uniform {
                min: by(min),
                max: by(max),
            },
            Dist::Exponential { mean } => Dist::Exponential {
                mean: at_least_1(mean),
            },
            Dist::LogNormal { median, sigma } => Dist::LogNormal {
                median: at_least_1(median),
                sigma,
            },
        }
    }

    /// The distribution's mean, for documentation and sanity checks.
    pub fn mean_ms(&self) -> f64 {
        match self {
            Dist::Fixed(v) => v.as_ms() as f64,
            Dist::Uniform { min, max } => (min.as_ms() + max.as_ms()) as f64 / 2.0,
            Dist::Exponential { mean } => mean.as_ms() as f64,
            Dist::LogNormal { median, sigma } => {
                median.as_ms() as f64 * (sigma * sigma / 2.0).exp()
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
    /// For a log-normal: `μ = ln(median)` and `σ`.
    log_normal: Option<(f64, f64)>,
}

impl Sampler {
    /// One draw, rounded to the millisecond.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self.log_normal {
            Some((mu, sigma)) => log_normal_ms(mu, sigma, rng),
            None => self.dist.sample(rng),
        }
    }

    /// The distribution it draws from.
    pub fn dist(&self) -> &Dist {
        &self.dist
    }

    /// Whether every draw takes exactly one standard normal from the
    /// generator, or nothing (a log-normal; a fixed value; a uniform range
    /// of one value): then [`sample_with`](Self::sample_with) may take the
    /// normals from [`Normals`] drawn ahead.
    pub fn takes_normals_only(&self) -> bool {
        match self.dist {
            Dist::Fixed(_) | Dist::LogNormal { .. } => true,
            Dist::Uniform { min, max } => min == max,
            Dist::Exponential { .. } => false,
        }
    }

    /// The draw [`sample`](Self::sample) makes, with the standard normal it
    /// would draw (if any) from `z` instead; only for a sampler that
    /// [`takes_normals_only`](Self::takes_normals_only).
    #[inline]
    pub fn sample_with(&self, z: impl FnOnce() -> f64) -> SimDuration {
        match (self.log_normal, &self.dist) {
            (Some((mu, sigma)), _) => whole_ms_exp(mu + sigma * z()),
            (None, Dist::Fixed(v)) => *v,
            (None, Dist::Uniform { min, max }) if min == max => *min,
            (None, d) => unreachable!("{d:?} draws more than a normal"),
        }
    }
}

/// How many standard normals [`Normals`] draws at a time.
const NORMALS_AHEAD: usize = 64;

/// Standard normals drawn ahead from a generator that draws nothing else,
/// a block at a time: the same numbers, in the same order, as drawing each
/// when it is needed, but the draws (a ziggurat step each, and the
/// generator's refills) run back to back, off the path of the event that
/// needs one. With a *favourite* log-normal (a management point's policy
/// time), the block also works out each normal's draw from it, so that
/// taking one ([`next_favourite`](Self::next_favourite)) is a read: the
/// exponential is a long chain of dependent steps, and a policy poll needs
/// its answer's service time at once. A server's service times are drawn so
/// (a draw per policy poll was about an eighth of a quiet day's
/// run).
#[derive(Clone, Debug)]
pub struct Normals {
    z: Box<[f64; NORMALS_AHEAD]>,
    favourite: Option<Favourite>,
    next: usize,
}

/// A favourite log-normal's `μ` and `σ`, and each normal's draw from it.
#[derive(Clone, Debug)]
struct Favourite {
    mu: f64,
    sigma: f64,
    ms: Box<[u64; NORMALS_AHEAD]>,
}

impl Default for Normals {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Normals {
    /// Normals drawn ahead, with `favourite`'s draws too if it is a
    /// log-normal.
    pub fn new(favourite: Option<&Sampler>) -> Self {
        Normals {
            z: Box::new([0.0; NORMALS_AHEAD]),
            favourite: (favourite.and_then(|s| s.log_normal)).map(|(mu, sigma)| Favourite {
                mu,
                sigma,
                ms: Box::new([0; NORMALS_AHEAD]),
            }),
            next: NORMALS_AHEAD,
        }
    }

    /// The next standard normal of `rng`'s sequence (which nothing else may
    /// draw from).
    #[inline]
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        if self.next == NORMALS_AHEAD {
            self.refill(rng);
        }
        let z = self.z[self.next];
        self.next += 1;
        z
    }

    /// What the favourite draws from the next standard normal, as
    /// `favourite.sample_with(|| self.next(rng))` would; `None` without a
    /// log-normal favourite.
    #[inline]
    pub fn next_favourite<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<SimDuration> {
        if self.next == NORMALS_AHEAD && self.favourite.is_some() {
            self.refill(rng);
        }
        let draw = SimDuration(self.favourite.as_ref()?.ms[self.next]);
        self.next += 1;
        Some(draw)
    }

    #[cold]
    fn refill<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        for z in self.z.iter_mut() {
            *z = rng.sample(StandardNormal);
        }
        if let Some(f) = &mut self.favourite {
            for (ms, z) in f.ms.iter_mut().zip(self.z.iter()) {
                *ms = whole_ms_exp(f.mu + f.sigma * z).0;
            }
        }
        self.next = 0;
    }
}

/// A log-normal draw in whole milliseconds: exactly
/// `whole_ms(LogNormal::new(mu, sigma).sample(rng))` (`rand_distr` draws a
/// standard normal `z` and returns `(mu + sigma·z).exp()`), with the
/// exponential from [`fast_exp`] wherever it cannot change the rounded
/// result, and from libm's `exp` where it could (hardly ever: the value
/// must lie within 2·10^-13 of itself from a half millisecond): a service
/// time is drawn for every request, and libm's `exp` was about 3 % of the
/// million-client run.
#[inline]
fn log_normal_ms<R: Rng + ?Sized>(mu: f64, sigma: f64, rng: &mut R) -> SimDuration {
    let z: f64 = rng.sample(StandardNormal);
    whole_ms_exp(mu + sigma * z)
}

/// `whole_ms(x.exp())`, with [`fast_exp`] where it gives the same.
#[inline]
fn whole_ms_exp(x: f64) -> SimDuration {
    if let Some(ms) = fast_exp(x) {
        // `fast_exp` is within `FAST_EXP_ERROR` of the exact value, and so
        // is libm's: the rounding can only differ within twice that of a
        // discontinuity of `whole_ms` (a half millisecond, or the cap).
        let margin = 2.0 * FAST_EXP_ERROR * ms;
        if ms < CAP_MS - margin {
            // The distance to the nearest half millisecond, and the nearest
            // whole one, rounded without a call or an integer conversion
            // (both exact below 2^51, and the cap is far below).
            let below = ms - 0.5;
            if (below - round_even(below)).abs() > margin {
                // Not at a half: rounding to even is rounding half up.
                return SimDuration(round_even(ms) as i64 as u64);
            }
        } else if ms > CAP_MS + margin {
            return SimDuration(CAP_MS as u64);
        }
    }
    whole_ms(x.exp())
}

/// Adding and subtracting 1.5·2^52 rounds a float below 2^51 to an integer
/// (half to even), without a call to libm.
const ROUND: f64 = 6_755_399_441_055_744.0;

/// `v` rounded to an integer, half to even, for `|v| < 2^51`.
#[inline]
fn round_even(v: f64) -> f64 {
    (v + ROUND) - ROUND
}

/// A bound on [`fast_exp`]'s relative error (its analysis gives about
/// 4·10^-16; libm's `exp` is within an ulp, 2.2·10^-16), with a wide
/// margin: `exp_is_within_its_bound` measures it.
const FAST_EXP_ERROR: f64 = 1e-13;

/// `2^(j/64)` for `j` in `0..64` as `f64` bits (Python's `2.0 ** (j / 64)`,
/// within an ulp; `exp_is_within_its_bound` checks the result).
const EXP2_64THS: [u64; 64] = [
    0x3ff0000000000000,
    0x3ff02c9a3e778061,
    0x3ff059b0d3158574,
    0x3ff0874518759bc8,
    0x3ff0b5586cf9890f,
    0x3ff0e3ec32d3d1a2,
    0x3ff11301d0125b51,
    0x3ff1429aaea92de0,
    0x3ff172b83c7d517b,
    0x3ff1a35beb6fcb75,
    0x3ff1d4873168b9aa,
    0x3ff2063b88628cd6,
    0x3ff2387a6e756238,
    0x3ff26b4565e27cdd,
    0x3ff29e9df51fdee1,
    0x3ff2d285a6e4030b,
    0x3ff306fe0a31b715,
    0x3ff33c08b26416ff,
    0x3ff371a7373aa9cb,
    0x3ff3a7db34e59ff7,
    0x3ff3dea64c123422,
    0x3ff4160a21f72e2a,
    0x3ff44e086061892d,
    0x3ff486a2b5c13cd0,
    0x3ff4bfdad5362a27,
    0x3ff4f9b2769d2ca7,
    0x3ff5342b569d4f82,
    0x3ff56f4736b527da,
    0x3ff5ab07dd485429,
    0x3ff5e76f15ad2148,
    0x3ff6247eb03a5585,
    0x3ff6623882552225,
    0x3ff6a09e667f3bcd,
    0x3ff6dfb23c651a2f,
    0x3ff71f75e8ec5f74,
    0x3ff75feb564267c9,
    0x3ff7a11473eb0187,
    0x3ff7e2f336cf4e62,
    0x3ff82589994cce13,
    0x3ff868d99b4492ed,
    0x3ff8ace5422aa0db,
    0x3ff8f1ae99157736,
    0x3ff93737b0cdc5e5,
    0x3ff97d829fde4e50,
    0x3ff9c49182a3f090,
    0x3ffa0c667b5de565,
    0x3ffa5503b23e255d,
    0x3ffa9e6b5579fdbf,
    0x3ffae89f995ad3ad,
    0x3ffb33a2b84f15fb,
    0x3ffb7f76f2fb5e47,
    0x3ffbcc1e904bc1d2,
    0x3ffc199bdd85529c,
    0x3ffc67f12e57d14b,
    0x3ffcb720dcef9069,
    0x3ffd072d4a07897c,
    0x3ffd5818dcfba487,
    0x3ffda9e603db3285,
    0x3ffdfc97337b9b5f,
    0x3ffe502ee78b3ff6,
    0x3ffea4afa2a490da,
    0x3ffefa1bee615a27,
    0x3fff50765b6e4540,
    0x3fffa7c1819e90d8,
];

/// `e^x` for `|x| < 700`, within [`FAST_EXP_ERROR`] (relative), inline and
/// without a branch on the input: `x = (64m + j)·ln2/64 + r` with
/// `|r| ≤ ln2/128`, so `e^x = 2^m · 2^(j/64) · e^r`, `e^r` from its Taylor
/// polynomial of degree 5 (the first term left out is below 4·10^-17).
/// `None` outside the range.
#[inline]
fn fast_exp(x: f64) -> Option<f64> {
    // ln2/64 in two parts (fdlibm's split of ln2, over 64): the high part
    // has 32 significant bits, so `k·HI` is exact for |k| < 2^21.
    const HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000) / 64.0;
    const LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76) / 64.0;
    const TO_K: f64 = 64.0 / std::f64::consts::LN_2;
    if x.is_nan() || x.abs() >= 700.0 {
        return None;
    }
    // `k = round(x·64/ln2)`: the sum's low bits hold `k` as an integer.
    let shifted = x * TO_K + ROUND;
    let k = shifted.to_bits() as i64 - ROUND.to_bits() as i64;
    let kf = shifted - ROUND;
    let r = (x - kf * HI) - kf * LO;
    let r2 = r * r;
    // e^r - 1 = r + r²/2 + r³/6 + r⁴/24 + r⁵/120, in two halves at once.
    let p = r + r2 * (0.5 + r * (1.0 / 6.0)) + r2 * r2 * (1.0 / 24.0 + r * (1.0 / 120.0));
    let t = f64::from_bits(EXP2_64THS[(k & 63) as usize]);
    let scale = f64::from_bits((((k >> 6) + 1023) as u64) << 52);
    Some((t + t * p) * scale)
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
    #[test]
    fn a_scaled_distribution_takes_the_same_draws() {
        use rand::SeedableRng;
        let ms = SimDuration::from_ms;
        for (d, k) in [
            (
                Dist::LogNormal {
                    median: ms(60_000),
                    sigma: 0.5,
                },
                2.4,
            ),
            (
                Dist::Uniform {
                    min: ms(1_000),
                    max: ms(3_000),
                },
                0.8,
            ),
            (Dist::Exponential { mean: ms(5_000) }, 3.0),
            (Dist::Fixed(ms(2_000)), 0.5),
        ] {
            let scaled = d.scaled(k);
            let mut a = rand_chacha::ChaCha12Rng::seed_from_u64(3);
            let mut b = rand_chacha::ChaCha12Rng::seed_from_u64(3);
            for _ in 0..1000 {
                let (x, y) = (
                    d.sample(&mut a).as_ms() as f64,
                    scaled.sample(&mut b).as_ms() as f64,
                );
                // Each draw is k times as long, to the rounding of both.
                assert!((y - k * x).abs() <= 1.0 + k, "{d:?} × {k}: {x} → {y}");
            }
            assert!((scaled.mean_ms() - k * d.mean_ms()).abs() <= 1.0 + k);
        }
        assert_eq!(Dist::Fixed(ms(3)).scaled(1.0), Dist::Fixed(ms(3)));
    }

    use super::*;

    /// `"100ms"`, `"3s"`, `"45m"` as a duration.
    fn m(s: &str) -> SimDuration {
        let (n, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap());
        let n: u64 = n.parse().unwrap();
        SimDuration(match unit {
            "ms" => n,
            "s" => n * 1_000,
            "m" => n * 60_000,
            _ => unreachable!("{unit}"),
        })
    }
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

    /// `fast_exp` stays within its bound, with room to spare, over the
    /// whole range and densely where service times lie.
    #[test]
    fn exp_is_within_its_bound() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut worst = 0f64;
        for i in 0..2_000_000 {
            let x = if i % 2 == 0 {
                rng.random_range(-699.0..699.0)
            } else {
                rng.random_range(-5.0..30.0)
            };
            let fast = fast_exp(x).expect("in range");
            worst = worst.max(((fast - x.exp()) / x.exp()).abs());
        }
        assert!(worst < 2e-15, "worst relative error {worst:e}");
        assert!(worst < FAST_EXP_ERROR / 10.0);
        for x in [700.0, -700.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(fast_exp(x), None, "{x}");
        }
    }

    /// Rounded to the millisecond, the fast exponential gives what libm's
    /// gives: at random, right at half milliseconds (where the fallback
    /// must take over), and around the cap.
    #[test]
    fn whole_ms_exp_rounds_as_libm_exp() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut xs = vec![
            0.0,
            -1e-300,
            CAP_MS.ln(),
            (CAP_MS + 0.5).ln(),
            699.9,
            -699.9,
        ];
        for k in 0..200_000u64 {
            let half = (k as f64 + 0.5).ln();
            xs.extend([
                half,
                f64::from_bits(half.to_bits() + 1),
                f64::from_bits(half.to_bits() - 1),
            ]);
            xs.push(rng.random_range(-10.0..25.0));
        }
        for x in xs {
            assert_eq!(whole_ms_exp(x), whole_ms(x.exp()), "x = {x:e}");
        }
    }

    /// Log-normal draws are `rand_distr`'s, draw for draw.
    #[test]
    fn log_normal_draws_are_rand_distrs() {
        use rand_distr::LogNormal;
        for (median_ms, sigma) in [(100.0f64, 0.5), (2_700_000.0, 2.5), (3.0, 0.1), (0.6, 4.0)] {
            let reference = LogNormal::new(median_ms.ln(), sigma).expect("valid");
            let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(5), ChaCha8Rng::seed_from_u64(5));
            for i in 0..200_000 {
                assert_eq!(
                    log_normal_ms(median_ms.ln(), sigma, &mut a),
                    whole_ms(reference.sample(&mut b)),
                    "median {median_ms} ms, sigma {sigma}, draw {i}"
                );
            }
        }
    }

    /// A sampler draws, draw for draw, what its distribution draws.
    #[test]
    fn sampler_draws_what_the_distribution_draws() {
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

    /// Samplers fed from [`Normals`] draw, draw for draw, what they draw
    /// from the generator itself, whichever of them draws next.
    #[test]
    fn normals_drawn_ahead_are_the_same_draws() {
        let samplers = [
            Dist::LogNormal {
                median: m("100ms"),
                sigma: 0.5,
            },
            Dist::Fixed(m("3s")),
            Dist::LogNormal {
                median: m("2s"),
                sigma: 1.5,
            },
            Dist::Uniform {
                min: m("1m"),
                max: m("1m"),
            },
        ]
        .map(|d| d.sampler());
        assert!(samplers.iter().all(Sampler::takes_normals_only));
        // Without a favourite, then with each of them (the fixed one and
        // the uniform one of a single value have no draws to work out).
        for favourite in [None, Some(0), Some(1), Some(2), Some(3)] {
            let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(4), ChaCha8Rng::seed_from_u64(4));
            let mut pick = ChaCha8Rng::seed_from_u64(5);
            let mut normals = Normals::new(favourite.map(|f| &samplers[f]));
            for i in 0..10_000 {
                let k = pick.random_range(0..samplers.len());
                let s = &samplers[k];
                let ahead = match favourite {
                    Some(f) if f == k => normals
                        .next_favourite(&mut b)
                        .unwrap_or_else(|| s.sample_with(|| normals.next(&mut b))),
                    _ => s.sample_with(|| normals.next(&mut b)),
                };
                assert_eq!(ahead, s.sample(&mut a), "draw {i}, {:?}", s.dist());
            }
            let log_normal = favourite.is_some_and(|f| f % 2 == 0);
            assert_eq!(normals.next_favourite(&mut b).is_some(), log_normal);
        }
        let takes = |d: Dist| d.sampler().takes_normals_only();
        assert!(!takes(Dist::Exponential { mean: m("1s") }));
        assert!(!takes(Dist::Uniform {
            min: m("1s"),
            max: m("2s")
        }));
    }

    /// Residual draws follow the equilibrium distribution `F_e(x) =
    /// (1/μ)·∫₀ˣ (1 − F(t)) dt`, worked out here by numerical integration
    /// of each distribution's own CDF: at points across its range, the
    /// share of draws at most `x` is `F_e(x)` within binomial tolerance.
    #[test]
    fn residual_draws_follow_the_equilibrium_distribution() {
        use statrs::distribution::{ContinuousCDF, LogNormal};
        let h = 3_600_000.0;
        type Cdf = Box<dyn Fn(f64) -> f64>;
        let cases: [(Dist, Cdf); 5] = [
            (
                Dist::Fixed(m("120m")),
                Box::new(move |x: f64| f64::from(x > 2.0 * h)),
            ),
            (
                Dist::Uniform {
                    min: m("60m"),
                    max: m("300m"),
                },
                Box::new(move |x: f64| ((x - h) / (4.0 * h)).clamp(0.0, 1.0)),
            ),
            (
                Dist::Exponential { mean: m("120m") },
                Box::new(move |x: f64| 1.0 - (-x / (2.0 * h)).exp()),
            ),
            (
                Dist::LogNormal {
                    median: m("300m"),
                    sigma: 0.8,
                },
                Box::new(move |x: f64| LogNormal::new((5.0 * h).ln(), 0.8).unwrap().cdf(x)),
            ),
            (
                Dist::LogNormal {
                    median: m("840m"),
                    sigma: 1.0,
                },
                Box::new(move |x: f64| LogNormal::new((14.0 * h).ln(), 1.0).unwrap().cdf(x)),
            ),
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let n = 100_000;
        for (d, cdf) in cases {
            let mu = d.mean_ms();
            let draws: Vec<f64> = (0..n)
                .map(|_| d.sample_residual(&mut rng).as_ms() as f64)
                .collect();
            assert!(draws.iter().all(|&x| x >= 1.0));
            // F_e on a grid of a minute, by the trapezoid rule.
            let step = 60_000.0;
            let (mut t, mut integral, mut last) = (0.0, 0.0, 1.0 - cdf(0.0));
            for x in [0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0].map(|k| k * h) {
                while t < x {
                    let next = 1.0 - cdf(t + step);
                    integral += (last + next) / 2.0 * step;
                    last = next;
                    t += step;
                }
                let p = (integral / mu).min(1.0);
                let count = draws.iter().filter(|&&v| v <= x).count() as f64;
                let tol = 4.5 * (n as f64 * p * (1.0 - p)).sqrt() + 0.002 * n as f64;
                assert!(
                    (count - n as f64 * p).abs() <= tol,
                    "{d:?} at {} h: {count} of {n} at most, expected {} ± {tol}",
                    x / h,
                    n as f64 * p
                );
            }
            // And the mean is E[X²]/(2μ), not μ/2 (but for a fixed value).
            let mean = draws.iter().sum::<f64>() / n as f64;
            let want = match d {
                Dist::Fixed(v) => v.as_ms() as f64 / 2.0,
                Dist::Uniform { min, max } => {
                    let (a, b) = (min.as_ms() as f64, max.as_ms() as f64);
                    (a * a + a * b + b * b) / 3.0 / (a + b)
                }
                Dist::Exponential { mean } => mean.as_ms() as f64,
                Dist::LogNormal { median, sigma } => {
                    median.as_ms() as f64 * (1.5 * sigma * sigma).exp() / 2.0
                }
            };
            assert!(
                (mean / want - 1.0).abs() < 0.03,
                "{d:?}: mean residual {} h, expected {} h",
                mean / h,
                want / h
            );
        }
    }

    /// Sample means land within 5 standard errors of the true mean.
    #[test]
    fn sample_means_match() {
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
