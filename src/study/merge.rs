//! Merging partial studies: reading shard directories back and joining
//! them into the study an unsharded sweep would have written.
//!
//! Owns the checks that the shards belong together: the same tool version,
//! scenario hash, seed, grid, replications and metrics, the same number of
//! shards, each shard exactly once and each holding exactly its runs. The
//! merged study is built from the same data as an unsharded one and written
//! by the same code, so its files are the same bytes.

use std::fs;
use std::path::Path;

use super::files::{STUDY_FILE, parse_runs_csv};
use super::metrics::metric_index;
use super::{Manifest, Shard, Study};
use crate::error::{Error, StudyError};

fn read_text(path: &Path) -> Result<String, StudyError> {
    fs::read_to_string(path).map_err(|source| StudyError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a study directory written by `patchsim sweep` (whole or a shard).
pub fn read(dir: &Path) -> Result<Study, Error> {
    let manifest_path = dir.join(STUDY_FILE);
    if !manifest_path.exists() {
        return Err(StudyError::Corrupt {
            path: dir.display().to_string(),
            message: format!(
                "no {STUDY_FILE}: not a study directory, or its `patchsim sweep` did not finish"
            ),
        }
        .into());
    }
    let text = read_text(&manifest_path)?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| StudyError::Corrupt {
        path: manifest_path.display().to_string(),
        message: format!("not a study manifest: {e}"),
    })?;
    if let Some(c) = manifest
        .metrics
        .iter()
        .find(|c| metric_index(&c.metric).is_none())
    {
        return Err(StudyError::Corrupt {
            path: manifest_path.display().to_string(),
            message: format!(
                "unknown metric '{}'; it was written by another version of patchsim ({})",
                c.metric, manifest.version
            ),
        }
        .into());
    }
    let runs_path = dir.join("runs.csv");
    let runs = parse_runs_csv(&runs_path, &read_text(&runs_path)?, &manifest)?;
    let scenario_ron = read_text(&dir.join("scenario.ron"))?;
    let shard = manifest.shard.unwrap_or(Shard { index: 1, count: 1 });
    let expected = (0..manifest.runs).filter(|&i| shard.contains(i)).count();
    let mut ids: Vec<usize> = runs
        .iter()
        .map(|r| r.point * manifest.replications as usize + r.replication as usize)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != runs.len() || runs.len() != expected || ids.iter().any(|&i| !shard.contains(i))
    {
        return Err(StudyError::Corrupt {
            path: runs_path.display().to_string(),
            message: format!(
                "holds {} run{} but shard {shard} of this study has {expected}, each once; \
                 run the shard again",
                runs.len(),
                if runs.len() == 1 { "" } else { "s" }
            ),
        }
        .into());
    }
    Ok(Study {
        manifest,
        runs,
        scenario_ron,
    })
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
    let count = first.manifest.shard.map_or(1, |s| s.count) as usize;
    let mut by_index: Vec<Option<&Path>> = vec![None; count];
    for (part, dir) in parts.iter().zip(dirs) {
        let shard = part.manifest.shard.unwrap_or(Shard { index: 1, count: 1 });
        let slot = &mut by_index[shard.index as usize - 1];
        if let Some(other) = slot {
            return Err(merge_err(format!(
                "shard {shard} is given twice: {} and {}; give each shard once",
                other.display(),
                dir.display()
            )));
        }
        *slot = Some(dir);
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| by_index[i].is_none())
        .map(|i| format!("{}/{count}", i + 1))
        .collect();
    if !missing.is_empty() {
        return Err(merge_err(format!(
            "shard{} {} missing; give the directories of all {count} shards",
            if missing.len() == 1 { "" } else { "s" },
            if missing.len() == 1 {
                format!("{} is", missing[0])
            } else {
                format!("{} are", missing.join(", "))
            }
        )));
    }
    let mut parts = parts.into_iter();
    let mut whole = parts.next().expect("at least one");
    for part in parts {
        whole.runs.extend(part.runs);
    }
    whole.runs.sort_by_key(|r| (r.point, r.replication));
    whole.manifest.shard = None;
    whole.manifest.files = Vec::new();
    Ok(whole)
}
