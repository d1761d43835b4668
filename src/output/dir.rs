//! The output directory of a command that writes (`run`, `sweep`,
//! `merge`): which directories it may write into, the lock that keeps a
//! second command out, and how the files arrive there all at once.
//!
//! Owns the guard (a new or empty directory, or an earlier output of the
//! same kind that holds only its own files; never an input of the command,
//! nor inside another output or a directory another command holds), the
//! lock, and the staging: every file is written into a fresh directory
//! beside `--out` (created by `mkdir`, so a name planted there is never
//! followed), synced, and the whole directory is swapped in with one
//! rename. Until that rename `--out` holds the earlier output, untouched;
//! after it, the whole new one. A [`Staging`] dropped without
//! [`Staging::commit`] removes what it wrote, and the parent directories
//! it made for it. Knows nothing of formats.
//!
//! Files beside `--out` (for `--out DIR`): `.DIR.patchsim-lock` while a
//! command holds the directory, `.DIR.patchsim-new-XXXXXX` while it writes
//! (`DIR` shortened and hashed if it is too long for these; see
//! [`side_name`]).
//! A process killed outright (`kill -9`, a power cut) can leave the
//! staging directory behind; the next command into `DIR` removes it.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fs::{Access, CWD, FlockOperation, RenameFlags};
use rustix::io::Errno;

use crate::error::{During, Error};

/// What a command writes, and so which directories it may replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `patchsim run`: `summary.json` marks it.
    Run,
    /// `patchsim sweep` and `merge`: `study.json` marks it.
    Study,
    /// `patchsim size`: `size.json` marks it.
    Size,
}

impl Kind {
    /// The file whose `"tool": "patchsim"` marks an output of this kind.
    fn marker(self) -> &'static str {
        match self {
            Kind::Run => "summary.json",
            Kind::Study => "study.json",
            Kind::Size => "size.json",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Run => "a patchsim run's output",
            Kind::Study => "a patchsim study",
            Kind::Size => "a patchsim sizing",
        }
    }

    /// Whether a file of this name is one this kind of output writes (or
    /// an older patchsim's leftover `.NAME.tmp`).
    fn owns(self, name: &str) -> bool {
        let svg = |prefixes: &[&str]| {
            name.ends_with(".svg") && prefixes.iter().any(|p| name.starts_with(p))
        };
        (name.starts_with('.') && name.ends_with(".tmp"))
            || match self {
                Kind::Run => {
                    matches!(
                        name,
                        "compliance.csv"
                            | "updates.csv"
                            | "load.csv"
                            | "summary.json"
                            | "scenario.ron"
                            | "report.html"
                            | "trace.jsonl"
                    ) || svg(&["compliance-", "states-", "load-"])
                }
                Kind::Study => {
                    matches!(
                        name,
                        "runs.csv"
                            | "points.csv"
                            | "curves.csv"
                            | "study.json"
                            | "scenario.ron"
                            | "report.html"
                    ) || svg(&["chart-", "curves-"])
                }
                Kind::Size => {
                    matches!(
                        name,
                        "size.csv" | "size.json" | "size.html" | "scenario.ron"
                    )
                }
            }
    }

    /// The other kinds.
    fn others(self) -> impl Iterator<Item = Kind> {
        [Kind::Run, Kind::Study, Kind::Size]
            .into_iter()
            .filter(move |k| *k != self)
    }
}

/// How the new files reach `--out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arrival {
    /// `--out` does not exist: the staging directory is renamed to it.
    Create,
    /// `--out` is empty or an earlier output of the same kind: the two
    /// directories are exchanged in one rename, then the old one removed.
    Swap,
    /// `--out` cannot be replaced (it holds someone else's files and
    /// `--force` was given, or it is a mount point): the files are moved
    /// in one by one once all are written.
    Files,
}

/// A lock on one output directory, held until dropped.
#[derive(Debug)]
struct Lock {
    file: fs::File,
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Unlinked while still held: a command that opened the old file
        // and gets the lock after us sees that the name is gone and
        // tries again (see `Lock::take`).
        let _ = fs::remove_file(&self.path);
        let _ = &self.file;
    }
}

impl Lock {
    /// Takes the lock at `path` without waiting; `out` names the directory
    /// in messages.
    fn take(path: &Path, out: &Path) -> Result<Lock, Error> {
        let io = |source| Error::Output {
            path: path.display().to_string(),
            source,
        };
        for _ in 0..100 {
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(path)
                .map_err(|e| {
                    if e.raw_os_error() == Some(libc::ELOOP) {
                        refuse(
                            out,
                            format!(
                                "{} is a symbolic link, not patchsim's lock; remove it",
                                path.display()
                            ),
                        )
                    } else {
                        io(e)
                    }
                })?;
            match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(Errno::WOULDBLOCK) => {
                    return Err(refuse(
                        out,
                        format!(
                            "another patchsim command is writing into this directory (it holds \
                             the lock {}); wait for it to finish, or choose another --out directory",
                            path.display()
                        ),
                    ));
                }
                Err(e) => return Err(io(e.into())),
            }
            // The holder we raced with may have unlinked the file after we
            // opened it: the lock counts only if the name is still ours.
            let held = file.metadata().map_err(io)?;
            match fs::symlink_metadata(path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => {
                    return Ok(Lock {
                        file,
                        path: path.to_path_buf(),
                    });
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Err(refuse(
            out,
            "other patchsim commands keep taking this directory's lock; try again".to_string(),
        ))
    }
}

fn refuse(out: &Path, reason: String) -> Error {
    Error::NotAnOutputDir {
        path: out.display().to_string(),
        reason,
    }
}

/// A new output being written: a fresh directory beside `--out` (inside
/// it, for a mount point), the lock on `--out`, and what was written.
/// Dropped without [`commit`](Staging::commit), it removes its directory
/// and leaves `--out` as it was.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    shown: PathBuf,
    tmp: Option<tempfile::TempDir>,
    arrival: Arrival,
    kind: Kind,
    /// `--out` held nothing but an earlier output of this kind.
    earlier_is_own: bool,
    names: Vec<String>,
    lock: Option<Lock>,
    /// The parent directories `begin` made, removed again if the output
    /// never arrives.
    created: CreatedParents,
}

/// The canonical form of a path that may not exist yet (nor its parents):
/// its parent's canonical form and its name. `None` for a path without a
/// name (`/`, `..`).
fn canonical(path: &Path) -> std::io::Result<Option<PathBuf>> {
    match fs::canonicalize(path) {
        Ok(p) => return Ok(Some(p)),
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let Some(name) = path.file_name() else {
        return Ok(None);
    };
    if fs::symlink_metadata(path).is_ok() {
        // A symbolic link to nothing.
        return Err(std::io::Error::new(
            ErrorKind::NotFound,
            "a symbolic link to nothing",
        ));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(canonical(&parent)?.map(|p| p.join(name)))
}

impl Staging {
    /// Checks that `kind`'s output may go to `out` and starts writing it:
    /// refuses (exit code 2) a directory that holds anything but an
    /// earlier output of this kind (unless `force`: then the files are
    /// written beside what is there, but never beside an output of
    /// another kind), a directory another command holds,
    /// a directory that is, holds or lies inside one of `inputs`, and one
    /// that lies inside another patchsim output or inside a directory
    /// another command holds. Creates `out`'s missing parent directories
    /// (removed again if the output never arrives).
    pub fn begin(out: &Path, kind: Kind, force: bool, inputs: &[&Path]) -> Result<Staging, Error> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Output { path, source }
        };
        let real = match canonical(out) {
            Ok(Some(real)) => real,
            Ok(None) => {
                return Err(refuse(
                    out,
                    "names no directory patchsim can create or replace; choose another --out \
                     directory, e.g. --out out"
                        .to_string(),
                ));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(refuse(
                    out,
                    "is a symbolic link to nothing; remove it, or choose another --out directory"
                        .to_string(),
                ));
            }
            Err(e) => return Err(io(out)(e)),
        };
        if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize)
            && cwd.starts_with(&real)
        {
            return Err(refuse(
                out,
                "is the current directory or holds it; patchsim replaces the output directory \
                 whole, so choose a directory below it, e.g. --out out"
                    .to_string(),
            ));
        }
        for input in inputs {
            let Ok(Some(input_real)) = canonical(input) else {
                continue;
            };
            let how = if input_real == real {
                "is"
            } else if input_real.starts_with(&real) {
                "holds"
            } else if real.starts_with(&input_real) {
                "lies inside"
            } else {
                continue;
            };
            return Err(refuse(
                out,
                format!(
                    "--out {how} {}, an input of this command, which the output must not \
                     replace or mix with; choose another --out directory",
                    input.display()
                ),
            ));
        }
        check_enclosing(out, &real)?;
        let parent = real
            .parent()
            .expect("a canonical path with a name")
            .to_path_buf();
        let created = CreatedParents::create(&parent).map_err(io(&parent))?;
        let name = real
            .file_name()
            .expect("a canonical path with a name")
            .to_string_lossy()
            .into_owned();
        let meta = fs::metadata(&real).ok();
        if meta.as_ref().is_some_and(|m| !m.is_dir()) {
            return Err(refuse(
                out,
                "exists and is not a directory; choose another --out directory".to_string(),
            ));
        }
        // A mount point cannot be renamed, and the files must be staged on
        // its own file system: inside it.
        let mount = match (&meta, fs::metadata(&parent)) {
            (Some(m), Ok(p)) => m.dev() != p.dev(),
            _ => false,
        };
        let (lock_path, stage_in, prefix) = if mount {
            (
                real.join(".patchsim-lock"),
                real.clone(),
                ".patchsim-new-".to_string(),
            )
        } else {
            let side = side_name(&name);
            (
                parent.join(format!(".{side}.patchsim-lock")),
                parent.clone(),
                format!(".{side}.patchsim-new-"),
            )
        };
        let lock = Lock::take(&lock_path, out)?;
        remove_stale(&stage_in, &prefix, (!mount).then_some(real.as_path()));
        // Looked at again under the lock: another command may have put its
        // output in place since.
        let meta = fs::metadata(&real).ok();
        if meta.as_ref().is_some_and(|m| !m.is_dir()) {
            return Err(refuse(
                out,
                "exists and is not a directory; choose another --out directory".to_string(),
            ));
        }
        let (arrival, earlier_is_own) = match meta {
            None => (Arrival::Create, true),
            Some(_) => match check_contents(out, &real, kind, force, mount)? {
                true if !mount => (Arrival::Swap, true),
                own => (Arrival::Files, own),
            },
        };
        // The earlier output's files go when the new output is in place:
        // that takes a directory this process may change.
        if arrival != Arrival::Create
            && let Err(e) = rustix::fs::access(&real, Access::WRITE_OK | Access::EXEC_OK)
        {
            return Err(refuse(
                out,
                format!(
                    "holds an earlier output that cannot be replaced: the directory is not \
                     writable ({}); make it writable (chmod u+w) or choose another --out \
                     directory",
                    std::io::Error::from(e)
                ),
            ));
        }
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .rand_bytes(6)
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .tempdir_in(&stage_in)
            .map_err(io(&stage_in))?;
        Ok(Staging {
            out: real,
            shown: out.to_path_buf(),
            tmp: Some(tmp),
            arrival,
            kind,
            earlier_is_own,
            names: Vec::new(),
            lock: Some(lock),
            created,
        })
    }

    /// The directory the files are written into until the commit.
    pub fn path(&self) -> &Path {
        self.tmp.as_ref().expect("staging until committed").path()
    }

    /// Where a file of this name will be once committed (as the user
    /// named `--out`).
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.shown.join(name)
    }

    /// Writes one file whole and syncs it; returns where it will be.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
        let shown = self.final_path(name);
        let io = |source| Error::Output {
            path: shown.display().to_string(),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.path().join(name))
            .map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        self.names.push(name.to_string());
        Ok(shown)
    }

    /// Writes one file with `write`, through a buffer, and syncs it;
    /// returns where it will be.
    pub fn write_with(
        &mut self,
        name: &str,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<PathBuf, Error> {
        let shown = self.final_path(name);
        let io = |source| Error::Output {
            path: shown.display().to_string(),
            source,
        };
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.path().join(name))
            .map_err(io)?;
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, file);
        write(&mut buffered).map_err(io)?;
        let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        self.names.push(name.to_string());
        Ok(shown)
    }

    /// Counts a file that another writer wrote (and synced) into
    /// [`path`](Staging::path); returns where it will be.
    pub fn adopt(&mut self, name: &str) -> PathBuf {
        self.names.push(name.to_string());
        self.final_path(name)
    }

    /// Puts the new output in place, unless `interrupt` holds a signal's
    /// number (then nothing is written and the error says so). `--out`
    /// holds the earlier output until one rename swaps the new one in.
    pub fn commit(mut self, interrupt: Option<&AtomicUsize>) -> Result<(), Error> {
        let placed = self.put_in_place(interrupt);
        if placed.is_ok() {
            self.created.keep();
        }
        placed
    }

    fn put_in_place(&mut self, interrupt: Option<&AtomicUsize>) -> Result<(), Error> {
        let signal = interrupt.map_or(0, |f| f.load(Ordering::Relaxed));
        if signal != 0 {
            return Err(Error::Interrupted {
                signal: signal as i32,
                during: During::Writing,
            });
        }
        let tmp = self.tmp.take().expect("staging until committed");
        let out = self.out.clone();
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Output { path, source }
        };
        sync_dir(tmp.path()).map_err(io(tmp.path()))?;
        let parent = out.parent().expect("a canonical path with a name");
        match self.arrival {
            Arrival::Create => {
                rename(tmp.path(), &out, RenameFlags::NOREPLACE).map_err(io(&self.shown))?;
                // The staging directory is the output now: keep it.
                let _ = tmp.keep();
                sync_dir(parent).map_err(io(parent))?;
            }
            Arrival::Swap => {
                match rename(tmp.path(), &out, RenameFlags::EXCHANGE) {
                    // The staging name now holds the earlier output, which
                    // dropping `tmp` removes.
                    Ok(()) => sync_dir(parent).map_err(io(parent))?,
                    Err(e) if unsupported(&e) => {
                        self.swap_in_two_steps(tmp)?;
                        return Ok(());
                    }
                    Err(e) => return Err(io(&self.shown)(e)),
                }
            }
            Arrival::Files => {
                // A directory in a file's place would stop the moves half
                // way: refuse before the first.
                for name in &self.names {
                    let target = out.join(name);
                    if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                        return Err(io(&self.final_path(name))(std::io::Error::other(
                            "a directory of that name is in the way (nothing was written); \
                             move it and run again",
                        )));
                    }
                }
                for name in &self.names {
                    fs::rename(tmp.path().join(name), out.join(name))
                        .map_err(io(&self.final_path(name)))?;
                }
                if self.earlier_is_own {
                    self.remove_earlier_files(&out);
                }
                sync_dir(&out).map_err(io(&out))?;
            }
        }
        Ok(())
    }

    /// Without an atomic exchange (some file systems): the earlier output
    /// is renamed aside, the new one renamed in, the earlier one removed.
    /// A crash between the two renames leaves the earlier output aside
    /// under the staging name's `-old-` twin, which the next command into
    /// `--out` puts back.
    fn swap_in_two_steps(&self, tmp: tempfile::TempDir) -> Result<(), Error> {
        let out = &self.out;
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Output { path, source }
        };
        let staged = tmp.path().to_path_buf();
        let aside = PathBuf::from(staged.to_string_lossy().replacen(
            ".patchsim-new-",
            ".patchsim-old-",
            1,
        ));
        rename(out, &aside, RenameFlags::NOREPLACE).map_err(io(&self.shown))?;
        if let Err(e) = rename(&staged, out, RenameFlags::NOREPLACE) {
            let _ = rename(&aside, out, RenameFlags::NOREPLACE);
            return Err(io(&self.shown)(e));
        }
        let _ = tmp.keep();
        let parent = out.parent().expect("a canonical path with a name");
        sync_dir(parent).map_err(io(parent))?;
        let _ = fs::remove_dir_all(&aside);
        Ok(())
    }

    /// After the files were moved in one by one: the earlier output's
    /// files that the new output does not have (a chart of a deployment
    /// the scenario no longer has) are removed, so the directory holds one
    /// output. Files of other names are left alone.
    fn remove_earlier_files(&self, out: &Path) {
        let Ok(entries) = fs::read_dir(out) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && self.kind.owns(&name) && !self.names.contains(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // The staging directory goes first (its `TempDir` removes it), then
        // the lock, then the parents made for them (the `CreatedParents`
        // field, dropped after this).
        self.tmp.take();
        self.lock.take();
    }
}

/// The parent directories of `--out` that a command made: removed when it
/// is dropped (a command that failed or was interrupted), each only if it
/// is still empty, deepest first, unless [`keep`](CreatedParents::keep)
/// was called once the output arrived.
#[derive(Debug, Default)]
struct CreatedParents(Vec<PathBuf>);

impl CreatedParents {
    /// Creates `dir` and its missing parents, and remembers which it made.
    fn create(dir: &Path) -> std::io::Result<CreatedParents> {
        let missing: Vec<PathBuf> = (dir.ancestors())
            .take_while(|d| fs::symlink_metadata(d).is_err())
            .map(Path::to_path_buf)
            .collect();
        let created = CreatedParents(missing);
        fs::create_dir_all(dir)?;
        Ok(created)
    }

    fn keep(&mut self) {
        self.0.clear();
    }
}

impl Drop for CreatedParents {
    fn drop(&mut self) {
        // Deepest first; `remove_dir` leaves a directory that anything
        // (another command's lock, a user's file) has entered since.
        for dir in &self.0 {
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// Refuses an `--out` (`real` its canonical path) that lies inside a
/// patchsim output (a run's, a study's, a sizing's) or inside a directory
/// another patchsim command holds the lock of: the command that owns that
/// directory replaces it whole, so the new output would vanish with it,
/// or, left there, would be a file patchsim did not write in that output
/// and make the next command into it refuse it. Checked once, before
/// anything is made; a command that takes an enclosing directory's lock
/// after this check fails at its own rename instead of removing this
/// output.
fn check_enclosing(out: &Path, real: &Path) -> Result<(), Error> {
    for dir in real.ancestors().skip(1) {
        let (Some(name), Some(parent)) = (dir.file_name(), dir.parent()) else {
            break;
        };
        let shown = || shown_ancestor(out, dir);
        if let Some(kind) = [Kind::Run, Kind::Study, Kind::Size]
            .into_iter()
            .find(|k| is_output(dir, *k))
        {
            return Err(refuse(
                out,
                format!(
                    "lies inside {}, which holds {} ({}); patchsim replaces an output directory \
                     whole, so an output inside another would vanish with it: choose an --out \
                     directory outside {}",
                    shown(),
                    kind.what(),
                    kind.marker(),
                    shown()
                ),
            ));
        }
        let side = side_name(&name.to_string_lossy());
        let locks = [
            parent.join(format!(".{side}.patchsim-lock")),
            dir.join(".patchsim-lock"),
        ];
        if let Some(lock) = locks.iter().find(|l| is_held(l)) {
            return Err(refuse(
                out,
                format!(
                    "lies inside {}, which another patchsim command is writing (it holds the \
                     lock {}) and will replace whole; wait for it to finish, or choose an --out \
                     directory outside {}",
                    shown(),
                    lock.display(),
                    shown()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether another process holds the lock file at `path`. Tested with a
/// shared lock taken and dropped at once: a command that tries to take
/// the lock in that instant is refused as if a command held it.
fn is_held(path: &Path) -> bool {
    let Ok(file) = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
    else {
        return false;
    };
    file.metadata().is_ok_and(|m| m.is_file())
        && rustix::fs::flock(&file, FlockOperation::NonBlockingLockShared) == Err(Errno::WOULDBLOCK)
}

/// `dir`, an ancestor of `out`'s canonical path, as the user would name
/// it: the ancestor of `out` as given that is `dir` (`st` for `--out
/// st/inner`), or else `dir` itself.
fn shown_ancestor(out: &Path, dir: &Path) -> String {
    (out.ancestors().skip(1))
        .filter(|a| !a.as_os_str().is_empty())
        .find(|a| canonical(a).ok().flatten().as_deref() == Some(dir))
        .unwrap_or(dir)
        .display()
        .to_string()
}

fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

fn rename(from: &Path, to: &Path, flags: RenameFlags) -> std::io::Result<()> {
    match rustix::fs::renameat_with(CWD, from, CWD, to, flags) {
        Ok(()) => Ok(()),
        // Without renameat2 a plain rename does for a new name: nothing
        // else writes there while the lock is held.
        Err(e) if flags == RenameFlags::NOREPLACE && unsupported(&e.into()) => fs::rename(from, to),
        Err(e) => Err(e.into()),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// The longest name of a file or directory (`NAME_MAX` on Linux's file
/// systems).
const NAME_MAX: usize = 255;

/// The part of `--out`'s name that the names beside it carry
/// (`.NAME.patchsim-lock`, `.NAME.patchsim-new-XXXXXX`): the name itself,
/// or, where that would make them longer than a file name may be, its
/// first bytes, `~` and 16 hex digits of a hash of the whole name, so that
/// every command into the same `--out` uses the same names.
fn side_name(name: &str) -> String {
    const ROOM: usize = NAME_MAX - ".".len() - ".patchsim-new-XXXXXX".len();
    if name.len() <= ROOM {
        return name.to_string();
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut keep = ROOM - "~".len() - hash.len();
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}~{hash}", &name[..keep])
}

/// Removes staging directories (`PREFIX` and six letters or digits) that a
/// killed command left in `dir`, and puts back at `out` (`None`: for a
/// mount point, staged inside it) an earlier output that a crash left
/// aside. Called with the lock held, so none is in use.
fn remove_stale(dir: &Path, prefix: &str, out: Option<&Path>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let old_prefix = prefix.replacen(".patchsim-new-", ".patchsim-old-", 1);
    let is_suffix = |s: &str| s.len() == 6 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir {
            continue;
        }
        if name.strip_prefix(prefix).is_some_and(is_suffix) {
            let _ = fs::remove_dir_all(entry.path());
        } else if name.strip_prefix(&old_prefix).is_some_and(is_suffix) {
            match out {
                Some(out) if fs::symlink_metadata(out).is_err() => {
                    let _ = fs::rename(entry.path(), out);
                }
                _ => {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
    }
}

/// Whether `out` (an existing directory, `real` its canonical path) may
/// take `kind`'s output: `Ok(true)` if it is empty or holds an earlier
/// output of this kind and nothing else, `Ok(false)` if it holds other
/// files (but no output of another kind) and `force` allows writing
/// beside them; otherwise the refusal.
fn check_contents(
    out: &Path,
    real: &Path,
    kind: Kind,
    force: bool,
    mount: bool,
) -> Result<bool, Error> {
    let entries = fs::read_dir(real).map_err(|source| Error::Output {
        path: out.display().to_string(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !(mount && (n == ".patchsim-lock" || n.starts_with(".patchsim-new-"))))
        .collect();
    names.sort();
    if names.is_empty() {
        return Ok(true);
    }
    // Refused below anyway (the lock is not a file of an output), but
    // said plainly: another command is writing an output inside this one.
    if let Some(inner) = names.iter().find_map(|n| {
        let inner = n.strip_prefix('.')?.strip_suffix(".patchsim-lock")?;
        (!inner.is_empty() && is_held(&real.join(n))).then_some(inner)
    }) {
        return Err(refuse(
            out,
            format!(
                "another patchsim command is writing into {}, inside this directory (it holds \
                 the lock {}); the new output would replace the directory whole, so wait for it \
                 to finish, or choose another --out directory",
                out.join(inner).display(),
                out.join(format!(".{inner}.patchsim-lock")).display()
            ),
        ));
    }
    let mine = is_output(real, kind);
    let foreign: Vec<&String> = names.iter().filter(|n| !kind.owns(n)).collect();
    if mine && foreign.is_empty() {
        return Ok(true);
    }
    // Another kind's output is refused even with `--force`: moving files
    // in beside it would replace its `report.html` and `scenario.ron`
    // and leave neither output whole.
    if let Some(other) = kind.others().find(|k| is_output(real, *k)) {
        return Err(refuse(
            out,
            format!(
                "holds {} ({}), not {}; {}choose another --out directory",
                other.what(),
                other.marker(),
                kind.what(),
                if force {
                    "--force does not write into another kind of output, whose files it would \
                     replace; "
                } else {
                    ""
                }
            ),
        ));
    }
    if force {
        return Ok(false);
    }
    let list = |names: &[&String]| {
        let shown = names.len().min(3);
        let mut found = names[..shown]
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > shown {
            found += &format!(" and {} more", names.len() - shown);
        }
        found
    };
    let force_hint = match kind {
        Kind::Run => ", or add --force to write into it anyway",
        Kind::Study | Kind::Size => "",
    };
    let reason = if mine {
        format!(
            "holds {} but also {}, which patchsim did not write; the new output replaces the \
             directory whole, so move {} out, or choose another --out directory{force_hint}",
            kind.what(),
            list(&foreign),
            if foreign.len() == 1 { "it" } else { "them" }
        )
    } else {
        let all: Vec<&String> = names.iter().collect();
        format!(
            "the output directory is not empty and is not {} (it holds {}, but no {} written by \
             patchsim); choose another --out directory{force_hint}",
            match kind {
                Kind::Run => "a patchsim output",
                Kind::Study => "a patchsim study",
                Kind::Size => "a patchsim sizing",
            },
            list(&all),
            kind.marker()
        )
    };
    Err(refuse(out, reason))
}

/// Whether `dir` holds `kind`'s marker file, a regular file whose
/// `"tool"` is `"patchsim"`.
fn is_output(dir: &Path, kind: Kind) -> bool {
    let path = dir.join(kind.marker());
    fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() < 1 << 30)
        && fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .is_some_and(|v| v.get("tool").and_then(|t| t.as_str()) == Some("patchsim"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that leaves room for the suffixes is kept; a longer one is
    /// cut at a character and told apart by its hash, the same every time.
    #[test]
    fn side_names_fit_a_file_name() {
        assert_eq!(side_name("out"), "out");
        let room = "c".repeat(234);
        assert_eq!(side_name(&room), room);
        for name in ["c".repeat(235), "c".repeat(255), "é".repeat(127)] {
            let side = side_name(&name);
            assert_eq!(side, side_name(&name));
            assert!((233..=234).contains(&side.len()), "{side}");
            assert!(format!(".{side}.patchsim-new-XXXXXX").len() <= NAME_MAX);
            assert!(name.starts_with(side.split('~').next().unwrap()));
        }
        assert_ne!(side_name(&"c".repeat(240)), side_name(&"c".repeat(241)));
    }

    #[test]
    fn each_kind_owns_its_file_names() {
        for name in ["compliance.csv", "load-0-mp01.svg", "trace.jsonl"] {
            assert!(Kind::Run.owns(name), "{name}");
            assert!(!Kind::Study.owns(name), "{name}");
        }
        for name in [
            "runs.csv",
            "study.json",
            "curves.csv",
            "chart-hours_to_95_true.svg",
            "curves-0-true.svg",
        ] {
            assert!(Kind::Study.owns(name), "{name}");
            assert!(!Kind::Run.owns(name), "{name}");
        }
        for name in ["size.csv", "size.json", "size.html"] {
            assert!(Kind::Size.owns(name), "{name}");
            assert!(!Kind::Run.owns(name) && !Kind::Study.owns(name), "{name}");
        }
        // Both pages are report.html, told apart by their marker files.
        assert!(Kind::Run.owns("report.html") && Kind::Study.owns("report.html"));
        assert!(!Kind::Run.owns("thesis.tex"));
        assert!(Kind::Run.owns(".report.html.tmp"));
    }

    #[test]
    fn a_staging_dropped_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut staging = Staging::begin(&out, Kind::Run, false, &[]).unwrap();
        staging.write("summary.json", b"{}").unwrap();
        drop(staging);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// The parents a staging made go with it, those that were there stay;
    /// once committed, all stay.
    #[test]
    fn a_staging_dropped_removes_the_parents_it_made() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("np")).unwrap();
        let out = dir.path().join("np/a/b/out");
        let mut staging = Staging::begin(&out, Kind::Run, false, &[]).unwrap();
        staging.write("summary.json", b"{}").unwrap();
        assert!(dir.path().join("np/a/b").is_dir());
        drop(staging);
        assert_eq!(names(&dir.path().join("np")), Vec::<String>::new());
        let staging = Staging::begin(&out, Kind::Run, false, &[]).unwrap();
        staging.commit(None).unwrap();
        assert!(out.is_dir());
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// An output inside another patchsim output is refused, naming it.
    #[test]
    fn an_output_inside_another_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        let mut first = Staging::begin(&good, Kind::Run, false, &[]).unwrap();
        first
            .write("summary.json", br#"{"tool": "patchsim"}"#)
            .unwrap();
        first.commit(None).unwrap();
        let e = Staging::begin(&good.join("sub/deeper"), Kind::Study, false, &[]).unwrap_err();
        assert!(
            e.to_string().contains(&format!(
                "lies inside {}, which holds a patchsim run's output",
                good.display()
            )),
            "{e}"
        );
        assert_eq!(names(&good), ["summary.json"]);
    }

    #[test]
    fn a_commit_swaps_the_whole_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut first = Staging::begin(&out, Kind::Run, false, &[]).unwrap();
        first
            .write("summary.json", br#"{"tool": "patchsim"}"#)
            .unwrap();
        first.write("load-0-a.svg", b"a").unwrap();
        first.commit(None).unwrap();
        let mut second = Staging::begin(&out, Kind::Run, false, &[]).unwrap();
        second
            .write("summary.json", br#"{"tool": "patchsim", "n": 2}"#)
            .unwrap();
        second.commit(None).unwrap();
        let names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["summary.json"]);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no lock, no staging left"
        );
    }

    #[test]
    fn a_second_staging_of_one_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = Staging::begin(&out, Kind::Study, false, &[]).unwrap();
        let e = Staging::begin(&out, Kind::Study, false, &[]).unwrap_err();
        assert!(e.to_string().contains("another patchsim command"), "{e}");
        drop(first);
        Staging::begin(&out, Kind::Study, false, &[]).unwrap();
    }
}
