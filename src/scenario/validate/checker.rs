//! The checker every section reports to: the range checks and name
//! lookups they share, and the problems found so far, in the order found.
//!
//! Owns the wording of the common messages (ranges, names, unknown
//! references); what a section allows is the section's.

use std::collections::{BTreeMap, BTreeSet};

use super::Problem;
use crate::engine::{SimDuration, SimTime};
use crate::scenario::schema::Dist;
use crate::scenario::units::{Timestamp, clipped};

/// A list's names, each with its entry's index: what references to the
/// list resolve against.
pub(super) type Index<'a> = BTreeMap<&'a str, usize>;

/// Collects problems while walking the scenario.
#[derive(Default)]
pub(super) struct Checker {
    pub(super) problems: Vec<Problem>,
}

impl Checker {
    /// Reports a problem at `path`.
    pub(super) fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        self.problems.push(Problem {
            raw_path: path.clone(),
            path,
            message: message.into(),
            at: None,
        });
    }

    pub(super) fn duration(
        &mut self,
        path: &str,
        value: SimDuration,
        min: SimDuration,
        max: SimDuration,
    ) {
        if value < min || value > max {
            self.fail(
                path,
                format!("must be between {min} and {max}, got {value}"),
            );
        }
    }

    pub(super) fn probability(&mut self, path: &str, value: f64) {
        if !(0.0..=1.0).contains(&value) {
            let hint = if value > 1.0 && value <= 100.0 {
                // Ten places, trimmed: 1.1 % is 0.011, not 0.011000000000000001.
                let share = format!("{:.10}", value / 100.0);
                let share = share.trim_end_matches('0').trim_end_matches('.');
                format!(" (a share, not a percentage: write {share} for {value} %)")
            } else {
                String::new()
            };
            self.fail(path, format!("must be between 0 and 1, got {value}{hint}"));
        }
    }

    pub(super) fn dist(&mut self, path: &str, dist: &Dist, max: SimDuration) {
        match dist {
            Dist::Fixed(v) => self.duration(path, v.0, SimDuration::ZERO, max),
            Dist::Uniform { min, max: hi } => {
                self.duration(&format!("{path}.min"), min.0, SimDuration::ZERO, max);
                self.duration(&format!("{path}.max"), hi.0, SimDuration::ZERO, max);
                if min > hi {
                    self.fail(path, format!("min ({min}) must not exceed max ({hi})"));
                }
            }
            Dist::Exponential { mean } => self.duration(
                &format!("{path}.mean"),
                mean.0,
                SimDuration::from_ms(1),
                max,
            ),
            Dist::LogNormal { median, sigma } => {
                self.duration(
                    &format!("{path}.median"),
                    median.0,
                    SimDuration::from_ms(1),
                    max,
                );
                if !(0.0..=4.0).contains(sigma) {
                    self.fail(
                        format!("{path}.sigma"),
                        format!("must be between 0 and 4, got {sigma}"),
                    );
                }
            }
        }
    }

    /// A name is written into every output: the first line of each CSV
    /// file, chart titles, file names of charts. A control character (a
    /// line break, a tab, an escape) would split or garble those lines, so
    /// names are printable text.
    /// Invisible characters (a zero-width space, a byte-order mark, a
    /// right-to-left override) are refused too: they would make two names
    /// look alike, or a name look like another text.
    pub(super) fn name(&mut self, path: &str, name: &str) {
        // Looked for before the emptiness: U+0085 and U+2028 are white
        // space to `trim`.
        if let Some((at, c)) = name.chars().enumerate().find(|&(_, c)| unprintable(c)) {
            self.fail(
                path,
                format!(
                    "must be printable text, without control characters such as a line \
                     break or a tab; found U+{:04X} at character {}",
                    u32::from(c),
                    at + 1
                ),
            );
        } else if name.trim().is_empty() {
            self.fail(path, "must not be empty");
        } else if name.trim() != name {
            // References are compared exactly: ` mp01` is not `mp01`.
            self.fail(
                path,
                format!(
                    "\"{}\" has white space at its {}; remove it (names are compared exactly, \
                     so every reference would have to repeat it)",
                    clipped(name),
                    match (
                        name.starts_with(char::is_whitespace),
                        name.ends_with(char::is_whitespace)
                    ) {
                        (true, true) => "start and end",
                        (true, false) => "start",
                        _ => "end",
                    }
                ),
            );
        }
    }

    /// Index of unique names; repeats are problems.
    pub(super) fn unique<'a>(
        &mut self,
        section: &str,
        field: &str,
        names: impl Iterator<Item = &'a str>,
    ) -> Index<'a> {
        let mut index = BTreeMap::new();
        for (i, name) in names.enumerate() {
            self.name(&format!("{section}[{i}].{field}"), name);
            if let Some(first) = index.insert(name, i) {
                self.fail(
                    format!("{section}[{i}].{field}"),
                    format!(
                        "'{}' is already used by {section}[{first}]; names must be unique, rename one of them",
                        clipped(name)
                    ),
                );
            }
        }
        index
    }

    /// A server and the further ones a list names (`path[j]`), known by
    /// name in `known`: their indices, the first one first; an unknown
    /// name is reported and left out, a repeated one reported.
    pub(super) fn fallbacks(
        &mut self,
        path: &str,
        what: &str,
        first: usize,
        names: &[String],
        known: &Index,
    ) -> Vec<usize> {
        let mut list = vec![first];
        for (j, name) in names.iter().enumerate() {
            let at = format!("{path}[{j}]");
            let Some(k) = self.lookup(&at, what, name, known) else {
                continue;
            };
            if list.contains(&k) {
                self.repeated(at, what, name);
            }
            list.push(k);
        }
        list
    }

    /// Resolves each name of a list (`path[j]`) in `known` and appends its
    /// id to `list`: an unknown name is reported and left out, one whose id
    /// is already in `list` reported as listed twice (and kept: the
    /// scenario is refused anyway). `entry` checks each name found (its
    /// path, the name and its index) and gives its id.
    pub(super) fn listed<T: PartialEq>(
        &mut self,
        path: &str,
        what: &str,
        names: &[String],
        known: &Index,
        list: &mut Vec<T>,
        mut entry: impl FnMut(&mut Self, &str, &str, usize) -> T,
    ) {
        for (j, name) in names.iter().enumerate() {
            let at = format!("{path}[{j}]");
            let Some(k) = self.lookup(&at, what, name, known) else {
                continue;
            };
            let id = entry(self, &at, name, k);
            if list.contains(&id) {
                self.repeated(at, what, name);
            }
            list.push(id);
        }
    }

    /// Reports `name`, a `what` at `path`, as named again in a list that
    /// holds it already: the one message for every repeat, whatever the
    /// list.
    pub(super) fn repeated(&mut self, path: impl Into<String>, what: &str, name: &str) {
        self.fail(
            path,
            format!("{what} '{}' is listed twice; remove one", clipped(name)),
        );
    }

    /// Resolves a reference by name, listing the known names when it fails.
    pub(super) fn lookup(
        &mut self,
        path: &str,
        what: &str,
        name: &str,
        known: &Index,
    ) -> Option<usize> {
        let found = known.get(name).copied();
        if found.is_none() {
            self.unknown(path, what, name, known.keys().map(|k| (*k, "")));
        }
        found
    }

    /// Reports `name` as an unknown `what`: the message every reference
    /// that resolves to nothing gives. `known` holds what it could have
    /// named, each a name and a note written after it (` (WAN link)`, or
    /// nothing); they are listed sorted, each once, and the closest name,
    /// if one is clearly closest, suggested.
    pub(super) fn unknown<'a>(
        &mut self,
        path: &str,
        what: &str,
        name: &str,
        known: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) {
        let known: BTreeSet<(&str, &str)> = known.into_iter().collect();
        // Names quoted cut: a name of kilobytes would bury the message.
        let names: BTreeSet<String> = known.iter().map(|(k, _)| clipped(k)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let listed: Vec<String> = (known.iter())
            .map(|(k, note)| format!("{}{note}", clipped(k)))
            .collect();
        self.fail(
            path,
            format!(
                "unknown {what} '{}'{}; known: {}",
                clipped(name),
                crate::scenario::syntax::did_you_mean(name, &names).replace('`', "'"),
                if listed.is_empty() {
                    "none".to_string()
                } else {
                    listed.join(", ")
                }
            ),
        );
    }

    /// A whole number that must lie in `min..=max`.
    pub(super) fn count(&mut self, path: impl Into<String>, v: u32, min: u32, max: u32) {
        if v < min || v > max {
            self.fail(path, format!("must be between {min} and {max}, got {v}"));
        }
    }

    /// Simulated time of a timestamp, which must not be before the start.
    /// An instant after the end is allowed: it simply never comes (so a
    /// shorter run of the same scenario stays valid).
    pub(super) fn instant(&mut self, path: &str, t: &Timestamp, start: &Timestamp) -> SimTime {
        let ms = t.ms_since(start);
        if ms < 0 {
            self.fail(
                path,
                format!("{t} is before the start ({start}); it must be at or after it"),
            );
            return SimTime::ZERO;
        }
        SimTime(ms as u64)
    }
}

/// `text` for a message: its first `at_most` characters, the unprintable
/// ones escaped (`\u{1b}`) so that text from a file cannot act on the
/// terminal, and `…` after them if there were more.
pub(crate) fn shown(text: &str, at_most: usize) -> String {
    let mut out = String::with_capacity(text.len().min(at_most));
    for c in text.chars().take(at_most) {
        if unprintable(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    if text.chars().nth(at_most).is_some() {
        out.push('…');
    }
    out
}

/// A control character (`Cc`), a line or paragraph separator, or an
/// invisible format character (`Cf`: zero-width spaces and joiners, marks
/// and overrides of text direction, the byte-order mark, ...).
pub(crate) fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}
