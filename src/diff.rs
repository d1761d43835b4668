//! `patchsim diff A B`: two runs, or two studies, side by side.
//!
//! Owns the comparison. Two runs are read from their `summary.json`s as
//! JSON, generically: deployments matched by name, servers by name, and
//! every total and every per-server number a summary has, so a total or
//! a field a later version adds is compared without an edit here. Two
//! studies are read with [`study::read`]; their points are matched by
//! their `--set` values and their metrics by column, and each difference
//! gets a 95 % confidence interval: paired by replication when both ran
//! the same seeds (common random numbers), Welch's otherwise. Prints
//! nothing itself: it returns the text.

use std::path::Path;

use comfy_table::{CellAlignment, Table};
use serde_json::Value;

use crate::error::{Error, StudyError};
use crate::output::{format_duration, thousands};
use crate::study::{self, Study, t_975};

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
            format!("not a summary written by patchsim: {why}; compare the summaries runs wrote"),
        )
    })?;
    Ok(Side::Run(value))
}

/// Whether `v` has what every run's summary has, counts that are counts:
/// the fields the comparison reads, each of its type; the totals, the
/// servers' numbers and the deployments' counts not negative. `Err` names
/// the first field that is not so.
fn check_summary(v: &Value) -> Result<(), String> {
    for key in ["version", "scenario", "scenario_hash"] {
        if !v[key].is_string() {
            return Err(format!("it has no `{key}` text"));
        }
    }
    if !v["seed"].is_u64() {
        return Err("it has no `seed` (a whole number)".into());
    }
    let Some(totals) = v["totals"].as_object() else {
        return Err("it has no `totals`".into());
    };
    if let Some((key, n)) = totals.iter().find(|(_, n)| !n.is_u64()) {
        return Err(format!("`totals.{key}` is {n}, not a count"));
    }
    for list in ["deployments", "servers"] {
        let Some(entries) = v[list].as_array() else {
            return Err(format!("it has no `{list}` list"));
        };
        for (i, entry) in entries.iter().enumerate() {
            if !entry["name"].is_string() {
                return Err(format!("`{list}[{i}]` has no `name`"));
            }
            let counts: Vec<(String, &Value)> = match list {
                // Its numbers, nested ones too (the queue waits'
                // percentiles): none is below 0.
                "servers" => numbers(entry, ""),
                // Hours may be negative (compliant before its creation);
                // clients are counted.
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
        }
    }
    Ok(())
}

/// The numbers in `v` (itself, or the values of an object, nested), each
/// with its path under `path`.
fn numbers<'v>(v: &'v Value, path: &str) -> Vec<(String, &'v Value)> {
    match v {
        Value::Number(_) => vec![(path.to_string(), v)],
        Value::Object(fields) => fields
            .iter()
            .flat_map(|(k, x)| {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                numbers(x, &here)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `text` with its control and invisible characters escaped (`\u{1b}`):
/// names come from files, and a terminal would act on them.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if crate::scenario::unprintable(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Adds a row, every cell printable.
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
    for name in names {
        let (x, y) = (find(&deps_a, name, &none), find(&deps_b, name, &none));
        let name = match (x.is_null(), y.is_null()) {
            (true, _) => format!("{name} (B only)"),
            (_, true) => format!("{name} (A only)"),
            _ => name.to_string(),
        };
        let mut first = true;
        for (key, label) in [
            ("hours_to_pct_true", "true"),
            ("hours_to_pct_reported", "reported"),
        ] {
            if let Some(fields) = x[key].as_object().or(y[key].as_object()) {
                for (share, _) in fields {
                    let hx = &x[key][share];
                    let hy = &y[key][share];
                    add(
                        &mut t,
                        vec![
                            if first {
                                name.to_string()
                            } else {
                                String::new()
                            },
                            format!("{} {label}", share.replace("pct_", "") + "%"),
                            hours(hx),
                            hours(hy),
                            hours_delta(hx, hy),
                        ],
                    );
                    first = false;
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
                    if first {
                        name.to_string()
                    } else {
                        String::new()
                    },
                    measure.to_string(),
                    number(vx),
                    number(vy),
                    delta,
                ],
            );
            first = false;
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
    let mut t = table(&["total", "A", "B", "B − A"]);
    let mut keys: Vec<&String> = Vec::new();
    for key in (a["totals"].as_object().into_iter())
        .chain(b["totals"].as_object())
        .flat_map(|fields| fields.keys())
    {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let zero = Value::from(0u64);
    for key in keys {
        let side = |v: &Value| {
            v["totals"]
                .get(key)
                .cloned()
                .unwrap_or_else(|| zero.clone())
        };
        let (vx, vy) = (side(a), side(b));
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
    let (x, y) = match (read(da), read(db)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return format!("\nsettings: not compared ({e})\n"),
    };
    let mut found = Vec::new();
    differences("", Some(&x), Some(&y), &mut found);
    // The name and description say which run is which; they are in the
    // header already.
    found.retain(|(path, _, _)| path != "name" && path != "description");
    let mut t = table(&["setting", "A", "B"]);
    for (path, va, vb) in found.iter().take(MAX_SETTINGS) {
        add(&mut t, vec![path.clone(), va.clone(), vb.clone()]);
    }
    let mut out = String::from("\n");
    push_section(&mut out, "settings (scenario.ron, those that differ)", &t);
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
                        if first {
                            place.to_string()
                        } else {
                            String::new()
                        },
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
                first = false;
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

/// The server that harmed a run most, as the printed summary ranks them:
/// requests rejected, then hours busy, then p95 queue wait.
fn bottleneck(run: &Value) -> String {
    let key = |s: &Value| {
        (
            s["rejected"].as_u64().unwrap_or(0),
            (s["hours_busy"].as_f64().unwrap_or(0.0) * 1000.0) as u64,
            (s["queue_wait_s"]["p95"].as_f64().unwrap_or(0.0) * 1000.0) as u64,
        )
    };
    let worst = run["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| key(s) != (0, 0, 0))
        .max_by_key(|s| key(s));
    match worst {
        None => "none".to_string(),
        Some(s) => {
            let (rejected, busy, wait) = key(s);
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

/// Mean and 95 % CI half-width of `xs`.
fn mean_ci(xs: &[f64]) -> (f64, Option<f64>) {
    let e = study::estimate(xs.iter().map(|&x| Some(x)));
    (e.mean.unwrap_or(f64::NAN), e.half_width)
}

fn with_ci(mean: f64, hw: Option<f64>) -> String {
    match hw {
        Some(h) => format!("{mean:.2} ± {h:.2}"),
        None => format!("{mean:.2}"),
    }
}

/// Two studies: per matched point and shown metric, each side's mean and
/// the difference with its 95 % interval.
fn studies(da: &Path, a: &Study, db: &Path, b: &Study) -> String {
    let (ma, mb) = (&a.manifest, &b.manifest);
    // Paired when the replications both ran have the same seeds (a study
    // with more replications than the other shares the other's first).
    let common = ma.replication_seeds.len().min(mb.replication_seeds.len());
    let paired = common > 1 && ma.replication_seeds[..common] == mb.replication_seeds[..common];
    let mut out = format!(
        "A = {}: {} seed {} hash {}, {} points × {} replications\n\
         B = {}: {} seed {} hash {}, {} points × {} replications\n\
         differences B − A with 95 % intervals, {}\n",
        printable(&da.display().to_string()),
        printable(&ma.scenario),
        ma.seed,
        printable(&ma.scenario_hash),
        ma.points.len(),
        ma.replications,
        printable(&db.display().to_string()),
        printable(&mb.scenario),
        mb.seed,
        printable(&mb.scenario_hash),
        mb.points.len(),
        mb.replications,
        if !paired {
            "Welch's (the studies ran different seeds)".to_string()
        } else if ma.replications == mb.replications {
            "paired by replication (both ran the same seeds)".to_string()
        } else {
            format!("paired by replication (the first {common} of each ran the same seeds)")
        }
    );
    // Points match by their values when the grids share their paths, by
    // position otherwise.
    let same_grid = ma
        .grid
        .iter()
        .map(|p| &p.path)
        .eq(mb.grid.iter().map(|p| &p.path));
    let pairs: Vec<(usize, usize)> = if same_grid {
        (0..ma.points.len())
            .filter_map(|i| {
                let j = mb
                    .points
                    .iter()
                    .position(|q| q.values == ma.points[i].values)?;
                Some((i, j))
            })
            .collect()
    } else {
        (0..ma.points.len().min(mb.points.len()))
            .map(|i| (i, i))
            .collect()
    };
    let grid = |m: &study::Manifest| {
        let paths: Vec<&str> = m.grid.iter().map(|p| p.path.as_str()).collect();
        if paths.is_empty() {
            "no --set".to_string()
        } else {
            paths.join(", ")
        }
    };
    if !same_grid {
        out += &format!(
            "the grids differ (A: {}; B: {}): points are paired by position\n",
            printable(&grid(ma)),
            printable(&grid(mb))
        );
    }
    let point_name = |m: &study::Manifest, i: usize| {
        let v = m.points[i].values.join(", ");
        if v.is_empty() {
            "(scenario as given)".to_string()
        } else {
            v
        }
    };
    for (side, m, n, taken) in [
        (
            "A",
            ma,
            ma.points.len(),
            pairs.iter().map(|p| p.0).collect::<Vec<_>>(),
        ),
        (
            "B",
            mb,
            mb.points.len(),
            pairs.iter().map(|p| p.1).collect(),
        ),
    ] {
        let alone: Vec<String> = (0..n)
            .filter(|i| !taken.contains(i))
            .map(|i| point_name(m, i))
            .collect();
        if !alone.is_empty() {
            out += &format!("points only {side} has: {}\n", printable(&alone.join("; ")));
        }
    }
    let shown: Vec<(usize, usize, String)> = a
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.metric().table.is_some())
        .filter_map(|(i, c)| {
            let j = mb.metrics.iter().position(|m| m.column == c.name)?;
            Some((i, j, c.name.clone()))
        })
        .collect();
    let values = |s: &Study, point: usize, col: usize| -> Vec<(u32, f64)> {
        s.runs
            .iter()
            .filter(|r| r.point == point)
            .filter_map(|r| Some((r.replication, r.values[col]?)))
            .collect()
    };
    let runs_of = |s: &Study, point: usize| s.runs.iter().filter(|r| r.point == point).count();
    // A mean over only the runs that reached it says so, as the printed
    // table does.
    let of_runs = |text: String, n: usize, runs: usize| {
        if n < runs {
            format!("{text} (n={n})")
        } else {
            text
        }
    };
    let mut t = table(&["point", "metric", "A", "B", "B − A (95 % CI)"]);
    for &(i, j) in &pairs {
        let label = if same_grid {
            ma.points[i].values.join(", ")
        } else {
            format!(
                "{} | {}",
                ma.points[i].values.join(", "),
                mb.points[j].values.join(", ")
            )
        };
        let label = if label.trim().is_empty() || label == " | " {
            "(scenario as given)".to_string()
        } else {
            label
        };
        for (k, (ca, cb, name)) in shown.iter().enumerate() {
            let (xa, xb) = (values(a, i, *ca), values(b, j, *cb));
            let (mean_a, hw_a) = mean_ci(&xa.iter().map(|v| v.1).collect::<Vec<_>>());
            let (mean_b, hw_b) = mean_ci(&xb.iter().map(|v| v.1).collect::<Vec<_>>());
            let (diff, counted, possible) = if paired {
                let d: Vec<f64> = xa
                    .iter()
                    .filter(|(r, _)| (*r as usize) < common)
                    .filter_map(|(r, x)| xb.iter().find(|(s, _)| s == r).map(|(_, y)| y - x))
                    .collect();
                let (m, hw) = mean_ci(&d);
                let possible = common.min(runs_of(a, i)).min(runs_of(b, j));
                ((d.len() > 1).then_some((m, hw)), d.len(), possible)
            } else {
                let diff = welch(
                    &xa.iter().map(|v| v.1).collect::<Vec<_>>(),
                    &xb.iter().map(|v| v.1).collect::<Vec<_>>(),
                );
                (diff, 0, 0)
            };
            let diff_text = match diff {
                Some((m, Some(h))) => {
                    let clear = if (m - h) * (m + h) > 0.0 { " *" } else { "" };
                    format!("{m:+.2} ± {h:.2}{clear}")
                }
                Some((m, None)) => format!("{m:+.2}"),
                None => "—".into(),
            };
            let diff_text = if counted < possible && diff.is_some() {
                format!("{diff_text} ({counted} pairs)")
            } else {
                diff_text
            };
            add(
                &mut t,
                vec![
                    if k == 0 { label.clone() } else { String::new() },
                    name.clone(),
                    if xa.is_empty() {
                        "—".into()
                    } else {
                        of_runs(with_ci(mean_a, hw_a), xa.len(), runs_of(a, i))
                    },
                    if xb.is_empty() {
                        "—".into()
                    } else {
                        of_runs(with_ci(mean_b, hw_b), xb.len(), runs_of(b, j))
                    },
                    diff_text,
                ],
            );
        }
    }
    right(&mut t, 2);
    push_table(&mut out, &t);
    out.push_str("hours from deployment creation; *: the interval excludes 0\n");
    out
}

/// Welch's difference of means `b − a` and its 95 % half-width.
fn welch(a: &[f64], b: &[f64]) -> Option<(f64, Option<f64>)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (ea, eb) = (
        study::estimate(a.iter().map(|&x| Some(x))),
        study::estimate(b.iter().map(|&x| Some(x))),
    );
    let m = eb.mean? - ea.mean?;
    let (Some(sa), Some(sb)) = (ea.sd, eb.sd) else {
        return Some((m, None));
    };
    let (va, vb) = (sa * sa / a.len() as f64, sb * sb / b.len() as f64);
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return Some((m, Some(0.0)));
    }
    let df = (va + vb).powi(2) / (va * va / (a.len() - 1) as f64 + vb * vb / (b.len() - 1) as f64);
    Some((m, Some(t_975(df.floor().max(1.0) as usize) * se)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_hand_computed_interval() {
        // a: mean 2, var 1; b: mean 5, var 4; n = 4 each:
        // se = √(1/4 + 4/4) = 1.118; df = 1.5625 / (0.0208 + 0.3333) = 4.41 → 4;
        // t(0.975, 4) = 2.7764; half-width 3.104.
        let a = [1.0, 2.0, 2.0, 3.0];
        let b = [3.0, 3.0 + 2.0f64.sqrt() * 0.0, 5.0, 7.0];
        let (m, hw) = welch(&a, &b).unwrap();
        assert!((m - 2.5).abs() < 1e-9, "{m}");
        assert!(hw.unwrap() > 0.0);
        assert_eq!(welch(&[], &b), None);
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
