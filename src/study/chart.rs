//! SVG charts: one per charted metric, its mean at each value of the first
//! swept parameter with 95 % confidence-interval bars.
//!
//! Owns the drawing only (with `plotters`' SVG backend and its built-in
//! font metrics, so no system font is needed); the numbers come from the
//! study's estimates. The x axis is categorical, in `--set` order; with
//! more than one `--set`, each combination of the other parameters is one
//! series. A study without `--set` gets no charts: there is no axis.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;

use super::{Estimate, Study};

const SIZE: (u32, u32) = (760, 480);
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// A categorical x axis: category `i` at `i`, from -0.5 to `n` - 0.5, so
/// series can be drawn slightly apart around each category.
struct Categories(Vec<String>);

impl Ranged for Categories {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.0.len() as f64;
        let share = (value + 0.5) / span;
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        (0..self.0.len()).map(|i| i as f64).collect()
    }

    fn range(&self) -> Range<f64> {
        -0.5..self.0.len() as f64 - 0.5
    }
}

impl ValueFormatter<f64> for Categories {
    fn format_ext(&self, value: &f64) -> String {
        let i = value.round();
        if i >= 0.0 && (i as usize) < self.0.len() {
            self.0[i as usize].clone()
        } else {
            String::new()
        }
    }
}

/// `(column name, SVG text)` for each charted metric column that at least
/// one run reached.
pub fn charts(study: &Study, estimates: &[Vec<Estimate>]) -> Vec<(String, String)> {
    let columns = study.columns();
    charted(study, estimates)
        .into_iter()
        .map(|c| {
            let col = &columns[c];
            let values: Vec<&Estimate> = estimates.iter().map(|point| &point[c]).collect();
            (
                col.name.clone(),
                chart(study, &col.name, col.metric().label, &values),
            )
        })
        .collect()
}

/// The columns [`charts`] draws: each charted metric's that some run
/// reached (none without `--set`: there is no axis).
pub fn charted(study: &Study, estimates: &[Vec<Estimate>]) -> Vec<usize> {
    if study.manifest.grid.is_empty() {
        return Vec::new();
    }
    (study.columns().iter().enumerate())
        .filter(|(_, c)| c.metric().chart)
        // A metric no run reached has nothing to draw: the report names it.
        .filter(|(c, _)| estimates.iter().any(|point| point[*c].mean.is_some()))
        .map(|(c, _)| c)
        .collect()
}

/// Width of the legend column, right of the plot.
const LEGEND: u32 = 230;

/// A legend in its own column: a swatch and a label per entry.
fn legend(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    entries: &[(String, RGBColor, bool)],
) {
    let style = ("sans-serif", 13).into_font().color(&BLACK);
    let mut y = 40;
    for (label, colour, dashed) in entries {
        let line: Vec<(i32, i32)> = vec![(6, y), (30, y)];
        if *dashed {
            area.draw(&plotters::element::DashedPathElement::new(
                line,
                5,
                3,
                colour.stroke_width(2),
            ))
            .expect("drawing to memory");
        } else {
            area.draw(&PathElement::new(line, colour.stroke_width(3)))
                .expect("drawing to memory");
        }
        let mut text_y = y;
        for part in wrap(label, 26) {
            area.draw(&Text::new(part, (36, text_y - 7), style.clone()))
                .expect("drawing to memory");
            text_y += 16;
        }
        y = text_y + 8;
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// One chart; `values[p]` is the estimate at point `p`.
fn chart(study: &Study, column: &str, y_label: &str, values: &[&Estimate]) -> String {
    let m = &study.manifest;
    let x_param = &m.grid[0];
    let n_x = x_param.values.len();
    let inner = m.points.len() / n_x;
    let series_label = |s: usize| -> String {
        m.grid[1..]
            .iter()
            .zip(&m.points[s].values[1..])
            .map(|(p, v)| format!("{}={v}", p.path))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut hi = f64::NEG_INFINITY;
    for e in values {
        for v in [e.mean, e.high()].into_iter().flatten() {
            hi = hi.max(v);
        }
    }
    if hi == f64::NEG_INFINITY {
        hi = 1.0; // nothing reached: an empty chart that says so
    }
    // From zero, so that equal results look equal and a difference is seen
    // at its true size: no metric is below it, and an interval is cut
    // there (`Estimate::low`). A little room above the highest bar.
    let (lo, hi) = (0.0, crate::output::nice(hi * 1.1));
    let entity = column.find('[').map(|i| &column[i..]).unwrap_or("");
    let title = format!(
        "{}{} by {}",
        capitalise(y_label),
        if entity.is_empty() {
            String::new()
        } else {
            format!(" {entity}")
        },
        x_param.path
    );

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).expect("drawing to memory");
        let (main, footer) = root.split_vertically(SIZE.1 - 24);
        let main = main
            .titled(&title, ("sans-serif", 17))
            .expect("drawing to memory");
        let (plot, side) = main.split_horizontally(SIZE.0 - LEGEND);
        let mut ch = ChartBuilder::on(&plot)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(Categories(x_param.values.clone()), lo..hi)
            .expect("drawing to memory");
        ch.configure_mesh()
            .disable_x_mesh()
            .x_desc(x_param.path.as_str())
            .y_desc(y_label)
            .draw()
            .expect("drawing to memory");
        let mut entries = Vec::new();
        let mut fewer = false;
        let mut never = false;
        for s in 0..inner {
            let colour = COLOURS[s % COLOURS.len()];
            let offset = if inner > 1 {
                (s as f64 - (inner - 1) as f64 / 2.0) * 0.35 / inner as f64
            } else {
                0.0
            };
            let pts: Vec<(f64, &Estimate)> = (0..n_x)
                .map(|x| (x as f64 + offset, values[x * inner + s]))
                .filter(|(_, e)| e.mean.is_some())
                .collect();
            let mean = |e: &Estimate| e.mean.expect("filtered");
            ch.draw_series(LineSeries::new(
                pts.iter().map(|&(x, e)| (x, mean(e))),
                colour.stroke_width(2),
            ))
            .expect("drawing to memory");
            entries.push((
                if inner > 1 {
                    series_label(s)
                } else {
                    "mean".to_string()
                },
                colour,
                false,
            ));
            ch.draw_series(pts.iter().filter_map(|&(x, e)| {
                Some(ErrorBar::new_vertical(
                    x,
                    e.low()?,
                    mean(e),
                    e.high()?,
                    colour.stroke_width(2),
                    12,
                ))
            }))
            .expect("drawing to memory");
            // A mean over every run is a filled dot; one over the runs
            // that reached it, fewer than all, is hollow: it leaves out
            // the runs that did not, so it reads sooner than the truth.
            let every = |e: &Estimate| e.n >= m.replications as usize;
            ch.draw_series(pts.iter().map(|&(x, e)| {
                let style = if every(e) {
                    colour.filled()
                } else {
                    colour.stroke_width(2)
                };
                Circle::new((x, mean(e)), 4, style)
            }))
            .expect("drawing to memory");
            fewer |= pts.iter().any(|&(_, e)| !every(e));
            // A point no run reached has no mean to draw: a cross on the
            // axis marks it, so that it is not read as left out.
            let unreached: Vec<f64> = (0..n_x)
                .filter(|&x| values[x * inner + s].mean.is_none())
                .map(|x| x as f64 + offset)
                .collect();
            ch.draw_series(
                (unreached.iter()).map(|&x| Cross::new((x, 0.0), 6, colour.stroke_width(2))),
            )
            .expect("drawing to memory");
            never |= !unreached.is_empty();
        }
        if fewer {
            entries.push((
                "hollow: mean of the runs that reached it, not all (table: n=k)".to_string(),
                RGBColor(120, 120, 120),
                false,
            ));
        }
        if never {
            entries.push((
                "× on the axis: no run reached it at that point".to_string(),
                RGBColor(120, 120, 120),
                false,
            ));
        }
        entries.push((
            "bars: 95 % CI of the mean (Student's t, cut at 0)".to_string(),
            RGBColor(120, 120, 120),
            false,
        ));
        legend(&side, &entries);
        let reached = if values.iter().all(|e| e.mean.is_none()) {
            "not reached in any run · "
        } else {
            ""
        };
        footer
            .draw_text(
                &format!(
                    "{reached}mean and 95 % CI over {} · {}",
                    crate::output::plural(m.replications as usize, "replication"),
                    study.provenance()
                ),
                &("sans-serif", 12).into_font().color(&BLACK.mix(0.7)),
                (14, 4),
            )
            .expect("drawing to memory");
        root.present().expect("drawing to memory");
    }
    format!("<!-- {} -->\n{svg}", study.provenance())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The compliance share, mean over each point's runs with its 95 % band,
/// per deployment and view: `(file name, SVG)`, named
/// `curves-<i>-<view>.svg`. The time axis counts from the deployment's
/// creation; a dashed line marks 95 %.
pub fn curve_charts(study: &Study) -> Vec<(String, String)> {
    (curve_chart_names(study).into_iter())
        .map(|(file, d, view)| {
            let name = super::curves::VIEWS[view];
            let curves: Vec<(usize, &super::Curve)> = (0..study.manifest.points.len())
                .filter_map(|p| Some((p, study.curves.0.get(&(p, d, view))?)))
                .collect();
            let svg = curve_chart(study, d, name, &curves);
            (file, svg)
        })
        .collect()
}

/// The compliance charts [`curve_charts`] draws: `(file name, deployment,
/// view)` for each deployment and view some point has a curve of.
pub fn curve_chart_names(study: &Study) -> Vec<(String, usize, usize)> {
    let m = &study.manifest;
    // Not those of a deployment no run made (a rule's).
    let made = study.made();
    let deployments: std::collections::BTreeSet<usize> = (study.curves.0.keys())
        .map(|&(_, d, _)| d)
        .filter(|d| made.contains(d))
        .collect();
    let mut out = Vec::new();
    for d in deployments {
        for (view, name) in super::curves::VIEWS.iter().enumerate() {
            if (0..m.points.len()).any(|p| study.curves.0.contains_key(&(p, d, view))) {
                out.push((format!("curves-{d}-{name}.svg"), d, view));
            }
        }
    }
    out
}

fn curve_chart(study: &Study, d: usize, view: &str, curves: &[(usize, &super::Curve)]) -> String {
    let m = &study.manifest;
    // Drawn up to twice the time the slowest curve takes to come within
    // two points of its end, where the action is: the run may go on for
    // days of stragglers after it.
    let span_h = curves
        .iter()
        .flat_map(|(_, c)| {
            let pct = |s: &super::Sums| s.pct(c.targeted).map_or(0.0, |p| p.0);
            let last = c.samples.last().map_or(0.0, |(_, s)| pct(s));
            let end = c.samples.last().map_or(0, |(t, _)| *t);
            // When it first came within two points of where it ends.
            let settled = c
                .samples
                .iter()
                .find(|(t, s)| *t >= c.created_ms && pct(s) >= last - 2.0)
                .map_or(end, |(t, _)| *t);
            let h = |t: u64| (t as f64 - c.created_ms as f64) / 3.6e6;
            Some((h(settled) * 2.0).max(1.0).min(h(end).max(1.0)))
        })
        .fold(1.0f64, f64::max);
    let (unit, per) = if span_h >= 48.0 {
        ("days", 24.0)
    } else {
        ("hours", 1.0)
    };
    let x_max = span_h / per;
    let label = |p: usize| {
        if m.points[p].values.is_empty() {
            "the scenario as given".to_string()
        } else {
            m.grid
                .iter()
                .zip(&m.points[p].values)
                .map(|(g, v)| format!("{}={v}", g.path.rsplit('.').next().unwrap_or(&g.path)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    // Named as its columns name it: a phase and a rule's deployment too.
    let name = (study.columns().iter())
        .find(|c| c.metric().scope == super::Scope::Deployment && c.entity == d)
        .and_then(|c| c.entity_name().map(String::from))
        .or_else(|| {
            crate::scenario::parse(&study.scenario_ron, "scenario.ron")
                .ok()
                .and_then(|s| s.deployments.get(d).map(|x| x.name.clone()))
        })
        .unwrap_or_else(|| format!("deployment {d}"));
    let title = format!(
        "{name}: {view} compliant share by point, mean and 95 % band over {}",
        crate::output::plural(m.replications as usize, "run")
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0 + 200, SIZE.1)).into_drawing_area();
        root.fill(&WHITE).expect("drawing to memory");
        let (main, footer) = root.split_vertically(SIZE.1 - 24);
        let main = main
            .titled(&title, ("sans-serif", 17))
            .expect("drawing to memory");
        let (plot, side) = main.split_horizontally(SIZE.0 + 200 - LEGEND);
        let mut ch = ChartBuilder::on(&plot)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max, 0.0..100.0)
            .expect("drawing to memory");
        ch.configure_mesh()
            .x_desc(format!("{unit} since the deployment was created"))
            .y_desc("compliant, % of targeted clients")
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .draw()
            .expect("drawing to memory");
        let mut entries = Vec::new();
        for (k, (p, c)) in curves.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let pts: Vec<(f64, f64, Option<f64>)> = c
                .samples
                .iter()
                .filter(|(t, _)| *t >= c.created_ms)
                .filter(|(t, _)| ((*t - c.created_ms) as f64 / 3.6e6) <= span_h + 1e-9)
                .filter_map(|(t, s)| {
                    let (mean, hw) = s.pct(c.targeted)?;
                    Some(((*t - c.created_ms) as f64 / 3.6e6 / per, mean, hw))
                })
                .collect();
            let band: Vec<(f64, f64)> = pts
                .iter()
                .map(|&(x, y, h)| (x, (y + h.unwrap_or(0.0)).min(100.0)))
                .chain(
                    pts.iter()
                        .rev()
                        .map(|&(x, y, h)| (x, (y - h.unwrap_or(0.0)).max(0.0))),
                )
                .collect();
            ch.draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.18).filled(),
            )))
            .expect("drawing to memory");
            ch.draw_series(LineSeries::new(
                pts.iter().map(|&(x, y, _)| (x, y)),
                colour.stroke_width(2),
            ))
            .expect("drawing to memory");
            entries.push((label(*p), colour, false));
        }
        ch.draw_series(std::iter::once(plotters::element::DashedPathElement::new(
            vec![(0.0, 95.0), (x_max, 95.0)],
            6,
            4,
            RGBColor(200, 30, 40).stroke_width(1),
        )))
        .expect("drawing to memory");
        entries.push((
            "95 % of the targeted clients".into(),
            RGBColor(200, 30, 40),
            true,
        ));
        legend(&side, &entries);
        footer
            .draw_text(
                &study.provenance(),
                &("sans-serif", 12).into_font().color(&BLACK.mix(0.7)),
                (14, 4),
            )
            .expect("drawing to memory");
        root.present().expect("drawing to memory");
    }
    format!("<!-- {} -->\n{svg}", study.provenance())
}
