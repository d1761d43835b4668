//! The SVG charts: per deployment, the compliance S-curve (true solid,
//! reported dashed, the 95 % target dotted) and a stacked area of the true
//! states, over time since the deployment's creation (the clock every
//! milestone counts on); per server, its load (`load_charts.rs`).
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

use crate::engine::{SimDuration, SimTime};
use crate::estate::{DeploymentId, Estate, WindowKind, WindowSpec};
use crate::model::{Compliance, Outcome, RequiredSub, SampleRow};

/// Chart size in pixels (the SVG's width and height).
pub(super) const WIDTH: u32 = 1100;
const HEIGHT: u32 = 460;
/// Width of the legend column on the right.
pub(super) const LEGEND_WIDTH: u32 = 250;
/// Runs shorter than this are drawn in hours rather than days.
const HOURS_BELOW_MS: u64 = 2 * 86_400_000;

const TRUE_LINE: RGBColor = RGBColor(31, 84, 160);
const REPORTED_LINE: RGBColor = RGBColor(240, 140, 40);
const SLO_LINE: RGBColor = RGBColor(200, 30, 40);
pub(super) const TEXT: RGBColor = RGBColor(40, 40, 40);
pub(super) const FAINT: RGBColor = RGBColor(120, 120, 120);
/// Maintenance window bands, one colour per distinct set of windows.
const WINDOW_FILLS: [RGBColor; 3] = [
    RGBColor(200, 184, 242),
    RGBColor(160, 214, 226),
    RGBColor(236, 200, 160),
];

/// Where a phased deployment was suspended.
const SUSPENDED_FILL: RGBColor = RGBColor(205, 205, 205);

/// What a chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A deployment, by index.
    Deployment(usize),
    /// A server, by index into [`Outcome::servers`].
    Server(usize),
}

/// One chart: its file name in the output directory and its SVG text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// The deployment or server it shows.
    pub subject: Subject,
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
    slug_or(name, "deployment")
}

/// [`slug`] with another name for when nothing is left.
pub(super) fn slug_or(name: &str, fallback: &str) -> String {
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
        fallback.to_string()
    } else {
        out.to_string()
    }
}

/// Every chart of a run: for each deployment its compliance S-curve, then
/// its stacked states; then one load chart per server (a WAN link's
/// against the estate's busy threshold).
pub fn charts(estate: &Estate, outcome: &Outcome) -> Vec<Chart> {
    let mut out = deployment_charts(estate, outcome);
    out.extend(super::load_charts::load_charts(estate, outcome));
    out
}

/// The charts of each deployment, in deployment order.
fn deployment_charts(estate: &Estate, outcome: &Outcome) -> Vec<Chart> {
    let mut out = Vec::new();
    for (i, spec) in estate.deployments.iter().enumerate() {
        if !outcome.shown(estate, i) {
            continue;
        }
        let rows: Vec<&SampleRow> = outcome
            .timeline
            .iter()
            .filter(|r| r.deployment == DeploymentId(i as u16) && outcome.row_shown(estate, r))
            .collect();
        let ctx = Context::new(estate, outcome, i, &rows);
        let slug = slug(&spec.name);
        out.push(Chart {
            subject: Subject::Deployment(i),
            file_name: format!("compliance-{i}-{slug}.svg"),
            title: ctx.compliance_title(),
            svg: ctx.compliance_svg(),
        });
        out.push(Chart {
            subject: Subject::Deployment(i),
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
    /// The x axis unit: days, or hours for spans under two days.
    unit: Unit,
    /// Time zero of the x axis: the deployment's creation, the clock every
    /// milestone counts on.
    origin: SimTime,
    /// From the creation to the end of the run, in `unit`.
    x_max: f64,
    /// When 95 % was first reached, true and reported.
    slo: [Option<SimTime>; 2],
    /// Created, available and deadline, merged where they coincide.
    marks: Vec<Mark>,
    /// Maintenance windows of the targeted cohorts.
    windows: Vec<WindowBand>,
}

/// The maintenance windows that cohorts with the same windows share, as
/// shaded bands.
struct WindowBand {
    label: String,
    color: RGBColor,
    /// Each opening within the run, start and end in the x axis unit.
    spans: Vec<(f64, f64)>,
}

/// A vertical line at an instant of the deployment's life.
struct Mark {
    label: String,
    /// Its time, in the x axis unit.
    at: f64,
    color: RGBColor,
}

/// What a legend entry shows beside its text.
#[derive(Clone)]
pub(super) enum Swatch {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    DashedWide(RGBColor),
    Dotted(RGBColor),
    Fill(RGBColor),
}

/// The unit of the time axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Unit {
    pub(super) ms: f64,
    pub(super) one: &'static str,
    pub(super) many: &'static str,
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
    pub(super) fn for_run(duration_ms: u64) -> Unit {
        if duration_ms < HOURS_BELOW_MS {
            Unit::HOUR
        } else {
            Unit::DAY
        }
    }

    pub(super) fn of(self, t: SimTime) -> f64 {
        t.as_ms() as f64 / self.ms
    }

    /// Number of x labels: one per unit up to fifteen, fewer beyond.
    pub(super) fn ticks(x_max: f64) -> usize {
        (x_max.ceil() as usize + 1).clamp(2, 16)
    }
}

impl<'a> Context<'a> {
    fn new(estate: &'a Estate, outcome: &'a Outcome, i: usize, rows: &'a [&'a SampleRow]) -> Self {
        let spec = &estate.deployments[i];
        let record = &outcome.deployments[i];
        let when = |t: SimTime| {
            let at = estate.source.start + Duration::milliseconds(t.as_ms() as i64);
            at.format("%a %-d %b %H:%M").to_string()
        };
        let mut marks: Vec<(Vec<&str>, SimTime, RGBColor)> = Vec::new();
        // A phase that never began has none of these instants.
        for (label, t, color) in [
            ("created", record.created, RGBColor(110, 110, 110)),
            ("available", record.available, RGBColor(40, 150, 70)),
            ("deadline", record.deadline, RGBColor(200, 30, 40)),
        ] {
            let Some(t) = t else {
                continue;
            };
            // The later mark's colour wins: the deadline is what readers look for.
            match marks.iter_mut().find(|m| m.1 == t) {
                Some(m) => {
                    m.0.push(label);
                    m.2 = color;
                }
                None => marks.push((vec![label], t, color)),
            }
        }
        // A phase that never began is drawn from the end (an empty chart).
        let origin = record.created.unwrap_or(SimTime::MAX).min(estate.end());
        let span = estate.end().since(origin).as_ms();
        let unit = Unit::for_run(span);
        let th = &outcome.deployments[i].thresholds;
        let at95 = crate::model::THRESHOLDS
            .iter()
            .position(|&t| t == 95)
            .expect("95 % is a milestone");
        Context {
            estate,
            unit,
            origin,
            x_max: (span as f64 / unit.ms).max(1.0 / 60.0),
            slo: [th.true_at[at95], th.reported_at[at95]],
            windows: (window_bands(estate, i, unit, origin).into_iter())
                .chain(suspension_band(estate, i, unit, origin, &when))
                .collect(),
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
                        unit.of(t) - unit.of(origin)
                    ),
                    at: unit.of(t) - unit.of(origin),
                    color,
                })
                .collect(),
        }
    }

    fn compliance_title(&self) -> String {
        format!(
            "{}: compliant share of {} targeted clients, true vs reported",
            self.name,
            super::load_charts::thousands(u64::from(self.targeted))
        )
    }

    fn states_title(&self) -> String {
        format!(
            "{}: true state of {} targeted clients",
            self.name,
            super::load_charts::thousands(u64::from(self.targeted))
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
        let at = self.estate.source.start + Duration::milliseconds(self.origin.as_ms() as i64);
        format!(
            "{} since the deployment was created ({})",
            self.unit.many,
            at.format("%a %Y-%m-%d %H:%M %:z")
        )
    }

    /// A time on the x axis: `unit`s since the creation.
    fn x(&self, t: SimTime) -> f64 {
        (t.as_ms() as f64 - self.origin.as_ms() as f64) / self.unit.ms
    }

    /// The rows from the creation on.
    fn shown(&self) -> impl Iterator<Item = &&SampleRow> {
        self.rows.iter().filter(|r| r.time >= self.origin)
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
            self.draw_windows(&mut chart, 100.0);
            self.draw_marks(&mut chart, 100.0);
            // The target: 95 % of the targeted clients.
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    [(0.0, 95.0), (self.x_max, 95.0)],
                    3,
                    3,
                    SLO_LINE.stroke_width(1),
                )))
                .expect("drawing to memory");
            // True solid and dark, reported dashed, wider and light: where
            // they coincide (on a scale of days they often do) both show.
            let reported = self.points(|r| self.compliant_pct(&r.reported));
            chart
                .draw_series(DashedLineSeries::new(
                    reported,
                    9,
                    5,
                    REPORTED_LINE.stroke_width(4),
                ))
                .expect("drawing to memory");
            let truth = self.points(|r| self.compliant_pct(&r.truth));
            chart
                .draw_series(LineSeries::new(truth, TRUE_LINE.stroke_width(2)))
                .expect("drawing to memory");
            let reached = |t: Option<SimTime>| {
                t.map_or("not reached".to_string(), |t| {
                    format!(
                        "+{}",
                        span_words(t.as_ms().saturating_sub(self.origin.as_ms()))
                    )
                })
            };
            let mut entries = vec![
                (
                    "true (what the clients have)".to_string(),
                    Swatch::Line(TRUE_LINE, 2),
                ),
                (
                    "reported (site database)".to_string(),
                    Swatch::DashedWide(REPORTED_LINE),
                ),
                (
                    format!(
                        "95 % target: true {}, reported {}",
                        reached(self.slo[0]),
                        reached(self.slo[1])
                    ),
                    Swatch::Dotted(SLO_LINE),
                ),
            ];
            entries.extend(self.mark_entries());
            entries.extend(
                self.windows
                    .iter()
                    .map(|w| (w.label.clone(), Swatch::Fill(w.color))),
            );
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
            let rows: Vec<&SampleRow> = self.shown().copied().collect();
            let mut below: Vec<f64> = vec![0.0; rows.len()];
            for band in &bands {
                let above: Vec<f64> = rows
                    .iter()
                    .zip(&below)
                    .map(|(r, b)| b + f64::from(band.count(r)))
                    .collect();
                let x: Vec<f64> = rows.iter().map(|r| self.x(r.time)).collect();
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
        Unit::ticks(self.x_max)
    }

    fn points(&self, f: impl Fn(&SampleRow) -> f64) -> Vec<(f64, f64)> {
        self.shown().map(|r| (self.x(r.time), f(r))).collect()
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

    /// Light bands where the targeted cohorts' maintenance windows are open.
    fn draw_windows<'s>(
        &self,
        chart: &mut ChartContext<'s, SVGBackend<'s>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        y_max: f64,
    ) {
        for w in &self.windows {
            chart
                .draw_series(w.spans.iter().map(|&(a, b)| {
                    Rectangle::new([(a, 0.0), (b, y_max)], w.color.mix(0.7).filled())
                }))
                .expect("drawing to memory");
        }
    }

    fn mark_entries(&self) -> Vec<(String, Swatch)> {
        self.marks
            .iter()
            .map(|m| (m.label.clone(), Swatch::Dashed(m.color)))
            .collect()
    }

    fn footer(&self, area: &DrawingArea<SVGBackend<'_>, Shift>) {
        footer(self.estate, area);
    }
}

/// Provenance in small print, bottom left: a chart copied elsewhere still
/// says where it came from.
pub(super) fn footer(estate: &Estate, area: &DrawingArea<SVGBackend<'_>, Shift>) {
    let text = super::provenance(estate);
    let (_, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        text,
        (8, h as i32 - 14),
        ("sans-serif", 12).into_font().color(&FAINT),
    ))
    .expect("drawing to memory");
}

/// The maintenance windows a Required deployment that honours them waits
/// for (those its target cohorts install software updates in; overlapping
/// bands are one window): one band per distinct set of windows among them
/// (cohorts with the same windows share it), each opening clipped to the run.
fn window_bands(estate: &Estate, i: usize, unit: Unit, origin: SimTime) -> Vec<WindowBand> {
    let spec = &estate.deployments[i];
    if spec.purpose != crate::estate::Purpose::Required || !spec.honor_maintenance_windows {
        return Vec::new();
    }
    let mut groups: Vec<(Vec<WindowSpec>, Vec<&str>)> = Vec::new();
    for c in &spec.targets {
        let cohort = &estate.cohorts[c.index()];
        let windows = cohort.update_windows(&estate.settings[cohort.settings.index()]);
        if windows.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == windows) {
            Some(g) => g.1.push(&cohort.name),
            None => groups.push((windows, vec![&cohort.name])),
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(k, (windows, cohorts))| {
            let spans = windows
                .iter()
                .flat_map(|w| openings(w, estate.week_offset, estate.duration))
                .filter(|&(_, b)| b > origin)
                .map(|(a, b)| {
                    (
                        unit.of(a.max(origin)) - unit.of(origin),
                        unit.of(b) - unit.of(origin),
                    )
                })
                .collect();
            let when: Vec<String> = windows.iter().map(window_words).collect();
            WindowBand {
                label: format!(
                    "maintenance window ({}): {}",
                    cohorts.join(", "),
                    when.join("; ")
                ),
                color: WINDOW_FILLS[k % WINDOW_FILLS.len()],
                spans,
            }
        })
        .collect()
}

/// A grey band where the phased deployment that deployment `i` is a
/// phase of was suspended, clipped to the chart.
fn suspension_band(
    estate: &Estate,
    i: usize,
    unit: Unit,
    origin: SimTime,
    when: &dyn Fn(SimTime) -> String,
) -> Option<WindowBand> {
    let spec = &estate.deployments[i];
    let first = spec.phase.as_ref().map_or(i, |p| p.first.index());
    let suspensions = &estate.deployments[first].suspensions;
    if suspensions.is_empty() {
        return None;
    }
    let end = estate.end();
    let spans: Vec<(f64, f64)> = (suspensions.iter())
        .map(|&(at, resume)| (at.max(origin), resume.min(end)))
        .filter(|&(a, b)| a < b)
        .map(|(a, b)| (unit.of(a) - unit.of(origin), unit.of(b) - unit.of(origin)))
        .collect();
    let words: Vec<String> = (suspensions.iter())
        .map(|&(at, resume)| match resume {
            SimTime::MAX => format!("from {}", when(at)),
            resume => format!("{} – {}", when(at), when(resume)),
        })
        .collect();
    (!spans.is_empty()).then(|| WindowBand {
        label: format!("phased deployment suspended: {}", words.join("; ")),
        color: SUSPENDED_FILL,
        spans,
    })
}

/// Each time window `w` is open within a run of length `duration`, clipped
/// to the run, in simulated time; `week_offset` is the local time of
/// simulated zero since Monday 00:00.
fn openings(
    w: &WindowSpec,
    week_offset: SimDuration,
    duration: SimDuration,
) -> Vec<(SimTime, SimTime)> {
    let (period, length) = (w.period.as_ms() as i64, w.length.as_ms() as i64);
    let (end, x) = (
        duration.as_ms() as i64,
        w.offset.as_ms() as i64 - week_offset.as_ms() as i64,
    );
    // Openings are at x + k·period; start from the first that closes after zero.
    let mut open = x - (x + length).div_euclid(period) * period;
    let mut out = Vec::new();
    while open < end {
        let (a, b) = (open.max(0), (open + length).min(end));
        if b > a {
            out.push((SimTime(a as u64), SimTime(b as u64)));
        }
        open += period;
    }
    out
}

/// `Sat 22:00, 4h` or `daily 01:00, 3h`.
fn window_words(w: &WindowSpec) -> String {
    const DAY: u64 = 86_400_000;
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let offset = w.offset.as_ms();
    let clock = offset % DAY / 60_000;
    let day = if w.period.as_ms() == DAY {
        "daily".to_string()
    } else if w.period.as_ms() == 7 * DAY {
        DAYS[(offset / DAY % 7) as usize].to_string()
    } else {
        format!("every {}", span_words(w.period.as_ms()))
    };
    let only = match w.kind {
        WindowKind::AllDeployments => "",
        WindowKind::SoftwareUpdates => " (software updates)",
    };
    format!(
        "{day} {:02}:{:02}, {}{only}",
        clock / 60,
        clock % 60,
        span_words(w.length.as_ms())
    )
}

/// `4h`, `1h30m`, `45m`, `2d`.
pub(super) fn span_words(ms: u64) -> String {
    let m = ms / 60_000;
    let (d, h, m) = (m / 1440, m % 1440 / 60, m % 60);
    let mut out = String::new();
    for (v, u) in [(d, "d"), (h, "h"), (m, "m")] {
        if v > 0 {
            out += &format!("{v}{u}");
        }
    }
    if out.is_empty() {
        "0m".to_string()
    } else {
        out
    }
}

/// `3`, or `2.5` for a label between whole units.
pub(super) fn day_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

pub(super) fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, entries: &[(String, Swatch)]) {
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
            Swatch::DashedWide(c) => area
                .draw(&DashedPathElement::new(
                    [(x, y), (x + 22, y)],
                    9,
                    5,
                    c.stroke_width(4),
                ))
                .expect("drawing to memory"),
            Swatch::Dotted(c) => area
                .draw(&DashedPathElement::new(
                    [(x, y), (x + 22, y)],
                    3,
                    3,
                    c.stroke_width(1),
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

/// Characters of a legend line before it wraps.
const LEGEND_CHARS: usize = 28;

/// A legend label as lines: each line of it (split at `\n`) that is too
/// long breaks after its first ": " (or before its first " ("), and a part
/// still too long at spaces.
fn wrap(label: &str) -> Vec<String> {
    label.split('\n').flat_map(wrap_line).collect()
}

fn wrap_line(label: &str) -> Vec<String> {
    if label.chars().count() <= LEGEND_CHARS {
        return vec![label.to_string()];
    }
    let parts = match label.find(": ").or_else(|| label.find(" (")) {
        Some(i) => vec![label[..=i].trim_end(), label[i + 1..].trim()],
        None => vec![label],
    };
    let mut lines = Vec::new();
    for part in parts {
        let mut line = String::new();
        for word in part.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > LEGEND_CHARS {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
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
    fn legend_labels_wrap() {
        assert_eq!(
            wrap("true (what the clients have)"),
            ["true (what the clients have)"]
        );
        assert_eq!(
            wrap("deadline: Wed 18 Nov 19:00 (day 9.8)"),
            ["deadline:", "Wed 18 Nov 19:00 (day 9.8)"]
        );
        assert_eq!(
            wrap("maintenance window (hq-desktops, branch-desktops): Sat 22:00, 4h"),
            [
                "maintenance window",
                "(hq-desktops,",
                "branch-desktops):",
                "Sat 22:00, 4h"
            ]
        );
        assert_eq!(
            wrap("capacity: 2,000 connections\n(above the scale)"),
            ["capacity: 2,000 connections", "(above the scale)"]
        );
    }

    #[test]
    fn window_words_and_spans() {
        let w = WindowSpec {
            period: SimDuration::from_days(7),
            offset: SimDuration::from_hours(5 * 24 + 22),
            length: SimDuration::from_hours(4),
            kind: WindowKind::AllDeployments,
        };
        assert_eq!(window_words(&w), "Sat 22:00, 4h");
        let daily = WindowSpec {
            period: SimDuration::from_days(1),
            offset: SimDuration::from_mins(90),
            length: SimDuration::from_mins(150),
            kind: WindowKind::SoftwareUpdates,
        };
        assert_eq!(
            window_words(&daily),
            "daily 01:30, 2h30m (software updates)"
        );
        const H: u64 = 3_600_000;
        // Zero is Saturday 23:00 local: the first window is half over.
        let zero = SimDuration::from_hours(5 * 24 + 23);
        let got = openings(&w, zero, SimDuration::from_days(8));
        assert_eq!(
            got,
            [
                (SimTime(0), SimTime(3 * H)),
                (SimTime(167 * H), SimTime(171 * H))
            ]
        );
        // Daily 01:30–04:00 over a run from Monday 00:00 of 36 h.
        let got = openings(&daily, SimDuration::ZERO, SimDuration::from_hours(36));
        assert_eq!(
            got,
            [
                (SimTime(90 * 60_000), SimTime(4 * H)),
                (SimTime(24 * H + 90 * 60_000), SimTime(28 * H))
            ]
        );
    }

    #[test]
    fn day_labels() {
        assert_eq!(day_label(&3.0), "3");
        assert_eq!(day_label(&2.5), "2.5");
    }
}
