//! Merging partial studies: reading shard directories back and joining
//! them into the study an unsharded sweep would have written.
//!
//! Owns the checks that the shards belong together: the same tool version,
//! scenario hash, seed, grid, replications and metrics, the same number of
//! shards, each shard exactly once and each holding exactly its runs. The
//! merged study is built from the same data as an unsharded one and written
//! by the same code, so its files are the same bytes.

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::Path;

use super::files::{STUDY_FILE, parse_runs_csv};
use super::{Manifest, Shard, Study};
use crate::error::{Error, StudyError};
use crate::scenario;

/// Reads a study file; a cap refuses a device or a runaway file instead
/// of reading it until memory runs out.
fn read_text(path: &Path) -> Result<String, StudyError> {
    const MAX_BYTES: u64 = 1 << 30;
    let mut text = String::new();
    fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES + 1).read_to_string(&mut text))
        .and_then(|n| {
            if n as u64 > MAX_BYTES {
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "more than 1 GB; not a file patchsim wrote",
                ))
            } else {
                Ok(())
            }
        })
        .map_err(|source| StudyError::Read {
            path: path.display().to_string(),
            source,
        })?;
    Ok(text)
}

/// Reads a study directory written by `patchsim sweep` (whole or a shard)
/// and checks every field of its `study.json` and every row of its
/// `runs.csv` with the rules of the command line: the manifest must be the
/// one `sweep` writes for its `scenario.ron`, `--set` lists,
/// `--replications` and `--shard`, and each row one run of it with metrics
/// a run can give. A hand-edited file gives an error that names the file and the
/// field (exit code 2).
pub fn read(dir: &Path) -> Result<Study, Error> {
    let manifest_path = dir.join(STUDY_FILE);
    if !manifest_path.exists() {
        return Err(StudyError::Corrupt {
            path: dir.display().to_string(),
            message: if dir.is_dir() {
                format!(
                    "no {STUDY_FILE}: not a study directory, or its `patchsim sweep` did not \
                     finish"
                )
            } else {
                "no such directory: give the directories `patchsim sweep` wrote".to_string()
            },
        }
        .into());
    }
    let text = read_text(&manifest_path)?;
    let corrupt = |field: &str, message: String| StudyError::Corrupt {
        path: manifest_path.display().to_string(),
        message: if field.is_empty() {
            message
        } else {
            format!("{field}: {message}")
        },
    };
    let mut de = serde_json::Deserializer::from_str(&text);
    let manifest: Manifest = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| {
            let field = e.path().to_string();
            corrupt(
                // ("?": where the text stopped being JSON at all.)
                if field == "." || field == "?" {
                    ""
                } else {
                    &field
                },
                format!("not a study manifest: {}", e.inner()),
            )
        })
        .and_then(|m| de.end().map(|()| m).map_err(|e| corrupt("", e.to_string())))?;
    check_fields(&manifest).map_err(|(field, message)| corrupt(&field, message))?;
    let scenario_path = dir.join("scenario.ron");
    let scenario_ron = read_text(&scenario_path)?;
    let plan = check_against_plan(&manifest, &scenario_ron, &scenario_path)
        .map_err(|(field, message)| corrupt(&field, message))?;
    let runs_path = dir.join("runs.csv");
    let mut runs = parse_runs_csv(&runs_path, &read_text(&runs_path)?, &manifest, &plan.shapes)?;
    // Each row is one run of this shard, given once (`parse_runs_csv`):
    // what else differs is a run left out.
    let shard = manifest.shard.unwrap_or(Shard { index: 1, count: 1 });
    let expected = shard.runs_of(manifest.runs);
    if runs.len() != expected {
        let replications = manifest.replications as usize;
        let mut given: Vec<usize> = (runs.iter())
            .map(|r| r.point * replications + r.replication as usize)
            .collect();
        given.sort_unstable();
        let first = match (0..manifest.runs)
            .find(|&i| shard.contains(i) && given.binary_search(&i).is_err())
        {
            Some(i) => format!(
                " (the first missing: point {}, replication {})",
                i / replications,
                i % replications
            ),
            None => String::new(),
        };
        let whose = match manifest.shard {
            Some(shard) => format!("shard {shard} of this study has"),
            None => "this study has".to_string(),
        };
        return Err(StudyError::Corrupt {
            path: runs_path.display().to_string(),
            message: format!(
                "lacks {} of the {expected} run{} {whose}{first}; it was edited: {}",
                expected.saturating_sub(runs.len()),
                if expected == 1 { "" } else { "s" },
                again(&manifest)
            ),
        }
        .into());
    }
    runs.sort_by_key(|r| (r.point, r.replication));
    let curves_path = dir.join(super::files::CURVES_FILE);
    let curves = super::curves::parse_curves_csv(
        &curves_path,
        &read_text(&curves_path)?,
        manifest.points.len(),
    )?;
    let mut per_point = vec![0u64; manifest.points.len()];
    for r in &runs {
        per_point[r.point] += 1;
    }
    let deployments: Vec<usize> = (plan.shapes.iter())
        .map(|shape| shape.deployments.len())
        .collect();
    if let Some(message) = curves.contradiction(&per_point, &deployments) {
        return Err(StudyError::Corrupt {
            path: curves_path.display().to_string(),
            message: format!(
                "{message}; it was not written by this study's `patchsim sweep`, or was edited"
            ),
        }
        .into());
    }
    let study = Study {
        manifest,
        runs,
        scenario_ron,
        curves,
    };
    let files = super::files::file_names(&study);
    if study.is_whole() {
        let points_path = dir.join(super::files::POINTS_FILE);
        let text = match read_text(&points_path) {
            Ok(text) => Some(text),
            Err(StudyError::Read { source, .. }) if source.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        super::files::check_points_csv(&points_path, text.as_deref(), &study)?;
    }
    if study.manifest.files != files {
        return Err(corrupt(
            "files",
            format!(
                "lists {}, but `sweep` writes {} for this {}; the study was edited, or written by another build of patchsim (sweep it again with this one)",
                quoted(&study.manifest.files),
                quoted(&files),
                if study.is_whole() { "study" } else { "shard" }
            ),
        )
        .into());
    }
    Ok(study)
}

/// What makes the files of a study (`m` its manifest) again: its shard,
/// or the sweep.
fn again(m: &Manifest) -> &'static str {
    match m.shard {
        Some(_) => "run the shard again",
        None => "run the sweep again",
    }
}

/// File names for a message: `[a, b]`, the first few.
fn quoted(names: &[String]) -> String {
    const SHOWN: usize = 6;
    let mut list: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
    let more = names.len().saturating_sub(SHOWN);
    let more = format!("{more} more");
    if names.len() > SHOWN {
        list.push(&more);
    }
    format!("[{}]", list.join(", "))
}

/// The checks of a manifest that need nothing else, with the field at
/// fault: those `sweep`'s flags get.
fn check_fields(m: &Manifest) -> Result<(), (String, String)> {
    let fail = |field: &str, message: String| Err((field.to_string(), message));
    if m.tool != "patchsim" {
        return fail("tool", format!("is '{}', not 'patchsim'", m.tool));
    }
    if m.version != crate::VERSION {
        return fail(
            "version",
            format!(
                "the study was written by patchsim {}, this is {}; merge with the version \
                 that ran the sweep",
                m.version,
                crate::VERSION
            ),
        );
    }
    if !(1..=super::MAX_REPLICATIONS).contains(&m.replications) {
        return fail(
            "replications",
            format!(
                "must be between 1 and {}, got {}",
                super::MAX_REPLICATIONS,
                m.replications
            ),
        );
    }
    if let Some(s) = m.shard
        && let Err(e) = s.to_string().parse::<Shard>()
    {
        return fail("shard", e);
    }
    for (i, p) in m.grid.iter().enumerate() {
        match p.to_string().parse::<super::Param>() {
            Ok(q) if q == *p => {}
            Ok(_) => {
                return fail(
                    &format!("grid[{i}]"),
                    "is not a --set argument read back".to_string(),
                );
            }
            Err(e) => return fail(&format!("grid[{i}]"), e),
        }
    }
    if let Err(path) = super::Grid::new(m.grid.clone()) {
        return fail("grid", format!("the path {path} is given twice"));
    }
    let points = m
        .grid
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
        .filter(|&n| n <= super::MAX_POINTS);
    let Some(points) = points else {
        return fail(
            "grid",
            format!("makes more than {} points", super::MAX_POINTS),
        );
    };
    if m.points.len() != points {
        return fail(
            "points",
            format!("lists {} points; the grid has {points}", m.points.len()),
        );
    }
    let runs = points.saturating_mul(m.replications as usize);
    if runs > super::MAX_RUNS {
        return fail(
            "replications",
            format!("make {runs} runs; at most {} are allowed", super::MAX_RUNS),
        );
    }
    if m.runs != runs {
        return fail(
            "runs",
            format!(
                "is {}; {points} points × {} replications make {runs}",
                m.runs, m.replications
            ),
        );
    }
    if m.replication_seeds.len() != m.replications as usize {
        return fail(
            "replication_seeds",
            format!(
                "lists {} seeds for {} replications",
                m.replication_seeds.len(),
                m.replications
            ),
        );
    }
    Ok(())
}

/// Rebuilds the study's plan from its `scenario.ron` (`path`, `text`), its
/// grid and replications, as `sweep` does, and checks that the manifest is
/// the one `sweep` would write: the first field that differs. Returns the
/// plan.
fn check_against_plan(
    m: &Manifest,
    text: &str,
    path: &Path,
) -> Result<super::Plan, (String, String)> {
    let origin = path.display().to_string();
    let not_this = |what: &str| {
        format!(
            "does not match {what} in {origin}; the study was edited, or written by another build of patchsim (sweep it again with this one)"
        )
    };
    let raw = scenario::parse(text.strip_prefix('\u{feff}').unwrap_or(text), &origin)
        .map_err(|e| (String::new(), format!("its scenario does not read: {e}")))?;
    let plan = super::plan_of(raw, origin.clone(), m.grid.clone(), m.replications)
        .map_err(|e| ("grid".to_string(), e.to_string()))?;
    let expected = Study::new(&plan, m.shard, Vec::new()).manifest;
    let field = if m.scenario != expected.scenario {
        "scenario"
    } else if m.scenario_hash != expected.scenario_hash {
        "scenario_hash"
    } else if m.seed != expected.seed {
        "seed"
    } else if m.seed_derivation != expected.seed_derivation {
        "seed_derivation"
    } else if m.replication_seeds != expected.replication_seeds {
        "replication_seeds"
    } else if let Some(i) = (0..m.points.len()).find(|&i| m.points[i] != expected.points[i]) {
        return Err((
            format!("points[{i}]"),
            not_this("the grid point's scenario"),
        ));
    } else if let Some(i) = (0..m.metrics.len().max(expected.metrics.len()))
        .find(|&i| m.metrics.get(i) != expected.metrics.get(i))
    {
        return Err((
            format!("metrics[{i}]"),
            not_this("the metrics of the scenario"),
        ));
    } else {
        return Ok(plan);
    };
    Err((field.to_string(), not_this("the scenario")))
}

/// The first way two manifests differ as studies (their shard aside).
fn difference(a: &Manifest, b: &Manifest) -> Option<String> {
    let differs = |what: &str, x: String, y: String| (x != y).then(|| format!("{what} {x} vs {y}"));
    let grid = |m: &Manifest| {
        if m.grid.is_empty() {
            return "no --set".to_string();
        }
        let sets: Vec<String> = m.grid.iter().map(|p| format!("--set {p}")).collect();
        format!("`{}`", sets.join(" "))
    };
    differs("version", a.version.clone(), b.version.clone())
        .or_else(|| {
            differs(
                "scenario hash",
                a.scenario_hash.clone(),
                b.scenario_hash.clone(),
            )
        })
        .or_else(|| differs("seed", a.seed.to_string(), b.seed.to_string()))
        .or_else(|| differs("grid", grid(a), grid(b)))
        .or_else(|| {
            differs(
                "replications",
                a.replications.to_string(),
                b.replications.to_string(),
            )
        })
        .or_else(|| (a.points != b.points).then(|| "point scenarios".to_string()))
        .or_else(|| (a.metrics != b.metrics).then(|| "metrics".to_string()))
        .or_else(|| {
            let count = |m: &Manifest| m.shard.map_or(1, |s| s.count);
            differs("shard count", count(a).to_string(), count(b).to_string())
        })
}

/// Joins the shards of one study (`dirs` name them in messages) into the
/// whole study, or says why they do not make one.
pub fn merge(parts: Vec<Study>, dirs: &[&Path]) -> Result<Study, Error> {
    assert_eq!(parts.len(), dirs.len(), "one directory per part");
    let merge_err = |m: String| Error::from(StudyError::Merge(m));
    let Some(first) = parts.first() else {
        return Err(merge_err(
            "nothing to merge: name the shard directories".into(),
        ));
    };
    for (part, dir) in parts.iter().zip(dirs).skip(1) {
        if let Some(d) = difference(&first.manifest, &part.manifest) {
            return Err(merge_err(format!(
                "{} and {} are not shards of the same study ({d}); merge only the shards \
                 written by one `patchsim sweep` command",
                dirs[0].display(),
                dir.display()
            )));
        }
        if part.scenario_ron != first.scenario_ron {
            return Err(merge_err(format!(
                "{} and {} hold different scenario.ron files; run the shards again",
                dirs[0].display(),
                dir.display()
            )));
        }
    }
    if parts.len() > 1 && parts.iter().all(|p| p.manifest.shard.is_none()) {
        return Err(merge_err(format!(
            "{} and {} are whole studies, not shards: there is nothing to merge (`patchsim \
             diff` compares two studies)",
            dirs[0].display(),
            dirs[1].display()
        )));
    }
    let count = first.manifest.shard.map_or(1, |s| s.count);
    // By index, not a slot per shard: a count is any u32.
    let mut by_index: std::collections::BTreeMap<u32, &Path> = std::collections::BTreeMap::new();
    for (part, dir) in parts.iter().zip(dirs) {
        let shard = part.manifest.shard.unwrap_or(Shard { index: 1, count: 1 });
        if let Some(other) = by_index.insert(shard.index, dir) {
            return Err(merge_err(format!(
                "shard {shard} is given twice: {} and {}; give each shard once",
                other.display(),
                dir.display()
            )));
        }
    }
    let missing_count = count as usize - by_index.len();
    if missing_count > 0 {
        let shown: Vec<String> = (1..=count)
            .filter(|i| !by_index.contains_key(i))
            .take(5)
            .map(|i| format!("{i}/{count}"))
            .collect();
        let list = if missing_count > shown.len() {
            format!(
                "{} and {} more are",
                shown.join(", "),
                missing_count - shown.len()
            )
        } else if shown.len() == 1 {
            format!("{} is", shown[0])
        } else {
            format!("{} are", shown.join(", "))
        };
        return Err(merge_err(format!(
            "shard{} {list} missing; give the directories of all {count} shards",
            if missing_count == 1 { "" } else { "s" },
        )));
    }
    let mut parts = parts.into_iter();
    let mut whole = parts.next().expect("at least one");
    for (part, dir) in parts.zip(&dirs[1..]) {
        if !whole.curves.same_grid(&part.curves) {
            return Err(merge_err(format!(
                "{}: its curves.csv samples a point at other times, or for other clients, \
                 than the shards before it do; one of them was edited: run them again",
                dir.display()
            )));
        }
        whole.runs.extend(part.runs);
        whole.curves.add(&part.curves);
    }
    whole.runs.sort_by_key(|r| (r.point, r.replication));
    whole.manifest.shard = None;
    whole.manifest.files = Vec::new();
    Ok(whole)
}
