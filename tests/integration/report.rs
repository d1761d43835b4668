//! What `report.html` and the printed summary say: their numbers read as
//! `summary.json` has them, without rounding a fact away.

use crate::common;

use patchsim::model::ServerRole;
use patchsim::output;

/// A small run of the common test scenario, and its summary.
fn small_run() -> (
    patchsim::estate::Estate,
    patchsim::model::Outcome,
    output::Summary,
) {
    let (estate, outcome) = common::run(&common::Knobs {
        always_on: 40,
        desktops: 40,
        days: 5,
        failure: 0.0,
        ..common::Knobs::default()
    });
    let summary = output::summary(&estate, &outcome);
    (estate, outcome, summary)
}

/// The page's visible text: tags dropped, tooltips and charts left out.
fn page_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.split("<svg").next().unwrap_or(html).chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn a_share_short_of_all_is_not_shown_as_all() {
    let (estate, _, mut summary) = small_run();
    // Two clients of 4,000 still missing in the site database.
    summary.deployments[0].compliant_pct_reported = 99.95;
    summary.deployments[0].by_cohort[0].compliant_pct_reported = 99.95;
    let text = output::summary_text(&summary, &[]);
    let reported = (text.lines())
        .find(|l| l.contains(" reported "))
        .expect("a reported row");
    assert!(reported.ends_with(" 99.9%"), "{text}");
    let html = output::report_html(&estate, &summary, &[], "");
    // The time-to-compliance table, the state table and the cohort table.
    assert_eq!(html.matches(">99.9%<").count(), 3, "{}", page_text(&html));
}

#[test]
fn a_load_chart_is_zoomed_only_where_the_server_is_idle_around() {
    let (estate, mut outcome, _) = small_run();
    // The management point answers policy polls all run, each in
    // milliseconds: seen in service at one sample instant only, mid-run.
    let mp = (outcome.servers.iter())
        .position(|x| x.name == "mp")
        .expect("the mp");
    let mut rows: Vec<_> = (outcome.load.iter_mut())
        .filter(|r| r.server == mp)
        .collect();
    let arriving = (rows.iter())
        .filter(|r| r.counts.arrived.iter().any(|&n| n > 0))
        .count();
    assert!(
        arriving * 10 > rows.len() * 9,
        "{arriving} of {}",
        rows.len()
    );
    let middle = rows.len() / 2;
    for (k, r) in rows.iter_mut().enumerate() {
        (r.busy, r.queue) = (u32::from(k == middle), 0);
    }
    let charts = output::charts(&estate, &outcome);
    let chart = (charts.iter())
        .find(|c| c.file_name == format!("load-{mp}-mp.svg"))
        .expect("the mp's chart");
    assert!(!chart.svg.contains("zoomed"), "{}", chart.file_name);
}

#[test]
fn the_report_has_the_printed_summarys_time_to_compliance_table() {
    let (estate, _, summary) = small_run();
    let text = output::summary_text(&summary, &[]);
    let html = output::report_html(&estate, &summary, &[], "");
    assert!(text.contains("95% vs deadline") && html.contains(">95% vs deadline</th>"));
    let d = &summary.deployments[0];
    for (view, after) in [
        ("true", d.hours_after_deadline_to_pct_true.pct_95),
        ("reported", d.hours_after_deadline_to_pct_reported.pct_95),
    ] {
        let after = after.expect("95 % reached");
        let sign = if after < 0.0 { "−" } else { "+" };
        let words = format!("{sign}{}", output::format_duration(after.abs()));
        let row = (text.lines())
            .find(|l| l.contains(&format!(" {view} ")))
            .expect("the row");
        assert!(row.contains(&format!(" {words} ")), "{row}");
        assert!(
            html.contains(&format!(" title=\"{after} h\">{words}</td>")),
            "{words} for {view} in {}",
            page_text(&html)
        );
    }
}

#[test]
fn numbers_read_as_numbers_not_as_floats_or_digit_runs() {
    let (estate, _, mut summary) = small_run();
    summary.deployments[0].published_h = Some(165.54363138888888);
    summary.events = 1_400_580;
    summary.servers[0].peak_busy = 8000;
    summary.totals.microsoft_update_fallbacks = 2693;
    let text = output::summary_text(&summary, &[]);
    assert!(
        text.contains(" 2,693 Microsoft Update fallbacks,"),
        "{text}"
    );
    let html = output::report_html(&estate, &summary, &[], "");
    let shown = page_text(&html);
    assert!(
        html.contains(" title=\"165.54363138888888 h\">Sun 2026-11-15 21:32 (hour 165.54 since the start)</td>"),
        "{shown}"
    );
    assert!(!shown.contains("165.543"), "{shown}");
    assert!(html.contains("<td>1,400,580</td>"), "{shown}");
    // The server table: peak in service next to "6,000 connections".
    assert!(html.contains("<td class=\"num\">8,000</td>"), "{shown}");
}

#[test]
fn clients_unknown_at_the_end_are_counted_per_deployment() {
    let (_, _, mut summary) = small_run();
    summary.deployments[0].unknown_at_end.true_gpo_conflict = 281;
    summary.deployments[0].unknown_at_end.reported_scan_failed = 402;
    let text = output::summary_text(&summary, &[]);
    assert!(
        text.contains("\nunknown at the end: 281 truly (GPO conflict); reported 402 whose scans fail, 0 not reported yet\n"),
        "{text}"
    );
    // The same clients targeted by a second deployment are not counted
    // twice: each deployment has its own line.
    let mut second = summary.deployments[0].clone();
    second.name = "feature update".into();
    second.unknown_at_end.reported_scan_failed = 249;
    summary.deployments.push(second);
    let text = output::summary_text(&summary, &[]);
    let first = &summary.deployments[0].name;
    assert!(
        text.contains(&format!(
            "\nunknown at the end, by deployment:\n  {first}: 281 truly (GPO conflict); reported \
             402 whose scans fail, 0 not reported yet\n  feature update: 281 truly (GPO \
             conflict); reported 249 whose scans fail, 0 not reported yet\n"
        )),
        "{text}"
    );
    assert!(!text.contains("562"), "{text}");
}

#[test]
fn a_long_queue_behind_the_bottleneck_is_named_too() {
    let (_, _, mut summary) = small_run();
    let position = |role: ServerRole| {
        (summary.servers.iter())
            .position(|x| x.role == role)
            .unwrap_or_else(|| panic!("a {} in the summary", role.name()))
    };
    let (sup, state) = (
        position(ServerRole::UpdatePoint),
        position(ServerRole::StateSystem),
    );
    summary.servers[sup].rejected = 100;
    summary.servers[sup].arrived = summary.servers[sup].arrived.max(200);
    summary.servers[sup].queue_wait_s.p95 = Some(57.0);
    summary.servers[state].rejected = 0;
    summary.servers[state].hours_busy = 309.0;
    summary.servers[state].queue_wait_s.p95 = Some(10.0 * 86_400.0);
    let text = output::summary_text(&summary, &[]);
    let line = |start: &str| {
        (text.lines().find(|l| l.starts_with(start)))
            .unwrap_or_else(|| panic!("a line {start}: {text}"))
            .to_string()
    };
    assert!(
        line("bottleneck: ").contains(&summary.servers[sup].name),
        "{text}"
    );
    let longest = line("longest queue wait: ");
    assert!(
        longest.contains(&summary.servers[state].name)
            && longest.contains("p95 queue wait 10d 00h"),
        "{text}"
    );
    // A wait under an hour behind the bottleneck is not worth a line.
    summary.servers[state].queue_wait_s.p95 = Some(1800.0);
    let text = output::summary_text(&summary, &[]);
    assert!(!text.contains("longest queue wait"), "{text}");
}

#[test]
fn each_cohort_has_its_own_milestones_and_the_whole_lies_between_them() {
    let (estate, outcome) = common::run(&common::Knobs {
        always_on: 300,
        desktops: 300,
        failure: 0.0,
        ..common::Knobs::default()
    });
    let summary = output::summary(&estate, &outcome);
    let d = &summary.deployments[0];
    assert_eq!(d.by_cohort.len(), 2);
    let pick = |t: &output::Thresholds| [t.pct_50, t.pct_80, t.pct_95];
    let whole = pick(&d.hours_to_pct_true);
    let [on, desk] = [0, 1].map(|k| pick(&d.by_cohort[k].hours_to_pct_true));
    for i in 0..3 {
        let (w, a, b) = (whole[i].unwrap(), on[i].unwrap(), desk[i].unwrap());
        // Always-on clients install at the deadline's evening; desktops,
        // switched off by then, the next morning.
        assert!(a < b, "milestone {i}: always-on {a} h, desktops {b} h");
        assert!(a <= w && w <= b, "milestone {i}: {a} <= {w} <= {b}");
    }
    for part in &d.by_cohort {
        let (t, r) = (
            pick(&part.hours_to_pct_true),
            pick(&part.hours_to_pct_reported),
        );
        for i in 0..3 {
            assert!(t[i] <= r[i], "{}: reported before true", part.cohort);
        }
    }
    let html = output::report_html(&estate, &summary, &[], "");
    assert!(
        page_text(&html).contains("time to"),
        "the cohort table's milestones"
    );
}

/// Milestones from the deadline are those from creation moved by the time
/// from creation to the deadline, on both views, even for a share reached
/// before the deployment existed (clients the update does not apply to are
/// compliant from the start): both clocks count it from creation, and
/// `pct_50` is 24 h before the deadline, not 33 h (the run's start).
#[test]
fn milestones_from_the_deadline_are_those_from_creation_moved() {
    let estate = common::small(
        "before-creation",
        5,
        "3d",
        r#"cohorts: [Cohort(name: "c", count: 60, management_point: "mp", update_point: "sup",
                           distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "50MB", applicability: 0.3)],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["c"],
                  created: "2026-11-09T09:00:00Z", deadline: "2026-11-10T09:00:00Z")]"#,
    );
    let outcome = common::simulate(&estate);
    let summary = output::summary(&estate, &outcome);
    let d = &summary.deployments[0];
    let lead = d.deadline_h.unwrap() - d.created_h.unwrap();
    assert_eq!(lead, 24.0);
    for (from_creation, from_deadline) in [
        (&d.hours_to_pct_true, &d.hours_after_deadline_to_pct_true),
        (
            &d.hours_to_pct_reported,
            &d.hours_after_deadline_to_pct_reported,
        ),
    ] {
        for (c, dl) in [
            (from_creation.pct_50, from_deadline.pct_50),
            (from_creation.pct_80, from_deadline.pct_80),
            (from_creation.pct_95, from_deadline.pct_95),
            (from_creation.pct_99, from_deadline.pct_99),
        ] {
            assert_eq!(c.is_some(), dl.is_some());
            if let (Some(c), Some(dl)) = (c, dl) {
                assert!(
                    (dl - (c - lead)).abs() < 1e-9,
                    "{c} from creation, {dl} from the deadline"
                );
            }
        }
    }
    assert_eq!(d.hours_to_pct_true.pct_50, Some(0.0));
    assert_eq!(d.hours_after_deadline_to_pct_true.pct_50, Some(-24.0));
}
