//! Output writers: the run's files and its printed summary.
//!
//! Owns formats only: everything written is derived from the
//! [`Outcome`] and the [`Estate`] it is given; it never runs anything.
//! One file per format: `csv.rs` (`compliance.csv`, `updates.csv`,
//! `load.csv`), `json.rs` (`summary.json`), `charts.rs` (the deployment
//! charts), `load_charts.rs` (the server load charts), `html.rs`
//! (`report.html`), `report.rs` (the printed summary), `trace.rs`
//! (`trace.jsonl`, `explain`), and `dir.rs`, the output directory: its
//! guard, its lock, and the staging that puts a whole output in place with
//! one rename, so a failed command never leaves a half-written output.

mod charts;
mod csv;
mod dir;
mod html;
mod json;
mod load_charts;
mod report;
mod trace;

use std::io::{self, Write};
use std::path::PathBuf;

pub use charts::{Chart, Subject, charts, slug};
pub use csv::{
    compliance_columns, compliance_csv, load_columns, load_csv, update_columns, updates_csv,
};
pub use dir::{Kind, Staging};
pub(crate) use html::decimal_bytes;
pub use html::report_html;
pub use json::{
    DeploymentSummary, LocationDeployment, LocationSummary, ServerSummary, Summary, Thresholds,
    WanLinkSummary, summary, summary_json,
};
pub(crate) use load_charts::nice;
pub use load_charts::thousands;
pub use report::{
    bottlenecks, counted, format_duration, format_duration_exact, harm, plural, summary_text,
    worst_first, written_text,
};
pub use trace::{TRACE_FILE, TraceFile, explain, trace_header, trace_line};

use crate::error::Error;
use crate::estate::Estate;
use crate::model::Outcome;

/// The one-line provenance every output carries.
pub fn provenance(estate: &Estate) -> String {
    format!(
        "patchsim {} scenario={} hash={} seed={}",
        crate::VERSION,
        estate.source.name,
        estate.hash,
        estate.seed
    )
}

/// Each server's load rows, in [`Outcome::servers`] order, each in time
/// order: one pass over the rows, where a filter per server would pass over
/// every server's rows once per server.
pub(crate) fn load_by_server(outcome: &Outcome) -> Vec<Vec<&crate::model::LoadRow>> {
    let mut by_server = vec![Vec::new(); outcome.servers.len()];
    for row in &outcome.load {
        by_server[row.server].push(row);
    }
    by_server
}

/// The bandwidth of each distribution point and WAN link by name, as a
/// server's record names it (the first of a name, as a search would find).
pub(crate) struct Bandwidths<'a> {
    dps: std::collections::BTreeMap<&'a str, u64>,
    links: std::collections::BTreeMap<&'a str, u64>,
}

impl<'a> Bandwidths<'a> {
    pub(crate) fn new(estate: &'a Estate) -> Self {
        let mut dps = std::collections::BTreeMap::new();
        for d in &estate.distribution_points {
            dps.entry(d.name.as_str()).or_insert(d.bandwidth_bps);
        }
        let mut links = std::collections::BTreeMap::new();
        for l in &estate.locations {
            links.entry(l.name.as_str()).or_insert(l.bandwidth_bps);
        }
        Bandwidths { dps, links }
    }

    /// A distribution point's outbound bandwidth or a WAN link's; `None`
    /// for other roles.
    pub(crate) fn of(&self, server: &crate::model::ServerRecord) -> Option<u64> {
        let by_name = match server.role {
            crate::model::ServerRole::DistributionPoint => &self.dps,
            crate::model::ServerRole::WanLink => &self.links,
            _ => return None,
        };
        by_name.get(server.name.as_str()).copied()
    }
}

/// The scenario's start as RFC 3339 text, as every output header gives it.
pub(crate) fn start_text(estate: &Estate) -> String {
    estate
        .source
        .start
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A run's files, in memory and in the order they are written: their names
/// in the output directory and their contents. `compliance.csv`,
/// `updates.csv`, `load.csv`, `summary.json`, `scenario.ron` (the resolved
/// scenario), `report.html`, then per deployment `compliance-<i>-<slug>.svg`
/// and `states-<i>-<slug>.svg`, then per server `load-<i>-<slug>.svg`.
pub fn run_files(estate: &Estate, outcome: &Outcome) -> Vec<(String, String)> {
    let mut files = InMemory(Vec::new());
    emit_run(&mut files, estate, outcome).expect("writing to memory");
    files.0
}

/// Writes a run's files ([`run_files`]) into a staging directory and
/// returns where they will be once it is committed, and the summary that
/// `summary.json` and the report hold (what the printed summary tells).
/// Each file is written as it is made, the CSV tables row by row: only the
/// charts and the report are ever whole in memory.
pub fn write_run(
    staging: &mut Staging,
    estate: &Estate,
    outcome: &Outcome,
) -> Result<(Vec<PathBuf>, Summary), Error> {
    let mut files = Staged {
        staging,
        paths: Vec::new(),
    };
    let summary = emit_run(&mut files, estate, outcome)?;
    Ok((files.paths, summary))
}

/// Writes `t` whole.
fn text(t: &str) -> impl FnMut(&mut dyn Write) -> io::Result<()> + '_ {
    move |w| w.write_all(t.as_bytes())
}

/// Where a run's files go, one at a time and in order.
trait Sink {
    /// Puts the file `name`, whose content `write` writes.
    fn put(
        &mut self,
        name: &str,
        write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), Error>;
}

/// Files as text, in memory.
struct InMemory(Vec<(String, String)>);

impl Sink for InMemory {
    fn put(
        &mut self,
        name: &str,
        write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), Error> {
        let mut bytes = Vec::new();
        write(&mut bytes).expect("writing to memory");
        let text = String::from_utf8(bytes).expect("outputs are utf-8");
        self.0.push((name.to_string(), text));
        Ok(())
    }
}

/// Files written into a staging directory.
struct Staged<'s> {
    staging: &'s mut Staging,
    paths: Vec<PathBuf>,
}

impl Sink for Staged<'_> {
    fn put(
        &mut self,
        name: &str,
        write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), Error> {
        self.paths.push(self.staging.write_with(name, write)?);
        Ok(())
    }
}

/// Makes a run's files, in [`run_files`]' order, and puts each in `sink`
/// as soon as it is made; returns the summary they were made from.
fn emit_run(sink: &mut dyn Sink, estate: &Estate, outcome: &Outcome) -> Result<Summary, Error> {
    sink.put("compliance.csv", &mut |w| {
        csv::write_compliance_csv(w, estate, outcome)
    })?;
    sink.put("updates.csv", &mut |w| {
        csv::write_updates_csv(w, estate, outcome)
    })?;
    sink.put("load.csv", &mut |w| csv::write_load_csv(w, estate, outcome))?;
    let summary = summary(estate, outcome);
    sink.put(
        "summary.json",
        &mut text(&json::summary_text_json(&summary)),
    )?;
    let scenario = scenario_ron(estate);
    sink.put("scenario.ron", &mut text(&scenario))?;
    let charts = charts(estate, outcome);
    let report = report_html(estate, &summary, &charts, &scenario);
    sink.put("report.html", &mut text(&report))?;
    drop(report);
    for chart in charts {
        sink.put(&chart.file_name, &mut text(&chart.svg))?;
    }
    Ok(summary)
}

/// The resolved scenario, with the provenance as a comment: running it
/// reproduces the run.
pub fn scenario_ron(estate: &Estate) -> String {
    format!(
        "// {}\n// the scenario as run, defaults written out: `patchsim run` on this file reproduces the run\n{}\n",
        provenance(estate),
        estate.source.text
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files `run` writes, streamed one by one into the staging
    /// directory, are byte for byte those `run_files` makes in memory.
    #[test]
    fn written_files_are_the_files_in_memory() {
        let text = r#"Scenario(
            name: "files", start: "2026-11-09T00:00:00Z", duration: "2d",
            sync: Sync(manual: ["2026-11-09T01:30:00Z"]),
            servers: Servers(management_points: [ManagementPoint(name: "mp")], update_points: [UpdatePoint(name: "sup")],
                             distribution_points: [DistributionPoint(name: "dp")]),
            cohorts: [Cohort(name: "c", count: 20, management_point: "mp", update_point: "sup", distribution_point: "dp")],
            updates: [Update(id: "KB1", size: "10MB", release: "2026-11-09T01:00:00Z")],
            deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["c"],
                                     created: "2026-11-09T02:00:00Z", deadline: "2026-11-09T10:00:00Z")],
        )"#;
        let raw = crate::scenario::parse(text, "files.ron").expect("parses");
        let estate = crate::scenario::build(raw, "files.ron").expect("valid");
        let outcome = crate::model::run(&estate, Default::default()).expect("never stopped");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let mut staging = Staging::begin(&out, Kind::Run, false, &[]).expect("begins");
        let (written, summary) = write_run(&mut staging, &estate, &outcome).expect("writes");
        assert_eq!(
            json::summary_text_json(&summary),
            json::summary_text_json(&super::summary(&estate, &outcome))
        );
        staging.commit(None).expect("commits");
        let in_memory = run_files(&estate, &outcome);
        assert_eq!(written.len(), in_memory.len());
        for (path, (name, text)) in written.iter().zip(&in_memory) {
            assert_eq!(path, &out.join(name));
            assert_eq!(
                &std::fs::read_to_string(path).expect("reads"),
                text,
                "{name}"
            );
        }
    }
}
