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

use super::charts::Chart;
use super::json::{Percentiles, Summary, Thresholds};
use super::report::format_duration;
use crate::model::Estate;

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
td.num { text-align: right; }
table.kv th { width: 11em; }
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
            (estate.resolved.start.0 + chrono::Duration::milliseconds(ms))
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
        for c in charts.iter().filter(|c| c.deployment == i) {
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
        let _ = writeln!(h, "</section>");
    }
    let _ = writeln!(
        h,
        "<section id=\"latency\">\n<h2>State message latency</h2>\n<p class=\"note\">Seconds \
         from a state message being queued on the client to its arrival in the site \
         database.</p>"
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
    if !estate.resolved.description.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">{}</p>",
            escape(&estate.resolved.description)
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
        "<li><a href=\"#latency\">State message latency</a></li>\n\
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
