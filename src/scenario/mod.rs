//! Scenario files: RON text → [`Scenario`] → checked [`Estate`].
//!
//! Owns reading and parsing (with file:line:column on syntax errors) and the
//! embedded default scenario. The format is in `schema.rs`, the units in
//! `units.rs`, the checks in `validate.rs`.

mod dist;
mod schema;
mod units;
mod validate;

use std::path::Path;

pub use schema::{
    Classification, ClientKind, ClientSettings, Cohort, Deployment, Dist, DistributionPoint, Fault,
    FaultEffect, MaintenanceWindow, ManagementPoint, Power, Primary, Purpose, Recurrence, Scenario,
    Servers, Site, Sync, Update, UpdatePoint, Weekday,
};
pub use units::{Bandwidth, Bytes, ClockTime, Dur, Timestamp};
pub use validate::{MAX_CLIENTS, Problem, resolved_text, validate};

use crate::error::ScenarioError;
use crate::model::Estate;

/// The scenario run when none is named: `scenarios/patch-tuesday.ron`.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/patch-tuesday.ron");
/// How the embedded default is named in messages and outputs.
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/patch-tuesday.ron";

/// Parses scenario text; `origin` names it in error messages.
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
        .map_err(|e| ScenarioError::Syntax {
            file: origin.to_string(),
            line: e.span.start.line,
            col: e.span.start.col,
            message: e.code.to_string(),
        })
}

/// Reads and parses a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: path.display().to_string(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Checks a parsed scenario; `origin` names it in error messages.
pub fn build(scenario: Scenario, origin: &str) -> Result<Estate, ScenarioError> {
    validate(scenario).map_err(|problems| ScenarioError::Invalid {
        file: origin.to_string(),
        problems,
    })
}
