//! patchsim: a deterministic discrete-event simulator of a Configuration
//! Manager (SCCM/MECM) software-update estate.
//!
//! Data flows one way: scenario file → [`scenario`] (parse, validate) →
//! [`model::Estate`] → [`model::run`] on the [`engine`] → [`model::Outcome`]
//! → [`output`] writers. The engine knows nothing of SCCM; the model writes
//! no files; the CLI (`cli`) only parses arguments and calls these.
//! [`run`] drives one run that can be interrupted or checked ([`check`]:
//! the laws of MODEL.md section 4, verified from the trace).

pub mod check;
pub mod cli;
pub mod engine;
pub mod error;
pub mod model;
pub mod output;
pub mod run;
pub mod scenario;
pub mod study;

pub use error::{Error, ScenarioError, StudyError};

/// The tool version written into every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
