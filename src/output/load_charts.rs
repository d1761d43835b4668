//! The load charts: per server, stacked panels over time of what a capacity
//! planner asks of it: requests in service against its capacity, requests
//! waiting against its queue limit, requests rejected per sample interval,
//! and for a distribution point the bandwidth it served. Intervals where a
//! fault took the server down (or slowed it) are shaded in every panel.
//!
//! Owns the load charts' layout; the numbers come from the outcome's load
//! rows and server records, the capacities and faults from the estate.
//! Drawn like the deployment charts (`charts.rs`, whose axis, legend and
//! footer helpers it shares): plotters' SVG backend, text as `<text>`, so
//! the bytes depend on nothing but the run.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{
    Chart, FAINT, LEGEND_WIDTH, Subject, Swatch, TEXT, Unit, WIDTH, day_label, draw_legend, footer,
    slug_or, span_words,
};
use crate::engine::SimTime;
use crate::estate::{Estate, ServerRef};
use crate::model::{LoadRow, Outcome, Request, ServerRecord, ServerRole};

/// Height of one panel (of one with nothing to show), of the title strip
/// and of the footer, in pixels.
const PANEL_HEIGHT: u32 = 210;
const EMPTY_PANEL_HEIGHT: u32 = 120;
/// Extra height of the bottom panel, for the time axis description.
const AXIS_DESC_HEIGHT: u32 = 22;
const TITLE_HEIGHT: u32 = 44;
const FOOTER_HEIGHT: u32 = 26;

const BUSY_LINE: RGBColor = RGBColor(31, 84, 160);
const BUSY_BAND: RGBColor = RGBColor(196, 214, 240);
const QUEUE_LINE: RGBColor = RGBColor(130, 60, 160);
const QUEUE_BAND: RGBColor = RGBColor(226, 208, 236);
const BANDWIDTH: RGBColor = RGBColor(40, 130, 150);
const LIMIT_LINE: RGBColor = RGBColor(200, 30, 40);
const CAPACITY_LINE: RGBColor = RGBColor(60, 60, 60);
const DOWN_FILL: RGBColor = RGBColor(248, 208, 208);
const SLOW_FILL: RGBColor = RGBColor(250, 234, 196);

/// A limit drawn on a panel only if the data reach at least this share of
/// it; otherwise the panel is scaled to the data and the legend says the
/// limit is above the scale (a queue of 30 under a limit of 5000 would be a
/// flat line at the bottom).
const LIMIT_ON_SCALE: f64 = 0.25;

/// One load chart per server, in [`Outcome::servers`] order, named
/// `load-<i>-<slug>.svg`; a WAN link's shows its utilization against the
/// estate's busy threshold.
pub(super) fn load_charts(estate: &Estate, outcome: &Outcome) -> Vec<Chart> {
    // Each server's rows and bandwidth found in one pass, not searched for
    // per server: an estate of thousands of DPs would pay for the search
    // once per server, quadratically.
    let by_server = super::load_by_server(outcome);
    let bandwidths = super::Bandwidths::new(estate);
    (outcome.servers.iter().zip(&by_server))
        .enumerate()
        .map(|(i, (server, rows))| {
            let mut view = ServerView::new(estate, server, rows);
            view.bandwidth_bps = bandwidths.of(server);
            Chart {
                subject: Subject::Server(i),
                file_name: format!("load-{i}-{}.svg", slug_or(&server.name, "server")),
                title: view.title(),
                svg: view.svg(),
            }
        })
        .collect()
}

/// A server's role in words, and what its capacity counts.
pub(super) fn role_words(role: ServerRole) -> (&'static str, &'static str) {
    match role {
        ServerRole::ManagementPoint => ("management point", "worker"),
        ServerRole::UpdatePoint => ("software update point", "scan slot"),
        ServerRole::DistributionPoint => ("distribution point", "connection"),
        ServerRole::StateSystem => ("state system", "thread"),
        ServerRole::CloudManagementGateway => ("cloud management gateway", "connection"),
        ServerRole::WanLink => ("WAN link", "transfer"),
    }
}

/// `1 scan slot`, `32 scan slots`, `2,000 connections`.
pub(super) fn capacity_words(n: u32, noun: &str) -> String {
    if noun.is_empty() {
        thousands(u64::from(n))
    } else if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(u64::from(n)))
    }
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An interval where a fault held the server.
struct Shade {
    from: f64,
    to: f64,
    color: RGBColor,
}

/// A line through the samples.
struct Line {
    label: String,
    color: RGBColor,
    width: u32,
    points: Vec<(f64, f64)>,
}

/// A value per interval, drawn as a filled step: `(from, to, value)`.
struct Steps {
    label: String,
    color: RGBColor,
    steps: Vec<(f64, f64, f64)>,
}

/// What one panel draws.
struct Panel {
    /// The y axis description.
    y_desc: String,
    /// Top of the y axis.
    y_max: f64,
    /// Whether the values are counts (integer y labels only).
    counts: bool,
    /// Lines through the samples.
    lines: Vec<Line>,
    /// Stacked filled steps, bottom first.
    stacked: Vec<Steps>,
    /// Horizontal dashed lines: label, colour, value.
    levels: Vec<(String, RGBColor, f64)>,
    /// Legend entries without a drawing of their own (a limit off the
    /// scale, the shading).
    notes: Vec<(String, Swatch)>,
    /// Text in the middle of an empty panel.
    empty: Option<String>,
}

impl Panel {
    fn height(&self) -> u32 {
        if self.empty.is_some() {
            EMPTY_PANEL_HEIGHT
        } else {
            PANEL_HEIGHT
        }
    }

    fn new(y_desc: String, counts: bool) -> Self {
        Panel {
            y_desc,
            y_max: 1.0,
            counts,
            lines: Vec::new(),
            stacked: Vec::new(),
            levels: Vec::new(),
            notes: Vec::new(),
            empty: None,
        }
    }

    /// Scales the panel to `peak` and adds the level `value` as a dashed
    /// line when it is on the scale, or as a note when it is far above it.
    fn scale(&mut self, peak: f64, level: Option<(String, RGBColor, f64)>) {
        let mut top = peak;
        if let Some((label, color, value)) = level {
            if peak >= value * LIMIT_ON_SCALE {
                top = top.max(value);
                self.levels.push((label, color, value));
            } else {
                self.notes
                    .push((format!("{label}\n(above the scale)"), Swatch::Dashed(color)));
            }
        }
        self.y_max = nice(top * 1.08).max(1.0);
    }
}

/// The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
/// power of ten) that is at least `v`; 1 for nothing above zero. Plain
/// multiplication and division by ten, so the same on every machine. The
/// top of every chart's y axis (the study charts' too).
pub(crate) fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mut scale = 1.0;
    while scale * 10.0 < v {
        scale *= 10.0;
    }
    while scale > v {
        scale /= 10.0;
    }
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * scale)
        .find(|&c| c >= v)
        .unwrap_or(scale * 10.0)
}

/// One server with its rows.
struct ServerView<'a> {
    estate: &'a Estate,
    server: &'a ServerRecord,
    rows: &'a [&'a LoadRow],
    /// Every row of the run, drawn or not: what the legends count.
    all_rows: &'a [&'a LoadRow],
    unit: Unit,
    /// Time zero of the x axis: the first deployment's creation (the
    /// start without deployments).
    origin: SimTime,
    /// The x range drawn, in `unit`s from `origin`.
    x_min: f64,
    x_max: f64,
    /// Whether the range is narrowed to where the load is.
    zoomed: bool,
    /// The utilization, a share, at or above which a WAN link counts as
    /// busy (the estate's `busy_threshold_pct`).
    busy_above: f64,
    /// A distribution point's outbound bandwidth, or a WAN link's.
    bandwidth_bps: Option<u64>,
}

/// The share of the run below which the load's span is drawn zoomed.
const ZOOM_BELOW: f64 = 0.5;

impl<'a> ServerView<'a> {
    fn new(estate: &'a Estate, server: &'a ServerRecord, rows: &'a [&'a LoadRow]) -> Self {
        let origin = estate
            .deployments
            .iter()
            .map(|d| d.created)
            .min()
            .unwrap_or(SimTime::ZERO)
            .min(estate.end());
        let end = estate.end().as_ms();
        let interval = estate.sample_interval.as_ms();
        // Where the load is: from the interval before the first sample with
        // anything in service, waiting or down, or with any request
        // arriving, served, rejected or byte sent in its interval, to the
        // last. Samples alone would miss a server whose requests take
        // milliseconds: rarely one in service at a sample, yet busy all
        // run.
        let active = |r: &&&LoadRow| {
            let c = &r.counts;
            r.busy > 0
                || r.queue > 0
                || r.down
                || r.bytes > 0
                || [&c.arrived, &c.served, &c.rejected]
                    .iter()
                    .any(|k| k.iter().any(|&n| n > 0))
        };
        let first = rows
            .iter()
            .find(active)
            .map(|r| r.time.as_ms().saturating_sub(interval));
        let last = rows.iter().rev().find(active).map(|r| r.time.as_ms());
        let (from, to, zoomed) = match (first, last) {
            (Some(a), Some(b)) if ((b - a) as f64) < ZOOM_BELOW * end as f64 => {
                let pad = ((b - a) / 10).max(interval);
                (a.saturating_sub(pad), (b + pad).min(end), true)
            }
            _ => (0, end, false),
        };
        let unit = Unit::for_run(to - from);
        let x = |t: u64| (t as f64 - origin.as_ms() as f64) / unit.ms;
        // The rows drawn: those whose interval meets the range.
        let lo = rows.partition_point(|r| r.time.as_ms() < from);
        let hi = rows.partition_point(|r| r.time.as_ms() <= to.saturating_add(interval));
        ServerView {
            estate,
            server,
            rows: &rows[lo..hi.max(lo)],
            all_rows: rows,
            unit,
            origin,
            x_min: x(from),
            x_max: x(to).max(x(from) + 1.0 / 60.0),
            zoomed,
            busy_above: estate.busy_above(),
            bandwidth_bps: None,
        }
    }

    /// The x axis description: its unit, its zero, and the zoom.
    fn x_desc(&self) -> String {
        let at =
            self.estate.source.start + chrono::Duration::milliseconds(self.origin.as_ms() as i64);
        let zero = if self.estate.deployments.is_empty() {
            "the start"
        } else {
            "the first deployment was created"
        };
        format!(
            "{} since {zero} ({}){}",
            self.unit.many,
            at.format("%a %Y-%m-%d %H:%M %:z"),
            if self.zoomed {
                "; zoomed to where the load is, idle before and after"
            } else {
                ""
            }
        )
    }

    fn title(&self) -> String {
        let (role, _) = role_words(self.server.role);
        let name = &self.server.name;
        // "PS1 state system" needs no "(state system)".
        let who = if name.to_lowercase().contains(role) {
            name.clone()
        } else {
            format!("{name} ({role})")
        };
        format!(
            "{who}: load, sampled every {}",
            span_words(self.estate.sample_interval.as_ms())
        )
    }

    /// The DP's outbound bandwidth, for distribution points.
    fn dp_bandwidth_bps(&self) -> Option<u64> {
        (self.server.role == ServerRole::DistributionPoint)
            .then_some(self.bandwidth_bps)
            .flatten()
    }

    /// A WAN link's bandwidth, for WAN links.
    fn link_bandwidth_bps(&self) -> Option<u64> {
        (self.server.role == ServerRole::WanLink)
            .then_some(self.bandwidth_bps)
            .flatten()
    }

    /// A WAN link's utilization per sample interval, in percent of its
    /// bandwidth, against the busy threshold.
    fn utilization_panel(&self, bps: u64) -> Panel {
        let interval = span_words(self.estate.sample_interval.as_ms());
        let mut panel = Panel::new("utilization, %".into(), false);
        let pct = |&(a, b): &(SimTime, SimTime), r: &&LoadRow| {
            let ms = b.since(a).as_ms().max(1);
            r.bytes as f64 * 8.0 * 1000.0 / (ms as f64 * bps as f64) * 100.0
        };
        let steps: Vec<(f64, f64, f64)> = (self.intervals().iter().zip(self.rows))
            .map(|(ab, r)| (self.x(ab.0), self.x(ab.1), pct(ab, r)))
            .collect();
        // The legend counts the whole run, zoomed or not.
        let run: Vec<f64> = (self.intervals_of(self.all_rows).iter())
            .zip(self.all_rows)
            .map(|(ab, r)| pct(ab, r))
            .collect();
        let peak = run.iter().copied().fold(0.0, f64::max);
        let above = (run.iter())
            .filter(|&&p| p >= self.busy_above * 100.0)
            .count();
        panel.stacked.push(Steps {
            label: format!(
                "used, mean over {interval} (peak {peak:.0} %; {} of {} intervals at or above the threshold)",
                thousands(above as u64),
                thousands(run.len() as u64)
            ),
            color: BANDWIDTH,
            steps,
        });
        panel.levels.push((
            format!("bandwidth: {}", bandwidth_words(bps)),
            CAPACITY_LINE,
            100.0,
        ));
        panel.levels.push((
            format!(
                "threshold: {:.0} % (busy_threshold_pct)",
                self.busy_above * 100.0
            ),
            LIMIT_LINE,
            self.busy_above * 100.0,
        ));
        panel.y_max = nice(peak.max(100.0) * 1.08);
        panel
    }

    /// The faults that hit this server: shaded intervals and their legend
    /// entries (one per kind of fault).
    fn shades(&self) -> (Vec<Shade>, Vec<(String, Swatch)>) {
        let e = self.estate;
        let mine = |r: ServerRef| {
            ServerRole::of(r) == self.server.role && e.server_name(r) == self.server.name
        };
        let end = e.end();
        let mut shades = Vec::new();
        let mut entries: Vec<(String, Swatch)> = Vec::new();
        for f in e.faults.iter().filter(|f| mine(f.server)) {
            let (from, to) = (f.start.min(end), f.end.min(end));
            if to <= from {
                continue;
            }
            let (color, label) = match f.slowdown {
                None => (DOWN_FILL, "down (fault)".to_string()),
                Some(k) => (SLOW_FILL, format!("slowed ×{k} (fault)")),
            };
            shades.push(Shade {
                from: self.x(from).max(self.x_min),
                to: self.x(to).min(self.x_max),
                color,
            });
            if !entries.iter().any(|(l, _)| *l == label) {
                entries.push((label, Swatch::Fill(color)));
            }
        }
        (shades, entries)
    }

    fn x(&self, t: SimTime) -> f64 {
        (t.as_ms() as f64 - self.origin.as_ms() as f64) / self.unit.ms
    }

    /// Each drawn interval's `(start, end, most)`, on the x axis: the most
    /// at any moment of it, as `most` reads it from its row.
    fn most_steps(&self, most: fn(&LoadRow) -> u32) -> Vec<(f64, f64, f64)> {
        (self.intervals().iter().zip(self.rows))
            .map(|(&(a, b), r)| (self.x(a), self.x(b), f64::from(most(r))))
            .collect()
    }

    /// Each row's interval, `(start, end)`: from the previous sample (one
    /// sample interval back, but not before zero, for the first) to the
    /// row's.
    fn intervals(&self) -> Vec<(SimTime, SimTime)> {
        self.intervals_of(self.rows)
    }

    /// [`Self::intervals`] of `rows`, consecutive rows of this server.
    fn intervals_of(&self, rows: &[&LoadRow]) -> Vec<(SimTime, SimTime)> {
        let mut prev: Option<SimTime> = None;
        rows.iter()
            .map(|r| {
                let back = r
                    .time
                    .as_ms()
                    .saturating_sub(self.estate.sample_interval.as_ms());
                let from = prev.unwrap_or(SimTime(back));
                prev = Some(r.time);
                (from, r.time)
            })
            .collect()
    }

    fn panels(&self) -> Vec<Panel> {
        let s = self.server;
        let (_, noun) = role_words(s.role);
        let interval = span_words(self.estate.sample_interval.as_ms());

        let mut busy = Panel::new("in service".into(), true);
        let sampled = self.rows.iter().map(|r| r.most_busy).max().unwrap_or(0);
        // The most at any moment of each interval, under the line of the
        // samples: short services between two samples show.
        busy.stacked.push(Steps {
            label: format!("most in service in each {interval}"),
            color: BUSY_BAND,
            steps: self.most_steps(|r| r.most_busy),
        });
        busy.lines.push(Line {
            label: format!("in service (peak {})", thousands(u64::from(s.peak_busy))),
            color: BUSY_LINE,
            width: 2,
            points: self
                .rows
                .iter()
                .map(|r| (self.x(r.time), f64::from(r.busy)))
                .collect(),
        });
        if s.peak_busy == 0 {
            busy.empty = Some("idle: nothing served".into());
        }
        if let Some(bps) = self.link_bandwidth_bps() {
            // A WAN link has no connection limit and no queue: what it
            // carries against its bandwidth is its load.
            busy.scale(f64::from(sampled.max(s.peak_busy)), None);
            return vec![busy, self.utilization_panel(bps)];
        }
        busy.scale(
            f64::from(sampled.max(s.peak_busy)),
            Some((
                format!("capacity: {}", capacity_words(s.capacity, noun)),
                CAPACITY_LINE,
                f64::from(s.capacity),
            )),
        );

        let waiting_what = if s.role == ServerRole::DistributionPoint {
            "waiting for a connection"
        } else {
            "waiting"
        };
        let mut queue = Panel::new("waiting".into(), true);
        let sampled = self.rows.iter().map(|r| r.most_queue).max().unwrap_or(0);
        queue.stacked.push(Steps {
            label: format!("most {waiting_what} in each {interval}"),
            color: QUEUE_BAND,
            steps: self.most_steps(|r| r.most_queue),
        });
        queue.lines.push(Line {
            label: format!(
                "{waiting_what} (peak {})",
                thousands(u64::from(s.peak_queue))
            ),
            color: QUEUE_LINE,
            width: 2,
            points: self
                .rows
                .iter()
                .map(|r| (self.x(r.time), f64::from(r.queue)))
                .collect(),
        });
        let limit = s.queue_limit.map(|l| {
            (
                format!("queue limit: {}", thousands(u64::from(l))),
                LIMIT_LINE,
                f64::from(l),
            )
        });
        if s.queue_limit.is_none() {
            queue
                .notes
                .push(("no queue limit".into(), Swatch::Dashed(FAINT)));
        }
        if s.peak_queue == 0 {
            queue.empty = Some("no request ever waited".into());
        }
        queue.scale(f64::from(sampled.max(s.peak_queue)), limit);

        let mut rejected = Panel::new(format!("rejected per {interval}"), true);
        let intervals = self.intervals();
        let mut below = vec![0.0; self.rows.len()];
        let all_rejected: u64 = s.total.rejected.iter().sum();
        for (k, &kind) in Request::ALL.iter().enumerate() {
            let (arrived, refused) = (s.total.arrived[k], s.total.rejected[k]);
            if arrived == 0 || all_rejected == 0 {
                continue;
            }
            let label = format!(
                "{}: {} of {} rejected",
                kind.name().replace('_', " "),
                thousands(refused),
                thousands(arrived)
            );
            if refused == 0 {
                rejected.notes.push((label, Swatch::Fill(WHITE)));
                continue;
            }
            let above: Vec<f64> = self
                .rows
                .iter()
                .zip(&below)
                .map(|(r, b)| b + r.counts.rejected[k] as f64)
                .collect();
            let steps = intervals
                .iter()
                .zip(&above)
                .map(|(&(a, b), &v)| (self.x(a), self.x(b), v))
                .collect();
            rejected.stacked.push(Steps {
                label,
                color: request_color(kind),
                steps,
            });
            below = above;
        }
        let peak = below.iter().copied().fold(0.0, f64::max);
        if all_rejected == 0 {
            rejected.empty = Some("nothing rejected".into());
            rejected.notes.push((
                format!("0 of {} rejected", thousands(s.total.arrived.iter().sum())),
                Swatch::Fill(WHITE),
            ));
        }
        rejected.scale(peak, None);

        let mut panels = vec![busy, queue, rejected];
        let bandwidth = self.dp_bandwidth_bps();
        if bandwidth.is_some() || self.server.bytes > 0 {
            // A DP's downloads against its bandwidth; an update point's scan
            // answers (the metadata they send) against no line.
            let mut band = Panel::new("Mbps served".into(), false);
            // Bits per millisecond are kilobits per second.
            let mbps = |bytes: u64, ms: u64| {
                if ms == 0 {
                    0.0
                } else {
                    bytes as f64 * 8.0 / ms as f64 / 1000.0
                }
            };
            let steps: Vec<(f64, f64, f64)> = intervals
                .iter()
                .zip(self.rows)
                .map(|(&(a, b), r)| (self.x(a), self.x(b), mbps(r.bytes, b.since(a).as_ms())))
                .collect();
            // The legend's peak is the whole run's, zoomed or not.
            let peak = (self.intervals_of(self.all_rows).iter())
                .zip(self.all_rows)
                .map(|(&(a, b), r)| mbps(r.bytes, b.since(a).as_ms()))
                .fold(0.0, f64::max);
            band.stacked.push(Steps {
                label: format!(
                    "served, mean over {interval} (peak {} Mbps)",
                    thousands(peak.round() as u64)
                ),
                color: BANDWIDTH,
                steps,
            });
            band.scale(
                peak,
                bandwidth.map(|bps| {
                    (
                        format!("DP bandwidth: {}", bandwidth_words(bps)),
                        CAPACITY_LINE,
                        bps as f64 / 1e6,
                    )
                }),
            );
            panels.push(band);
        }
        panels
    }

    fn svg(&self) -> String {
        let panels = self.panels();
        let (shades, shade_entries) = self.shades();
        let body_height: u32 = panels.iter().map(Panel::height).sum::<u32>() + AXIS_DESC_HEIGHT;
        let height = TITLE_HEIGHT + body_height + FOOTER_HEIGHT;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            root.fill(&WHITE).expect("drawing to memory");
            let (top, rest) = root.split_vertically(TITLE_HEIGHT);
            top.draw(&Text::new(
                self.title(),
                (WIDTH as i32 / 2, TITLE_HEIGHT as i32 / 2 + 2),
                ("sans-serif", 23)
                    .into_font()
                    .color(&TEXT)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .expect("drawing to memory");
            let mut below = rest;
            let last = panels.len() - 1;
            for (k, panel) in panels.iter().enumerate() {
                let bottom = if k == last { AXIS_DESC_HEIGHT } else { 0 };
                let (area, next) = below.split_vertically(panel.height() + bottom);
                let extra = if k == 0 { &shade_entries[..] } else { &[] };
                self.draw_panel(panel, &area, &shades, extra, k == last);
                below = next;
            }
            footer(self.estate, &below);
            root.present().expect("drawing to memory");
        }
        svg
    }

    fn draw_panel(
        &self,
        panel: &Panel,
        area: &DrawingArea<SVGBackend<'_>, Shift>,
        shades: &[Shade],
        shade_entries: &[(String, Swatch)],
        bottom: bool,
    ) {
        let (plot, legend) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .margin_left(12)
            .x_label_area_size(if bottom { 50 } else { 28 })
            .y_label_area_size(76)
            .build_cartesian_2d(self.x_min..self.x_max, 0.0..panel.y_max)
            .expect("drawing to memory");
        let counts = panel.counts;
        let y_label = move |y: &f64| {
            if counts && (y - y.round()).abs() > 1e-9 {
                String::new()
            } else if counts || *y >= 10.0 || *y == 0.0 {
                thousands(y.round() as u64)
            } else {
                format!("{y:.1}")
            }
        };
        let x_desc = if bottom { self.x_desc() } else { String::new() };
        let mut mesh = chart.configure_mesh();
        mesh.x_labels(Unit::ticks(self.x_max - self.x_min))
            .y_labels(5)
            .x_label_formatter(&day_label)
            .y_label_formatter(&y_label)
            .y_desc(panel.y_desc.as_str())
            .axis_desc_style(("sans-serif", 16).into_font().color(&TEXT))
            .label_style(("sans-serif", 15).into_font().color(&TEXT))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225));
        if bottom {
            mesh.x_desc(x_desc.as_str());
        }
        mesh.draw().expect("drawing to memory");
        chart
            .draw_series(
                shades.iter().map(|s| {
                    Rectangle::new([(s.from, 0.0), (s.to, panel.y_max)], s.color.filled())
                }),
            )
            .expect("drawing to memory");
        // Stacked steps, the top one first so each lower band is drawn over it.
        for Steps { color, steps, .. } in panel.stacked.iter().rev() {
            let mut outline: Vec<(f64, f64)> = Vec::with_capacity(2 * steps.len() + 2);
            for &(a, b, v) in steps {
                outline.push((a, v));
                outline.push((b, v));
            }
            if let (Some(first), Some(last)) = (steps.first(), steps.last()) {
                outline.push((last.1, 0.0));
                outline.push((first.0, 0.0));
            }
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    color.mix(0.85).filled(),
                )))
                .expect("drawing to memory");
        }
        for (_, color, value) in &panel.levels {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    [(self.x_min, *value), (self.x_max, *value)],
                    7,
                    4,
                    color.stroke_width(2),
                )))
                .expect("drawing to memory");
        }
        for Line {
            color,
            width,
            points,
            ..
        } in &panel.lines
        {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(*width),
                ))
                .expect("drawing to memory");
        }
        if let Some(text) = &panel.empty {
            let (w, h) = plot.dim_in_pixel();
            plot.draw(&Text::new(
                text.clone(),
                (w as i32 / 2, h as i32 / 2 - 10),
                ("sans-serif", 17)
                    .into_font()
                    .color(&FAINT)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .expect("drawing to memory");
        }
        let mut entries: Vec<(String, Swatch)> = Vec::new();
        for l in &panel.lines {
            entries.push((l.label.clone(), Swatch::Line(l.color, l.width)));
        }
        for st in panel.stacked.iter().rev() {
            entries.push((st.label.clone(), Swatch::Fill(st.color)));
        }
        for (label, color, _) in &panel.levels {
            entries.push((label.clone(), Swatch::Dashed(*color)));
        }
        for (label, swatch) in panel.notes.iter().chain(shade_entries) {
            entries.push((label.clone(), swatch.clone()));
        }
        draw_legend(&legend, &entries);
    }
}

/// A request kind's colour in the rejected panel.
fn request_color(kind: Request) -> RGBColor {
    match kind {
        Request::Policy => RGBColor(214, 96, 77),
        Request::Location => RGBColor(244, 165, 130),
        Request::ContentLocation => RGBColor(253, 219, 199),
        Request::Batch => RGBColor(178, 24, 43),
        Request::FullScan => RGBColor(200, 30, 40),
        Request::DeltaScan => RGBColor(240, 140, 60),
        Request::StateBatch => RGBColor(178, 24, 43),
        Request::Download => RGBColor(200, 30, 40),
    }
}

/// `10 Gbps`, `500 Mbps`.
fn bandwidth_words(bps: u64) -> String {
    if bps >= 1_000_000_000 && bps % 1_000_000_000 == 0 {
        format!("{} Gbps", bps / 1_000_000_000)
    } else if bps >= 1_000_000 {
        format!("{} Mbps", thousands(bps / 1_000_000))
    } else {
        format!("{} kbps", bps / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(-3.0), 1.0);
        assert_eq!(nice(0.5), 0.5);
        assert_eq!(nice(0.5).max(1.0), 1.0);
        assert_eq!(nice(0.034), 0.04);
        assert_eq!(nice(3.2), 4.0);
        assert_eq!(nice(17.0), 20.0);
        assert_eq!(nice(21.0), 25.0);
        assert_eq!(nice(34.56), 40.0);
        assert_eq!(nice(1080.0), 1200.0);
        assert_eq!(nice(10_800.0), 12_000.0);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bandwidth_words(10_000_000_000), "10 Gbps");
        assert_eq!(bandwidth_words(500_000_000), "500 Mbps");
        assert_eq!(bandwidth_words(1_500_000_000), "1,500 Mbps");
        assert_eq!(capacity_words(1, "thread"), "1 thread");
        assert_eq!(capacity_words(2000, "connection"), "2,000 connections");
    }
}
