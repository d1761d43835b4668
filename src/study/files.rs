//! The files of a study directory: `runs.csv`, `points.csv`, `study.json`,
//! `scenario.ron` and the charts; and reading `runs.csv` back for merging.
//!
//! Owns the formats. Numbers in `runs.csv` are written in Rust's shortest
//! round-trip form, so a shard's runs read back are bit-identical to the
//! runs in memory and a merged study's statistics equal an unsharded one's.
//! A metric not reached (a threshold never crossed) is an empty cell.
//! `study.json` is written last; the directory arrives whole anyway (see
//! [`Staging`]). The CSV files have no comment line: `study.json` carries
//! the provenance.

use std::path::{Path, PathBuf};

use super::chart::charts;
use super::metrics::{METRICS, metric_index};
use super::{Estimate, Manifest, RunRow, Study};
use crate::error::{Error, StudyError};
use crate::output::{Kind, Staging};

/// The manifest's file name.
pub const STUDY_FILE: &str = "study.json";
/// One row per run.
const RUNS_FILE: &str = "runs.csv";
/// One row per point and metric.
const POINTS_FILE: &str = "points.csv";
/// The resolved base scenario.
const SCENARIO_FILE: &str = "scenario.ron";
/// The compliance curves' sums.
pub(super) const CURVES_FILE: &str = "curves.csv";
/// The study's page.
const REPORT_FILE: &str = "report.html";

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> String {
    String::from_utf8(w.into_inner().expect("writing to memory cannot fail"))
        .expect("csv of strings is UTF-8")
}

fn cell(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn cell4(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// `runs.csv`: `point`, one column per parameter (named by its path),
/// `replication`, `seed`, then one column per metric.
pub fn runs_csv(study: &Study) -> String {
    let m = &study.manifest;
    let mut w = csv_writer();
    let mut header = vec!["point".to_string()];
    header.extend(m.grid.iter().map(|p| p.path.clone()));
    header.extend(["replication".to_string(), "seed".to_string()]);
    header.extend(m.metrics.iter().map(|c| c.column.clone()));
    w.write_record(&header).expect("in memory");
    for run in &study.runs {
        let mut row = vec![run.point.to_string()];
        row.extend(m.points[run.point].values.iter().cloned());
        row.extend([run.replication.to_string(), run.seed.to_string()]);
        row.extend(run.values.iter().map(|&v| cell(v)));
        w.write_record(&row).expect("in memory");
    }
    finish(w)
}

/// `points.csv`: per point and metric, the number of runs that reached it,
/// their mean and standard deviation and the 95 % confidence interval of
/// the mean (Student's t), to four decimals.
pub fn points_csv(study: &Study, estimates: &[Vec<Estimate>]) -> String {
    let m = &study.manifest;
    let mut w = csv_writer();
    let mut header = vec!["point".to_string()];
    header.extend(m.grid.iter().map(|p| p.path.clone()));
    header.extend(
        [
            "metric",
            "n",
            "mean",
            "sd",
            "ci95_low",
            "ci95_high",
            "ci95_half_width",
        ]
        .map(String::from),
    );
    w.write_record(&header).expect("in memory");
    for (p, point) in m.points.iter().enumerate() {
        for (c, col) in m.metrics.iter().enumerate() {
            let e = &estimates[p][c];
            let mut row = vec![p.to_string()];
            row.extend(point.values.iter().cloned());
            row.extend([
                col.column.clone(),
                e.n.to_string(),
                cell4(e.mean),
                cell4(e.sd),
                cell4(e.low()),
                cell4(e.high()),
                cell4(e.half_width),
            ]);
            w.write_record(&row).expect("in memory");
        }
    }
    finish(w)
}

/// `study.json`.
pub fn manifest_json(manifest: &Manifest) -> String {
    let mut s = serde_json::to_string_pretty(manifest).expect("a manifest serializes");
    s.push('\n');
    s
}

fn chart_file(column: &str) -> String {
    let safe: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("chart-{}.svg", safe.trim_end_matches('-'))
}

/// Writes the study into `dir`, all at once ([`Staging`]): `dir` must be
/// new, empty or an earlier study, and not held by another command.
/// Returns the paths written.
pub fn write(dir: &Path, study: &Study) -> Result<Vec<PathBuf>, Error> {
    let mut staging = Staging::begin(dir, Kind::Study, false, &[])?;
    let written = write_into(&mut staging, study)?;
    staging.commit(None)?;
    Ok(written)
}

/// Writes the study's files into a staging directory and returns where
/// they will be once it is committed. A whole study gets every file; a
/// shard only `runs.csv`, `scenario.ron` and `study.json`, which is all
/// merging needs.
pub fn write_into(staging: &mut Staging, study: &Study) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<(String, String)> = vec![
        (RUNS_FILE.into(), runs_csv(study)),
        (CURVES_FILE.into(), super::curves::curves_csv(&study.curves)),
        (SCENARIO_FILE.into(), study.scenario_ron.clone()),
    ];
    if study.is_whole() {
        let estimates = study.estimates();
        files.push((POINTS_FILE.into(), points_csv(study, &estimates)));
        let charts: Vec<(String, String)> = charts(study, &estimates)
            .into_iter()
            .map(|(column, svg)| (chart_file(&column), svg))
            .collect();
        let curve_charts = super::chart::curve_charts(study);
        files.push((
            REPORT_FILE.into(),
            super::report::report_html(study, &estimates, &charts, &curve_charts),
        ));
        files.extend(charts);
        files.extend(curve_charts);
    }
    let mut manifest = study.manifest.clone();
    manifest.files = files.iter().map(|(name, _)| name.clone()).collect();
    files.push((STUDY_FILE.into(), manifest_json(&manifest)));
    files
        .into_iter()
        .map(|(name, text)| staging.write(&name, text.as_bytes()))
        .collect()
}

/// Reads the runs of `runs.csv` (at `path`, for messages) back, checking
/// the header and every row against the manifest.
pub fn parse_runs_csv(path: &Path, text: &str, m: &Manifest) -> Result<Vec<RunRow>, StudyError> {
    let corrupt = |line: Option<u64>, message: String| StudyError::Corrupt {
        path: match line {
            Some(l) => format!("{}:{l}", path.display()),
            None => path.display().to_string(),
        },
        message: format!(
            "{message}; it was not written by this study's `patchsim sweep`, or was edited"
        ),
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| corrupt(None, e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    let params = m.grid.len();
    let mut expected = vec!["point".to_string()];
    expected.extend(m.grid.iter().map(|p| p.path.clone()));
    expected.extend(["replication".to_string(), "seed".to_string()]);
    expected.extend(m.metrics.iter().map(|c| c.column.clone()));
    if header != expected {
        return Err(corrupt(
            Some(1),
            format!(
                "header is `{}`, expected `{}`",
                header.join(","),
                expected.join(",")
            ),
        ));
    }
    let mut runs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| corrupt(None, e.to_string()))?;
        let line = record.position().map(|p| p.line());
        let bad = |what: &str| corrupt(line, format!("bad {what}"));
        let point: usize = record[0].parse().map_err(|_| bad("point"))?;
        let info = m.points.get(point).ok_or_else(|| bad("point"))?;
        if (0..params).any(|k| record[1 + k] != info.values[k]) {
            return Err(bad("parameter values for its point"));
        }
        let replication: u32 = record[1 + params].parse().map_err(|_| bad("replication"))?;
        let seed: u64 = record[2 + params].parse().map_err(|_| bad("seed"))?;
        if m.replication_seeds.get(replication as usize) != Some(&seed) {
            return Err(bad("replication or seed"));
        }
        let values = (0..m.metrics.len())
            .map(|c| match &record[3 + params + c] {
                "" => Ok(None),
                v => {
                    let column = &m.metrics[c].column;
                    let most = metric_index(&m.metrics[c].metric).map_or(0.0, |i| METRICS[i].most);
                    match v.parse::<f64>() {
                        Ok(x) if (0.0..=most).contains(&x) => Ok(Some(x)),
                        Ok(x) if x.is_finite() => Err(corrupt(
                            line,
                            format!("column {column}: {v} is not in 0 to {most} (no run gives it)"),
                        )),
                        _ => Err(corrupt(
                            line,
                            format!(
                                "column {column}: '{v}' is not a finite number (an empty cell \
                                 means not reached)"
                            ),
                        )),
                    }
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(message) = milestones_out_of_order(m, &values) {
            return Err(corrupt(line, message));
        }
        runs.push(RunRow {
            point,
            replication,
            seed,
            values,
        });
    }
    Ok(runs)
}

/// Where a run's milestones contradict each other, how: per deployment
/// and view, a share is reached no later than a greater one, and reached
/// whenever a greater one is.
fn milestones_out_of_order(m: &Manifest, values: &[Option<f64>]) -> Option<String> {
    // (entity, view) → (percent, column), for the `hours_to_{pct}_{view}` columns.
    let mut groups: std::collections::BTreeMap<(usize, &str), Vec<(u32, usize)>> =
        std::collections::BTreeMap::new();
    for (c, info) in m.metrics.iter().enumerate() {
        let Some((pct, view)) =
            (info.metric.strip_prefix("hours_to_")).and_then(|r| r.split_once('_'))
        else {
            continue;
        };
        if let Ok(pct) = pct.parse::<u32>() {
            groups
                .entry((info.entity, view))
                .or_default()
                .push((pct, c));
        }
    }
    for mut list in groups.into_values() {
        list.sort_unstable();
        for pair in list.windows(2) {
            let ((_, lower), (_, higher)) = (pair[0], pair[1]);
            let name = |c: usize| &m.metrics[c].column;
            match (values[lower], values[higher]) {
                (None, Some(_)) => {
                    return Some(format!(
                        "column {} is empty (not reached) but {} was reached",
                        name(lower),
                        name(higher)
                    ));
                }
                (Some(a), Some(b)) if a > b => {
                    return Some(format!(
                        "column {} ({a}) is later than {} ({b}); a run reaches the smaller \
                         share first",
                        name(lower),
                        name(higher)
                    ));
                }
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_file_names_are_safe() {
        assert_eq!(chart_file("hours_to_95_true"), "chart-hours_to_95_true.svg");
        assert_eq!(
            chart_file("hours_to_95_true[nov cu]"),
            "chart-hours_to_95_true-nov-cu.svg"
        );
    }

    #[test]
    fn shortest_form_round_trips() {
        for x in [0.1, 12.345, 1.0 / 3.0, 37_606_615.0, 1e-7] {
            assert_eq!(cell(Some(x)).parse::<f64>().unwrap(), x);
        }
        assert_eq!(cell(None), "");
    }
}
