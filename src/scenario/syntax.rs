//! Syntax errors in words a person can act on: the field path of the value
//! being read, and a hint for each common RON mistake ("did you mean
//! `link`?", "is a `,` missing at the end of the line before?").
//!
//! Owns the wording only; `mod.rs` parses and places the error.

use std::ops::Range;

use ron::error::Error as RonError;

/// A field path as the rest of patchsim writes it: `cohorts[0].power.start`.
pub(super) fn path(p: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in p.iter() {
        match segment {
            Segment::Seq { index } => out += &format!("[{index}]"),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out += key;
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

/// How the message for a value that should have been a string begins.
pub(super) const EXPECTED_STRING: &str = "expected a string in double quotes";

/// The message for a value that should have been a string, with examples
/// of what the field at `path` takes.
fn expected_string(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    let field = last.split('[').next().unwrap_or(last);
    let local_time = path.contains("maintenance_windows") || path.contains("power");
    let examples = match field {
        _ if field.ends_with("size") => "`\"650MB\"`, `\"1.5GiB\"`",
        _ if field == "link" || field.ends_with("bandwidth") || field.ends_with("_link") => {
            "`\"100Mbps\"`, `\"1Gbps\"`"
        }
        "start" | "end" if local_time => "`\"08:30\"`, `\"17:00\"`",
        "start" | "created" | "available" | "deadline" | "release" | "manual" => {
            "`\"2026-11-10T19:00:00+01:00\"`"
        }
        "name"
        | "management_point"
        | "update_point"
        | "distribution_point"
        | "location"
        | "cloud_management_gateway"
        | "server"
        | "site"
        | "targets"
        | "updates" => "`\"mp01\"`, `\"desktops\"`",
        _ => "`\"15m\"`, `\"mp01\"`",
    };
    format!("{EXPECTED_STRING} (e.g. {examples})")
}

/// The identifier that ends just before byte `at` of `text`, if any.
fn identifier_before(text: &str, at: usize) -> Option<&str> {
    let before = text.get(..at)?;
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let ident = &before[start..];
    ident
        .starts_with(|c: char| c.is_ascii_alphabetic())
        .then_some(ident)
}

/// Whether the identifier `found`, which starts or ends at byte `at` of
/// `text`, is followed by `(`: the name of an entry (`Cohort(`) read as a
/// field, not a field name written with a capital (`Count: 5`).
fn opens_entry(text: &str, at: usize, found: &str) -> bool {
    let after = match (text.get(at..), text.get(..at)) {
        (Some(rest), _) if rest.starts_with(found) => at + found.len(),
        (_, Some(before)) if before.ends_with(found) => at,
        _ => return false,
    };
    text.get(after..)
        .is_some_and(|rest| rest.trim_start().starts_with('('))
}

/// The byte offset of 1-based `line` and `col` (in characters) in `text`.
fn offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = (text.split_inclusive('\n'))
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    // (At the very end of a file that ends with a line break: no line.)
    let l = text.get(start..)?.lines().next().unwrap_or("");
    let within = l
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(l.len(), |(i, _)| i);
    Some(start + within)
}

/// Whether the string that ends at the `"` just before byte `at` began on
/// an earlier line: a closing quote was missing there.
fn string_ran_on(text: &str, at: usize) -> bool {
    let Some(before) = text.get(..at) else {
        return false;
    };
    let Some(body) = before.trim_end().strip_suffix('"') else {
        return false;
    };
    body.rfind('"')
        .is_some_and(|open| body[open..].contains('\n'))
}

/// Whether the reader, stopped by `code` with the text read up to
/// 1-based `line` and `col` (the end of its error's span), ran out of
/// text: nothing but white space and comments follows, and it wanted a
/// `,` or a closing bracket. Then what is missing is the closing bracket
/// of what is still open, whatever came before, and it is said as
/// [`RonError::Eof`] is.
pub(super) fn ran_out(code: &RonError, text: &str, line: usize, col: usize) -> bool {
    matches!(
        code,
        RonError::ExpectedComma
            | RonError::ExpectedStructLikeEnd
            | RonError::ExpectedArrayEnd
            | RonError::ExpectedMapEnd
            | RonError::ExpectedOptionEnd
    ) && offset(text, line, col).is_some_and(|at| super::spans::blank_to_end(text, at))
}

/// The number written around 1-based `line` and `col` of `text` (where
/// the reader says one is out of range: at its sign or its first digit),
/// and its span.
pub(super) fn number_at(text: &str, line: usize, col: usize) -> Option<(String, Range<usize>)> {
    let at = offset(text, line, col)?;
    let b = text.as_bytes();
    let part = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+');
    let start = (0..at)
        .rev()
        .take_while(|&i| part(b[i]))
        .last()
        .unwrap_or(at);
    let end = (at..b.len()).find(|&i| !part(b[i])).unwrap_or(b.len());
    let written = &text[start..end];
    written
        .trim_start_matches(['-', '+'])
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| (written.to_string(), start..end))
}

/// The message for a whole number out of its field's range: `allowed`
/// as the checks say it (`must be between 1 and 100`), or else the
/// field type's range, 0 to `max`.
pub(super) fn out_of_range(allowed: Option<&str>, max: u64, written: &str) -> String {
    let allowed = match allowed {
        Some(allowed) => allowed.to_string(),
        // The type's bounds only: the field's own checks may take fewer.
        None => format!("it must be a whole number, not negative and at most {max}"),
    };
    format!("number out of range for this field: {allowed}, got {written}")
}

/// The parser's message with a hint; `text`, `line` and `col` (1-based)
/// show the context, `path` the field being read (may be empty).
pub(super) fn message(code: &RonError, text: &str, line: usize, col: usize, path: &str) -> String {
    let within = |outer: &Option<String>| match outer {
        Some(o) => format!(" in `{o}`"),
        None => String::new(),
    };
    let at = offset(text, line, col);
    match code {
        RonError::ExpectedComma => {
            let here = text
                .lines()
                .nth(line.saturating_sub(1))
                .and_then(|l| l.chars().nth(col.saturating_sub(1)));
            let before = at.and_then(|at| identifier_before(text, at));
            if here == Some('(')
                && let Some(choice) = before
            {
                return format!(
                    "expected a `,`: `{choice}` takes nothing in parentheses; write `{choice}` alone"
                );
            }
            if at.is_some_and(|at| string_ran_on(text, at)) {
                return "expected a `,`: the string before this one runs over a line end; \
                        is its closing `\"` missing?"
                    .to_string();
            }
            if here == Some('%') {
                return "expected a `,`: `%` is not part of a number here (a share is a \
                        fraction: 0.05 for 5 %)"
                    .to_string();
            }
            if here == Some(')') {
                return "expected a `,`: is this `)` one too many?".to_string();
            }
            let hint = if here == Some('.') {
                ": this field takes a whole number, without a fractional part"
            } else if previous_line(text, line).is_some_and(|l| {
                let l = l.trim_end();
                !(l.ends_with(',') || l.ends_with('(') || l.ends_with('['))
            }) {
                "; is one missing at the end of the line before?"
            } else {
                "; fields and list items are separated by commas"
            };
            format!("expected a `,`{hint}")
        }
        RonError::Eof => "unexpected end of the file: a closing `)` or `]` is missing \
                          (every `(` and `[` needs its match)"
            .to_string(),
        RonError::ExpectedInteger => {
            "expected a whole number, written without quotes (e.g. `count: 6000`)".to_string()
        }
        RonError::ExpectedFloat => {
            "expected a number, written without quotes (e.g. `0.97`)".to_string()
        }
        RonError::ExpectedString => expected_string(path),
        RonError::ExpectedBoolean => "expected `true` or `false`".to_string(),
        RonError::IntegerOutOfBounds => {
            "number out of range for this field (negative, or too large)".to_string()
        }
        RonError::NoSuchStructField { found, outer, .. }
            if found.starts_with(|c: char| c.is_ascii_uppercase())
                && at.is_some_and(|at| opens_entry(text, at, found)) =>
        {
            format!(
                "unknown field `{found}`{}: `{found}(` starts a new entry here, so is the `)` \
                 closing the entry before it missing?",
                within(outer)
            )
        }
        RonError::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}`{}{}; allowed: {}",
            within(outer),
            did_you_mean(found, expected),
            list(expected)
        ),
        RonError::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => format!(
            "unknown choice `{found}`{}{}; allowed: {}",
            within(outer),
            did_you_mean(found, expected),
            list(expected)
        ),
        RonError::MissingStructField { field, outer } => format!(
            "missing field `{field}`{}: add `{field}: ...` (docs/scenario-format.md \
             lists every field and its default)",
            within(outer)
        ),
        RonError::DuplicateStructField { field, outer } => {
            format!("field `{field}` is given twice{}: keep one", within(outer))
        }
        RonError::ExpectedDifferentStructName { expected, found }
            if found.starts_with(|c: char| c.is_ascii_lowercase()) =>
        {
            format!(
                "expected a `{expected}(...)` but found the field `{found}`: \
                 is a closing `]` or `)` missing before it?"
            )
        }
        RonError::ExpectedDifferentStructName { expected, found } => {
            format!("expected `{expected}(...)`, found `{found}(...)`: write `{expected}`")
        }
        RonError::ExpectedStringEnd => {
            "expected the end of the string: is a closing `\"` missing?".to_string()
        }
        RonError::InvalidEscape(what) => format!(
            "{}: in a string, `\\` starts an escape (write `\\\\` for a backslash)",
            lowercase(what)
        ),
        RonError::ExpectedMapColon => "expected a `:` after the field name".to_string(),
        RonError::ExpectedArray => "expected a list: `[...]`".to_string(),
        RonError::ExpectedStructLikeEnd => {
            "expected a closing `)`: is a `,` missing, or a value in the wrong place?".to_string()
        }
        RonError::UnexpectedChar(c) => format!("unexpected character {c:?} here"),
        RonError::SuggestRawIdentifier(found) | RonError::InvalidIdentifier(found) => format!(
            "expected a field name, found `{found}`: is a `name:` missing before a value, \
             or a `,` or `)` after the field before?"
        ),
        RonError::ExpectedIdentifier => "expected a field name (e.g. `count:`)".to_string(),
        RonError::ExpectedAttribute => "`#` does not start a comment in RON: write `//` \
                                        (or `/* ... */`)"
            .to_string(),
        RonError::ExpectedStructLike => match at.and_then(|at| identifier_before(text, at)) {
            Some(choice) => format!(
                "expected `(` after `{choice}`: write `{choice}()` for its defaults, or give \
                 its fields in the parentheses"
            ),
            None => "expected opening `(`".to_string(),
        },
        RonError::InvalidIntegerDigit { .. } => "expected a whole number (e.g. `6000`)".to_string(),
        RonError::TrailingCharacters => "unexpected text after the end of the scenario: \
                                         everything must be inside `Scenario(...)`"
            .to_string(),
        RonError::ExpectedNamedStructLike(name) => format!("expected `{name}(...)` here"),
        other => lowercase(&other.to_string()),
    }
}

/// The string in double quotes that starts at 1-based `line` and `col`
/// of `text`: its contents (escapes as written) and its span with the
/// quotes.
pub(super) fn string_at(text: &str, line: usize, col: usize) -> Option<(String, Range<usize>)> {
    let start = offset(text, line, col)?;
    let rest = text.get(start..)?.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some((rest[..i].to_string(), start..start + i + 2)),
            '\n' => return None,
            _ => escaped = false,
        }
    }
    None
}

/// The message for a choice written in quotes (`kind: "Server"`), with
/// the field's choices.
pub(super) fn quoted_choice(quoted: &str, choices: &[&str]) -> String {
    let shown = super::shown(quoted, 40);
    let names = choices.join(", ");
    let hint = if choices.contains(&quoted) {
        String::new()
    } else {
        did_you_mean(quoted, choices)
    };
    format!("\"{shown}\" is quoted: write one of {names} without quotes{hint}")
}

fn lowercase(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

fn previous_line(text: &str, line: usize) -> Option<&str> {
    // The last non-blank, non-comment line before `line` (1-based).
    text.lines()
        .take(line.saturating_sub(1))
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with("//")
        })
        .last()
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` (did you mean `link`?)` for the closest allowed name, if one is close.
/// Also used for references by name (`validate/checker.rs`).
pub(super) fn did_you_mean(found: &str, allowed: &[&str]) -> String {
    let lower = found.to_lowercase();
    let mut close: Vec<(usize, &str)> = allowed
        .iter()
        .map(|a| (strsim::levenshtein(&lower, &a.to_lowercase()), *a))
        .filter(|&(d, a)| d <= (a.chars().count() / 3).max(2))
        .collect();
    close.sort();
    match close.as_slice() {
        // Only a clear winner is worth suggesting.
        [(best, a), rest @ ..] if rest.first().is_none_or(|(d, _)| d > best) => {
            format!(" (did you mean `{a}`?)")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let fields = ["name", "count", "link", "power"];
        assert_eq!(did_you_mean("lnk", &fields), " (did you mean `link`?)");
        assert_eq!(did_you_mean("Count", &fields), " (did you mean `count`?)");
        assert_eq!(did_you_mean("bandwidth", &fields), "");
    }
}
