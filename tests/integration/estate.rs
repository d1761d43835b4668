//! The resolved estate's lookups.

use patchsim::estate::ClientId;

use crate::common::estate_of;

/// The cohorts' client ranges tile the clients in file order, and
/// `cohort_of` finds each client's cohort (the one whose range holds
/// it), none past the last client.
#[test]
fn cohort_of_finds_the_cohort_whose_range_holds_the_client() {
    let text = std::fs::read_to_string("scenarios/branch-offices.ron").expect("scenario");
    let estate = estate_of(&text);
    assert!(estate.cohorts.len() > 2, "several cohorts");
    let mut next = 0;
    for k in &estate.cohorts {
        assert_eq!(k.clients().start, next);
        assert_eq!(k.clients().len(), k.count as usize);
        next = k.clients().end;
    }
    assert_eq!(next, estate.client_count());
    for c in 0..next {
        let linear = (estate.cohorts.iter()).find(|k| k.clients().contains(&c));
        let found = estate.cohort_of(ClientId(c));
        assert_eq!(
            found.map(|k| &k.name),
            linear.map(|k| &k.name),
            "client {c}"
        );
        assert!(found.is_some(), "client {c}");
    }
    assert!(estate.cohort_of(ClientId(next)).is_none());
    assert!(estate.cohort_of(ClientId(u32::MAX)).is_none());
}
