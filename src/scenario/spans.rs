//! Where each value sits in a scenario's canonical RON text: the spans of
//! a structure's fields and of a list's entries, found without reading the
//! values by their types.
//!
//! Owns nothing but the walk. `--set` uses it to find the text of the field
//! a path names, then has the whole text read again by the scenario's one
//! reader (see `set.rs`), so that no second reader of every scenario type
//! is compiled. The text is [`resolved_text`](super::resolved_text)'s:
//! structures as `Name(field: value, ...)` or `(field: value, ...)`, lists
//! as `[...]`, strings in double quotes; comments, raw strings and maps are
//! skipped correctly as well, though that text has none.

use std::collections::BTreeMap;
use std::ops::Range;

/// A span of the text: byte offsets.
pub(super) type Span = Range<usize>;

/// One field of a structure: its name and its value's span.
pub(super) struct Field<'a> {
    pub name: &'a str,
    pub value: Span,
}

/// A structure's fields and where a new field can go.
pub(super) struct Fields<'a> {
    pub fields: Vec<Field<'a>>,
    /// Just before the closing `)`.
    pub end: usize,
    /// Whether a `,` follows the last field.
    pub trailing_comma: bool,
}

/// The span of the value that starts at or after `at` (after whitespace,
/// comments and `#![...]` attributes); `None` if the text there is not a
/// value.
pub(super) fn value_at(text: &str, at: usize) -> Option<Span> {
    let b = text.as_bytes();
    let mut i = skip_blank(b, at);
    while b[i..].starts_with(b"#![") {
        i = skip_blank(b, group_end(b, i + 2)?);
    }
    Some(i..value_end(b, i)?)
}

/// Checks that `text` (without surrounding whitespace) is exactly one
/// value: its strings closed, each bracket closed by its own kind, no
/// comment (which could hide a bracket or a comma from a reader that
/// skips it) and nothing after it. Put in a field's place, such a value
/// cannot reach past its field. `Err` says what is wrong.
pub(super) fn one_value(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let mut open = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts_word = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        match b[i] {
            b'"' | b'\'' => {
                i = quoted_end(b, i).ok_or("a quote is not closed")?;
                continue;
            }
            b'r' if starts_word && matches!(b.get(i + 1), Some(b'"' | b'#')) => {
                i = raw_end(b, i).ok_or("a raw string is not closed")?;
                continue;
            }
            b'/' if matches!(b.get(i + 1), Some(b'/' | b'*')) => {
                return Err("a comment is not allowed in a value".to_string());
            }
            c @ (b'(' | b'[' | b'{') => open.push(c),
            c @ (b')' | b']' | b'}') => {
                let opener = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if open.pop() != Some(opener) {
                    return Err(format!(
                        "'{}' closes no bracket opened before it",
                        char::from(c)
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(&c) = open.last() {
        return Err(format!("'{}' is not closed", char::from(c)));
    }
    match value_at(text, 0) {
        Some(span) if span.start == 0 && span.end == text.len() => Ok(()),
        Some(span) if span.start == 0 => {
            Err(format!("'{}' follows the value", text[span.end..].trim()))
        }
        _ => Err("it is not a value".to_string()),
    }
}

/// Finds where the values field paths (`cohorts[1].count`,
/// `sync.manual[0]`) name sit in a scenario's text as its author wrote
/// it. Each structure's fields and each list's entries are read once, and
/// the lines found by a binary search, so locating every problem of a
/// file costs about one reading of it, however many there are.
pub(super) struct Locator<'a> {
    text: &'a str,
    /// By the start of a structure's span: its fields' names and spans.
    fields: BTreeMap<usize, Option<Vec<(&'a str, Span)>>>,
    /// By the start of a list's span: its entries' spans.
    entries: BTreeMap<usize, Option<Vec<Span>>>,
    /// Where each line starts.
    lines: Vec<usize>,
    /// The whole scenario's span.
    root: Option<Span>,
}

impl<'a> Locator<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Locator {
            text,
            fields: BTreeMap::new(),
            entries: BTreeMap::new(),
            lines,
            root: value_at(text, 0),
        }
    }

    /// The line and column (from 1, columns in characters) of the value
    /// `path` names, or of the deepest structure or entry on the way that
    /// the text holds (a field left at its default is not in the text);
    /// `None` if not even the first step is there.
    pub(super) fn locate(&mut self, path: &str) -> Option<(usize, usize)> {
        let text = self.text;
        let mut span = self.root.clone()?;
        let mut found = None;
        let mut rest = path;
        while !rest.is_empty() {
            let next = if let Some(after) = rest.strip_prefix('[') {
                let (index, after) = after.split_once(']')?;
                rest = after;
                let list = (self.entries)
                    .entry(span.start)
                    .or_insert_with(|| entries(text, &span));
                let i = index.parse::<usize>().ok();
                i.and_then(|i| list.as_ref()?.get(i).cloned())
            } else {
                let field = rest.strip_prefix('.').unwrap_or(rest);
                let end = field.find(['.', '[']).unwrap_or(field.len());
                rest = &field[end..];
                let name = &field[..end];
                let structure = (self.fields).entry(span.start).or_insert_with(|| {
                    fields(text, &span)
                        .map(|f| f.fields.into_iter().map(|f| (f.name, f.value)).collect())
                });
                (structure.as_ref())
                    .and_then(|f| f.iter().find(|(n, _)| *n == name))
                    .map(|(_, s)| s.clone())
            };
            match next {
                Some(next) => {
                    span = next;
                    found = Some(span.clone());
                }
                None => break,
            }
        }
        let at = found?.start;
        let line = self.lines.partition_point(|&start| start <= at);
        let col = text[self.lines[line - 1]..at].chars().count() + 1;
        Some((line, col))
    }
}

/// The fields of the structure `span` holds (`Name(a: 1, b: 2)`,
/// `(a: 1)`, `Name()`), or `None` if it is not a structure: a string, a
/// number, a list, a name alone (`AlwaysOn`) or a tuple (`Fixed("3m")`).
pub(super) fn fields<'a>(text: &'a str, span: &Span) -> Option<Fields<'a>> {
    let b = text.as_bytes();
    let mut i = word_end(b, span.start);
    i = skip_blank(b, i);
    if b.get(i) != Some(&b'(') {
        return None;
    }
    let mut fields = Vec::new();
    let mut trailing_comma = false;
    i += 1;
    loop {
        i = skip_blank(b, i);
        if b.get(i) == Some(&b')') {
            return Some(Fields {
                fields,
                end: i,
                trailing_comma,
            });
        }
        let name_end = word_end(b, i);
        if name_end == i {
            return None;
        }
        let colon = skip_blank(b, name_end);
        if b.get(colon) != Some(&b':') {
            return None;
        }
        let start = skip_blank(b, colon + 1);
        let end = value_end(b, start)?;
        fields.push(Field {
            name: &text[i..name_end],
            value: start..end,
        });
        i = skip_blank(b, end);
        trailing_comma = b.get(i) == Some(&b',');
        if trailing_comma {
            i += 1;
        }
    }
}

/// The entries of the list `span` holds, or `None` if it is not a list.
pub(super) fn entries(text: &str, span: &Span) -> Option<Vec<Span>> {
    let b = text.as_bytes();
    if b.get(span.start) != Some(&b'[') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = span.start + 1;
    loop {
        i = skip_blank(b, i);
        match b.get(i)? {
            b']' => return Some(out),
            b',' => i += 1,
            _ => {
                let end = value_end(b, i)?;
                out.push(i..end);
                i = end;
            }
        }
    }
}

/// The text of a string literal's value, if `span` holds one.
pub(super) fn string(text: &str, span: &Span) -> Option<String> {
    let inner = text[span.clone()].strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'u' => {
                let code: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&code, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// `span`'s text on one line: `LogNormal(median: "3m", sigma: 0.3)`.
pub(super) fn compact(text: &str, span: &Span) -> String {
    let mut out = String::new();
    for line in text[span.clone()].lines().map(str::trim) {
        if line.starts_with([')', ']']) && out.ends_with(',') {
            out.pop();
        }
        if !(out.is_empty() || out.ends_with(['(', '[']) || line.starts_with([')', ']'])) {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// Whether nothing but whitespace and comments follows byte `at`.
pub(super) fn blank_to_end(text: &str, at: usize) -> bool {
    skip_blank(text.as_bytes(), at) >= text.len()
}

/// Past whitespace and comments.
fn skip_blank(b: &[u8], mut i: usize) -> usize {
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if b[i..].starts_with(b"//") {
            while b.get(i).is_some_and(|&c| c != b'\n') {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i = b[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(b.len(), |p| i + 2 + p + 2);
        } else {
            return i;
        }
    }
}

/// Past a name or a number (`Fixed`, `-1.5e3`, `true`); `i` if none.
fn word_end(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-'))
    {
        i += 1;
    }
    i
}

/// Past the value that starts at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => quoted_end(b, i),
        b'\'' => quoted_end(b, i),
        b'r' if matches!(b.get(i + 1), Some(b'"' | b'#')) => raw_end(b, i),
        b'(' | b'[' | b'{' => group_end(b, i),
        _ => {
            let end = word_end(b, i);
            if end == i {
                return None;
            }
            let next = skip_blank(b, end);
            if b.get(next) == Some(&b'(') {
                group_end(b, next)
            } else {
                Some(end)
            }
        }
    }
}

/// Past the string or character literal that starts at `i`.
fn quoted_end(b: &[u8], i: usize) -> Option<usize> {
    let quote = b[i];
    let mut j = i + 1;
    loop {
        match *b.get(j)? {
            b'\\' => j += 2,
            c if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// Past the raw string (`r"..."`, `r#"..."#`) that starts at `i`.
fn raw_end(b: &[u8], i: usize) -> Option<usize> {
    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
    let open = i + 1 + hashes;
    if b.get(open) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    b[open + 1..]
        .windows(close.len())
        .position(|w| w == close.as_slice())
        .map(|p| open + 1 + p + close.len())
}

/// Past the bracket that closes the one at `i`.
fn group_end(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    loop {
        match *b.get(j)? {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b'"' | b'\'' => {
                j = quoted_end(b, j)?;
                continue;
            }
            b'/' if matches!(b.get(j + 1), Some(b'/' | b'*')) => {
                j = skip_blank(b, j);
                continue;
            }
            _ => {}
        }
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"// a comment
#![enable(implicit_some)]
Scenario(
    name: "a \"b\" (c)",
    power: BusinessHours(start: "08:00", jitter: "10m"),
    dist: Fixed("3m"),
    list: [
        Cohort(name: "x", count: 5),
        (name: "y", /* ) */ count: -1.5e3),
    ],
    unit: AlwaysOn,
    empty: Site(),
)"#;

    fn field(text: &str, span: &Span, name: &str) -> Span {
        fields(text, span)
            .unwrap()
            .fields
            .into_iter()
            .find(|f| f.name == name)
            .unwrap()
            .value
    }

    #[test]
    fn finds_fields_entries_and_strings() {
        let top = value_at(TEXT, 0).unwrap();
        assert!(TEXT[top.clone()].starts_with("Scenario(") && top.end == TEXT.len());
        let names: Vec<&str> = fields(TEXT, &top)
            .unwrap()
            .fields
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["name", "power", "dist", "list", "unit", "empty"]);
        let name = field(TEXT, &top, "name");
        assert_eq!(string(TEXT, &name).unwrap(), "a \"b\" (c)");
        let power = field(TEXT, &top, "power");
        assert_eq!(&TEXT[field(TEXT, &power, "jitter")], "\"10m\"");
        let list = entries(TEXT, &field(TEXT, &top, "list")).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(&TEXT[field(TEXT, &list[1], "count")], "-1.5e3");
        let empty = fields(TEXT, &field(TEXT, &top, "empty")).unwrap();
        assert!(empty.fields.is_empty() && !empty.trailing_comma);
        assert!(fields(TEXT, &top).unwrap().trailing_comma);
    }

    #[test]
    fn tuples_names_and_scalars_are_not_structures() {
        let top = value_at(TEXT, 0).unwrap();
        for name in ["dist", "unit", "name", "list"] {
            assert!(fields(TEXT, &field(TEXT, &top, name)).is_none(), "{name}");
        }
        assert!(entries(TEXT, &field(TEXT, &top, "power")).is_none());
        assert_eq!(
            compact(TEXT, &field(TEXT, &top, "list")),
            r#"[Cohort(name: "x", count: 5), (name: "y", /* ) */ count: -1.5e3)]"#
        );
    }

    #[test]
    fn one_value_and_nothing_more() {
        for ok in [
            "5",
            "-1.5e3",
            "\"a ) /* b\"",
            "Fixed(\"3m\")",
            "[\"KB1\", \"KB2\"]",
            "ScheduledRestart(recurrence: Daily, start: \"10:00\")",
            "Some(\"1h\")",
            "r#\"a \" ) b\"#",
            "AlwaysOn",
        ] {
            assert_eq!(one_value(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("5)", "')' closes no bracket opened before it"),
            ("(5]", "']' closes no bracket opened before it"),
            ("[5", "'[' is not closed"),
            ("\"5", "a quote is not closed"),
            (
                "5 /* \" */, x: 1 /* \" */",
                "a comment is not allowed in a value",
            ),
            ("5 // x", "a comment is not allowed in a value"),
            ("5 6", "'6' follows the value"),
            ("5, x: 1", "', x: 1' follows the value"),
            (": 1", "it is not a value"),
        ] {
            assert_eq!(one_value(bad), Err(why.to_string()), "{bad}");
        }
    }

    #[test]
    fn unclosed_text_is_not_a_value() {
        assert!(value_at("Scenario(name: \"x\"", 0).is_none());
        assert!(value_at("[1, 2", 0).is_none());
        assert!(value_at("\"open", 0).is_none());
    }
}
