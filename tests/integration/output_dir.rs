//! The output directory's promises, through the real binary: a command
//! writes its whole output or nothing, never over an earlier output until
//! the new one is complete; one command at a time per directory; `run`,
//! `sweep` and `merge` refuse directories that are not their own kind of
//! output and their own inputs; signals and a full disk leave nothing
//! behind; names planted beside or inside `--out` are never followed; a
//! closed or full standard output ends the program without a panic; the
//! memory check honours `ulimit -v`.

use crate::common;
use crate::common::{assert_ok, patchsim, stderr};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A small scenario (40 clients, 2 days) as `name` in `dir`.
fn small(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let text = common::ron(&common::Knobs {
        seed,
        always_on: 20,
        desktops: 20,
        days: 2,
        ..Default::default()
    });
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// Every file under `dir` with its bytes, sorted by path.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                files.push((p.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    files.sort();
    files
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_no_panic(o: &Output) {
    assert!(
        !stderr(o).contains("panicked") && o.status.code() != Some(101),
        "{}",
        stderr(o)
    );
}

/// The seed every file of a run's output that names one says it was run
/// with (`seed=N` in a provenance line, `"seed": N` in `summary.json`).
fn seeds_of(out: &Path) -> Vec<String> {
    let mut seeds: Vec<String> = names(out)
        .iter()
        .filter(|n| !n.ends_with(".csv"))
        .map(|n| {
            let text = std::fs::read_to_string(out.join(n)).expect("read");
            let digits = |at: usize| -> String {
                text[at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect()
            };
            match (text.find("seed="), text.find("\"seed\": ")) {
                (Some(i), _) => format!("seed={}", digits(i + 5)),
                (None, Some(i)) => format!("seed={}", digits(i + 8)),
                (None, None) => "none".to_string(),
            }
        })
        .collect();
    seeds.sort();
    seeds.dedup();
    seeds
}

/// `validate` into a pipe whose reader stops after one line, and every
/// command that prints (and help) into a full device: no panic, no exit
/// code 101, an error about standard output; a run that cannot print its
/// summary leaves the earlier output in place.
#[test]
fn a_closed_or_full_stdout_ends_without_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let many: Vec<&str> = std::iter::once("validate")
        .chain(std::iter::repeat_n(file.to_str().unwrap(), 2000))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_patchsim"))
        .args(&many)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("patchsim starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .expect("one line");
    assert!(first.contains("s.ron: ok ("), "{first}");
    let o = child.wait_with_output().expect("exits");
    assert_no_panic(&o);
    assert_ok(&o);
    assert!(stderr(&o).is_empty(), "quietly: {}", stderr(&o));

    if !Path::new("/dev/full").exists() {
        println!("skipped the /dev/full half: no /dev/full");
        return;
    }
    // The earlier output of seed 7, which a run of seed 8 that cannot
    // print its summary must leave as it was.
    assert_ok(&patchsim(
        &["run", file.to_str().unwrap(), "--out", "out", "-q"],
        dir.path(),
    ));
    let out = dir.path().join("out");
    assert_eq!(seeds_of(&out), ["seed=7"]);
    let before = tree(&out);
    let full = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_patchsim"))
            .args(args)
            .current_dir(dir.path())
            .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
            .output()
            .expect("patchsim runs")
    };
    for args in [
        vec!["explain", file.to_str().unwrap(), "--client", "3"],
        vec!["run", file.to_str().unwrap(), "--out", "out", "--seed", "8"],
        vec!["validate", file.to_str().unwrap()],
        vec!["diff", "out", "out"],
        vec!["completions", "bash"],
        vec!["--help"],
        vec!["run", "--help"],
    ] {
        let o = full(&args);
        assert_no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let text = stderr(&o);
        assert!(
            text.contains("error: cannot write standard output: No space left on device"),
            "{args:?}: {text}"
        );
        // About standard output, not about a directory.
        assert!(
            !text.contains("free some space") && !text.contains("--out on"),
            "{args:?}: {text}"
        );
    }
    // The run printed nothing, so it put nothing in place, and says so.
    let o = full(&["run", file.to_str().unwrap(), "--out", "out", "--seed", "8"]);
    assert!(
        stderr(&o).contains("; nothing was written, out is as it was"),
        "{}",
        stderr(&o)
    );
    assert!(tree(&out) == before, "the earlier output is as it was");
    assert_eq!(names(dir.path()), ["out", "s.ron"]);
}

/// Mounts a tmpfs of `bytes` at `at` (root only); false if it cannot.
fn mount_tmpfs(at: &Path, bytes: u64) -> bool {
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
        .arg(at)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// On a file system too small for the new output, `run` fails with exit
/// code 1 naming the file and the reason, leaves the earlier output byte
/// for byte as it was and nothing else behind; `trace.jsonl`'s buffered
/// writes and last flush report their errors too.
#[test]
fn a_full_disk_leaves_the_earlier_output_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let probe = patchsim(
        &["run", file.to_str().unwrap(), "--out", "probe", "--quiet"],
        dir.path(),
    );
    assert_ok(&probe);
    let size: u64 = tree(&dir.path().join("probe"))
        .iter()
        .map(|(_, b)| b.len() as u64)
        .sum();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).expect("mkdir");
    // Room for the output twice (the earlier one stays until the swap) but
    // not for a trace of every event.
    if !mount_tmpfs(&disk, 2 * size + (256 << 10)) {
        println!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let _unmount = Unmount(disk.clone());
    let run = |args: &[&str]| {
        let mut all = vec!["run", file.to_str().unwrap(), "--quiet"];
        all.extend(args);
        let o = patchsim(&all, dir.path());
        assert_no_panic(&o);
        o
    };
    assert_ok(&run(&["--out", "disk/out"]));
    // Room for both while the new output is written beside the old.
    assert_ok(&run(&["--out", "disk/out", "--seed", "8", "--check"]));
    assert_eq!(seeds_of(&disk.join("out")), ["seed=8"]);
    // Fill the disk but for 8 KB.
    let filler = disk.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        while f.write_all(&[0u8; 4096]).is_ok() {}
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(8192)).unwrap();
    }
    let before = tree(&disk);
    for (extra, file) in [("--trace", "trace.jsonl"), ("--check", "")] {
        let o = run(&["--out", "disk/out", "--seed", "9", extra]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let expect = format!("error: cannot write disk/out/{file}");
        assert!(
            stderr(&o).contains(&expect)
                && stderr(&o).contains("No space left on device (os error 28); free some space"),
            "{}",
            stderr(&o)
        );
        assert_eq!(tree(&disk), before, "the earlier output, and nothing else");
    }
    // A new directory on a full disk is not created at all.
    let o = run(&["--out", "disk/new"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(names(&disk), ["filler", "out"]);
}

/// While one command writes a directory, a second one into it exits with
/// code 2 at once; runs racing for one directory leave the files of one
/// run only.
#[test]
fn one_command_at_a_time_per_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = Command::new(env!("CARGO_BIN_EXE_patchsim"))
        .args(["run", "--out", "out", "--trace-clients", "0", "--quiet"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("patchsim starts");
    let started = Instant::now();
    while common::staging_dirs(dir.path(), "out").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let file = small(dir.path(), "s.ron", 7);
    let asked = Instant::now();
    let second = patchsim(&["run", file.to_str().unwrap(), "--out", "out"], dir.path());
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(
            "error: out: another patchsim command is writing into this directory (it holds the lock "
        ),
        "{}",
        stderr(&second)
    );
    assert!(asked.elapsed() < Duration::from_secs(10), "at once");
    let _ = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status();
    let first = first.wait().expect("exits");
    assert_eq!(first.code(), Some(143));

    // Races: two seeds into one directory, again and again.
    let a = small(dir.path(), "a.ron", 1);
    let b = small(dir.path(), "b.ron", 2);
    for round in 0..12 {
        let spawn = |f: &Path| {
            Command::new(env!("CARGO_BIN_EXE_patchsim"))
                .args(["run", f.to_str().unwrap(), "--out", "race", "--quiet"])
                .current_dir(dir.path())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starts")
        };
        let (x, y) = (spawn(&a), spawn(&b));
        let (x, y) = (x.wait_with_output().unwrap(), y.wait_with_output().unwrap());
        for o in [&x, &y] {
            assert!(
                matches!(o.status.code(), Some(0 | 2)),
                "round {round}: {}",
                stderr(o)
            );
        }
        assert!(x.status.success() || y.status.success());
        let seeds = seeds_of(&dir.path().join("race"));
        assert_eq!(seeds.len(), 1, "round {round}: one run's files: {seeds:?}");
    }
    assert_eq!(names(dir.path()), ["a.ron", "b.ron", "race", "s.ron"]);
}

/// `sweep` and `merge` refuse a directory that is not a study, a run's
/// output, and their own inputs; nothing of the user's is touched.
#[test]
fn sweep_and_merge_never_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let f = file.to_str().unwrap();
    let poll = "client_settings.policy_polling_interval=30m,120m";
    for (shard, out) in [("1/2", "a"), ("2/2", "b")] {
        let o = patchsim(
            &[
                "sweep", f, "--set", poll, "-r", "2", "--shard", shard, "--out", out, "-q",
            ],
            dir.path(),
        );
        assert_ok(&o);
    }
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("runs.csv"), "my own runs").unwrap();
    assert_ok(&patchsim(&["run", f, "--out", "run", "-q"], dir.path()));
    let run_before = tree(&dir.path().join("run"));
    let a_before = tree(&dir.path().join("a"));
    let cases: [(&[&str], &str); 5] = [
        (
            &["sweep", f, "--set", poll, "-r", "2", "--out", "mine"],
            "error: mine: the output directory is not empty and is not a patchsim study (it holds runs.csv, but no study.json written by patchsim)",
        ),
        (
            &["sweep", f, "--set", poll, "-r", "2", "--out", "run"],
            "error: run: holds a patchsim run's output (summary.json), not a patchsim study",
        ),
        (
            &["merge", "a", "b", "--out", "a"],
            "error: a: --out is a, an input of this command, which the output must not replace or mix with",
        ),
        (
            &["merge", "a", "b", "--out", "b/inner"],
            "error: b/inner: --out lies inside b, an input of this command",
        ),
        (
            &["run", "run/scenario.ron", "--out", "run"],
            "error: run: --out holds run/scenario.ron, an input of this command",
        ),
    ];
    for (args, expect) in cases {
        let o = patchsim(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_to_string(mine.join("runs.csv")).unwrap(),
        "my own runs"
    );
    assert_eq!(tree(&dir.path().join("run")), run_before);
    assert_eq!(tree(&dir.path().join("a")), a_before);
    assert_ok(&patchsim(
        &["merge", "a", "b", "--out", "whole", "-q"],
        dir.path(),
    ));
    // A run into a study is refused the same way.
    let o = patchsim(&["run", f, "--out", "whole"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("holds a patchsim study (study.json), not a patchsim run's output")
    );
}

/// Names planted where patchsim writes are never followed: a symbolic
/// link named like an older version's temporary file inside `--out`, like
/// the lock or like a staging directory beside it.
#[cfg(unix)]
#[test]
fn a_planted_symlink_is_never_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let f = file.to_str().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let victim_dir = dir.path().join("victim");
    std::fs::create_dir(&victim_dir).unwrap();
    std::fs::write(victim_dir.join("keep"), "precious").unwrap();
    assert_ok(&patchsim(&["run", f, "--out", "out", "-q"], dir.path()));
    symlink(&victim, dir.path().join("out/.compliance.csv.tmp")).unwrap();
    symlink(&victim_dir, dir.path().join(".out.patchsim-new-abc123")).unwrap();
    assert_ok(&patchsim(
        &["run", f, "--out", "out", "-q", "--seed", "9"],
        dir.path(),
    ));
    assert_eq!(seeds_of(&dir.path().join("out")), ["seed=9"]);
    symlink(&victim, dir.path().join(".out.patchsim-lock")).unwrap();
    let o = patchsim(&["run", f, "--out", "out", "-q"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(".out.patchsim-lock is a symbolic link, not patchsim's lock"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        std::fs::read_to_string(victim_dir.join("keep")).unwrap(),
        "precious"
    );
}

/// SIGTERM and SIGHUP stop a run as Ctrl-C does: exit code 128 + n,
/// nothing written. After `kill -9` the next command into the directory
/// removes what the killed one left.
#[test]
fn signals_write_nothing_and_kill_9_leftovers_are_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let Some(o) = common::signal_a_run(dir.path(), "out", signal) else {
            continue;
        };
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "error: interrupted by SIG{signal} at simulated time"
            )),
            "{}",
            stderr(&o)
        );
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    }
    let o = common::signal_a_run(dir.path(), "out", "KILL").expect("SIGKILL cannot be ignored");
    assert_eq!(o.status.code(), None, "killed");
    assert_eq!(
        common::staging_dirs(dir.path(), "out").len(),
        1,
        "a leftover"
    );
    let file = small(dir.path(), "s.ron", 7);
    assert_ok(&patchsim(
        &["run", file.to_str().unwrap(), "--out", "out", "-q"],
        dir.path(),
    ));
    assert_eq!(names(dir.path()), ["out", "s.ron"]);
}

/// Under `ulimit -v` the memory check refuses a run that would not fit,
/// naming that limit, instead of aborting on a failed allocation.
#[test]
#[cfg(target_os = "linux")]
fn the_memory_check_honours_ulimit_v() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs::default()).replacen(
        "count: 300, management_point",
        "count: 149000, management_point",
        1,
    );
    std::fs::write(dir.path().join("big.ron"), text).unwrap();
    // A run, and a study, which checks a run the same way before it
    // writes anything.
    for command in [
        "run big.ron --out out",
        "sweep big.ron -r 2 --out s",
        "size big.ron --goal 'no rejects' --knob servers.distribution_points.count=1,2 --out z",
    ] {
        let o = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "ulimit -v 150000 && exec '{}' {command}",
                    env!("CARGO_BIN_EXE_patchsim")
                ),
            ])
            .current_dir(dir.path())
            .output()
            .expect("sh runs");
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("available (the address-space limit RLIMIT_AS, ulimit -v)"),
            "{command}: {}",
            stderr(&o)
        );
        assert!(names(dir.path()) == ["big.ron"], "{command}");
    }
}

/// Runs `sh -c "ulimit -v LIMIT_KIB; exec patchsim ARGS"` in `dir`; `None`
/// when the shell may not set that limit or the program cannot even
/// start under it (`patchsim --version` fails).
#[cfg(target_os = "linux")]
fn under_ulimit_v(dir: &Path, limit_kib: u64, args: &str) -> Option<Output> {
    let sh = |args: &str| {
        Command::new("sh")
            .args([
                "-c",
                &format!(
                    "ulimit -v {limit_kib} || exit 99; exec '{}' {args}",
                    env!("CARGO_BIN_EXE_patchsim")
                ),
            ])
            .current_dir(dir)
            .output()
            .expect("sh runs")
    };
    if !sh("--version").status.success() {
        return None;
    }
    Some(sh(args))
}

/// Under any `ulimit -v`, `sweep` and `size` either run (fewer runs side
/// by side than `--jobs` if that is what fits, and say so) or refuse up
/// front with exit code 2 and the memory message; never abort on a failed
/// allocation, and never leave a staging directory or a lock behind. The
/// limits go from below what one run needs to room for several worker
/// threads, each of which reserves an allocator arena of address space.
#[test]
#[cfg(target_os = "linux")]
fn sweep_and_size_fit_their_threads_in_ulimit_v() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs {
        always_on: 100,
        desktops: 200,
        days: 3,
        ..Default::default()
    });
    // One run, and with room to spare: what the program maps before it
    // starts, and what it keeps beside the run.
    let run = patchsim::app::estimate_memory(&common::estate_of(&text), false).bytes;
    let ample = 2 * run + (64 << 20);
    std::fs::write(dir.path().join("s.ron"), text).unwrap();
    if under_ulimit_v(dir.path(), 400_000, "--version").is_none() {
        eprintln!("ulimit -v is not permitted here: nothing to check");
        return;
    }
    let (mut refused, mut ran, mut noted) = (0, 0, 0);
    for limit_kib in (20_000..=200_000).step_by(10_000).chain([300_000, 400_000]) {
        for (command, out, file) in [
            ("sweep s.ron -r 4 -j 1", "one", "study.json"),
            ("sweep s.ron -r 4 -j 2", "sw", "study.json"),
            (
                "size s.ron --goal 'no rejects' --knob servers.distribution_points.count=1,2 \
                 -r 2 -j 2",
                "sz",
                "size.json",
            ),
        ] {
            let out = format!("{out}{limit_kib}");
            let Some(o) = under_ulimit_v(dir.path(), limit_kib, &format!("{command} -o {out}"))
            else {
                continue;
            };
            let what = format!("ulimit -v {limit_kib}; {command}: {}", stderr(&o));
            assert!(!stderr(&o).contains("memory allocation"), "{what}");
            match o.status.code() {
                Some(0) => {
                    assert!(dir.path().join(&out).join(file).exists(), "{what}");
                    ran += 1;
                    noted += usize::from(stderr(&o).contains("note: running 1 run at a time"));
                }
                Some(2) => {
                    assert!(limit_kib * 1024 < ample, "refused with room: {what}");
                    assert!(
                        stderr(&o)
                            .contains("available (the address-space limit RLIMIT_AS, ulimit -v)"),
                        "{what}"
                    );
                    assert!(!dir.path().join(&out).exists(), "{what}");
                    refused += 1;
                }
                _ => panic!("neither ran nor refused: {:?}, {what}", o.status),
            }
            let left: Vec<String> = (names(dir.path()).into_iter())
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(left.is_empty(), "{left:?} left behind: {what}");
        }
    }
    assert!(refused > 0 && ran > 0, "{refused} refused, {ran} ran");
    assert!(
        noted > 0,
        "no limit made a study run fewer runs than --jobs"
    );
}

/// A run sampled every minute for a month makes hundreds of megabytes of
/// CSV tables: they are written row by row, and the estimate counts the
/// timelines and charts that stay in memory. Under an address-space limit
/// a little above the estimate (what the program maps before it starts,
/// about 11 MB, and a margin) the run completes; a little below, it is
/// refused up front with exit 2 and leaves nothing behind.
#[test]
#[cfg(target_os = "linux")]
fn a_run_sampled_every_minute_fits_its_estimate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs {
        always_on: 20,
        desktops: 20,
        days: 30,
        sample: "1m",
        ..Default::default()
    });
    std::fs::write(dir.path().join("minutes.ron"), &text).unwrap();
    let estimate = patchsim::app::estimate_memory(&common::estate_of(&text), false).bytes;
    let run = |limit_kib: u64| {
        Command::new("sh")
            .args([
                "-c",
                &format!(
                    "ulimit -v {limit_kib} && exec '{}' run minutes.ron -q --out out",
                    env!("CARGO_BIN_EXE_patchsim")
                ),
            ])
            .current_dir(dir.path())
            .output()
            .expect("sh runs")
    };
    let o = run(estimate / 1024 + 24 * 1024);
    assert_ok(&o);
    let csv = std::fs::metadata(dir.path().join("out/load.csv")).expect("load.csv");
    assert!(
        csv.len() > estimate,
        "load.csv alone ({} bytes) outweighs the estimate ({estimate})",
        csv.len()
    );
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let o = run(estimate / 1024);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("samples × "),
        "the per-sample cost is named: {}",
        stderr(&o)
    );
    assert_eq!(names(dir.path()), ["minutes.ron"]);
}

/// 2,000 clients, 2,000 updates in one deployment and a state system of
/// one thread: every client queues a message per update at its scan and
/// more at its installs, and they wait, in its queue or in batches in
/// transit, while the state system falls behind. The estimate counts
/// them: the run fits under an address-space limit a little above it (it
/// once counted a third of the peak, and the run failed there), and its
/// peak resident size is at least two thirds of it, so it counts not much
/// more than what grows.
#[test]
#[cfg(target_os = "linux")]
// `wait4` reaps the child, and gives its resource usage, which
// `Child::wait` does not.
#[allow(clippy::zombie_processes)]
fn many_updates_a_deployment_fit_their_estimate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let updates: String = (0..2000)
        .map(|i| format!("Update(id: \"U{i}\", size: \"1MB\", install_time: Fixed(\"10m\")),\n"))
        .collect();
    let ids: Vec<String> = (0..2000).map(|i| format!("\"U{i}\"")).collect();
    let text = format!(
        r#"Scenario(
    name: "updates", seed: 3, start: "2026-11-09T00:00:00Z", duration: "2d",
    site: Site(state_system_threads: 1),
    servers: Servers(management_points: [ManagementPoint(name: "mp")],
                     update_points: [UpdatePoint(name: "sup")],
                     distribution_points: [DistributionPoint(name: "dp")]),
    cohorts: [Cohort(name: "c", count: 2000, power: AlwaysOn, management_point: "mp",
                     update_point: "sup", distribution_point: "dp")],
    updates: [{updates}],
    deployments: [Deployment(name: "d", updates: [{}], targets: ["c"],
                             created: "2026-11-09T02:00:00Z", deadline: "2026-11-10T02:00:00Z")],
)"#,
        ids.join(", ")
    );
    std::fs::write(dir.path().join("updates.ron"), &text).unwrap();
    let estimate = patchsim::app::estimate_memory(&common::estate_of(&text), false).bytes;
    let limit_kib = estimate / 1024 + 24 * 1024;
    let mut child = Command::new("sh")
        .args([
            "-c",
            &format!(
                "ulimit -v {limit_kib} && exec '{}' run updates.ron -q --out out",
                env!("CARGO_BIN_EXE_patchsim")
            ),
        ])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    // Its peak resident size, from the kernel's account of the child.
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with pointers to live locals.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "waited for the run");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the run fits under the estimate ({estimate} bytes) and a margin: status {status}\n{err}"
    );
    let peak = usage.ru_maxrss as u64 * 1024;
    assert!(
        peak * 3 >= estimate * 2,
        "the estimate ({estimate} bytes) is within 1.5x of the peak ({peak} bytes)"
    );
}

/// An --out name as long as a file name may be (up to 255 bytes) takes
/// a run, again and again: the lock and staging names beside it are cut
/// to fit, and nothing is left beside it afterwards.
#[test]
fn a_long_out_name_fits_its_lock_and_staging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    for len in [234, 240, 255] {
        let out = "c".repeat(len);
        for seed in ["1", "2"] {
            let o = patchsim(
                &[
                    "run",
                    file.to_str().unwrap(),
                    "-q",
                    "--out",
                    &out,
                    "--seed",
                    seed,
                ],
                dir.path(),
            );
            assert_ok(&o);
            assert_eq!(seeds_of(&dir.path().join(&out)), [format!("seed={seed}")]);
        }
        assert_eq!(names(dir.path()), [out.as_str(), "s.ron"]);
        std::fs::remove_dir_all(dir.path().join(&out)).unwrap();
    }
}

/// `--trace-clients` names clients the scenario has.
#[test]
fn trace_clients_out_of_range_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let o = patchsim(
        &["run", file.to_str().unwrap(), "--trace-clients", "3,999999"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "error: --trace-clients 999999: no such client; the scenario has clients 0 to 39"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(names(dir.path()), ["s.ron"]);
}

/// An earlier output in a directory this user may not change cannot be
/// replaced (its files could not be removed): the run is refused before
/// anything is written, and the earlier output and its parent are left
/// as they were, with nothing beside them. Root may change any
/// directory, so as root the run is made as `nobody`.
#[test]
fn an_earlier_output_that_cannot_be_removed_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let open = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    open(dir.path(), 0o777);
    let file = small(dir.path(), "s.ron", 7);
    open(&file, 0o644);
    let binary = dir.path().join("patchsim");
    std::fs::copy(env!("CARGO_BIN_EXE_patchsim"), &binary).expect("copy the binary");
    open(&binary, 0o755);
    let root = rustix::process::getuid().is_root();
    if root && Command::new("setpriv").arg("--version").output().is_err() {
        println!("skipped: running as root, and no setpriv to run as another user");
        return;
    }
    let run = |seed: &str| {
        let mut c = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&binary);
            c
        } else {
            Command::new(&binary)
        };
        c.args(["run", "s.ron", "--out", "out", "--quiet", "--seed", seed])
            .current_dir(dir.path())
            .output()
            .expect("patchsim runs")
    };
    assert_ok(&run("7"));
    let out = dir.path().join("out");
    open(&out, 0o555);
    let before = (names(dir.path()), tree(&out));
    let o = run("9");
    open(&out, 0o755);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "holds an earlier output that cannot be replaced: the directory is not writable"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        (names(dir.path()), tree(&out)),
        before,
        "nothing changed, nothing left beside"
    );
    assert_eq!(seeds_of(&out), ["seed=7"]);
}

/// Another kind of output is refused even with `--force`: `run --force`
/// into a study would replace its `report.html` and `scenario.ron` and
/// leave it broken. Without `--force` the refusal does not offer it; the
/// same holds for `run` into a sizing and for `size` into a run or a
/// study (neither `sweep` nor `size` has `--force`).
#[test]
fn another_kind_of_output_is_refused_even_with_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let f = file.to_str().unwrap();
    assert_ok(&patchsim(
        &["sweep", f, "-r", "1", "-q", "-o", "study"],
        dir.path(),
    ));
    assert_ok(&patchsim(&["run", f, "-q", "-o", "run"], dir.path()));
    let knob = "servers.update_points[0].scan_slots=8,16";
    let size = |out: &'static str| -> Vec<&'static str> {
        vec![
            "size",
            "s.ron",
            "--goal",
            "no rejects",
            "--knob",
            knob,
            "-r",
            "1",
            "-q",
            "-o",
            out,
        ]
    };
    assert_ok(&patchsim(&size("sizing"), dir.path()));
    let before: Vec<_> = ["study", "run", "sizing"]
        .map(|d| tree(&dir.path().join(d)))
        .into();
    let study = "holds a patchsim study (study.json), not a patchsim run's output";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", f, "-q", "-o", "study"], study),
        (vec!["run", f, "-q", "--force", "-o", "study"], study),
        (
            vec!["run", f, "--force", "-o", "sizing"],
            "holds a patchsim sizing (size.json)",
        ),
        (
            size("run"),
            "holds a patchsim run's output (summary.json), not a patchsim sizing",
        ),
        (
            size("study"),
            "holds a patchsim study (study.json), not a patchsim sizing",
        ),
    ];
    for (args, expect) in cases {
        let o = patchsim(&args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
        let force = args.contains(&"--force");
        assert_eq!(
            stderr(&o).contains("--force does not write into another kind of output"),
            force,
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(
            !stderr(&o).contains("add --force"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let after: Vec<_> = ["study", "run", "sizing"]
        .map(|d| tree(&dir.path().join(d)))
        .into();
    assert!(before == after, "every output as it was");
    assert_ok(&patchsim(&["diff", "study", "study"], dir.path()));
    // A directory that already holds both (as the refused command used to
    // leave it) is refused too, with --force or without.
    for name in ["study.json", "runs.csv", "curves.csv"] {
        std::fs::copy(
            dir.path().join("study").join(name),
            dir.path().join("run").join(name),
        )
        .unwrap();
    }
    for force in [false, true] {
        let mut args = vec!["run", f, "-q", "-o", "run"];
        if force {
            args.push("--force");
        }
        let o = patchsim(&args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(study), "{args:?}: {}", stderr(&o));
    }
}

/// An `--out` inside another patchsim output (a run's, a study's, a
/// sizing's), which its command replaces whole, is refused, naming it;
/// the output is left as it was, and later runs into it still succeed.
#[test]
fn an_output_inside_another_output_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let f = file.to_str().unwrap();
    assert_ok(&patchsim(&["run", f, "-q", "-o", "good"], dir.path()));
    assert_ok(&patchsim(
        &["sweep", f, "-r", "1", "-q", "-o", "st"],
        dir.path(),
    ));
    let before: Vec<_> = ["good", "st"].map(|d| tree(&dir.path().join(d))).into();
    let cases: [(&[&str], &str); 3] = [
        (
            &["run", f, "-q", "-o", "good/sub"],
            "error: good/sub: lies inside good, which holds a patchsim run's output \
             (summary.json); patchsim replaces an output directory whole",
        ),
        (
            &["run", f, "-q", "--force", "-o", "good/sub/deeper"],
            "error: good/sub/deeper: lies inside good, which holds a patchsim run's output",
        ),
        (
            &["sweep", f, "-r", "1", "-q", "-o", "st/inner"],
            "error: st/inner: lies inside st, which holds a patchsim study (study.json)",
        ),
    ];
    for (args, expect) in cases {
        let o = patchsim(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
    }
    let after: Vec<_> = ["good", "st"].map(|d| tree(&dir.path().join(d))).into();
    assert!(before == after, "the outputs are as they were");
    assert_ok(&patchsim(&["run", f, "-q", "-o", "good"], dir.path()));
}

/// While a command writes a directory (its lock held, the directory
/// perhaps not there yet), an `--out` inside it is refused, and so is an
/// `--out` that holds it, even with `--force`.
#[test]
fn an_output_inside_or_around_one_being_written_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = small(dir.path(), "s.ron", 7);
    let f = file.to_str().unwrap();
    let start = |out: &str, within: &Path| {
        let name = Path::new(out).file_name().unwrap().to_str().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_patchsim"))
            .args(["run", "--out", out, "--trace-clients", "0", "--quiet"])
            .current_dir(dir.path())
            .stderr(Stdio::piped())
            .spawn()
            .expect("patchsim starts");
        let started = Instant::now();
        while common::staging_dirs(within, name).is_empty() {
            assert!(started.elapsed() < Duration::from_secs(60), "never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        child
    };
    let outer = start("st", dir.path());
    let inner = start("around/inner", &dir.path().join("around"));
    let cases: [(&[&str], &str); 3] = [
        (
            &["run", f, "-q", "-o", "st/inner"],
            "error: st/inner: lies inside st, which another patchsim command is writing (it \
             holds the lock ",
        ),
        (
            &["run", f, "-q", "-o", "around"],
            "error: around: another patchsim command is writing into around/inner, inside this \
             directory (it holds the lock around/.inner.patchsim-lock)",
        ),
        (
            &["run", f, "-q", "--force", "-o", "around"],
            "another patchsim command is writing into around/inner",
        ),
    ];
    for (args, expect) in cases {
        let o = patchsim(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
    }
    assert!(!dir.path().join("st").exists(), "nothing made inside st");
    for child in [outer, inner] {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let o = child.wait_with_output().expect("exits");
        assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    }
    assert_eq!(names(dir.path()), ["s.ron"]);
}

/// A run stopped by a signal removes the parent directories of `--out`
/// it made (and only those).
#[test]
fn an_interrupted_run_removes_the_parents_it_made() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("keep")).unwrap();
    for (out, signal, code) in [("np/a/b", "INT", 130), ("keep/a/b", "TERM", 143)] {
        let within = dir.path().join(Path::new(out).parent().unwrap());
        let Some(o) = common::signal_when(
            dir.path(),
            &["run", "--out", out, "--trace-clients", "0"],
            || !common::staging_dirs(&within, "b").is_empty(),
            signal,
        ) else {
            continue;
        };
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        assert_eq!(names(dir.path()), ["keep"], "{out}");
        assert!(names(&dir.path().join("keep")).is_empty(), "{out}");
    }
}
