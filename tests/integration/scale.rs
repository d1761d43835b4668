//! `scenarios/million-100k.ron` is `scenarios/million.ron` at a tenth of its
//! size: the 100,000-client side of the scale comparison (100k → 1M in
//! at most 11× the time) must be the same estate, client for client, or the
//! comparison measures something else. (It once was all workstations, whose
//! clients have fewer events than the million's laptops and servers.)

use std::path::Path;

use patchsim::estate::Estate;

fn load(file: &str) -> Estate {
    patchsim::app::load(Some(Path::new(file)), Default::default(), &[]).expect("valid")
}

#[test]
fn the_100k_estate_is_the_million_at_a_tenth() {
    let full = load("scenarios/million.ron");
    let tenth = load("scenarios/million-100k.ron");
    assert_eq!(
        (full.client_count(), tenth.client_count()),
        (1_000_000, 100_000)
    );
    assert_eq!(full.seed, tenth.seed);
    assert_eq!(full.duration, tenth.duration);
    assert_eq!(full.source.start, tenth.source.start);
    assert_eq!(full.cohorts.len(), tenth.cohorts.len());
    for (a, b) in full.cohorts.iter().zip(&tenth.cohorts) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.count, 10 * b.count, "{}", a.name);
        assert_eq!(
            (a.kind, &a.power, a.link_bps),
            (b.kind, &b.power, b.link_bps)
        );
        assert_eq!((a.gpo_conflict, &a.windows), (b.gpo_conflict, &b.windows));
        assert_eq!((a.site, &a.sups, a.settings), (b.site, &b.sups, b.settings));
        assert_eq!(
            full.management_points[a.mp.index()].name,
            tenth.management_points[b.mp.index()].name
        );
        assert_eq!(
            full.distribution_points[a.dp.expect("on the intranet").index()].site,
            tenth.distribution_points[b.dp.expect("on the intranet").index()].site,
            "{}: a distribution point of its own primary",
            b.name
        );
    }
    let names = |e: &Estate| -> Vec<String> {
        (e.management_points.iter().map(|m| m.name.clone()))
            .chain(e.update_points.iter().map(|u| u.name.clone()))
            .collect()
    };
    assert_eq!(names(&full), names(&tenth));
    assert_eq!(full.primaries.len(), tenth.primaries.len());
    for site in 0..tenth.primaries.len() {
        let of = |e: &Estate| {
            let clients: u32 = (e.cohorts.iter())
                .filter(|c| c.site.index() == site)
                .map(|c| c.count)
                .sum();
            let dps = (e.distribution_points.iter())
                .filter(|d| d.site.index() == site)
                .count();
            (clients, dps as u32)
        };
        for (clients, dps) in [of(&full), of(&tenth)] {
            assert_eq!(dps, clients.div_ceil(4_000), "one DP per 4,000 clients");
        }
    }
    assert_eq!(full.deployments.len(), tenth.deployments.len());
    for (a, b) in full.deployments.iter().zip(&tenth.deployments) {
        assert_eq!(
            (&a.name, &a.updates, &a.targets),
            (&b.name, &b.updates, &b.targets)
        );
    }
}
