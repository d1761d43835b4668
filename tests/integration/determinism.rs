//! Law 1: the same scenario and seed give the same bytes; another seed does not.

use crate::common;

use std::path::Path;

use common::{Knobs, reproduce_hint};
use patchsim::{model, output};

/// Every output file of a run of `file` with `seed`, charts and report
/// included: names and bytes. Runs are cut to their first ten days: the
/// property does not need the whole month, and the suite stays fast.
/// `checked`: verify the laws as it goes (`--check`).
fn outputs(file: &Path, seed: u64, checked: bool) -> Vec<(String, String)> {
    let mut raw = patchsim::scenario::load(file).unwrap_or_else(|e| panic!("{e}"));
    raw.seed = seed;
    raw.duration = raw.duration.min("10d".parse().expect("a duration"));
    let estate = patchsim::scenario::build(raw, &file.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let outcome = if checked {
        patchsim::app::run_checked(&estate).unwrap_or_else(|v| {
            panic!("{v}\n{}", reproduce_hint(&file.display().to_string(), seed))
        })
    } else {
        model::run(&estate, Default::default()).expect("never stopped")
    };
    output::run_files(&estate, &outcome)
}

#[test]
fn every_scenario_twice_gives_the_same_bytes() {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let estate = patchsim::app::load(Some(&file), Default::default(), &[]).expect("valid");
        if estate.client_count() > 20_000 {
            continue; // the scale scenarios are covered by benchmarks
        }
        let seed = estate.seed;
        // The three runs are independent: run them side by side.
        let (a, b, c) = std::thread::scope(|s| {
            let a = s.spawn(|| outputs(&file, seed, true));
            let b = s.spawn(|| outputs(&file, seed, false));
            let c = outputs(&file, seed + 1, false);
            (a.join().expect("run a"), b.join().expect("run b"), c)
        });
        assert!(
            a == b,
            "{} differs between two runs; {}",
            file.display(),
            reproduce_hint(&file.display().to_string(), seed)
        );
        assert!(
            a != c,
            "{}: seeds {seed} and {} give the same output",
            file.display(),
            seed + 1
        );
    }
}

#[test]
fn small_scenario_is_stable_across_seeds_and_repeats() {
    let a = common::run(&Knobs {
        seed: 11,
        ..Knobs::default()
    });
    let b = common::run(&Knobs {
        seed: 11,
        ..Knobs::default()
    });
    let c = common::run(&Knobs {
        seed: 12,
        ..Knobs::default()
    });
    let text = |(e, o): &(patchsim::estate::Estate, patchsim::model::Outcome)| {
        output::compliance_csv(e, o)
    };
    assert_eq!(text(&a), text(&b));
    assert_ne!(text(&a), text(&c));
}

/// Adding a cohort after the others never changes the draws of the clients
/// before it: each client has its own stream. (Their timings may change:
/// clients meet at finite servers. What each client *is* may not: which
/// updates apply to it.)
#[test]
fn adding_clients_leaves_other_clients_draws_alone() {
    let small = common::run(&Knobs {
        always_on: 200,
        desktops: 1,
        ..Knobs::default()
    });
    let large = common::run(&Knobs {
        always_on: 200,
        desktops: 50,
        ..Knobs::default()
    });
    let (a, b) = (
        &small.1.deployments[0].assignments,
        &large.1.deployments[0].assignments,
    );
    let from_start =
        |x: &patchsim::model::Assignment| x.true_compliant_at == patchsim::engine::SimTime::ZERO;
    let mut not_required = 0;
    for c in 0..200 {
        assert_eq!(
            from_start(&a[c]),
            from_start(&b[c]),
            "client {c}: applicability changed"
        );
        not_required += usize::from(from_start(&a[c]));
    }
    assert!(
        not_required > 0 && not_required < 200,
        "the check sees both outcomes"
    );
}

/// Two `patchsim run --out` of one scenario and seed write the same files,
/// byte for byte: CSV, JSON, the resolved scenario, the charts and the report.
#[test]
fn two_runs_write_byte_identical_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knobs = Knobs {
        always_on: 80,
        desktops: 80,
        days: 5,
        ..Knobs::default()
    };
    std::fs::write(dir.path().join("twice.ron"), common::ron(&knobs)).expect("write");
    let run = |out: &str| {
        let o = common::patchsim(
            &["run", "twice.ron", "--out", out, "--quiet", "--check"],
            dir.path(),
        );
        assert!(o.status.success(), "{}", common::stderr(&o));
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path().join(out))
            .expect("out dir")
            .map(|e| {
                let e = e.expect("entry");
                let bytes = std::fs::read(e.path()).expect("read");
                (e.file_name().to_string_lossy().into_owned(), bytes)
            })
            .collect();
        files.sort();
        files
    };
    let (a, b) = (run("a"), run("b"));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    for name in ["report.html", "compliance-0-cu.svg", "states-0-cu.svg"] {
        assert!(names(&a).iter().any(|n| n == name), "{name} written");
    }
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{name} differs between two runs; {}",
            reproduce_hint("twice.ron", knobs.seed)
        );
    }
}
