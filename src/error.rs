//! The crate's error types: bad scenario input, and failures writing output.
//!
//! Messages are lower-case, name the place and say how to fix it. Bugs are
//! assertions, not errors.

use std::fmt;

use crate::scenario::Problem;

/// Anything the library can report to a user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario is unreadable or invalid (exit code 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A study's arguments or partial studies are wrong (exit code 2).
    #[error(transparent)]
    Study(#[from] StudyError),
    /// Writing an output failed (exit code 1).
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file or directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether the user's input is at fault (exit code 2) rather than the
    /// machine (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Scenario(_) | Error::Study(_))
    }
}

/// What is wrong with a study's arguments or with the partial studies given
/// to merge.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A `--set` argument names no field, or a value its field cannot take.
    #[error("--set {arg}: {message}")]
    Set {
        /// The `PATH=VALUE` at fault.
        arg: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The `--set` arguments do not make a grid (a path given twice, too
    /// many points).
    #[error("{0}")]
    Grid(String),
    /// A study file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A study file is not what `patchsim sweep` writes.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file, with a line number where there is one.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The partial studies given to merge do not make one study.
    #[error("{0}")]
    Merge(String),
}

/// What is wrong with a scenario.
#[derive(Debug)]
pub enum ScenarioError {
    /// The file cannot be read.
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The RON is malformed or does not match the format.
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What the parser said.
        message: String,
    },
    /// Values are out of range or references do not resolve.
    Invalid {
        /// The file.
        file: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Read { file, source } => write!(f, "{file}: cannot read: {source}"),
            ScenarioError::Syntax {
                file,
                line,
                col,
                message,
            } => {
                write!(f, "{file}:{line}:{col}: {}", lowercase_first(message))
            }
            ScenarioError::Invalid { file, problems } => {
                let n = problems.len();
                write!(f, "{file}: {n} problem{}", if n == 1 { "" } else { "s" })?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScenarioError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
