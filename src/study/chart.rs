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

/// `(column name, SVG text)` for each charted metric column.
pub fn charts(study: &Study, estimates: &[Vec<Estimate>]) -> Vec<(String, String)> {
    let m = &study.manifest;
    if m.grid.is_empty() {
        return Vec::new();
    }
    study
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.metric().chart)
        .map(|(c, col)| {
            let values: Vec<&Estimate> = estimates.iter().map(|point| &point[c]).collect();
            (
                col.name.clone(),
                chart(study, &col.name, col.metric().label, &values),
            )
        })
        .collect()
}

/// One chart; `values[p]` is the estimate at point `p`.
fn chart(study: &Study, title: &str, y_label: &str, values: &[&Estimate]) -> String {
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
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for e in values {
        for v in [e.low(), e.mean, e.high()].into_iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        (lo, hi) = (0.0, 1.0); // nothing reached: an empty chart that says so
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        lo.abs().max(1.0) * 0.1
    };
    let (lo, hi) = (lo - pad, hi + pad);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).expect("drawing to memory");
        let (main, footer) = root.split_vertically(SIZE.1 - 24);
        let mut ch = ChartBuilder::on(&main)
            .caption(title, ("sans-serif", 20))
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
            let line = ch
                .draw_series(LineSeries::new(
                    pts.iter().map(|&(x, e)| (x, mean(e))),
                    colour.stroke_width(2),
                ))
                .expect("drawing to memory");
            if inner > 1 {
                line.label(series_label(s)).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            }
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
            ch.draw_series(
                pts.iter()
                    .map(|&(x, e)| Circle::new((x, mean(e)), 4, colour.filled())),
            )
            .expect("drawing to memory");
        }
        if inner > 1 {
            ch.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .expect("drawing to memory");
        }
        let reached = if values.iter().all(|e| e.mean.is_none()) {
            "not reached in any run · "
        } else {
            ""
        };
        footer
            .draw_text(
                &format!(
                    "{reached}mean and 95 % CI (Student's t) over {} replications · {}",
                    m.replications,
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
