//! Every error a user can meet (docs/cli.md, "Errors"), as a user meets it:
//! through `patchsim run` and `patchsim validate`, exit code 2, a message
//! that names the place (file:line:column or the field path) and says how
//! to fix it, and nothing written to the output directory. Also the
//! hand-broken scenarios of `scenarios/invalid/`, each with the message it
//! must give on its first lines (`// expect: ...`).

use crate::common;
use crate::common::patchsim;

use std::path::Path;

/// One mistake: an edit of the test template and what the message must say.
struct Case {
    what: &'static str,
    from: &'static str,
    to: &'static str,
    expect: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        what: "RON syntax: a missing comma",
        from: "seed: 7,",
        to: "seed: 7",
        expect: &[
            "bad.ron:4:5: expected a `,`",
            "is one missing at the end of the line before?",
        ],
    },
    Case {
        what: "RON syntax: an unclosed parenthesis",
        from: "    ],\n)",
        to: "    ],\n",
        expect: &[
            "bad.ron:31:7:",
            "unexpected end of the file",
            "a closing `)` or `]` is missing",
        ],
    },
    Case {
        what: "RON syntax: text after the scenario",
        from: "    ],\n)",
        to: "    ],\n)\n)",
        expect: &[
            "bad.ron:32:2:",
            "unexpected text after the end of the scenario",
        ],
    },
    Case {
        what: "unknown field",
        from: "link: \"20Mbps\"",
        to: "lnk: \"20Mbps\"",
        expect: &[
            "bad.ron:21:16: cohorts[1].lnk: unknown field `lnk` in `Cohort`",
            "(did you mean `link`?)",
            "allowed: `name`, `count`",
        ],
    },
    Case {
        what: "unknown choice",
        from: "power: BusinessHours(",
        to: "power: BusinesHours(",
        expect: &[
            "bad.ron:20:53: cohorts[1].power: unknown choice `BusinesHours` in `Power`",
            "(did you mean `BusinessHours`?)",
        ],
    },
    Case {
        what: "missing field",
        from: "    start: \"2026-11-09T00:00:00+01:00\",\n",
        to: "",
        expect: &[
            "bad.ron:31:1: missing field `start` in `Scenario`",
            "add `start: ...`",
        ],
    },
    Case {
        what: "field given twice",
        from: "seed: 7,",
        to: "seed: 7, seed: 8,",
        expect: &["bad.ron:3:14: field `seed` is given twice", "keep one"],
    },
    Case {
        what: "wrong type: a quoted number",
        from: "count: 300, management_point",
        to: "count: \"300\", management_point",
        expect: &[
            "bad.ron:19:41: cohorts[0].count: expected a whole number",
            "written without quotes",
        ],
    },
    Case {
        what: "wrong type: a fraction where a whole number goes",
        from: "count: 300, management_point",
        to: "count: 300.5, management_point",
        expect: &[
            "bad.ron:19:45: cohorts[0]: expected a `,`",
            "this field takes a whole number, without a fractional part",
        ],
    },
    Case {
        what: "wrong type: a negative count",
        from: "count: 300, management_point",
        to: "count: -3, management_point",
        expect: &[
            "bad.ron:19:43: cohorts[0].count: number out of range for this field: must be \
             between 1 and 10000000, got -3",
        ],
    },
    Case {
        what: "wrong type: a count past its type",
        from: "count: 300, management_point",
        to: "count: 18446744073709551616, management_point",
        expect: &[
            "cohorts[0].count: number out of range for this field: must be between 1 and \
             10000000, got 18446744073709551616",
        ],
    },
    Case {
        what: "wrong type: a negative seed",
        from: "seed: 7,",
        to: "seed: -7,",
        expect: &[
            "bad.ron:3:12: seed: number out of range for this field: it must be a whole \
             number, not negative and at most 18446744073709551615, got -7",
        ],
    },
    Case {
        what: "RON syntax: the closing `)` missing after a last field without a comma",
        from: "    ],\n)",
        to: "    ]\n",
        expect: &[
            "unexpected end of the file",
            "a closing `)` or `]` is missing",
        ],
    },
    Case {
        what: "RON syntax: the closing `)` missing after a last field and a comment",
        from: "    ],\n)",
        to: "    ] // the deployments\n\n",
        expect: &["unexpected end of the file: a closing `)` or `]` is missing"],
    },
    Case {
        what: "bad unit: duration",
        from: "duration: \"12d\"",
        to: "duration: \"12 dayz\"",
        expect: &[
            "bad.ron:5:16: duration: invalid duration \"12 dayz\"",
            "expected a duration such as \"90s\"",
            "units: ms, s, m, h, d, w",
        ],
    },
    Case {
        what: "bad unit: size",
        from: "size: \"400MB\"",
        to: "size: \"400M\"",
        expect: &[
            "bad.ron:24:34: updates[0].size: invalid size \"400M\"",
            "expected a size such as \"650MB\"",
        ],
    },
    Case {
        what: "a bandwidth too large for its field",
        from: "link: \"20Mbps\"",
        to: "link: \"18446744073709551615Gbps\"",
        expect: &[
            "bad.ron:21:23: cohorts[1].link: bandwidth \"18446744073709551615Gbps\" is out of range",
            "a bandwidth is at most 18446744073Gbps (2^64 - 1 bps)",
        ],
    },
    Case {
        what: "bad unit: bandwidth (bytes, not bits)",
        from: "link: \"20Mbps\"",
        to: "link: \"20MBps\"",
        expect: &[
            "bad.ron:21:23: cohorts[1].link: invalid bandwidth \"20MBps\"",
            "units: bps, kbps, Mbps, Gbps",
            "bandwidths are in bits per second (1 MB/s is 8Mbps)",
        ],
    },
    Case {
        what: "bad unit: time of day",
        from: "start: \"08:00\"",
        to: "start: \"8:00\"",
        expect: &[
            "cohorts[1].power.start: invalid time of day \"8:00\"",
            "expected a time of day \"HH:MM\"",
        ],
    },
    Case {
        what: "bad unit: instant without a UTC offset",
        from: "created: \"2026-11-10T10:00:00+01:00\"",
        to: "created: \"2026-11-10T10:00:00\"",
        expect: &[
            "bad.ron:30:30: deployments[0].created: invalid timestamp \"2026-11-10T10:00:00\"",
            "expected an RFC 3339 timestamp with its UTC offset, such as \"2026-11-10T18:00:00Z\"",
        ],
    },
    Case {
        what: "out-of-range value",
        from: "policy_polling_interval: \"60m\"",
        to: "policy_polling_interval: \"1m\"",
        expect: &[
            "bad.ron: 1 problem",
            "client_settings.policy_polling_interval: must be between 3m and 1d, got 1m",
        ],
    },
    Case {
        what: "out-of-range value: a percentage for a share",
        from: "applicability: 0.9,",
        to: "applicability: 90,",
        expect: &[
            "updates[0] (KB1).applicability: must be between 0 and 1, got 90",
            "write 0.9 for 90 %",
        ],
    },
    Case {
        what: "out-of-range value: business hours backwards",
        from: "start: \"08:00\", end: \"17:00\"",
        to: "start: \"18:00\", end: \"17:00\"",
        expect: &["cohorts[1] (desktops).power: start (18:00) must be before end (17:00)"],
    },
    Case {
        what: "out-of-range value: a maintenance window too short",
        from: "link: \"20Mbps\",",
        to: "link: \"20Mbps\", maintenance_windows: [MaintenanceWindow(recurrence: Daily, length: \"2m\")],",
        expect: &[
            "cohorts[1] (desktops).maintenance_windows[0].length: must be at least 5m and less than 24h",
            "got 2m",
        ],
    },
    Case {
        what: "unknown choice: a maintenance window's type",
        from: "link: \"20Mbps\",",
        to: "link: \"20Mbps\", maintenance_windows: [MaintenanceWindow(recurrence: Daily, applies_to: SoftwareUpdate)],",
        expect: &[
            "cohorts[1].maintenance_windows[0].applies_to: unknown choice `SoftwareUpdate` in `WindowType`",
            "(did you mean `SoftwareUpdates`?)",
        ],
    },
    Case {
        what: "out-of-range value: a final countdown longer than the countdown",
        from: "policy_polling_interval: \"60m\"",
        to: "policy_polling_interval: \"60m\", restart_final_countdown: \"2h\"",
        expect: &["client_settings.restart_final_countdown: must be between 1m and 90m, got 2h"],
    },
    Case {
        what: "out-of-range value: an optional period",
        from: "policy_polling_interval: \"60m\"",
        to: "policy_polling_interval: \"60m\", enforce_deadlines_within: Some(\"30m\")",
        expect: &["client_settings.enforce_deadlines_within: must be between 1h and 365d, got 30m"],
    },
    Case {
        what: "reference to an unknown server",
        from: "distribution_point: \"dp\"),\n        Cohort(name: \"desktops\"",
        to: "distribution_point: \"dp2\"),\n        Cohort(name: \"desktops\"",
        expect: &[
            "cohorts[0] (always-on).distribution_point: unknown distribution point 'dp2' (did you mean 'dp'?); known: dp",
        ],
    },
    Case {
        what: "no server of a role",
        from: "management_points: [ManagementPoint(name: \"mp\")],",
        to: "management_points: [],",
        expect: &["servers.management_points: needs at least one server"],
    },
    Case {
        what: "reference to an unknown cohort",
        from: "targets: [\"always-on\",",
        to: "targets: [\"laptops\",",
        expect: &[
            "deployments[0] (cu).targets[0]: unknown cohort 'laptops'; known: always-on, desktops",
        ],
    },
    Case {
        what: "a standalone site over its Windows client limit",
        from: "Cohort(name: \"always-on\", count: 300,",
        to: "Cohort(name: \"always-on\", count: 149701,",
        expect: &[
            "cohorts: site",
            "manages 150001 clients; a primary site supports at most 150000 Windows clients",
            "at most 150,000 Windows",
        ],
    },
    Case {
        what: "reference to an unknown update",
        from: "updates: [\"KB1\",",
        to: "updates: [\"KB3\",",
        expect: &["deployments[0] (cu).updates[0]: unknown update 'KB3'; known: KB1, KB2"],
    },
    Case {
        what: "a deployment with nothing to target",
        from: "targets: [\"always-on\", \"desktops\"]",
        to: "targets: []",
        expect: &["deployments[0] (cu).targets: must list at least one cohort"],
    },
    Case {
        what: "deadline before the available time",
        from: "deadline: \"2026-11-12T20:00:00+01:00\"",
        to: "deadline: \"2026-11-10T09:00:00+01:00\"",
        expect: &[
            "deployments[0] (cu).deadline: 2026-11-10T09:00:00+01:00 is before the available time 2026-11-10T10:00:00+01:00",
            "a deadline must be at or after it",
        ],
    },
    Case {
        what: "a deadline on an Available deployment",
        from: "created: \"2026-11-10T10:00:00+01:00\",",
        to: "purpose: Available, created: \"2026-11-10T10:00:00+01:00\",",
        expect: &[
            "deployments[0] (cu).deadline: an Available deployment has no deadline",
            "remove it or make the deployment Required",
        ],
    },
    Case {
        what: "an instant before the start",
        from: "created: \"2026-11-10T10:00:00+01:00\"",
        to: "created: \"2026-10-10T10:00:00+01:00\"",
        expect: &[
            "deployments[0] (cu).created: 2026-10-10T10:00:00+01:00 is before the start (2026-11-09T00:00:00+01:00)",
            "it must be at or after it",
        ],
    },
    Case {
        what: "empty cohort",
        from: "count: 300, management_point",
        to: "count: 0, management_point",
        expect: &[
            "cohorts[0] (always-on).count: must be between 1 and 10000000, got 0",
            "remove the cohort if it has no clients",
        ],
    },
    Case {
        what: "zero bandwidth",
        from: "link: \"20Mbps\"",
        to: "link: \"0Mbps\"",
        expect: &["cohorts[1] (desktops).link: must be at least 1kbps, got 0bps"],
    },
    Case {
        what: "content shares of the same bytes over 1",
        from: "link: \"20Mbps\",",
        to: "link: \"20Mbps\", content_sources: ContentSources(branch_cache: 0.7, delivery_optimization: 0.5),",
        expect: &[
            "cohorts[1] (desktops).content_sources.delivery_optimization: branch_cache and delivery_optimization are shares of the same bytes and must add up to at most 1, got 0.7 + 0.5",
        ],
    },
    Case {
        what: "express content bigger than the update",
        from: "size: \"400MB\"",
        to: "size: \"400MB\", express_size: \"1GB\"",
        expect: &[
            "updates[0] (KB1).express_size: must be between 1B and the update's size (400MB), got 1GB",
        ],
    },
    Case {
        what: "duplicate names",
        from: "name: \"desktops\"",
        to: "name: \"always-on\"",
        expect: &[
            "cohorts[1] (always-on).name: 'always-on' is already used by cohorts[0]",
            "names must be unique, rename one of them",
        ],
    },
    Case {
        what: "a name listed twice",
        from: "targets: [\"always-on\",",
        to: "targets: [\"desktops\",",
        expect: &["deployments[0] (cu).targets[1]: cohort 'desktops' is listed twice; remove one"],
    },
    Case {
        what: "two primaries of one code",
        from: "seed: 7,",
        to: "seed: 7, primaries: [Primary(code: \"P02\"), Primary(code: \"P02\")],",
        expect: &[
            "primaries[1].code: primaries[0] and primaries[1] share the code 'P02'; give each primary site its own code",
        ],
    },
    Case {
        what: "a fault on an unknown server",
        from: "seed: 7,",
        to: "seed: 7, faults: [Fault(server: \"dp2\", start: \"2026-11-10T11:00:00+01:00\", end: \"2026-11-10T12:00:00+01:00\")],",
        expect: &[
            "faults[0].server: unknown server 'dp2' (did you mean 'dp'?); known: dp, mp, sup",
        ],
    },
    Case {
        what: "duplicate update ids",
        from: "id: \"KB2\"",
        to: "id: \"KB1\"",
        expect: &["updates[1] (KB1).id: 'KB1' is already used by updates[0]"],
    },
    Case {
        what: "an update released after the deployment that uses it",
        from: "release: \"2026-11-10T08:00:00+01:00\"",
        to: "release: \"2026-11-11T08:00:00+01:00\"",
        expect: &[
            "deployments[0] (cu).updates[0]: update 'KB1' is released at 2026-11-11T08:00:00+01:00 after the deployment is created at 2026-11-10T10:00:00+01:00",
            "create the deployment after the release, or release the update earlier",
        ],
    },
    Case {
        what: "a line break in a name",
        from: "name: \"test\",",
        to: "name: \"te\\nst\",",
        expect: &[
            "name: must be printable text, without control characters such as a line break or a tab; found U+000A at character 3",
        ],
    },
    Case {
        what: "a tab in a cohort name",
        from: "name: \"desktops\"",
        to: "name: \"desk\\ttops\"",
        expect: &["cohorts[1].name: must be printable text", "found U+0009"],
    },
    Case {
        what: "a name that is only a next-line character",
        from: "name: \"desktops\"",
        to: "name: \"\\u{85}\"",
        expect: &[
            "cohorts[1].name: must be printable text",
            "found U+0085 at character 1",
        ],
    },
    Case {
        what: "a name that is only a line separator",
        from: "name: \"test\",",
        to: "name: \"\\u{2028}\",",
        expect: &[
            "name: must be printable text",
            "found U+2028 at character 1",
        ],
    },
    Case {
        what: "an invisible name",
        from: "name: \"desktops\"",
        to: "name: \"\\u{200b}\"",
        expect: &["cohorts[1].name: must be printable text", "found U+200B"],
    },
    Case {
        what: "a byte-order mark in a deployment's name",
        from: "name: \"cu\"",
        to: "name: \"\\u{feff}cu\"",
        expect: &[
            "deployments[0].name: must be printable text",
            "found U+FEFF at character 1",
        ],
    },
    Case {
        what: "a right-to-left override in a name",
        from: "name: \"desktops\"",
        to: "name: \"\\u{202e}evil\"",
        expect: &["cohorts[1].name: must be printable text", "found U+202E"],
    },
    Case {
        what: "a WAN link slower than 1 kbps",
        from: "    cohorts: [",
        to: "    locations: [Location(name: \"leeds\", wan_link: WanLink(bandwidth: \"500bps\"))],\n    cohorts: [",
        expect: &[
            "locations[0] (leeds).wan_link.bandwidth: must be between 1kbps and 100Gbps, got 500bps",
        ],
    },
    Case {
        what: "a WAN link latency over 10 s",
        from: "    cohorts: [",
        to: "    locations: [Location(name: \"leeds\", wan_link: WanLink(bandwidth: \"10Mbps\", latency: \"1m\"))],\n    cohorts: [",
        expect: &["locations[0] (leeds).wan_link.latency: must be between 0s and 10s, got 1m"],
    },
    Case {
        what: "a misspelled WAN link field",
        from: "    cohorts: [",
        to: "    locations: [Location(name: \"leeds\", wan_link: WanLink(bandwith: \"10Mbps\"))],\n    cohorts: [",
        expect: &[
            "locations[0].wan_link.bandwith: unknown field `bandwith` in `WanLink`",
            "(did you mean `bandwidth`?)",
        ],
    },
    Case {
        what: "a cohort in an unknown location",
        from: "distribution_point: \"dp\"),",
        to: "distribution_point: \"dp\", location: \"leeds\"),",
        expect: &["cohorts[0] (always-on).location: unknown location 'leeds'; known: none"],
    },
    Case {
        what: "a leap second",
        from: "deadline: \"2026-11-12T20:00:00+01:00\"",
        to: "deadline: \"2026-11-12T23:59:60+01:00\"",
        expect: &[
            "deployments[0].deadline: invalid timestamp \"2026-11-12T23:59:60+01:00\" (a leap second): seconds go from 00 to 59",
        ],
    },
    Case {
        what: "RON syntax: a choice without a payload given parentheses",
        from: "Cohort(name: \"always-on\", count: 300,",
        to: "Cohort(name: \"always-on\", count: 300, power: AlwaysOn(),",
        expect: &[
            "bad.ron:19:",
            "`AlwaysOn` takes nothing in parentheses; write `AlwaysOn` alone",
        ],
    },
    Case {
        what: "RON syntax: a choice with fields given none",
        from: "power: BusinessHours(start: \"08:00\", end: \"17:00\", jitter: \"1h\")",
        to: "power: BusinessHours",
        expect: &[
            "cohorts[1].power: expected `(` after `BusinessHours`",
            "write `BusinessHours()` for its defaults",
        ],
    },
    Case {
        what: "RON syntax: a `#` comment",
        from: "Scenario(\n",
        to: "# my estate\nScenario(\n",
        expect: &["bad.ron:1:2: `#` does not start a comment in RON: write `//`"],
    },
    Case {
        what: "RON syntax: a string left open",
        from: "name: \"test\",",
        to: "name: \"test,",
        expect: &["the string before this one runs over a line end; is its closing `\"` missing?"],
    },
    Case {
        what: "RON syntax: a `)` missing before the next entry",
        from: "distribution_point: \"dp\"),\n        Cohort(name: \"desktops\"",
        to: "distribution_point: \"dp\",\n        Cohort(name: \"desktops\"",
        expect: &[
            "`Cohort(` starts a new entry here, so is the `)` closing the entry before it missing?",
        ],
    },
    Case {
        what: "a field name with a capital",
        from: "name: \"always-on\", count: 300,",
        to: "name: \"always-on\", Count: 300,",
        expect: &[
            "cohorts[0].Count: unknown field `Count` in `Cohort` (did you mean `count`?); allowed: `name`,",
        ],
    },
    Case {
        what: "an instant finer than a millisecond",
        from: "created: \"2026-11-10T10:00:00+01:00\"",
        to: "created: \"2026-11-12T20:00:00.0009+01:00\"",
        expect: &[
            "deployments[0].created: invalid timestamp \"2026-11-12T20:00:00.0009+01:00\": finer than a millisecond",
        ],
    },
    Case {
        what: "a name with a space at its end",
        from: "name: \"always-on\", count: 300,",
        to: "name: \"always-on \", count: 300,",
        expect: &[
            "cohorts[0] (always-on ).name: \"always-on \" has white space at its end; remove it",
        ],
    },
    Case {
        what: "an id with a space at its start",
        from: "Update(id: \"KB2\",",
        to: "Update(id: \" KB2\",",
        expect: &["updates[1] ( KB2).id: \" KB2\" has white space at its start; remove it"],
    },
    Case {
        what: "RON syntax: a `)` too many",
        from: "restart_probability: 0.2),",
        to: "restart_probability: 0.2)),",
        expect: &["updates: expected a `,`: is this `)` one too many?"],
    },
    Case {
        what: "wrong type: a size without quotes",
        from: "size: \"400MB\"",
        to: "size: 400",
        expect: &["updates[0].size: expected a string in double quotes (e.g. `\"650MB\"`"],
    },
    Case {
        what: "wrong type: a share in percent",
        from: "applicability: 0.9,",
        to: "applicability: 90%,",
        expect: &["`%` is not part of a number here (a share is a fraction: 0.05 for 5 %)"],
    },
    Case {
        what: "a choice in quotes",
        from: "name: \"always-on\", count: 300,",
        to: "name: \"always-on\", count: 300, kind: \"Server\",",
        expect: &[
            "bad.ron:19:53: cohorts[0].kind: \"Server\" is quoted: write one of Workstation, Server \
             without quotes",
        ],
    },
    Case {
        what: "a choice with fields in quotes",
        from: "name: \"always-on\", count: 300,",
        to: "name: \"always-on\", count: 300, power: \"alwayson\",",
        expect: &[
            "cohorts[0].power: \"alwayson\" is quoted: write one of AlwaysOn, BusinessHours, \
             Intermittent without quotes (did you mean `AlwaysOn`?)",
        ],
    },
    Case {
        what: "a choice in quotes in a list",
        from: "Update(id: \"KB2\",",
        to: "Update(id: \"KB2\", classification: \"Security\",",
        expect: &["updates[1].classification: \"Security\" is quoted: write one of Security,"],
    },
];

/// Writes `text` as `bad.ron` in a fresh directory and checks it as
/// [`check_file`] does; fails the test with what went wrong.
fn check_text(text: &str, what: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.ron"), text).expect("write");
    let wrong = check_file(dir.path(), "bad.ron", what, expect);
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// Checks one broken file through `validate` and `run`: exit code 2, every
/// expected fragment, nothing written. Returns what went wrong, if anything.
fn check_file(dir: &Path, file: &str, what: &str, expect: &[&str]) -> Vec<String> {
    let mut wrong = Vec::new();
    let out_dir = dir.join("out");
    for args in [
        vec!["validate", file],
        vec!["run", file, "--out", "out", "--check", "--quiet"],
    ] {
        let o = patchsim(&args, dir);
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.code() != Some(2) {
            wrong.push(format!(
                "{what} ({}): exit code {:?}, not 2\n{err}",
                args[0],
                o.status.code()
            ));
        }
        for e in expect {
            if !err.contains(e) {
                wrong.push(format!(
                    "{what} ({}): the message lacks {e:?}\n{err}",
                    args[0]
                ));
            }
        }
        if err.contains("panicked") {
            wrong.push(format!("{what}: a panic\n{err}"));
        }
        if out_dir.exists() {
            wrong.push(format!("{what}: the output directory was created"));
            let _ = std::fs::remove_dir_all(&out_dir);
        }
    }
    wrong
}

#[test]
fn every_bad_input_names_its_place_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let template = common::ron(&common::Knobs::default());
    let mut wrong = Vec::new();
    for case in CASES {
        assert!(
            template.contains(case.from),
            "{}: the template contains {:?}",
            case.what,
            case.from
        );
        std::fs::write(
            dir.path().join("bad.ron"),
            template.replacen(case.from, case.to, 1),
        )
        .expect("write");
        wrong.extend(check_file(dir.path(), "bad.ron", case.what, case.expect));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// A number out of range, given by a flag or a `--set`, says which
/// numbers are allowed; every message is in lower case.
#[test]
fn numbers_out_of_range_name_the_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("s.ron"),
        common::ron(&common::Knobs::default()),
    )
    .expect("write");
    let cases: [(&[&str], &str); 7] = [
        (
            &["validate", "s.ron", "--set", "busy_threshold_pct=-1"],
            "error: --set busy_threshold_pct=-1: '-1': number out of range for this field: must \
             be between 1 and 100 (a whole percent), got -1",
        ),
        (
            &[
                "validate",
                "s.ron",
                "--set",
                "cohorts[0].count=18446744073709551616",
            ],
            "number out of range for this field: must be between 1 and 10000000, got \
             18446744073709551616",
        ),
        (
            &[
                "validate",
                "s.ron",
                "--set",
                "sync.catalog=Some(WsusCatalog(updates: -5))",
            ],
            "must be between 1 and 1000000, got -5",
        ),
        (
            &["validate", "s.ron", "--set", "cohorts[0]=5"],
            "error: --set cohorts[0]=5: '5': expected `Cohort(...)` here",
        ),
        (
            &["run", "s.ron", "--busy-above", "50.5"],
            "error: invalid value '50.5' for '--busy-above <PERCENT>': the busy threshold is a \
             whole percent from 1 to 100",
        ),
        (
            &["run", "s.ron", "--seed", "-1"],
            "error: invalid value '-1' for '--seed <SEED>': the seed is a whole number from 0 to \
             18446744073709551615 (2^64 - 1)",
        ),
        (
            &[
                "explain",
                "s.ron",
                "--client",
                "0",
                "--seed",
                "18446744073709551616",
            ],
            "the seed is a whole number from 0 to 18446744073709551615",
        ),
    ];
    for (args, expect) in cases {
        let o = patchsim(args, dir.path());
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {expect}\n{err}");
        assert!(!err.contains("-- -1"), "{args:?}: {err}");
        let message = err.trim_start_matches("error: ");
        assert!(
            !message.starts_with(|c: char| c.is_ascii_uppercase()) && !err.contains(": Expected"),
            "{args:?}: lower case\n{err}"
        );
    }
    assert!(!dir.path().join("out").exists());
}

/// A file that cannot be read, is not UTF-8, or holds no scenario at all.
#[test]
fn unreadable_files_are_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wrong = check_file(
        dir.path(),
        "nope.ron",
        "a missing file",
        &["nope.ron: cannot read: No such file or directory"],
    );
    std::fs::write(
        dir.path().join("latin1.ron"),
        b"Scenario(\n  name: \"caf\xe9\",\n)",
    )
    .expect("write");
    wrong.extend(check_file(
        dir.path(),
        "latin1.ron",
        "a file that is not UTF-8",
        &["latin1.ron:2:13: the file is not UTF-8 text (byte 0xe9); save it as UTF-8"],
    ));
    // A file of white space only (1 MB of it) is read to its end, and
    // said so there; an empty file too.
    let blank = format!("\n  \n{}", " ".repeat(1_000_000));
    std::fs::write(dir.path().join("blank.ron"), blank).expect("write");
    wrong.extend(check_file(
        dir.path(),
        "blank.ron",
        "a file of white space",
        &["blank.ron:3:1000001: unexpected end of the file: it holds no scenario, only white space"],
    ));
    std::fs::write(dir.path().join("empty.ron"), "").expect("write");
    wrong.extend(check_file(
        dir.path(),
        "empty.ron",
        "an empty file",
        &["empty.ron:1:1: unexpected end of the file: it is empty"],
    ));
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// A scenario far beyond any machine's memory fails up front with the
/// estimate and the limit, not with an out-of-memory kill.
#[test]
#[cfg(target_os = "linux")]
fn a_scenario_too_big_for_memory_fails_up_front() {
    // A million clients (a hierarchy: a primary holds 150,000) and a
    // thousand deployments of every one: their assignments alone need
    // 64 GB.
    let million = std::fs::read_to_string("scenarios/million.ron").expect("reads");
    let every: Vec<&str> = (million.split("Cohort(name: ").skip(1))
        .filter_map(|rest| rest.split(',').next())
        .collect();
    assert_eq!(every.len(), 252);
    let every = every.join(", ");
    let deployments: String = (0..1000)
        .map(|i| {
            format!(
                "Deployment(name: \"d{i}\", updates: [\"KB5046617\"], targets: [{every}], created: \"2026-11-11T09:00:00+01:00\"),\n"
            )
        })
        .collect();
    let text = million.replacen("deployments: [", &format!("deployments: [{deployments}"), 1);
    check_text(
        &text,
        "too big for memory",
        &[
            "bad.ron: cohorts[].count: the run needs about ",
            "B of memory, more than the ",
            "available (MemAvailable in /proc/meminfo)",
            "estimate: 1000000 clients × ",
            "latency histograms × ",
            "use fewer clients (cohorts[].count), fewer cohorts or deployments, or a longer sample_interval",
        ],
    );
}

/// A deployment whose updates add up to more than 1 PB is refused (a
/// download is counted in millibits in 64 bits).
#[test]
fn a_deployment_over_a_petabyte_is_refused() {
    let updates: String = (0..1001)
        .map(|i| format!("Update(id: \"big{i}\", size: \"1TB\"),\n"))
        .collect();
    let ids: String = (0..1001).map(|i| format!("\"big{i}\", ")).collect();
    let text = common::ron(&common::Knobs::default())
        .replacen("updates: [\n", &format!("updates: [\n{updates}"), 1)
        .replacen("updates: [\"KB1\",", &format!("updates: [{ids}\"KB1\","), 1);
    check_text(
        &text,
        "a deployment over 1 PB",
        &["deployments[0] (cu).updates: must add up to at most 1PB, got 1001000450000000 bytes"],
    );
}

/// An output directory that holds someone else's files is not written
/// into without `--force`; an earlier patchsim output is.
#[test]
fn a_foreign_output_directory_needs_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs {
        always_on: 20,
        desktops: 20,
        days: 2,
        ..Default::default()
    });
    std::fs::write(dir.path().join("ok.ron"), text).expect("write");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("thesis.tex"), "mine").expect("write");
    let o = patchsim(&["run", "ok.ron", "--out", "out", "--quiet"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: out: the output directory is not empty and is not a patchsim output (it holds thesis.tex")
            && err.contains("add --force to write into it anyway"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&out).expect("out").count(),
        1,
        "nothing written"
    );

    let o = patchsim(
        &["run", "ok.ron", "--out", "out", "--quiet", "--force"],
        dir.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "mine"
    );
    assert!(out.join("summary.json").exists());
    // Once the files are in place, the last line says so.
    let o = patchsim(&["run", "ok.ron", "--out", "out", "--force"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let printed = String::from_utf8_lossy(&o.stdout);
    assert!(
        (printed.lines().last())
            .is_some_and(|l| l.starts_with("wrote ") && l.ends_with("out/report.html")),
        "{printed}"
    );
    // A directory where a file goes fails --force before any file moves.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(blocked.join("summary.json")).expect("mkdir");
    std::fs::write(blocked.join("thesis.tex"), "mine").expect("write");
    // The summary is printed first, but not that the files were written.
    let o = patchsim(
        &["run", "ok.ron", "--out", "blocked", "--force"],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("summary.json: a directory of that name is in the way"),
        "{err}"
    );
    let printed = String::from_utf8_lossy(&o.stdout);
    assert!(printed.contains("state messages"), "{printed}");
    assert!(!printed.contains("wrote"), "{printed}");
    let mut left: Vec<_> = (std::fs::read_dir(&blocked).expect("blocked"))
        .map(|e| e.expect("entry").file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["summary.json", "thesis.tex"], "nothing moved in");
    // An earlier output with someone else's file in it would lose that
    // file if replaced whole: refused, and --force writes beside it again.
    let o = patchsim(&["run", "ok.ron", "--out", "out", "--quiet"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: out: holds a patchsim run's output but also thesis.tex, which patchsim did not write"),
        "{err}"
    );
    std::fs::remove_file(out.join("thesis.tex")).expect("rm");
    let o = patchsim(&["run", "ok.ron", "--out", "out", "--quiet"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The hand-broken copies of `scenarios/patch-tuesday.ron`: each gives the
/// message its `// expect:` lines name, and no panic.
#[test]
fn hand_broken_scenarios_say_what_and_where() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let invalid = root.join("scenarios/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&invalid)
        .expect("scenarios/invalid")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension() == Some("ron".as_ref()))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "ten hand-broken scenarios");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wrong = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read(&f).expect("read");
        let expect: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|l| l.strip_prefix("// expect: "))
            .map(|e| e.replace("{file}", &name))
            .collect();
        assert!(!expect.is_empty(), "{name} says what it must give");
        std::fs::write(dir.path().join(&name), &text).expect("copy");
        let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
        wrong.extend(check_file(dir.path(), &name, &name, &expect));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// A long name listed twice is quoted cut, as in every other message that
/// quotes a name.
#[test]
fn a_long_name_listed_twice_is_cut() {
    let long = "d".repeat(100);
    let text = common::ron(&common::Knobs::default())
        .replace("\"desktops\"", &format!("\"{long}\""))
        .replacen(
            "targets: [\"always-on\",",
            &format!("targets: [\"{long}\","),
            1,
        );
    let cut = format!("{}…", "d".repeat(60));
    check_text(
        &text,
        "a long name listed twice",
        &[&format!(
            "deployments[0] (cu).targets[1]: cohort '{cut}' is listed twice; remove one"
        )],
    );
}

/// More servers of one role than the model's 16-bit ids number are refused
/// by validation, with the limit, instead of wrapping around.
#[test]
fn too_many_servers_of_one_role_are_refused() {
    let sups: String = (0..65_536)
        .map(|i| format!("UpdatePoint(name: \"s{i}\"),"))
        .collect();
    let text = common::ron(&common::Knobs::default()).replacen(
        "update_points: [UpdatePoint(name: \"sup\")]",
        &format!("update_points: [UpdatePoint(name: \"sup\"), {sups}]"),
        1,
    );
    check_text(
        &text,
        "65,537 update points",
        &[
            "servers.update_points: too many update points (65537); at most 65535 are allowed",
            "servers: 1 management points, 65537 update points and 1 state system make 65539 queueing stations; at most 65535 are allowed",
        ],
    );
}

/// A byte order mark, as Windows editors write, is skipped: the file
/// validates, and an error's column is the one the editor shows.
#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs::default());
    std::fs::write(dir.path().join("bom.ron"), format!("\u{feff}{text}")).expect("write");
    let o = patchsim(&["validate", "bom.ron"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("bom.ron: ok ("));
    let broken = text.replacen("Scenario(", "Scenario[", 1);
    std::fs::write(dir.path().join("bom.ron"), format!("\u{feff}{broken}")).expect("write");
    let o = patchsim(&["validate", "bom.ron"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bom.ron:1:9:"), "{err}");
}

/// Validation problems point into the file as written: the line and
/// column of the bad value, or of the entry that lacks a value; none with
/// `--set`, whose values the file does not hold.
#[test]
fn validation_problems_give_their_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "\u{feff}// a comment, then the scenario\n\
        Scenario(name: \"lines\", seed: 5, start: \"2026-11-10T00:00:00+01:00\", duration: \"1d\",\n\
        \x20 servers: Servers(management_points: [ManagementPoint(name: \"mp01\")],\n\
        \x20   update_points: [UpdatePoint(name: \"sup01\")],\n\
        \x20   distribution_points: [DistributionPoint(name: \"dp01\")]),\n\
        \x20 client_settings: ClientSettings(policy_polling_interval: \"1m\"),\n\
        \x20 cohorts: [Cohort(name: \"pcs\", count: 10, power: AlwaysOn,\n\
        \x20   management_point: \"mp01\", update_point: \"sup01\", distribution_point: \"dp01\")],\n\
        \x20 updates: [Update(id: \"KB1\", size: \"650MB\"),\n\
        \x20   Update(id: \"KB2\", size: \"80MB\", applicability: 97)],\n\
        \x20 deployments: [Deployment(name: \"cu\", updates: [\"KB1\", \"KB9\"], targets: [\"pcs\"],\n\
        \x20   created: \"2026-11-10T09:00:00+01:00\", deadline: \"2026-11-10T08:00:00+01:00\")])\n";
    std::fs::write(dir.path().join("lines.ron"), text).expect("write");
    let o = patchsim(&["validate", "lines.ron"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for expect in [
        "lines.ron:6:60: client_settings.policy_polling_interval: must be between 3m and 1d",
        "lines.ron:10:52: updates[1] (KB2).applicability: must be between 0 and 1, got 97",
        "lines.ron:11:57: deployments[0] (cu).updates[1]: unknown update 'KB9'",
        "lines.ron:12:53: deployments[0] (cu).deadline:",
    ] {
        assert!(err.contains(expect), "lacks {expect:?}:\n{err}");
    }
    // With --set, no place: the value may not be the file's.
    let o = patchsim(
        &["validate", "lines.ron", "--set", "duration=2d"],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("\n  client_settings.policy_polling_interval: must be between 3m and 1d"),
        "{err}"
    );
    assert!(!err.contains("lines.ron:6:"), "{err}");
}
