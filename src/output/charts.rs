//! The SVG charts: per deployment, the compliance S-curve (true vs reported)
//! and a stacked area of the true states over time.
//!
//! Owns chart layout, colours and file names; the numbers come from the
//! outcome's timeline. Drawn with `plotters`' SVG backend and no font
//! feature: text goes into the SVG as `<text>` for the viewer to render, so
//! no font file is read and the bytes depend on nothing but the run.
//! States are read through [`Compliance::ALL`] and [`RequiredSub::ALL`], so
//! a state added to the model gets a band and a legend entry without an edit
//! here.

use chrono::Duration;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::engine::SimTime;
use crate::model::{Compliance, DeploymentId, Estate, Outcome, RequiredSub, SampleRow};

/// Chart size in pixels (the SVG's width and height).
const WIDTH: u32 = 1100;
const HEIGHT: u32 = 460;
/// Width of the legend column on the right.
const LEGEND_WIDTH: u32 = 250;
/// Runs shorter than this are drawn in hours rather than days.
const HOURS_BELOW_MS: u64 = 2 * 86_400_000;

const TRUE_LINE: RGBColor = RGBColor(31, 84, 160);
const REPORTED_LINE: RGBColor = RGBColor(245, 165, 70);
const TEXT: RGBColor = RGBColor(40, 40, 40);
const FAINT: RGBColor = RGBColor(120, 120, 120);

/// One chart: its file name in the output directory and its SVG text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// Index of the deployment it shows.
    pub deployment: usize,
    /// File name, e.g. `compliance-0-2026-11-patch-tuesday.svg`.
    pub file_name: String,
    /// Title, as drawn on the chart.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// A deployment name made safe for a file name: lower-case ASCII letters and
/// digits, every other run of characters one `-`, at most 48 characters.
/// The deployment's index goes before it in file names, so two names that
/// give the same slug still give different files.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(48);
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "deployment".to_string()
    } else {
        out.to_string()
    }
}

/// Every chart of a run, in deployment order: for each deployment its
/// compliance S-curve, then its stacked states.
pub fn charts(estate: &Estate, outcome: &Outcome) -> Vec<Chart> {
    let mut out = Vec::new();
    for (i, spec) in estate.deployments.iter().enumerate() {
        let rows: Vec<&SampleRow> = outcome
            .timeline
            .iter()
            .filter(|r| r.deployment == DeploymentId(i as u16))
            .collect();
        let ctx = Context::new(estate, outcome, i, &rows);
        let slug = slug(&spec.name);
        out.push(Chart {
            deployment: i,
            file_name: format!("compliance-{i}-{slug}.svg"),
            title: ctx.compliance_title(),
            svg: ctx.compliance_svg(),
        });
        out.push(Chart {
            deployment: i,
            file_name: format!("states-{i}-{slug}.svg"),
            title: ctx.states_title(),
            svg: ctx.states_svg(),
        });
    }
    out
}

/// What both charts of one deployment need.
struct Context<'a> {
    estate: &'a Estate,
    name: &'a str,
    targeted: u32,
    rows: &'a [&'a SampleRow],
    /// The x axis unit: days, or hours for runs under two days.
    unit: Unit,
    /// The run's length, in `unit`.
    x_max: f64,
    /// Created, available and deadline, merged where they coincide.
    marks: Vec<Mark>,
}

/// A vertical line at an instant of the deployment's life.
struct Mark {
    label: String,
    /// Its time, in the x axis unit.
    at: f64,
    color: RGBColor,
}

/// What a legend entry shows beside its text.
enum Swatch {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Fill(RGBColor),
}

/// The unit of the time axis.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Unit {
    ms: f64,
    one: &'static str,
    many: &'static str,
}

impl Unit {
    const DAY: Unit = Unit {
        ms: 86_400_000.0,
        one: "day",
        many: "days",
    };
    const HOUR: Unit = Unit {
        ms: 3_600_000.0,
        one: "hour",
        many: "hours",
    };

    /// Days, or hours for a run too short for days to read well.
    fn for_run(duration_ms: u64) -> Unit {
        if duration_ms < HOURS_BELOW_MS {
            Unit::HOUR
        } else {
            Unit::DAY
        }
    }

    fn of(self, t: SimTime) -> f64 {
        t.as_ms() as f64 / self.ms
    }
}

impl<'a> Context<'a> {
    fn new(estate: &'a Estate, outcome: &'a Outcome, i: usize, rows: &'a [&'a SampleRow]) -> Self {
        let spec = &estate.deployments[i];
        let when = |t: SimTime| {
            let at = estate.resolved.start.0 + Duration::milliseconds(t.as_ms() as i64);
            at.format("%a %-d %b %H:%M").to_string()
        };
        let mut marks: Vec<(Vec<&str>, SimTime, RGBColor)> = Vec::new();
        for (label, t, color) in [
            ("created", spec.created, RGBColor(110, 110, 110)),
            ("available", spec.available, RGBColor(40, 150, 70)),
            ("deadline", spec.deadline, RGBColor(200, 30, 40)),
        ] {
            // The later mark's colour wins: the deadline is what readers look for.
            match marks.iter_mut().find(|m| m.1 == t) {
                Some(m) => {
                    m.0.push(label);
                    m.2 = color;
                }
                None => marks.push((vec![label], t, color)),
            }
        }
        let unit = Unit::for_run(estate.duration.as_ms());
        Context {
            estate,
            unit,
            x_max: (estate.duration.as_ms() as f64 / unit.ms).max(1.0 / 60.0),
            name: &spec.name,
            targeted: outcome.deployments[i].targeted,
            rows,
            marks: marks
                .into_iter()
                .map(|(labels, t, color)| Mark {
                    label: format!(
                        "{}: {} ({} {:.1})",
                        labels.join(" = "),
                        when(t),
                        unit.one,
                        unit.of(t)
                    ),
                    at: unit.of(t),
                    color,
                })
                .collect(),
        }
    }

    fn compliance_title(&self) -> String {
        format!(
            "{}: compliant share of {} targeted clients, true vs reported",
            self.name, self.targeted
        )
    }

    fn states_title(&self) -> String {
        format!(
            "{}: true state of {} targeted clients",
            self.name, self.targeted
        )
    }

    /// Percent of the targeted clients in a compliant state.
    fn compliant_pct(&self, counts: &[u32]) -> f64 {
        if self.targeted == 0 {
            return 0.0;
        }
        let ok: u32 = Compliance::ALL
            .iter()
            .filter(|c| c.is_compliant())
            .map(|&c| counts[c as usize])
            .sum();
        f64::from(ok) * 100.0 / f64::from(self.targeted)
    }

    fn x_desc(&self) -> String {
        format!(
            "{} since the start, {}",
            self.unit.many,
            self.estate.resolved.start.0.format("%a %Y-%m-%d %H:%M %:z")
        )
    }

    /// The S-curve: true and reported compliant percent over time.
    fn compliance_svg(&self) -> String {
        let mut svg = String::new();
        {
            let (root, legend) = self.frame(&mut svg, &self.compliance_title());
            let mut chart = self.cartesian(&root, 100.0);
            let ticks = self.x_ticks();
            chart
                .configure_mesh()
                .x_labels(ticks)
                .y_labels(11)
                .x_label_formatter(&day_label)
                .y_label_formatter(&|y| format!("{y:.0}%"))
                .x_desc(self.x_desc())
                .y_desc("compliant (installed or not required)")
                .axis_desc_style(("sans-serif", 17).into_font().color(&TEXT))
                .label_style(("sans-serif", 16).into_font().color(&TEXT))
                .x_max_light_lines(1)
                .y_max_light_lines(1)
                .light_line_style(RGBColor(238, 238, 238))
                .bold_line_style(RGBColor(215, 215, 215))
                .draw()
                .expect("drawing to memory");
            self.draw_marks(&mut chart, 100.0);
            // Reported wide underneath, true narrow on top: where the two
            // coincide (on a scale of days they often do) both stay visible.
            let series = [
                (
                    "reported (site database)",
                    REPORTED_LINE,
                    6,
                    self.points(|r| self.compliant_pct(&r.reported)),
                ),
                (
                    "true (what the clients have)",
                    TRUE_LINE,
                    2,
                    self.points(|r| self.compliant_pct(&r.truth)),
                ),
            ];
            let mut entries = Vec::new();
            for (label, color, width, points) in series {
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(width)))
                    .expect("drawing to memory");
                entries.push((label.to_string(), Swatch::Line(color, width)));
            }
            entries.reverse();
            entries.extend(self.mark_entries());
            draw_legend(&legend, &entries);
            self.footer(&root);
            root.present().expect("drawing to memory");
        }
        svg
    }

    /// The true states stacked: compliant states at the bottom, then the
    /// Required sub-states from the one nearest done upwards, then the other
    /// states, so clients flow down through the bands as they progress.
    fn states_svg(&self) -> String {
        let bands = bands();
        let mut svg = String::new();
        {
            let (root, legend) = self.frame(&mut svg, &self.states_title());
            let top = f64::from(self.targeted.max(1));
            let mut chart = self.cartesian(&root, top);
            chart
                .configure_mesh()
                .x_labels(self.x_ticks())
                .y_labels(11)
                .x_label_formatter(&day_label)
                .y_label_formatter(&|y| format!("{y:.0}"))
                .x_desc(self.x_desc())
                .y_desc("clients")
                .axis_desc_style(("sans-serif", 17).into_font().color(&TEXT))
                .label_style(("sans-serif", 16).into_font().color(&TEXT))
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(215, 215, 215))
                .draw()
                .expect("drawing to memory");
            let mut below: Vec<f64> = vec![0.0; self.rows.len()];
            for band in &bands {
                let above: Vec<f64> = self
                    .rows
                    .iter()
                    .zip(&below)
                    .map(|(r, b)| b + f64::from(band.count(r)))
                    .collect();
                let x: Vec<f64> = self.rows.iter().map(|r| self.unit.of(r.time)).collect();
                let outline: Vec<(f64, f64)> = x
                    .iter()
                    .copied()
                    .zip(above.iter().copied())
                    .chain(x.iter().copied().zip(below.iter().copied()).rev())
                    .collect();
                if above.iter().zip(&below).any(|(a, b)| a > b) {
                    chart
                        .draw_series(std::iter::once(Polygon::new(outline, band.color.filled())))
                        .expect("drawing to memory");
                }
                below = above;
            }
            self.draw_marks(&mut chart, top);
            // Top band first, as they are stacked.
            let mut entries: Vec<(String, Swatch)> = bands
                .iter()
                .rev()
                .map(|b| (b.label.clone(), Swatch::Fill(b.color)))
                .collect();
            entries.extend(self.mark_entries());
            draw_legend(&legend, &entries);
            self.footer(&root);
            root.present().expect("drawing to memory");
        }
        svg
    }

    /// The white canvas with the title, split into the plot and the legend.
    fn frame<'s>(
        &self,
        svg: &'s mut String,
        title: &str,
    ) -> (
        DrawingArea<SVGBackend<'s>, Shift>,
        DrawingArea<SVGBackend<'s>, Shift>,
    ) {
        let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).expect("drawing to memory");
        let root = root
            .titled(title, ("sans-serif", 23).into_font().color(&TEXT))
            .expect("drawing to memory");
        let (plot, legend) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        (plot, legend)
    }

    fn cartesian<'s>(
        &self,
        area: &DrawingArea<SVGBackend<'s>, Shift>,
        y_max: f64,
    ) -> ChartContext<'s, SVGBackend<'s>, Cartesian2d<RangedCoordf64, RangedCoordf64>> {
        ChartBuilder::on(area)
            .margin(12)
            .margin_bottom(22)
            .x_label_area_size(48)
            .y_label_area_size(76)
            .build_cartesian_2d(0.0..self.x_max, 0.0..y_max)
            .expect("drawing to memory")
    }

    /// Number of x labels: one per unit up to fifteen, fewer beyond.
    fn x_ticks(&self) -> usize {
        (self.x_max.ceil() as usize + 1).clamp(2, 16)
    }

    fn points(&self, f: impl Fn(&SampleRow) -> f64) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .map(|r| (self.unit.of(r.time), f(r)))
            .collect()
    }

    fn draw_marks<'s>(
        &self,
        chart: &mut ChartContext<'s, SVGBackend<'s>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        y_max: f64,
    ) {
        for m in &self.marks {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    [(m.at, 0.0), (m.at, y_max)],
                    6,
                    4,
                    m.color.stroke_width(2),
                )))
                .expect("drawing to memory");
        }
    }

    fn mark_entries(&self) -> Vec<(String, Swatch)> {
        self.marks
            .iter()
            .map(|m| (m.label.clone(), Swatch::Dashed(m.color)))
            .collect()
    }

    /// Provenance in small print, bottom left: a chart copied elsewhere
    /// still says where it came from.
    fn footer(&self, area: &DrawingArea<SVGBackend<'_>, Shift>) {
        let text = super::provenance(self.estate);
        let (_, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            text,
            (8, h as i32 - 14),
            ("sans-serif", 12).into_font().color(&FAINT),
        ))
        .expect("drawing to memory");
    }
}

/// `3`, or `2.5` for a label between whole units.
fn day_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, entries: &[(String, Swatch)]) {
    let style = ("sans-serif", 16).into_font().color(&TEXT);
    let (x, mut y) = (6, 24);
    for (label, swatch) in entries {
        match swatch {
            Swatch::Line(c, width) => area
                .draw(&PathElement::new(
                    [(x, y), (x + 22, y)],
                    c.stroke_width(*width),
                ))
                .expect("drawing to memory"),
            Swatch::Dashed(c) => area
                .draw(&DashedPathElement::new(
                    [(x, y), (x + 22, y)],
                    6,
                    4,
                    c.stroke_width(2),
                ))
                .expect("drawing to memory"),
            Swatch::Fill(c) => area
                .draw(&Rectangle::new([(x, y - 7), (x + 22, y + 7)], c.filled()))
                .expect("drawing to memory"),
        }
        // Long labels (the marks' dates) wrap at " (" onto a second line.
        let mut line_y = y;
        for part in wrap(label) {
            area.draw(&Text::new(
                part,
                (x + 30, line_y),
                style.pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .expect("drawing to memory");
            line_y += 17;
        }
        y = line_y + 8;
    }
}

/// A legend label as one or two lines.
fn wrap(label: &str) -> Vec<String> {
    if label.chars().count() <= 28 {
        return vec![label.to_string()];
    }
    match label.find(": ").or_else(|| label.find(" (")) {
        Some(i) => vec![
            label[..=i].trim_end().to_string(),
            label[i + 1..].trim().to_string(),
        ],
        None => vec![label.to_string()],
    }
}

/// One band of the stacked area.
struct Band {
    label: String,
    color: RGBColor,
    state: Compliance,
    sub: Option<RequiredSub>,
}

impl Band {
    fn count(&self, row: &SampleRow) -> u32 {
        match self.sub {
            Some(s) => row.required_sub[s as usize],
            None => row.truth[self.state as usize],
        }
    }
}

/// The bands bottom to top: compliant states, the Required sub-states
/// (nearest done first), the other states.
fn bands() -> Vec<Band> {
    let whole = |c: Compliance, color| Band {
        label: c.name().replace('_', " "),
        color,
        state: c,
        sub: None,
    };
    let mut out: Vec<Band> = Compliance::ALL
        .iter()
        .filter(|c| c.is_compliant())
        .map(|&c| whole(c, state_color(c)))
        .collect();
    for &c in Compliance::ALL.iter().filter(|c| !c.is_compliant()) {
        if c == Compliance::Required {
            let n = RequiredSub::ALL.len();
            out.extend(
                RequiredSub::ALL
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(k, &s)| Band {
                        label: format!("required: {}", s.name().replace('_', " ")),
                        color: sub_color(k, n),
                        state: c,
                        sub: Some(s),
                    }),
            );
        } else {
            out.push(whole(c, state_color(c)));
        }
    }
    out
}

/// A state's colour; states added later get one from a small palette.
fn state_color(c: Compliance) -> RGBColor {
    if c == Compliance::Installed {
        RGBColor(46, 139, 87)
    } else if c == Compliance::NotRequired {
        RGBColor(150, 200, 160)
    } else if c == Compliance::Unknown {
        RGBColor(190, 190, 190)
    } else {
        const SPARE: [RGBColor; 4] = [
            RGBColor(120, 100, 180),
            RGBColor(80, 150, 200),
            RGBColor(170, 120, 80),
            RGBColor(200, 120, 170),
        ];
        SPARE[c as usize % SPARE.len()]
    }
}

/// Required sub-state `k` of `n`: pale yellow (not evaluated) through
/// orange to dark red (the last, failed).
fn sub_color(k: usize, n: usize) -> RGBColor {
    const STOPS: [(f64, f64, f64); 3] = [
        (255.0, 230.0, 140.0),
        (240.0, 130.0, 40.0),
        (170.0, 20.0, 40.0),
    ];
    let t = if n > 1 {
        k as f64 / (n - 1) as f64
    } else {
        0.0
    };
    let (a, b, u) = if t <= 0.5 {
        (STOPS[0], STOPS[1], t * 2.0)
    } else {
        (STOPS[1], STOPS[2], (t - 0.5) * 2.0)
    };
    let mix = |p: f64, q: f64| (p + (q - p) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_never_empty() {
        assert_eq!(slug("2026-11 Patch Tuesday"), "2026-11-patch-tuesday");
        assert_eq!(slug("  ../Ring 0: pilots!  "), "ring-0-pilots");
        assert_eq!(slug("Überfällig"), "berf-llig");
        assert_eq!(slug("***"), "deployment");
        assert!(slug(&"x".repeat(200)).len() <= 48);
    }

    #[test]
    fn every_state_has_a_band() {
        let b = bands();
        assert_eq!(b.len(), Compliance::ALL.len() - 1 + RequiredSub::ALL.len());
        assert_eq!(b[0].state, Compliance::Installed, "compliant at the bottom");
        assert_eq!(sub_color(0, 7), RGBColor(255, 230, 140));
        assert_eq!(sub_color(6, 7), RGBColor(170, 20, 40));
    }

    #[test]
    fn short_runs_are_drawn_in_hours() {
        assert_eq!(Unit::for_run(30 * 86_400_000), Unit::DAY);
        assert_eq!(Unit::for_run(2 * 86_400_000), Unit::DAY);
        assert_eq!(Unit::for_run(36 * 3_600_000), Unit::HOUR);
        assert_eq!(Unit::HOUR.of(SimTime(5_400_000)), 1.5);
    }

    #[test]
    fn day_labels() {
        assert_eq!(day_label(&3.0), "3");
        assert_eq!(day_label(&2.5), "2.5");
    }
}
