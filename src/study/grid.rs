//! The grid of a study: the `--set PATH=V1,V2,...` arguments, the cartesian
//! product of their values, and applying one point to a scenario.
//!
//! Owns the path language and the order of the points. A point is applied to
//! the parsed [`Scenario`] generically, through its `serde_json` form, so
//! every field of the format can be swept without a list of them here; the
//! scenario's own deserialization then checks each value's type and unit.
//! Does not check ranges or references: the caller runs the scenario's
//! validation on every point before anything runs.
//!
//! Paths are dotted field names as in the scenario file and in validation
//! messages. A list entry is chosen by 0-based index or by its `name` (`id`
//! for updates): `cohorts[0].count`, `cohorts[desktops].count`,
//! `updates[KB5046617].failure_probability`. A field of a distribution or
//! power schedule is reached through it: `client_settings.scan_duration.median`,
//! `cohorts[desktops].power.jitter`. A value is written as in the scenario
//! file, without the quotes: `15m`, `650MB`, `0.05`, `true`, `Fixed("3m")`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::scenario::{Dist, Power, Scenario};

/// One `--set PATH=V1,V2,...`: a path into the scenario and the values it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Dotted path, e.g. `client_settings.policy_polling_interval`.
    pub path: String,
    /// Values in the order given.
    pub values: Vec<String>,
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.values.join(","))
    }
}

const SET_HELP: &str =
    "expected PATH=V1,V2,... such as client_settings.policy_polling_interval=15m,30m,60m";

impl FromStr for Param {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (path, list) = s
            .split_once('=')
            .ok_or_else(|| format!("'{s}' has no '=': {SET_HELP}"))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("'{s}' has no path: {SET_HELP}"));
        }
        parse_path(path)?;
        let values = split_list(list);
        if values.iter().any(String::is_empty) {
            return Err(format!("'{s}' has an empty value: {SET_HELP}"));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(format!(
                    "'{s}' lists the value '{v}' twice; list each value once"
                ));
            }
        }
        Ok(Param {
            path: path.to_string(),
            values,
        })
    }
}

/// Splits at the commas that are not inside quotes or parentheses, so
/// `Uniform(min: "1m", max: "5m"),Fixed("3m")` is two values.
fn split_list(list: &str) -> Vec<String> {
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

/// The swept parameters, in `--set` order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    /// One entry per `--set`.
    pub params: Vec<Param>,
}

impl Grid {
    /// A grid of these parameters; a path given twice is an error, which
    /// returns that path.
    pub fn new(params: Vec<Param>) -> Result<Grid, String> {
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.path == p.path) {
                return Err(p.path.clone());
            }
        }
        Ok(Grid { params })
    }

    /// Number of points: the product of the list lengths (1 with no `--set`).
    pub fn point_count(&self) -> usize {
        self.params.iter().map(|p| p.values.len()).product()
    }

    /// The values of point `i`. Points are numbered as nested loops over the
    /// `--set` lists in the order given, the first outermost: with
    /// `--set a=1,2 --set b=x,y` the points are (1,x), (1,y), (2,x), (2,y).
    pub fn point(&self, i: usize) -> Vec<&str> {
        assert!(i < self.point_count(), "point {i} is outside the grid");
        let mut rest = i;
        let mut values = vec![""; self.params.len()];
        for (k, p) in self.params.iter().enumerate().rev() {
            values[k] = &p.values[rest % p.values.len()];
            rest /= p.values.len();
        }
        values
    }

    /// `path=value` pairs of point `i`.
    pub fn assignments(&self, i: usize) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .map(|p| p.path.as_str())
            .zip(self.point(i))
            .collect()
    }
}

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

/// Sets each `(path, value)` in a copy of `base`. An error names what is
/// wrong and what is allowed; the caller adds which `--set` it was.
pub fn apply(base: &Scenario, sets: &[(&str, &str)]) -> Result<Scenario, String> {
    let mut tree = serde_json::to_value(base).expect("a scenario always serializes");
    for &(path, value) in sets {
        if path == "seed" {
            return Err(
                "the seed cannot be swept: replication r of every point runs with a \
                 seed derived from the scenario's seed and r; use --replications for more \
                 seeds, or change `seed` in the scenario"
                    .to_string(),
            );
        }
        let steps = parse_path(path)?;
        let slot = find(&mut tree, &steps)?;
        *slot = typed(slot, value.trim(), path)?;
    }
    serde_json::from_value(tree).map_err(|e| {
        let msg = e.to_string();
        // Messages come from serde and from the scenario's unit parsers,
        // e.g. "unknown field `x`, expected one of ..." or "invalid duration".
        msg.strip_suffix(" at line 0 column 0")
            .unwrap_or(&msg)
            .to_string()
    })
}

/// Whether `node` is an enum variant holding fields, such as
/// `{"BusinessHours": {...}}`, other than the field `name` itself.
fn is_variant_of_fields(node: &Value, name: &str) -> bool {
    match node {
        Value::Object(m) if m.len() == 1 => m.iter().next().is_some_and(|(k, v)| {
            k != name && k.starts_with(|c: char| c.is_ascii_uppercase()) && v.is_object()
        }),
        _ => false,
    }
}

/// The slot a path names, created empty (`Null`) if it is an optional
/// field that is not set; an unknown field is left for deserialization to
/// reject with the list of known ones.
fn find<'a>(mut node: &'a mut Value, steps: &[Step]) -> Result<&'a mut Value, String> {
    let mut here = String::new();
    for step in steps {
        match step {
            Step::Field(name) => {
                if is_variant_of_fields(node, name) {
                    node = node
                        .as_object_mut()
                        .and_then(|m| m.values_mut().next())
                        .expect("a variant has one value");
                }
                if node.is_null() {
                    *node = Value::Object(Map::new());
                }
                let Value::Object(map) = node else {
                    return Err(format!(
                        "{here} is {}, which has no field `{name}`",
                        compact(node)
                    ));
                };
                node = map.entry(name.clone()).or_insert(Value::Null);
                if !here.is_empty() {
                    here.push('.');
                }
                here.push_str(name);
            }
            Step::Index(i) => {
                let Value::Array(list) = node else {
                    return Err(format!("{here} is not a list; remove [{i}]"));
                };
                let len = list.len();
                node = list.get_mut(*i).ok_or_else(|| {
                    format!(
                        "{here} has {len} entries (0 to {}); there is no [{i}]",
                        len.saturating_sub(1)
                    )
                })?;
                here.push_str(&format!("[{i}]"));
            }
            Step::Named(sel) => {
                let Value::Array(list) = node else {
                    return Err(format!("{here} is not a list; remove [{sel}]"));
                };
                let key = |v: &Value| {
                    ["name", "id"]
                        .iter()
                        .find_map(|k| v.get(k).and_then(Value::as_str))
                        .map(str::to_string)
                };
                let known: Vec<String> = list.iter().filter_map(key).collect();
                let Some(pos) = known.iter().position(|k| k == sel) else {
                    return Err(format!(
                        "{here} has no entry named '{sel}'; known: {}",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ));
                };
                node = &mut list[pos];
                here.push_str(&format!("[{sel}]"));
            }
        }
    }
    Ok(node)
}

/// A value written as in the scenario file, typed by the slot it replaces.
fn typed(old: &Value, text: &str, path: &str) -> Result<Value, String> {
    let literal = || serde_json::from_str::<Value>(text).ok();
    match old {
        Value::Bool(_) => match text {
            "true" | "false" => Ok(Value::Bool(text == "true")),
            _ => Err(format!("expected true or false, got '{text}'")),
        },
        Value::Number(_) => literal()
            .filter(Value::is_number)
            .ok_or_else(|| format!("expected a number, got '{text}'")),
        Value::String(_) => Ok(compound(text).unwrap_or_else(|| Value::String(unquote(text)))),
        Value::Null => Ok(compound(text)
            .or_else(|| literal().filter(|v| v.is_number() || v.is_boolean()))
            .unwrap_or_else(|| Value::String(unquote(text)))),
        Value::Object(map) => compound(text).ok_or_else(|| {
            let inner = if is_variant_of_fields(old, "") {
                map.values()
                    .next()
                    .and_then(Value::as_object)
                    .unwrap_or(map)
            } else {
                map
            };
            let fields: Vec<String> = inner.keys().map(|k| format!("{path}.{k}")).collect();
            format!(
                "{path} is {}; give a whole value such as Fixed(\"3m\") or \
                 BusinessHours(start: \"08:00\", end: \"17:00\"), or set one of its fields: {}",
                compact(old),
                fields.join(", ")
            )
        }),
        Value::Array(_) => Err(format!("{path} is a list; set one entry, e.g. {path}[0]")),
    }
}

/// A distribution or power schedule written in RON, such as
/// `Uniform(min: "1m", max: "5m")` or `AlwaysOn`, in its JSON form.
fn compound(text: &str) -> Option<Value> {
    let ron = ron::Options::default();
    if let Ok(d) = ron.from_str::<Dist>(text) {
        return serde_json::to_value(d).ok();
    }
    if let Ok(p) = ron.from_str::<Power>(text) {
        return serde_json::to_value(p).ok();
    }
    None
}

fn unquote(text: &str) -> String {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .to_string()
}

fn compact(v: &Value) -> String {
    match v {
        Value::Null => "not set".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn base() -> Scenario {
        scenario::parse(scenario::DEFAULT_SCENARIO, "default").expect("the default parses")
    }

    fn set(path: &str, value: &str) -> Result<Scenario, String> {
        apply(&base(), &[(path, value)])
    }

    #[test]
    fn parses_set_arguments() {
        let p: Param = "client_settings.policy_polling_interval=15m, 30m,60m"
            .parse()
            .unwrap();
        assert_eq!(p.path, "client_settings.policy_polling_interval");
        assert_eq!(p.values, ["15m", "30m", "60m"]);
        let d: Param = r#"site.content_ready_delay=Uniform(min: "1m", max: "5m"),Fixed("3m")"#
            .parse()
            .unwrap();
        assert_eq!(
            d.values,
            [r#"Uniform(min: "1m", max: "5m")"#, r#"Fixed("3m")"#]
        );
        for bad in [
            "nopath", "=1,2", "a=1,,2", "a=1,1", "a..b=1", "a[=1", "[0].b=1", "a[0]b=1",
        ] {
            assert!(bad.parse::<Param>().is_err(), "{bad}");
        }
    }

    #[test]
    fn grid_is_the_product_with_the_first_set_outermost() {
        let g = Grid::new(vec!["a=1,2".parse().unwrap(), "b=x,y,z".parse().unwrap()]).unwrap();
        assert_eq!(g.point_count(), 6);
        let all: Vec<Vec<&str>> = (0..6).map(|i| g.point(i)).collect();
        assert_eq!(
            all,
            [
                ["1", "x"],
                ["1", "y"],
                ["1", "z"],
                ["2", "x"],
                ["2", "y"],
                ["2", "z"]
            ]
        );
        assert_eq!(Grid::default().point_count(), 1);
        assert!(Grid::default().point(0).is_empty());
        assert!(Grid::new(vec!["a=1".parse().unwrap(), "a=2".parse().unwrap()]).is_err());
    }

    #[test]
    fn sets_fields_of_every_kind() {
        let s = set("client_settings.policy_polling_interval", "15m").unwrap();
        assert_eq!(s.client_settings.policy_polling_interval.to_string(), "15m");
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
        let m = set("client_settings.user_restart_delay.median", "3h").unwrap();
        assert_eq!(
            m.client_settings.user_restart_delay,
            Dist::LogNormal {
                median: "3h".parse().unwrap(),
                sigma: 1.0
            }
        );
        let f = set("site.content_ready_delay", "Fixed(\"3m\")").unwrap();
        assert_eq!(
            f.site.content_ready_delay,
            Dist::Fixed("3m".parse().unwrap())
        );
        let j = set("cohorts[desktops].power.jitter", "10m").unwrap();
        assert!(
            matches!(j.cohorts[0].power, Power::BusinessHours { jitter, .. } if jitter.to_string() == "10m")
        );
        let a = set("cohorts[desktops].power", "AlwaysOn").unwrap();
        assert!(matches!(a.cohorts[0].power, Power::AlwaysOn));
        // An optional field that is not set, and a custom settings object.
        let d = set("deployments[0].available", "2026-11-12T09:00:00+01:00").unwrap();
        assert!(d.deployments[0].available.is_some());
        let c = set(
            "cohorts[desktops].client_settings.policy_polling_interval",
            "20m",
        )
        .unwrap();
        assert_eq!(
            c.cohorts[0]
                .client_settings
                .as_ref()
                .unwrap()
                .policy_polling_interval
                .to_string(),
            "20m"
        );
    }

    #[test]
    fn bad_paths_and_values_say_what_is_allowed() {
        let e = set("client_settings.policy_poling_interval", "15m").unwrap_err();
        assert!(
            e.contains("unknown field `policy_poling_interval`")
                && e.contains("policy_polling_interval"),
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
        assert!(e.contains("expected a number"), "{e}");
        let e = set("cohorts[0].count", "1.5").unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
        let e = set("client_settings.policy_polling_interval", "15x").unwrap_err();
        assert!(e.contains("invalid duration \"15x\""), "{e}");
        let e = set("client_settings.scan_duration", "3m").unwrap_err();
        assert!(e.contains("client_settings.scan_duration.median"), "{e}");
        let e = set("cohorts", "1").unwrap_err();
        assert!(e.contains("is a list"), "{e}");
        let e = set("seed", "5").unwrap_err();
        assert!(e.contains("--replications"), "{e}");
        let e = set("name.first", "x").unwrap_err();
        assert!(e.contains("has no field `first`"), "{e}");
    }
}
