//! Small scenarios for the integration tests, built from one RON template,
//! and the helpers they share: a traced and law-checked run, a binomial
//! tolerance.
#![allow(dead_code)]

use patchsim::estate::Estate;
use patchsim::model::Outcome;
use patchsim::scenario;

/// Runs the patchsim binary with `args` in directory `cwd`.
pub fn patchsim(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_patchsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("patchsim runs")
}

/// What a run wrote to its standard error.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that a run of the binary exited 0, showing its standard error
/// if not.
#[track_caller]
pub fn assert_ok(o: &std::process::Output) {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
}

/// Knobs the tests turn; everything else is fixed.
pub struct Knobs {
    pub seed: u64,
    pub always_on: u32,
    pub desktops: u32,
    pub days: u32,
    pub poll: &'static str,
    pub sample: &'static str,
    pub randomize_deadline: bool,
    pub failure: f64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            seed: 7,
            always_on: 300,
            desktops: 300,
            days: 12,
            poll: "60m",
            sample: "1h",
            randomize_deadline: false,
            failure: 0.05,
        }
    }
}

/// The scenario text for these knobs. Time zero is a Monday; KB1 is
/// released on day 1 at 08:00 and synced by a manual sync at 09:00; KB2 was
/// released before the start. The deployment is created on day 1 at 10:00
/// with a deadline on day 3 at 20:00.
pub fn ron(k: &Knobs) -> String {
    Scenario::new("test")
        .seed(k.seed)
        .start("2026-11-09T00:00:00+01:00")
        .duration(&format!("{}d", k.days))
        .sample_interval(k.sample)
        .sync(r#"manual: ["2026-11-10T09:00:00+01:00"]"#)
        .body(&format!(
            r#"client_settings: ClientSettings(
        policy_polling_interval: "{poll}",
        deadline_randomization: {rand},
    ),
    cohorts: [
        Cohort(name: "always-on", count: {always_on}, management_point: "mp", update_point: "sup", distribution_point: "dp"),
        Cohort(name: "desktops", count: {desktops}, power: BusinessHours(start: "08:00", end: "17:00", jitter: "1h"),
               link: "20Mbps", management_point: "mp", update_point: "sup", distribution_point: "dp"),
    ],
    updates: [
        Update(id: "KB1", size: "400MB", applicability: 0.9, failure_probability: {failure},
               release: "2026-11-10T08:00:00+01:00"),
        Update(id: "KB2", size: "50MB", applicability: 0.5, restart_probability: 0.2),
    ],
    deployments: [
        Deployment(name: "cu", updates: ["KB1", "KB2"], targets: ["always-on", "desktops"],
                   created: "2026-11-10T10:00:00+01:00", deadline: "2026-11-12T20:00:00+01:00"),
    ],"#,
            poll = k.poll,
        rand = k.randomize_deadline,
        always_on = k.always_on,
        desktops = k.desktops,
        failure = k.failure,
        ))
        .text()
        .replace("count: 0,", "count: 1,")
}

/// Parses and validates scenario text.
pub fn estate_of(text: &str) -> Estate {
    let raw = scenario::parse(text, "test.ron").unwrap_or_else(|e| panic!("{e}"));
    scenario::build(raw, "test.ron").unwrap_or_else(|e| panic!("{e}"))
}

/// A small estate from Monday 2026-11-09 00:00 UTC: one MP, SUP and DP
/// (`mp`, `sup`, `dp`), content ready at the site 30 minutes after a
/// deployment is created, and `body`: its cohorts, updates and
/// deployments, and any other top-level fields.
pub fn small(name: &str, seed: u64, duration: &str, body: &str) -> Estate {
    Scenario::new(name)
        .seed(seed)
        .duration(duration)
        .body(body)
        .estate()
}

/// The fields of a distribution point with room for a whole estate's
/// downloads at once.
pub const FAST_DP: &str = r#"bandwidth: "10Gbps", max_connections: 3000"#;

/// Scenario text, built from the header most tests share: a scenario
/// starting Monday 2026-11-09 00:00 UTC, content ready at the site 30
/// minutes after a deployment is created, and one MP, SUP and DP (`mp`,
/// `sup`, `dp`). Each method replaces one part; [`Scenario::body`] takes
/// the rest (cohorts, updates, deployments and any other top-level
/// field: RON does not care about their order).
#[derive(Clone, Debug)]
pub struct Scenario {
    name: String,
    seed: Option<u64>,
    start: String,
    duration: Option<String>,
    sample_interval: Option<String>,
    site: Option<String>,
    sync: Option<String>,
    mps: String,
    sups: String,
    dps: String,
    servers: String,
    body: String,
}

impl Scenario {
    /// The shared header, named `name`, with no seed, duration, sample
    /// interval or sync (the defaults) and an empty body.
    pub fn new(name: &str) -> Self {
        Scenario {
            name: name.to_string(),
            seed: None,
            start: "2026-11-09T00:00:00Z".to_string(),
            duration: None,
            sample_interval: None,
            site: Some(r#"content_ready_delay: Fixed("30m")"#.to_string()),
            sync: None,
            mps: r#"ManagementPoint(name: "mp")"#.to_string(),
            sups: r#"UpdatePoint(name: "sup")"#.to_string(),
            dps: r#"DistributionPoint(name: "dp")"#.to_string(),
            servers: String::new(),
            body: String::new(),
        }
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Time zero, as a timestamp.
    pub fn start(mut self, start: &str) -> Self {
        self.start = start.to_string();
        self
    }

    pub fn duration(mut self, duration: &str) -> Self {
        self.duration = Some(duration.to_string());
        self
    }

    pub fn sample_interval(mut self, interval: &str) -> Self {
        self.sample_interval = Some(interval.to_string());
        self
    }

    /// The fields of `Site(..)`, in place of the 30-minute content delay.
    pub fn site(mut self, fields: &str) -> Self {
        self.site = Some(fields.to_string());
        self
    }

    /// No `site` field: the site's defaults.
    pub fn no_site(mut self) -> Self {
        self.site = None;
        self
    }

    /// The fields of `Sync(..)`.
    pub fn sync(mut self, fields: &str) -> Self {
        self.sync = Some(fields.to_string());
        self
    }

    /// More fields of the management point `mp`.
    pub fn mp(mut self, fields: &str) -> Self {
        self.mps = format!(r#"ManagementPoint(name: "mp", {fields})"#);
        self
    }

    /// The update points, in place of `sup`.
    pub fn sups(mut self, list: &str) -> Self {
        self.sups = list.to_string();
        self
    }

    /// More fields of the distribution point `dp` (such as [`FAST_DP`]).
    pub fn dp(mut self, fields: &str) -> Self {
        self.dps = format!(r#"DistributionPoint(name: "dp", {fields})"#);
        self
    }

    /// The distribution points, in place of `dp`.
    pub fn dps(mut self, list: &str) -> Self {
        self.dps = list.to_string();
        self
    }

    /// More fields of `Servers(..)` after the three lists, each ending
    /// with a comma.
    pub fn servers(mut self, fields: &str) -> Self {
        self.servers = fields.to_string();
        self
    }

    /// The other top-level fields.
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_string();
        self
    }

    /// The scenario text.
    pub fn text(&self) -> String {
        let mut t = format!("Scenario(\n    name: {:?},\n", self.name);
        if let Some(seed) = self.seed {
            t += &format!("    seed: {seed},\n");
        }
        t += &format!("    start: {:?},\n", self.start);
        if let Some(duration) = &self.duration {
            t += &format!("    duration: {duration:?},\n");
        }
        if let Some(interval) = &self.sample_interval {
            t += &format!("    sample_interval: {interval:?},\n");
        }
        if let Some(site) = &self.site {
            t += &format!("    site: Site({site}),\n");
        }
        if let Some(sync) = &self.sync {
            t += &format!("    sync: Sync({sync}),\n");
        }
        t += &format!(
            "    servers: Servers(\n        management_points: [{}],\n        update_points: [{}],\n        distribution_points: [{}],\n",
            self.mps, self.sups, self.dps
        );
        if !self.servers.is_empty() {
            t += &format!("        {}\n", self.servers);
        }
        t += &format!("    ),\n    {}\n)", self.body);
        t
    }

    /// The estate the text describes (panics if it is invalid).
    pub fn estate(&self) -> Estate {
        estate_of(&self.text())
    }
}

/// The error reading and validating scenario text gives (panics if it is
/// valid).
pub fn build_error(text: &str) -> String {
    scenario::parse(text, "test.ron")
        .map_err(|e| e.to_string())
        .and_then(|raw| scenario::build(raw, "test.ron").map_err(|e| e.to_string()))
        .map(|_| ())
        .expect_err("an invalid scenario")
}

/// The bytes the DPs served are those clients received from DPs, to the
/// byte, once no download from a DP is under way (until then the DPs have
/// counted bytes their clients have not: never fewer).
pub fn assert_dp_bytes_conserved(out: &Outcome) {
    let served: u64 = (out.servers.iter())
        .filter(|s| s.role == patchsim::model::ServerRole::DistributionPoint)
        .map(|s| s.bytes)
        .sum();
    let received = out.totals.bytes_from_dp;
    if out.dp_downloads_at_end == 0 {
        assert_eq!(
            served, received,
            "the DPs served {served} bytes, clients received {received} from them"
        );
    } else {
        assert!(
            served >= received,
            "the DPs served {served} bytes, clients received {received} from them ({} downloads under way)",
            out.dp_downloads_at_end
        );
    }
}

/// Runs an estate to its end, nothing watched.
pub fn simulate(estate: &Estate) -> Outcome {
    patchsim::model::run(estate, Default::default()).expect("a run without a stop hook completes")
}

/// Runs an estate with every law checked on the way (`patchsim run
/// --check`); a violation fails the test.
pub fn checked(estate: &Estate) -> Outcome {
    patchsim::app::run_checked(estate).unwrap_or_else(|v| panic!("a law broke: {v}"))
}

/// Builds and runs the scenario for these knobs, with every law checked
/// as it goes (`patchsim run --check`).
pub fn run(k: &Knobs) -> (Estate, Outcome) {
    let estate = estate_of(&ron(k));
    let outcome = patchsim::app::run_checked(&estate).unwrap_or_else(|v| {
        panic!(
            "{v}\n{}",
            reproduce_hint(&format!("<the test scenario, seed {}>", k.seed), k.seed)
        )
    });
    (estate, outcome)
}

/// How to reproduce a failing run from the command line.
pub fn reproduce_hint(file: &str, seed: u64) -> String {
    format!("reproduce: patchsim run {file} --seed {seed} --check")
}

/// The staging directories of a command writing `out` in `dir` (beside
/// it: `.OUT.patchsim-new-XXXXXX`).
pub fn staging_dirs(dir: &std::path::Path, out: &str) -> Vec<std::path::PathBuf> {
    let prefix = format!(".{out}.patchsim-new-");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether this process ignores `signal` (`"INT"`, `"HUP"`, ...), as it
/// does when it was started in the background of a script (SIGINT) or
/// under `nohup` (SIGHUP). A child inherits that, and patchsim keeps a
/// signal ignored at start ignored (docs/cli.md), so a test that sends it
/// has nothing to check.
pub fn ignored_here(signal: &str) -> bool {
    let number = match signal {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "TERM" => 15,
        _ => return false,
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (number - 1)) != 0)
}

/// Starts `patchsim run` on the embedded month-long scenario (seconds of
/// work), waits until the run is under way (its trace file exists in the
/// staging directory beside `out`) and sends it `signal`. `None`, with a
/// note, when this process ignores the signal ([`ignored_here`]).
pub fn signal_a_run(
    dir: &std::path::Path,
    out: &str,
    signal: &str,
) -> Option<std::process::Output> {
    signal_when(
        dir,
        &["run", "--out", out, "--trace-clients", "0"],
        || {
            staging_dirs(dir, out)
                .iter()
                .any(|d| d.join("trace.jsonl").exists())
        },
        signal,
    )
}

/// Starts the patchsim binary with `args` (a command that writes `--out
/// out` and catches the stop signals before it makes its staging
/// directory, as `size` does), waits until that directory exists beside
/// `out` and sends it `signal`. `None`, with a note, when this process
/// ignores the signal ([`ignored_here`]).
pub fn signal_a_command(
    dir: &std::path::Path,
    args: &[&str],
    out: &str,
    signal: &str,
) -> Option<std::process::Output> {
    signal_when(dir, args, || !staging_dirs(dir, out).is_empty(), signal)
}

/// Starts the patchsim binary with `args` in `dir`, waits (up to a
/// minute) until `started` says it is under way, sends it `signal` and
/// returns what it printed and how it ended.
pub fn signal_when(
    dir: &std::path::Path,
    args: &[&str],
    started: impl Fn() -> bool,
    signal: &str,
) -> Option<std::process::Output> {
    if ignored_here(signal) {
        eprintln!(
            "SIG{signal} is ignored in this process (started in the background or under nohup) and so in patchsim: not sent"
        );
        return None;
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_patchsim"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("patchsim starts");
    let since = std::time::Instant::now();
    while !started() {
        assert!(
            since.elapsed() < std::time::Duration::from_secs(60),
            "the command never got under way"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    Some(child.wait_with_output().expect("patchsim exits"))
}

/// Runs `estate` once with every client traced and every law checked on
/// the way (a violation fails the test): the outcome and the trace
/// records, in order.
pub fn traced(estate: &Estate) -> (Outcome, Vec<patchsim::model::TraceRecord>) {
    use patchsim::app::Ended;
    use patchsim::model::{TraceRecord, Tracer};
    let records = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = records.clone();
    let tracer = Tracer::new(
        Box::new(move |r: &TraceRecord| sink.borrow_mut().push(*r)),
        None,
    );
    // One run, traced and checked.
    let outcome = match patchsim::app::simulate(estate, Some(tracer), true, None, None) {
        Ended::Completed(outcome) => *outcome,
        Ended::Broken(v) => panic!("{v}"),
        Ended::Interrupted(_) => unreachable!("no interrupt flag"),
    };
    let records = records.borrow().clone();
    (outcome, records)
}

/// Asserts that `count` successes of `n` trials with probability `p` are
/// within 4.5 standard deviations of the binomial mean (a false alarm
/// about once in 150,000 runs).
pub fn within(count: f64, n: f64, p: f64, what: &str) {
    let tol = 4.5 * (n * p * (1.0 - p)).sqrt();
    assert!(
        (count - n * p).abs() <= tol,
        "{what}: {count}, expected {} ± {tol}",
        n * p
    );
}
