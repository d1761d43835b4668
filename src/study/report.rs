//! The study's `report.html`: the points table, the metric charts and the
//! compliance curves with their confidence bands, on one page.
//!
//! Owns the page, rendered from `templates/study.html` by minijinja (which
//! escapes every value; the SVG charts are inserted as they are). The
//! numbers are the study's estimates, the same as `points.csv`'s.

use serde::Serialize;

use super::busiest::role_loads;
use super::table::cell;
use super::{Estimate, Study};

#[derive(Serialize)]
struct Figure<'a> {
    file: &'a str,
    svg: &'a str,
}

#[derive(Serialize)]
struct Row {
    params: Vec<String>,
    cells: Vec<String>,
}

fn figures(list: &[(String, String)]) -> Vec<Figure<'_>> {
    list.iter()
        .map(|(file, svg)| Figure {
            file,
            // The comment before the SVG element stays in the file only.
            svg: svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]),
        })
        .collect()
}

/// The page; `charts` and `curves` are `(file name, SVG)`.
pub fn report_html(
    study: &Study,
    estimates: &[Vec<Estimate>],
    charts: &[(String, String)],
    curves: &[(String, String)],
) -> String {
    let m = &study.manifest;
    let columns = study.columns();
    let made = study.shown();
    let (shown, labels): (Vec<usize>, Vec<String>) =
        super::table::shown_columns(study).into_iter().unzip();
    let mut header: Vec<String> = m.grid.iter().map(|p| p.path.clone()).collect();
    if header.is_empty() {
        header.push("point".into());
    }
    header.extend(labels);
    let rows: Vec<Row> = m
        .points
        .iter()
        .enumerate()
        .map(|(p, point)| Row {
            params: if point.values.is_empty() {
                vec!["(scenario as given)".into()]
            } else {
                point.values.clone()
            },
            cells: shown
                .iter()
                .map(|&c| cell(&estimates[p][c], m.replications))
                .collect(),
        })
        .collect();
    // The busiest server of each role, by point.
    let loads = role_loads(study);
    let mut load_header: Vec<String> = header[..m.grid.len().max(1)].to_vec();
    for l in &loads {
        load_header.push(format!("{}: hours busy", l.label));
        load_header.push(format!("{}: p95 wait, min", l.label));
    }
    let load_rows: Vec<Row> = (rows.iter().enumerate())
        .map(|(p, row)| Row {
            params: row.params.clone(),
            cells: (loads.iter())
                .flat_map(|l| [&l.hours_busy[p], &l.wait_p95_min[p]])
                .map(|e| cell(e, m.replications))
                .collect(),
        })
        .collect();
    let mut env = minijinja::Environment::new();
    env.add_template("study.html", include_str!("../templates/study.html"))
        .expect("the template parses");
    env.get_template("study.html")
        .expect("added")
        .render(minijinja::context! {
            m => m,
            points => m.points.len(),
            swept => m.grid.iter().map(|p| minijinja::context! {
                path => p.path,
                values => p.values.join(", "),
            }).collect::<Vec<_>>(),
            provenance => study.provenance(),
            header => header,
            rows => rows,
            load_header => load_header,
            load_rows => if loads.is_empty() { Vec::new() } else { load_rows },
            charts => figures(charts),
            unreached => columns
                .iter()
                .enumerate()
                .filter(|(c, col)| col.metric().chart
                    && made[*c]
                    && estimates.iter().all(|point| point[*c].mean.is_none()))
                .map(|(_, col)| col.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            curves => figures(curves),
        })
        .expect("the template renders")
}
