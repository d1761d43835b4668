//! A central administration site over primaries: each primary its own
//! database, the CAS's view lagging by the replication delay, child SUPs
//! syncing after the top-level one.

use std::cell::RefCell;
use std::rc::Rc;

use patchsim::engine::SimDuration;
use patchsim::model::{self, Compliance, RunOptions, TraceEvent, TraceRecord, Tracer};

fn compliant(s: &[u32; 4]) -> u32 {
    s[Compliance::Installed as usize] + s[Compliance::NotRequired as usize]
}

/// `scenarios/hierarchy.ron`, its first five days.
fn five_days() -> patchsim::estate::Estate {
    let mut raw =
        patchsim::scenario::load(std::path::Path::new("scenarios/hierarchy.ron")).expect("loads");
    raw.duration = "5d".parse().expect("a duration");
    patchsim::scenario::build(raw, "hierarchy.ron").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn cas_view_lags_the_primaries_and_children_sync_later() {
    let estate = five_days();
    assert!(estate.hierarchy);
    let records = Rc::new(RefCell::new(Vec::new()));
    let sink = records.clone();
    let options = RunOptions {
        tracer: Some(Tracer::new(
            Box::new(move |r: &TraceRecord| {
                if matches!(r.event, TraceEvent::MessageQueued { topic: 500, .. }) {
                    sink.borrow_mut().push(*r);
                }
            }),
            None,
        )),
        ..Default::default()
    };
    let out = model::run(&estate, options).expect("never stopped");
    let sites = estate.primaries.len();
    assert_eq!(out.site_timeline.len(), out.timeline.len() * sites);

    // Law 9 per site: a client reports an update only after its own
    // primary's SUPs have it, which is after the top-level sync.
    for r in records.borrow().iter() {
        let c = r.client.expect("a client").0;
        let cohort = estate
            .cohorts
            .iter()
            .find(|k| (k.first_client..k.first_client + k.count).contains(&c))
            .unwrap();
        let TraceEvent::MessageQueued {
            update: Some(u), ..
        } = r.event
        else {
            panic!("a detection message names its update")
        };
        let u = u.index();
        let site_synced = out.site_synced_at[cohort.site.index()][u].expect("synced at its site");
        assert!(
            r.time >= site_synced,
            "client {c} reports at {} before its site synced at {site_synced}",
            r.time
        );
    }
    for site in &out.site_synced_at {
        for (u, t) in site.iter().enumerate() {
            if let (Some(child), Some(top)) = (t, out.synced_at[u]) {
                assert!(
                    *child > top || top.as_ms() == 0,
                    "a child syncs after the top-level SUP"
                );
            }
        }
    }

    // Conservation per site, and the CAS's view between the primaries' now
    // and their view one replication delay (at most an hour) ago.
    let slowest = SimDuration::from_hours(1);
    for (k, top) in out.timeline.iter().enumerate() {
        let rows = &out.site_timeline[k * sites..(k + 1) * sites];
        let targeted: u32 = rows.iter().map(|r| r.truth.iter().sum::<u32>()).sum();
        assert_eq!(targeted, top.truth.iter().sum::<u32>());
        for r in rows {
            assert_eq!(
                r.truth.iter().sum::<u32>(),
                r.reported.iter().sum::<u32>(),
                "site conservation"
            );
        }
        let now: u32 = rows.iter().map(|r| compliant(&r.reported)).sum();
        assert!(
            compliant(&top.reported) <= now,
            "the CAS is never ahead of its primaries at {}",
            top.time
        );
        if let Some(earlier) = out
            .timeline
            .iter()
            .position(|t| t.time.as_ms() + slowest.as_ms() == top.time.as_ms())
        {
            let then: u32 = out.site_timeline[earlier * sites..(earlier + 1) * sites]
                .iter()
                .map(|r| compliant(&r.reported))
                .sum();
            assert!(
                compliant(&top.reported) >= then,
                "the CAS catches up within the replication delay at {}",
                top.time
            );
        }
    }
    let lagging = out
        .timeline
        .iter()
        .enumerate()
        .filter(|(k, top)| {
            let now: u32 = out.site_timeline[k * sites..(k + 1) * sites]
                .iter()
                .map(|r| compliant(&r.reported))
                .sum();
            compliant(&top.reported) < now
        })
        .count();
    assert!(lagging > 3, "the lag is visible: {lagging} samples");

    // Each primary's 95 %, true and as its database showed it, is the
    // instant it happened, to the millisecond: inside the sample interval
    // where its timeline first reaches 95 %, not rounded to its end.
    let mut between = 0;
    for (site, view) in (0..sites).flat_map(|s| [(s, 0), (s, 1)]) {
        let Some(at) = out.deployments[0].site_95[site][view] else {
            continue;
        };
        let rows: Vec<_> = (out.site_timeline.iter())
            .filter(|r| r.deployment.index() == 0 && r.site.map(|s| s.index()) == Some(site))
            .collect();
        let targeted: u32 = rows[0].truth.iter().sum();
        let reached = |r: &&patchsim::model::SampleRow| {
            let counts = if view == 0 { &r.truth } else { &r.reported };
            u64::from(compliant(counts)) * 100 >= u64::from(targeted) * 95
        };
        let first = rows.iter().position(reached).expect("reached by a sample");
        assert!(
            rows[first].time >= at,
            "site {site}, view {view}: sampled before it happened"
        );
        assert!(
            first == 0 || rows[first - 1].time < at,
            "site {site}, view {view}: 95 % at {at}, already at the sample {}",
            rows[first - 1].time
        );
        between += usize::from(rows[first].time > at);
    }
    assert!(between > 0, "no primary's 95 % fell between samples");
}

#[test]
fn a_cohort_lives_in_one_primary_and_primaries_have_a_size_limit() {
    let text = std::fs::read_to_string("scenarios/hierarchy.ron").expect("reads");
    let split = text.replacen(r#"update_point: "sup-eu""#, r#"update_point: "sup-us""#, 1);
    let err =
        patchsim::scenario::build(patchsim::scenario::parse(&split, "h.ron").unwrap(), "h.ron")
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("a cohort's servers must share a primary site"),
        "{err}"
    );
    let big = text.replacen("count: 3000", "count: 160000", 1);
    let err = patchsim::scenario::build(patchsim::scenario::parse(&big, "h.ron").unwrap(), "h.ron")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("site P01 manages 160000 clients; a primary site supports at most 150000"),
        "{err}"
    );
}

/// Two primaries of one code are one problem, naming both and the code;
/// a server that names no site (so is in the first primary) is not also
/// said to be in another site than its cohort's MP "in site P01 but ...
/// in P01".
#[test]
fn two_primaries_of_one_code_are_named_with_the_code() {
    let text = std::fs::read_to_string("scenarios/hierarchy.ron").expect("reads");
    let shared = text
        .replacen(r#"Primary(code: "P02""#, r#"Primary(code: "P01""#, 1)
        .replace(r#"site: "P02""#, r#"site: "P01""#)
        .replacen(
            r#"UpdatePoint(name: "sup-eu", site: "P01")"#,
            r#"UpdatePoint(name: "sup-eu")"#,
            1,
        );
    assert_ne!(shared, text);
    let err = patchsim::scenario::build(
        patchsim::scenario::parse(&shared, "h.ron").unwrap(),
        "h.ron",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "primaries[1].code: primaries[0] and primaries[1] share the code 'P01'; \
             give each primary site its own code"
        ),
        "{err}"
    );
    assert!(err.contains("1 problem"), "{err}");
}

/// report.html has a table per deployment of each primary site as its own
/// database shows it: the time to 95 % compliant, true and reported, as
/// summary.json's `primaries[]` has them.
#[test]
fn the_report_shows_each_primary() {
    let estate = five_days();
    let out = model::run(&estate, RunOptions::default()).expect("never stopped");
    let s = patchsim::output::summary(&estate, &out);
    let html = patchsim::output::report_html(&estate, &s, &[], "");
    assert_eq!(s.primaries.len(), 3);
    assert!(html.contains("<section id=\"primaries\">"));
    let cell = |h: Option<f64>| match h {
        Some(v) => format!(
            "<td class=\"num\" title=\"{v} h\">{}</td>",
            patchsim::output::format_duration(v)
        ),
        None => "<td class=\"num\">—</td>".to_string(),
    };
    for p in &s.primaries {
        let d = &p.deployments[0];
        let (t, r) = (d.hours_to_95_true, d.hours_to_95_reported);
        assert!(t.is_some() && r.is_some(), "{} reached 95 %", p.code);
        let row = format!("{}{}</tr>", cell(t), cell(r));
        let at = html
            .find(&format!("<tr><td>{}</td>", p.code))
            .unwrap_or_else(|| panic!("a row for {}", p.code));
        let end = at + html[at..].find("</tr>").expect("the row's end") + 5;
        assert!(html[at..end].ends_with(&row), "{}", &html[at..end]);
    }
}
