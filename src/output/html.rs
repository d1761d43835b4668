//! `report.html`: one self-contained page with the run header, the summary
//! tables, the charts (inline SVG) and the resolved scenario.
//!
//! Owns what the page says, as sections of notes, tables and figures; the
//! markup is `templates/report.html`, rendered by minijinja, which escapes
//! every value (the SVG charts are inserted as they are). The numbers come
//! from [`Summary`] (so they are the ones in `summary.json` and the printed
//! summary), the pictures from [`Chart`]. No scripts, no external assets:
//! the page opens from a file in any browser, offline.

use serde::Serialize;
use serde_json::Value;

use super::charts::{Chart, Subject};
use super::json::{CohortSummary, DeploymentSummary, Percentiles, Summary, Thresholds};
use super::load_charts::{capacity_words, role_words, thousands};
use super::report::{after_the_end, format_duration, percent, phase_line, previous_began, signed};
use crate::estate::Estate;
use crate::model::ServerRole;

/// The page's style sheet: system fonts, readable tables, charts that
/// shrink with the window.
const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
       color: #222; margin: 0 auto; max-width: 1160px; padding: 1.5em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
p.note { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d4d4d4; padding: 0.3em 0.7em; }
th { background: #f3f3f3; text-align: left; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
td.hot { background: #fbe3e3; }
td.sub { color: #666; }
table.kv th { width: 11em; }
table.compact { font-size: 0.9em; }
table.compact th, table.compact td { padding: 0.25em 0.5em; }
nav ul { padding-left: 1.2em; margin: 0.3em 0; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { color: #666; font-size: 0.85em; }
pre { background: #f7f7f7; border: 1px solid #e0e0e0; padding: 1em; overflow-x: auto; font-size: 0.85em; }
footer { margin-top: 3em; color: #777; font-size: 0.85em; }
figure, table { break-inside: avoid; }
";

/// One cell of a table: a header (`th`) or data (`td`) cell.
#[derive(Serialize)]
struct Cell {
    tag: &'static str,
    text: String,
    class: &'static str,
    title: String,
    rowspan: usize,
    colspan: usize,
}

impl Cell {
    fn th(text: impl Into<String>) -> Cell {
        Cell {
            tag: "th",
            text: text.into(),
            class: "",
            title: String::new(),
            rowspan: 1,
            colspan: 1,
        }
    }
    fn td(text: impl Into<String>) -> Cell {
        Cell {
            tag: "td",
            ..Cell::th(text)
        }
    }
    /// A number, right-aligned.
    fn num(text: impl ToString) -> Cell {
        Cell {
            class: "num",
            ..Cell::td(text.to_string())
        }
    }
    /// A count, right-aligned, with thousands separators: `12,345`.
    fn count(n: impl Into<u64>) -> Cell {
        Cell::num(thousands(n.into()))
    }
    fn class(self, class: &'static str) -> Cell {
        Cell { class, ..self }
    }
    fn rows(self, rowspan: usize) -> Cell {
        Cell { rowspan, ..self }
    }
    fn cols(self, colspan: usize) -> Cell {
        Cell { colspan, ..self }
    }
    fn title(self, title: String) -> Cell {
        Cell { title, ..self }
    }
}

/// A link of the table of contents.
#[derive(Serialize)]
struct Link {
    id: String,
    text: String,
}

/// One piece of a section, in page order.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Block {
    Note {
        text: String,
    },
    Heading {
        text: String,
    },
    Table {
        class: &'static str,
        rows: Vec<Vec<Cell>>,
    },
    /// An inline chart: `svg` is the chart's markup after its `<svg `.
    Figure {
        title: String,
        file: String,
        svg: String,
    },
    Nav {
        links: Vec<Link>,
    },
    Pre {
        text: String,
    },
}

/// A section of the page; the one without an `id` is the header.
#[derive(Serialize)]
struct Section {
    id: String,
    title: String,
    blocks: Vec<Block>,
}

impl Section {
    fn new(id: impl Into<String>, title: impl Into<String>) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            blocks: Vec::new(),
        }
    }
    fn note(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Note { text: text.into() });
    }
    fn heading(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Heading { text: text.into() });
    }
    fn table(&mut self, class: &'static str, rows: Vec<Vec<Cell>>) {
        self.blocks.push(Block::Table { class, rows });
    }
    /// A chart as a figure: the inline SVG, labelled, and its caption.
    fn figure(&mut self, c: &Chart) {
        let svg = c.svg.trim_end();
        self.blocks.push(Block::Figure {
            title: c.title.clone(),
            file: c.file_name.clone(),
            svg: svg.strip_prefix("<svg ").unwrap_or(svg).to_string(),
        });
    }
}

/// The whole page. `charts` are those of [`charts`](super::charts()) for
/// the same run; `scenario` is the resolved scenario's text.
pub fn report_html(estate: &Estate, s: &Summary, charts: &[Chart], scenario: &str) -> String {
    let when = |hours: f64| {
        let ms = (hours * 3_600_000.0).round() as i64;
        (estate.source.start + chrono::Duration::milliseconds(ms))
            .format("%a %Y-%m-%d %H:%M")
            .to_string()
    };
    let title = format!("patchsim report: {}", s.scenario);
    let mut sections = vec![header(estate, s, &title)];
    sections.push(time_to_compliance(s));
    for d in &s.deployments {
        let i = d.index;
        let mut sec = Section::new(format!("deployment-{i}"), format!("Deployment: {}", d.name));
        let mut rows = vec![vec![
            Cell::th("targeted clients"),
            Cell::td(thousands(u64::from(d.targeted))),
        ]];
        // The first three are the scenario's, and may lie past the end;
        // a publication is something the run saw.
        for (what, at, set) in [
            ("created", d.created_h, true),
            ("available", d.available_h, true),
            ("deadline", d.deadline_h, true),
            (
                "published (content on the DPs, in policy)",
                d.published_h,
                false,
            ),
        ] {
            let v = match at {
                Some(h) => Cell::td(format!(
                    "{} (hour {} since the start){}",
                    when(h),
                    short_hours(h),
                    if set { after_the_end(s, h) } else { "" }
                ))
                .title(format!("{h} h")),
                None => Cell::td("never"),
            };
            rows.push(vec![Cell::th(what), v]);
        }
        if let Some(p) = &d.phase {
            let line = phase_line(p, previous_began(s, p));
            rows.push(vec![Cell::th("phased deployment"), Cell::td(line)]);
        }
        sec.table("kv", rows);
        sec.heading("State at the end of the run");
        sec.table(
            "",
            state_table(
                &[("true", &d.final_true), ("reported", &d.final_reported)],
                &[
                    ("true", d.compliant_pct_true),
                    ("reported", d.compliant_pct_reported),
                ],
            ),
        );
        unknown_table(&mut sec, d, s.co_managed_clients > 0);
        sec.heading("Client time to compliant");
        sec.note(
            "Hours from the deployment's creation until each client it required was \
             compliant (HdrHistogram percentiles).",
        );
        sec.table(
            "",
            percentile_table(
                &[
                    ("true", &d.client_time_to_compliant_h_true),
                    ("reported", &d.client_time_to_compliant_h_reported),
                ],
                1.0,
            ),
        );
        if d.by_cohort.len() > 1 {
            by_cohort_table(&mut sec, d);
        }
        for c in charts
            .iter()
            .filter(|c| c.subject == Subject::Deployment(i))
        {
            sec.figure(c);
        }
        sections.push(sec);
    }
    sections.push(cohorts_section(s));
    if !s.primaries.is_empty() {
        sections.push(primaries_section(s, &when));
    }
    if !s.locations.is_empty() {
        sections.push(locations_section(s, charts));
    }
    sections.push(servers_section(s, charts));
    sections.push(catalog_section(s, &when));
    let mut latency = Section::new("latency", "State message latency");
    latency.note(format!(
        "Time from a state message being queued on the client to its arrival in the site \
         database; {} messages were still on their way at the end of the run{}.",
        thousands(s.state_messages_pending_at_end),
        match s.totals.state_messages_lost {
            0 => String::new(),
            lost => format!(
                ", and {} were lost on the way ({} resyncs made good what later \
                 batches showed missing)",
                thousands(lost),
                thousands(s.totals.resyncs)
            ),
        }
    ));
    latency.table(
        "",
        percentile_table(&[("state messages", &s.state_message_latency_s)], 3600.0),
    );
    sections.push(latency);
    let mut totals = Section::new("totals", "Totals");
    let rows: Vec<(String, String)> = fields(&s.totals)
        .into_iter()
        .map(|(k, v)| {
            let text = match v.as_u64() {
                Some(b) if k.starts_with("bytes") || k.ends_with("bytes_saved") => {
                    format!("{} ({})", thousands(b), decimal_bytes(b))
                }
                _ => scalar(&v),
            };
            (k.replace('_', " "), text)
        })
        .collect();
    totals.table("kv", key_values(&rows));
    sections.push(totals);
    let mut resolved = Section::new("scenario", "Resolved scenario");
    resolved.note(
        "The scenario as run, defaults written out; this is scenario.ron, and “patchsim run scenario.ron” \
         reproduces the run byte for byte.",
    );
    resolved.blocks.push(Block::Pre {
        text: scenario.trim_end().to_string(),
    });
    sections.push(resolved);

    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_template("report.html", include_str!("../templates/report.html"))
        .expect("the template parses");
    env.get_template("report.html")
        .expect("added")
        .render(minijinja::context! {
            title => title,
            provenance => super::provenance(estate),
            style => minijinja::Value::from_safe_string(STYLE.to_string()),
            sections => sections,
        })
        .expect("the template renders")
}

/// The run's title, description and facts, and the table of contents.
fn header(estate: &Estate, s: &Summary, title: &str) -> Section {
    let mut sec = Section::new("", title);
    if !estate.source.description.is_empty() {
        sec.note(estate.source.description.clone());
    }
    sec.table(
        "kv",
        key_values(&[
            ("tool".into(), format!("{} {}", s.tool, s.version)),
            ("scenario".into(), s.scenario.clone()),
            ("scenario hash".into(), s.scenario_hash.clone()),
            ("seed".into(), s.seed.to_string()),
            ("start".into(), s.start.clone()),
            (
                "simulated".into(),
                format!(
                    "{} ({} h)",
                    format_duration(s.duration_h),
                    short_hours(s.duration_h)
                ),
            ),
            ("clients".into(), thousands(u64::from(s.clients))),
            ("events".into(), thousands(s.events)),
        ]),
    );
    let link = |id: &str, text: &str| Link {
        id: id.to_string(),
        text: text.to_string(),
    };
    let mut links = vec![link("compliance", "Time to compliance")];
    for d in &s.deployments {
        links.push(link(
            &format!("deployment-{}", d.index),
            &format!("Deployment: {}", d.name),
        ));
    }
    links.push(link("cohorts", "Cohorts"));
    if !s.primaries.is_empty() {
        links.push(link("primaries", "Primary sites"));
    }
    links.extend([
        link("servers", "Servers and load"),
        link("catalog", "Updates and syncs"),
        link("latency", "State message latency"),
        link("totals", "Totals"),
        link("scenario", "Resolved scenario"),
    ]);
    sec.blocks.push(Block::Nav { links });
    sec
}

/// The printed summary's table: targeted, compliant at the end, time
/// from creation to each threshold, and the 95 % one from the deadline,
/// true and reported.
fn time_to_compliance(s: &Summary) -> Section {
    let mut sec = Section::new("compliance", "Time to compliance");
    sec.note(
        "Time from deployment creation until the share of targeted clients is compliant \
         (installed or not required); — where it was not reached. 95% vs deadline: when \
         95 % was reached, counted from a Required deployment's deadline (+ after it, − \
         before).",
    );
    let mut head: Vec<Cell> = ["deployment", "view", "targeted", "compliant"]
        .into_iter()
        .map(Cell::th)
        .collect();
    head.extend(
        fields(&s.deployments.first().map(|d| &d.hours_to_pct_true))
            .into_iter()
            .map(|(k, _)| Cell::th(k.trim_start_matches("pct_").to_string() + "%")),
    );
    head.push(Cell::th("95% vs deadline"));
    let mut rows = vec![head];
    for d in &s.deployments {
        let views: [(&str, f64, &Thresholds, &Thresholds); 2] = [
            (
                "true",
                d.compliant_pct_true,
                &d.hours_to_pct_true,
                &d.hours_after_deadline_to_pct_true,
            ),
            (
                "reported",
                d.compliant_pct_reported,
                &d.hours_to_pct_reported,
                &d.hours_after_deadline_to_pct_reported,
            ),
        ];
        for (k, (view, pct, th, after)) in views.into_iter().enumerate() {
            let mut row = Vec::new();
            if k == 0 {
                row.push(Cell::td(d.name.clone()).rows(2));
                row.push(Cell::td(view));
                row.push(Cell::count(d.targeted).rows(2));
            } else {
                row.push(Cell::td(view));
            }
            row.push(Cell::num(percent(pct)));
            row.extend(fields(th).into_iter().map(|(_, v)| hours_cell(v.as_f64())));
            row.push(match after.pct_95 {
                Some(v) if d.purpose == "required" => {
                    Cell::num(signed(Some(v))).title(format!("{v} h"))
                }
                _ => Cell::num("—"),
            });
            rows.push(row);
        }
    }
    sec.table("", rows);
    sec
}

/// Why clients are Unknown at the end of the run.
fn unknown_table(sec: &mut Section, d: &DeploymentSummary, co_managed: bool) {
    let u = &d.unknown_at_end;
    sec.heading("Unknown at the end");
    if u.true_gpo_conflict + u.reported_scan_failed + u.reported_not_yet_reported == 0 {
        sec.note("No client was Unknown, true or reported.");
        return;
    }
    sec.table(
        "",
        vec![
            vec![Cell::th("view"), Cell::th("why"), Cell::th("clients")],
            vec![
                Cell::td("true"),
                Cell::td(if co_managed {
                    "conflicting domain GPO (scans another update server), or co-managed with \
                     the Windows Update policies workload on Intune (Windows Update for \
                     Business patches it): this site can neither know nor change it"
                } else {
                    "conflicting domain GPO: scans another update server, so this site can \
                     neither know nor change it"
                }),
                Cell::count(u.true_gpo_conflict),
            ],
            vec![
                Cell::td("reported").rows(2),
                Cell::td("its last scan report was a failure"),
                Cell::count(u.reported_scan_failed),
            ],
            vec![
                Cell::td("has not yet reported a state for every update"),
                Cell::count(u.reported_not_yet_reported),
            ],
        ],
    );
}

/// A deployment's results per targeted cohort: counts at the end, the
/// compliant share, and client time to compliant, true and reported.
fn by_cohort_table(sec: &mut Section, d: &DeploymentSummary) {
    sec.heading("By cohort");
    sec.note(
        "State at the end, time from creation until each share of the cohort's targeted \
         clients had been compliant, and client time to compliant (from creation) of each \
         targeted cohort.",
    );
    let shares: Vec<String> = d
        .by_cohort
        .first()
        .map(|p| {
            fields(&p.hours_to_pct_true)
                .into_iter()
                .map(|(k, _)| k.trim_start_matches("pct_").to_string() + "%")
                .collect()
        })
        .unwrap_or_default();
    let states: Vec<String> = d
        .by_cohort
        .first()
        .map(|p| fields(&p.final_true).into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let quantiles: Vec<String> = d
        .by_cohort
        .first()
        .map(|p| {
            fields(&p.client_time_to_compliant_h_true)
                .into_iter()
                .map(|(k, _)| k)
                .filter(|k| k != "count")
                .collect()
        })
        .unwrap_or_default();
    let mut rows = vec![
        vec![
            Cell::th("cohort").rows(2),
            Cell::th("view").rows(2),
            Cell::th("targeted").rows(2),
            Cell::th("clients at the end").cols(states.len()),
            Cell::th("compliant").rows(2),
            Cell::th("time to").cols(shares.len()),
            Cell::th("client time to compliant").cols(quantiles.len()),
        ],
        states
            .iter()
            .chain(&shares)
            .chain(&quantiles)
            .map(|c| Cell::th(c.replace('_', " ")))
            .collect(),
    ];
    for p in &d.by_cohort {
        let views = [
            (
                "true",
                &p.final_true,
                p.compliant_pct_true,
                &p.hours_to_pct_true,
                &p.client_time_to_compliant_h_true,
            ),
            (
                "reported",
                &p.final_reported,
                p.compliant_pct_reported,
                &p.hours_to_pct_reported,
                &p.client_time_to_compliant_h_reported,
            ),
        ];
        for (k, (view, counts, pct, th, times)) in views.into_iter().enumerate() {
            let mut row = Vec::new();
            if k == 0 {
                row.push(Cell::td(p.cohort.clone()).rows(2));
                row.push(Cell::td(view));
                row.push(Cell::count(p.targeted).rows(2));
            } else {
                row.push(Cell::td(view));
            }
            row.extend(
                fields(counts)
                    .into_iter()
                    .map(|(_, v)| Cell::num(scalar(&v))),
            );
            row.push(Cell::num(percent(pct)));
            row.extend(fields(th).into_iter().map(|(_, v)| hours_cell(v.as_f64())));
            row.extend(
                fields(times)
                    .into_iter()
                    .filter(|(key, _)| key != "count")
                    .map(|(_, v)| hours_cell(v.as_f64())),
            );
            rows.push(row);
        }
    }
    sec.table("compact", rows);
}

/// A cohort timing table: title, note, the percentiles, units per hour.
type Timing = (
    &'static str,
    &'static str,
    fn(&CohortSummary) -> &Percentiles,
    f64,
);

/// Per cohort: its clients, GPO conflicts, and the timings of its clients'
/// work (scan response, download, restart pending).
fn cohorts_section(s: &Summary) -> Section {
    let mut sec = Section::new("cohorts", "Cohorts");
    let mut rows = vec![vec![
        Cell::th("cohort"),
        Cell::th("clients"),
        Cell::th("conflicting GPO"),
    ]];
    // A column for co-managed clients only where there are some.
    let co_managed = s.co_managed_clients > 0;
    if co_managed {
        rows[0].push(Cell::th("co-managed (Windows Update on Intune)"));
    }
    rows.extend(s.cohorts.iter().map(|c| {
        let mut row = vec![
            Cell::td(c.name.clone()),
            Cell::count(c.clients),
            Cell::count(c.gpo_conflicts),
        ];
        if co_managed {
            row.push(Cell::count(c.co_managed));
        }
        row
    }));
    sec.table("", rows);
    let timings: [Timing; 3] = [
        (
            "Scan response",
            "From a client's scan request to the software update point's answer (queue and \
             service; retries not included).",
            |c| &c.scan_response_s,
            3600.0,
        ),
        (
            "Download",
            "From a download request to its last byte (waiting for a connection included).",
            |c| &c.download_s,
            3600.0,
        ),
        (
            "Restart pending",
            "From an install that needs a restart to the restart (or the shutdown that did it).",
            |c| &c.restart_delay_h,
            1.0,
        ),
    ];
    for (title, note, get, per_hour) in timings {
        sec.heading(title);
        sec.note(note);
        let rows: Vec<(&str, &Percentiles)> = s
            .cohorts
            .iter()
            .map(|c| (c.name.as_str(), get(c)))
            .collect();
        sec.table("", percentile_table(&rows, per_hour));
    }
    sec
}

/// In a hierarchy, per deployment, each primary site as its own database
/// shows it: when the policy was published there, the compliant share at
/// the end, and the time to 95 % compliant, true and reported.
fn primaries_section(s: &Summary, when: &dyn Fn(f64) -> String) -> Section {
    let mut sec = Section::new("primaries", "Primary sites");
    sec.note(
        "Each primary site of the hierarchy and its own clients, as its own site database \
         shows them. Published: when the deployment's policy was published there. \
         95%: time from the deployment's creation until 95 % of the clients it targets \
         there were compliant, to the sample; — where it was not reached.",
    );
    for d in &s.deployments {
        sec.heading(format!("Primary sites: {}", d.name));
        let mut rows = vec![vec![
            Cell::th("primary").rows(2),
            Cell::th("clients").rows(2),
            Cell::th("targeted").rows(2),
            Cell::th("published").rows(2),
            Cell::th("compliant at the end").cols(2),
            Cell::th("95%").cols(2),
        ]];
        rows.push(
            ["true", "reported", "true", "reported"]
                .into_iter()
                .map(Cell::th)
                .collect(),
        );
        for p in &s.primaries {
            let Some(part) = p.deployments.iter().find(|x| x.name == d.name) else {
                continue;
            };
            rows.push(vec![
                Cell::td(p.code.clone()),
                Cell::count(p.clients),
                Cell::count(part.targeted),
                match part.published_h {
                    Some(h) => Cell::td(when(h)).title(format!("{h} h")),
                    None => Cell::td("never"),
                },
                Cell::num(percent(part.compliant_pct_true)),
                Cell::num(percent(part.compliant_pct_reported)),
                hours_cell(part.hours_to_95_true),
                hours_cell(part.hours_to_95_reported),
            ]);
        }
        sec.table("", rows);
    }
    sec
}

/// The site and the branch locations: each WAN link's load against the
/// busy threshold, each location's time to compliant per deployment, and
/// the links' load charts.
fn locations_section(s: &Summary, charts: &[Chart]) -> Section {
    let mut sec = Section::new("locations", "Locations and WAN links");
    sec.note(format!(
        "Each branch location is joined to the site by a WAN link that every download \
         from a DP on the other side and every copy of content to a DP in the location \
         share. Busy: the time the link carried at least {:.0} % of its bandwidth \
         (busy_threshold_pct), exact rather than per sample interval; peak utilization: \
         the most bandwidth in use at any moment.",
        s.busy_threshold_pct
    ));
    let mut rows = vec![
        [
            "location",
            "clients",
            "distribution points",
            "WAN link",
            "latency",
            "bytes carried",
            "peak utilization",
            "busy",
        ]
        .into_iter()
        .map(Cell::th)
        .collect::<Vec<_>>(),
    ];
    for l in &s.locations {
        let dps = if l.distribution_points.is_empty() {
            "none".to_string()
        } else {
            l.distribution_points.join(", ")
        };
        let mut row = vec![
            Cell::td(l.name.clone()),
            Cell::count(l.clients),
            Cell::td(dps),
        ];
        match &l.wan_link {
            Some(w) => {
                let hot = w.hours_busy > 0.0;
                row.extend([
                    Cell::num(format!("{} Mbps", w.bandwidth_mbps)),
                    Cell::num(format!("{} ms", w.latency_ms)),
                    Cell::num(decimal_bytes(w.bytes_carried)),
                    Cell::num(format!("{:.0} %", w.peak_utilization_pct)),
                    if hot {
                        Cell::num(format_duration(w.hours_busy)).class("num hot")
                    } else {
                        Cell::num("never")
                    },
                ]);
            }
            None => row.push(Cell::td("at the site").cols(5)),
        }
        rows.push(row);
    }
    sec.table("", rows);
    for d in &s.deployments {
        sec.heading(format!("Time to compliant: {}", d.name));
        sec.note(
            "Time from the deployment's creation until its content had crossed the WAN link \
             to the location's own DPs, and until each share of a location's targeted \
             clients was compliant, as the site database reports it (true in brackets).",
        );
        let mut rows = vec![
            [
                "location",
                "targeted",
                "content on its DPs",
                "50%",
                "80%",
                "95%",
                "99%",
            ]
            .into_iter()
            .map(Cell::th)
            .collect::<Vec<_>>(),
        ];
        for l in &s.locations {
            let Some(part) = l.deployments.iter().find(|x| x.name == d.name) else {
                continue;
            };
            let (t, r) = (&part.hours_to_pct_true, &part.hours_to_pct_reported);
            let words = |v: Option<f64>| v.map_or("never".to_string(), format_duration);
            let hours = |v: Option<f64>| v.map_or("never".to_string(), |h| format!("{h} h"));
            let content = match part.hours_to_content_on_dps {
                None => Cell::num("—"),
                Some(None) => Cell::num("never"),
                Some(at) => hours_cell(at),
            };
            let mut row = vec![
                Cell::td(l.name.clone()),
                Cell::count(part.targeted),
                content,
            ];
            for (t, r) in [
                (t.pct_50, r.pct_50),
                (t.pct_80, r.pct_80),
                (t.pct_95, r.pct_95),
                (t.pct_99, r.pct_99),
            ] {
                let cell = Cell::num(format!("{} ({})", words(r), words(t)));
                row.push(if r.is_some() || t.is_some() {
                    cell.title(format!("{} ({})", hours(r), hours(t)))
                } else {
                    cell
                });
            }
            rows.push(row);
        }
        sec.table("", rows);
    }
    sec.heading("WAN link load over time");
    for (i, x) in s.servers.iter().enumerate() {
        if x.role != ServerRole::WanLink {
            continue;
        }
        for c in charts.iter().filter(|c| c.subject == Subject::Server(i)) {
            sec.figure(c);
        }
    }
    sec
}

/// Every server's load over the run, its queue wait, and its load chart.
fn servers_section(s: &Summary, charts: &[Chart]) -> Section {
    let mut sec = Section::new("servers", "Servers and load");
    sec.note(
        "Peaks are the most requests in service or waiting at any moment; rejected counts \
         requests refused with a full queue (HTTP 503) or failed while the server was down; \
         the rest of those that arrived were still in progress at the end or, for downloads, \
         cancelled when the client switched off or restarted. Shaded red: the queue reached \
         its limit, or requests were rejected.",
    );
    let mut rows = vec![
        [
            "server",
            "role",
            "capacity",
            "peak in service",
            "queue limit",
            "peak waiting",
            "arrived",
            "served",
            "rejected",
            "bytes served",
        ]
        .into_iter()
        .map(Cell::th)
        .collect::<Vec<_>>(),
    ];
    for x in &s.servers {
        let (role, noun) = role_words(x.role);
        let hot = |cell: Cell, yes: bool| if yes { cell.class("num hot") } else { cell };
        let share = if x.rejected == 0 || x.arrived == 0 {
            String::new()
        } else {
            format!(
                " ({})",
                percent(x.rejected as f64 * 100.0 / x.arrived as f64)
            )
        };
        rows.push(vec![
            Cell::td(x.name.clone()),
            Cell::td(role),
            Cell::num(
                x.capacity
                    .map_or("no limit".to_string(), |n| capacity_words(n, noun)),
            ),
            Cell::count(x.peak_busy),
            Cell::num(
                x.queue_limit
                    .map_or("none".to_string(), |l| thousands(u64::from(l))),
            ),
            hot(
                Cell::count(x.peak_queue),
                x.queue_limit.is_some_and(|l| x.peak_queue >= l),
            ),
            Cell::count(x.arrived),
            Cell::count(x.served),
            hot(
                Cell::num(format!("{}{share}", thousands(x.rejected))),
                x.rejected > 0,
            ),
            Cell::num(if x.bytes_served > 0 {
                decimal_bytes(x.bytes_served)
            } else {
                "—".to_string()
            }),
        ]);
    }
    sec.table("", rows);
    for p in &s.wsus_pools {
        sec.note(super::report::wsus_pool_line(p));
    }
    sec.heading("Queue wait");
    sec.note("Time the requests a server served waited in its queue before service.");
    let waits: Vec<(&str, &Percentiles)> = s
        .servers
        .iter()
        .map(|x| (x.name.as_str(), &x.queue_wait_s))
        .collect();
    sec.table("", percentile_table(&waits, 3600.0));
    sec.heading("Load over time");
    sec.note(
        "Per server: requests in service against its capacity, requests waiting against its \
         queue limit (a limit far above the data is listed, not drawn), requests rejected per \
         sample interval by kind, and for distribution points the bandwidth served. Shaded: \
         the server was down (red) or slowed (amber) by a fault.",
    );
    // The WAN links' charts are in the locations' section.
    for (i, _) in (s.servers.iter().enumerate()).filter(|(_, x)| x.role != ServerRole::WanLink) {
        for c in charts.iter().filter(|c| c.subject == Subject::Server(i)) {
            sec.figure(c);
        }
    }
    sec
}

/// The updates (release, sync, state over all clients at the end) and the
/// catalog syncs.
fn catalog_section(s: &Summary, when: &dyn Fn(f64) -> String) -> Section {
    let at = |hours: Option<f64>, none: &str| match hours {
        Some(v) => Cell::td(when(v)).title(format!("{v} h")),
        None => Cell::td(none),
    };
    let mut sec = Section::new("catalog", "Updates and syncs");
    sec.note(
        "Every update over all clients at the end of the run; synced: its metadata reached \
         the site database (before the start: already there).",
    );
    let states: Vec<String> = s
        .updates
        .first()
        .map(|u| fields(&u.final_true).into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let mut head: Vec<Cell> = ["update", "released", "synced", "view"]
        .into_iter()
        .map(Cell::th)
        .collect();
    head.extend(states.iter().map(|c| Cell::th(c.replace('_', " "))));
    let mut rows = vec![head];
    for u in &s.updates {
        let synced = match u.synced_h {
            Some(0.0) => Cell::td("before the start"),
            other => at(other, "not in this run"),
        };
        let mut row = vec![
            Cell::td(u.id.clone()).rows(2),
            at(u.released_h, "before the start").rows(2),
            synced.rows(2),
            Cell::td("true"),
        ];
        row.extend(
            fields(&u.final_true)
                .into_iter()
                .map(|(_, v)| Cell::num(scalar(&v))),
        );
        rows.push(row);
        let mut row = vec![Cell::td("reported")];
        row.extend(
            fields(&u.final_reported)
                .into_iter()
                .map(|(_, v)| Cell::num(scalar(&v))),
        );
        rows.push(row);
    }
    sec.table("", rows);
    sec.heading("Catalog syncs");
    if s.syncs.is_empty() {
        sec.note("No sync ran.");
        return sec;
    }
    let mut rows = vec![
        [
            "kind",
            "started",
            "in the site database",
            "took",
            "new updates",
        ]
        .into_iter()
        .map(Cell::th)
        .collect::<Vec<_>>(),
    ];
    for sync in &s.syncs {
        let kind = serde_json::to_value(sync.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let took = sync
            .finished_h
            .or(sync.failed_h)
            .map_or("—".to_string(), |f| format_duration(f - sync.started_h));
        let new = if sync.new_updates.is_empty() {
            "none".to_string()
        } else {
            sync.new_updates.join(", ")
        };
        rows.push(vec![
            Cell::td(kind),
            at(Some(sync.started_h), ""),
            match sync.failed_h {
                Some(f) => Cell::td(format!("failed at {} (the SUP was down)", when(f)))
                    .title(format!("{f} h")),
                None => at(sync.finished_h, "still running at the end"),
            },
            Cell::num(took),
            Cell::td(new),
        ]);
    }
    sec.table("", rows);
    sec
}

/// Hours to two decimals at most, `57.51`, `336`: the exact value is in
/// `summary.json` and the cell's tooltip.
fn short_hours(hours: f64) -> String {
    let text = format!("{hours:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A cell with a duration in words, the hours as its tooltip.
fn hours_cell(hours: Option<f64>) -> Cell {
    match hours {
        Some(v) => Cell::num(format_duration(v)).title(format!("{v} h")),
        None => Cell::num("—"),
    }
}

/// Counts per state (one row per view) and the compliant share.
fn state_table<T: Serialize>(views: &[(&str, &T)], pct: &[(&str, f64)]) -> Vec<Vec<Cell>> {
    let mut head = vec![Cell::th("view")];
    head.extend(
        views
            .first()
            .map(|(_, v)| fields(v))
            .unwrap_or_default()
            .into_iter()
            .map(|(k, _)| Cell::th(k.replace('_', " "))),
    );
    head.push(Cell::th("compliant"));
    let mut rows = vec![head];
    for ((name, v), (_, p)) in views.iter().zip(pct) {
        let mut row = vec![Cell::td(*name)];
        row.extend(fields(v).into_iter().map(|(_, x)| Cell::num(scalar(&x))));
        row.push(Cell::num(percent(*p)));
        rows.push(row);
    }
    rows
}

/// Percentile rows; values are in units of `unit_per_hour` per hour
/// (1 for hours, 3600 for seconds).
fn percentile_table(rows: &[(&str, &Percentiles)], unit_per_hour: f64) -> Vec<Vec<Cell>> {
    let mut head = vec![Cell::th("")];
    head.extend(
        rows.first()
            .map(|(_, p)| fields(p))
            .unwrap_or_default()
            .into_iter()
            .map(|(k, _)| Cell::th(k)),
    );
    let mut out = vec![head];
    for (name, p) in rows {
        let mut row = vec![Cell::td(*name)];
        row.extend(fields(p).into_iter().map(|(k, v)| {
            if k == "count" {
                Cell::num(scalar(&v))
            } else {
                hours_cell(v.as_f64().map(|x| x / unit_per_hour))
            }
        }));
        out.push(row);
    }
    out
}

fn key_values(rows: &[(String, String)]) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|(k, v)| vec![Cell::th(k.clone()), Cell::td(v.clone())])
        .collect()
}

/// A struct's fields as JSON, in declaration order: a field added to the
/// summary shows up in the report without an edit here.
fn fields<T: Serialize>(value: &T) -> Vec<(String, Value)> {
    match serde_json::to_value(value).expect("summary serializes") {
        Value::Object(map) => map.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `6.98 TB`: bytes in powers of 1000, as the scenario format writes sizes.
pub(crate) fn decimal_bytes(b: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.2} {}", units[i])
    }
}

/// A JSON scalar as text: numbers as in `summary.json`, counts with
/// thousands separators, null as "—".
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::Number(n) if n.is_u64() => thousands(n.as_u64().unwrap_or_default()),
        Value::String(s) => s.clone(),
        // A breakdown (`scans_by_cause`): each part and its value.
        Value::Object(parts) => (parts.iter())
            .map(|(k, v)| format!("{} {}", k.replace('_', " "), scalar(v)))
            .collect::<Vec<_>>()
            .join(" · "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_read_well() {
        assert_eq!(short_hours(165.54363138888888), "165.54");
        assert_eq!(short_hours(57.0), "57");
        assert_eq!(short_hours(57.5), "57.5");
        assert_eq!(short_hours(0.001), "0");
    }

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(decimal_bytes(999), "999 B");
        assert_eq!(decimal_bytes(6_979_680_000_000), "6.98 TB");
    }
}
