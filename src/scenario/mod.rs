//! Scenario files: RON text → [`Scenario`] → checked [`Estate`].
//!
//! Owns reading and parsing (with file:line:column on syntax errors) and the
//! embedded default scenario. The format is in `schema.rs`, the units in
//! `units.rs`, the checks and the resolution into an estate in
//! `validate/`. Knows nothing of how an estate is run.

mod schema;
mod set;
mod spans;
mod syntax;
mod units;
mod validate;

use std::io::Read;
use std::path::Path;

pub use schema::{
    AutomaticDeploymentRule, Availability, Classification, ClientKind, ClientSettings,
    CloudManagementGateway, Cohort, ContentSources, CopyHours, DEFAULT_BUSY_THRESHOLD_PCT,
    Deployment, Dist, DistributionPoint, DistributionPriority, Fault, FaultEffect, HourlyLimit,
    MaintenanceWindow, ManagementPoint, Phase, PhaseBegin, Power, Primary, Purpose, RateLimit,
    Recurrence, RuleGroup, RuleRun, Scenario, Servers, Site, Suspension, Sync, Update, UpdatePoint,
    VmSize, Weekday, WsusCatalog, WsusPool,
};
pub(crate) use set::clipped_arg;
pub use set::{
    Override, apply as apply_sets, canonical_value, check_path, is_server_count,
    parse_busy_threshold_pct, parse_seed, set_server_count, split_values,
};
pub use units::{Bandwidth, Bytes, ClockTime, Dur, Timestamp};
pub(crate) use validate::shown;

/// The busy thresholds a scenario (`busy_threshold_pct`) and
/// `--busy-above` take: whole percents.
pub const BUSY_THRESHOLD_PCT: std::ops::RangeInclusive<u8> = 1..=100;
pub use validate::{MAX_CLIENTS, MAX_SERVERS, Problem, resolved_text, validate};

use crate::error::ScenarioError;
use crate::estate::Estate;

/// The scenario run when none is named: `scenarios/patch-tuesday.ron`.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/patch-tuesday.ron");
/// The largest scenario file read.
pub const MAX_SCENARIO_BYTES: u64 = 256 << 20;

/// How the embedded default is named in messages and outputs.
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/patch-tuesday.ron";

/// Parses scenario text; `origin` names it in error messages, which give
/// the line, the column, the field path (`cohorts[0].count`) where known,
/// and a hint for the common mistakes.
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    // Nothing but white space: said at the end of the file, where the
    // reader ran out (it would say 1:1, however long the file).
    if text.trim().is_empty() {
        let line = 1 + text.matches('\n').count();
        let col = 1 + text.rsplit('\n').next().map_or(0, |l| l.chars().count());
        return Err(ScenarioError::Syntax {
            file: origin.to_string(),
            line,
            col,
            message: format!(
                "unexpected end of the file: {}; write `Scenario(...)` \
                 (docs/scenario-format.md)",
                if text.is_empty() {
                    "it is empty"
                } else {
                    "it holds no scenario, only white space"
                }
            ),
            path: String::new(),
        });
    }
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let syntax = |e: ron::error::SpannedError, path: String| {
        let (mut line, mut col) = (e.span.start.line, e.span.start.col);
        let mut code = e.code;
        // Out of text where a `,` or `)` was wanted (`Scenario(name: "x"`,
        // the last field without its comma): said at the end, as a
        // missing `)`, not a missing `,`.
        if syntax::ran_out(&code, text, e.span.end.line, e.span.end.col) {
            (line, col, code) = (e.span.end.line, e.span.end.col, ron::Error::Eof);
        }
        ScenarioError::Syntax {
            file: origin.to_string(),
            line,
            col,
            message: syntax::message(&code, text, line, col, &path),
            path,
        }
    };
    let mut de = ron::Deserializer::from_str_with_options(text, &options)
        .map_err(|e| syntax(e, String::new()))?;
    let scenario = match serde_path_to_error::deserialize::<_, Scenario>(&mut de) {
        Ok(s) => s,
        Err(e) => {
            let path = syntax::path(e.path());
            let code = e.into_inner();
            let mut error = syntax(de.span_error(code.clone()), path);
            // A choice (`Server`, `AlwaysOn`) written as a string: the
            // reader wanted a name and says only that; name the choices.
            if code == ron::Error::ExpectedIdentifier
                && let ScenarioError::Syntax {
                    line, col, message, ..
                } = &mut error
                && let Some(hint) = quoted_choice(text, *line, *col, &options)
            {
                *message = hint;
            }
            // A number outside its field's type: say which numbers the
            // field takes.
            if code == ron::Error::IntegerOutOfBounds
                && let ScenarioError::Syntax {
                    line,
                    col,
                    message,
                    path,
                    ..
                } = &mut error
                && let Some(range) = out_of_range(text, *line, *col, path, &options)
            {
                *message = range;
            }
            return Err(error);
        }
    };
    de.end()
        .map_err(|code| syntax(de.span_error(code), String::new()))?;
    Ok(scenario)
}

/// For a string at `line`:`col` where the reader wanted a choice's name:
/// the message naming the field's choices. They are found by reading the
/// text again with an unknown name in the string's place, which the
/// reader answers with the list.
fn quoted_choice(text: &str, line: usize, col: usize, options: &ron::Options) -> Option<String> {
    let (quoted, span) = syntax::string_at(text, line, col)?;
    let unknown = "PatchsimNoSuchChoice";
    let probe = format!("{}{unknown}{}", &text[..span.start], &text[span.end..]);
    let mut de = ron::Deserializer::from_str_with_options(&probe, options).ok()?;
    let Err(e) = serde_path_to_error::deserialize::<_, Scenario>(&mut de) else {
        return None;
    };
    match e.into_inner() {
        ron::Error::NoSuchEnumVariant {
            expected, found, ..
        } if found == unknown => Some(syntax::quoted_choice(&quoted, expected)),
        _ => None,
    }
}

/// For a whole number at `line`:`col` outside the range of its field's
/// type (a negative count, a number past 2^32 - 1): the message naming the
/// numbers the field at `path` takes. The text is read again with the
/// type's largest value in the number's place (found by trying the
/// largest `u64`, then `u32`, ...), and the scenario so read checked:
/// the range the checks give that field, or else its type's.
fn out_of_range(
    text: &str,
    line: usize,
    col: usize,
    path: &str,
    options: &ron::Options,
) -> Option<String> {
    let (written, span) = syntax::number_at(text, line, col)?;
    for max in [u64::MAX, u32::MAX.into(), u16::MAX.into(), u8::MAX.into()] {
        let probe = format!("{}{max}{}", &text[..span.start], &text[span.end..]);
        let mut de = ron::Deserializer::from_str_with_options(&probe, options).ok()?;
        let scenario = match serde_path_to_error::deserialize::<_, Scenario>(&mut de) {
            Ok(scenario) => scenario,
            Err(e)
                if syntax::path(e.path()) == path
                    && *e.inner() == ron::Error::IntegerOutOfBounds =>
            {
                continue;
            }
            // Read past the field: it took `max`; something later is wrong.
            Err(_) => return Some(syntax::out_of_range(None, max, &written)),
        };
        let checked = validate(scenario).err().unwrap_or_default();
        let allowed = (checked.iter())
            .filter(|p| p.raw_path == path)
            .find_map(|p| {
                let (allowed, _) = p.message.split_once(", got ")?;
                allowed.contains("between").then(|| allowed.to_string())
            });
        return Some(syntax::out_of_range(allowed.as_deref(), max, &written));
    }
    None
}

/// Reads and parses a scenario file (UTF-8, a leading byte order mark
/// skipped).
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_text(path).map(|(scenario, _)| scenario)
}

/// [`load`], with the text read (for [`locate`]): a file is read once,
/// as a pipe can be.
pub fn load_text(path: &Path) -> Result<(Scenario, String), ScenarioError> {
    let file = path.display().to_string();
    let read = |source| ScenarioError::Read {
        file: file.clone(),
        source,
    };
    // A cap, so that a device such as /dev/zero given as the scenario is
    // refused instead of read until memory runs out; pipes (`<(...)`) are
    // read as files.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read)?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "more than 256 MB; a scenario is a text file of at most 256 MB",
        )));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let good = std::str::from_utf8(good).expect("valid up to here");
            let line = good.matches('\n').count() + 1;
            let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let byte = e.as_bytes()[good.len()];
            return Err(ScenarioError::Syntax {
                file,
                line,
                col,
                path: String::new(),
                message: format!(
                    "the file is not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8"
                ),
            });
        }
    };
    // Windows editors may start a UTF-8 file with a byte order mark; it is
    // not part of the scenario, and editors hide it, so columns count
    // without it.
    let scenario = parse(text.strip_prefix('\u{feff}').unwrap_or(&text), &file)?;
    Ok((scenario, text))
}

/// Finds where in `text`, the scenario file they were found in, each of
/// `problems` sits: the line and column of its value, or of the entry or
/// structure that lacks it (see [`Problem::at`]). For problems of the
/// file as written: after `--set`, a path may name a value the file does
/// not hold.
pub fn locate(text: &str, problems: &mut [Problem]) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut locator = spans::Locator::new(text);
    for p in problems {
        p.at = locator.locate(&p.raw_path);
    }
}

/// Checks a parsed scenario; `origin` names it in error messages.
pub fn build(scenario: Scenario, origin: &str) -> Result<Estate, ScenarioError> {
    validate(scenario).map_err(|problems| ScenarioError::Invalid {
        file: origin.to_string(),
        problems,
    })
}
