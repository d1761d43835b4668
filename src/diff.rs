//! `patchsim diff A B`: two runs, or two studies, side by side.
//!
//! Owns the comparison. Two runs are read from their `summary.json`s as
//! JSON, generically: deployments matched by name, servers by name, and
//! every total and every per-server number a summary has, so a total or
//! a field a later version adds is compared without an edit here. Two
//! studies are read with [`study::read`]; the settings they hold fixed
//! at different values are named, their points are matched by the values
//! of the swept paths as the scenario reads them (`60m` is `1h`), their
//! metrics by column, and each difference gets a 95 % confidence
//! interval: paired by replication when both ran the same seeds (common
//! random numbers; A and B then over the pairs, so that B − A is their
//! difference), Welch's otherwise. A milestone reached in more runs on
//! one side is flagged. Prints nothing itself: it returns the text.

use std::path::Path;

use comfy_table::{CellAlignment, Table};
use serde_json::Value;

use crate::error::{Error, StudyError};
use crate::output::{self, format_duration, plural as count, thousands};
use crate::study::{self, Study};

/// What a directory holds.
enum Side {
    Run(Value),
    Study(Box<Study>),
}

fn bad(dir: &Path, message: String) -> Error {
    StudyError::Corrupt {
        path: dir.display().to_string(),
        message,
    }
    .into()
}

fn read_side(dir: &Path) -> Result<Side, Error> {
    if dir.join(study::STUDY_FILE).exists() {
        return Ok(Side::Study(Box::new(study::read(dir)?)));
    }
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        bad(
            dir,
            format!(
                "not a run's or a study's output (no summary.json or study.json: {e}); give two \
                 directories that `patchsim run` or `patchsim sweep` wrote"
            ),
        )
    })?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| bad(&path, format!("not a summary written by patchsim: {e}")))?;
    if value["tool"] != "patchsim" {
        return Err(bad(&path, "not a summary written by patchsim".into()));
    }
    check_summary(&value).map_err(|why| {
        bad(
            &path,
            format!("{why}; it was not written by `patchsim run`, or was edited"),
        )
    })?;
    Ok(Side::Run(value))
}

/// Hours in the longest run a scenario allows (366 days): no milestone
/// of a run comes later.
const MAX_HOURS: f64 = 366.0 * 24.0;

/// Whether `v` has what every run's summary has, each value one a run
/// can give: the fields the comparison reads, each of its type; the
/// client and event counts, the totals, the servers' numbers and the
/// deployments' counts not negative; the compliant shares from 0 to 100;
/// the milestones (hours from creation) and instants (hours from the
/// start) from 0 to the longest run's hours, or `null` (not reached, or
/// not made); each deployment, server and location named once. `Err`
/// names the first field that is not so.
fn check_summary(v: &Value) -> Result<(), String> {
    for key in ["version", "scenario", "scenario_hash"] {
        if !v[key].is_string() {
            return Err(format!("it has no `{key}` text"));
        }
    }
    if !v["seed"].is_u64() {
        return Err("it has no `seed` (a whole number)".into());
    }
    for key in ["clients", "events"] {
        if !v[key].is_u64() {
            return Err(format!("`{key}` is {}, not a count", v[key]));
        }
    }
    if !v["totals"].is_object() {
        return Err("it has no `totals`".into());
    }
    if let Some((key, n)) = (leaves(&v["totals"], "").into_iter()).find(|(_, n)| !n.is_u64()) {
        return Err(format!("`totals.{key}` is {n}, not a count"));
    }
    for list in ["deployments", "servers"] {
        let Some(entries) = v[list].as_array() else {
            return Err(format!("it has no `{list}` list"));
        };
        named_once(list, entries)?;
        for (i, entry) in entries.iter().enumerate() {
            let counts: Vec<(String, &Value)> = match list {
                // Its numbers, nested ones too (the queue waits'
                // percentiles): none is below 0.
                "servers" => numbers(entry, ""),
                // Clients are counted.
                _ => (["targeted", "unknown_at_end", "final_true", "final_reported"].iter())
                    .flat_map(|key| numbers(&entry[*key], key))
                    .collect(),
            };
            if let Some((key, n)) = counts
                .iter()
                .find(|(_, n)| n.as_f64().is_none_or(|x| x < 0.0))
            {
                return Err(format!("`{list}[{i}].{key}` is {n}, not a count"));
            }
            if list == "deployments" {
                check_deployment(&format!("deployments[{i}]"), entry)?;
            }
        }
    }
    // Only an estate with locations has them.
    if let Some(places) = v.get("locations").filter(|l| !l.is_null()) {
        let Some(places) = places.as_array() else {
            return Err(format!("`locations` is {places}, not a list"));
        };
        named_once("locations", places)?;
        for (i, place) in places.iter().enumerate() {
            let Some(entries) = place["deployments"].as_array() else {
                return Err(format!("`locations[{i}]` has no `deployments` list"));
            };
            let list = format!("locations[{i}].deployments");
            named_once(&list, entries)?;
            for (k, entry) in entries.iter().enumerate() {
                let at = format!("{list}[{k}]");
                for key in ["hours_to_pct_true", "hours_to_pct_reported"] {
                    milestones(&at, key, &entry[key])?;
                }
                hours_or_null(
                    &format!("{at}.hours_to_content_on_dps"),
                    &entry["hours_to_content_on_dps"],
                )?;
            }
        }
    }
    Ok(())
}

/// Whether every entry of the list at `list` has a `name`, each a
/// different one: the comparison matches entries by name.
fn named_once(list: &str, entries: &[Value]) -> Result<(), String> {
    let mut seen: Vec<&str> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(name) = entry["name"].as_str() else {
            return Err(format!("`{list}[{i}]` has no `name`"));
        };
        if let Some(j) = seen.iter().position(|n| *n == name) {
            return Err(format!(
                "`{list}[{i}]` is named '{}' like `{list}[{j}]`; a run names each once",
                printable(name)
            ));
        }
        seen.push(name);
    }
    Ok(())
}

/// The fields of deployment entry `at` that the comparison reads besides
/// its counts: when it was made, opened and due, its milestones and its
/// compliant shares at the end.
fn check_deployment(at: &str, d: &Value) -> Result<(), String> {
    // Instants, not milestones: a deployment may be created or due after
    // the run's end, so any hours from its start.
    for key in ["created_h", "available_h", "deadline_h"] {
        instant_or_null(&format!("{at}.{key}"), &d[key])?;
    }
    for key in ["hours_to_pct_true", "hours_to_pct_reported"] {
        milestones(at, key, &d[key])?;
    }
    for key in ["compliant_pct_true", "compliant_pct_reported"] {
        let share = &d[key];
        if !share.as_f64().is_some_and(|x| (0.0..=100.0).contains(&x)) {
            return Err(format!(
                "`{at}.{key}` is {share}, not a share in 0 to 100 (no run gives it)"
            ));
        }
    }
    Ok(())
}

/// The milestones `at.key` (`pct_50` ... `pct_99`), if it has them: each
/// hours or `null`.
fn milestones(at: &str, key: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => Ok(()),
        Value::Object(fields) => fields
            .iter()
            .try_for_each(|(share, h)| hours_or_null(&format!("{at}.{key}.{share}"), h)),
        other => Err(format!("`{at}.{key}` is {other}, not the milestones")),
    }
}

/// Whether `v` (the field `path`) is hours a run can give, from 0 to the
/// longest run's, or `null` (not reached).
fn hours_or_null(path: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => Ok(()),
        Value::Number(n) if n.as_f64().is_some_and(|h| (0.0..=MAX_HOURS).contains(&h)) => Ok(()),
        Value::Number(n) => Err(format!(
            "`{path}` is {n}, not in 0 to {MAX_HOURS} hours (no run gives it)"
        )),
        other => Err(format!(
            "`{path}` is {other}, not a number of hours (null means not reached)"
        )),
    }
}

/// Whether `v` (the field `path`) is an instant a run can give, hours
/// from its start (0 or more, finite), or `null` (none).
fn instant_or_null(path: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => Ok(()),
        Value::Number(n) if n.as_f64().is_some_and(|h| h >= 0.0 && h.is_finite()) => Ok(()),
        Value::Number(n) => Err(format!(
            "`{path}` is {n}, not hours from the run's start (no run gives it)"
        )),
        other => Err(format!(
            "`{path}` is {other}, not a number of hours (null means none)"
        )),
    }
}

/// The numbers in `v` (itself, or the values of an object, nested), each
/// with its path under `path`.
fn numbers<'v>(v: &'v Value, path: &str) -> Vec<(String, &'v Value)> {
    (leaves(v, path).into_iter())
        .filter(|(_, n)| n.is_number())
        .collect()
}

/// Every value under `v` that is not an object, with its dotted path
/// (`scans_by_cause.schedule`): the totals, nested ones as their parts.
fn leaves<'v>(v: &'v Value, path: &str) -> Vec<(String, &'v Value)> {
    match v {
        Value::Object(fields) => fields
            .iter()
            .flat_map(|(k, x)| {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(x, &here)
            })
            .collect(),
        _ => vec![(path.to_string(), v)],
    }
}

/// `text` with its control and invisible characters escaped (`\u{1b}`):
/// names come from files, and a terminal would act on them.
fn printable(text: &str) -> String {
    crate::scenario::shown(text, usize::MAX)
}

/// Adds a row, every cell printable.
/// `name` for a group's first row, empty for the rows after it.
fn once(first: &mut bool, name: &str) -> String {
    if std::mem::replace(first, false) {
        name.to_string()
    } else {
        String::new()
    }
}

fn add(t: &mut Table, cells: Vec<String>) {
    t.add_row(cells.iter().map(|c| printable(c)).collect::<Vec<_>>());
}

/// Compares two runs or two studies; the text to print.
pub fn diff(a: &Path, b: &Path) -> Result<String, Error> {
    match (read_side(a)?, read_side(b)?) {
        (Side::Run(x), Side::Run(y)) => Ok(runs(a, &x, b, &y)),
        (Side::Study(x), Side::Study(y)) => {
            for (dir, s) in [(a, &x), (b, &y)] {
                if let Some(shard) = s.manifest.shard {
                    return Err(bad(
                        dir,
                        format!(
                            "holds shard {}/{} of a study, not the whole study; join its shards \
                             with `patchsim merge` and compare the merged study",
                            shard.index, shard.count
                        ),
                    ));
                }
            }
            Ok(studies(a, &x, b, &y))
        }
        _ => Err(StudyError::Merge(format!(
            "{} and {} are not the same kind of output (one run, one study); compare two runs \
             or two studies",
            a.display(),
            b.display()
        ))
        .into()),
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::NOTHING)
        .set_header(header.to_vec());
    t
}

fn right(t: &mut Table, from: usize) {
    for i in from..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn push_table(out: &mut String, t: &Table) {
    for line in t.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// Hours as a duration; `—` when absent.
fn hours(v: &Value) -> String {
    v.as_f64().map_or_else(|| "—".into(), format_duration)
}

/// A signed difference of hours.
fn hours_delta(a: &Value, b: &Value) -> String {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if (y - x).abs() * 3600.0 < 0.5 => "0s".into(),
        (Some(x), Some(y)) if y >= x => format!("+{}", format_duration(y - x)),
        (Some(x), Some(y)) => format!("−{}", format_duration(x - y)),
        _ => "—".into(),
    }
}

fn number(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_u64() => thousands(n.as_u64().unwrap_or(0)),
        Value::Number(n) => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn number_delta(a: &Value, b: &Value) -> String {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => {
            let d = y - x;
            let whole = a.is_u64() && b.is_u64();
            let sign = if d > 0.0 {
                "+"
            } else if d < 0.0 {
                "−"
            } else {
                ""
            };
            if whole {
                format!("{sign}{}", thousands(d.abs().round() as u64))
            } else {
                format!("{sign}{:.2}", d.abs())
            }
        }
        _ => "—".into(),
    }
}

fn describe(dir: &Path, v: &Value) -> String {
    printable(&format!(
        "{}: {} seed {} hash {}",
        dir.display(),
        v["scenario"].as_str().unwrap_or("?"),
        v["seed"],
        v["scenario_hash"].as_str().unwrap_or("?")
    ))
}

/// The entries of a list of objects, by their `name`.
fn by_name(v: &Value) -> Vec<(&str, &Value)> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|x| Some((x["name"].as_str()?, x)))
                .collect()
        })
        .unwrap_or_default()
}

/// Two runs: milestones per deployment, every server's numbers, totals.
fn runs(da: &Path, a: &Value, db: &Path, b: &Value) -> String {
    let mut out = format!("A = {}\nB = {}\n", describe(da, a), describe(db, b));
    out += &format!(
        "one run each: {ONE_SEED}; to tell a change from noise, sweep both with \
         --replications and diff the studies\n"
    );
    out.push_str(&settings(da, db));
    let (deps_a, deps_b) = (by_name(&a["deployments"]), by_name(&b["deployments"]));
    let mut t = table(&["deployment", "milestone", "A", "B", "B − A"]);
    // Every deployment either run has (a rule's may be in one only).
    let none = Value::Null;
    fn find<'a>(entries: &[(&str, &'a Value)], name: &str, none: &'a Value) -> &'a Value {
        entries.iter().find(|e| e.0 == name).map_or(none, |e| e.1)
    }
    let mut names: Vec<&str> = deps_a.iter().map(|d| d.0).collect();
    names.extend((deps_b.iter().map(|d| d.0)).filter(|n| !deps_a.iter().any(|d| d.0 == *n)));
    let mut moved_names = Vec::new();
    for name in names {
        let (x, y) = (find(&deps_a, name, &none), find(&deps_b, name, &none));
        let name = match (x.is_null(), y.is_null()) {
            (true, _) => format!("{name} (B only)"),
            (_, true) => format!("{name} (A only)"),
            _ => name.to_string(),
        };
        let mut first = true;
        // When the deployment was made, opened and due, where A and B
        // differ: a rule's deployment made later after a failed sync.
        for (key, label) in [
            ("created_h", "created"),
            ("available_h", "available"),
            ("deadline_h", "deadline"),
        ] {
            if hours_delta(&x[key], &y[key]) != "0s" && !(x[key].is_null() && y[key].is_null()) {
                add(
                    &mut t,
                    vec![
                        once(&mut first, &name),
                        format!("{label} (from the start)"),
                        hours(&x[key]),
                        hours(&y[key]),
                        hours_delta(&x[key], &y[key]),
                    ],
                );
            }
        }
        // Made at another time in B: milestones from creation would
        // count from different instants, and a later creation would look
        // like faster compliance. They are instants then, from the start.
        let (cx, cy) = (&x["created_h"], &y["created_h"]);
        let moved = cx.is_number() && cy.is_number() && hours_delta(cx, cy) != "0s";
        if moved {
            moved_names.push(name.clone());
        }
        let from_start = |created: &Value, h: &Value| match (created.as_f64(), h.as_f64()) {
            (Some(c), Some(h)) => Value::from(c + h),
            _ => Value::Null,
        };
        for (key, label) in [
            ("hours_to_pct_true", "true"),
            ("hours_to_pct_reported", "reported"),
        ] {
            if let Some(fields) = x[key].as_object().or(y[key].as_object()) {
                for (share, _) in fields {
                    let (mut hx, mut hy) = (x[key][share].clone(), y[key][share].clone());
                    let mut milestone = format!("{} {label}", share.replace("pct_", "") + "%");
                    if moved {
                        (hx, hy) = (from_start(cx, &hx), from_start(cy, &hy));
                        milestone += " (from the start)";
                    }
                    add(
                        &mut t,
                        vec![
                            once(&mut first, &name),
                            milestone,
                            hours(&hx),
                            hours(&hy),
                            hours_delta(&hx, &hy),
                        ],
                    );
                }
            }
        }
        for key in ["compliant_pct_true", "compliant_pct_reported"] {
            add(
                &mut t,
                vec![
                    String::new(),
                    key.replace("compliant_pct_", "% compliant at the end, "),
                    number(&x[key]),
                    number(&y[key]),
                    number_delta(&x[key], &y[key]),
                ],
            );
        }
    }
    right(&mut t, 2);
    out.push_str("\nmilestones (from each deployment's creation)\n");
    push_table(&mut out, &t);
    if !moved_names.is_empty() {
        let names: Vec<String> = moved_names.iter().map(|n| format!("'{n}'")).collect();
        out.push_str(&printable(&format!(
            "{} {} created at different times in A and B: {} milestones are hours from \
             the run's start, so that B − A is the change in when the clients became \
             compliant, not in how long after creation",
            names.join(", "),
            if names.len() == 1 { "was" } else { "were" },
            if names.len() == 1 { "its" } else { "their" },
        )));
        out.push('\n');
    }

    let (servers_a, servers_b) = (by_name(&a["servers"]), by_name(&b["servers"]));
    let mut t = table(&["server", "measure", "A", "B", "B − A"]);
    let mut names: Vec<&str> = servers_a.iter().map(|s| s.0).collect();
    names.extend(
        servers_b
            .iter()
            .map(|s| s.0)
            .filter(|n| !servers_a.iter().any(|s| s.0 == *n)),
    );
    for name in names {
        let (x, y) = (find(&servers_a, name, &none), find(&servers_b, name, &none));
        let mut first = true;
        let mut row = |measure: &str, vx: &Value, vy: &Value, delta: String| {
            if vx == vy {
                return;
            }
            add(
                &mut t,
                vec![
                    once(&mut first, name),
                    measure.to_string(),
                    number(vx),
                    number(vy),
                    delta,
                ],
            );
        };
        if x.is_null() || y.is_null() {
            row(
                "present",
                &Value::from(!x.is_null()),
                &Value::from(!y.is_null()),
                String::new(),
            );
            continue;
        }
        // Every number, those of nested figures (the queue wait's
        // percentiles) under both names.
        if let Some(fields) = x.as_object() {
            for (key, vx) in fields {
                if vx.is_number() && key != "capacity" {
                    row(key, vx, &y[key], number_delta(vx, &y[key]));
                }
                for (sub, vs) in vx.as_object().into_iter().flatten() {
                    let ys = &y[key][sub];
                    if vs.is_number() || ys.is_number() {
                        row(&format!("{key} {sub}"), vs, ys, number_delta(vs, ys));
                    }
                }
            }
        }
    }
    right(&mut t, 2);
    out.push_str(&format!(
        "\nbottleneck: A {}; B {}\n",
        printable(&bottleneck(a)),
        printable(&bottleneck(b))
    ));
    push_section(&mut out, "servers (the numbers that differ)", &t);

    out.push_str(&locations(a, b));

    // A total absent from one side is 0 there (a run leaves out the
    // totals of features it did not use).
    // A breakdown (`scans_by_cause`) is a total per part.
    let mut t = table(&["total", "A", "B", "B − A"]);
    let (ta, tb) = (leaves(&a["totals"], ""), leaves(&b["totals"], ""));
    let mut keys: Vec<&String> = Vec::new();
    for (key, _) in ta.iter().chain(&tb) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let zero = Value::from(0u64);
    for key in keys {
        let side = |totals: &[(String, &Value)]| {
            (totals.iter())
                .find(|(k, _)| k == key)
                .map_or_else(|| zero.clone(), |(_, v)| (*v).clone())
        };
        let (vx, vy) = (side(&ta), side(&tb));
        if vx != vy {
            add(
                &mut t,
                vec![
                    key.clone(),
                    number(&vx),
                    number(&vy),
                    number_delta(&vx, &vy),
                ],
            );
        }
    }
    right(&mut t, 1);
    out.push('\n');
    push_section(&mut out, "totals (those that differ)", &t);
    out
}

/// A titled table, or the title and "none" when it has no rows.
fn push_section(out: &mut String, title: &str, t: &Table) {
    if t.row_count() == 0 {
        out.push_str(&format!("{title}: none\n"));
    } else {
        out.push_str(title);
        out.push('\n');
        push_table(out, t);
    }
}

/// The most settings listed before the rest are counted.
const MAX_SETTINGS: usize = 40;

/// The settings the two runs' `scenario.ron`s differ in, as `--set`
/// paths (an entry of a named list by its name), with both values.
fn settings(da: &Path, db: &Path) -> String {
    let read = |dir: &Path| -> Result<Value, String> {
        let path = dir.join("scenario.ron");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let parsed = crate::scenario::parse(&text, &path.display().to_string())
            .map_err(|e| e.to_string())?;
        serde_json::to_value(parsed).map_err(|e| e.to_string())
    };
    match (read(da), read(db)) {
        (Ok(x), Ok(y)) => settings_table(
            "settings (scenario.ron, those that differ)",
            Vec::new(),
            &x,
            &y,
            &|_| false,
        ),
        (Err(e), _) | (_, Err(e)) => format!("\nsettings: not compared ({e})\n"),
    }
}

/// The titled table of the settings two scenarios (as JSON) differ in,
/// after the rows `first`, but those `skip` names, each as a `--set`
/// path with both values.
fn settings_table(
    title: &str,
    first: Vec<(String, String, String)>,
    x: &Value,
    y: &Value,
    skip: &dyn Fn(&str) -> bool,
) -> String {
    let mut found = first;
    let mut more = Vec::new();
    differences("", Some(x), Some(y), &mut more);
    // The name and description say which is which; they are in the
    // header already.
    more.retain(|(path, _, _)| path != "name" && path != "description" && !skip(path));
    found.extend(more);
    let mut t = table(&["setting", "A", "B"]);
    for (path, va, vb) in found.iter().take(MAX_SETTINGS) {
        add(&mut t, vec![path.clone(), va.clone(), vb.clone()]);
    }
    let mut out = String::from("\n");
    push_section(&mut out, title, &t);
    if found.len() > MAX_SETTINGS {
        out.push_str(&format!(
            "... and {} more: compare the two scenario.ron files\n",
            found.len() - MAX_SETTINGS
        ));
    }
    out.push('\n');
    out
}

/// Collects `(path, A, B)` for every leaf that differs under `path`; a
/// side without the value shows `—`.
fn differences(
    path: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<(String, String, String)>,
) {
    if a == b {
        return;
    }
    let field = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().collect();
            keys.extend(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                differences(&field(k), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            // Entries of a named list by their names, as `--set` writes them.
            let name = |v: &Value| v.get("name").and_then(Value::as_str).map(String::from);
            let named = |list: &[Value]| list.iter().all(|v| name(v).is_some());
            if named(x) && named(y) {
                let mut names: Vec<String> = x.iter().filter_map(name).collect();
                names.extend(
                    y.iter()
                        .filter_map(name)
                        .filter(|n| !x.iter().any(|v| name(v).as_ref() == Some(n))),
                );
                for n in names {
                    let find = |list: &'_ [Value]| {
                        list.iter().find(|v| name(v).as_ref() == Some(&n)).cloned()
                    };
                    let (vx, vy) = (find(x), find(y));
                    differences(&format!("{path}[{n}]"), vx.as_ref(), vy.as_ref(), out);
                }
            } else {
                for i in 0..x.len().max(y.len()) {
                    differences(&format!("{path}[{i}]"), x.get(i), y.get(i), out);
                }
            }
        }
        _ => {
            // A value on one side only is shown whole, cut to a line.
            let show = |v: Option<&Value>| {
                let text = match v {
                    None => "—".to_string(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                };
                match text.char_indices().nth(60) {
                    Some((at, _)) => format!("{} …", &text[..at]),
                    None => text,
                }
            };
            out.push((path.to_string(), show(a), show(b)));
        }
    }
}

/// With `locations` on both sides: per location and deployment, the time
/// to 95 % compliant as reported and, for a location with its own DPs,
/// until the content was on them; empty otherwise.
fn locations(a: &Value, b: &Value) -> String {
    let (places_a, places_b) = (by_name(&a["locations"]), by_name(&b["locations"]));
    let mut t = table(&["location", "deployment", "measure", "A", "B", "B − A"]);
    for (place, x) in &places_a {
        let Some((_, y)) = places_b.iter().find(|(n, _)| n == place) else {
            continue;
        };
        let mut first = true;
        for (name, dx) in by_name(&x["deployments"]) {
            let Some((_, dy)) = by_name(&y["deployments"])
                .into_iter()
                .find(|(n, _)| *n == name)
            else {
                continue;
            };
            let mut rows = vec![(
                "95% reported",
                &dx["hours_to_pct_reported"]["pct_95"],
                &dy["hours_to_pct_reported"]["pct_95"],
            )];
            if dx.get("hours_to_content_on_dps").is_some() {
                rows.push((
                    "content on its DPs",
                    &dx["hours_to_content_on_dps"],
                    &dy["hours_to_content_on_dps"],
                ));
            }
            for (k, (measure, vx, vy)) in rows.into_iter().enumerate() {
                add(
                    &mut t,
                    vec![
                        once(&mut first, place),
                        if k == 0 {
                            name.to_string()
                        } else {
                            String::new()
                        },
                        measure.to_string(),
                        hours(vx),
                        hours(vy),
                        hours_delta(vx, vy),
                    ],
                );
            }
        }
    }
    if places_a.is_empty() || places_b.is_empty() {
        return String::new();
    }
    right(&mut t, 3);
    let mut out = "
locations (from each deployment's creation)
"
    .to_string();
    push_table(&mut out, &t);
    out
}

/// The server that harmed a run most, ranked as the printed summary
/// ranks them ([`output::bottlenecks`]).
fn bottleneck(run: &Value) -> String {
    let harm = |s: &Value| {
        output::harm(
            s["rejected"].as_u64().unwrap_or(0),
            s["hours_busy"].as_f64().unwrap_or(0.0),
            s["queue_wait_s"]["p95"].as_f64().unwrap_or(0.0),
        )
    };
    let servers = run["servers"].as_array().into_iter().flatten();
    let ranked = output::worst_first(servers, |s| (s["name"].as_str().unwrap_or("?"), harm(s)));
    match ranked.first() {
        None => "none".to_string(),
        Some(s) => {
            let (rejected, busy, wait) = harm(s);
            format!(
                "{} ({} rejected, busy {}, p95 wait {})",
                s["name"].as_str().unwrap_or("?"),
                thousands(rejected),
                format_duration(busy as f64 / 1000.0),
                format_duration(wait as f64 / 1000.0 / 3600.0)
            )
        }
    }
}

/// What one pass over seeds cannot tell apart from a change.
const ONE_SEED: &str = "two seeds of the same setting differ by about as much as some setting \
                        changes, so a difference of one seed may be noise";

/// One study of a comparison, with its base scenario read back (`None`
/// if it does not read: values are then compared as written).
struct Compared<'a> {
    study: &'a Study,
    base: Option<crate::scenario::Scenario>,
}

impl<'a> Compared<'a> {
    fn new(study: &'a Study) -> Self {
        Compared {
            study,
            base: crate::scenario::parse(&study.scenario_ron, "scenario.ron").ok(),
        }
    }

    fn manifest(&self) -> &'a study::Manifest {
        &self.study.manifest
    }

    /// Point `i`'s value of each of `axes`, as this study writes it
    /// (`None`: a path it does not sweep).
    fn written(&self, axes: &[&str], i: usize) -> Vec<Option<&'a str>> {
        let m = self.manifest();
        (axes.iter())
            .map(|p| Some(m.points[i].values[self.param(p)?].as_str()))
            .collect()
    }

    /// The grid index of `path`, if this study swept it.
    fn param(&self, path: &str) -> Option<usize> {
        self.manifest().grid.iter().position(|p| p.path == path)
    }

    /// `value` of `path` as the scenario's canonical text writes it
    /// (`None`: the base's own value).
    fn canonical(&self, path: &str, value: Option<&str>) -> String {
        (self.base.as_ref())
            .and_then(|b| crate::scenario::canonical_value(b, path, value).ok())
            .unwrap_or_else(|| value.unwrap_or("(the scenario's)").to_string())
    }

    /// The base scenario, as JSON.
    fn base_json(&self) -> Option<Value> {
        serde_json::to_value(self.base.as_ref()?).ok()
    }

    /// The one value this study gives `path` (its one-valued `--set`), if
    /// any.
    fn fixed(&self, path: &str) -> Option<&'a str> {
        let p = &self.manifest().grid[self.param(path)?];
        (p.values.len() == 1).then(|| p.values[0].as_str())
    }
}

/// The one-valued `--set` paths of either study but `axes`, in order.
fn fixed_paths<'a>(a: &Compared<'a>, b: &Compared<'a>, axes: &[&str]) -> Vec<&'a str> {
    let mut paths: Vec<&str> = Vec::new();
    for p in a.manifest().grid.iter().chain(&b.manifest().grid) {
        if p.values.len() == 1
            && !axes.contains(&p.path.as_str())
            && !paths.contains(&p.path.as_str())
        {
            paths.push(&p.path);
        }
    }
    paths
}

/// The settings two studies hold fixed at different values: each
/// one-valued `--set` whose values differ (a side without it has its
/// scenario's), then the rest of their `scenario.ron`s, swept paths and
/// those `--set`s aside.
fn fixed_settings(a: &Compared<'_>, b: &Compared<'_>, axes: &[&str]) -> String {
    let paths = fixed_paths(a, b, axes);
    let shown = |s: &Compared, p: &str| match s.fixed(p) {
        Some(v) => v.to_string(),
        None => unquoted(&s.canonical(p, None)),
    };
    let rows: Vec<(String, String, String)> = (paths.iter())
        .filter(|p| a.canonical(p, a.fixed(p)) != b.canonical(p, b.fixed(p)))
        .map(|p| (p.to_string(), shown(a, p), shown(b, p)))
        .collect();
    let (x, y) = (a.base_json(), b.base_json());
    settings_table(
        "settings held fixed (the one-valued --set and scenario.ron; those that differ)",
        rows,
        &x.unwrap_or(Value::Null),
        &y.unwrap_or(Value::Null),
        &|path| (axes.iter().chain(&paths)).any(|set| under(path, set)),
    )
}

/// A canonical text value without its quotes, as `--set` takes it.
fn unquoted(value: &str) -> String {
    (value.strip_prefix('"'))
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.contains('"'))
        .map_or_else(|| value.to_string(), String::from)
}

/// Whether a `--set` path `path` is `axis` or a field under it.
fn under(path: &str, axis: &str) -> bool {
    path.strip_prefix(axis)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// Two studies: the settings they hold fixed differently, then per
/// matched point and shown metric each side's mean and the difference
/// with its 95 % interval.
fn studies(da: &Path, a: &Study, db: &Path, b: &Study) -> String {
    let (sa, sb) = (Compared::new(a), Compared::new(b));
    let (ma, mb) = (&a.manifest, &b.manifest);
    // Paired when the replications both ran have the same seeds (a study
    // with more replications than the other shares the other's first).
    let common = ma.replication_seeds.len().min(mb.replication_seeds.len());
    let paired = common >= 1 && ma.replication_seeds[..common] == mb.replication_seeds[..common];
    let mut out = String::new();
    for (name, dir, m) in [("A", da, ma), ("B", db, mb)] {
        out += &format!(
            "{name} = {}: {} seed {} hash {}, {} × {}\n",
            printable(&dir.display().to_string()),
            printable(&m.scenario),
            m.seed,
            printable(&m.scenario_hash),
            count(m.points.len(), "point"),
            count(m.replications as usize, "replication")
        );
    }
    // With more replications on one side, those beyond the other's.
    let left_out = if ma.replications == mb.replications {
        String::new()
    } else {
        let (more, extra) = if ma.replications > mb.replications {
            ("A", ma.replications as usize - common)
        } else {
            ("B", mb.replications as usize - common)
        };
        format!(
            "; {more}'s other {} {} left out",
            count(extra, "replication"),
            if extra == 1 { "is" } else { "are" }
        )
    };
    let how = if !paired {
        "Welch's t (the studies ran different seeds); A and B are each study's mean over its \
         runs"
            .to_string()
    } else if common == 1 {
        format!("paired by replication 0 (both ran its seed): one pair, so no interval{left_out}")
    } else if left_out.is_empty() {
        "paired by replication (both ran the same seeds)".to_string()
    } else {
        format!("paired by replication (the first {common} of each ran the same seeds){left_out}")
    };
    out += &format!("differences B − A with 95 % intervals, {how}\n");
    if paired {
        out += "A and B are means over the replications that pair (both ran the seed and both \
                reached the milestone), so that B − A is their difference\n";
    }
    // The swept paths (more than one value on either side) are the axes;
    // a path with one value is a setting the study holds fixed.
    let mut axes: Vec<&str> = Vec::new();
    for p in ma.grid.iter().chain(&mb.grid) {
        if p.values.len() > 1 && !axes.contains(&p.path.as_str()) {
            axes.push(&p.path);
        }
    }
    out += &fixed_settings(&sa, &sb, &axes);
    // Points match by their values of the axes, read as the scenario
    // reads them (`60m` and `1h` are one value); an axis a study does not
    // sweep has its scenario's value there.
    let mut canonical: std::collections::BTreeMap<(bool, String, Option<String>), String> =
        std::collections::BTreeMap::new();
    let mut key = |s: &Compared<'_>, is_a: bool, i: usize| -> Vec<String> {
        (axes.iter())
            .zip(s.written(&axes, i))
            .map(|(&p, v)| {
                canonical
                    .entry((is_a, p.to_string(), v.map(String::from)))
                    .or_insert_with(|| s.canonical(p, v))
                    .clone()
            })
            .collect()
    };
    let keys_b: std::collections::BTreeMap<Vec<String>, usize> = (0..mb.points.len())
        .map(|j| (key(&sb, false, j), j))
        .collect();
    let by_value: Vec<(usize, usize)> = (0..ma.points.len())
        .filter_map(|i| Some((i, *keys_b.get(&key(&sa, true, i))?)))
        .collect();
    let both_sweep = |p: &&str| sa.param(p).is_some() && sb.param(p).is_some();
    // By position only when the studies sweep different paths and no
    // point of one is a point of the other.
    let by_value = (axes.iter().all(both_sweep) || !by_value.is_empty()).then_some(by_value);
    let pairs: Vec<(usize, usize)> = match &by_value {
        Some(pairs) => pairs.clone(),
        None => (0..ma.points.len().min(mb.points.len()))
            .map(|i| (i, i))
            .collect(),
    };
    let grid = |m: &study::Manifest| {
        let paths: Vec<&str> = m.grid.iter().map(|p| p.path.as_str()).collect();
        if paths.is_empty() {
            "no --set".to_string()
        } else {
            paths.join(", ")
        }
    };
    if by_value.is_none() {
        out += &format!(
            "the grids differ (A: {}; B: {}) and share no point: points are paired by \
             position\n",
            printable(&grid(ma)),
            printable(&grid(mb))
        );
    } else {
        for p in axes.iter().filter(|p| !both_sweep(p)) {
            let (name, s) = if sa.param(p).is_none() {
                ("A", &sa)
            } else {
                ("B", &sb)
            };
            out += &format!(
                "{name} does not sweep {p}: its points have its scenario's value, {}\n",
                unquoted(&s.canonical(p, None))
            );
        }
        // A value spelled two ways, matched as one.
        let mut spelled: Vec<String> = Vec::new();
        for &(i, j) in &pairs {
            for (x, y) in sa.written(&axes, i).into_iter().zip(sb.written(&axes, j)) {
                if let (Some(x), Some(y)) = (x, y) {
                    let note = format!("{x} (A) is {y} (B)");
                    if x != y && !spelled.contains(&note) {
                        spelled.push(note);
                    }
                }
            }
        }
        if !spelled.is_empty() {
            out += &format!(
                "points matched by value, spelled differently: {}\n",
                spelled.join("; ")
            );
        }
    }
    let named = |values: Vec<&str>| {
        if !values.is_empty() {
            values.join(", ")
        } else if ma.grid.is_empty() && mb.grid.is_empty() {
            "(scenario as given)".to_string()
        } else {
            "(the one point)".to_string()
        }
    };
    let point_name = |s: &Compared<'_>, i: usize| {
        named(if by_value.is_some() {
            s.written(&axes, i).into_iter().flatten().collect()
        } else {
            s.manifest().points[i]
                .values
                .iter()
                .map(String::as_str)
                .collect()
        })
    };
    // A matched pair by its values, as A writes them (B where A does not
    // sweep the path).
    let pair_name = |i: usize, j: usize| {
        named(
            (sa.written(&axes, i).into_iter())
                .zip(sb.written(&axes, j))
                .filter_map(|(x, y)| x.or(y))
                .collect(),
        )
    };
    for (name, s, taken) in [
        ("A", &sa, pairs.iter().map(|p| p.0).collect::<Vec<_>>()),
        ("B", &sb, pairs.iter().map(|p| p.1).collect()),
    ] {
        let alone: Vec<String> = (0..s.manifest().points.len())
            .filter(|i| !taken.contains(i))
            .map(|i| point_name(s, i))
            .collect();
        if !alone.is_empty() {
            out += &format!("points only {name} has: {}\n", printable(&alone.join("; ")));
        }
    }
    // Not the columns of a deployment neither study's runs made (one an
    // automatic deployment rule could have made).
    let (made_a, made_b) = (a.shown(), b.shown());
    let shown: Vec<(usize, usize, String)> = a
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.metric().table.is_some())
        .filter_map(|(i, c)| {
            let j = mb.metrics.iter().position(|m| m.column == c.name)?;
            Some((i, j, c.name.clone()))
        })
        .filter(|&(i, j, _)| made_a[i] || made_b[j])
        .collect();
    // The runs compared: with paired seeds those of the replications both
    // ran, otherwise all. `(replication, value)`, `None` where the run
    // did not reach it.
    let compared = |s: &Study, point: usize, col: usize| -> Vec<(u32, Option<f64>)> {
        (s.runs.iter())
            .filter(|r| r.point == point && (!paired || (r.replication as usize) < common))
            .map(|r| (r.replication, r.values[col]))
            .collect()
    };
    let estimate = |xs: &[f64]| study::estimate(xs.iter().map(|&x| Some(x)));
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut one_pair = false;
    for &(i, j) in &pairs {
        let label = if by_value.is_some() {
            pair_name(i, j)
        } else {
            let (x, y) = (point_name(&sa, i), point_name(&sb, j));
            if x == y { x } else { format!("{x} | {y}") }
        };
        for (k, (ca, cb, name)) in shown.iter().enumerate() {
            let (ra, rb) = (compared(a, i, *ca), compared(b, j, *cb));
            let reached =
                |runs: &[(u32, Option<f64>)]| runs.iter().filter(|r| r.1.is_some()).count();
            let (na, nb) = (reached(&ra), reached(&rb));
            let (cells_a, cells_b, diff_text) = if paired {
                // Over the replications where both reached it.
                let both: Vec<(f64, f64)> = (ra.iter())
                    .filter_map(|&(r, x)| {
                        let y = rb.iter().find(|s| s.0 == r)?.1?;
                        Some((x?, y))
                    })
                    .collect();
                let xs: Vec<f64> = both.iter().map(|p| p.0).collect();
                let ys: Vec<f64> = both.iter().map(|p| p.1).collect();
                let d: Vec<f64> = both.iter().map(|(x, y)| y - x).collect();
                let e = estimate(&d);
                let diff = match (e.mean, e.half_width) {
                    (None, _) => "—".to_string(),
                    (Some(m), Some(h)) => {
                        let clear = if (m - h) * (m + h) > 0.0 { " *" } else { "" };
                        format!("{m:+.2} ± {h:.2}{clear}")
                    }
                    (Some(m), None) => format!("{m:+.2}"),
                };
                one_pair |= d.len() == 1;
                let possible = ra.len().min(rb.len());
                let diff = if !d.is_empty() && d.len() < possible {
                    format!("{diff} ({})", count(d.len(), "pair"))
                } else {
                    diff
                };
                if both.is_empty() {
                    // No pair to compare: each side's own runs that
                    // reached it, if any did.
                    let own = |runs: &[(u32, Option<f64>)], n: usize| {
                        let values: Vec<f64> = runs.iter().filter_map(|r| r.1).collect();
                        match estimate(&values).text() {
                            text if n > 0 && n < runs.len() => format!("{text} (n={n})"),
                            text => text,
                        }
                    };
                    (own(&ra, na), own(&rb, nb), diff)
                } else {
                    (estimate(&xs).text(), estimate(&ys).text(), diff)
                }
            } else {
                let values = |runs: &[(u32, Option<f64>)]| -> Vec<f64> {
                    runs.iter().filter_map(|r| r.1).collect()
                };
                let (xs, ys) = (values(&ra), values(&rb));
                let of_runs = |text: String, n: usize, runs: usize| {
                    if n > 0 && n < runs {
                        format!("{text} (n={n})")
                    } else {
                        text
                    }
                };
                let diff = match study::welch(&xs, &ys) {
                    Some((m, Some(h))) => {
                        let clear = if (m - h) * (m + h) > 0.0 { " *" } else { "" };
                        format!("{m:+.2} ± {h:.2}{clear}")
                    }
                    Some((m, None)) => format!("{m:+.2}"),
                    None => "—".into(),
                };
                (
                    of_runs(estimate(&xs).text(), na, ra.len()),
                    of_runs(estimate(&ys).text(), nb, rb.len()),
                    diff,
                )
            };
            // Reached in more runs on one side: the means, over the runs
            // that reached it, cannot show it.
            let reach = if na * rb.len() != nb * ra.len() {
                if ra.len() == rb.len() {
                    format!("{na} vs {nb} of {}", ra.len())
                } else {
                    format!("{na} of {} vs {nb} of {}", ra.len(), rb.len())
                }
            } else {
                String::new()
            };
            rows.push([
                if k == 0 {
                    printable(&label)
                } else {
                    String::new()
                },
                printable(name),
                cells_a,
                cells_b,
                diff_text,
                reach,
            ]);
        }
    }
    let differ = rows.iter().any(|r| !r[5].is_empty());
    let mut header = vec!["point", "metric", "A", "B", "B − A (95 % CI)"];
    if differ {
        header.push("runs reached");
    }
    let mut t = table(&header);
    for row in rows {
        let mut row = row.to_vec();
        row.truncate(header.len());
        t.add_row(row);
    }
    right(&mut t, 2);
    push_table(&mut out, &t);
    out.push_str("hours from deployment creation; *: the interval excludes 0\n");
    if differ {
        out.push_str(if paired {
            "runs reached: how many of the runs compared reached the milestone, A vs B, \
                 where they differ: B − A, over the runs where both did, does not show that \
                 one side reached it more often\n"
        } else {
            "runs reached: how many runs reached the milestone, A vs B, where the shares \
                 differ: B − A, between the means of the runs that did, does not show that \
                 one side reached it more often\n"
        });
    }
    if common == 1 || one_pair || ma.replications == 1 || mb.replications == 1 {
        out += &format!(
            "one replication (or pair) gives no interval: {ONE_SEED}; run more replications\n"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `diff` names the bottleneck `run` printed: among equals the first
    /// by name, and hours busy rounded, not cut, to the thousandth.
    #[test]
    fn bottleneck_is_ranked_as_the_summary_ranks_it() {
        let server = |name: &str, rejected: u64, hours_busy: f64| {
            serde_json::json!({"name": name, "rejected": rejected, "hours_busy": hours_busy,
                               "queue_wait_s": {"p95": 0.0}})
        };
        let tie = serde_json::json!({"servers": [server("mp-a", 5, 2.0), server("mp-b", 5, 2.0)]});
        assert!(
            bottleneck(&tie).starts_with("mp-a "),
            "{}",
            bottleneck(&tie)
        );
        // 0.0006 h is 0.6 thousandths: some harm, not none.
        let brief = serde_json::json!({"servers": [server("dp", 0, 0.0006)]});
        assert!(
            bottleneck(&brief).starts_with("dp "),
            "{}",
            bottleneck(&brief)
        );
    }

    #[test]
    fn deltas_read_well() {
        assert_eq!(hours_delta(&Value::from(1.0), &Value::from(3.5)), "+2h 30m");
        assert_eq!(hours_delta(&Value::from(3.5), &Value::from(1.0)), "−2h 30m");
        assert_eq!(number_delta(&Value::from(10u64), &Value::from(4u64)), "−6");
        assert_eq!(number_delta(&Value::from(1.5), &Value::from(2.0)), "+0.50");
        assert_eq!(hours_delta(&Value::Null, &Value::from(1.0)), "—");
    }
}
