//! True and reported compliance: per-update states, per-deployment roll-ups,
//! and the counters the timeline is read from.
//!
//! Owns the state enums and the rule that turns a client's per-update states
//! into one deployment-level state. Counters are kept up to date on every
//! change, so a sample costs nothing per client.

/// A client's state for a deployment, as a compliance report counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Compliance {
    /// Every applicable update is installed (and restarted, if it needed it).
    Installed = 0,
    /// At least one applicable update is missing or waits for a restart.
    Required = 1,
    /// No update of the deployment applies.
    NotRequired = 2,
    /// Not known: the site has no state for at least one update.
    Unknown = 3,
}

impl Compliance {
    /// All four, in column order.
    pub const ALL: [Compliance; 4] = [
        Compliance::Installed,
        Compliance::Required,
        Compliance::NotRequired,
        Compliance::Unknown,
    ];

    /// Column name.
    pub fn name(self) -> &'static str {
        match self {
            Compliance::Installed => "installed",
            Compliance::Required => "required",
            Compliance::NotRequired => "not_required",
            Compliance::Unknown => "unknown",
        }
    }

    /// Installed or not required: nothing left to do.
    pub fn is_compliant(self) -> bool {
        matches!(self, Compliance::Installed | Compliance::NotRequired)
    }
}

/// Where a truly Required client stands in enforcement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum RequiredSub {
    /// The client has not evaluated the deployment yet (no policy, or the
    /// evaluation scan has not finished).
    NotEvaluated = 0,
    /// Evaluated as required; download not started.
    Detected = 1,
    /// Downloading content.
    Downloading = 2,
    /// Content downloaded; waiting for the deadline (or, for an Available
    /// deployment, for the user).
    Downloaded = 3,
    /// Deadline passed; waiting for a maintenance window long enough.
    WaitingWindow = 4,
    /// Installing (or verifying the install).
    Installing = 5,
    /// Installed; waiting for the restart.
    PendingRestart = 6,
    /// The last install failed; waiting for re-evaluation.
    Failed = 7,
}

impl RequiredSub {
    /// All of them, in column order.
    pub const ALL: [RequiredSub; 8] = [
        RequiredSub::NotEvaluated,
        RequiredSub::Detected,
        RequiredSub::Downloading,
        RequiredSub::Downloaded,
        RequiredSub::WaitingWindow,
        RequiredSub::Installing,
        RequiredSub::PendingRestart,
        RequiredSub::Failed,
    ];

    /// Column name.
    pub fn name(self) -> &'static str {
        match self {
            RequiredSub::NotEvaluated => "not_evaluated",
            RequiredSub::Detected => "detected",
            RequiredSub::Downloading => "downloading",
            RequiredSub::Downloaded => "downloaded",
            RequiredSub::WaitingWindow => "waiting_window",
            RequiredSub::Installing => "installing",
            RequiredSub::PendingRestart => "pending_restart",
            RequiredSub::Failed => "failed",
        }
    }
}

/// What is really on a client for one update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Truth {
    /// The update does not apply to this client.
    NotRequired,
    /// It applies and is not installed.
    Missing,
    /// Being installed; the attempt will succeed.
    InstallingOk,
    /// Being installed; the attempt will fail.
    InstallingFail,
    /// Being installed; the attempt will outrun its max run time: the client
    /// stops watching it then and reports it failed, and it goes on in the
    /// background.
    InstallingOverrun,
    /// Still installing in the background after the client reported it
    /// failed (it outran its max run time); it will succeed.
    Background,
    /// Installed; takes effect at the next restart.
    PendingRestart,
    /// Installed and in effect.
    Installed,
    /// Not managed by this site (a conflicting domain GPO points the client
    /// at another update server): unknown.
    Unmanaged,
}

impl Truth {
    /// The state message (topic 500) a scan reports for it.
    pub(crate) fn detection_state(self) -> u8 {
        match self {
            Truth::NotRequired => DETECTION_NOT_REQUIRED,
            Truth::Installed => DETECTION_INSTALLED,
            Truth::Unmanaged => DETECTION_UNKNOWN,
            _ => DETECTION_REQUIRED,
        }
    }

    /// How a per-update compliance count sees it.
    pub(crate) fn compliance(self) -> Compliance {
        match self {
            Truth::NotRequired => Compliance::NotRequired,
            Truth::Installed => Compliance::Installed,
            Truth::Unmanaged => Compliance::Unknown,
            _ => Compliance::Required,
        }
    }
}

/// A state message waiting on a client or in transit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StateMsg {
    /// Topic type (500 detection, 501 scan, 300 compliance, 301 enforcement,
    /// 302 evaluation, 402 update enforcement).
    pub(crate) topic: u16,
    /// State id within the topic.
    pub(crate) state: u8,
    /// The update (topics 500, 402) or deployment (topics 30x) it is about.
    pub(crate) subject: u16,
    /// When the client queued it.
    pub(crate) queued_at: crate::engine::SimTime,
}

/// State message topic: per-update detection.
pub(crate) const TOPIC_DETECTION: u16 = 500;
/// State message topic: deployment compliance (1 compliant, 2 non-compliant).
pub(crate) const TOPIC_COMPLIANCE: u16 = 300;
/// State message topic: deployment enforcement.
pub(crate) const TOPIC_ENFORCEMENT: u16 = 301;
/// State message topic: deployment evaluation (2 succeeded).
pub(crate) const TOPIC_EVALUATION: u16 = 302;
/// State message topic: update-source scan (3 completed, 5 failed).
pub(crate) const TOPIC_SCAN: u16 = 501;
/// State message topic: per-update enforcement.
pub(crate) const TOPIC_UPDATE_ENFORCEMENT: u16 = 402;

/// What a state message means, as Configuration Manager names its topic
/// and state ids ("Description of state messaging in Configuration
/// Manager"): `None` for an id the topic does not define.
pub fn state_message_name(topic: u16, state: u8) -> Option<&'static str> {
    let names: &[&str] = match topic {
        TOPIC_COMPLIANCE => &[
            "compliance unknown",
            "deployment compliant",
            "deployment non-compliant",
            "compliance conflict",
        ],
        TOPIC_ENFORCEMENT => &[
            "enforcement unknown",
            "installing",
            "waiting for restart",
            "waiting for another install",
            "successfully installed",
            "pending system restart",
            "failed to install",
            "downloading",
            "downloaded",
            "failed to download",
            "waiting for maintenance window",
            "waiting for third-party orchestrator",
        ],
        TOPIC_EVALUATION => &[
            "evaluation unknown",
            "evaluation activated",
            "evaluation succeeded",
            "evaluation failed",
        ],
        TOPIC_UPDATE_ENFORCEMENT => &[
            "update enforcement unknown",
            "update enforcement started",
            "update waiting for content",
            "update waiting for another install",
            "update waiting for maintenance window",
            "update needs a restart before installing",
            "update general failure",
            "update pending installation",
            "update installing",
            "update pending restart",
            "update installed",
            "update failed to install",
            "update downloading",
            "update downloaded",
            "update failed to download",
        ],
        TOPIC_DETECTION => &[
            "detection: unknown",
            "detection: not required",
            "detection: required",
            "detection: installed",
        ],
        TOPIC_SCAN => &[
            "scan state unknown",
            "scan waiting for catalog location",
            "scan running",
            "scan completed",
            "scan pending retry",
            "scan failed",
            "scan completed with errors",
        ],
        _ => &[],
    };
    names.get(usize::from(state)).copied()
}

/// Topic 501 states.
pub(crate) const SCAN_COMPLETED: u8 = 3;
pub(crate) const SCAN_FAILED: u8 = 5;

/// Topic 301 (deployment enforcement) states.
pub(crate) const ENFORCE_INSTALLING: u8 = 1;
pub(crate) const ENFORCE_SUCCESS: u8 = 4;
pub(crate) const ENFORCE_PENDING_RESTART: u8 = 5;
pub(crate) const ENFORCE_FAILED: u8 = 6;
pub(crate) const ENFORCE_DOWNLOADING: u8 = 7;
pub(crate) const ENFORCE_DOWNLOADED: u8 = 8;
pub(crate) const ENFORCE_WAITING_WINDOW: u8 = 10;

/// Topic 402 (per-update enforcement) states.
pub(crate) const UPDATE_WAITING_CONTENT: u8 = 2;
pub(crate) const UPDATE_INSTALLING: u8 = 8;
pub(crate) const UPDATE_PENDING_RESTART: u8 = 9;
pub(crate) const UPDATE_INSTALLED: u8 = 10;
pub(crate) const UPDATE_FAILED: u8 = 11;
pub(crate) const UPDATE_DOWNLOADING: u8 = 12;

/// The Required sub-state the site reads from a deployment's last
/// enforcement (topic 301) state.
pub(crate) fn reported_sub(enforcement: u8) -> RequiredSub {
    match enforcement {
        ENFORCE_DOWNLOADING => RequiredSub::Downloading,
        ENFORCE_DOWNLOADED => RequiredSub::Downloaded,
        ENFORCE_WAITING_WINDOW => RequiredSub::WaitingWindow,
        ENFORCE_INSTALLING => RequiredSub::Installing,
        ENFORCE_PENDING_RESTART => RequiredSub::PendingRestart,
        ENFORCE_FAILED => RequiredSub::Failed,
        _ => RequiredSub::Detected,
    }
}

/// How a report counts a detection state id.
pub(crate) fn detection_compliance(state: u8) -> Compliance {
    match state {
        DETECTION_NOT_REQUIRED => Compliance::NotRequired,
        DETECTION_REQUIRED => Compliance::Required,
        DETECTION_INSTALLED => Compliance::Installed,
        _ => Compliance::Unknown,
    }
}

/// Topic 500 (per-update detection) state ids, as the site database keeps them.
pub(crate) const DETECTION_UNKNOWN: u8 = 0;
pub(crate) const DETECTION_NOT_REQUIRED: u8 = 1;
pub(crate) const DETECTION_REQUIRED: u8 = 2;
pub(crate) const DETECTION_INSTALLED: u8 = 3;

/// A client's progress through one deployment (its "assignment").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Not targeted at this client.
    Untargeted,
    /// Targeted; the client has no policy for it yet.
    Unaware,
    /// Policy received; evaluation scan due at `due`.
    EvalDue,
    /// Evaluation scan running.
    Evaluating,
    /// Required; content to download.
    NeedDownload,
    /// Downloading.
    Downloading,
    /// Available: evaluated as required; the user starts it at `due`
    /// (`SimTime::MAX`: never).
    WaitUser,
    /// Downloaded; install due at `due` (the deadline).
    WaitDeadline,
    /// Deadline passed; the next window that fits opens at `due`.
    WaitWindow,
    /// Installing.
    Installing,
    /// Installed; waiting for the client to restart.
    PendingRestart,
    /// Verification scan due.
    VerifyDue,
    /// Verification scan running.
    Verifying,
    /// Required, content to download: the scan that confirms the updates
    /// are still required before the download is running.
    ConfirmDownload,
    /// Required, downloaded, deadline passed: the scan that confirms the
    /// updates are still required before the install is running.
    ConfirmInstall,
    /// Install failed; retried at the next deployment re-evaluation.
    Failed,
    /// The scan failed (GPO conflict); retried at the next re-evaluation.
    ScanFailed,
    /// Nothing applies.
    NotRequired,
    /// Done.
    Compliant,
}

impl Phase {
    /// Whether the deployment waits for the running scan's results.
    pub(crate) fn awaits_scan(self) -> bool {
        matches!(
            self,
            Phase::Evaluating | Phase::Verifying | Phase::ConfirmDownload | Phase::ConfirmInstall
        )
    }

    /// The enforcement sub-state shown while the client is truly Required.
    fn required_sub(self) -> RequiredSub {
        match self {
            Phase::NeedDownload | Phase::WaitUser | Phase::ConfirmDownload => RequiredSub::Detected,
            Phase::WaitWindow => RequiredSub::WaitingWindow,
            Phase::Downloading => RequiredSub::Downloading,
            Phase::WaitDeadline | Phase::ConfirmInstall => RequiredSub::Downloaded,
            Phase::Installing | Phase::VerifyDue | Phase::Verifying => RequiredSub::Installing,
            Phase::PendingRestart => RequiredSub::PendingRestart,
            Phase::Failed => RequiredSub::Failed,
            _ => RequiredSub::NotEvaluated,
        }
    }
}

/// A deployment-level state plus, when Required, its sub-state; for a
/// reported Unknown, whether the client's last scan report was a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub(crate) state: Compliance,
    pub(crate) sub: RequiredSub,
    pub(crate) scan_failed: bool,
}

impl Cell {
    pub(crate) const UNKNOWN: Cell = Cell {
        state: Compliance::Unknown,
        sub: RequiredSub::NotEvaluated,
        scan_failed: false,
    };

    /// Its name in a trace: `required/downloading`, `installed`,
    /// `unknown/scan_failed`.
    pub fn name(self) -> &'static str {
        use RequiredSub as S;
        match (self.state, self.sub, self.scan_failed) {
            (Compliance::Required, S::NotEvaluated, _) => "required/not_evaluated",
            (Compliance::Required, S::Detected, _) => "required/detected",
            (Compliance::Required, S::Downloading, _) => "required/downloading",
            (Compliance::Required, S::Downloaded, _) => "required/downloaded",
            (Compliance::Required, S::WaitingWindow, _) => "required/waiting_window",
            (Compliance::Required, S::Installing, _) => "required/installing",
            (Compliance::Required, S::PendingRestart, _) => "required/pending_restart",
            (Compliance::Required, S::Failed, _) => "required/failed",
            (Compliance::Unknown, _, true) => "unknown/scan_failed",
            (state, _, _) => state.name(),
        }
    }

    /// The report's state it counts as.
    pub fn state(self) -> Compliance {
        self.state
    }
}

impl serde::Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The true deployment-level state from the true per-update states.
pub(crate) fn true_cell(truths: impl Iterator<Item = Truth>, phase: Phase) -> Cell {
    let (mut required, mut installed, mut unknown) = (false, false, false);
    for t in truths {
        match t {
            Truth::NotRequired => {}
            Truth::Installed => installed = true,
            Truth::Unmanaged => unknown = true,
            _ => required = true,
        }
    }
    let required = required && !unknown;
    let state = if unknown {
        Compliance::Unknown
    } else if required {
        Compliance::Required
    } else if installed {
        Compliance::Installed
    } else {
        Compliance::NotRequired
    };
    Cell {
        state,
        sub: if required {
            phase.required_sub()
        } else {
            RequiredSub::NotEvaluated
        },
        scan_failed: false,
    }
}

/// The reported deployment-level state from the site database's per-update
/// detection states: Unknown until every update has been reported.
pub(crate) fn reported_state(states: impl Iterator<Item = u8>) -> Compliance {
    let (mut unknown, mut required, mut installed) = (false, false, false);
    for s in states {
        match s {
            DETECTION_UNKNOWN => unknown = true,
            DETECTION_REQUIRED => required = true,
            DETECTION_INSTALLED => installed = true,
            _ => {}
        }
    }
    if unknown {
        Compliance::Unknown
    } else if required {
        Compliance::Required
    } else if installed {
        Compliance::Installed
    } else {
        Compliance::NotRequired
    }
}

/// The reported deployment-level cell: state from the detection states,
/// sub-state from the last enforcement state, and the scan-failure flag.
pub(crate) fn reported_cell(states: impl Iterator<Item = u8>, enforcement: u8, scan: u8) -> Cell {
    let state = reported_state(states);
    Cell {
        state,
        sub: if state == Compliance::Required {
            reported_sub(enforcement)
        } else {
            RequiredSub::NotEvaluated
        },
        scan_failed: state == Compliance::Unknown && scan == SCAN_FAILED,
    }
}

/// Counts of one view (true or reported) of one deployment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ViewCounts {
    pub(crate) states: [u32; 4],
    pub(crate) sub: [u32; 8],
    pub(crate) unknown_scan_failed: u32,
}

impl ViewCounts {
    pub(crate) fn add(&mut self, cell: Cell) {
        self.states[cell.state as usize] += 1;
        if cell.state == Compliance::Required {
            self.sub[cell.sub as usize] += 1;
        }
        if cell.scan_failed {
            self.unknown_scan_failed += 1;
        }
    }

    pub(crate) fn remove(&mut self, cell: Cell) {
        self.states[cell.state as usize] -= 1;
        if cell.state == Compliance::Required {
            self.sub[cell.sub as usize] -= 1;
        }
        if cell.scan_failed {
            self.unknown_scan_failed -= 1;
        }
    }
}

/// Live counts for one deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) truth: ViewCounts,
    pub(crate) reported: ViewCounts,
    pub(crate) with_policy: u32,
}

impl Counts {
    pub(crate) fn compliant(states: &[u32; 4]) -> u32 {
        states[Compliance::Installed as usize] + states[Compliance::NotRequired as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_ups() {
        use Truth::*;
        let c = true_cell([NotRequired, Installed].into_iter(), Phase::Compliant);
        assert_eq!(c.state, Compliance::Installed);
        let c = true_cell(
            [PendingRestart, Installed].into_iter(),
            Phase::PendingRestart,
        );
        assert_eq!(
            (c.state, c.sub),
            (Compliance::Required, RequiredSub::PendingRestart)
        );
        let c = true_cell([NotRequired].into_iter(), Phase::Unaware);
        assert_eq!(c.state, Compliance::NotRequired);
        assert_eq!(reported_state([1, 0].into_iter()), Compliance::Unknown);
        assert_eq!(reported_state([1, 3].into_iter()), Compliance::Installed);
        assert_eq!(reported_state([2, 3].into_iter()), Compliance::Required);
    }
}
