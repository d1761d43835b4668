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

/// Where a truly Required client stands in enforcement (MODEL.md section 3).
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
    /// Content downloaded; waiting for the deadline.
    Downloaded = 3,
    /// Installing (or verifying the install).
    Installing = 4,
    /// Installed; waiting for the restart.
    PendingRestart = 5,
    /// The last install failed; waiting for re-evaluation.
    Failed = 6,
}

impl RequiredSub {
    /// All seven, in column order.
    pub const ALL: [RequiredSub; 7] = [
        RequiredSub::NotEvaluated,
        RequiredSub::Detected,
        RequiredSub::Downloading,
        RequiredSub::Downloaded,
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
    /// Installed; takes effect at the next restart.
    PendingRestart,
    /// Installed and in effect.
    Installed,
}

impl Truth {
    /// The state message (topic 500) a scan reports for it.
    pub(crate) fn detection_state(self) -> u8 {
        match self {
            Truth::NotRequired => DETECTION_NOT_REQUIRED,
            Truth::Installed => DETECTION_INSTALLED,
            _ => DETECTION_REQUIRED,
        }
    }
}

/// Topic 500 (per-update detection) state ids, as the site database keeps them.
/// State message topic: per-update detection.
pub(crate) const TOPIC_DETECTION: u16 = 500;
/// State message topic: deployment compliance (1 compliant, 2 non-compliant).
pub(crate) const TOPIC_COMPLIANCE: u16 = 300;
/// State message topic: deployment enforcement.
pub(crate) const TOPIC_ENFORCEMENT: u16 = 301;
/// State message topic: deployment evaluation (2 succeeded).
pub(crate) const TOPIC_EVALUATION: u16 = 302;

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
    /// Downloaded; install due at `due` (the deadline).
    WaitDeadline,
    /// Installing.
    Installing,
    /// Installed; waiting for the client to restart.
    PendingRestart,
    /// Verification scan due.
    VerifyDue,
    /// Verification scan running.
    Verifying,
    /// Install failed; re-evaluation due at `due`.
    Failed,
    /// Nothing applies.
    NotRequired,
    /// Done.
    Compliant,
}

impl Phase {
    /// The enforcement sub-state shown while the client is truly Required.
    fn required_sub(self) -> RequiredSub {
        match self {
            Phase::NeedDownload => RequiredSub::Detected,
            Phase::Downloading => RequiredSub::Downloading,
            Phase::WaitDeadline => RequiredSub::Downloaded,
            Phase::Installing | Phase::VerifyDue | Phase::Verifying => RequiredSub::Installing,
            Phase::PendingRestart => RequiredSub::PendingRestart,
            Phase::Failed => RequiredSub::Failed,
            _ => RequiredSub::NotEvaluated,
        }
    }
}

/// A deployment-level state plus, when Required, its sub-state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    pub(crate) state: Compliance,
    pub(crate) sub: RequiredSub,
}

/// The true deployment-level state from the true per-update states.
pub(crate) fn true_cell(truths: impl Iterator<Item = Truth>, phase: Phase) -> Cell {
    let (mut required, mut installed) = (false, false);
    for t in truths {
        match t {
            Truth::NotRequired => {}
            Truth::Installed => installed = true,
            _ => required = true,
        }
    }
    let state = if required {
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

/// Live counts for one deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) truth: [u32; 4],
    pub(crate) reported: [u32; 4],
    pub(crate) sub: [u32; 7],
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
