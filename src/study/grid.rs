//! The grid of a study: the `--set PATH=V1,V2,...` arguments, the cartesian
//! product of their values, and applying one point to a scenario.
//!
//! Owns the order of the points. The path language and how a value
//! reaches its field are the scenario's ([`scenario::apply_sets`]): every
//! value is read by its field's own type, so a sweep takes any value the
//! scenario file takes. Does not check ranges or references: the caller
//! runs the scenario's validation on every point before anything runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::scenario::{self, Scenario};

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
        scenario::check_path(path)?;
        let values = scenario::split_values(list);
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

/// Sets each `(path, value)` in a copy of `base`. The seed cannot be
/// swept: replication `r` of every point runs with a seed derived from the
/// scenario's. An error names what is wrong and what is allowed; the
/// caller adds which `--set` it was.
pub fn apply(base: &Scenario, sets: &[(&str, &str)]) -> Result<Scenario, String> {
    if sets.iter().any(|(path, _)| *path == "seed") {
        return Err(
            "the seed cannot be swept: replication r of every point runs with a \
                    seed derived from the scenario's seed and r; use --replications for more \
                    seeds, or change `seed` in the scenario"
                .to_string(),
        );
    }
    scenario::apply_sets(base, sets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn base() -> Scenario {
        scenario::parse(scenario::DEFAULT_SCENARIO, "default").expect("the default parses")
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
    fn the_seed_is_not_swept() {
        let e = apply(&base(), &[("seed", "5")]).unwrap_err();
        assert!(e.contains("--replications"), "{e}");
    }
}
