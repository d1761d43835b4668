//! The commands that run many estates, or read many studies, into one
//! directory: `sweep`, `merge` and `size`. Each is shaped like
//! [`super::run_to_dir`]: the output directory is checked and locked
//! first, the files are written into a fresh directory beside it, a hook
//! is called (to print what was made) and the whole is put in place with
//! one rename. A command that fails or is interrupted writes nothing and
//! leaves the directory as it was.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;

use crate::error::Error;
use crate::output::{Kind, Staging};
use crate::size::{self, Evaluation, Sizing};
use crate::study::{self, Plan, Shard, Study};

/// Called with what a command made and the files once every file is
/// written, before the output is put in place (to print it): its error
/// leaves the output directory as it was.
pub type BeforeCommitOf<'a, T> = Box<dyn FnOnce(&T, &[PathBuf]) -> Result<(), Error> + 'a>;

/// What a user asked of a sweep besides its plan and its output.
pub struct SweepRequest<'a> {
    /// Only this shard's runs (a partial study); `None`: every run.
    pub shard: Option<Shard>,
    /// Worker threads.
    pub jobs: usize,
    /// Stop between two events once this holds a signal's number (0: none
    /// yet); checked again before the output is put in place.
    pub interrupt: Option<&'a AtomicUsize>,
    /// Told each time a run ends.
    pub done: &'a (dyn Fn() + Sync),
    /// Told, before anything runs, why fewer runs than `jobs` will go side
    /// by side, if it is for lack of memory.
    pub note: Option<&'a dyn Fn(&str)>,
    /// See [`BeforeCommitOf`].
    pub before_commit: Option<BeforeCommitOf<'a, Study>>,
}

/// Runs `plan` (made from the file `scenario`, which the output must not
/// replace) and writes the study into `dir`, all at once. `dir` is locked
/// before the first run. Returns the study and the files written.
pub fn sweep_to_dir(
    plan: &Plan,
    scenario: &Path,
    dir: &Path,
    request: SweepRequest<'_>,
) -> Result<(Study, Vec<PathBuf>), Error> {
    let mut staging = Staging::begin(dir, Kind::Study, false, &[scenario])?;
    let runs = plan.run_ids(request.shard).len();
    if let (Some(note), (_, Some(text))) = (request.note, plan.workers(request.jobs, runs)) {
        note(&text);
    }
    let result = study::run_stoppable(
        plan,
        request.shard,
        request.jobs,
        request.done,
        request.interrupt,
    )?;
    let files = study::write_into(&mut staging, &result)?;
    commit(
        staging,
        &result,
        &files,
        request.interrupt,
        request.before_commit,
    )?;
    Ok((result, files))
}

/// Merges the studies (shards) in `dirs` into one and writes it into
/// `dir`, all at once. `dir` is locked before any of `dirs` is read, and
/// must not be one of them. Returns the study and the files written.
pub fn merge_to_dir(
    dirs: &[PathBuf],
    dir: &Path,
    interrupt: Option<&AtomicUsize>,
    before_commit: Option<BeforeCommitOf<'_, Study>>,
) -> Result<(Study, Vec<PathBuf>), Error> {
    let names: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let mut staging = Staging::begin(dir, Kind::Study, false, &names)?;
    let parts = (dirs.iter())
        .map(|d| study::read(d))
        .collect::<Result<Vec<_>, _>>()?;
    let whole = study::merge(parts, &names)?;
    let files = study::write_into(&mut staging, &whole)?;
    commit(staging, &whole, &files, interrupt, before_commit)?;
    Ok((whole, files))
}

/// Searches for the cheapest configuration that meets the goals
/// ([`size::size`], `done` told of each configuration run) and, with a
/// `dir`, writes the sizing into it, all at once; `dir` is locked before
/// the search. `before_commit` is called with or without a `dir` (with no
/// files without one). Returns the sizing and the files written.
pub fn size_to_dir(
    request: &size::Request<'_>,
    dir: Option<&Path>,
    done: &(dyn Fn(&Evaluation) + Sync),
    before_commit: Option<BeforeCommitOf<'_, Sizing>>,
) -> Result<(Sizing, Vec<PathBuf>), Error> {
    let mut staging = match dir {
        Some(dir) => Some(Staging::begin(dir, Kind::Size, false, &[request.scenario])?),
        None => None,
    };
    let sizing = size::size(request, done)?;
    let mut files = Vec::new();
    if let Some(staging) = &mut staging {
        let estate = super::load(
            Some(request.scenario),
            super::FieldFlags::default(),
            request.sets,
        )?;
        files = size::write_into(staging, &sizing, &estate)?;
    }
    match staging {
        Some(staging) => commit(staging, &sizing, &files, request.stop, before_commit)?,
        None => {
            if let Some(before) = before_commit {
                before(&sizing, &files)?;
            }
        }
    }
    Ok((sizing, files))
}

/// Calls `before` (if any), then puts the staged output in place unless a
/// signal came.
fn commit<T>(
    staging: Staging,
    made: &T,
    files: &[PathBuf],
    interrupt: Option<&AtomicUsize>,
    before: Option<BeforeCommitOf<'_, T>>,
) -> Result<(), Error> {
    if let Some(before) = before {
        before(made, files)?;
    }
    staging.commit(interrupt)
}
