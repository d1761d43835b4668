//! Faults: a server down or slowed, or a location's WAN link down, for a
//! span of the run.

use std::collections::BTreeMap;

use super::checker::Checker;
use crate::estate::{FaultSpec, LocationId, ServerRef};
use crate::scenario::schema::{FaultEffect, Scenario};
use crate::scenario::units::clipped;

/// The faults, each on a server or a WAN link that exists, for a span
/// that does not overlap another on the same one.
pub(super) fn faults(
    ck: &mut Checker,
    raw: &Scenario,
    all_servers: &BTreeMap<&str, ServerRef>,
) -> Vec<FaultSpec> {
    let mut faults = Vec::new();
    for (i, f) in raw.faults.iter().enumerate() {
        let path = format!("faults[{i}]");
        // A location's name stands for its WAN link, as in the outputs.
        let link = (raw.locations.iter())
            .position(|l| l.name == f.server)
            .map(|l| ServerRef::Link(LocationId(l as u16)));
        let server = match (all_servers.get(f.server.as_str()), link) {
            (Some(_), Some(_)) => {
                ck.fail(
                    format!("{path}.server"),
                    format!(
                        "'{}' names both a server and a location's WAN link; rename one",
                        clipped(&f.server)
                    ),
                );
                continue;
            }
            (Some(&r), None) | (None, Some(r)) => r,
            (None, None) => {
                let links = (raw.locations.iter()).map(|l| (l.name.as_str(), " (WAN link)"));
                ck.unknown(
                    &format!("{path}.server"),
                    "server",
                    &f.server,
                    all_servers.keys().map(|&n| (n, "")).chain(links),
                );
                continue;
            }
        };
        let start = ck.instant(&format!("{path}.start"), &f.start, &raw.start);
        let stop = ck.instant(&format!("{path}.end"), &f.end, &raw.start);
        if stop <= start {
            ck.fail(
                format!("{path}.end"),
                format!("{} must be after start {}", f.end, f.start),
            );
        }
        let slowdown = match f.effect {
            FaultEffect::Down => None,
            FaultEffect::Slow(x) => {
                if !(1.0..=1000.0).contains(&x) {
                    ck.fail(
                        format!("{path}.effect"),
                        format!("a slowdown must be between 1 and 1000, got {x}"),
                    );
                }
                Some(x)
            }
        };
        faults.push(FaultSpec {
            server,
            start,
            end: stop,
            slowdown,
        });
    }
    for (i, a) in faults.iter().enumerate() {
        for b in &faults[..i] {
            if a.server == b.server && a.start < b.end && b.start < a.end {
                ck.fail(
                    format!("faults[{i}]"),
                    "overlaps an earlier fault on the same server; merge them",
                );
            }
        }
    }
    faults
}
