//! Compliance curves of a study: per point, deployment and view (true,
//! reported), the compliant clients at each sample, summed over the runs.
//!
//! Owns `curves.csv` and the sums behind the report's curves with
//! confidence bands. The sums are integers (runs, compliant clients and
//! their squares), so adding them is exact in any order: the curves of
//! merged shards are the bytes of an unsharded study's, and worker threads
//! cannot change them. Reads each run's timeline; writes no chart.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::StudyError;
use crate::estate::Estate;
use crate::model::{Compliance, Outcome};

/// The two views, in `curves.csv` order.
pub const VIEWS: [&str; 2] = ["true", "reported"];

/// One sample's sums over runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// Runs counted.
    pub n: u64,
    /// Sum of the compliant clients.
    pub sum: u64,
    /// Sum of their squares.
    pub sum_sq: u128,
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    /// Mean compliant share, percent, and the 95 % half-width of the mean.
    pub fn pct(&self, targeted: u32) -> Option<(f64, Option<f64>)> {
        if self.n == 0 || targeted == 0 {
            return None;
        }
        let n = self.n as f64;
        let mean = self.sum as f64 / n;
        let scale = 100.0 / f64::from(targeted);
        if self.n < 2 {
            return Some((mean * scale, None));
        }
        let var = ((self.sum_sq as f64 - n * mean * mean) / (n - 1.0)).max(0.0);
        let hw = super::t_975(self.n as usize - 1) * var.sqrt() / n.sqrt();
        Some((mean * scale, Some(hw * scale)))
    }
}

/// One curve: a point's deployment in one view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Curve {
    /// Clients the deployment targets.
    pub targeted: u32,
    /// Milliseconds from the start to its creation.
    pub created_ms: u64,
    /// Each sample's time (ms from the start) and sums.
    pub samples: Vec<(u64, Sums)>,
}

/// Every curve of a study, by (point, deployment, view).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Curves(pub BTreeMap<(usize, usize, usize), Curve>);

impl Curves {
    /// The curves of one run of `point`.
    pub fn of_run(point: usize, estate: &Estate, outcome: &Outcome) -> Curves {
        let mut out = Curves::default();
        let per_time = estate.deployments.len().max(1);
        let ok = |c: &[u32; 4]| -> u64 {
            Compliance::ALL
                .iter()
                .filter(|s| s.is_compliant())
                .map(|&s| u64::from(c[s as usize]))
                .sum()
        };
        for (d, spec) in estate.deployments.iter().enumerate() {
            for (view, _) in VIEWS.iter().enumerate() {
                let samples = outcome
                    .timeline
                    .iter()
                    .skip(d)
                    .step_by(per_time)
                    .map(|row| {
                        let c = ok(if view == 0 { &row.truth } else { &row.reported });
                        (
                            row.time.as_ms(),
                            Sums {
                                n: 1,
                                sum: c,
                                sum_sq: u128::from(c) * u128::from(c),
                            },
                        )
                    })
                    .collect();
                out.0.insert(
                    (point, d, view),
                    Curve {
                        targeted: outcome.deployments[d].targeted,
                        // A later phase begins at a different time in
                        // each run: its curves count from the phased
                        // deployment's creation, the same in every run.
                        created_ms: spec
                            .phase
                            .as_ref()
                            .map_or(spec.created, |p| p.content_from)
                            .as_ms(),
                        samples,
                    },
                );
            }
        }
        out
    }

    /// Adds `other`'s sums to these (curves of the same points).
    pub fn add(&mut self, other: &Curves) {
        for (key, curve) in &other.0 {
            match self.0.get_mut(key) {
                None => {
                    self.0.insert(*key, curve.clone());
                }
                Some(mine) => {
                    for ((t, s), (u, o)) in mine.samples.iter_mut().zip(&curve.samples) {
                        debug_assert_eq!(t, u, "the runs of a point share their samples");
                        s.add(o);
                    }
                }
            }
        }
    }
}

/// `curves.csv`: one row per point, deployment, view and sample.
pub fn curves_csv(curves: &Curves) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record([
        "point",
        "deployment",
        "view",
        "time_ms",
        "created_ms",
        "hours_since_created",
        "targeted",
        "runs",
        "compliant_sum",
        "compliant_sum_sq",
    ])
    .expect("in memory");
    for (&(point, d, view), c) in &curves.0 {
        for (t, s) in &c.samples {
            w.write_record([
                point.to_string(),
                d.to_string(),
                VIEWS[view].to_string(),
                t.to_string(),
                c.created_ms.to_string(),
                format!("{:.3}", (*t as f64 - c.created_ms as f64) / 3_600_000.0),
                c.targeted.to_string(),
                s.n.to_string(),
                s.sum.to_string(),
                s.sum_sq.to_string(),
            ])
            .expect("in memory");
        }
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
}

/// Reads `curves.csv` back (at `path`, for messages): `points` points.
pub fn parse_curves_csv(path: &Path, text: &str, points: usize) -> Result<Curves, StudyError> {
    let corrupt = |line: Option<u64>, message: String| StudyError::Corrupt {
        path: match line {
            Some(l) => format!("{}:{l}", path.display()),
            None => path.display().to_string(),
        },
        message: format!("{message}; it was not written by `patchsim sweep`, or was edited"),
    };
    if let Some((line, message)) = super::files::cut_short(text) {
        return Err(corrupt(Some(line), message));
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let mut curves = Curves::default();
    for record in reader.records() {
        let record = record.map_err(|e| corrupt(None, e.to_string()))?;
        let line = record.position().map(|p| p.line());
        if record.len() != 10 {
            return Err(corrupt(line, "expected 10 columns".into()));
        }
        let num = |i: usize, what: &str| {
            record[i]
                .parse::<u64>()
                .map_err(|_| corrupt(line, format!("bad {what}")))
        };
        let point = num(0, "point")? as usize;
        let d = num(1, "deployment")? as usize;
        let view = VIEWS
            .iter()
            .position(|v| *v == &record[2])
            .ok_or_else(|| corrupt(line, "bad view".into()))?;
        if point >= points || d > u16::MAX as usize {
            return Err(corrupt(line, "bad point or deployment".into()));
        }
        let time_ms = num(3, "time_ms")?;
        let created_ms = num(4, "created_ms")?;
        let targeted =
            u32::try_from(num(6, "targeted")?).map_err(|_| corrupt(line, "bad targeted".into()))?;
        let sums = Sums {
            n: num(7, "runs")?,
            sum: num(8, "compliant_sum")?,
            sum_sq: record[9]
                .parse()
                .map_err(|_| corrupt(line, "bad compliant_sum_sq".into()))?,
        };
        let curve = curves.0.entry((point, d, view)).or_insert_with(|| Curve {
            targeted,
            created_ms,
            samples: Vec::new(),
        });
        curve.samples.push((time_ms, sums));
    }
    Ok(curves)
}

impl Curves {
    /// Where these curves (read from `curves.csv`) contradict the runs of
    /// `runs.csv` (`runs[point]`: how many runs each point has), the
    /// points' deployments (`deployments[point]`: how many its scenario
    /// lays out, a rule's included), or each other, what: every point
    /// with runs has both views of each of its deployments and no other
    /// (a point without a deployment has no curve), each sample counts
    /// those runs, all curves of a point share its sample times, and no
    /// sum exceeds what its clients allow.
    pub fn contradiction(&self, runs: &[u64], deployments: &[usize]) -> Option<String> {
        let mut grid: BTreeMap<usize, &[(u64, Sums)]> = BTreeMap::new();
        let mut curves: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (&(point, d, view), curve) in &self.0 {
            let n = runs.get(point).copied().unwrap_or(0);
            let at = |t: u64| {
                format!(
                    "point {point}, deployment {d}, {} view, time_ms {t}",
                    VIEWS[view]
                )
            };
            if n == 0 {
                return Some(format!("point {point} has curves but no runs in runs.csv"));
            }
            curves.entry(point).or_default().push((d, view));
            for pair in curve.samples.windows(2) {
                if pair[0].0 >= pair[1].0 {
                    return Some(format!("{}: the samples are out of order", at(pair[1].0)));
                }
            }
            for &(t, s) in &curve.samples {
                if s.n != n {
                    return Some(format!(
                        "{}: runs is {}, but runs.csv has {n} of this point",
                        at(t),
                        s.n
                    ));
                }
                let most = u128::from(curve.targeted);
                let (sum, sum_sq) = (u128::from(s.sum), s.sum_sq);
                if sum > u128::from(n) * most
                    || sum_sq > most * sum
                    || sum * sum > u128::from(n) * sum_sq
                {
                    return Some(format!(
                        "{}: compliant_sum {} and compliant_sum_sq {} cannot come from {n} runs of {} clients",
                        at(t),
                        s.sum,
                        s.sum_sq,
                        curve.targeted
                    ));
                }
            }
            let times = grid.entry(point).or_insert(&curve.samples);
            if times.len() != curve.samples.len()
                || times.iter().zip(&curve.samples).any(|(a, b)| a.0 != b.0)
            {
                return Some(format!(
                    "point {point}, deployment {d}, {} view: its sample times differ from those of \
                     the point's other curves",
                    VIEWS[view]
                ));
            }
        }
        for (point, &n) in runs.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let count = deployments.get(point).copied().unwrap_or(0);
            let have = curves.get(&point).map_or(&[][..], Vec::as_slice);
            let whole = (0..count).flat_map(|d| (0..VIEWS.len()).map(move |v| (d, v)));
            if !whole.eq(have.iter().copied()) {
                return Some(if have.is_empty() {
                    format!(
                        "point {point} has runs but no curves; each of its {count} deployment{} \
                         has one per view",
                        if count == 1 { "" } else { "s" }
                    )
                } else {
                    format!(
                        "point {point} has curves of {} deployment{}, but its scenario lays out \
                         {count}; each deployment has one curve per view",
                        have.len().div_ceil(VIEWS.len()),
                        if have.len() <= VIEWS.len() { "" } else { "s" }
                    )
                });
            }
        }
        None
    }

    /// Whether `other`'s curves have the samples, clients and creation of
    /// these where both have a curve (the same points of one study).
    pub fn same_grid(&self, other: &Curves) -> bool {
        other.0.iter().all(|(key, theirs)| {
            self.0.get(key).is_none_or(|mine| {
                mine.targeted == theirs.targeted
                    && mine.created_ms == theirs.created_ms
                    && mine.samples.len() == theirs.samples.len()
                    && (mine.samples.iter().zip(&theirs.samples)).all(|(a, b)| a.0 == b.0)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_give_the_mean_and_interval_of_the_share() {
        // 2, 4 and 6 of 10 clients: mean 40 %, sd 20 %, t(0.975, 2) = 4.3027.
        let mut s = Sums::default();
        for c in [2u64, 4, 6] {
            s.add(&Sums {
                n: 1,
                sum: c,
                sum_sq: u128::from(c * c),
            });
        }
        let (mean, hw) = s.pct(10).unwrap();
        assert!((mean - 40.0).abs() < 1e-9);
        assert!((hw.unwrap() - 4.3027 * 20.0 / 3f64.sqrt()).abs() < 1e-3);
        assert_eq!(Sums::default().pct(10), None);
    }
}
