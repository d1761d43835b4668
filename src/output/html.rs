//! `report.html`: one self-contained page with the run header, the summary
//! tables, the charts (inline SVG) and the resolved scenario.
//!
//! Owns the page layout only: the numbers come from [`Summary`] (so they are
//! the ones in `summary.json` and the printed summary), the pictures from
//! [`Chart`]. No scripts, no external assets: the page opens from a file in
//! any browser, offline.

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use super::charts::{Chart, Subject};
use super::json::{CohortSummary, DeploymentSummary, Percentiles, Summary, Thresholds};
use super::load_charts::{capacity_words, role_words_by_name};
use super::report::format_duration;
use crate::estate::Estate;

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

/// Text made safe for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page. `charts` are those of [`charts`](super::charts()) for
/// the same run; `scenario` is the resolved scenario's text.
pub fn report_html(estate: &Estate, s: &Summary, charts: &[Chart], scenario: &str) -> String {
    let mut h = String::new();
    let title = format!("patchsim report: {}", s.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{}\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n",
        escape(&super::provenance(estate)),
        escape(&title)
    );
    header(&mut h, estate, s, &title);
    contents(&mut h, s);
    time_to_compliance(&mut h, s);
    for (i, d) in s.deployments.iter().enumerate() {
        let _ = writeln!(
            h,
            "<section id=\"deployment-{i}\">\n<h2>Deployment: {}</h2>",
            escape(&d.name)
        );
        let when = |hours: f64| {
            let ms = (hours * 3_600_000.0).round() as i64;
            (estate.source.start + chrono::Duration::milliseconds(ms))
                .format("%a %Y-%m-%d %H:%M")
                .to_string()
        };
        let mut rows = vec![("targeted clients".to_string(), d.targeted.to_string())];
        for (what, at) in [
            ("created", Some(d.created_h)),
            ("available", Some(d.available_h)),
            ("deadline", Some(d.deadline_h)),
            ("published (content on the DPs, in policy)", d.published_h),
        ] {
            let v = match at {
                Some(hours) => format!("{} (hour {hours} since the start)", when(hours)),
                None => "never".to_string(),
            };
            rows.push((what.to_string(), v));
        }
        key_values(&mut h, &rows);
        let _ = writeln!(h, "<h3>State at the end of the run</h3>");
        state_table(
            &mut h,
            &[("true", &d.final_true), ("reported", &d.final_reported)],
            &[
                ("true", d.compliant_pct_true),
                ("reported", d.compliant_pct_reported),
            ],
        );
        unknown_table(&mut h, d);
        let _ = writeln!(
            h,
            "<h3>Client time to compliant</h3>\n<p class=\"note\">Hours from the \
             deployment's creation until each client it required was compliant \
             (HdrHistogram percentiles).</p>"
        );
        percentile_table(
            &mut h,
            &[
                ("true", &d.client_time_to_compliant_h_true),
                ("reported", &d.client_time_to_compliant_h_reported),
            ],
            1.0,
        );
        if d.by_cohort.len() > 1 {
            by_cohort_table(&mut h, d);
        }
        for c in charts
            .iter()
            .filter(|c| c.subject == Subject::Deployment(i))
        {
            figure(&mut h, c);
        }
        let _ = writeln!(h, "</section>");
    }
    cohorts_section(&mut h, s);
    servers_section(&mut h, s, charts);
    catalog_section(&mut h, estate, s);
    let _ = writeln!(
        h,
        "<section id=\"latency\">\n<h2>State message latency</h2>\n<p class=\"note\">Time \
         from a state message being queued on the client to its arrival in the site \
         database; {} messages were still on their way at the end of the run{}.</p>",
        s.state_messages_pending_at_end,
        match s.totals.state_messages_lost {
            0 => String::new(),
            lost => format!(
                ", and {lost} were lost on the way ({} resyncs made good what later \
                 batches showed missing)",
                s.totals.resyncs
            ),
        }
    );
    percentile_table(
        &mut h,
        &[("state messages", &s.state_message_latency_s)],
        3600.0,
    );
    let _ = writeln!(h, "</section>");
    let _ = writeln!(h, "<section id=\"totals\">\n<h2>Totals</h2>");
    let totals: Vec<(String, String)> = fields(&s.totals)
        .into_iter()
        .map(|(k, v)| {
            let text = match v.as_u64() {
                Some(b) if k.starts_with("bytes") => format!("{b} ({})", decimal_bytes(b)),
                _ => scalar(&v),
            };
            (k.replace('_', " "), text)
        })
        .collect();
    key_values(&mut h, &totals);
    let _ = writeln!(h, "</section>");
    let _ = writeln!(
        h,
        "<section id=\"scenario\">\n<h2>Resolved scenario</h2>\n<p class=\"note\">Every \
         default filled in; this is <code>scenario.ron</code>, and <code>patchsim run \
         scenario.ron</code> reproduces the run byte for byte.</p>\n<pre>{}</pre>\n</section>",
        escape(scenario.trim_end())
    );
    let _ = writeln!(
        h,
        "<footer>{}</footer>\n</body>\n</html>",
        escape(&super::provenance(estate))
    );
    h
}

fn header(h: &mut String, estate: &Estate, s: &Summary, title: &str) {
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", escape(title));
    if !estate.source.description.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">{}</p>",
            escape(&estate.source.description)
        );
    }
    key_values(
        h,
        &[
            ("tool".into(), format!("{} {}", s.tool, s.version)),
            ("scenario".into(), s.scenario.clone()),
            ("scenario hash".into(), s.scenario_hash.clone()),
            ("seed".into(), s.seed.to_string()),
            ("start".into(), s.start.clone()),
            (
                "simulated".into(),
                format!("{} ({} h)", format_duration(s.duration_h), s.duration_h),
            ),
            ("clients".into(), s.clients.to_string()),
            ("events".into(), s.events.to_string()),
        ],
    );
    let _ = writeln!(h, "</header>");
}

fn contents(h: &mut String, s: &Summary) {
    let _ = writeln!(
        h,
        "<nav>\n<ul>\n<li><a href=\"#compliance\">Time to compliance</a></li>"
    );
    for (i, d) in s.deployments.iter().enumerate() {
        let _ = writeln!(
            h,
            "<li><a href=\"#deployment-{i}\">Deployment: {}</a></li>",
            escape(&d.name)
        );
    }
    let _ = writeln!(
        h,
        "<li><a href=\"#cohorts\">Cohorts</a></li>\n\
         <li><a href=\"#servers\">Servers and load</a></li>\n\
         <li><a href=\"#catalog\">Updates and syncs</a></li>\n\
         <li><a href=\"#latency\">State message latency</a></li>\n\
         <li><a href=\"#totals\">Totals</a></li>\n\
         <li><a href=\"#scenario\">Resolved scenario</a></li>\n</ul>\n</nav>"
    );
}

/// The printed summary's table: targeted, compliant at the end, and time
/// from creation to each threshold, true and reported.
fn time_to_compliance(h: &mut String, s: &Summary) {
    let _ = writeln!(
        h,
        "<section id=\"compliance\">\n<h2>Time to compliance</h2>\n<p class=\"note\">Time from \
         deployment creation until the share of targeted clients is compliant (installed or \
         not required); — where it was not reached.</p>\n<table>"
    );
    let names: Vec<String> = fields(&s.deployments.first().map(|d| &d.hours_to_pct_true))
        .into_iter()
        .map(|(k, _)| k.trim_start_matches('p').to_string() + "%")
        .collect();
    let _ = write!(
        h,
        "<tr><th>deployment</th><th>view</th><th>targeted</th><th>compliant</th>"
    );
    for n in &names {
        let _ = write!(h, "<th>{}</th>", escape(n));
    }
    let _ = writeln!(h, "</tr>");
    for d in &s.deployments {
        let views: [(&str, f64, &Thresholds); 2] = [
            ("true", d.compliant_pct_true, &d.hours_to_pct_true),
            (
                "reported",
                d.compliant_pct_reported,
                &d.hours_to_pct_reported,
            ),
        ];
        for (k, (view, pct, th)) in views.into_iter().enumerate() {
            let _ = write!(h, "<tr>");
            if k == 0 {
                let _ = write!(
                    h,
                    "<td rowspan=\"2\">{}</td><td>{view}</td><td class=\"num\" rowspan=\"2\">{}</td>",
                    escape(&d.name),
                    d.targeted
                );
            } else {
                let _ = write!(h, "<td>{view}</td>");
            }
            let _ = write!(h, "<td class=\"num\">{pct:.1}%</td>");
            for (_, v) in fields(th) {
                let _ = write!(h, "{}", hours_cell(v.as_f64()));
            }
            let _ = writeln!(h, "</tr>");
        }
    }
    let _ = writeln!(h, "</table>\n</section>");
}

/// Why clients are Unknown at the end of the run.
fn unknown_table(h: &mut String, d: &DeploymentSummary) {
    let u = &d.unknown_at_end;
    let _ = writeln!(h, "<h3>Unknown at the end</h3>");
    if u.true_gpo_conflict + u.reported_scan_failed + u.reported_not_yet_reported == 0 {
        let _ = writeln!(
            h,
            "<p class=\"note\">No client was Unknown, true or reported.</p>"
        );
        return;
    }
    let _ = writeln!(
        h,
        "<table>\n<tr><th>view</th><th>why</th><th>clients</th></tr>\n\
         <tr><td>true</td><td>conflicting domain GPO: scans another update server, so this \
         site can neither know nor change it</td><td class=\"num\">{}</td></tr>\n\
         <tr><td rowspan=\"2\">reported</td><td>its last scan report was a failure</td>\
         <td class=\"num\">{}</td></tr>\n\
         <tr><td>has not yet reported a state for every update</td><td class=\"num\">{}</td></tr>\n\
         </table>",
        u.true_gpo_conflict, u.reported_scan_failed, u.reported_not_yet_reported
    );
}

/// A deployment's results per targeted cohort: counts at the end, the
/// compliant share, and client time to compliant, true and reported.
fn by_cohort_table(h: &mut String, d: &DeploymentSummary) {
    let _ = writeln!(
        h,
        "<h3>By cohort</h3>\n<p class=\"note\">State at the end and client time to \
         compliant (from creation) of each targeted cohort.</p>\n<table class=\"compact\">"
    );
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
    let _ = write!(
        h,
        "<tr><th rowspan=\"2\">cohort</th><th rowspan=\"2\">view</th><th rowspan=\"2\">targeted</th>\
         <th colspan=\"{}\">clients at the end</th><th rowspan=\"2\">compliant</th>\
         <th colspan=\"{}\">client time to compliant</th></tr>\n<tr>",
        states.len(),
        quantiles.len()
    );
    for c in states.iter().chain(&quantiles) {
        let _ = write!(h, "<th>{}</th>", escape(&c.replace('_', " ")));
    }
    let _ = writeln!(h, "</tr>");
    for p in &d.by_cohort {
        let views = [
            (
                "true",
                &p.final_true,
                p.compliant_pct_true,
                &p.client_time_to_compliant_h_true,
            ),
            (
                "reported",
                &p.final_reported,
                p.compliant_pct_reported,
                &p.client_time_to_compliant_h_reported,
            ),
        ];
        for (k, (view, counts, pct, times)) in views.into_iter().enumerate() {
            let _ = write!(h, "<tr>");
            if k == 0 {
                let _ = write!(
                    h,
                    "<td rowspan=\"2\">{}</td><td>{view}</td><td class=\"num\" rowspan=\"2\">{}</td>",
                    escape(&p.cohort),
                    p.targeted
                );
            } else {
                let _ = write!(h, "<td>{view}</td>");
            }
            for (_, v) in fields(counts) {
                let _ = write!(h, "<td class=\"num\">{}</td>", escape(&scalar(&v)));
            }
            let _ = write!(h, "<td class=\"num\">{pct:.1}%</td>");
            for (key, v) in fields(times) {
                if key != "count" {
                    let _ = write!(h, "{}", hours_cell(v.as_f64()));
                }
            }
            let _ = writeln!(h, "</tr>");
        }
    }
    let _ = writeln!(h, "</table>");
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
fn cohorts_section(h: &mut String, s: &Summary) {
    let _ = writeln!(
        h,
        "<section id=\"cohorts\">\n<h2>Cohorts</h2>\n<table>\n<tr><th>cohort</th>\
         <th>clients</th><th>conflicting GPO</th></tr>"
    );
    for c in &s.cohorts {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&c.name),
            c.clients,
            c.gpo_conflicts
        );
    }
    let _ = writeln!(h, "</table>");
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
        let _ = writeln!(h, "<h3>{title}</h3>\n<p class=\"note\">{note}</p>");
        let rows: Vec<(&str, &Percentiles)> = s
            .cohorts
            .iter()
            .map(|c| (c.name.as_str(), get(c)))
            .collect();
        percentile_table(h, &rows, per_hour);
    }
    let _ = writeln!(h, "</section>");
}

/// Every server's load over the run, its queue wait, and its load chart.
fn servers_section(h: &mut String, s: &Summary, charts: &[Chart]) {
    let _ = writeln!(
        h,
        "<section id=\"servers\">\n<h2>Servers and load</h2>\n<p class=\"note\">Peaks are \
         the most requests in service or waiting at any moment; rejected counts requests \
         refused with a full queue (HTTP 503) or failed while the server was down; the \
         rest of those that arrived were still in progress at the end or, for downloads, \
         cancelled when the client switched off or restarted. Shaded red: the queue \
         reached its limit, or requests were rejected.</p>\n<table>\n\
         <tr><th>server</th><th>role</th><th>capacity</th><th>peak in service</th>\
         <th>queue limit</th><th>peak waiting</th><th>arrived</th><th>served</th>\
         <th>rejected</th><th>bytes served</th></tr>"
    );
    for x in &s.servers {
        let (role, noun) = role_words_by_name(x.role);
        let full = x.queue_limit.is_some_and(|l| x.peak_queue >= l);
        let hot = |yes: bool| if yes { " hot" } else { "" };
        let share = |part: u64| {
            if part == 0 || x.arrived == 0 {
                String::new()
            } else {
                format!(" ({:.1}%)", part as f64 * 100.0 / x.arrived as f64)
            }
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num{}\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num{}\">{}{}</td><td class=\"num\">{}</td></tr>",
            escape(&x.name),
            escape(role),
            capacity_words(x.capacity, noun),
            x.peak_busy,
            x.queue_limit.map_or("none".to_string(), |l| l.to_string()),
            hot(full),
            x.peak_queue,
            x.arrived,
            x.served,
            hot(x.rejected > 0),
            x.rejected,
            share(x.rejected),
            if x.bytes_served > 0 {
                decimal_bytes(x.bytes_served)
            } else {
                "—".to_string()
            },
        );
    }
    let _ = writeln!(
        h,
        "</table>\n<h3>Queue wait</h3>\n<p class=\"note\">Time the requests a server \
         served waited in its queue before service.</p>"
    );
    let rows: Vec<(&str, &Percentiles)> = s
        .servers
        .iter()
        .map(|x| (x.name.as_str(), &x.queue_wait_s))
        .collect();
    percentile_table(h, &rows, 3600.0);
    let _ = writeln!(
        h,
        "<h3>Load over time</h3>\n<p class=\"note\">Per server: requests in service \
         against its capacity, requests waiting against its queue limit (a limit far above \
         the data is listed, not drawn), requests rejected per sample interval by kind, and \
         for distribution points the bandwidth served. Shaded: the server was down (red) or \
         slowed (amber) by a fault.</p>"
    );
    for (i, _) in s.servers.iter().enumerate() {
        for c in charts.iter().filter(|c| c.subject == Subject::Server(i)) {
            figure(h, c);
        }
    }
    let _ = writeln!(h, "</section>");
}

/// The updates (release, sync, state over all clients at the end) and the
/// catalog syncs.
fn catalog_section(h: &mut String, estate: &Estate, s: &Summary) {
    let when = |hours: f64| {
        let ms = (hours * 3_600_000.0).round() as i64;
        (estate.source.start + chrono::Duration::milliseconds(ms))
            .format("%a %Y-%m-%d %H:%M")
            .to_string()
    };
    let at = |hours: Option<f64>, none: &str| match hours {
        Some(v) => format!("<td title=\"{v} h\">{}</td>", when(v)),
        None => format!("<td>{none}</td>"),
    };
    let _ = writeln!(
        h,
        "<section id=\"catalog\">\n<h2>Updates and syncs</h2>\n<p class=\"note\">Every \
         update over all clients at the end of the run; synced: its metadata reached the site \
         database (before the start: already there).</p>\n<table>"
    );
    let states: Vec<String> = s
        .updates
        .first()
        .map(|u| fields(&u.final_true).into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let _ = write!(
        h,
        "<tr><th>update</th><th>released</th><th>synced</th><th>view</th>"
    );
    for c in &states {
        let _ = write!(h, "<th>{}</th>", escape(&c.replace('_', " ")));
    }
    let _ = writeln!(h, "</tr>");
    for u in &s.updates {
        let synced = match u.synced_h {
            Some(0.0) => "<td>before the start</td>".to_string(),
            other => at(other, "not in this run"),
        };
        let _ = write!(
            h,
            "<tr><td rowspan=\"2\">{}</td>{}{}<td>true</td>",
            escape(&u.id),
            at(u.released_h, "before the start").replacen("<td", "<td rowspan=\"2\"", 1),
            synced.replacen("<td", "<td rowspan=\"2\"", 1),
        );
        for (_, v) in fields(&u.final_true) {
            let _ = write!(h, "<td class=\"num\">{}</td>", scalar(&v));
        }
        let _ = write!(h, "</tr>\n<tr><td>reported</td>");
        for (_, v) in fields(&u.final_reported) {
            let _ = write!(h, "<td class=\"num\">{}</td>", scalar(&v));
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(h, "</table>\n<h3>Catalog syncs</h3>");
    if s.syncs.is_empty() {
        let _ = writeln!(h, "<p class=\"note\">No sync ran.</p>\n</section>");
        return;
    }
    let _ = writeln!(
        h,
        "<table>\n<tr><th>kind</th><th>started</th><th>in the site database</th>\
         <th>took</th><th>new updates</th></tr>"
    );
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
        let _ = writeln!(
            h,
            "<tr><td>{kind}</td>{}{}<td class=\"num\">{took}</td><td>{}</td></tr>",
            at(Some(sync.started_h), ""),
            match sync.failed_h {
                Some(f) => format!(
                    "<td title=\"{f} h\">failed at {} (the SUP was down)</td>",
                    when(f)
                ),
                None => at(sync.finished_h, "still running at the end"),
            },
            escape(&new)
        );
    }
    let _ = writeln!(h, "</table>\n</section>");
}

/// A chart as a figure: the inline SVG, labelled, and its caption.
fn figure(h: &mut String, c: &Chart) {
    let svg = c.svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(&c.title)),
        1,
    );
    let _ = writeln!(
        h,
        "<figure>\n{}\n<figcaption>{} (also written as {})</figcaption>\n</figure>",
        svg.trim_end(),
        escape(&c.title),
        escape(&c.file_name)
    );
}

/// A cell with a duration in words, the hours as its tooltip.
fn hours_cell(hours: Option<f64>) -> String {
    match hours {
        Some(v) => format!(
            "<td class=\"num\" title=\"{v} h\">{}</td>",
            format_duration(v)
        ),
        None => "<td class=\"num\">—</td>".to_string(),
    }
}

/// Counts per state (one row per view) and the compliant share.
fn state_table<T: Serialize>(h: &mut String, views: &[(&str, &T)], pct: &[(&str, f64)]) {
    let cols: Vec<String> = views
        .first()
        .map(|(_, v)| fields(v).into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let _ = write!(h, "<table>\n<tr><th>view</th>");
    for c in &cols {
        let _ = write!(h, "<th>{}</th>", escape(&c.replace('_', " ")));
    }
    let _ = writeln!(h, "<th>compliant</th></tr>");
    for ((name, v), (_, p)) in views.iter().zip(pct) {
        let _ = write!(h, "<tr><td>{name}</td>");
        for (_, x) in fields(v) {
            let _ = write!(h, "<td class=\"num\">{}</td>", escape(&scalar(&x)));
        }
        let _ = writeln!(h, "<td class=\"num\">{p:.1}%</td></tr>");
    }
    let _ = writeln!(h, "</table>");
}

/// Percentile rows; values are in units of `unit_per_hour` per hour
/// (1 for hours, 3600 for seconds).
fn percentile_table(h: &mut String, rows: &[(&str, &Percentiles)], unit_per_hour: f64) {
    let cols: Vec<String> = rows
        .first()
        .map(|(_, p)| fields(p).into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let _ = write!(h, "<table>\n<tr><th></th>");
    for c in &cols {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    let _ = writeln!(h, "</tr>");
    for (name, p) in rows {
        let _ = write!(h, "<tr><td>{}</td>", escape(name));
        for (k, v) in fields(p) {
            if k == "count" {
                let _ = write!(h, "<td class=\"num\">{}</td>", scalar(&v));
            } else {
                let _ = write!(h, "{}", hours_cell(v.as_f64().map(|x| x / unit_per_hour)));
            }
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(h, "</table>");
}

fn key_values(h: &mut String, rows: &[(String, String)]) {
    let _ = writeln!(h, "<table class=\"kv\">");
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    let _ = writeln!(h, "</table>");
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
fn decimal_bytes(b: u64) -> String {
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

/// A JSON scalar as text: numbers as in `summary.json`, null as "—".
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<b>"R&D" 'x'</b>"#),
            "&lt;b&gt;&quot;R&amp;D&quot; &#39;x&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(decimal_bytes(999), "999 B");
        assert_eq!(decimal_bytes(6_979_680_000_000), "6.98 TB");
    }
}
