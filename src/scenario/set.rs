//! `--set PATH=VALUE`: one field of a parsed scenario changed, by its path,
//! with the value read by the field's own type.
//!
//! Owns the path language and how a value reaches its field. The path is
//! followed through the scenario's canonical text (the `scenario.ron` a run
//! writes, so every field of the format has a path without a list of them
//! here); the value's text is put in the field's place and the whole text
//! is read again by the scenario reader: an enum with a payload
//! (`Slow(3.0)`, `Weekly(Sunday)`), a structure, a list, a number or a
//! unit (`15m`, `650MB`) is taken exactly as the scenario file takes it,
//! with the file's error messages. One pseudo-field,
//! `servers.<role>.count`, sets the number of servers of a role (see
//! [`set_server_count`]). Does not check ranges or references: the caller
//! validates the result (`scenario::build`).
//!
//! Paths are dotted field names as in the scenario file and in validation
//! messages. A list entry is chosen by 0-based index or by its `name` (`id`
//! for updates): `cohorts[0].count`, `cohorts[desktops].count`,
//! `updates[KB5046617].failure_probability`. A field of a distribution or
//! power schedule is reached through it: `client_settings.scan_duration.median`,
//! `cohorts[desktops].power.jitter`. A value is written as in the scenario
//! file; a text value may leave out its quotes: `15m`, `650MB`, `0.05`,
//! `true`, `Fixed("3m")`, `["KB1", "KB2"]`.

use std::fmt;

use super::schema::{Cohort, Scenario};
use super::spans::{self, Span};
use super::syntax;
use super::units::clipped;
use crate::error::ScenarioError;

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    /// A field of a struct: `count`.
    Field(String),
    /// A list entry by 0-based index: `[0]`.
    Index(usize),
    /// A list entry by its `name` or `id`: `[desktops]`.
    Named(String),
}

/// Checks a path's syntax; the error says how paths are written.
pub fn check_path(path: &str) -> Result<(), String> {
    parse_path(path).map(|_| ())
}

fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| {
        format!(
            "bad path '{path}': {why}; write fields with dots and list entries in brackets, e.g. cohorts[0].count or cohorts[desktops].count"
        )
    };
    let mut steps = Vec::new();
    let mut field = String::new();
    let mut chars = path.chars().peekable();
    let mut after_bracket = false;
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if field.is_empty() && !after_bracket {
                    return Err(bad("empty field name"));
                }
                if !field.is_empty() {
                    steps.push(Step::Field(std::mem::take(&mut field)));
                }
                after_bracket = false;
                if chars.peek().is_none_or(|&n| n == '.' || n == '[') {
                    return Err(bad("empty field name"));
                }
            }
            '[' => {
                if !field.is_empty() {
                    steps.push(Step::Field(std::mem::take(&mut field)));
                } else if steps.is_empty() {
                    return Err(bad("a list entry needs the list's name first"));
                }
                let mut sel = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(c) => sel.push(c),
                        None => return Err(bad("'[' without ']'")),
                    }
                }
                let sel = sel.trim();
                if sel.is_empty() {
                    return Err(bad("empty brackets"));
                }
                steps.push(match sel.parse::<usize>() {
                    Ok(i) => Step::Index(i),
                    Err(_) => Step::Named(sel.to_string()),
                });
                after_bracket = true;
                if chars.peek().is_some_and(|&n| n != '.' && n != '[') {
                    return Err(bad("expected '.' or '[' after ']'"));
                }
            }
            ']' => return Err(bad("']' without '['")),
            c => field.push(c),
        }
    }
    if !field.is_empty() {
        steps.push(Step::Field(field));
    }
    if steps.is_empty() {
        return Err(bad("empty path"));
    }
    Ok(steps)
}

/// Splits a list of values at the commas that are not inside quotes,
/// parentheses or brackets, so `Uniform(min: "1m", max: "5m"),Fixed("3m")`
/// is two values and `["KB1", "KB2"]` one.
pub fn split_values(list: &str) -> Vec<String> {
    let (mut values, mut current) = (Vec::new(), String::new());
    let (mut depth, mut quoted) = (0usize, false);
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                values.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    values.push(current.trim().to_string());
    values
}

/// One `--set PATH=VALUE` of a command that runs one scenario (`run`,
/// `explain`, `validate`, `size`): a path and one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The field's path, e.g. `cohorts[desktops].count`.
    pub path: String,
    /// Its value, as the scenario file writes it.
    pub value: String,
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// A `PATH=VALUE` as a message quotes it: the value cut after 60
/// characters, the path whole.
pub(crate) fn clipped_arg(arg: &str) -> String {
    match arg.split_once('=') {
        Some((path, value)) => format!("{path}={}", clipped(value)),
        None => clipped(arg),
    }
}

impl std::str::FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        const HELP: &str =
            "expected PATH=VALUE such as client_settings.policy_polling_interval=15m";
        let (path, value) = s
            .split_once('=')
            .ok_or_else(|| format!("'{s}' has no '=': {HELP}"))?;
        let (path, value) = (path.trim(), value.trim());
        if path.is_empty() || value.is_empty() {
            return Err(format!("'{s}' has an empty path or value: {HELP}"));
        }
        check_path(path)?;
        if split_values(value).len() > 1 {
            return Err(format!(
                "'{s}' gives several values; this command takes one per --set (to try \
                 several, use `patchsim sweep` or `patchsim size`)"
            ));
        }
        Ok(Override {
            path: path.to_string(),
            value: value.to_string(),
        })
    }
}

/// The server lists whose length `servers.<role>.count` sets.
const SERVER_LISTS: [&str; 3] = ["management_points", "update_points", "distribution_points"];

/// Whether `path` sets a number of servers (`servers.<role>.count`),
/// which [`apply`] sets after every other field.
pub fn is_server_count(path: &str) -> bool {
    matches!(parse_path(path).as_deref(),
        Ok([Step::Field(s), Step::Field(_), Step::Field(count)]) if s == "servers" && count == "count")
}

/// The value of `--seed`, which overrides the scenario's `seed`: a whole
/// number from 0 to 2^64 - 1, or an error that says so (the caller names
/// the value).
pub fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "the seed is a whole number from 0 to {} (2^64 - 1)",
            u64::MAX
        )
    })
}

/// The value of `--busy-above`, which overrides the scenario's
/// `busy_threshold_pct`: a whole percent from 1 to 100, or an error that
/// says so.
pub fn parse_busy_threshold_pct(s: &str) -> Result<u8, String> {
    s.trim()
        .parse()
        .ok()
        .filter(|pct| super::BUSY_THRESHOLD_PCT.contains(pct))
        .ok_or_else(|| "the busy threshold is a whole percent from 1 to 100 (e.g. 80)".to_string())
}

/// Sets each `(path, value)` in a copy of `base`, in order, but the
/// numbers of servers (`servers.<role>.count`) after every other field:
/// a cohort's fields are those of the cohort as the file has it, before a
/// count spreads it over the servers, whatever the order of the sets. An
/// error names what is wrong and what is allowed; the caller adds which
/// `--set` it was.
pub fn apply(base: &Scenario, sets: &[(&str, &str)]) -> Result<Scenario, String> {
    let mut scenario = base.clone();
    let mut counts = Vec::new();
    for &(path, value) in sets {
        let steps = parse_path(path)?;
        // A long value is quoted cut, however often the message quotes it.
        let clip = |message: String| {
            let value = value.trim();
            if clipped(value).len() < value.len() {
                message.replace(value, &clipped(value))
            } else {
                message
            }
        };
        match steps.as_slice() {
            [Step::Field(s), Step::Field(role), Step::Field(count)]
                if s == "servers" && count == "count" =>
            {
                let n = value.trim().parse::<usize>().map_err(|_| {
                    clip(format!(
                        "expected a whole number of servers (1 or more), got '{value}'"
                    ))
                })?;
                counts.push((role.clone(), n));
            }
            _ => scenario = set_field(&scenario, &steps, path, value.trim()).map_err(clip)?,
        }
    }
    for (role, n) in counts {
        scenario = set_server_count(scenario, &role, n)?;
    }
    Ok(scenario)
}

/// The value `path` has in `base` with `value` set there (`None`: as
/// `base` has it), as the scenario's canonical text writes it, so that
/// two spellings of one value compare equal: `60m` and `1h` are both
/// `"1h"`. A number of servers (`servers.<role>.count`) is that number;
/// without a value, the number of the role's servers (for DPs, those at
/// the site).
pub fn canonical_value(base: &Scenario, path: &str, value: Option<&str>) -> Result<String, String> {
    let steps = parse_path(path)?;
    if let [Step::Field(s), Step::Field(role), Step::Field(count)] = steps.as_slice()
        && s == "servers"
        && count == "count"
    {
        let n = match value {
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                format!("expected a whole number of servers (1 or more), got '{v}'")
            })?,
            None => match role.as_str() {
                "management_points" => base.servers.management_points.len(),
                "update_points" => base.servers.update_points.len(),
                "distribution_points" => (base.servers.distribution_points.iter())
                    .filter(|d| d.location.is_none())
                    .count(),
                _ => return Err(format!("servers.{role}.count: no such server role")),
            },
        };
        return Ok(n.to_string());
    }
    let scenario = match value {
        Some(v) => apply(base, &[(path, v)])?,
        None => base.clone(),
    };
    let text = super::resolved_text(&scenario);
    let slot = find(&text, &steps)?;
    // A field the text leaves out has its default.
    Ok(slot.old.map_or_else(
        || "(default)".to_string(),
        |span| spans::compact(&text, &span),
    ))
}

fn set_field(base: &Scenario, steps: &[Step], path: &str, value: &str) -> Result<Scenario, String> {
    let text = super::resolved_text(base);
    let slot = find(&text, steps)?;
    let old = slot.old.as_ref().map(|s| &text[s.clone()]);
    let with = |value: &str| {
        let mut patched = String::with_capacity(text.len() + value.len() + slot.before.len());
        patched.push_str(&text[..slot.span.start]);
        patched.push_str(&slot.before);
        patched.push_str(value);
        patched.push_str(&slot.after);
        patched.push_str(&text[slot.span.end..]);
        super::parse(&patched, "--set").map_err(|e| match e {
            ScenarioError::Syntax { message, .. } => message,
            other => other.to_string(),
        })
    };
    // The value's text goes in the field's place only if it is one value
    // and nothing more: text that closes the field or hides a comma in a
    // comment would change other fields.
    let first = match spans::one_value(value) {
        Ok(()) => match with(value) {
            Ok(s) => return Ok(s),
            Err(e) => e,
        },
        Err(why) => format!(
            "not one value of the field ({why}); write the value alone, as in the scenario \
             file"
        ),
    };
    // A text value (a duration, a size, a name) may leave out its quotes.
    let quoted = unquoted(value).map(|v| with(&v));
    let message = match quoted {
        Some(Ok(s)) => return Ok(s),
        Some(Err(e))
            if old.is_some_and(|o| o.starts_with('"'))
                || first.starts_with(syntax::EXPECTED_STRING) =>
        {
            e
        }
        _ => first,
    };
    // An unknown field is the path's mistake, not the value's.
    let mut msg = if message.starts_with("unknown field `") {
        message
    } else {
        format!("'{value}': {message}")
    };
    if let Some(fields) = slot
        .old
        .as_ref()
        .and_then(|o| spans::fields(&text, o))
        .filter(|f| !f.fields.is_empty())
    {
        let old = slot.old.as_ref().expect("fields of the old value");
        msg += &format!(
            "; {path} is {}: give a whole value as in the scenario file, or set one of \
             its fields: {}",
            shortened(&spans::compact(&text, old)),
            fields
                .fields
                .iter()
                .map(|f| format!("{path}.{}", f.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Err(msg)
}

/// `value` in quotes (inside `Some(...)` if it is written so), unless it is
/// quoted already: a text value read as written, brackets and all.
fn unquoted(value: &str) -> Option<String> {
    let (inner, some) = match value
        .strip_prefix("Some(")
        .and_then(|v| v.strip_suffix(')'))
    {
        Some(inner) => (inner.trim(), true),
        None => (value, false),
    };
    if inner.is_empty() || inner.starts_with('"') {
        return None;
    }
    let quoted = format!("\"{}\"", inner.replace('\\', "\\\\").replace('"', "\\\""));
    Some(if some {
        format!("Some({quoted})")
    } else {
        quoted
    })
}

/// Where a path's value goes in the canonical text: `span` is replaced by
/// `before`, the value, and `after`.
struct Slot {
    span: Span,
    before: String,
    after: String,
    /// The value there now, if the field is set.
    old: Option<Span>,
}

/// The slot a path names. A field left out of the text (an optional or
/// defaulted one, or an unknown one, which the reader then rejects with
/// the list of known ones) is added at the end of its structure, with the
/// structures the rest of the path needs; a list left out has no entries.
fn find(text: &str, steps: &[Step]) -> Result<Slot, String> {
    let mut node = spans::value_at(text, 0).expect("the canonical text is a value");
    let mut here = String::new();
    for (k, step) in steps.iter().enumerate() {
        let unset = &text[node.clone()] == "None";
        match step {
            Step::Field(name) => {
                if name == "seed" && here.is_empty() {
                    return Err(
                        "the seed cannot be set this way: use --seed (a study derives each \
                         replication's seed from the scenario's; use --replications for more \
                         seeds)"
                            .to_string(),
                    );
                }
                if unset {
                    // An optional structure not set: `None` becomes one.
                    return added(text, &steps[k..], &here, node, "(".into(), ")".into());
                }
                let Some(fields) = spans::fields(text, &node) else {
                    if text[node.clone()].trim_start().starts_with('[') {
                        return Err(format!(
                            "{here} is a list, which has no field `{name}`; name one of its \
                             entries: {here}[0].{name}, or {here}[NAME].{name} for a list of \
                             named entries"
                        ));
                    }
                    return Err(format!(
                        "{here} is {}, which has no field `{name}`",
                        shortened(&spans::compact(text, &node))
                    ));
                };
                match fields.fields.iter().find(|f| f.name == name) {
                    Some(f) => node = f.value.clone(),
                    None => {
                        let comma = if fields.fields.is_empty() || fields.trailing_comma {
                            ""
                        } else {
                            ", "
                        };
                        let at = fields.end..fields.end;
                        let (before, after) = (comma.to_string(), ", ".to_string());
                        return added(text, &steps[k..], &here, at, before, after);
                    }
                }
                if !here.is_empty() {
                    here.push('.');
                }
                here.push_str(name);
            }
            Step::Index(i) => {
                let list = if unset {
                    Vec::new()
                } else {
                    spans::entries(text, &node)
                        .ok_or_else(|| format!("{here} is not a list; remove [{i}]"))?
                };
                node = list
                    .get(*i)
                    .cloned()
                    .ok_or_else(|| no_index(&here, list.len(), *i))?;
                here.push_str(&format!("[{i}]"));
            }
            Step::Named(sel) => {
                let list = if unset {
                    Vec::new()
                } else {
                    spans::entries(text, &node)
                        .ok_or_else(|| format!("{here} is not a list; remove [{sel}]"))?
                };
                let key = |entry: &Span| {
                    let fields = spans::fields(text, entry)?;
                    ["name", "id"].iter().find_map(|k| {
                        let f = fields.fields.iter().find(|f| f.name == *k)?;
                        spans::string(text, &f.value)
                    })
                };
                let known: Vec<(String, Span)> = list
                    .iter()
                    .filter_map(|e| Some((key(e)?, e.clone())))
                    .collect();
                let Some((_, entry)) = known.iter().find(|(k, _)| k == sel) else {
                    if known.is_empty() && !list.is_empty() {
                        return Err(format!(
                            "{here} has no entry named '{sel}': its entries have no name or \
                             id; name one by its index, [0] to [{}]",
                            list.len() - 1
                        ));
                    }
                    return Err(no_name(&here, sel, &known));
                };
                node = entry.clone();
                here.push_str(&format!("[{sel}]"));
            }
        }
    }
    Ok(Slot {
        old: Some(node.clone()),
        span: node,
        before: String::new(),
        after: String::new(),
    })
}

/// The slot for fields not in the text: `steps` from the first missing
/// field on, written at `span` (between `before` and `after`) as
/// `field: (field: (... value))`. A list left out of `text` has no
/// entries to name, unless the reader does not know its field at all: then
/// that is the mistake.
fn added(
    text: &str,
    steps: &[Step],
    here: &str,
    span: Span,
    mut before: String,
    mut after: String,
) -> Result<Slot, String> {
    let mut here = here.to_string();
    let last = steps.len() - 1;
    for (k, step) in steps.iter().enumerate() {
        match step {
            Step::Field(name) => {
                if matches!(steps.get(k + 1), Some(Step::Index(_) | Step::Named(_))) {
                    let probe = format!(
                        "{}{before}{name}: []{after}{}",
                        &text[..span.start],
                        &text[span.end..]
                    );
                    if let Err(ScenarioError::Syntax { message, .. }) =
                        super::parse(&probe, "--set")
                        && message.starts_with("unknown field `")
                    {
                        return Err(message);
                    }
                }
                before += &format!("{name}: ");
                if k < last {
                    before.push('(');
                    after.insert(0, ')');
                }
                if !here.is_empty() {
                    here.push('.');
                }
                here.push_str(name);
            }
            Step::Index(i) => return Err(no_index(&here, 0, *i)),
            Step::Named(sel) => return Err(no_name(&here, sel, &[])),
        }
    }
    Ok(Slot {
        span,
        before,
        after,
        old: None,
    })
}

fn no_index(here: &str, len: usize, i: usize) -> String {
    match len {
        0 => format!("{here} is empty; there is no [{i}]"),
        1 => format!("{here} has 1 entry, [0]; there is no [{i}]"),
        n => format!("{here} has {n} entries (0 to {}); there is no [{i}]", n - 1),
    }
}

/// A value quoted in a message, cut after about 100 characters (a whole
/// list of cohorts would bury the message).
fn shortened(value: &str) -> String {
    match value.char_indices().nth(100) {
        Some((at, _)) => format!("{} …", &value[..at]),
        None => value.to_string(),
    }
}

fn no_name(here: &str, sel: &str, known: &[(String, Span)]) -> String {
    let names: Vec<&str> = known.iter().map(|(k, _)| k.as_str()).collect();
    format!(
        "{here} has no entry named '{sel}'{}; known: {}",
        super::syntax::did_you_mean(sel, &names).replace('`', "'"),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )
}

/// Sets the number of servers of one role to `n`: the first `n` of the
/// role's servers are kept (beyond the last, copies of it named
/// `<last>-2`, `<last>-3`, ...), and every cohort's clients are spread
/// evenly over all `n`: a cohort becomes up to `n` cohorts of consecutive
/// clients (the first keeps its name, the others are `<name>-2`, ...;
/// deployments, their phases and rules that target it target them all),
/// part `k` on server `k`.
/// `n` equal to today's count on a role whose cohorts are not spread
/// already changes only that: the clients are spread the same way.
/// For distribution points the count is of those at the site: DPs in
/// locations stay, and so do the cohorts they serve.
pub fn set_server_count(mut s: Scenario, role: &str, n: usize) -> Result<Scenario, String> {
    let Some(r) = SERVER_LISTS.iter().position(|l| *l == role) else {
        return Err(format!(
            "servers.{role}.count: no such server role; the roles are {}",
            SERVER_LISTS
                .iter()
                .map(|l| format!("servers.{l}.count"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    if n == 0 || n > super::MAX_SERVERS {
        return Err(format!(
            "servers.{role}.count must be between 1 and {}, got {n}",
            super::MAX_SERVERS
        ));
    }
    if !s.primaries.is_empty() {
        return Err(format!(
            "servers.{role}.count spreads the clients of a standalone site; in a hierarchy \
             set servers.{role} itself (a list) or each cohort's server"
        ));
    }
    // DPs in locations serve their branches: the count is of the DPs at
    // the site, and only the cohorts those serve are spread.
    let in_branch: Vec<String> = (s.servers.distribution_points.iter())
        .filter(|d| r == 2 && d.location.is_some())
        .map(|d| d.name.clone())
        .collect();
    let names: Vec<String> = match r {
        0 => resize(&mut s.servers.management_points, n, |m| &mut m.name),
        1 => resize(&mut s.servers.update_points, n, |u| &mut u.name),
        _ => {
            let dps = &mut s.servers.distribution_points;
            let Some(last) = dps.iter().rposition(|d| d.location.is_none()) else {
                return Err(format!(
                    "servers.{role}.count sets the number of DPs at the site, and every DP of \
                     this scenario is in a location; set each DP (servers.{role}) instead"
                ));
            };
            // Resized where they are in the list, the branch DPs around them
            // left in their places.
            let mut site: Vec<_> = dps[..=last]
                .iter()
                .filter(|d| d.location.is_none())
                .cloned()
                .collect();
            let names = resize(&mut site, n, |d| &mut d.name);
            let mut site = site.into_iter();
            let mut kept = Vec::new();
            for (i, d) in std::mem::take(dps).into_iter().enumerate() {
                if d.location.is_some() {
                    kept.push(d);
                } else if i < last {
                    kept.extend(site.next());
                } else {
                    kept.extend(site.by_ref());
                }
            }
            *dps = kept;
            names
        }
    };
    if let Some((d, source)) = (s.servers.distribution_points.iter())
        .flat_map(|d| d.pull_from.iter().map(move |p| (d, p)))
        .find(|(_, p)| r == 2 && !names.contains(p))
    {
        return Err(format!(
            "servers.distribution_points[{}].pull_from: '{source}' is not among the {n} DPs \
             at the site servers.{role}.count={n} leaves; keep that DP or change the pull \
             DP's sources",
            d.name
        ));
    }
    if let Some((i, f)) = s.faults.iter().enumerate().find(|(_, f)| {
        let of_role = |list: &[String]| list.contains(&f.server);
        !of_role(&names) && !of_role(&in_branch) && !other_roles(&s, r).contains(&f.server)
    }) {
        return Err(format!(
            "faults[{i}].server: '{}' is not among the {n} servers servers.{role}.count={n} \
             leaves; remove the fault or keep that server",
            f.server
        ));
    }
    let mut cohorts: Vec<Cohort> = Vec::new();
    let mut parts_of: Vec<(String, Vec<String>)> = Vec::new();
    let mut taken: Vec<String> = s.cohorts.iter().map(|c| c.name.clone()).collect();
    for cohort in std::mem::take(&mut s.cohorts) {
        let branch = (cohort.distribution_point.as_ref()).is_some_and(|d| in_branch.contains(d));
        if branch || (r == 2 && cohort.distribution_point.is_none()) {
            // Served in its branch (its DP stays), or on the internet.
            cohorts.push(cohort);
            continue;
        }
        let parts = n.min(cohort.count.max(1) as usize);
        let (base, extra) = (cohort.count / parts as u32, cohort.count % parts as u32);
        let mut part_names = Vec::new();
        for k in 0..parts {
            let mut part = cohort.clone();
            part.count = base + u32::from((k as u32) < extra);
            if k > 0 {
                let mut name = format!("{}-{}", cohort.name, k + 1);
                while taken.contains(&name) {
                    name.push('\'');
                }
                taken.push(name.clone());
                part.name = name;
            }
            let server = names[k].clone();
            match r {
                0 => part.management_point = server,
                1 => {
                    part.fallback_update_points
                        .retain(|f| *f != server && names.contains(f));
                    part.update_point = server;
                }
                _ => part.distribution_point = Some(server),
            }
            part_names.push(part.name.clone());
            cohorts.push(part);
        }
        parts_of.push((cohort.name, part_names));
    }
    s.cohorts = cohorts;
    // Every list that names cohorts names all the parts of a split one:
    // a deployment's targets, its later phases' and a rule's.
    let spread = |targets: &mut Vec<String>| {
        *targets = (targets.iter())
            .flat_map(|t| match parts_of.iter().find(|(name, _)| name == t) {
                Some((_, parts)) => parts.clone(),
                None => vec![t.clone()],
            })
            .collect();
    };
    for d in &mut s.deployments {
        spread(&mut d.targets);
        for phase in &mut d.phases {
            spread(&mut phase.targets);
        }
    }
    for rule in &mut s.automatic_deployment_rules {
        spread(&mut rule.targets);
    }
    Ok(s)
}

/// Names of the servers of the roles other than `r`, and of the WAN links
/// (a fault names one by its location).
fn other_roles(s: &Scenario, r: usize) -> Vec<String> {
    let mut out: Vec<String> = s.locations.iter().map(|l| l.name.clone()).collect();
    if r != 0 {
        out.extend(s.servers.management_points.iter().map(|m| m.name.clone()));
    }
    if r != 1 {
        out.extend(s.servers.update_points.iter().map(|u| u.name.clone()));
    }
    if r != 2 {
        out.extend(s.servers.distribution_points.iter().map(|d| d.name.clone()));
    }
    out
}

/// Keeps the first `n` servers, or adds copies of the last; their names.
fn resize<T: Clone>(
    list: &mut Vec<T>,
    n: usize,
    name: impl Fn(&mut T) -> &mut String,
) -> Vec<String> {
    list.truncate(n);
    if let Some(last) = list.last().cloned() {
        let mut template = last;
        let stem = name(&mut template).clone();
        let mut k = 2;
        while list.len() < n {
            let mut copy = template.clone();
            *name(&mut copy) = format!("{stem}-{k}");
            k += 1;
            list.push(copy);
        }
    }
    list.iter_mut().map(|s| name(s).clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{self, FaultEffect, Power, Recurrence, Weekday};

    fn base() -> Scenario {
        scenario::parse(scenario::DEFAULT_SCENARIO, "default").expect("the default parses")
    }

    fn set(path: &str, value: &str) -> Result<Scenario, String> {
        apply(&base(), &[(path, value)])
    }

    #[test]
    fn canonical_values_make_two_spellings_one() {
        let b = base();
        let poll = "client_settings.policy_polling_interval";
        let of = |v| canonical_value(&b, poll, Some(v)).unwrap();
        assert_eq!(of("60m"), of("1h"));
        assert_eq!(of("1h 30m"), of("90 minutes"));
        assert_ne!(of("60m"), of("2h"));
        let duration = |v| canonical_value(&b, "duration", Some(v)).unwrap();
        assert_ne!(duration("1d 13h 30m"), duration("1d 13h 35m"));
        // Without a value: the base's own.
        let now = b.client_settings.policy_polling_interval.to_string();
        assert_eq!(canonical_value(&b, poll, None).unwrap(), of(&now));
        let dps = "servers.distribution_points.count";
        assert_eq!(canonical_value(&b, dps, Some(" 2")).unwrap(), "2");
        assert_eq!(
            canonical_value(&b, dps, None).unwrap(),
            b.servers.distribution_points.len().to_string()
        );
        assert!(canonical_value(&b, "client_settings.nope", Some("1")).is_err());
    }

    #[test]
    fn values_are_read_by_their_fields_types() {
        let s = set("client_settings.policy_polling_interval", "15m").unwrap();
        assert_eq!(s.client_settings.policy_polling_interval.to_string(), "15m");
        let s = set("client_settings.policy_polling_interval", "1h 30m").unwrap();
        assert_eq!(s.client_settings.policy_polling_interval.to_string(), "90m");
        assert_eq!(
            set("cohorts[1].count", "123").unwrap().cohorts[1].count,
            123
        );
        assert_eq!(
            set("cohorts[servers].count", "7").unwrap().cohorts[2].count,
            7
        );
        let u = set("updates[KB5046617].failure_probability", "0.5").unwrap();
        assert_eq!(u.updates[0].failure_probability, 0.5);
        let b = set("client_settings.deadline_randomization", "true").unwrap();
        assert!(b.client_settings.deadline_randomization);
        let f = set("site.content_ready_delay", "Fixed(\"3m\")").unwrap();
        assert_eq!(
            f.site.content_ready_delay,
            scenario::Dist::Fixed("3m".parse().unwrap())
        );
        let j = set("cohorts[desktops].power.jitter", "10m").unwrap();
        assert!(
            matches!(j.cohorts[0].power, Power::BusinessHours { jitter, .. } if jitter.to_string() == "10m")
        );
        let a = set("cohorts[desktops].power", "AlwaysOn").unwrap();
        assert!(matches!(a.cohorts[0].power, Power::AlwaysOn));
        let d = set("deployments[0].available", "2026-11-12T09:00:00+01:00").unwrap();
        assert!(d.deployments[0].available.is_some());
        let c = set(
            "cohorts[desktops].client_settings.policy_polling_interval",
            "20m",
        )
        .unwrap();
        let own = c.cohorts[0].client_settings.as_ref().unwrap();
        assert_eq!(own.policy_polling_interval.to_string(), "20m");
        // A text value without quotes is read as written, brackets,
        // commas and quotes included.
        let n = set("name", r#"nov (pilot), "ring" 1"#).unwrap();
        assert_eq!(n.name, r#"nov (pilot), "ring" 1"#);
        let q = set("name", r#""quoted""#).unwrap();
        assert_eq!(q.name, "quoted");
    }

    #[test]
    fn enum_payloads_lists_and_structures_go_through_their_types() {
        let with_fault = apply(
            &base(),
            &[(
                "faults",
                r#"[Fault(server: "sup01", start: "2026-11-10T19:00:00+01:00", end: "2026-11-10T21:00:00+01:00")]"#,
            )],
        )
        .unwrap();
        assert_eq!(with_fault.faults[0].effect, FaultEffect::Down);
        let slow = apply(&with_fault, &[("faults[0].effect", "Slow(3.0)")]).unwrap();
        assert_eq!(slow.faults[0].effect, FaultEffect::Slow(3.0));
        let w = set(
            "cohorts[servers].maintenance_windows",
            "[MaintenanceWindow(recurrence: Weekly(Sunday), start: \"02:00\")]",
        )
        .unwrap();
        assert_eq!(
            w.cohorts[2].maintenance_windows[0].recurrence,
            Recurrence::Weekly(Weekday::Sunday)
        );
        let w = apply(
            &w,
            &[(
                "cohorts[servers].maintenance_windows[0].recurrence",
                "Weekly(Saturday)",
            )],
        )
        .unwrap();
        assert_eq!(
            w.cohorts[2].maintenance_windows[0].recurrence,
            Recurrence::Weekly(Weekday::Saturday)
        );
        let m = set(
            "servers.management_points",
            "[ManagementPoint(name: \"mp01\", workers: 4)]",
        )
        .unwrap();
        assert_eq!(m.servers.management_points[0].workers, 4);
        let t = set("deployments[0].targets", "[\"desktops\", \"servers\"]").unwrap();
        assert_eq!(t.deployments[0].targets, ["desktops", "servers"]);
        let e = set("faults", "[Fault(server: \"x\")]").unwrap_err();
        assert!(e.contains("missing field `start`"), "{e}");
        let e = apply(&with_fault, &[("faults[0].effect", "Slw(3.0)")]).unwrap_err();
        assert!(
            e.contains("unknown choice `Slw` in `FaultEffect` (did you mean `Slow`?); allowed: `Down`, `Slow`"),
            "{e}"
        );
    }

    /// A cohort's field set before or after a number of servers means the
    /// cohort as the file has it: the count spreads it afterwards.
    #[test]
    fn server_counts_come_after_the_other_fields_whatever_their_order() {
        let name = base().cohorts[0].name.clone();
        let cohort = format!("cohorts[{name}].count");
        let count = "servers.distribution_points.count";
        let a = apply(&base(), &[(count, "2"), (&cohort, "600")]).unwrap();
        let b = apply(&base(), &[(&cohort, "600"), (count, "2")]).unwrap();
        assert_eq!(
            super::super::resolved_text(&a),
            super::super::resolved_text(&b)
        );
        let halves: u32 = (a.cohorts.iter())
            .filter(|c| c.name == name || c.name == format!("{name}-2"))
            .map(|c| c.count)
            .sum();
        assert_eq!(halves, 600, "the 600 spread over both DPs");
        assert!(is_server_count(count) && !is_server_count(&cohort));
    }

    #[test]
    fn server_counts_spread_the_cohorts() {
        let one = set("servers.distribution_points.count", "1").unwrap();
        assert_eq!(one.servers.distribution_points.len(), 1);
        let first = &one.servers.distribution_points[0].name;
        assert!(
            one.cohorts
                .iter()
                .all(|c| c.distribution_point.as_ref() == Some(first))
        );
        let three = set("servers.distribution_points.count", "1")
            .and_then(|s| apply(&s, &[("servers.distribution_points.count", "3")]))
            .unwrap();
        assert_eq!(three.servers.distribution_points.len(), 3);
        let names: Vec<String> = three
            .servers
            .distribution_points
            .iter()
            .map(|d| d.name.clone())
            .collect();
        assert_eq!(
            names,
            [first.clone(), format!("{first}-2"), format!("{first}-3")]
        );
        let total = |s: &Scenario| s.cohorts.iter().map(|c| u64::from(c.count)).sum::<u64>();
        assert_eq!(total(&three), total(&base()));
        assert_eq!(three.cohorts.len(), 3 * base().cohorts.len());
        assert_eq!(
            three.cohorts[1].name,
            format!("{}-2", base().cohorts[0].name)
        );
        assert_eq!(
            three.cohorts[1].distribution_point.as_ref(),
            Some(&names[1])
        );
        assert!(three.deployments[0].targets.len() > base().deployments[0].targets.len());
        scenario::build(three, "three").expect("valid");
        let e = set("servers.gateways.count", "2").unwrap_err();
        assert!(e.contains("servers.update_points.count"), "{e}");
        let e = set("servers.update_points.count", "0").unwrap_err();
        assert!(e.contains("between 1 and"), "{e}");
    }

    #[test]
    fn a_dp_count_leaves_the_internet_cohorts_whole() {
        let text = include_str!("../../scenarios/internet.ron");
        let internet = scenario::parse(text, "internet.ron").expect("it parses");
        let two = apply(&internet, &[("servers.distribution_points.count", "2")]).unwrap();
        let names = |s: &Scenario| -> Vec<(String, Option<String>)> {
            (s.cohorts.iter())
                .map(|c| (c.name.clone(), c.distribution_point.clone()))
                .collect()
        };
        let on = |name: &str, dp: Option<&str>| (name.to_string(), dp.map(String::from));
        assert_eq!(
            names(&two),
            [
                on("office", Some("dp-office")),
                on("office-2", Some("dp-office-2")),
                on("remote", None),
            ]
        );
        scenario::build(two, "two").expect("valid");
    }

    #[test]
    fn a_dp_count_sizes_the_dps_at_the_site_and_leaves_the_branches() {
        let text = include_str!("../../scenarios/branch-offices.ron");
        let branches = scenario::parse(text, "branch-offices.ron").expect("it parses");
        let dps = |s: &Scenario| -> Vec<(String, Option<String>)> {
            (s.servers.distribution_points.iter())
                .map(|d| (d.name.clone(), d.location.clone()))
                .collect()
        };
        let three = apply(&branches, &[("servers.distribution_points.count", "3")]).unwrap();
        let (head, leeds, york) = ("dp-head-office", "dp-leeds", "dp-york");
        let at =
            |name: &str, location: Option<&str>| (name.to_string(), location.map(String::from));
        assert_eq!(
            dps(&three),
            [
                at(head, None),
                at("dp-head-office-2", None),
                at("dp-head-office-3", None),
                at(leeds, Some("leeds")),
                at(york, Some("york")),
            ]
        );
        // A branch's cohort keeps its DP; one at the site is spread.
        for c in &branches.cohorts {
            let parts: Vec<&str> = (three.cohorts.iter())
                .filter(|p| p.name == c.name || p.name.starts_with(&format!("{}-", c.name)))
                .map(|p| p.distribution_point.as_deref().unwrap_or_default())
                .collect();
            let own = c.distribution_point.as_deref().unwrap_or_default();
            if own == head {
                assert_eq!(parts, [head, "dp-head-office-2", "dp-head-office-3"]);
            } else {
                assert_eq!(parts, [own], "{}", c.name);
            }
        }
        scenario::build(three, "three").expect("valid");
        let one = apply(&branches, &[("servers.distribution_points.count", "1")]).unwrap();
        assert_eq!(dps(&one), dps(&branches));
        scenario::build(one, "one").expect("valid");

        let pulled = apply(
            &branches,
            &[(
                "servers.distribution_points[2].pull_from",
                r#"["dp-head-office"]"#,
            )],
        )
        .unwrap();
        let mut two = pulled.clone();
        two.servers
            .distribution_points
            .insert(0, two.servers.distribution_points[0].clone());
        two.servers.distribution_points[0].name = "dp-first".into();
        let e = apply(&two, &[("servers.distribution_points.count", "1")]).unwrap_err();
        assert!(
            e.contains("servers.distribution_points[dp-york].pull_from: 'dp-head-office' is not"),
            "{e}"
        );
        let mut branch_only = branches.clone();
        branch_only.servers.distribution_points.remove(0);
        let e = apply(&branch_only, &[("servers.distribution_points.count", "2")]).unwrap_err();
        assert!(
            e.contains("every DP of this scenario is in a location"),
            "{e}"
        );
    }

    #[test]
    fn bad_paths_and_values_say_what_is_allowed() {
        let e = set("client_settings.policy_poling_interval", "15m").unwrap_err();
        assert!(
            e.starts_with(
                "unknown field `policy_poling_interval` in `ClientSettings` \
                 (did you mean `policy_polling_interval`?); allowed: `policy_polling_interval`, "
            ),
            "{e}"
        );
        let e = set("cohorts[laptops].count", "5").unwrap_err();
        assert!(
            e.contains("no entry named 'laptops'; known: desktops, always-on, servers"),
            "{e}"
        );
        let e = set("cohorts[9].count", "5").unwrap_err();
        assert!(e.contains("has 3 entries"), "{e}");
        let e = set("cohorts[0].count", "many").unwrap_err();
        assert!(e.contains("'many'"), "{e}");
        let e = set("cohorts[0].count", "1.5").unwrap_err();
        assert!(e.contains("'1.5'"), "{e}");
        let e = set("client_settings.policy_polling_interval", "15x").unwrap_err();
        assert!(e.contains("invalid duration \"15x\""), "{e}");
        let e = set("client_settings.scan_duration", "3m").unwrap_err();
        assert!(e.contains("client_settings.scan_duration.median"), "{e}");
        let e = set("seed", "5").unwrap_err();
        assert!(e.contains("--replications"), "{e}");
        let e = set("name.first", "x").unwrap_err();
        assert!(e.contains("has no field `first`"), "{e}");
    }

    /// Every path of a scenario's canonical text, with its value's text:
    /// each field, each list entry by index, and what they hold.
    fn paths(text: &str, span: &Span, here: &str, out: &mut Vec<(String, String)>) {
        if let Some(fields) = spans::fields(text, span) {
            for f in fields.fields {
                let path = if here.is_empty() {
                    f.name.to_string()
                } else {
                    format!("{here}.{}", f.name)
                };
                out.push((path.clone(), text[f.value.clone()].to_string()));
                paths(text, &f.value, &path, out);
            }
        } else if let Some(entries) = spans::entries(text, span) {
            for (i, e) in entries.iter().enumerate() {
                let path = format!("{here}[{i}]");
                out.push((path.clone(), text[e.clone()].to_string()));
                paths(text, e, &path, out);
            }
        }
    }

    /// Setting any field, entry or structure of the shipped scenarios to
    /// its own value, as written in `scenario.ron`, changes nothing.
    #[test]
    fn every_path_takes_its_own_value_back() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut checked = 0;
        for name in [
            "patch-tuesday",
            "branch-offices",
            "hierarchy",
            "adr",
            "peer-cache",
        ] {
            let file = format!("{dir}/{name}.ron");
            let base = scenario::load(std::path::Path::new(&file)).expect("loads");
            let text = scenario::resolved_text(&base);
            let mut all = Vec::new();
            paths(&text, &spans::value_at(&text, 0).unwrap(), "", &mut all);
            assert!(all.len() > 50, "{name}: {} paths", all.len());
            for (path, value) in all.iter().filter(|(p, _)| p != "seed") {
                let again = apply(&base, &[(path, value)])
                    .unwrap_or_else(|e| panic!("{name}: {path}={value}: {e}"));
                assert_eq!(
                    scenario::resolved_text(&again),
                    text,
                    "{name}: {path}={value}"
                );
                checked += 1;
            }
        }
        assert!(checked > 500, "{checked} paths");
    }

    #[test]
    fn fields_left_out_of_the_text_are_added() {
        let text = "S(a: None, b: B(c: 1), d: [])";
        let patch = |steps: &[Step], value: &str| {
            let slot = find(text, steps).unwrap();
            format!(
                "{}{}{value}{}{}",
                &text[..slot.span.start],
                slot.before,
                slot.after,
                &text[slot.span.end..]
            )
        };
        let f = |n: &str| Step::Field(n.to_string());
        assert_eq!(
            patch(&[f("a"), f("x"), f("y")], "2"),
            "S(a: (x: (y: 2)), b: B(c: 1), d: [])"
        );
        assert_eq!(
            patch(&[f("b"), f("e"), f("g")], "3"),
            "S(a: None, b: B(c: 1, e: (g: 3), ), d: [])"
        );
        assert_eq!(
            patch(&[f("b"), f("c")], "4"),
            "S(a: None, b: B(c: 4), d: [])"
        );
        assert_eq!(
            patch(&[f("z")], "5"),
            "S(a: None, b: B(c: 1), d: [], z: 5, )"
        );
        let e = find(text, &[f("d"), Step::Index(0)]).err().unwrap();
        assert_eq!(e, "d is empty; there is no [0]");
        let e = find(text, &[f("z"), Step::Named("k".into())])
            .err()
            .unwrap();
        assert_eq!(e, "z has no entry named 'k'; known: none");
        let e = find(text, &[f("b"), f("c"), f("h")]).err().unwrap();
        assert_eq!(e, "b.c is 1, which has no field `h`");
        let e = find(text, &[f("d"), f("h")]).err().unwrap();
        assert!(
            e.starts_with("d is a list, which has no field `h`; name one of its entries: d[0].h"),
            "{e}"
        );
        // Every cohort of the default, whether it sets its own client
        // settings or not, takes one.
        for c in ["desktops", "always-on", "servers"] {
            let s = set(&format!("cohorts[{c}].client_settings.scan_ttl"), "2h").unwrap();
            let own = s.cohorts.iter().find(|x| x.name == c).unwrap();
            assert_eq!(
                own.client_settings.as_ref().unwrap().scan_ttl.to_string(),
                "2h"
            );
        }
    }

    #[test]
    fn lists_split_outside_parentheses_and_quotes() {
        assert_eq!(split_values("15m, 30m,60m"), ["15m", "30m", "60m"]);
        assert_eq!(
            split_values(r#"Uniform(min: "1m", max: "5m"),Fixed("3m")"#),
            [r#"Uniform(min: "1m", max: "5m")"#, r#"Fixed("3m")"#]
        );
        assert_eq!(split_values(r#"["a", "b"],[]"#), [r#"["a", "b"]"#, "[]"]);
    }
}
