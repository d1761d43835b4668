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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::chart::charts;
use super::metrics::{Column, Scope};
use super::{Estimate, Manifest, PointShape, RunRow, Shard, Study};
use crate::error::{Error, StudyError};
use crate::output::Staging;

/// The manifest's file name.
pub const STUDY_FILE: &str = "study.json";
/// One row per run.
const RUNS_FILE: &str = "runs.csv";
/// One row per point and metric.
pub(super) const POINTS_FILE: &str = "points.csv";
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
    let shown = study.shown();
    for (p, point) in m.points.iter().enumerate() {
        for (c, col) in m.metrics.iter().enumerate() {
            if !shown[c] {
                continue;
            }
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
    debug_assert_eq!(manifest.files, file_names(study), "what `read` expects");
    files.push((STUDY_FILE.into(), manifest_json(&manifest)));
    files
        .into_iter()
        .map(|(name, text)| staging.write(&name, text.as_bytes()))
        .collect()
}

/// Checks `points.csv` (at `path`, for messages; `text` `None` if it is
/// missing) of a whole study: it must be the file `sweep` writes for the
/// study's runs, row for row (its line ends may be CRLF, and it may
/// begin with a byte order mark, as the other files may), since it is what people read and `diff`
/// recomputes its numbers from `runs.csv`. The report and the charts are
/// views drawn from the same numbers and are not read back.
pub(super) fn check_points_csv(
    path: &Path,
    text: Option<&str>,
    study: &Study,
) -> Result<(), StudyError> {
    let corrupt = |line: Option<usize>, message: String| StudyError::Corrupt {
        path: match line {
            Some(l) => format!("{}:{l}", path.display()),
            None => path.display().to_string(),
        },
        message: format!("{message}: run the sweep again"),
    };
    let Some(text) = text else {
        return Err(corrupt(
            None,
            "is missing (`sweep` writes it with every whole study)".to_string(),
        ));
    };
    let expected = points_csv(study, &study.estimates());
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text == expected {
        return Ok(());
    }
    if text.is_empty() {
        return Err(corrupt(
            None,
            "is empty, but the runs in runs.csv give points; it was edited".to_string(),
        ));
    }
    let (mut found, mut wanted) = (text.lines(), expected.lines());
    let mut line = 1;
    loop {
        match (found.next(), wanted.next()) {
            (Some(f), Some(w)) if f == w => line += 1,
            // The same rows, its line ends changed (a checkout that
            // turns them into CRLF): accepted, as the other files are.
            (None, None) => return Ok(()),
            (f, w) => {
                let shown = |l: Option<&str>| match l {
                    Some(l) => format!("`{}`", clip(l)),
                    None => "nothing".to_string(),
                };
                return Err(corrupt(
                    Some(line),
                    format!(
                        "is {}, but the runs in runs.csv give {}; it was edited, or runs.csv was",
                        shown(f),
                        shown(w)
                    ),
                ));
            }
        }
    }
}

/// A line of a file for a message: at most 100 characters, control and
/// invisible ones escaped (`\u{1b}`), so that an edited file cannot act
/// on the terminal.
fn clip(line: &str) -> String {
    crate::scenario::shown(line, 100)
}

/// Where and how a CSV file the study wrote was cut short: the writer
/// ends every row with a line break, so a file that does not end with one
/// ends inside a row, perhaps inside a number ("686486" read as "68").
pub(super) fn cut_short(text: &str) -> Option<(u64, String)> {
    (!text.is_empty() && !text.ends_with('\n')).then(|| {
        (
            text.lines().count() as u64,
            "the file ends inside its last row, without the line break that ends every row: it \
             was cut short"
                .to_string(),
        )
    })
}

/// The files [`write_into`] writes beside `study.json`, in its order:
/// what the manifest's `files` lists.
pub fn file_names(study: &Study) -> Vec<String> {
    let mut names: Vec<String> = [RUNS_FILE, CURVES_FILE, SCENARIO_FILE]
        .map(String::from)
        .to_vec();
    if study.is_whole() {
        let estimates = study.estimates();
        names.extend([POINTS_FILE, REPORT_FILE].map(String::from));
        let columns = study.columns();
        names.extend(
            (super::chart::charted(study, &estimates).into_iter())
                .map(|c| chart_file(&columns[c].name)),
        );
        names.extend((super::chart::curve_chart_names(study).into_iter()).map(|(file, _, _)| file));
    }
    names
}

/// Reads the runs of `runs.csv` (at `path`, for messages) back, checking
/// the header and every row against the manifest and the points' `shapes`
/// (which cells a run of each point fills): the file must end as the
/// writer ends it, with a line break; a count must be a whole number; a
/// cell may be empty only where a run gives no value (a milestone not
/// reached, a percentile of no requests, a server the point does not
/// have, a deployment a rule never made); and a run's milestones must
/// agree with each other and with its compliant share at the end.
pub fn parse_runs_csv(
    path: &Path,
    text: &str,
    m: &Manifest,
    shapes: &[PointShape],
) -> Result<Vec<RunRow>, StudyError> {
    let corrupt = |line: Option<u64>, message: String| StudyError::Corrupt {
        path: match line {
            Some(l) => format!("{}:{l}", path.display()),
            None => path.display().to_string(),
        },
        message: format!(
            "{message}; it was not written by this study's `patchsim sweep`, or was edited"
        ),
    };
    if text.is_empty() {
        return Err(corrupt(
            None,
            "is empty: it has no header and no runs".to_string(),
        ));
    }
    if let Some((line, message)) = cut_short(text) {
        return Err(corrupt(Some(line), message));
    }
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
    let columns: Vec<Column> = m.metrics.iter().map(super::ColumnInfo::column).collect();
    let shard = m.shard.unwrap_or(Shard { index: 1, count: 1 });
    // Each run's number, with the line that gives it.
    let mut lines_of: BTreeMap<usize, u64> = BTreeMap::new();
    let mut runs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| corrupt(None, e.to_string()))?;
        let line = record.position().map(|p| p.line());
        let bad = |what: &str| corrupt(line, format!("bad {what}"));
        let point: usize = record[0].parse().map_err(|_| bad("point"))?;
        let info = m.points.get(point).ok_or_else(|| bad("point"))?;
        let shape = shapes.get(point).ok_or_else(|| bad("point"))?;
        if (0..params).any(|k| record[1 + k] != info.values[k]) {
            return Err(bad("parameter values for its point"));
        }
        let replication: u32 = record[1 + params].parse().map_err(|_| bad("replication"))?;
        let seed: u64 = record[2 + params].parse().map_err(|_| bad("seed"))?;
        if m.replication_seeds.get(replication as usize) != Some(&seed) {
            return Err(bad("replication or seed"));
        }
        let run = point * m.replications as usize + replication as usize;
        if !shard.contains(run) {
            return Err(corrupt(
                line,
                format!(
                    "the run of point {point}, replication {replication} belongs to shard {}/{}, \
                     not to this one ({shard})",
                    run % shard.count as usize + 1,
                    shard.count
                ),
            ));
        }
        if let (Some(here), Some(&before)) = (line, lines_of.get(&run)) {
            return Err(corrupt(
                Some(here),
                format!(
                    "the run of point {point}, replication {replication} is given twice, on \
                     lines {before} and {here}"
                ),
            ));
        }
        lines_of.insert(run, line.unwrap_or_default());
        let values = (columns.iter().enumerate())
            .map(|(c, column)| {
                cell_value(column, &record[3 + params + c], point, shape)
                    .map_err(|message| corrupt(line, format!("column {}: {message}", column.name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(message) = contradiction(m, &values) {
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

/// Whether a run of a point of this shape has a value in `column`: always
/// (`Some(true)`), never (`Some(false)`), or maybe (`None`: a deployment
/// a rule makes, which a run may not).
fn has_value(column: &Column, shape: &PointShape) -> Option<bool> {
    match column.metric().scope {
        Scope::Run => Some(true),
        Scope::Deployment => match shape.deployments.get(column.entity) {
            Some(true) => Some(true),
            Some(false) => None,
            None => Some(false),
        },
        // Without a name in the header, the study's only server, which
        // every point has.
        Scope::Server => Some(
            column
                .entity_name()
                .is_none_or(|name| shape.servers.iter().any(|s| s == name)),
        ),
        Scope::Link => {
            Some((column.location.as_ref()).is_some_and(|name| shape.locations.contains(name)))
        }
        // A deployment may target none of a location's clients.
        Scope::Location { .. } => {
            let here = column.location.as_ref().is_some_and(|name| {
                shape.locations.contains(name)
                    || (name == super::SITE && !shape.locations.is_empty())
            });
            (!here || column.entity >= shape.deployments.len()).then_some(false)
        }
        Scope::Locations => (shape.locations.is_empty()
            || column.entity >= shape.deployments.len())
        .then_some(false),
    }
}

/// One cell of `runs.csv` read back: the number a run of `point` can have
/// given there, or why it cannot be.
fn cell_value(
    column: &Column,
    text: &str,
    point: usize,
    shape: &PointShape,
) -> Result<Option<f64>, String> {
    let metric = column.metric();
    let has = has_value(column, shape);
    if text.is_empty() {
        return if has == Some(true) && !metric.optional {
            Err(format!(
                "is empty, but every run gives it (an empty cell means a milestone not \
                 reached{})",
                match column.metric().scope {
                    Scope::Server => " or a server the point does not have",
                    Scope::Link => " or a WAN link the point does not have",
                    _ => "",
                }
            ))
        } else {
            Ok(None)
        };
    }
    if has == Some(false) {
        return Err(format!(
            "'{text}' for a {} point {point} does not have; the cell must be empty",
            match metric.scope {
                Scope::Server => "server",
                Scope::Link => "WAN link",
                Scope::Location { .. } | Scope::Locations => "location",
                _ => "deployment",
            }
        ));
    }
    let most = metric.most;
    match text.parse::<f64>() {
        Ok(x) if (0.0..=most).contains(&x) && metric.whole && x.fract() != 0.0 => Err(format!(
            "{text} is not a whole number (it counts {})",
            metric.label
        )),
        Ok(x) if (0.0..=most).contains(&x) => Ok(Some(x)),
        Ok(x) if x.is_finite() => Err(format!("{text} is not in 0 to {most} (no run gives it)")),
        _ => Err(format!(
            "'{text}' is not a finite number (an empty cell means not reached)"
        )),
    }
}

/// Where a run's milestones contradict each other or its compliant share,
/// how: per deployment and view, a share is reached no later than a
/// greater one, and reached whenever a greater one is; a share below the
/// compliant share at the end was reached; and a deployment no run made
/// (empty compliant share) reached nothing.
fn contradiction(m: &Manifest, values: &[Option<f64>]) -> Option<String> {
    type Milestones = Vec<(u32, usize)>;
    // (entity, view) → (percent, column) for the `hours_to_{pct}_{view}`
    // columns, and the `compliant_pct_{view}` column.
    let mut groups: std::collections::BTreeMap<(usize, &str), (Milestones, Option<usize>)> =
        std::collections::BTreeMap::new();
    for (c, info) in m.metrics.iter().enumerate() {
        if let Some(view) = info.metric.strip_prefix("compliant_pct_") {
            groups.entry((info.entity, view)).or_default().1 = Some(c);
            continue;
        }
        let Some((pct, view)) =
            (info.metric.strip_prefix("hours_to_")).and_then(|r| r.split_once('_'))
        else {
            continue;
        };
        if let Ok(pct) = pct.parse::<u32>() {
            groups
                .entry((info.entity, view))
                .or_default()
                .0
                .push((pct, c));
        }
    }
    let name = |c: usize| &m.metrics[c].column;
    for (mut list, compliant) in groups.into_values() {
        list.sort_unstable();
        for pair in list.windows(2) {
            let ((_, lower), (_, higher)) = (pair[0], pair[1]);
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
        let Some(compliant) = compliant else {
            continue;
        };
        for &(pct, c) in &list {
            match (values[compliant], values[c]) {
                // The share at the end, above the milestone, was reached
                // on the way.
                (Some(share), None) if share > f64::from(pct) => {
                    return Some(format!(
                        "column {} is empty (not reached) but {} is {share}, which reaches it",
                        name(c),
                        name(compliant)
                    ));
                }
                (None, Some(_)) => {
                    return Some(format!(
                        "column {} was reached but {} is empty (a deployment no run made)",
                        name(c),
                        name(compliant)
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
    use super::super::metrics::metric_index;
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
    fn cells_are_empty_exactly_where_a_run_gives_no_value() {
        let shape = PointShape {
            servers: vec!["dp".into()],
            deployments: vec![true, false],
            locations: vec!["york".into()],
        };
        let col = |metric: &str, name: &str, entity| Column {
            name: name.into(),
            metric: metric_index(metric).expect("a metric"),
            entity,
            location: None,
        };
        let read = |c: &Column, text: &str| cell_value(c, text, 0, &shape);
        // A server the point does not have: empty, and only empty.
        let other = col("peak_queue", "peak_queue[dp-2]", 1);
        assert_eq!(read(&other, ""), Ok(None));
        assert!(
            read(&other, "3")
                .unwrap_err()
                .contains("point 0 does not have")
        );
        // One it has: a whole count, always there; a percentile of no
        // requests may be missing.
        let dp = col("peak_queue", "peak_queue[dp]", 0);
        assert_eq!(read(&dp, "3"), Ok(Some(3.0)));
        assert!(read(&dp, "").unwrap_err().contains("every run gives it"));
        assert!(read(&dp, "2.5").unwrap_err().contains("not a whole number"));
        let wait = col("queue_wait_p95_s", "queue_wait_p95_s[dp]", 0);
        assert_eq!(read(&wait, ""), Ok(None));
        // The scenario's deployment is in every run; a rule's may not be.
        let ours = col("compliant_pct_true", "compliant_pct_true[d]", 0);
        assert!(read(&ours, "").is_err());
        let rules = col("compliant_pct_true", "compliant_pct_true[r]", 1);
        assert_eq!(read(&rules, ""), Ok(None));
        assert_eq!(read(&col("hours_to_95_true", "x", 0), ""), Ok(None));
        assert!(read(&col("events", "events", 0), "").is_err());
        // A link's and a location's: by the location's name.
        let at = |metric: &str, place: &str, entity| Column {
            name: format!("{metric}[{place}]"),
            location: Some(place.into()),
            ..col(metric, "", entity)
        };
        let york = at("link_hours_busy", "york", 0);
        assert_eq!(read(&york, "1.5"), Ok(Some(1.5)));
        assert!(read(&york, "").unwrap_err().contains("WAN link the point"));
        let hull = at("link_bytes_carried", "hull", 1);
        assert_eq!(read(&hull, ""), Ok(None));
        assert!(read(&hull, "3").unwrap_err().contains("WAN link point 0"));
        // The site's clients are a location once there are locations; a
        // milestone may be missing (not reached, or not targeted there).
        let site = at("location_hours_to_95_true", "(site)", 0);
        assert_eq!(read(&site, "3"), Ok(Some(3.0)));
        assert_eq!(read(&site, ""), Ok(None));
        let gone = at("location_hours_to_95_true", "hull", 0);
        assert!(read(&gone, "3").unwrap_err().contains("location point 0"));
    }

    #[test]
    fn a_file_cut_short_is_found() {
        assert_eq!(cut_short("a,b\n1,2\n"), None);
        assert_eq!(cut_short(""), None);
        assert_eq!(cut_short("a,b\n1,2").map(|c| c.0), Some(2));
    }

    #[test]
    fn shortest_form_round_trips() {
        for x in [0.1, 12.345, 1.0 / 3.0, 37_606_615.0, 1e-7] {
            assert_eq!(cell(Some(x)).parse::<f64>().unwrap(), x);
        }
        assert_eq!(cell(None), "");
    }
}
