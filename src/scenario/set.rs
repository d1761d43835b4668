//! `--set PATH=VALUE`: one field of a parsed scenario changed, by its path,
//! with the value read by the field's own type.
//!
//! Owns the path language and how a value reaches its field. The path is
//! followed through the scenario's serialized form (so every field of the
//! format has a path without a list of them here); the value is then read
//! by deserializing the whole scenario again, with the field's slot read
//! from the value's text by the field's own `Deserialize`: an enum with a
//! payload (`Slow(3.0)`, `Weekly(Sunday)`), a structure, a list, a number
//! or a unit (`15m`, `650MB`) is taken exactly as the scenario file takes
//! it. One pseudo-field, `servers.<role>.count`, sets the number of servers
//! of a role (see [`set_server_count`]). Does not check ranges or
//! references: the caller validates the result (`scenario::build`).
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

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use serde_json::{Map, Value};

use super::schema::{Cohort, Scenario};

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

/// Sets each `(path, value)` in a copy of `base`, in order. An error names
/// what is wrong and what is allowed; the caller adds which `--set` it was.
pub fn apply(base: &Scenario, sets: &[(&str, &str)]) -> Result<Scenario, String> {
    let mut scenario = base.clone();
    for &(path, value) in sets {
        let steps = parse_path(path)?;
        scenario = match steps.as_slice() {
            [Step::Field(s), Step::Field(role), Step::Field(count)]
                if s == "servers" && count == "count" =>
            {
                let n = value.trim().parse::<usize>().map_err(|_| {
                    format!("expected a whole number of servers (1 or more), got '{value}'")
                })?;
                set_server_count(scenario, role, n)?
            }
            _ => set_field(&scenario, &steps, path, value.trim())?,
        };
    }
    Ok(scenario)
}

/// The text in a slot's place while the scenario is read back.
const SLOT: &str = "\u{0}patchsim --set slot\u{0}";

fn set_field(base: &Scenario, steps: &[Step], path: &str, text: &str) -> Result<Scenario, String> {
    let mut tree = serde_json::to_value(base).expect("a scenario always serializes");
    let slot = find(&mut tree, steps)?;
    let old = std::mem::replace(slot, Value::String(SLOT.to_string()));
    Scenario::deserialize_patched(&tree, text).map_err(|e| {
        let mut msg = e.0;
        if let Some(fields) = fields_of(&old) {
            msg += &format!(
                "; {path} is {}: give a whole value as in the scenario file, or set one of \
                 its fields: {}",
                compact(&old),
                fields
                    .iter()
                    .map(|f| format!("{path}.{f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        msg
    })
}

impl Scenario {
    /// The scenario in `tree` (its serialized form), the slot marked
    /// [`SLOT`] read from `text` by its own type.
    fn deserialize_patched(tree: &Value, text: &str) -> Result<Scenario, SetError> {
        serde::Deserialize::deserialize(Tree { value: tree, text })
    }
}

/// The fields a structure (or an enum variant with fields) has.
fn fields_of(v: &Value) -> Option<Vec<String>> {
    let map = match v {
        Value::Object(m) if is_variant_of_fields(v, "") => m.values().next()?.as_object()?,
        Value::Object(m) => m,
        _ => return None,
    };
    Some(map.keys().cloned().collect())
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
                if name == "seed" && here.is_empty() {
                    return Err(
                        "the seed cannot be set this way: use --seed (a study derives each \
                         replication's seed from the scenario's; use --replications for more \
                         seeds)"
                            .to_string(),
                    );
                }
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
                if node.is_null() {
                    // A list left out of the file (it serializes to nothing).
                    *node = Value::Array(Vec::new());
                }
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
                if node.is_null() {
                    *node = Value::Array(Vec::new());
                }
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
                    let names: Vec<&str> = known.iter().map(String::as_str).collect();
                    return Err(format!(
                        "{here} has no entry named '{sel}'{}; known: {}",
                        super::syntax::did_you_mean(sel, &names).replace('`', "'"),
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

fn compact(v: &Value) -> String {
    match v {
        Value::Null => "not set".to_string(),
        other => other.to_string(),
    }
}

/// Sets the number of servers of one role to `n`: the first `n` of the
/// role's servers are kept (beyond the last, copies of it named
/// `<last>-2`, `<last>-3`, ...), and every cohort's clients are spread
/// evenly over all `n`: a cohort becomes up to `n` cohorts of consecutive
/// clients (the first keeps its name, the others are `<name>-2`, ...;
/// deployments that target it target them all), part `k` on server `k`.
/// `n` equal to today's count on a role whose cohorts are not spread
/// already changes only that: the clients are spread the same way.
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
    let names: Vec<String> = match r {
        0 => resize(&mut s.servers.management_points, n, |m| &mut m.name),
        1 => resize(&mut s.servers.update_points, n, |u| &mut u.name),
        _ => resize(&mut s.servers.distribution_points, n, |d| &mut d.name),
    };
    if let Some((i, f)) = s.faults.iter().enumerate().find(|(_, f)| {
        let of_role = |list: &[String]| list.contains(&f.server);
        !of_role(&names) && !other_roles(&s, r).contains(&f.server)
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
                _ => part.distribution_point = server,
            }
            part_names.push(part.name.clone());
            cohorts.push(part);
        }
        parts_of.push((cohort.name, part_names));
    }
    s.cohorts = cohorts;
    for d in &mut s.deployments {
        d.targets = d
            .targets
            .iter()
            .flat_map(|t| match parts_of.iter().find(|(name, _)| name == t) {
                Some((_, parts)) => parts.clone(),
                None => vec![t.clone()],
            })
            .collect();
    }
    Ok(s)
}

/// Names of the servers of the roles other than `r`.
fn other_roles(s: &Scenario, r: usize) -> Vec<String> {
    let mut out = Vec::new();
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

/// An error while the scenario is read back: a message.
#[derive(Debug)]
struct SetError(String);

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetError {}

impl de::Error for SetError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SetError(msg.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        SetError(format!(
            "unknown field `{field}`{}; allowed: {}",
            super::syntax::did_you_mean(field, expected),
            expected
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// A deserializer over the scenario's serialized form in which the value
/// [`SLOT`] is read from `text` instead.
#[derive(Clone, Copy)]
struct Tree<'a> {
    value: &'a Value,
    text: &'a str,
}

impl<'a> Tree<'a> {
    fn at(self, value: &'a Value) -> Tree<'a> {
        Tree { value, ..self }
    }

    fn slot(self) -> Option<Text<'a>> {
        (self.value.as_str() == Some(SLOT)).then_some(Text(self.text))
    }
}

macro_rules! through_slot {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SetError> {
            match self.slot() {
                Some(text) => text.$method(visitor),
                None => self.deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for Tree<'de> {
    type Error = SetError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SetError> {
        if let Some(text) = self.slot() {
            return text.deserialize_any(visitor);
        }
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => visitor.visit_seq(Items {
                tree: self,
                items: items.iter(),
            }),
            Value::Object(map) => visitor.visit_map(Fields {
                tree: self,
                entries: map.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SetError> {
        match self.slot() {
            Some(text) => text.deserialize_option(visitor),
            None if self.value.is_null() => visitor.visit_none(),
            None => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        match self.slot() {
            Some(text) => text.deserialize_newtype_struct(name, visitor),
            None => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SetError> {
        if let Some(text) = self.slot() {
            return text.deserialize_enum(name, variants, visitor);
        }
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Object(m) if m.len() == 1 => {
                let (variant, content) = m.iter().next().expect("one entry");
                visitor.visit_enum(Variant {
                    name: variant,
                    content: self.at(content),
                })
            }
            other => Err(de::Error::custom(format!(
                "expected a choice of {name}, found {}",
                compact(other)
            ))),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SetError> {
        match self.slot() {
            Some(text) => text.deserialize_struct(name, fields, visitor),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        match self.slot() {
            Some(text) => text.deserialize_tuple_struct(name, len, visitor),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        match self.slot() {
            Some(text) => text.deserialize_tuple(len, visitor),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        match self.slot() {
            Some(text) => text.deserialize_unit_struct(name, visitor),
            None => self.deserialize_any(visitor),
        }
    }

    through_slot!(
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );
}

struct Items<'a> {
    tree: Tree<'a>,
    items: std::slice::Iter<'a, Value>,
}

impl<'de> de::SeqAccess<'de> for Items<'de> {
    type Error = SetError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SetError> {
        self.items
            .next()
            .map(|v| seed.deserialize(self.tree.at(v)))
            .transpose()
    }
}

struct Fields<'a> {
    tree: Tree<'a>,
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de> de::MapAccess<'de> for Fields<'de> {
    type Error = SetError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SetError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, SetError> {
        let v = self.value.take().expect("a key before its value");
        seed.deserialize(self.tree.at(v))
    }
}

struct Variant<'a> {
    name: &'a str,
    content: Tree<'a>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = SetError;
    type Variant = Tree<'de>;
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Tree<'de>), SetError> {
        let v = seed.deserialize(self.name.into_deserializer())?;
        Ok((v, self.content))
    }
}

impl<'de> de::VariantAccess<'de> for Tree<'de> {
    type Error = SetError;
    fn unit_variant(self) -> Result<(), SetError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, SetError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, SetError> {
        self.deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SetError> {
        self.deserialize_any(visitor)
    }
}

/// The value's text, read as the scenario file reads a field's value. A
/// text field (a duration, a size, a name) may leave out its quotes.
#[derive(Clone, Copy)]
struct Text<'a>(&'a str);

impl<'a> Text<'a> {
    /// Reads the text as RON with the scenario file's options, all of it.
    fn ron<T>(
        self,
        read: impl FnOnce(&mut ron::Deserializer<'a>) -> Result<T, ron::Error>,
    ) -> Result<T, SetError> {
        let options = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let text = self.0;
        let fail = |e: ron::error::SpannedError| {
            let (line, col) = (e.span.start.line, e.span.start.col);
            SetError(format!(
                "'{text}': {}",
                super::syntax::message(&e.code, text, line, col)
            ))
        };
        let mut de = ron::Deserializer::from_str_with_options(text, &options).map_err(fail)?;
        let value = read(&mut de).map_err(|e| fail(de.span_error(e)))?;
        de.end().map_err(|e| fail(de.span_error(e)))?;
        Ok(value)
    }
}

macro_rules! through_ron {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SetError> {
            self.ron(|de| de.$method(visitor))
        }
    )*};
}

impl<'de> Deserializer<'de> for Text<'de> {
    type Error = SetError;

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SetError> {
        if self.0.starts_with('"') {
            let text: String = self.ron(|de| serde::Deserialize::deserialize(de))?;
            visitor.visit_string(text)
        } else {
            visitor.visit_str(self.0)
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SetError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SetError> {
        if self.0 == "None" {
            visitor.visit_none()
        } else if let Some(inner) = self
            .0
            .strip_prefix("Some(")
            .and_then(|t| t.strip_suffix(')'))
        {
            visitor.visit_some(Text(inner.trim()))
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SetError> {
        self.ron(|de| de.deserialize_enum(name, variants, visitor))
            .map_err(|e| {
                SetError(format!(
                    "{}; {name} is one of: {}",
                    e.0,
                    variants.join(", ")
                ))
            })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SetError> {
        self.ron(|de| de.deserialize_struct(name, fields, visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        self.ron(|de| de.deserialize_tuple_struct(name, len, visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        self.ron(|de| de.deserialize_tuple(len, visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SetError> {
        self.ron(|de| de.deserialize_unit_struct(name, visitor))
    }

    through_ron!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );
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
        assert!(e.contains("Down, Slow"), "{e}");
    }

    #[test]
    fn server_counts_spread_the_cohorts() {
        let one = set("servers.distribution_points.count", "1").unwrap();
        assert_eq!(one.servers.distribution_points.len(), 1);
        let first = &one.servers.distribution_points[0].name;
        assert!(one.cohorts.iter().all(|c| c.distribution_point == *first));
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
        assert_eq!(three.cohorts[1].distribution_point, names[1]);
        assert!(three.deployments[0].targets.len() > base().deployments[0].targets.len());
        scenario::build(three, "three").expect("valid");
        let e = set("servers.gateways.count", "2").unwrap_err();
        assert!(e.contains("servers.update_points.count"), "{e}");
        let e = set("servers.update_points.count", "0").unwrap_err();
        assert!(e.contains("between 1 and"), "{e}");
    }

    #[test]
    fn bad_paths_and_values_say_what_is_allowed() {
        let e = set("client_settings.policy_poling_interval", "15m").unwrap_err();
        assert!(
            e.contains(
                "unknown field `policy_poling_interval` (did you mean `policy_polling_interval`?)"
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
